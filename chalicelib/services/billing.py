"""Billing: invoice items registered by the resource lifecycle, and the monthly run.

Registration happens inside the unit of work of the change that causes it, so an item is written
exactly when its resource changes, never without it:

- an order's resource is made (Create done): its items open from that instant to the month's end,
  one per billable component of its plan (fixed, limit, one-time); usage components open theirs
  with their first report;
- terminated (Terminate done): its open items close at that instant (a fixed item prorated to its
  span);
- a plan switch (Update done with another plan): the old plan's items close, the new plan's open
  (with its plan-switch charges);
- a limit change (Update done, same plan): the limit items split at the day of the change;
- a usage report (`set_usage`): the month's usage item takes the reported amount.

Each change first makes sure its month's invoice exists (`ensure_invoice`, one GetItem when it
does) and writes its items on condition that the invoice is still pending.

The monthly run (`run_month`, at 00:00 UTC on the 1st; `workflows/billing.py` splits it into batches
of customers on the `heavy` queue) issues every earlier pending invoice of a customer (`created`,
dated today, `invoice_created`) and opens the new month's invoice with the month's items of every
billable resource. Each step is idempotent: an issued invoice is not issued again, the new invoice
is written only if absent, and a carried item's id is made from its resource, component and month,
so a rerun (or a run that crashed half-way, then ran again) writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from chalicelib import observability
from chalicelib.domain import estimates, money
from chalicelib.domain import invoice_registration as registration
from chalicelib.domain import invoices as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.invoice_registration import Billed, Reason
from chalicelib.domain.invoices import Invoice, InvoiceItem, InvoiceState
from chalicelib.domain.orders import Order
from chalicelib.domain.resources import Resource
from chalicelib.domain.usages import ComponentUsage
from chalicelib.domain.vocabulary import BillingType, LimitPeriod, Offering, OrderType, ResourceState
from chalicelib.services import access as access_service
from chalicelib.services.ports import Source, UnitOfWork, unit_of_work
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import invoices as store
from chalicelib.services.ports import resources as resource_store

# Resources billed by the monthly run: all but those not made yet and those ended.
UNBILLED_STATES = frozenset({ResourceState.CREATING, ResourceState.TERMINATED})
CHUNK = 25  # items written per transaction by the monthly run


# --- the month's invoice ---------------------------------------------------------------------------
def ensure_invoice(customer_id: str, year: int, month: int, now: datetime | None = None) -> Invoice:
    """The customer's invoice of the month, made (pending, with the next number and the customer's
    default tax) if it does not exist. One GetItem when it does."""
    found = store.header_in(customer_id, year, month)
    if found is not None:
        return found
    customer = customer_store.get(customer_id)
    if customer is None:
        raise NotFound("Customer")
    invoice = domain.new_invoice(
        customer_id,
        customer.name,
        year,
        month,
        store.reserve_numbers(1),
        customer.default_tax_percent,
        now or utcnow(),
    )
    if store.create(invoice):
        return invoice
    again = store.header_in(customer_id, year, month)  # another writer made it first
    if again is None:
        raise Conflict("The invoice could not be created.")
    return again


def _billed(
    resource: Resource, offering: Offering, plan_id: str | None, limits: dict[str, int]
) -> Billed | None:
    plan = offering.plan(plan_id) if plan_id else None
    if plan is None or not offering.billable:
        return None
    return Billed(
        resource_id=resource.id,
        resource_name=resource.name,
        customer_id=resource.customer_id,
        project_id=resource.project_id,
        project_name=resource.project_name,
        offering=offering,
        plan=plan,
        provider_name=resource.provider_name,
        limits=limits,
        created=resource.created,
    )


def _new_ids(_component: str, _kind: str) -> str:
    return new_id()


# --- registration inside a change's unit of work --------------------------------------------------
def on_order_done(
    uow: UnitOfWork, order: Order, before: Resource, after: Resource, offering: Offering, now: datetime
) -> None:
    """Register what a done order changes on its resource's invoice (see the module's docstring)."""
    if order.type is OrderType.CREATE:
        billed = _billed(after, offering, after.plan_id, dict(after.limits))
        if billed is not None:
            _open(uow, billed, now, Reason.CREATE)
        return
    if order.type is OrderType.TERMINATE:
        _close(uow, before, now)
        return
    if order.plan_id != order.old_plan_id:
        _close(uow, before, now)
        billed = _billed(after, offering, after.plan_id, dict(after.limits))
        if billed is not None:
            _open(uow, billed, now, Reason.SWITCH)
        return
    _change_limits(uow, before, after, offering, now)


def on_imported(uow: UnitOfWork, resource: Resource, offering: Offering, now: datetime) -> None:
    """A resource imported from its provider (services/provider_imports.py) is billed from now on its
    plan, as a created one (no plan: nothing to bill until one is set)."""
    billed = _billed(resource, offering, resource.plan_id, dict(resource.limits))
    if billed is not None:
        _open(uow, billed, now, Reason.CREATE)


def _open(uow: UnitOfWork, billed: Billed, start: datetime, reason: Reason) -> None:
    items = registration.open_items(billed, start, reason, _new_ids, year=start.year, month=start.month)
    if not items:
        return
    ensure_invoice(billed.customer_id, start.year, start.month, start)
    store.require_pending(uow, billed.customer_id, start.year, start.month)
    for item in items:
        store.add_item(uow, item)


def _open_items_of(resource: Resource, now: datetime) -> list[InvoiceItem]:
    items = store.items_of_resource(
        resource.customer_id, now.year, now.month, resource.project_id, resource.id
    )
    return [i for i in items if i.is_open and i.kind != BillingType.USAGE]


def _close(uow: UnitOfWork, resource: Resource, now: datetime) -> None:
    running = _open_items_of(resource, now)
    if not running:
        return
    store.require_pending(uow, resource.customer_id, now.year, now.month)
    for item in running:
        store.save_item(uow, item, registration.close_item(item, now))


def on_limits_set(
    uow: UnitOfWork, before: Resource, after: Resource, offering: Offering, now: datetime
) -> None:
    """The provider set the resource's limits (no order): the limit items split as for an order."""
    _change_limits(uow, before, after, offering, now)


