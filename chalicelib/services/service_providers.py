"""Service provider use cases (`marketplace-service-providers/`): a customer registers as a seller.

- Anybody may read the providers (Waldur's public directory: its site agent finds its provider
  with `?customer_uuid=`).
- Registering needs staff or SERVICE_PROVIDER.REGISTER on the customer (CUSTOMER.OWNER); a
  customer is one provider at most (400 as Waldur's unique check). A customer's first offering
  registers it too (services/offerings.py).
- Waldur logs no events for providers; neither does Cirrus.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.domain.customers import Customer
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.offerings import PROVIDER_MODEL, ServiceProvider
from chalicelib.domain.rbac import Scope
from chalicelib.domain.roles import P, ScopeType
from chalicelib.services import access as access_service
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import service_providers as store
from chalicelib.services.ports import unit_of_work

INVALID_HYPERLINK = "Invalid hyperlink - Object does not exist."


@dataclass(frozen=True)
class ProviderView:
    """A provider with its customer (its name, abbreviation... are the provider's) and how many
    offerings it has."""

    provider: ServiceProvider
    customer: Customer | None
    offering_count: int = 0


def describe(providers: list[ServiceProvider], count_offerings: bool = False) -> list[ProviderView]:
    """Join providers with their customers (one BatchGetItem per 100)."""
    customers = {c.id: c for c in customer_store.get_many([p.customer_id for p in providers])}
    views = []
    for p in providers:
        count = len(offering_store.for_customer(p.customer_id)) if count_offerings else 0
        views.append(ProviderView(p, customers.get(p.customer_id), count))
    return views


def get(provider_id: str) -> ProviderView:
    provider = store.get(provider_id)
    if provider is None:
        raise NotFound(PROVIDER_MODEL)
    return describe([provider], count_offerings=True)[0]


def list_providers(customer_id: str | None = None, name: str | None = None) -> list[ProviderView]:
    """Every provider by customer name (Waldur's ordering); `customer_id`: that customer's only
    (one GetItem); `name`: the customer's name contains it."""
    if customer_id is not None:
        found = store.for_customer(customer_id)
        providers = [found] if found else []
    else:
        providers = store.read_all()
    views = [v for v in describe(providers) if v.customer is not None]
    if name is not None:
        views = [v for v in views if v.customer and name.lower() in v.customer.name.lower()]
    return sorted(views, key=lambda v: (v.customer.name.lower() if v.customer else "", v.provider.id))


def register(ctx: EventContext, customer_id: str | None, fields: Mapping[str, Any]) -> ProviderView:
    """Make the customer a service provider."""
    rights = access_service.access(ctx.actor)
    visible = customer_id is not None and rights.sees_customer(customer_id)
    customer = customer_store.get(customer_id) if customer_id and visible else None
    if customer is None:
        raise ValidationError.field("customer", INVALID_HYPERLINK)
    rights.require(
        P.REGISTER_SERVICE_PROVIDER, Scope(ScopeType.CUSTOMER, customer.id, customer.id, customer.name)
    )
    provider = ServiceProvider(id=new_id(), customer_id=customer.id, created=utcnow(), version=1, **fields)
    uow = unit_of_work()
    store.add(uow, provider)
    uow.commit()
    return ProviderView(provider, customer)
