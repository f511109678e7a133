"""What orders, resources, projects and customers contribute to the order and organisation
statistics (`marketplace-stats/order_stats/`, `resource_provisioning_stats/`,
`project_creation_trend/`, `resource_creation_trend/`, `organization_project_count/`,
`organization_resource_count/`, `customer_member_count/`).

Every fact places itself by the object's own attributes (domain/analytics.py says why):

- Orders by the day they were created, in one series per scope (`orders#created`, and per
  customer, per provider and per customer and provider, for the `customer_uuid`/`provider_uuid`
  filters of `order_stats/`): fields `state#<state>` and `type#<type>` (counts, by the order's
  state now), `cost` and `costed` (the sum of the costs and how many orders have one), `revenue`
  (the cost of Create and Update orders). A day's total is the sum of its states.
- Creation orders for the provisioning statistics, by offering (field `<offering>#<metric>`, the
  label the offering's name and provider as the order names them, as JSON): while not final, in
  `orders#provisioning#now` (period NOW); once done or erred, by the minute and by the hour it ended
  (`orders#provisioning#minute`, `#hour`; periods `T#YYYY-MM-DDTHH:MM` and `T#YYYY-MM-DDTHH`), with
  its pending and provisioning seconds. Reading "the last N minutes" takes the minutes of the first
  partial hour and the whole hours after it: two Queries, exact to the minute.
- Projects (not removed) and resources by the month they were created (`orgs#projects#created`,
  `orgs#resources#created`), and now per customer (`orgs#projects`; `orgs#resources` for resources
  in OK, `orgs#active` for OK or Updating ones); customers now (`orgs#customers`: field = the
  customer, label its name and abbreviation as JSON; field `<customer>#users` its user count).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from chalicelib.domain.analytics import NOW, Add, Aggregate, day, month, series
from chalicelib.domain.customers import Customer
from chalicelib.domain.orders import Order
from chalicelib.domain.projects import Project
from chalicelib.domain.quotas import USER_COUNT
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import ORDER_FINAL, OrderState, OrderType, ResourceState

# --- series ---------------------------------------------------------------------------------------
ORDERS = series("orders", "created")
PROVISIONING_NOW = series("orders", "provisioning", "now")
PROVISIONING_MINUTE = series("orders", "provisioning", "minute")
PROVISIONING_HOUR = series("orders", "provisioning", "hour")
PROJECTS_CREATED = series("orgs", "projects", "created")
RESOURCES_CREATED = series("orgs", "resources", "created")
CUSTOMERS = series("orgs", "customers")
CUSTOMER_PROJECTS = series("orgs", "projects")
CUSTOMER_RESOURCES = series("orgs", "resources")
CUSTOMER_ACTIVE = series("orgs", "active")


def orders_series(customer_id: str | None = None, provider_id: str | None = None) -> str:
    """The series of orders by day created: all of them, a customer's, a provider's, or both."""
    if customer_id and provider_id:
        return series("orders", "created", "pair", customer_id, provider_id)
    if customer_id:
        return series("orders", "created", "customer", customer_id)
    if provider_id:
        return series("orders", "created", "provider", provider_id)
    return ORDERS


# --- fields ---------------------------------------------------------------------------------------
STATE = "state#"
TYPE = "type#"
COST = "cost"
COSTED = "costed"
REVENUE = "revenue"
REVENUE_TYPES = frozenset({OrderType.CREATE, OrderType.UPDATE})  # Waldur's revenue: create and update

IN_PROGRESS = "in_progress"
DONE = "done"
ERRED = "erred"
PENDING_SECONDS = "pending"
PROVISIONING_SECONDS = "provisioning"
USERS = "users"
SEP = "#"

TIME = "T#"  # a minute or an hour of the provisioning series


def minute_period(when: datetime) -> str:
    return f"{TIME}{when.strftime('%Y-%m-%dT%H:%M')}"


def hour_period(when: datetime) -> str:
    return f"{TIME}{when.strftime('%Y-%m-%dT%H')}"


def names(*parts: str) -> str:
    """A label holding several names (an offering's and its provider's; a customer's and its
    abbreviation)."""
    return json.dumps(list(parts))


def unnames(label: str, count: int) -> list[str]:
    try:
        parts = json.loads(label) if label else []
    except ValueError:
        parts = []
    parts = [str(p) for p in parts] if isinstance(parts, list) else []
    return (parts + [""] * count)[:count]


# --- orders ---------------------------------------------------------------------------------------
def _created_facts(order: Order) -> list[Add]:
    when = day(order.created)
    out: list[Add] = []
    for name in (
        ORDERS,
        orders_series(customer_id=order.customer_id),
        orders_series(provider_id=order.provider_id),
        orders_series(order.customer_id, order.provider_id),
    ):
        out.append(Add(name, when, STATE + order.state.value))
        out.append(Add(name, when, TYPE + order.type.value))
        if order.cost is not None:
            out.append(Add(name, when, COST, order.cost))
            out.append(Add(name, when, COSTED))
            if order.type in REVENUE_TYPES:
                out.append(Add(name, when, REVENUE, order.cost))
    return out


def executing_since(order: Order) -> datetime:
    """When the order went to `executing`: its provider's approval, else its consumer's, else its
    creation (Waldur's fallback when it has no approval event; Cirrus keeps no other time)."""
    return order.provider_reviewed_at or order.consumer_reviewed_at or order.created


def ended(order: Order) -> datetime:
    """When a done or erred order ended: its completion; an erred one's last change (its failure,
    Cirrus keeps no separate time of failure)."""
    if order.state is OrderState.DONE and order.completed_at is not None:
        return order.completed_at
    return order.modified


def _seconds(delta: timedelta) -> Decimal:
    return max(Decimal(0), Decimal(str(delta.total_seconds())))


def _provisioning_facts(order: Order) -> list[Add]:
    if order.type is not OrderType.CREATE:
        return []
    label = names(order.offering_name, order.provider_id, order.provider_name)
    field = f"{order.offering_id}{SEP}"
    if order.state not in ORDER_FINAL:
        return [Add(PROVISIONING_NOW, NOW, field + IN_PROGRESS, 1, label)]
    if order.state not in (OrderState.DONE, OrderState.ERRED):
        return []  # canceled and rejected orders never started provisioning
    start, end = executing_since(order), ended(order)
    outcome = DONE if order.state is OrderState.DONE else ERRED
    amounts: list[tuple[str, Decimal | int]] = [
        (outcome, 1),
        (PENDING_SECONDS, _seconds(start - order.created)),
        (PROVISIONING_SECONDS, _seconds(end - start)),
    ]
    return [
        Add(name, period, field + metric, amount, label)
        for name, period in ((PROVISIONING_MINUTE, minute_period(end)), (PROVISIONING_HOUR, hour_period(end)))
        for metric, amount in amounts
        if amount
    ]


def order_facts(order: Order) -> list[Add]:
    return _created_facts(order) + _provisioning_facts(order)


# --- projects, resources, customers ---------------------------------------------------------------
def project_facts(project: Project) -> list[Add]:
    if project.removed is not None:
        return []  # as Waldur's counts, which read only projects not removed
    return [
        Add(PROJECTS_CREATED, month(project.created), "count"),
        Add(CUSTOMER_PROJECTS, NOW, project.customer_id),
    ]


ACTIVE_STATES = frozenset({ResourceState.OK, ResourceState.UPDATING})


def resource_facts(resource: Resource) -> list[Add]:
    out = [Add(RESOURCES_CREATED, month(resource.created), "count")]
    if resource.state is ResourceState.OK:
        out.append(Add(CUSTOMER_RESOURCES, NOW, resource.customer_id))
    if resource.state in ACTIVE_STATES:
        out.append(Add(CUSTOMER_ACTIVE, NOW, resource.customer_id))
    return out


def customer_facts(customer: Customer) -> list[Add]:
    users = next((q.usage for q in customer.quotas if q.name == USER_COUNT), 0)
    out = [Add(CUSTOMERS, NOW, customer.id, 1, names(customer.name, customer.abbreviation))]
    if users:
        out.append(Add(CUSTOMERS, NOW, f"{customer.id}{SEP}{USERS}", users))
    return out


# --- reading them back ----------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderTotals:
    """Orders created on one day (or over a range): counts by state and type, cost and revenue."""

    by_state: dict[str, int]
    by_type: dict[str, int]
    cost: Decimal
    costed: int
    revenue: Decimal

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


def order_totals(fields: dict[str, Decimal]) -> OrderTotals:
    return OrderTotals(
        by_state={k[len(STATE) :]: int(v) for k, v in sorted(fields.items()) if k.startswith(STATE) and v},
        by_type={k[len(TYPE) :]: int(v) for k, v in sorted(fields.items()) if k.startswith(TYPE) and v},
        cost=fields.get(COST, Decimal(0)),
        costed=int(fields.get(COSTED, 0)),
        revenue=fields.get(REVENUE, Decimal(0)),
    )


PENDING_STATES = (OrderState.PENDING_CONSUMER, OrderState.PENDING_PROVIDER, OrderState.PENDING_PROJECT)


def summary_counts(by_state: dict[str, int]) -> dict[str, int]:
    """Waldur's summary: the pending states together, then each other state."""
    return {
        "pending": sum(by_state.get(s.value, 0) for s in PENDING_STATES),
        **{
            s.value: by_state.get(s.value, 0)
            for s in (
                OrderState.EXECUTING,
                OrderState.DONE,
                OrderState.ERRED,
                OrderState.CANCELED,
                OrderState.REJECTED,
            )
        },
    }


@dataclass
class Provisioning:
    """One offering's creation orders: in progress now, and those that ended in a window."""

    offering_id: str
    offering_name: str = ""
    provider_id: str = ""
    provider_name: str = ""
    in_progress: int = 0
    done: int = 0
    erred: int = 0
    pending_seconds: Decimal = Decimal(0)
    provisioning_seconds: Decimal = Decimal(0)

    @property
    def finished(self) -> int:
        return self.done + self.erred

    @property
    def success_rate(self) -> float:
        return self.done / self.finished if self.finished else 0.0

    @property
    def avg_pending(self) -> float:
        return float(self.pending_seconds / self.finished) if self.finished else 0.0

    @property
    def avg_provisioning(self) -> float:
        return float(self.provisioning_seconds / self.finished) if self.finished else 0.0


_METRICS = {
    IN_PROGRESS: "in_progress",
    DONE: "done",
    ERRED: "erred",
    PENDING_SECONDS: "pending_seconds",
    PROVISIONING_SECONDS: "provisioning_seconds",
}


def provisioning(rows: Sequence[Aggregate]) -> list[Provisioning]:
    """Per offering, from the rows of the provisioning series read (NOW and a window), in the
    order the offerings first appear."""
    out: dict[str, Provisioning] = {}
    for row in rows:
        offering_id, _, metric = row.field.rpartition(SEP)
        attribute = _METRICS.get(metric)
        if not offering_id or attribute is None or not row.value:
            continue
        entry = out.setdefault(offering_id, Provisioning(offering_id))
        if row.label:
            entry.offering_name, entry.provider_id, entry.provider_name = unnames(row.label, 3)
        current = getattr(entry, attribute)
        setattr(entry, attribute, current + (row.value if isinstance(current, Decimal) else int(row.value)))
    return list(out.values())


def window(now: datetime, minutes: int) -> tuple[tuple[str, str], tuple[str, str] | None]:
    """The periods that cover the last `minutes` up to `now`: minutes of the hour the window
    starts in (from its first minute), and the whole hours after it up to now's (None when the
    window starts in now's hour)."""
    start = now - timedelta(minutes=minutes)
    if hour_period(start) == hour_period(now):
        return (minute_period(start), minute_period(now)), None
    first_minutes = (minute_period(start), f"{hour_period(start)}:59")
    next_hour = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return first_minutes, (hour_period(next_hour), hour_period(now))
