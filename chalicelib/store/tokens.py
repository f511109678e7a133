"""Token items (`TOKEN#<sha256 of key>`): one GetItem authenticates a request.

Each token carries a snapshot of its user's auth fields; the user's tokens are found through gsi1
(`USER#<u>` / `TOKEN#...`) when those fields change. Expired items are removed by the table's TTL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DeleteError

from chalicelib.domain.tokens import LoginFailures, Token
from chalicelib.domain.users import User
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import keys
from chalicelib.store.errors import UpdateError
from chalicelib.store.errors import lost_condition as _lost_condition
from chalicelib.store.items import BaseItem, LoginFailuresItem, TokenItem
from chalicelib.store.unit_of_work import UnitOfWork, transaction

# Keep an expired token's item a little past its expiry (TTL deletion is lazy anyway).
_GRACE = timedelta(days=1)


def _from_item(item: TokenItem) -> Token:
    return Token(
        key_hash=item.pk.removeprefix(keys.TOKEN_PREFIX),
        user_id=item.user_id,
        username=item.username,
        full_name=item.full_name,
        is_staff=item.is_staff,
        is_support=item.is_support,
        is_active=item.is_active,
        lifetime=None if item.lifetime is None else int(item.lifetime),
        created=item.created,
        expires=item.expires,
    )


TOKENS, LOGIN_FAILURES = "TOKEN", "LOGINFAIL"


def _hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def _bucket(kind: str, when: datetime | None) -> str | None:
    """The expiry-hour list (gsi2) an item joins, so the purge finds lapsed items without a Scan."""
    return None if when is None else keys.expiry_bucket(kind, _hour(when))


def purge_lapsed(kind: str, hour: datetime, now: datetime) -> int:
    """Delete the items of `kind` listed under `hour` that have lapsed by `now`; returns how many."""
    removed = 0
    for item in BaseItem.gsi2.query(keys.expiry_bucket(kind, hour)):
        lapsed = item.expires if isinstance(item, TokenItem) else getattr(item, "window_ends", None)
        if lapsed is None or lapsed > now:
            continue  # renewed since it was listed here
        try:
            item.delete(
                condition=type(item).gsi2pk == keys.expiry_bucket(kind, hour), add_version_condition=False
            )
            removed += 1
        except DeleteError as exc:
            if not _lost_condition(exc):
                raise
    return removed


def _ttl(expires: datetime | None) -> datetime | None:
    return None if expires is None else expires + _GRACE


def get(key_hash: str) -> Token | None:
    try:
        return _from_item(TokenItem.get(keys.token_pk(key_hash), keys.META))
    except TokenItem.DoesNotExist:
        return None


def put(uow: Work, token: Token) -> None:
    item = TokenItem(
        pk=keys.token_pk(token.key_hash),
        sk=keys.META,
        gsi1pk=keys.user_pk(token.user_id),
        gsi1sk=keys.token_pk(token.key_hash),
        gsi2pk=_bucket(TOKENS, token.expires),
        gsi2sk=token.key_hash if token.expires else None,
        user_id=token.user_id,
        username=token.username,
        full_name=token.full_name,
        is_staff=token.is_staff,
        is_support=token.is_support,
        is_active=token.is_active,
        lifetime=token.lifetime,
        created=token.created,
        expires=token.expires,
        expires_at=_ttl(token.expires),
    )
    transaction(uow).put(item, condition=TokenItem.pk.does_not_exist())


def extend(token: Token) -> None:
    """Store the token's new expiry (if the token still exists: a logout wins)."""
    expires = token.expires
    if expires is None:
        return
    try:
        TokenItem(pk=keys.token_pk(token.key_hash), sk=keys.META).update(
            actions=[
                TokenItem.expires.set(expires),
                TokenItem.expires_at.set(expires + _GRACE),
                TokenItem.gsi2pk.set(keys.expiry_bucket(TOKENS, _hour(expires))),
                TokenItem.gsi2sk.set(token.key_hash),
            ],
            condition=TokenItem.pk.exists(),
            add_version_condition=False,
        )
    except UpdateError as exc:
        if not _lost_condition(exc):
            raise
        pass


def revoke(uow: Work, key_hash: str) -> None:
    transaction(uow).delete(TokenItem(pk=keys.token_pk(key_hash), sk=keys.META))


def delete(key_hash: str) -> None:
    TokenItem(pk=keys.token_pk(key_hash), sk=keys.META).delete(add_version_condition=False)


def user_token_hashes(user_id: str) -> list[str]:
    items = BaseItem.gsi1.query(keys.user_pk(user_id), BaseItem.gsi1sk.startswith(keys.TOKEN_PREFIX))
    return [i.pk.removeprefix(keys.TOKEN_PREFIX) for i in items if isinstance(i, TokenItem)]


