"""Service providers: one record per customer that sells in the marketplace.

- `CUST#<c>` / `PROVIDER`: the record (a customer has at most one: the key guards it).
- gsi1 `PROVIDER#<sp>` / `#META`: finds it from its own id.
- gsi2 `PROVIDERS` / `<sp>`: every provider by creation (the list).
"""

from __future__ import annotations

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.offerings import ServiceProvider
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import keys
from chalicelib.store.codec import Codec
from chalicelib.store.items import BaseItem, ServiceProviderItem
from chalicelib.store.unit_of_work import transaction

ALREADY = "service provider with this customer already exists."
_PROVIDER = Codec(ServiceProvider, keyed=frozenset({"id", "customer_id", "created", "version"}))


def _from_item(item: ServiceProviderItem) -> ServiceProvider:
    return _PROVIDER.from_doc(
        item.fields or {},
        id=item.provider_id,
        customer_id=item.customer_id,
        created=item.created,
        version=int(item.version),
    )


def _item(provider: ServiceProvider) -> ServiceProviderItem:
    return ServiceProviderItem(
        pk=keys.customer_pk(provider.customer_id),
        sk=keys.SERVICE_PROVIDER,
        gsi1pk=keys.service_provider_lookup(provider.id),
        gsi1sk=keys.META,
        gsi2pk=keys.SERVICE_PROVIDERS,
        gsi2sk=provider.id,
        provider_id=provider.id,
        customer_id=provider.customer_id,
        created=provider.created,
        fields=_PROVIDER.to_doc(provider),
        version=provider.version,
    )


def for_customer(customer_id: str) -> ServiceProvider | None:
    """The customer's provider record (one GetItem), or None."""
    try:
        item = ServiceProviderItem.get(
            keys.customer_pk(customer_id), keys.SERVICE_PROVIDER, consistent_read=True
        )
    except ServiceProviderItem.DoesNotExist:
        return None
    return _from_item(item)


def get(provider_id: str) -> ServiceProvider | None:
    """By the provider's own id (one gsi1 Query), or None."""
    found = BaseItem.gsi1.query(keys.service_provider_lookup(provider_id), BaseItem.gsi1sk == keys.META)
    for item in found:
        if isinstance(item, ServiceProviderItem):
            return _from_item(item)
    return None


def read_all() -> list[ServiceProvider]:
    """Every provider, oldest first (one Query of gsi2 `PROVIDERS`; a provider is a customer that
    sells, so this grows with sellers, not with the table)."""
    found = BaseItem.gsi2.query(keys.SERVICE_PROVIDERS)
    return [_from_item(i) for i in found if isinstance(i, ServiceProviderItem)]


def add(uow: Work, provider: ServiceProvider) -> None:
    """Register the customer as a seller; a second record for it is refused (Waldur's 400)."""
    transaction(uow).put(
        _item(provider),
        condition=ServiceProviderItem.pk.does_not_exist(),
        on_conflict=ValidationError({"customer": [ALREADY]}),
    )
