"""User items (`USER#<u>` / `#META`), the username guard (`USERNAME#<name>`), users by name (gsi2),
and users by what their name looks like (gsi1 `USERLIKE#<key>`)."""

from __future__ import annotations

from dataclasses import fields as dc_fields
from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.usernames import lookalike_key
from chalicelib.domain.users import User
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.services.ports import UserQuery
from chalicelib.store import counters, keys, pages
from chalicelib.store.items import BaseItem, UserItem, UsernameItem
from chalicelib.store.pages import Listing
from chalicelib.store.unit_of_work import LOST_RACE, transaction

_ATTR_FIELDS = (
    "username",
    "date_joined",
    "password_hash",
    "is_staff",
    "is_support",
    "is_active",
    "token_lifetime",
)
_DOC_FIELDS = tuple(f.name for f in dc_fields(User) if f.name not in {"id", "version", *_ATTR_FIELDS})
USERNAME_TAKEN = "A user with that username already exists."

# The slow path's 400: what is listed, and the filters that narrow the request.
NARROW = ("users", "username_exact= or a more specific filter")


# Document fields that are datetimes: ISO 8601 strings in the item's JSON.
_DATETIMES = frozenset({"agreement_date"})


def from_item(item: UserItem) -> User:
    doc = {k: v for k, v in (item.fields or {}).items() if k in _DOC_FIELDS}
    for name in _DATETIMES & doc.keys():
        doc[name] = datetime.fromisoformat(doc[name]) if doc[name] else None
    return User(
        id=item.user_id,
        username=item.username,
        date_joined=item.date_joined,
        password_hash=item.password_hash,
        is_staff=item.is_staff,
        is_support=item.is_support,
        is_active=item.is_active,
        token_lifetime=None if item.token_lifetime is None else int(item.token_lifetime),
        version=int(item.version),
        **doc,
    )


def _doc(user: User) -> dict[str, Any]:
    doc = {name: getattr(user, name) for name in _DOC_FIELDS}
    for name in _DATETIMES:
        doc[name] = doc[name].isoformat() if doc[name] is not None else None
    return doc


def _key(user_id: str) -> UserItem:
    return UserItem(pk=keys.user_pk(user_id), sk=keys.META)


def load(user_id: str) -> User | None:
    """The user as stored now, before a change (one consistent GetItem); None if there is none."""
    try:
        return from_item(UserItem.get(keys.user_pk(user_id), keys.META, consistent_read=True))
    except UserItem.DoesNotExist:
        return None


def get(user_id: str) -> User | None:
    """The user for a lookup: the same consistent GetItem as `load` (one round trip either way, and
    the caller's own profile must show a change they just made)."""
    return load(user_id)


def get_many(user_ids: list[str]) -> dict[str, User]:
    """The users with these ids that exist (one BatchGetItem per 100 ids)."""
    wanted = [(keys.user_pk(u), keys.META) for u in dict.fromkeys(user_ids)]
    return {item.user_id: from_item(item) for item in UserItem.batch_get(wanted)}


def get_by_username(username: str) -> User | None:
    """Resolve a login name (two GetItems: the guard, then the user)."""
    try:
        guard = UsernameItem.get(keys.username_pk(username), keys.META, consistent_read=True)
    except UsernameItem.DoesNotExist:
        return None
    return get(guard.user_id)


def lookalike_ids(username: str) -> set[str]:
    """The ids of users whose names look like `username` (one Query of gsi1; eventually
    consistent, so a user created a moment ago may be missing)."""
    partition = keys.username_lookalike_pk(lookalike_key(username))
    return {item.user_id for item in BaseItem.gsi1.query(partition) if isinstance(item, UserItem)}


def _guard(uow: Work, user: User) -> None:
    transaction(uow).put(
        UsernameItem(pk=keys.username_pk(user.username), sk=keys.META, user_id=user.id),
        condition=UsernameItem.pk.does_not_exist(),
        on_conflict=ValidationError.field("username", USERNAME_TAKEN),
    )


