"""Waldur collections of features Cirrus does not have, answered as Waldur answers them when there
is nothing to list: an empty page in Waldur's shape (`X-Result-Count: 0`, also on HEAD), after the
filters are checked as Waldur checks them (a malformed uuid or an unknown state is a 400).

HomePort asks for them on its pages: the sidebar counts checklists and pending project update
requests on every page (and an owner's pending team reviews), every organisation page reads the
organisation's credit first, the project dashboard lists the project's cost policies. Cirrus has no
credits (customer credits), no checklists, no remote offerings (whose project update requests these
are), no estimated-cost policies and no periodic team reviews: nothing of them is stored, so the
honest answer is an empty list, never a 404 (a missing route), which HomePort reads as "no
permission" and stops the page.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field, field_validator

from chalicelib.api.fields import DateTimeFilter, ReferenceFilter, UuidFilter, each_of, line_text
from chalicelib.api.rest import Call, Listed, ListQuery, ResponseModel, endpoint

bp = Blueprint(__name__)

REVIEW_STATES = ("draft", "pending", "approved", "rejected", "canceled")  # Waldur's ReviewMixin.States


def _nothing(call: Call) -> Listed:
    """An empty page (the page number is checked like any list's: page 2 of nothing is a 404)."""
    return Listed([], 0, call.query.page_request())


# --- customer credits (Waldur's invoices.CustomerCredit) ----------------------------------------------
class CustomerCreditOut(ResponseModel):
    """Waldur's CustomerCredit: a prepaid amount an organisation spends on chosen offerings."""

    omit_when_null = frozenset({"value", "minimal_consumption_logic"})

    uuid: str
    url: str
    customer: str
    customer_name: str
    customer_uuid: str
    customer_slug: str
    offerings: list[dict[str, Any]]
    minimal_consumption: float
    allocated_to_projects: float
    consumption_last_month: float
    withdrawable_balance: float
    value: str | None = None
    end_date: date | None = None
    minimal_consumption_logic: str | None = None


class CustomerCreditQuery(ListQuery):
    """Waldur's CustomerCreditFilter."""

    customer_uuid: UuidFilter | None = None
    customer_name: line_text(150) | None = None  # type: ignore[valid-type]
    customer_slug: line_text(150) | None = None  # type: ignore[valid-type]
    query: line_text(150) | None = None  # type: ignore[valid-type]

    ordering_fields = ("customer_name", "value", "end_date", "expected_consumption", "minimal_consumption")


@endpoint(
    bp,
    "/api/customer-credits",
    "GET",
    name="customer_credits_list",
    tag="customer-credits",
    query=CustomerCreditQuery,
    response=CustomerCreditOut,
    many=True,
    summary="Organisations' credits: always empty (Cirrus has no credits)",
)
def list_customer_credits(call: Call) -> Any:
    return _nothing(call)


# --- checklists (Waldur's marketplace_checklist) ------------------------------------------------------
class ChecklistOut(ResponseModel):
    """Waldur's ChecklistSerializer (the client has no model: the route predates its schema)."""

    uuid: str
    name: str
    description: str
    questions_count: int
    category_name: str
    category_uuid: str
    customer_roles: list[str]
    project_roles: list[str]


@endpoint(
    bp,
    "/api/marketplace-checklists",
    "GET",
    name="marketplace_checklists_list",
    tag="marketplace-checklists",
    query=ListQuery,
    response=ChecklistOut,
    many=True,
    summary="Checklists the caller may answer: always empty (Cirrus has no checklists)",
)
def list_checklists(call: Call) -> Any:
    return _nothing(call)


# --- project update requests (Waldur's marketplace_remote) -------------------------------------------
class ProjectUpdateRequestOut(ResponseModel):
    """Waldur's ProjectUpdateRequest: a remote provider's copy of a project asked to follow a rename."""

    omit_when_null = frozenset({"old_name", "new_name", "old_description", "new_description"})

    uuid: str
    state: str
    customer_name: str
    customer_uuid: str
    offering_name: str
    offering_uuid: str
    created: datetime
    reviewed_at: datetime | None = None
    reviewed_by_full_name: str
    reviewed_by_uuid: str
    review_comment: str | None = None
    old_name: str | None = None
    new_name: str | None = None
    old_description: str | None = None
    new_description: str | None = None
    old_end_date: date | None = None
    new_end_date: date | None = None
    old_oecd_fos_2007_label: str
    new_oecd_fos_2007_label: str


class ProjectUpdateRequestQuery(ListQuery):
    """Waldur's ProjectUpdateRequestFilter."""

    project_uuid: UuidFilter | None = None
    customer_uuid: UuidFilter | None = None
    offering_uuid: UuidFilter | None = None
    provider_uuid: UuidFilter | None = None
    state: list[str] = Field([], json_schema_extra=each_of(REVIEW_STATES))

    @field_validator("state")
    @classmethod
    def _known_states(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in REVIEW_STATES:
                raise ValueError(f"Select a valid choice. {value} is not one of the available choices.")
        return values


@endpoint(
    bp,
    "/api/marketplace-project-update-requests",
    "GET",
    name="marketplace_project_update_requests_list",
    tag="marketplace-project-update-requests",
    query=ProjectUpdateRequestQuery,
    response=ProjectUpdateRequestOut,
    many=True,
    summary="Remote projects' update requests: always empty (Cirrus has no remote offerings)",
)
def list_project_update_requests(call: Call) -> Any:
    return _nothing(call)


# --- estimated cost policies of projects (Waldur's policy app) ----------------------------------------
class ProjectCostPolicyOut(ResponseModel):
    """Waldur's ProjectEstimatedCostPolicy: an action taken when a project's estimate passes a limit."""

    omit_when_null = frozenset(
        {"uuid", "url", "scope", "scope_name", "scope_uuid", "actions", "created", "has_fired"}
        | {"limit_cost", "period", "period_name", "current_cost"}
    )

    uuid: str | None = None
    url: str | None = None
    scope: str | None = None
    scope_name: str | None = None
    scope_uuid: str | None = None
    actions: str | None = None
    created: datetime | None = None
    has_fired: bool | None = None
    limit_cost: int | None = None
    period: int | None = None
    period_name: str | None = None
    current_cost: str | None = None
    eta_date: date | None = None


class ProjectCostPolicyQuery(ListQuery):
    """Waldur's ProjectEstimatedCostPolicyFilter (with PolicyFilter's scope and resource)."""

    scope: ReferenceFilter | None = None
    scope_uuid: UuidFilter | None = None
    customer: ReferenceFilter | None = None
    customer_uuid: UuidFilter | None = None
    project: ReferenceFilter | None = None
    project_uuid: UuidFilter | None = None
    resource: ReferenceFilter | None = None
    resource_uuid: UuidFilter | None = None
    has_resource: bool | None = None
    query: line_text(150) | None = None  # type: ignore[valid-type]


@endpoint(
    bp,
    "/api/marketplace-project-estimated-cost-policies",
    "GET",
    name="marketplace_project_estimated_cost_policies_list",
    tag="marketplace-project-estimated-cost-policies",
    query=ProjectCostPolicyQuery,
    response=ProjectCostPolicyOut,
    many=True,
    summary="Projects' estimated-cost policies: always empty (Cirrus has no cost policies)",
)
def list_project_cost_policies(call: Call) -> Any:
    return _nothing(call)


# --- permission reviews (Waldur's structure.CustomerPermissionReview) ---------------------------------
class PermissionReviewOut(ResponseModel):
    """Waldur's CustomerPermissionReview: a periodic request to an owner to review the team."""

    url: str
    uuid: str
    reviewer_full_name: str | None = None
    reviewer_uuid: str | None = None
    is_pending: bool
    created: datetime
    closed: datetime | None = None
    customer_uuid: str
    customer_name: str


class PermissionReviewQuery(ListQuery):
    """Waldur's CustomerPermissionReviewFilter."""

    customer_uuid: UuidFilter | None = None
    reviewer_uuid: UuidFilter | None = None
    is_pending: bool | None = None
    closed: DateTimeFilter | None = None

    ordering_fields = ("created", "closed")


@endpoint(
    bp,
    "/api/customer-permissions-reviews",
    "GET",
    name="customer_permissions_reviews_list",
    tag="customer-permissions-reviews",
    query=PermissionReviewQuery,
    response=PermissionReviewOut,
    many=True,
    summary="Reviews of organisations' teams: always empty (Cirrus asks for no periodic reviews)",
)
def list_permission_reviews(call: Call) -> Any:
    return _nothing(call)