def _change_limits(
    uow: UnitOfWork, before: Resource, after: Resource, offering: Offering, now: datetime
) -> None:
    changed = {
        c.type: (int(before.limits.get(c.type, 0) or 0), int(after.limits.get(c.type, 0) or 0))
        for c in offering.components
        if c.billing_type is BillingType.LIMIT
        and int(before.limits.get(c.type, 0) or 0) != int(after.limits.get(c.type, 0) or 0)
    }
    if not changed:
        return
    running = {i.component_type: i for i in _open_items_of(before, now) if i.kind == BillingType.LIMIT}
    writes: list[tuple[InvoiceItem | None, InvoiceItem]] = []
    for component_type, (old, new) in changed.items():
        item = running.get(component_type)
        if item is None:
            continue
        if item.limit_period == LimitPeriod.TOTAL.value:
            extra = registration.total_limit_change(item, new, old, _new_ids)
            if extra is not None:
                writes.append((None, extra))
            continue
        split = registration.change_limit(item, new, now)
        if split is not None and split != item:
            writes.append((item, split))
    if not writes:
        return
    store.require_pending(uow, before.customer_id, now.year, now.month)
    for old_item, new_item in writes:
        if old_item is None:
            store.add_item(uow, new_item)
        else:
            store.save_item(uow, old_item, new_item)


def on_usage_reported(
    uow: UnitOfWork, resource: Resource, offering: Offering, usages: Sequence[ComponentUsage], now: datetime
) -> None:
    """The usage items of the reported month take the reported amounts (usage components only).
    A month whose invoice is issued already (or, for a past month, was never made) is left alone."""
    billed = _billed(resource, offering, resource.plan_id, dict(resource.limits))
    if billed is None:
        return
    reported = [
        (u, c)
        for u in usages
        if (c := offering.component(u.component_type)) is not None and c.billing_type is BillingType.USAGE
    ]
    if not reported:
        return
    period = reported[0][0].billing_period
    year, month = period.year, period.month
    if (year, month) == (now.year, now.month):
        invoice: Invoice | None = ensure_invoice(resource.customer_id, year, month, now)
    else:
        invoice = store.header_in(resource.customer_id, year, month)
    if invoice is None or invoice.state is not InvoiceState.PENDING:
        return
    existing = {
        i.component_type: i
        for i in store.items_of_resource(resource.customer_id, year, month, resource.project_id, resource.id)
        if i.kind == BillingType.USAGE
    }
    store.require_pending(uow, resource.customer_id, year, month)
    start = max(money.month_start(period), resource.created)
    for usage, component in reported:
        before = existing.get(component.type)
        item_id = domain.stable_id(money.month_start(period), "usage", resource.id, component.type)
        after = registration.usage_item(billed, component, usage.amount, year, month, start, item_id, before)
        if before is None:
            store.add_item(uow, after)
        elif after != before:
            store.save_item(uow, before, after)


# --- the monthly run -------------------------------------------------------------------------------
@dataclass
class RunReport:
    """What one pass over some customers did (a rerun reports zeros)."""

    customers: int = 0
    issued: int = 0
    invoices_made: int = 0
    items_made: int = 0
    skipped: list[str] = field(default_factory=list)

    def add(self, other: RunReport) -> None:
        self.customers += other.customers
        self.issued += other.issued
        self.invoices_made += other.invoices_made
        self.items_made += other.items_made
        self.skipped += other.skipped


def run_month(ctx: EventContext, year: int, month: int, customer_ids: Iterable[str]) -> RunReport:
    """The monthly run for these customers: earlier pending invoices issued, this month's made with
    the items of every billable resource. Safe to run again for the same month and customers."""
    report = RunReport()
    now = utcnow()
    offerings: dict[str, Offering | None] = {}
    for customer_id in customer_ids:
        report.add(_run_customer(ctx, customer_id, year, month, now, offerings))
    return report


