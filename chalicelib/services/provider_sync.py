"""What the platform learns from a cloud backend (`providers/cloud.py`) outside of orders: the
scheduled pull that finds drift, and usage collection.

- `pull_offering`: the offering's resources that are not Terminated (one Query of the provider's
  resource index, narrowed to the offering: its cost grows with the offering's resources, not with
  the table), compared with what the backend has (`list()` once; `get()` only to confirm one the
  list does not show, or for each resource if the backend cannot list). A resource gone at the
  provider becomes Erred with a message saying so; one the provider reports Erred, Erred with the
  provider's words; one Erred by an earlier pull that the provider has OK again, OK; changed
  backend metadata is recorded. Resources with an order in progress, or never made at the provider
  (no backend_id), are left to their orders. Nothing changed: nothing written.
- `collect_offering_usage`: for types that collect usage, each resource's `usage(backend_id,
  month)` recorded through the usage service (the one the site agent's reports use), `usage`
  components only; the same amounts again write nothing.

Every change goes through the resource and usage services (their checks, their events) as the
system actor `SYSTEM`, a staff principal whose events carry no user (a pull is nobody's action, as
Waldur's scheduled tasks). A backend's failure is logged and ends that offering's pull only.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from chalicelib import observability
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import DomainError
from chalicelib.domain.resources import Resource
from chalicelib.domain.usages import REPORT_STATES, UsageReport, billing_period
from chalicelib.domain.vocabulary import BillingType, Offering, OfferingState, ResourceState
from chalicelib.providers import registry
from chalicelib.providers.cloud import CloudBackend, CloudPlugin, RemoteResource, RemoteState
from chalicelib.services import resources as resource_service
from chalicelib.services import usages as usage_service
from chalicelib.services.ports import Source
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import resources as resource_store
from chalicelib.services.ports import usages as usage_store

# Marks an Erred state the pull set (as the resource's error_traceback), so that only those are
# lifted again when the provider has the resource OK: an order's failure is not the pull's to undo.
PULL_MARK = "Found by the scheduled pull of the provider's state."
GONE = "The {kind} {backend_id} no longer exists at the provider (found missing by the scheduled pull)."
ERRED_AT_PROVIDER = "The provider reports the {kind} {backend_id} as erred: {error}"
ERRED_NO_REASON = "The provider reports the {kind} {backend_id} as erred."
# States the pull compares; the others belong to an order in progress (or are final).
PULLED_STATES = frozenset({ResourceState.OK, ResourceState.ERRED})
# Offerings whose resources are pulled: every one that may hold resources (a Draft holds none).
PULLED_OFFERINGS = frozenset({OfferingState.ACTIVE, OfferingState.PAUSED, OfferingState.ARCHIVED})

SYSTEM = Principal(user_id="", username="", full_name="Cirrus", is_staff=True)

# Builds an offering's backend, secrets resolved: `workflows.cloud_driver.backend_for`, passed in by the
# callers (the workflows, the API), so that the services reach no AWS code themselves.
BackendOf = Callable[[Offering], CloudBackend]


@dataclass(frozen=True)
class SystemContext(EventContext):
    """The system actor's context: passes the provider checks (staff), and its events name no user."""

    def as_event_fields(self) -> dict[str, str]:
        return {}


def system_context(correlation_id: str | None = None) -> EventContext:
    return SystemContext(principal=SYSTEM, correlation_id=correlation_id)


@dataclass
class PullReport:
    offering_id: str
    erred: int = 0
    recovered: int = 0
    metadata: int = 0
    unchanged: int = 0
    skipped: int = 0  # an order in progress, or no backend_id
    failed: str = ""  # why the backend could not be asked ("" if it could)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- which offerings and resources ----------------------------------------------------------------
def plugin(offering: Offering) -> CloudPlugin | None:
    """The offering type's cloud backend plugin (None: the type is not run by one)."""
    found = registry.get_type(offering.type)
    cloud = found.cloud if found is not None else None
    return cloud if isinstance(cloud, CloudPlugin) else None


