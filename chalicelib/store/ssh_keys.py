"""Users' SSH keys in their owner's partition.

- `USER#<u>` / `SSHKEY#<name>`: the key. Keyed by name, so a put conditioned on the key's absence
  is the (user, name) uniqueness check, and a user's keys are one Query, in name order.
- gsi1 `SSHKEYS` / `<k>`: finds a key (its owner and name) from its id alone.
- gsi2 `SSHKEYS` / `<name>#<k>`: every key by name (Waldur's order), staff's list, totalled by the
  `ssh_keys` counter (from the stream).
- `USER#<u>` / `SSHKEYS#COUNT`: how many keys the user holds, moved in each key's transaction with
  a condition that keeps it within `MAX_KEYS_PER_USER`.
"""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.ssh_keys import MAX_KEYS_PER_USER, NAME_TAKEN, TOO_MANY, Fingerprints, SshKey
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.items import BaseItem, CounterItem, SshKeyItem
from chalicelib.store.pages import Listing
from chalicelib.store.unit_of_work import LOST_RACE, transaction


def _from_item(item: SshKeyItem) -> SshKey:
    return SshKey(
        id=item.key_id,
        user_id=item.user_id,
        name=item.name or "",
        public_key=item.public_key,
        fingerprints=Fingerprints(item.fingerprint_md5, item.fingerprint_sha256, item.fingerprint_sha512),
        created=item.created,
        is_shared=bool(item.is_shared),
    )


def _key(key: SshKey) -> SshKeyItem:
    return SshKeyItem(pk=keys.user_pk(key.user_id), sk=keys.ssh_key_sk(key.name))


def _item(key: SshKey) -> SshKeyItem:
    return SshKeyItem(
        pk=keys.user_pk(key.user_id),
        sk=keys.ssh_key_sk(key.name),
        gsi1pk=keys.SSH_KEYS,
        gsi1sk=key.id,
        gsi2pk=keys.SSH_KEYS,
        gsi2sk=keys.ssh_key_by_name_sk(key.name, key.id),
        key_id=key.id,
        user_id=key.user_id,
        name=key.name,
        public_key=key.public_key,
        fingerprint_md5=key.fingerprints.md5,
        fingerprint_sha256=key.fingerprints.sha256,
        fingerprint_sha512=key.fingerprints.sha512,
        created=key.created,
        is_shared=key.is_shared,
    )


def _count(user_id: str) -> CounterItem:
    return CounterItem(pk=keys.user_pk(user_id), sk=keys.SSH_KEY_COUNT)


# --- reads ---------------------------------------------------------------------------------------
def get(key_id: str) -> SshKey | None:
    """By id: gsi1 names the owner and name, then a consistent read of the key (two round trips;
    a key deleted a moment ago is not returned)."""
    for found in BaseItem.gsi1.query(keys.SSH_KEYS, BaseItem.gsi1sk == key_id):
        if isinstance(found, SshKeyItem):
            try:
                item = SshKeyItem.get(found.pk, found.sk, consistent_read=True)
            except DoesNotExist:
                return None
            return _from_item(item) if item.key_id == key_id else None
    return None


def of_user(user_id: str) -> list[SshKey]:
    """A user's keys by name: one Query of their partition (at most MAX_KEYS_PER_USER)."""
    found = BaseItem.query(
        keys.user_pk(user_id), BaseItem.sk.startswith(keys.SSH_KEY_PREFIX), consistent_read=True
    )
    return [_from_item(i) for i in found if isinstance(i, SshKeyItem)]


def of_users(user_ids: Iterable[str]) -> list[SshKey]:
    """The keys of several users (one Query each), by user then name."""
    return [key for user_id in dict.fromkeys(user_ids) for key in of_user(user_id)]


def _listing_all(descending: bool = False) -> Listing:
    return Listing(
        partition=keys.SSH_KEYS,
        index="gsi2",
        forward=not descending,
        item_type=SshKeyItem,
        what="SSH keys",
        narrow_with="user_uuid",
    )


def page_all(request: PageRequest, descending: bool = False) -> Page[SshKey]:
    """Staff's unfiltered list by name: one Query of gsi2, totalled by the stream's counter."""
    listing = pages.platform_total(_listing_all(descending), counters.SSH_KEYS)
    found = pages.fetch_page(listing, request.page, request.page_size)
    return Page([_from_item(i) for i in found.items], found.total)


def read_all() -> list[SshKey]:
    """Every key by name (staff's filtered list): bounded by `filter_read_limit` (a 400 asks to
    narrow with `user_uuid`)."""
    return [_from_item(i) for i in pages.read_filtered([_listing_all()])]


# --- writes --------------------------------------------------------------------------------------
def add(uow: Work, key: SshKey) -> None:
    """Store a new key: ValidationError on `name` if the owner has one of that name, on
    `public_key` if they hold MAX_KEYS_PER_USER already."""
    transaction(uow).put(
        _item(key),
        condition=SshKeyItem.pk.does_not_exist(),
        on_conflict=ValidationError.field("name", NAME_TAKEN),
    )
    transaction(uow).update(
        _count(key.user_id),
        [CounterItem.value.add(1), CounterItem.type.set(CounterItem)],
        condition=CounterItem.value.does_not_exist() | (CounterItem.value < MAX_KEYS_PER_USER),
        on_conflict=ValidationError.field("public_key", TOO_MANY),
    )


def remove(uow: Work, key: SshKey) -> None:
    """Delete the key if it is still the one read (a key of the same name made since is not it)."""
    transaction(uow).delete(_key(key), condition=SshKeyItem.key_id == key.id, on_conflict=Conflict(LOST_RACE))
    transaction(uow).update(_count(key.user_id), [CounterItem.value.add(-1)])


def forget_count(uow: Work, user_id: str) -> None:
    """Drop the user's key counter (with the user, once their keys are gone)."""
    transaction(uow).delete(_count(user_id))
