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

from chalicelib.domain.errors import Conflict
from chalicelib.domain.vocabulary import Component, Offering, OfferingState, Plan
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.codec import Codec
from chalicelib.store.items import BaseItem, OfferingItem, PlanPointerItem
from chalicelib.store.pages import Listing
from chalicelib.store.unit_of_work import LOST_RACE, transaction

COUNTER = counters.OFFERINGS  # kept by the stream consumer (store/counters.py)
# The offering's own attributes (keys, what lists and filters read); the rest is its `fields`
# document. Components and plans are documents of their own, in lists.
_KEYED = frozenset(
    {"id", "customer_id", "name", "type", "state", "category_id", "created", "shared", "billable"}
    | {"components", "plans", "version"}
)
_OFFERING = Codec(Offering, keyed=_KEYED)
_COMPONENT = Codec(Component)
_PLAN = Codec(Plan, keyed=frozenset({"offering_id"}))


def _from_item(item: OfferingItem) -> Offering:
    return _OFFERING.from_doc(
        item.fields or {},
        id=item.offering_id,
        customer_id=item.customer_id,
        name=item.name,
        type=item.offering_type,
        state=OfferingState(item.state),
        category_id=item.category_id,
        created=item.created,
        shared=bool(item.shared),
        billable=bool(item.billable),
        components=tuple(_COMPONENT.from_doc(c) for c in item.components or ()),
        plans=tuple(_PLAN.from_doc(p, offering_id=item.offering_id) for p in item.plans or ()),
        version=int(item.version),
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
        components=[_COMPONENT.to_doc(c) for c in offering.components],
        plans=[_PLAN.to_doc(p) for p in offering.plans],
        fields=_OFFERING.to_doc(offering),
        version=offering.version,
    )


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
