"""Offerings in their provider customer's partition, with their components and plans embedded.

- `CUST#<c>` / `OFFER#<o>`: the offering (components and plans inside: an offering has a handful
  of each, so one item answers every catalog read of it).
- gsi1 `OFFER#<o>` / `#META`: finds an offering from its id alone (one Query).
- gsi2 `OFFERINGS` / `<o>`: every offering by creation (the catalog's lists).
- `CUST#<c>` / `PLAN#<p>` with gsi1 `PLAN#<p>` / `#META`: a plan's pointer to its offering, so
  `marketplace-plans/<p>/` resolves without the offering's id (one Query, then the offering).

Whether an offering has resources is read from the resources' provider index (gsi2
`PRES#<provider>`, `begins_with <offering>#`; store/resources.py), one item at most.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain.errors import Conflict
from chalicelib.domain.marketplace import (
    BillingType,
    Component,
    LimitPeriod,
    Offering,
    OfferingState,
    Plan,
    PlanUnit,
)
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.items import BaseItem, OfferingItem, PlanPointerItem
from chalicelib.store.pages import Listing
from chalicelib.store.unit_of_work import LOST_RACE, transaction

COUNTER = counters.OFFERINGS  # kept by the stream consumer (store/counters.py)
_DOC_FIELDS = (
    "description",
    "full_description",
    "terms_of_service",
    "attributes",
    "options",
    "plugin_options",
    "secret_options",
    "backend_id",
    "paused_reason",
    "vendor_details",
    "getting_started",
    "integration_guide",
    "access_url",
    "privacy_policy_link",
    "latitude",
    "longitude",
    "country",
)


# --- documents -------------------------------------------------------------------------------------
def component_doc(component: Component) -> dict[str, Any]:
    return {
        "id": component.id,
        "type": component.type,
        "name": component.name,
        "measured_unit": component.measured_unit,
        "billing_type": component.billing_type.value,
        "description": component.description,
        "limit_period": component.limit_period.value if component.limit_period else None,
        "limit_amount": component.limit_amount,
        "min_value": component.min_value,
        "max_value": component.max_value,
        "max_available_limit": component.max_available_limit,
        "default_limit": component.default_limit,
        "article_code": component.article_code,
        "is_boolean": component.is_boolean,
    }


def component_from_doc(doc: dict[str, Any]) -> Component:
    values = dict(doc)
    values["billing_type"] = BillingType(values["billing_type"])
    values["limit_period"] = LimitPeriod(values["limit_period"]) if values.get("limit_period") else None
    return Component(**values)


def plan_doc(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "name": plan.name,
        "unit": plan.unit.value,
        "unit_price": str(plan.unit_price),
        "prices": {k: str(v) for k, v in plan.prices.items()},
        "quotas": dict(plan.quotas),
        "description": plan.description,
        "article_code": plan.article_code,
        "max_amount": plan.max_amount,
        "archived": plan.archived,
        "created": plan.created.isoformat() if plan.created else None,
    }


def plan_from_doc(offering_id: str, doc: dict[str, Any]) -> Plan:
    return Plan(
        id=doc["id"],
        offering_id=offering_id,
        name=doc["name"],
        unit=PlanUnit(doc["unit"]),
        unit_price=Decimal(doc["unit_price"]),
        prices={k: Decimal(v) for k, v in (doc.get("prices") or {}).items()},
        quotas={k: int(v) for k, v in (doc.get("quotas") or {}).items()},
        description=doc.get("description", ""),
        article_code=doc.get("article_code", ""),
        max_amount=doc.get("max_amount"),
        archived=bool(doc.get("archived")),
        created=datetime.fromisoformat(doc["created"]) if doc.get("created") else None,
    )


def _from_item(item: OfferingItem) -> Offering:
    doc = {k: v for k, v in (item.fields or {}).items() if k in _DOC_FIELDS}
    return Offering(
        id=item.offering_id,
        customer_id=item.customer_id,
        name=item.name,
        type=item.offering_type,
        state=OfferingState(item.state),
        category_id=item.category_id,
        created=item.created,
        shared=bool(item.shared),
        billable=bool(item.billable),
        components=tuple(component_from_doc(c) for c in item.components or ()),
        plans=tuple(plan_from_doc(item.offering_id, p) for p in item.plans or ()),
        version=int(item.version),
        **doc,
    )


def _item(offering: Offering) -> OfferingItem:
    return OfferingItem(
        pk=keys.customer_pk(offering.customer_id),
        sk=keys.offering_sk(offering.id),
        gsi1pk=keys.offering_lookup(offering.id),
        gsi1sk=keys.META,
        gsi2pk=keys.OFFERINGS,
        gsi2sk=offering.id,
        offering_id=offering.id,
        customer_id=offering.customer_id,
        name=offering.name,
        offering_type=offering.type,
        state=offering.state.value,
        category_id=offering.category_id,
        created=offering.created,
        shared=offering.shared,
        billable=offering.billable,
        components=[component_doc(c) for c in offering.components],
        plans=[plan_doc(p) for p in offering.plans],
        fields={name: _plain(getattr(offering, name)) for name in _DOC_FIELDS},
        version=offering.version,
    )


def _plain(value: Any) -> Any:
    return dict(value) if hasattr(value, "items") else value


def _pointer(offering: Offering, plan: Plan) -> PlanPointerItem:
    return PlanPointerItem(
        pk=keys.customer_pk(offering.customer_id),
        sk=keys.plan_sk(plan.id),
        gsi1pk=keys.plan_lookup(plan.id),
        gsi1sk=keys.META,
        plan_id=plan.id,
        offering_id=offering.id,
        customer_id=offering.customer_id,
    )


# --- reads -----------------------------------------------------------------------------------------
def get(offering_id: str) -> Offering | None:
    """The offering with this id (one gsi1 Query, eventually consistent), or None."""
    found = BaseItem.gsi1.query(keys.offering_lookup(offering_id), BaseItem.gsi1sk == keys.META)
    for item in found:
        if isinstance(item, OfferingItem):
            return _from_item(item)
    return None


def load(customer_id: str, offering_id: str) -> Offering | None:
    """The offering as stored now, before a change: one consistent GetItem of the provider's
    partition (`get` is the gsi1 lookup that names it; it may be a version behind)."""
    try:
        item = OfferingItem.get(
            keys.customer_pk(customer_id), keys.offering_sk(offering_id), consistent_read=True
        )
    except OfferingItem.DoesNotExist:
        return None
    return _from_item(item)


def plan_owner(plan_id: str) -> tuple[str, str] | None:
    """(customer id, offering id) of the offering holding the plan (one gsi1 Query), or None."""
    for item in BaseItem.gsi1.query(keys.plan_lookup(plan_id), BaseItem.gsi1sk == keys.META):
        if isinstance(item, PlanPointerItem):
            return item.customer_id, item.offering_id
    return None


def has_resources(offering: Offering) -> bool:
    """Whether any resource (in any state) was ordered from the offering: a keys-only Query of the
    provider's resource index, Limit 1."""
    response = BaseItem._get_connection().query(
        keys.provider_resources(offering.customer_id),
        range_key_condition=BaseItem.gsi2sk.startswith(keys.offering_prefix(offering.id)),
        index_name="gsi2",
        limit=1,
        attributes_to_get=["pk", "sk", "gsi2pk", "gsi2sk"],
    )
    return bool(response.get("Items"))


