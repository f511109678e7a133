"""What invoices, their items and resources contribute to the cost and limit series
(domain/analytics.py), and the arithmetic of the answers read from them.

Series (all platform-wide; staff and support read them):

- `costs#offering` — period `M#YYYY-MM` (the item's invoice month), field = offering id, label =
  its name as the item recorded it: the sum of the prices of that month's invoice items of the
  offering's resources. An item's price is Waldur's (`unit_price * quantity` rounded up to the
  cent, `InvoiceItem.price`). An item covers only the span its resource was billed (from `OK` to
  its termination, prorated), so the month's sum is what the offering's resources cost while they
  were active: `marketplace-stats/total_cost_of_active_resources_per_offering/` and
  `offering_costs_summary/` read it. Items of no offering (none yet in Cirrus) are left out.
- `costs#invoices` — period `M#YYYY-MM`, per customer with an invoice that month: field
  `price#<customer>` (the sum of its items' prices, from the items), `tax#<customer>` (the
  invoice's tax percent) and `invoice#<customer>` (1, labelled with the customer's name), both
  from the invoice. An invoice's price is the sum of its items' prices and its total
  `price * (1 + tax% / 100)` (domain/invoices.py), so `billing-total-cost/` adds up the month's
  totals from one Query. The tax is the invoice's, not an item's: hence three fields per customer
  (the series grows with the customers billed in a month, never with their resources).
- `costs#limits` — period `NOW`, field `<provider>.<offering>.<component type>`: the sum of the
  limits of the offering's resources now in state `OK`, counting only positive limits (Waldur's
  `resources_limits`, which reads `OK` resources only). A resource's limits move with its state
  and its limit changes, as every fact does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from chalicelib.domain.analytics import NOW, Add, Aggregate, month, series
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.invoices import Invoice, InvoiceItem
from chalicelib.domain.money import CENT, ZERO, quantize_price
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import ResourceState

COSTS_BY_OFFERING = series("costs", "offering")
INVOICES = series("costs", "invoices")
LIMITS = series("costs", "limits")

PRICE = "price#"
TAX = "tax#"
INVOICE = "invoice#"
LIMIT_SEP = "."  # between the ids and the component type of a limit's field (ids are hex)

MAX_MONTHS = 120  # the longest range of months one answer adds up (ten years)
BAD_MONTH = 'Value "{}" should be in valid format YYYY-MM'
MONTH_RANGE = "Month has to be from 1 to 12."
START_AFTER_END = "Start date must be earlier or equal to end date."
BOTH_NEEDED = "Both parameters must be specified."
TOO_LONG = f"The period is longer than {MAX_MONTHS} months: ask for a shorter one."


# --- facts -----------------------------------------------------------------------------------------
def _month_of(year: int, month_number: int) -> str:
    return month(date(year, month_number, 1))


def invoice_item_facts(item: InvoiceItem) -> list[Add]:
    """An invoice item's price, in its month: by offering and by customer."""
    period = _month_of(item.year, item.month)
    price = item.price
    adds = [Add(INVOICES, period, f"{PRICE}{item.customer_id}", price)]
    if item.offering_id:
        name = str(item.details.get("offering_name") or "")
        adds.append(Add(COSTS_BY_OFFERING, period, item.offering_id, price, label=name))
    return adds


def invoice_facts(invoice: Invoice) -> list[Add]:
    """That the customer has an invoice in its month (labelled with its name), and its tax."""
    period = _month_of(invoice.year, invoice.month)
    customer = invoice.customer_id
    return [
        Add(INVOICES, period, f"{INVOICE}{customer}", 1, label=invoice.customer_name),
        Add(INVOICES, period, f"{TAX}{customer}", invoice.tax_percent),
    ]


def limit_field(provider_id: str, offering_id: str, component: str) -> str:
    return LIMIT_SEP.join((provider_id, offering_id, component))


def resource_facts(resource: Resource) -> list[Add]:
    """An `OK` resource's positive limits, now, by offering and component."""
    if resource.state is not ResourceState.OK:
        return []
    return [
        Add(LIMITS, NOW, limit_field(resource.provider_id, resource.offering_id, name), int(value))
        for name, value in sorted(resource.limits.items())
        if isinstance(value, int) and value > 0
    ]


# --- periods ---------------------------------------------------------------------------------------
def _year_month(name: str, value: str) -> tuple[int, int]:
    """Waldur's YearMonthField: `YYYY-MM` (any whole numbers around one dash)."""
    try:
        year, month_number = (int(part) for part in value.split("-"))
    except ValueError:
        raise ValidationError.field(name, BAD_MONTH.format(value)) from None
    if not 0 < month_number < 13:
        raise ValidationError.field(name, MONTH_RANGE)
    if not 0 < year < 10000:
        raise ValidationError.field(name, BAD_MONTH.format(value))
    return year, month_number