def _run_customer(
    ctx: EventContext,
    customer_id: str,
    year: int,
    month: int,
    now: datetime,
    offerings: dict[str, Offering | None],
) -> RunReport:
    report = RunReport(customers=1)
    customer = customer_store.get(customer_id)
    if customer is None:
        report.skipped.append(customer_id)
        return report
    report.issued = _issue_earlier(ctx, customer_id, year, month, now)
    existing = store.header_in(customer_id, year, month)
    if existing is None:
        ensure_invoice(customer_id, year, month, now)
        report.invoices_made = 1
    report.items_made = _carry(customer_id, year, month, offerings)
    return report


def _issue_earlier(ctx: EventContext, customer_id: str, year: int, month: int, now: datetime) -> int:
    """Issue (→ created, dated today, with invoice_created) every pending invoice of an earlier month."""
    before = money.period_key(*money.previous_month(year, month))
    issued = 0
    for header in store.headers_of_customer(customer_id, high=before):
        if header.state is not InvoiceState.PENDING:
            continue
        current = store.header_in(customer_id, header.year, header.month)  # consistent
        if current is None or current.state is not InvoiceState.PENDING:
            continue
        uow = unit_of_work()
        issued_invoice = store.save_state(uow, current, domain.set_created(current, now.date()))
        uow.record(domain.invoice_event(issued_invoice, domain.INVOICE_CREATED, ctx))
        try:
            uow.commit()
        except Conflict:
            continue  # issued meanwhile by another pass
        issued += 1
    return issued


def _offering(offerings: dict[str, Offering | None], offering_id: str) -> Offering | None:
    if offering_id not in offerings:
        from chalicelib.services import offerings as catalog

        try:
            offerings[offering_id] = catalog.get_offering(offering_id)
        except NotFound:
            offerings[offering_id] = None
    return offerings[offering_id]


def _carry(customer_id: str, year: int, month: int, offerings: dict[str, Offering | None]) -> int:
    """Open the month's items of every billable resource of the customer that has none yet."""
    start = money.month_start(datetime(year, month, 1))
    have = {(i.resource_id, i.component_type, i.kind) for i in store.items_of(customer_id, year, month)}
    wanted: list[InvoiceItem] = []
    for resource in resource_store.read([Source.consumer(customer_id)], bounded=False):
        if resource.state in UNBILLED_STATES:
            continue
        offering = _offering(offerings, resource.offering_id)
        billed = _billed(resource, offering, resource.plan_id, dict(resource.limits)) if offering else None
        if billed is None:
            continue

        def carried_id(component_type: str, kind: str, r: str = resource.id) -> str:
            return domain.stable_id(start, "carry", r, component_type, kind)

        for new in registration.open_items(billed, start, Reason.CARRY, carried_id, year=year, month=month):
            if (new.resource_id, new.component_type, new.kind) not in have:
                wanted.append(new)
    return _write_new(wanted)


def _write_new(items: list[InvoiceItem]) -> int:
    """Write items that are not there yet, CHUNK per transaction; a chunk that meets one already
    written (a rerun) is written item by item instead."""
    made = 0
    for first in range(0, len(items), CHUNK):
        chunk = items[first : first + CHUNK]
        uow = unit_of_work()
        for item in chunk:
            store.add_item(uow, item)
        try:
            uow.commit()
            made += len(chunk)
        except Conflict:
            made += sum(1 for item in chunk if store.put_new_item(item))
    return made


# --- estimates ---------------------------------------------------------------------------------------
def month_estimate(customer_id: str, project_id: str = "", now: datetime | None = None) -> dict[str, Decimal]:
    """This month's cost of a customer (or one of its projects) so far and in all: one Query (the
    month's invoice with its items; a project's are picked from them)."""
    now = now or utcnow()
    invoice = store.get_in(customer_id, now.year, now.month, consistent=False)
    if invoice is None:
        return estimates.estimate([], Decimal(0), now)
    items = [i for i in invoice.items if not project_id or i.project_id == project_id]
    return estimates.estimate(items, invoice.tax_percent, now)


def visible_estimate(
    principal: Principal, customer_id: str, project_id: str = "", now: datetime | None = None
) -> dict[str, Decimal] | None:
    """`month_estimate` for a retrieve, or None (the field is left out) when the caller may not
    see that spend: a customer's is for those who see its invoices (staff, support, its
    customer-level roles), not for a project-only member; a project's is for whoever sees the
    project (Waldur's ProjectSerializer shows it to the project's members)."""
    rights = access_service.access(principal)
    if project_id:
        allowed = rights.sees_project(project_id, customer_id)
    else:
        allowed = rights.sees_whole_customer(customer_id)
    return month_estimate(customer_id, project_id, now) if allowed else None


def log_run(report: RunReport, year: int, month: int) -> None:
    observability.logger().info(
        "monthly invoices",
        extra={
            "period": money.period_key(year, month),
            "customers": report.customers,
            "issued": report.issued,
            "invoices_made": report.invoices_made,
            "items_made": report.items_made,
        },
    )