def cloud_offerings(collecting_usage: bool = False) -> list[Offering]:
    """The offerings of cloud types that may hold resources (the fan-out's list: offerings are few,
    read once a run through the catalog's list of every offering)."""
    found = []
    for offering in offering_store.read_all():
        cloud = plugin(offering)
        if cloud is None or offering.state not in PULLED_OFFERINGS:
            continue
        if collecting_usage and not cloud.collects_usage:
            continue
        found.append(offering)
    return found


def live_resources(offering: Offering) -> list[Resource]:
    """The offering's resources that are not Terminated: one Query of the provider's resource
    index narrowed to the offering (paged as it grows)."""
    rows = resource_store.read([Source.provider(offering.customer_id, offering.id)], bounded=False)
    return [r for r in rows if r.state is not ResourceState.TERMINATED]


def _watched(resource: Resource) -> bool:
    return bool(resource.backend_id) and resource.state in PULLED_STATES and not resource.order_in_progress_id


def _kind(resource: Resource) -> str:
    """What to call the resource in a message: the backend's word (`instance`, ...) if its metadata
    names one, else `resource`."""
    kind = resource.backend_metadata.get("type") if resource.backend_metadata else None
    return kind if isinstance(kind, str) and 0 < len(kind) <= 40 else "resource"


# --- the pull -------------------------------------------------------------------------------------
def remote_view(backend: CloudBackend, backend_ids: Iterable[str]) -> dict[str, RemoteResource | None]:
    """What the provider has for each of `backend_ids`: `list()` once, `get()` for those it does
    not show (a list may leave some out, e.g. another kind's; absence is confirmed before it counts)
    or for all of them when the backend cannot list."""
    wanted = list(dict.fromkeys(backend_ids))
    try:
        listed = {r.backend_id: r for r in backend.list()}
    except NotImplementedError:
        listed = {}
    return {backend_id: listed.get(backend_id) or backend.get(backend_id) for backend_id in wanted}


def pull_offering(offering_id: str, backend_of: BackendOf, ctx: EventContext | None = None) -> PullReport:
    """Reconcile the offering's resources with the provider (see the module's docstring)."""
    report = PullReport(offering_id)
    offering = offering_store.get(offering_id)
    if offering is None or plugin(offering) is None:
        return report
    resources = live_resources(offering)
    watched = [r for r in resources if _watched(r)]
    report.skipped = len(resources) - len(watched)
    if not watched:
        return report  # nothing to compare: the backend is not even built
    ctx = ctx if isinstance(ctx, SystemContext) else system_context(ctx.correlation_id if ctx else None)
    try:
        remote = remote_view(backend_of(offering), (r.backend_id for r in watched))
    except Exception as exc:  # one cloud's outage must not stop the others' pulls
        report.failed = str(exc) or type(exc).__name__
        observability.logger().warning(
            "provider pull failed", extra={"offering_uuid": offering.id, "cause": report.failed}
        )
        return report
    for resource in watched:
        try:
            _reconcile(ctx, resource, remote.get(resource.backend_id), report)
        except DomainError as exc:  # e.g. changed meanwhile (a Conflict): the next pull sees it again
            report.skipped += 1
            observability.logger().info(
                "provider pull left a resource", extra={"resource_uuid": resource.id, "cause": str(exc)}
            )
    observability.logger().info("provider pull", extra=report.as_dict())
    return report


def _gone(remote: RemoteResource | None) -> bool:
    return remote is None or remote.state is RemoteState.TERMINATED


@dataclass(frozen=True)
class Drift:
    """What the pull changes on one resource (nothing: all empty)."""

    metadata: Mapping[str, Any] | None = None
    erred: str = ""  # the message to set it Erred with
    recovered: bool = False

    def __bool__(self) -> bool:
        return self.metadata is not None or bool(self.erred) or self.recovered


def drift(resource: Resource, remote: RemoteResource | None) -> Drift:
    """What the pull would change on `resource`, given what the provider has (None: nothing there)."""
    kind, backend_id = _kind(resource), resource.backend_id
    metadata = None
    if remote is not None and not _gone(remote) and remote.metadata:
        metadata = remote.metadata if dict(remote.metadata) != dict(resource.backend_metadata) else None
    if _gone(remote):
        message = GONE.format(kind=kind, backend_id=backend_id)
    elif remote is not None and remote.state is RemoteState.ERRED:
        template = ERRED_AT_PROVIDER if remote.error else ERRED_NO_REASON
        message = template.format(kind=kind, backend_id=backend_id, error=remote.error[:500])
    else:
        message = ""
    if message and resource.state is ResourceState.ERRED and resource.error_message == message:
        message = ""  # already says so
    erred_by_pull = resource.state is ResourceState.ERRED and resource.error_traceback == PULL_MARK
    recovered = remote is not None and remote.state is RemoteState.OK and erred_by_pull
    return Drift(metadata, message, recovered)