def month_range(start: str | None, end: str | None, today: date) -> tuple[str, str]:
    """The periods of the first and last month asked (`start`, `end`: `YYYY-MM`, both or
    neither, as Waldur's DateRangeFilterSerializer); neither: the current month."""
    if start is None and end is None:
        return month(today), month(today)
    if start is None or end is None:
        raise ValidationError({"non_field_errors": [BOTH_NEEDED]})
    first, last = _year_month("start", start), _year_month("end", end)
    if first > last:
        raise ValidationError({"non_field_errors": [START_AFTER_END]})
    if (last[0] - first[0]) * 12 + last[1] - first[1] + 1 > MAX_MONTHS:
        raise ValidationError({"non_field_errors": [TOO_LONG]})
    return _month_of(*first), _month_of(*last)


# --- answers ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OfferingCost:
    offering_id: str
    offering_name: str
    cost: Decimal


def offering_costs(rows: Iterable[Aggregate]) -> list[OfferingCost]:
    """Each offering's cost over the months read, those that cost something, by name."""
    rows = list(rows)
    sums: dict[str, Decimal] = {}
    names: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r.period):
        sums[row.field] = sums.get(row.field, ZERO) + row.value
        if row.label:
            names[row.field] = row.label
    found = [OfferingCost(o, names.get(o, ""), cost) for o, cost in sums.items() if cost != 0]
    return sorted(found, key=lambda c: (c.offering_name, c.offering_id))


@dataclass(frozen=True)
class CostsSummary:
    total_cost: Decimal
    offering_count: int
    average_cost: Decimal


def summary(costs: Iterable[OfferingCost]) -> CostsSummary:
    """The total over the offerings, their number and the average per offering (to the cent,
    half-even, as DRF's DecimalField rounds)."""
    costs = list(costs)
    total = quantize_price(sum((c.cost for c in costs), ZERO))
    average = (total / len(costs)).quantize(CENT, rounding=ROUND_HALF_EVEN) if costs else ZERO
    return CostsSummary(total.quantize(CENT), len(costs), average.quantize(CENT))


@dataclass(frozen=True)
class CustomerMonth:
    customer_id: str
    name: str
    price: Decimal
    tax_percent: Decimal

    @property
    def total(self) -> Decimal:
        return self.price + self.price * self.tax_percent / 100


def customer_months(rows: Iterable[Aggregate]) -> list[CustomerMonth]:
    """The month's invoices, one per customer, from the fields of `costs#invoices`."""
    price: dict[str, Decimal] = {}
    tax: dict[str, Decimal] = {}
    names: dict[str, str] = {}
    for row in rows:
        for prefix, into in ((PRICE, price), (TAX, tax)):
            if row.field.startswith(prefix):
                key = row.field[len(prefix) :]
                into[key] = into.get(key, ZERO) + row.value
        if row.field.startswith(INVOICE):
            names[row.field[len(INVOICE) :]] = row.label
    customers = set(price) | set(names)
    return [
        CustomerMonth(c, names.get(c, ""), quantize_price(price.get(c, ZERO)), tax.get(c, ZERO))
        for c in sorted(customers)
    ]


def total_cost(
    invoices: Iterable[CustomerMonth], name: str = "", customer_id: str | None = None
) -> tuple[Decimal, Decimal]:
    """Waldur's TotalCustomerCostView: (total, price) of the month's invoices of the customers
    whose name contains `name` (case-insensitive), or of one customer."""
    wanted = name.casefold()
    chosen = [
        i
        for i in invoices
        if wanted in i.name.casefold() and (customer_id is None or i.customer_id == customer_id)
    ]
    return sum((i.total for i in chosen), ZERO), sum((i.price for i in chosen), ZERO)


@dataclass(frozen=True)
class ComponentLimit:
    provider_id: str
    offering_id: str
    name: str
    value: int


def limits(rows: Iterable[Aggregate]) -> list[ComponentLimit]:
    """The positive limit sums, by offering and component (fields `<provider>.<offering>.<type>`)."""
    out: list[ComponentLimit] = []
    for row in rows:
        parts = row.field.split(LIMIT_SEP, 2)
        if len(parts) == 3 and row.value > 0:
            out.append(ComponentLimit(parts[0], parts[1], parts[2], int(row.value)))
    return sorted(out, key=lambda c: (c.offering_id, c.name))


def country_of(offering_country: str, provider_country: Mapping[str, str], provider_id: str) -> str:
    """Waldur's `offering.country or offering.customer.country`."""
    return offering_country or provider_country.get(provider_id, "")