def _snapshot_actions(user: User) -> list[Any]:
    return [
        TokenItem.username.set(user.username),
        TokenItem.full_name.set(user.full_name),
        TokenItem.is_staff.set(user.is_staff),
        TokenItem.is_support.set(user.is_support),
        TokenItem.is_active.set(user.is_active),
        TokenItem.lifetime.set(user.token_lifetime)
        if user.token_lifetime is not None
        else TokenItem.lifetime.remove(),
    ]


# A user with more live tokens than this has them refreshed after the commit only.
MAX_TOKENS_IN_TRANSACTION = 50


def refresh_snapshots_in(uow: Work, user: User) -> bool:
    """Put the refresh of `user`'s live tokens (or their deletion, if the user is deactivated or
    going) into the change's own transaction, so no crash can leave a token carrying rights the
    user has lost. False (nothing added) when the user has too many tokens for one transaction;
    `refresh_snapshots` after the commit then does it, and catches tokens made meanwhile anyway."""
    hashes = user_token_hashes(user.id)
    if len(hashes) > MAX_TOKENS_IN_TRANSACTION:
        return False
    for key_hash in hashes:
        item = TokenItem(pk=keys.token_pk(key_hash), sk=keys.META)
        if user.is_active:
            transaction(uow).update(item, _snapshot_actions(user), condition=TokenItem.pk.exists())
        else:
            transaction(uow).delete(item)
    return True


def refresh_snapshots(user: User) -> None:
    """Bring every live token of `user` in line with the user (or drop them if deactivated)."""
    for key_hash in user_token_hashes(user.id):
        if not user.is_active:
            delete(key_hash)
            continue
        try:
            TokenItem(pk=keys.token_pk(key_hash), sk=keys.META).update(
                actions=_snapshot_actions(user),
                condition=TokenItem.pk.exists(),
                add_version_condition=False,
            )
        except UpdateError as exc:
            if not _lost_condition(exc):
                raise
            continue


def revoke_others_in(uow: Work, user_id: str, keep: str | None) -> bool:
    """Put the deletion of every live token of `user_id` but `keep` (a hash) into the change's own
    transaction (a password change), so the new password and the end of the old sessions commit
    together. False (nothing added) when there are too many for one transaction; `revoke_others`
    after the commit then does it."""
    hashes = [h for h in user_token_hashes(user_id) if h != keep]
    if len(hashes) > MAX_TOKENS_IN_TRANSACTION:
        return False
    for key_hash in hashes:
        transaction(uow).delete(TokenItem(pk=keys.token_pk(key_hash), sk=keys.META))
    return True


def revoke_others(user_id: str, keep: str | None) -> None:
    """Delete every live token of `user_id` but `keep`; idempotent (a token already gone is no error),
    so it also sweeps tokens signed in while the change was being committed."""
    for key_hash in user_token_hashes(user_id):
        if key_hash != keep:
            delete(key_hash)


def login_failures(username: str, ip_address: str) -> LoginFailures | None:
    try:
        item = LoginFailuresItem.get(keys.login_failures_pk(username, ip_address), keys.META)
    except LoginFailuresItem.DoesNotExist:
        return None
    return LoginFailures(count=int(item.failures), window_ends=item.window_ends)


def count_login_failure(
    uow: Work,
    username: str,
    ip_address: str,
    known: LoginFailures | None,
    now: datetime,
    window_ends: datetime,
) -> None:
    """Count one failure in `uow` (beside its audit event): one more in the window `known` read as
    live, or a new window from now. If the window changed since it was read (it ended, or another
    failure opened one) the commit raises Conflict and the caller counts again on a fresh read."""
    pk = keys.login_failures_pk(username, ip_address)
    if known is not None and known.window_ends > now:
        transaction(uow).update(
            LoginFailuresItem(pk=pk, sk=keys.META),
            [LoginFailuresItem.failures.add(1)],
            condition=LoginFailuresItem.window_ends > now,
        )
        return
    fresh = LoginFailuresItem(
        pk=pk,
        sk=keys.META,
        failures=1,
        window_ends=window_ends,
        expires_at=window_ends,
        gsi2pk=_bucket(LOGIN_FAILURES, window_ends),
        gsi2sk=pk,
    )
    transaction(uow).put(
        fresh, condition=LoginFailuresItem.pk.does_not_exist() | (LoginFailuresItem.window_ends <= now)
    )


def record_login_failure(username: str, ip_address: str, now: datetime, window_ends: datetime) -> None:
    """Count one failure on its own (tools and tests; a login counts it with its event)."""
    uow = UnitOfWork()
    count_login_failure(uow, username, ip_address, login_failures(username, ip_address), now, window_ends)
    uow.commit()


def clear_login_failures(uow: Work, username: str, ip_address: str) -> None:
    """Forget the failures (a successful login), in `uow`."""
    transaction(uow).delete(LoginFailuresItem(pk=keys.login_failures_pk(username, ip_address), sk=keys.META))
