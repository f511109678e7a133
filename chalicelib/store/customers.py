"""Customer items: one per customer in its own partition (`CUST#<id>` / `#META`).

Quota usage lives on the item and is moved in place by the writers of projects (and later users
and resources) in their own transactions, so a customer page shows counts without extra reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import fields as dc_fields
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.config import get_settings
from chalicelib.domain.customers import HAS_PROJECTS, Customer
from chalicelib.domain.errors import Conflict, DomainError, NotFound, QuotaExceeded
from chalicelib.domain.quotas import CUSTOMER_QUOTAS, UNLIMITED
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import CustomerQuery
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.items import CustomerItem
from chalicelib.store.pages import Listing
from chalicelib.store.table import connection
from chalicelib.store.unit_of_work import LOST_RACE, transaction

# Domain fields kept in the item's `fields` document (the rest have attributes or keys of their own).
_DOC_FIELDS = tuple(
    f.name
    for f in dc_fields(Customer)
    if f.name not in {"id", "name", "created", "quota_usage", "quota_limits", "version"}
)

# The slow path's 400: what is listed, and the filters that narrow the request.
NARROW = ("customers", "name_exact= or a more specific filter")


def _to_doc(customer: Customer) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name in _DOC_FIELDS:
        value = getattr(customer, name)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        doc[name] = value
    return doc


def _from_doc(doc: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in doc.items() if k in _DOC_FIELDS}
    if "default_tax_percent" in values:
        values["default_tax_percent"] = Decimal(str(values["default_tax_percent"]))
    if values.get("accounting_start_date"):
        values["accounting_start_date"] = datetime.fromisoformat(values["accounting_start_date"])
    return values


def _from_item(item: CustomerItem) -> Customer:
    return Customer(
        id=item.customer_id,
        name=item.name,
        created=item.created,
        quota_usage={k: int(v) for k, v in (item.quota_usage.as_dict() or {}).items()},
        quota_limits={k: int(v) for k, v in (item.quota_limits.as_dict() or {}).items()},
        version=int(item.version),
        **_from_doc(item.fields or {}),
    )


def _key(customer_id: str) -> CustomerItem:
    return CustomerItem(pk=keys.customer_pk(customer_id), sk=keys.META)


def load(customer_id: str) -> Customer | None:
    """The customer as stored now, before a change (one consistent GetItem); None if there is none."""
    try:
        return _from_item(CustomerItem.get(keys.customer_pk(customer_id), keys.META, consistent_read=True))
    except CustomerItem.DoesNotExist:
        return None


def get(customer_id: str) -> Customer | None:
    """The customer for a lookup: the same consistent GetItem as `load` (a read by key costs one
    round trip either way, and a GET right after a change sees it)."""
    return load(customer_id)


def get_many(customer_ids: list[str]) -> list[Customer]:
    """The customers with these ids that exist (one BatchGetItem per 100 ids)."""
    wanted = [(keys.customer_pk(c), keys.META) for c in dict.fromkeys(customer_ids)]
    return [_from_item(item) for item in CustomerItem.batch_get(wanted)]


def add(uow: Work, customer: Customer) -> None:
    item = CustomerItem(
        pk=keys.customer_pk(customer.id),
        sk=keys.META,
        gsi1pk=keys.CUSTOMERS,
        gsi1sk=customer.id,
        gsi2pk=keys.CUSTOMERS,
        gsi2sk=keys.customer_by_name_sk(customer.name, customer.id),
        customer_id=customer.id,
        name=customer.name,
        created=customer.created,
        fields=_to_doc(customer),
        quota_usage={q: 0 for q in CUSTOMER_QUOTAS},
        quota_limits={q: UNLIMITED for q in CUSTOMER_QUOTAS},
        version=1,
    )
    transaction(uow).put(item, condition=CustomerItem.pk.does_not_exist())


def save_changes(uow: Work, before: Customer, after: Customer) -> None:
    """Write the fields that differ between `before` and `after`, if nobody changed it meanwhile."""
    actions: list[Action] = [CustomerItem.version.add(1)]
    if after.name != before.name:
        actions += [
            CustomerItem.name.set(after.name),
            CustomerItem.gsi2sk.set(keys.customer_by_name_sk(after.name, after.id)),
        ]
    doc = _to_doc(after)
    if doc != _to_doc(before):
        actions.append(CustomerItem.fields.set(doc))
    transaction(uow).update(
        _key(after.id),
        actions,
        condition=CustomerItem.version == before.version,
        on_conflict=Conflict(LOST_RACE),
    )


def remove(uow: Work, customer: Customer) -> None:
    """Delete the customer, provided it still has no projects and is unchanged."""
    transaction(uow).delete(
        _key(customer.id),
        condition=(CustomerItem.version == customer.version)
        & (CustomerItem.quota_usage["nc_project_count"] == 0),
        on_conflict=Conflict(HAS_PROJECTS),
    )


def take_one(uow: Work, customer_id: str, quota: str) -> None:
    """Use one more unit of the customer's `quota`, refused atomically when the limit is reached.

    DynamoDB conditions cannot do arithmetic, so an increment is one unit (`usage < limit`); that
    is how projects, users and resources are counted.
    """
    usage = CustomerItem.quota_usage[quota]
    limit = CustomerItem.quota_limits[quota]
    transaction(uow).update(
        _key(customer_id),
        [usage.add(1)],
        condition=CustomerItem.pk.exists() & ((limit == UNLIMITED) | (usage < limit)),
        on_conflict=lambda: _quota_error(customer_id, quota),
    )


def release_one(uow: Work, customer_id: str, quota: str) -> None:
    transaction(uow).update(
        _key(customer_id),
        [CustomerItem.quota_usage[quota].add(-1)],
        condition=CustomerItem.pk.exists(),
        on_conflict=NotFound("Customer"),
    )


def set_quota_limits(uow: Work, customer: Customer, limits: dict[str, int]) -> None:
    """Set quota limits in place (usage is untouched), if the customer is unchanged otherwise."""
    transaction(uow).update(
        _key(customer.id),
        [CustomerItem.version.add(1)] + [CustomerItem.quota_limits[n].set(v) for n, v in limits.items()],
        condition=CustomerItem.version == customer.version,
        on_conflict=Conflict(LOST_RACE),
    )


def _quota_error(customer_id: str, quota: str) -> DomainError:
    current = get(customer_id)
    if current is None:
        return NotFound("Customer")
    q = next(q for q in current.quotas if q.name == quota)
    return QuotaExceeded(q.name, q.limit, q.usage + 1)


# `o=` fields no index orders by: read by name, then sorted stably (ties stay by name).
_SORTED_IN_MEMORY: dict[str, Callable[[Customer], str]] = {
    "abbreviation": lambda customer: customer.abbreviation,
    "native_name": lambda customer: customer.native_name,
}


def page(query: CustomerQuery, request: PageRequest) -> Page[Customer]:
    """One page of every customer (staff's list) and its total. Unfiltered, by name or creation:
    one Query of the page on its index and the platform-wide count (which lags: store/counters.py);
    otherwise the slow path reads (bounded) what the filters leave and sorts it."""
    found = pages.fetch_page(_listing_for(query), request.page, request.page_size)
    return Page([_from_item(item) for item in found.items], found.total)


def _listing_for(query: CustomerQuery) -> Listing:
    if query.name_exact is not None:
        # One name: its customers by id, which is creation order too.
        chosen = replace(_listing(name_exact=query.name_exact), forward=not query.descending)
    else:
        chosen = _listing(by_created=query.order == "created", descending=query.descending)
    sort_key = _SORTED_IN_MEMORY.get(query.order)
    if sort_key is not None:
        chosen = replace(
            chosen, order_by=lambda item: sort_key(_from_item(item)), descending=query.descending
        )
    matches = query.matches
    if matches is not None:
        first = chosen.predicate
        chosen = replace(
            chosen,
            predicate=lambda item: (first is None or first(item)) and matches(_from_item(item)),
        )
    if chosen.predicate is None and chosen.order_by is None:
        return pages.platform_total(chosen, counters.CUSTOMERS)
    return chosen


def _listing(
    *,
    name_exact: str | None = None,
    by_created: bool = False,
    descending: bool = False,
    total: int | None = None,
) -> Listing:
    """All customers by name (gsi2) or by creation (gsi1); `name_exact` narrows to one name."""
    if name_exact is not None:
        return Listing(
            partition=keys.CUSTOMERS,
            prefix=keys.name_prefix(name_exact),
            index="gsi2",
            predicate=lambda item: item.name == name_exact,
            item_type=CustomerItem,
            what=NARROW[0],
            narrow_with=NARROW[1],
        )
    return Listing(
        partition=keys.CUSTOMERS,
        index="gsi1" if by_created else "gsi2",
        forward=not descending,
        known_total=total,
        item_type=CustomerItem,
        what=NARROW[0],
        narrow_with=NARROW[1],
    )


def every_id() -> Iterator[str]:
    """Every customer's id, read keys-only from gsi1 `CUSTOMERS` (ids only, in id order, a page of
    Query at a time): the monthly billing run's fan-out."""
    start_key: dict[str, Any] | None = None
    while True:
        response = connection().query(
            get_settings().table_name,
            keys.CUSTOMERS,
            index_name="gsi1",
            attributes_to_get=["pk", "sk", "gsi1pk", "gsi1sk"],
            exclusive_start_key=start_key,
        )
        for item in response.get("Items", []):
            yield str(item["gsi1sk"]["S"])
        start_key = response.get("LastEvaluatedKey")
        if not start_key:
            return
