"""What resources and invoice items contribute to the service providers' statistics
(domain/analytics.py says what facts are; services/analytics_providers.py reads them).

Platform-wide series (staff and support read them):
- `providers#active` (NOW): per provider (its customer id), the resources in an active state
  (Waldur's `get_active_resources`: OK, Updating, Terminating); label: the provider's name.
- `providers#projects` (NOW): per (provider, project) pair (`<provider id>:<project id>`), the
  active resources of the provider in the project. A provider's distinct projects are its pairs
  with a non-zero count: facts are per object and cannot move a distinct count when a pair goes
  0↔1, so the reader counts the pairs (one Query whose size grows with the pairs, not the
  resources).
- `providers#offerings` (NOW): per offering (`<provider id>:<offering id>`), the active resources;
  label: the offering's name.

One series per provider, `providers#provider#<provider id>`, read whole in one Query:
- NOW `state:<state>`: resources per state (Terminated included).
- NOW `offering:<offering id>` (label: its name): resources not Terminated per offering;
  `offering_active:<id>`: active ones; `offering_all:<id>`: all of them.
- NOW `customer:<customer id>` (label: its name): resources not Terminated per consumer customer;
  `offering_customer:<offering id>:<customer id>`: the same per offering (an offering's distinct
  customers are its pairs with a non-zero count, counted by the reader).
- NOW `plan:<plan id>` (label: its name): active resources per plan.
- `M#<month>` `created`: resources created in the month; `M#<month>` `customer:<id>` (label):
  resources a customer created in the month (its first month is the customer's arrival).
- From invoice items (billing's lines, by the provider of their offering): NOW `revenue:<customer
  id>` and `revenue_offering:<offering id>`, the sum of the items' prices (tax excluded), all months.
"""

from __future__ import annotations

from chalicelib.domain.analytics import NOW, Add, month, series
from chalicelib.domain.invoices import InvoiceItem
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import ResourceState

ACTIVE = frozenset({ResourceState.OK, ResourceState.UPDATING, ResourceState.TERMINATING})

PROVIDERS_ACTIVE = series("providers", "active")
PROVIDERS_PROJECTS = series("providers", "projects")
PROVIDERS_OFFERINGS = series("providers", "offerings")
PAIR = ":"

STATE = "state:"
OFFERING = "offering:"
OFFERING_ACTIVE = "offering_active:"
OFFERING_ALL = "offering_all:"
CUSTOMER = "customer:"
OFFERING_CUSTOMER = "offering_customer:"
PLAN = "plan:"
CREATED = "created"
REVENUE = "revenue:"
REVENUE_OFFERING = "revenue_offering:"


def provider_series(provider_id: str) -> str:
    return series("providers", "provider", provider_id)


def pair(first: str, second: str) -> str:
    return f"{first}{PAIR}{second}"


def resource_facts(resource: Resource) -> list[Add]:
    provider = resource.provider_id
    if not provider:
        return []
    mine = provider_series(provider)
    active = resource.state in ACTIVE
    live = resource.state is not ResourceState.TERMINATED
    created = month(resource.created)
    out = [
        Add(mine, NOW, f"{STATE}{resource.state.value}"),
        Add(mine, NOW, f"{OFFERING_ALL}{resource.offering_id}", label=resource.offering_name),
        Add(mine, created, CREATED),
        Add(mine, created, f"{CUSTOMER}{resource.customer_id}", label=resource.customer_name),
    ]
    if live:
        out.append(Add(mine, NOW, f"{OFFERING}{resource.offering_id}", label=resource.offering_name))
        out.append(Add(mine, NOW, f"{CUSTOMER}{resource.customer_id}", label=resource.customer_name))
        out.append(Add(mine, NOW, f"{OFFERING_CUSTOMER}{pair(resource.offering_id, resource.customer_id)}"))
    if active:
        out.append(Add(mine, NOW, f"{OFFERING_ACTIVE}{resource.offering_id}", label=resource.offering_name))
        if resource.plan_id:
            out.append(Add(mine, NOW, f"{PLAN}{resource.plan_id}", label=resource.plan_name))
        out.append(Add(PROVIDERS_ACTIVE, NOW, provider, label=resource.provider_name))
        out.append(Add(PROVIDERS_PROJECTS, NOW, pair(provider, resource.project_id)))
        out.append(
            Add(PROVIDERS_OFFERINGS, NOW, pair(provider, resource.offering_id), label=resource.offering_name)
        )
    return out


def invoice_item_facts(item: InvoiceItem) -> list[Add]:
    """An invoice item's price as its provider's revenue from the customer and the offering."""
    if not item.provider_id:
        return []
    price = item.price
    if price == 0:
        return []
    mine = provider_series(item.provider_id)
    out = [Add(mine, NOW, f"{REVENUE}{item.customer_id}", price)]
    if item.offering_id:
        out.append(Add(mine, NOW, f"{REVENUE_OFFERING}{item.offering_id}", price))
    return out
