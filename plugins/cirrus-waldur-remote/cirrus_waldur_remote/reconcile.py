"""Invoices reconciled: what the remote Waldur bills the federation (its invoice items of the month
for the remote customer's resources of the mirrored offering) against what Cirrus bills its own
consumers for the local resources (their invoice items of the month), resource by resource.

Waldur's marketplace_remote copies the remote invoice items into the local invoice
(`ResourceInvoicePullTask`); Cirrus prices its own resources from the local plans instead, and this
reports where the two disagree: a resource billed at one side only, or billed differently by more
than `tolerance`.

  python -m cirrus_waldur_remote reconcile OFFERING_UUID YYYY-MM [--tolerance 0.01]

reads the offering (and its secrets) from the table the settings name (CIRRUS_TABLE_NAME, AWS
credentials or CIRRUS_AWS_ENDPOINT_URL for the local stack), prints one line per difference and
exits 1 if there is any.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from cirrus_waldur_remote.backend import RemoteWaldurBackend, _hex

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Difference:
    backend_id: str  # the remote resource's uuid (the local resource's backend_id)
    local: Decimal | None  # None: not billed locally
    remote: Decimal | None  # None: not billed at the remote
    name: str = ""

    @property
    def amount(self) -> Decimal:
        return (self.local or Decimal(0)) - (self.remote or Decimal(0))

    def __str__(self) -> str:
        local = "-" if self.local is None else f"{self.local:.2f}"
        remote = "-" if self.remote is None else f"{self.remote:.2f}"
        where = f"{self.backend_id} {self.name}".strip()
        return f"{where}: local {local}, remote {remote}, difference {self.amount:+.2f}"


@dataclass(frozen=True)
class Reconciliation:
    year: int
    month: int
    local_total: Decimal
    remote_total: Decimal
    differences: tuple[Difference, ...]

    @property
    def balanced(self) -> bool:
        return not self.differences


def remote_costs(backend: RemoteWaldurBackend, year: int, month: int) -> dict[str, Decimal]:
    """The remote's invoice items of the month for the remote customer and offering, summed per
    remote resource uuid."""
    from waldur_api_client.api.invoice_items import invoice_items_list

    items = backend._all(
        "list its invoice items",
        invoice_items_list,
        customer_uuid=UUID(backend.remote.customer_uuid),
        offering_uuid=UUID(backend.remote.offering_uuid),
        year=year,
        month=month,
    )
    totals: dict[str, Decimal] = {}
    for item in items:
        resource = _hex(item.get("resource_uuid") or "")
        if not resource:
            continue  # an item of no resource (a compensation, a support fee): not this offering's mirror
        totals[resource] = totals.get(resource, Decimal(0)) + _price(item)
    return totals


def _price(item: Mapping[str, Any]) -> Decimal:
    try:
        if item.get("price") is not None:
            return Decimal(str(item["price"]))
        return Decimal(str(item.get("unit_price") or 0)) * Decimal(str(item.get("quantity") or 0))
    except InvalidOperation:
        return Decimal(0)


def reconcile(
    local: Mapping[str, Decimal],
    remote: Mapping[str, Decimal],
    year: int,
    month: int,
    *,
    names: Mapping[str, str] | None = None,
    tolerance: Decimal = CENT,
) -> Reconciliation:
    """The differences between `local` and `remote` costs per remote resource uuid."""
    differences = []
    for backend_id in sorted(set(local) | set(remote)):
        mine, theirs = local.get(backend_id), remote.get(backend_id)
        if mine is None or theirs is None or abs(mine - theirs) > tolerance:
            differences.append(Difference(backend_id, mine, theirs, (names or {}).get(backend_id, "")))
    return Reconciliation(
        year,
        month,
        sum(local.values(), Decimal(0)),
        sum(remote.values(), Decimal(0)),
        tuple(differences),
    )


# --- Cirrus's side --------------------------------------------------------------------------------
def local_costs(offering: Any, year: int, month: int) -> tuple[dict[str, Decimal], dict[str, str]]:
    """(cost per backend_id, name per backend_id) of the offering's local resources in the month,
    from their invoice items (a resource not yet made at the remote has no backend_id: skipped)."""
    from chalicelib.services.ports import Source
    from chalicelib.store import invoices, resources

    costs: dict[str, Decimal] = {}
    names: dict[str, str] = {}
    for resource in resources.read([Source.provider(offering.customer_id, offering.id)], bounded=False):
        backend_id = _hex(resource.backend_id) if resource.backend_id else ""
        if not backend_id:
            continue
        items = invoices.items_of_resource(
            resource.customer_id, year, month, resource.project_id, resource.id
        )
        if items:
            costs[backend_id] = costs.get(backend_id, Decimal(0)) + sum((i.price for i in items), Decimal(0))
        names[backend_id] = resource.name
    return costs, names


def reconcile_offering(offering_id: str, year: int, month: int, tolerance: Decimal = CENT) -> Reconciliation:
    """Reconcile one local `Waldur.RemoteOffering` offering's month."""
    from chalicelib.providers import driver
    from chalicelib.store import offerings
    from cirrus_waldur_remote import TYPE

    offering = offerings.get(offering_id)
    if offering is None or offering.type != TYPE:
        raise ValueError(f"No {TYPE} offering {offering_id}.")
    backend = driver.backend_for(offering)
    if not isinstance(backend, RemoteWaldurBackend):
        raise ValueError(f"The offering {offering_id} is not run by the remote Waldur backend.")
    local, names = local_costs(offering, year, month)
    return reconcile(local, remote_costs(backend, year, month), year, month, names=names, tolerance=tolerance)


def report_lines(result: Reconciliation) -> Iterable[str]:
    yield (
        f"{result.year}-{result.month:02d}: local {result.local_total:.2f}, "
        f"remote {result.remote_total:.2f}, {len(result.differences)} difference(s)"
    )
    for difference in result.differences:
        yield f"  {difference}"
