"""Per-user usage (Waldur's `ComponentUserUsage`) and per-user usage limits
(`ComponentUserUsageLimit`).

A per-user usage is one user's share of a component usage (one resource, component and billing
period): the provider's agent reports it with `set_user_usage/` (or `set_user_usages/`, in bulk)
after the total (`set_usage/`). It is informational: billing reads the component usage's total
only, so a per-user usage never changes what is charged. One per component usage and username (a
new report for the same username replaces the amount, as Waldur's `update_or_create`).

A per-user usage limit caps what one offering user of a resource may use of a component (one per
resource, component and offering user). The consumer side sets it (RESOURCE.CONSUMPTION_LIMITATION);
the provider's agent reads it and applies it in its backend. A reported per-user usage naming an
offering user that has a limit must stay within it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from chalicelib.domain.errors import ValidationError

MODEL = "ComponentUserUsage"
LIMIT_MODEL = "ComponentUserUsageLimit"
USERNAME_LENGTH = 100  # Waldur's `username` CharField

LIMIT_EXCEEDED = "Usage limit exceeded. Usage: {usage}, limit: {limit}."
# What a second limit for the same resource, component and offering user is refused with (DRF's).
LIMIT_TAKEN = "The fields resource, component, user must make a unique set."
NOT_A_COMPONENT = "Object with uuid={component} does not exist."


@dataclass(frozen=True)
class UserUsageReport:
    """One line of a `set_user_usage(s)` request (already parsed)."""

    username: str
    amount: Decimal
    offering_user_id: str | None = None


@dataclass(frozen=True)
class ComponentUserUsage:
    id: str
    component_usage_id: str
    resource_id: str
    customer_id: str
    project_id: str
    offering_id: str
    provider_id: str
    component_type: str
    billing_period: date
    username: str
    amount: Decimal
    date: datetime  # the component usage's
    created: datetime
    modified: datetime
    offering_user_id: str | None = None
    description: str = ""
    backend_id: str = ""
    measured_unit: str = ""
    resource_name: str = ""
    offering_name: str = ""
    project_name: str = ""
    customer_name: str = ""
    version: int = 0


@dataclass(frozen=True)
class UserUsageLimit:
    id: str
    resource_id: str
    customer_id: str
    project_id: str
    offering_id: str
    provider_id: str
    component_id: str
    component_type: str
    offering_user_id: str
    limit: Decimal
    created: datetime
    modified: datetime
    username: str = ""  # the offering user's, where known (the `username` filter)
    resource_name: str = ""
    offering_name: str = ""
    project_name: str = ""
    version: int = 0


def check_within_limit(report: UserUsageReport, limits: dict[str, UserUsageLimit]) -> None:
    """A report naming an offering user must not exceed that user's limit for the component
    (`limits`: the component's limits of the resource, by offering user)."""
    if report.offering_user_id is None:
        return
    found = limits.get(report.offering_user_id)
    if found is not None and report.amount > found.limit:
        message = LIMIT_EXCEEDED.format(usage=report.amount, limit=found.limit)
        raise ValidationError({"non_field_errors": [message]})