def add(uow: Work, user: User) -> None:
    _guard(uow, user)
    transaction(uow).put(
        UserItem(
            pk=keys.user_pk(user.id),
            sk=keys.META,
            gsi1pk=keys.username_lookalike_pk(lookalike_key(user.username)),
            gsi1sk=keys.user_pk(user.id),
            gsi2pk=keys.USERS,
            gsi2sk=keys.user_by_name_sk(user.username, user.id),
            user_id=user.id,
            username=user.username,
            date_joined=user.date_joined,
            password_hash=user.password_hash,
            is_staff=user.is_staff,
            is_support=user.is_support,
            is_active=user.is_active,
            token_lifetime=user.token_lifetime,
            fields=_doc(user),
            version=1,
        ),
        condition=UserItem.pk.does_not_exist(),
    )


def save_changes(uow: Work, before: User, after: User) -> None:
    actions: list[Action] = [UserItem.version.add(1)]
    for name in _ATTR_FIELDS:
        if getattr(after, name) != getattr(before, name):
            actions.append(getattr(UserItem, name).set(getattr(after, name)))
    # Every change (re)writes the look-alike key: users stored before it existed gain it too.
    actions.append(UserItem.gsi1pk.set(keys.username_lookalike_pk(lookalike_key(after.username))))
    actions.append(UserItem.gsi1sk.set(keys.user_pk(after.id)))
    if after.username != before.username:
        actions.append(UserItem.gsi2sk.set(keys.user_by_name_sk(after.username, after.id)))
        transaction(uow).delete(UsernameItem(pk=keys.username_pk(before.username), sk=keys.META))
        _guard(uow, after)
    if _doc(after) != _doc(before):
        actions.append(UserItem.fields.set(_doc(after)))
    transaction(uow).update(
        _key(after.id), actions, condition=UserItem.version == before.version, on_conflict=Conflict(LOST_RACE)
    )


def remove(uow: Work, user: User) -> None:
    transaction(uow).delete(
        _key(user.id), condition=UserItem.version == user.version, on_conflict=Conflict(LOST_RACE)
    )
    transaction(uow).delete(UsernameItem(pk=keys.username_pk(user.username), sk=keys.META))


def page(query: UserQuery, request: PageRequest) -> Page[User]:
    """One page of every user (staff's list) and its total. Unfiltered by username: one Query of
    the page on the by-name index and the platform-wide count (which lags: store/counters.py);
    otherwise the slow path reads (bounded) by username, filters, and sorts stably by the field."""
    by_name = query.order == "username"
    chosen = listing(username_exact=query.username_exact, descending=by_name and query.descending)
    matches = query.matches
    if matches is not None:
        first = chosen.predicate
        chosen = replace(
            chosen, predicate=lambda item: (first is None or first(item)) and matches(from_item(item))
        )
    if not by_name:
        field = query.order
        chosen = replace(
            chosen,
            order_by=lambda item: _sort_value(from_item(item), field),
            descending=query.descending,
        )
    if chosen.predicate is None and chosen.order_by is None:
        chosen = pages.platform_total(chosen, counters.USERS)
    found = pages.fetch_page(chosen, request.page, request.page_size)
    return Page([from_item(item) for item in found.items], found.total)


def _sort_value(user: User, field: str) -> Any:
    value = getattr(user, field)
    return value.lower() if isinstance(value, str) else value


def listing(
    *,
    username_exact: str | None = None,
    descending: bool = False,
    total: int | None = None,
    predicate: Any = None,
) -> Listing:
    """All users by username (gsi2)."""
    if username_exact is not None:
        return Listing(
            partition=keys.USERS,
            prefix=keys.name_prefix(username_exact),
            index="gsi2",
            predicate=lambda item: item.username == username_exact,
            item_type=UserItem,
            what=NARROW[0],
            narrow_with=NARROW[1],
        )
    return Listing(
        partition=keys.USERS,
        index="gsi2",
        forward=not descending,
        known_total=total,
        predicate=predicate,
        item_type=UserItem,
        what=NARROW[0],
        narrow_with=NARROW[1],
    )