def for_customer(customer_id: str) -> list[Offering]:
    """A provider's offerings, oldest first (one Query of its partition)."""
    found = OfferingItem.query(
        keys.customer_pk(customer_id), OfferingItem.sk.startswith(keys.OFFERING_PREFIX)
    )
    return [_from_item(i) for i in found if isinstance(i, OfferingItem)]


def get_many(ids: Iterable[tuple[str, str]]) -> list[Offering]:
    """Offerings by (customer id, offering id), in no particular order (one BatchGetItem per 100);
    the ones not found are left out."""
    wanted = [(keys.customer_pk(c), keys.offering_sk(o)) for c, o in dict.fromkeys(ids)]
    return [_from_item(i) for i in OfferingItem.batch_get(wanted)]


def _listing_all() -> Listing:
    return Listing(partition=keys.OFFERINGS, index="gsi2", forward=False, item_type=OfferingItem)


def read_all() -> list[Offering]:
    """Every offering, newest first (the catalog's filtered lists: a documented slow path)."""
    return [_from_item(i) for i in pages.read_all(_listing_all())]


def page_all(request: PageRequest) -> Page[Offering]:
    """Every offering, newest first, one page: one Query of gsi2 and the platform-wide counter
    (which lags the table by the stream's delay: a page is never cut short by it)."""
    listing = pages.platform_total(_listing_all(), COUNTER)
    found = pages.fetch_page(listing, request.page, request.page_size)
    return Page([_from_item(i) for i in found.items], found.total)


# --- writes ----------------------------------------------------------------------------------------
def add(uow: Work, offering: Offering) -> None:
    """Create the offering (version 1) with a pointer per plan."""
    transaction(uow).put(_item(replace(offering, version=1)), condition=OfferingItem.pk.does_not_exist())
    for plan in offering.plans:
        transaction(uow).put(_pointer(offering, plan), condition=PlanPointerItem.pk.does_not_exist())


def save(uow: Work, before: Offering, after: Offering) -> None:
    """Write `after` over `before` if nobody changed it meanwhile (else 409); new plans get their
    pointers (plans are archived, never removed)."""
    transaction(uow).put(
        _item(replace(after, version=before.version + 1)),
        condition=OfferingItem.version == before.version,
        on_conflict=Conflict(LOST_RACE),
    )
    known = {p.id for p in before.plans}
    for plan in after.plans:
        if plan.id not in known:
            transaction(uow).put(_pointer(after, plan), condition=PlanPointerItem.pk.does_not_exist())


def remove(uow: Work, offering: Offering) -> None:
    """Delete the offering and its plan pointers, if it is unchanged (else 409)."""
    transaction(uow).delete(
        _item(offering),
        condition=OfferingItem.version == offering.version,
        on_conflict=Conflict(LOST_RACE),
    )
    for plan in offering.plans:
        transaction(uow).delete(_pointer(offering, plan))