def _reconcile(
    ctx: EventContext, resource: Resource, remote: RemoteResource | None, report: PullReport
) -> None:
    if not drift(resource, remote):
        report.unchanged += 1
        return
    # Read it again before changing it: an order may have started since the listing.
    fresh = resource_store.load(resource.customer_id, resource.project_id, resource.id)
    if fresh is None or not _watched(fresh):
        report.skipped += 1
        return
    change = drift(fresh, remote)
    if change.metadata is not None:
        resource_service.set_backend_metadata(ctx, fresh.id, change.metadata)
        report.metadata += 1
    if change.erred:
        resource_service.set_as_erred(ctx, fresh.id, change.erred, PULL_MARK)
        report.erred += 1
    elif change.recovered:
        resource_service.set_as_ok(ctx, fresh.id)
        report.recovered += 1
    elif change.metadata is None:
        report.unchanged += 1


# --- usage ----------------------------------------------------------------------------------------
def _month_end(month: date) -> datetime:
    last = calendar.monthrange(month.year, month.month)[1]
    return datetime(month.year, month.month, last, 23, 59, 59, tzinfo=UTC)


def _reported_at(month: date, now: datetime) -> datetime:
    """When a report of `month` is dated: now for the current month, its last second for an earlier
    one (the usage service files it under the month it is dated in)."""
    return now if billing_period(now.date()) == month else min(now, _month_end(month))


def _unchanged(resource: Resource, month: date, amounts: Mapping[str, Decimal]) -> bool:
    stored = usage_store.of_resource(resource.customer_id, resource.project_id, resource.id)
    have = {u.component_type: u.amount for u in stored if u.billing_period == month}
    return all(have.get(name) == amount for name, amount in amounts.items())


def collect_offering_usage(
    offering_id: str, backend_of: BackendOf, month: date | None = None, ctx: EventContext | None = None
) -> dict[str, int]:
    """Record what the provider reports as used in `month` (default: this one) by each resource
    of the offering, for its `usage` components. Returns counts (reported, unchanged, failed)."""
    counts = {"reported": 0, "unchanged": 0, "failed": 0}
    offering = offering_store.get(offering_id)
    cloud = plugin(offering) if offering is not None else None
    if offering is None or cloud is None or not cloud.collects_usage:
        return counts
    metered = {c.type for c in offering.components if c.billing_type is BillingType.USAGE}
    resources = [r for r in live_resources(offering) if r.backend_id and r.state in REPORT_STATES]
    if not metered or not resources:
        return counts
    now = utcnow()
    month = billing_period(month or now.date())
    ctx = system_context(ctx.correlation_id if ctx else None)
    try:
        backend = backend_of(offering)
    except Exception as exc:
        observability.logger().warning(
            "usage collection failed", extra={"offering_uuid": offering.id, "cause": str(exc)}
        )
        counts["failed"] = len(resources)
        return counts
    for resource in resources:
        try:
            reported = backend.usage(resource.backend_id, month)
            amounts = {name: Decimal(str(v)) for name, v in reported.items() if name in metered}
            if not amounts or _unchanged(resource, month, amounts):
                counts["unchanged"] += 1
                continue
            lines = [UsageReport(type=name, amount=amount) for name, amount in sorted(amounts.items())]
            usage_service.set_usage(ctx, lines, resource=resource.id, when=_reported_at(month, now))
            counts["reported"] += 1
        except Exception as exc:  # one resource's failure must not lose the others' usage
            counts["failed"] += 1
            observability.logger().warning(
                "usage collection failed",
                extra={"offering_uuid": offering.id, "resource_uuid": resource.id, "cause": str(exc)},
            )
    return counts
