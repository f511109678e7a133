"""Offering users, in their provider's partition, and the offering's user attribute config.

- `CUST#<provider>` / `OFFUSER#<offering>#<user>`: the account (the key makes it one per user per
  offering); an offering's are one Query of the prefix, a provider's one Query of `OFFUSER#`.
- gsi1 `OFFUSER#<id>` / `#META`: finds it from its own id (the URL carries only that).
- gsi2 `UOFFUSERS#<user>` / `<offering>`: a user's accounts (their own list, `user_uuid=`).
- `CUST#<provider>` / `OFFUSERCFG#<offering>`: which user attributes the provider sees.
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain import offering_users as offering_users_domain
from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.offering_users import AttributeConfig, OfferingUser
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import keys
from chalicelib.store.codec import Codec
from chalicelib.store.items import BaseItem, OfferingUserConfigItem, OfferingUserItem
from chalicelib.store.unit_of_work import LOST_RACE, transaction

ALREADY = offering_users_domain.ALREADY
_USER = Codec(
    OfferingUser, keyed=frozenset({"id", "offering_id", "provider_id", "user_id", "created", "version"})
)
_CONFIG = Codec(
    AttributeConfig, keyed=frozenset({"offering_id", "provider_id", "created", "version", "saved"})
)


def _from_item(item: OfferingUserItem) -> OfferingUser:
    return _USER.from_doc(
        item.fields or {},
        id=item.offering_user_id,
        offering_id=item.offering_id,
        provider_id=item.provider_id,
        user_id=item.user_id,
        created=item.created,
        version=int(item.version),
    )


def _key(user: OfferingUser) -> OfferingUserItem:
    return OfferingUserItem(
        pk=keys.customer_pk(user.provider_id), sk=keys.offering_user_sk(user.offering_id, user.user_id)
    )


def _item(user: OfferingUser) -> OfferingUserItem:
    return OfferingUserItem(
        pk=keys.customer_pk(user.provider_id),
        sk=keys.offering_user_sk(user.offering_id, user.user_id),
        gsi1pk=keys.offering_user_lookup(user.id),
        gsi1sk=keys.META,
        gsi2pk=keys.user_offering_users(user.user_id),
        gsi2sk=user.offering_id,
        offering_user_id=user.id,
        offering_id=user.offering_id,
        provider_id=user.provider_id,
        user_id=user.user_id,
        created=user.created,
        fields=_USER.to_doc(user),
        version=user.version,
    )


# --- reads ---------------------------------------------------------------------------------------
def get(offering_user_id: str) -> OfferingUser | None:
    """By its own id (one gsi1 Query; may be a moment behind a change)."""
    found = BaseItem.gsi1.query(keys.offering_user_lookup(offering_user_id), BaseItem.gsi1sk == keys.META)
    for item in found:
        if isinstance(item, OfferingUserItem):
            return _from_item(item)
    return None


def load(provider_id: str, offering_id: str, user_id: str) -> OfferingUser | None:
    """The user's account in the offering as stored now (one consistent GetItem), or None."""
    try:
        item = OfferingUserItem.get(
            keys.customer_pk(provider_id), keys.offering_user_sk(offering_id, user_id), consistent_read=True
        )
    except OfferingUserItem.DoesNotExist:
        return None
    return _from_item(item)


def get_many(provider_id: str, offering_id: str, user_ids: list[str]) -> dict[str, OfferingUser]:
    """These users' accounts in the offering, by user id (one BatchGetItem per 100)."""
    wanted = [
        (keys.customer_pk(provider_id), keys.offering_user_sk(offering_id, u))
        for u in dict.fromkeys(user_ids)
    ]
    return {
        i.user_id: _from_item(i)
        for i in OfferingUserItem.batch_get(wanted)
        if isinstance(i, OfferingUserItem)
    }


def of_provider(provider_id: str, offering_id: str | None = None) -> list[OfferingUser]:
    """A provider's accounts (one offering's with `offering_id`), by offering then user: one Query."""
    found = BaseItem.query(
        keys.customer_pk(provider_id),
        BaseItem.sk.startswith(keys.offering_users_prefix(offering_id)),
        consistent_read=True,
    )
    return [_from_item(i) for i in found if isinstance(i, OfferingUserItem)]


def of_user(user_id: str) -> list[OfferingUser]:
    """A user's accounts in every offering (one gsi2 Query)."""
    found = BaseItem.gsi2.query(keys.user_offering_users(user_id))
    return [_from_item(i) for i in found if isinstance(i, OfferingUserItem)]


def attribute_config(provider_id: str, offering_id: str) -> AttributeConfig | None:
    """The offering's stored attribute config (one GetItem), or None (the default applies)."""
    try:
        item = OfferingUserConfigItem.get(
            keys.customer_pk(provider_id), keys.offering_user_config_sk(offering_id), consistent_read=True
        )
    except OfferingUserConfigItem.DoesNotExist:
        return None
    return _CONFIG.from_doc(
        item.fields or {},
        offering_id=item.offering_id,
        provider_id=item.provider_id,
        created=item.created,
        version=int(item.version),
        saved=True,
    )


# --- writes --------------------------------------------------------------------------------------
def add(uow: Work, user: OfferingUser) -> None:
    """Make the account; a second one for the user in the offering is refused (400)."""
    transaction(uow).put(
        _item(user),
        condition=OfferingUserItem.pk.does_not_exist(),
        on_conflict=ValidationError([ALREADY]),
    )


def save(uow: Work, before: OfferingUser, after: OfferingUser) -> OfferingUser:
    """Write `after` at version + 1, if nobody changed it since `before` (else 409)."""
    stored = replace(after, version=before.version + 1)
    transaction(uow).put(
        _item(stored),
        condition=OfferingUserItem.version == before.version,
        on_conflict=Conflict(LOST_RACE),
    )
    return stored


def remove(uow: Work, user: OfferingUser) -> None:
    transaction(uow).delete(
        _key(user), condition=OfferingUserItem.pk.exists(), on_conflict=Conflict(LOST_RACE)
    )


def save_attribute_config(
    uow: Work, before: AttributeConfig | None, after: AttributeConfig
) -> AttributeConfig:
    """Store the config: a first one if none is stored, else over `before`'s version (else 409)."""
    version = before.version + 1 if before and before.saved else 1
    item = OfferingUserConfigItem(
        pk=keys.customer_pk(after.provider_id),
        sk=keys.offering_user_config_sk(after.offering_id),
        offering_id=after.offering_id,
        provider_id=after.provider_id,
        created=after.created,
        fields=_CONFIG.to_doc(after),
        version=version,
    )
    condition = (
        OfferingUserConfigItem.version == before.version
        if before and before.saved
        else OfferingUserConfigItem.pk.does_not_exist()
    )
    transaction(uow).put(item, condition=condition, on_conflict=Conflict(LOST_RACE))
    return replace(after, version=version, saved=True)


def remove_attribute_config(uow: Work, config: AttributeConfig) -> None:
    key = OfferingUserConfigItem(
        pk=keys.customer_pk(config.provider_id), sk=keys.offering_user_config_sk(config.offering_id)
    )
    transaction(uow).delete(key)
