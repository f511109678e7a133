"""SSH key use cases (Waldur's `/api/keys/`): create, list, retrieve and delete users' public keys.

Who may do what (Waldur's SshKeyViewSet): any signed-in user adds keys to their own account (staff
too: nobody adds a key to another's); a key is seen by its owner, staff and support, and anybody
else gets a 404; its owner or staff delete it (support, who read all, get a 403). Creation and
deletion write Waldur's `ssh_key_creation_succeeded` / `ssh_key_deletion_succeeded`, in the owner's
event feed.

`keys_of_users` is the read other contexts use (a service provider's list of its customers' keys):
it checks nothing, its caller decides whose keys may be read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from chalicelib.domain import ssh_keys as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, PermissionDenied
from chalicelib.domain.ids import new_id
from chalicelib.domain.ssh_keys import SshKey
from chalicelib.domain.users import User
from chalicelib.services import request_keys
from chalicelib.services.paging import Ordering, Page, PageRequest, paginate
from chalicelib.services.ports import UnitOfWork, unit_of_work, users
from chalicelib.services.ports import ssh_keys as store

ORDERING_FIELDS = ("name",)


def get_visible(principal: Principal, key_id: str) -> SshKey:
    key = store.get(key_id)
    if key is None or not domain.may_see(principal, key):
        raise NotFound(domain.MODEL)
    return key


def keys_of_users(user_ids: Iterable[str]) -> list[SshKey]:
    """Every key of the given users, by user (in the order given) then name. No permission check:
    for services that have decided whose keys their caller may read."""
    return store.of_users(user_ids)


# --- commands --------------------------------------------------------------------------------------
def create_key(ctx: EventContext, name: str, public_key: str) -> SshKey:
    """Add a key to the caller's account: 400 for a key that is not one valid OpenSSH public key,
    a name the caller already uses, or one key too many. A retry with the request's
    `Idempotency-Key` answers with the key it added (services/request_keys.py)."""
    return request_keys.once(
        ctx, lambda: _create_key(ctx, name, public_key), lambda used: get_visible(ctx.actor, used.object_id)
    )


def _create_key(ctx: EventContext, name: str, public_key: str) -> SshKey:
    principal = ctx.actor
    text, prints = domain.clean_public_key(public_key)
    key = SshKey(
        id=new_id(),
        user_id=principal.user_id,
        name=name.strip(),
        public_key=text,
        fingerprints=prints,
        created=utcnow(),
    )
    uow = unit_of_work()
    store.add(uow, key)
    request_keys.remember(uow, ctx, key.id)
    made = domain.event(domain.SSH_KEY_CREATION_SUCCEEDED, key, principal.username, principal.full_name, ctx)
    uow.record(made)
    uow.commit()
    return key


def delete_key(ctx: EventContext, key_id: str) -> None:
    key = get_visible(ctx.actor, key_id)
    if not domain.may_delete(ctx.actor, key):
        detail = domain.SHARED_DELETE if key.is_shared else PermissionDenied().detail
        raise PermissionDenied(detail)
    _delete(ctx, key, users.get(key.user_id))


def _delete(ctx: EventContext, key: SshKey, owner: User | None) -> None:
    username, full_name = (owner.username, owner.full_name) if owner else ("", "")
    uow = unit_of_work()
    store.remove(uow, key)
    uow.record(domain.event(domain.SSH_KEY_DELETION_SUCCEEDED, key, username, full_name, ctx))
    uow.commit()


def forget_count(uow: UnitOfWork, user_id: str) -> None:
    """Drop the user's key count in their deletion's unit of work (their keys are gone by then)."""
    store.forget_count(uow, user_id)


def remove_user_keys(ctx: EventContext, user: User) -> None:
    """Delete a user's keys as their account goes (Waldur's cascade, an event each), one
    transaction per key, before the user's own deletion (whose transaction drops the count)."""
    for key in store.of_user(user.id):
        _delete(ctx, key, user)


# --- listing ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyFilters:
    """Waldur's SshKeyFilter: `name` contains (any case), the others exact."""

    name: str | None = None
    name_exact: str | None = None
    uuid: str | None = None
    user_uuid: str | None = None
    fingerprint_md5: str | None = None
    fingerprint_sha256: str | None = None
    fingerprint_sha512: str | None = None
    is_shared: bool | None = None

    def any(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def matches(self, key: SshKey) -> bool:
        if self.name is not None and self.name.lower() not in key.name.lower():
            return False
        exact = {
            "name_exact": key.name,
            "uuid": key.id,
            "user_uuid": key.user_id,
            "fingerprint_md5": key.fingerprints.md5,
            "fingerprint_sha256": key.fingerprints.sha256,
            "fingerprint_sha512": key.fingerprints.sha512,
        }
        if any(getattr(self, f) is not None and getattr(self, f) != v for f, v in exact.items()):
            return False
        return self.is_shared is None or key.is_shared is self.is_shared


def list_keys(
    principal: Principal, filters: KeyFilters, ordering: Ordering, request: PageRequest
) -> Page[SshKey]:
    """By name (Waldur's default; `o=-name` reverses). Staff's and support's unfiltered list reads
    one page of the by-name index; a list of one user's keys (everybody else's own, or anybody's
    with `user_uuid`) is one Query of their partition; other filters on everybody's keys read the
    index with the store's bound."""
    descending = ordering.field == "name" and ordering.descending
    if principal.reads_everything and filters.user_uuid is None and not filters.any():
        return store.page_all(request, descending)
    found = [k for k in _candidates(principal, filters) if filters.matches(k)]
    return paginate(found[::-1] if descending else found, request)


def _candidates(principal: Principal, filters: KeyFilters) -> list[SshKey]:
    if not principal.reads_everything:
        # Nobody else's key is visible but a shared one, and Cirrus has no way to share a key.
        return store.of_user(principal.user_id)
    if filters.user_uuid is not None:
        return store.of_user(filters.user_uuid)
    return store.read_all()
