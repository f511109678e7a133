"""`/api/marketplace-resources/` (the consumer's view: what either side sees) and
`/api/marketplace-provider-resources/` (the provider's view). No POST or DELETE: resources come and
go by orders. `terminate/`, `update_limits/` and `switch_plan/` place an order and answer
`{"order_uuid"}`; the provider's agent reports with `set_backend_id/`, `set_limits/`,
`set_backend_metadata/`, `set_as_erred/`, `set_as_ok/` and `submit_report/`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field, field_validator

from chalicelib.api import marketplace_catalog as wire
from chalicelib.api import marketplace_offerings as offerings_api
from chalicelib.api import marketplace_orders as orders_api
from chalicelib.api.fields import (
    Amounts,
    Attributes,
    BoundedJson,
    IsoDate,
    Slug,
    UuidFilter,
    UuidFilters,
    changes,
    each_of,
    free_text,
    name_text,
    partial,
    patch_changes,
    stored_text,
)
from chalicelib.api.marketplace_catalog import OfferingOut
from chalicelib.api.marketplace_orders import OrderOut, offering_url, plan_url, uuid_filter
from chalicelib.api.rest import (
    BodyModel,
    Call,
    FieldsQuery,
    ListQuery,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import bounds
from chalicelib.domain import resources as domain
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import (
    RESOURCE_ORDER_ACTIONS,
    BillingType,
    LimitPeriod,
    Offering,
    ResourceState,
)
from chalicelib.services import market_queries as lists
from chalicelib.services import resource_views
from chalicelib.services import resources as service
from chalicelib.services.resource_views import ResourceView

bp = Blueprint(__name__)
END_DATE_SET = "End date has been set."
TAG = "marketplace-resources"
CONSUMER = "marketplace-resources"
PROVIDER = "marketplace-provider-resources"
MODEL = domain.MODEL
_STATES = frozenset(s.value for s in ResourceState)


class TerminateIn(BodyModel):
    attributes: Attributes = Field(default_factory=dict)


class LimitsIn(BodyModel):
    limits: Amounts


class PlanIn(BodyModel):
    plan: str = Field(min_length=1, max_length=2000)


class BackendIdIn(BodyModel):
    backend_id: str = Field(max_length=255)


class BackendMetadataIn(BodyModel):
    backend_metadata: Annotated[dict[str, Any], BoundedJson(bounds.BACKEND_METADATA)]


class ErredIn(BodyModel):
    error_message: stored_text(10_000, bounds.ERROR_MESSAGE_BYTES) = ""  # type: ignore[valid-type]
    error_traceback: stored_text(100_000, bounds.ERROR_TRACEBACK_BYTES) = ""  # type: ignore[valid-type]


class ReportSectionIn(BodyModel):
    """Waldur's ReportSectionSerializer; a part left out is blank, as Cirrus always took it."""

    header: str = ""
    body: str = ""


class ReportIn(BodyModel):
    """Waldur's ResourceReportSerializer: at least one section."""

    report: Annotated[list[ReportSectionIn], BoundedJson(bounds.REPORT), Field(min_length=1)]


class ResourceUpdateIn(BodyModel):
    name: name_text(150)  # type: ignore[valid-type]
    description: free_text(2000) = ""  # type: ignore[valid-type]
    end_date: IsoDate | None = None


ResourceUpdatePatch = partial(ResourceUpdateIn, "ResourceUpdatePatch", nullable=frozenset({"end_date"}))


class ResourceUpdateOut(ResponseModel):
    name: str
    description: str
    end_date: date | None = None


class EndDateIn(BodyModel):
    end_date: IsoDate | None = None


class SlugIn(BodyModel):
    slug: Slug


class OptionsIn(BodyModel):
    options: Annotated[dict[str, Any] | None, BoundedJson(bounds.OPTIONS)] = None


class OrderUuidOut(ResponseModel):
    order_uuid: str


class StatusOut(ResponseModel):
    status: str


class ReportSectionOut(ResponseModel):
    header: str
    body: str


# What Waldur's schema types as never null among the joined fields: left out when there is nothing
# to join (an offering, category or project gone, a category without an icon, no limit components).
_JOINED_NEVER_NULL = frozenset(
    {
        "offering_description",
        "offering_shared",
        "offering_billable",
        "offering_slug",
        "category_title",
        "category_uuid",
        "category_icon",
        "project_description",
        "limit_usage",
    }
)


class ResourceOut(ResponseModel):
    """Waldur's Resource (what Cirrus knows of it)."""

    omit_when_null = frozenset(
        {"customer_slug", "last_sync", "plan", "project_slug", "slug"} | _JOINED_NEVER_NULL
    )

    url: str
    uuid: str
    name: str
    description: str
    created: datetime
    modified: datetime
    state: str
    offering: str
    offering_uuid: str
    offering_name: str
    offering_type: str
    offering_plugin_options: dict[str, Any]
    provider_uuid: str
    provider_name: str
    plan: str | None = None
    plan_uuid: str | None = None
    plan_name: str | None = None
    plan_unit: str | None = None
    attributes: dict[str, Any]
    limits: dict[str, int]
    current_usages: dict[str, Any]
    backend_id: str
    backend_metadata: dict[str, Any]
    report: list[ReportSectionOut]
    resource_uuid: str | None = None
    resource_type: str | None = None
    project: str
    project_uuid: str
    project_name: str
    customer_uuid: str
    customer_name: str
    end_date: date | None = None
    error_message: str
    error_traceback: str
    username: str | None = None
    can_terminate: bool
    available_actions: list[str]
    is_usage_based: bool
    is_limit_based: bool
    # Absent on a resource made before slugs, until the ops backfill (`python -m chalicelib.ops`).
    slug: str | None = None
    project_slug: str | None = None
    customer_slug: str | None = None
    last_sync: datetime | None = None
    # Waldur renders `scope` null for a resource no backend model stands behind (all of Cirrus's);
    # HomePort tells such a resource by `scope === null` (its actions menu, its details page).
    scope: str | None = None
    effective_id: str = ""
    # From the offering, its category and the project (services/resource_views.py), as they are now.
    offering_description: str | None = None
    offering_shared: bool | None = None
    offering_billable: bool | None = None
    offering_slug: str | None = None
    offering_customer_uuid: str
    category_title: str | None = None
    category_uuid: str | None = None
    category_icon: str | None = None
    plan_description: str | None = None
    project_description: str | None = None
    project_end_date: date | None = None
    limit_usage: dict[str, Any] | None = None
    downscaled: bool = False
    restrict_member_access: bool = False
    paused: bool = False
    endpoints: list[Any] = Field(default_factory=list)
    options: dict[str, Any] | None = None


class ResourceDetailOut(ResourceOut):
    """One resource: Waldur's retrieve adds the order changing it now and the one that made it."""

    order_in_progress: OrderOut | None = None
    creation_order: OrderOut | None = None


class ResourceQuery(ListQuery):
    state: list[str] = Field([], json_schema_extra=each_of(_STATES))
    project_uuid: UuidFilter | None = None
    customer_uuid: UuidFilter | None = None
    offering_uuid: UuidFilters = []
    provider_uuid: UuidFilter | None = None
    plan_uuid: UuidFilter | None = None
    name: str | None = None
    name_exact: str | None = None
    backend_id: str | None = None
    offering_type: str | None = None
    query: str | None = None
    slug: str | None = None
    category_uuid: UuidFilter | None = None

    ordering_fields = tuple(lists.RESOURCE_SORT)

    @field_validator("state")
    @classmethod
    def _known_states(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in _STATES:
                raise ValueError(f"Select a valid choice. {value} is not one of the available choices.")
        return values


class PlanPeriodOut(ResponseModel):
    uuid: str
    plan_name: str
    plan_uuid: str
    start: datetime
    end: datetime | None = None
    components: list[dict[str, Any]]


class TeamMemberOut(ResponseModel):
    """Waldur's ProjectUser."""

    url: str
    uuid: str
    username: str
    full_name: str
    email: str
    role: str
    expiration_time: datetime | None = None
    offering_user_username: str | None = None
    offering_user_state: str | None = None


def _available_actions(resource: Resource) -> list[str]:
    return sorted(a for a, states in RESOURCE_ORDER_ACTIONS.items() if resource.state in states)


def _limit_usage(resource: Resource, offering: Offering) -> dict[str, Any] | None:
    """Waldur's `limit_usage`: per limit component billed monthly (or without a period), its usage
    so far; None unless the resource has a plan and its offering limit components. (Waldur sums the
    usages of other periods; Cirrus leaves those out for now.)"""
    limited = [c for c in offering.components if c.billing_type is BillingType.LIMIT]
    if not resource.plan_id or not limited:
        return None
    monthly = (None, LimitPeriod.MONTH)
    return {c.type: resource.current_usages.get(c.type) for c in limited if c.limit_period in monthly}


def _joined(view: ResourceView) -> dict[str, Any]:
    """The fields Waldur's serializer reads through the offering, category, plan and project."""
    data: dict[str, Any] = {}
    resource, offering, category, project = view.resource, view.offering, view.category, view.project
    if offering is not None:
        plan = offering.plan(resource.plan_id) if resource.plan_id else None
        data.update(
            offering_description=offering.description,
            offering_shared=offering.shared,
            offering_billable=offering.billable,
            offering_slug=wire.offering_slug(offering),
            plan_description=plan.description if plan else None,
            limit_usage=_limit_usage(resource, offering),
        )
    if category is not None:
        data.update(category_title=category.title, category_uuid=category.id, category_icon=category.icon)
    if project is not None:
        data.update(project_description=project.description, project_end_date=project.end_date)
    return data


def to_data(call: Call, view: ResourceView, collection: str) -> dict[str, Any]:
    resource = view.resource
    data: dict[str, Any] = {
        "url": call.url(collection, resource.id),
        "uuid": resource.id,
        "name": resource.name,
        "description": resource.description,
        "created": resource.created,
        "modified": resource.modified,
        "state": resource.state.value,
        "offering": offering_url(call, resource.offering_id),
        "offering_uuid": resource.offering_id,
        "offering_name": resource.offering_name,
        "offering_type": resource.offering_type,
        "offering_plugin_options": dict(resource.offering_plugin_options),
        "provider_uuid": resource.provider_id,
        "provider_name": resource.provider_name,
        "attributes": dict(resource.attributes),
        "limits": dict(resource.limits),
        "current_usages": dict(resource.current_usages),
        "backend_id": resource.backend_id,
        "backend_metadata": dict(resource.backend_metadata),
        "report": [dict(s) for s in resource.report],
        "resource_uuid": None,
        "resource_type": None,
        "project": call.url("projects", resource.project_id),
        "project_uuid": resource.project_id,
        "project_name": resource.project_name,
        "customer_uuid": resource.customer_id,
        "customer_name": resource.customer_name,
        "end_date": resource.end_date,
        "last_sync": resource.last_sync,
        "error_message": resource.error_message,
        "error_traceback": resource.error_traceback,
        "username": None,
        "can_terminate": resource.state in RESOURCE_ORDER_ACTIONS["terminate"]
        and not resource.order_in_progress_id,
        "available_actions": _available_actions(resource),
        "is_usage_based": False,
        "is_limit_based": bool(resource.limits),
        "slug": resource.slug or None,
        "project_slug": resource.project_slug or None,
        "customer_slug": resource.customer_slug or None,
        "offering_customer_uuid": resource.provider_id,
        "scope": None,
        "options": {},
        **_joined(view),
    }
    if resource.plan_id:
        data.update(
            plan=plan_url(call, resource.offering_id, resource.plan_id),
            plan_uuid=resource.plan_id,
            plan_name=resource.plan_name,
        )
    return data


def _views(collection: str) -> None:
    """list, retrieve, team/ and plan_periods/ of one of the two views."""
    provider_view = collection == PROVIDER
    base = f"/api/{collection}"
    prefix = collection.replace("-", "_")
    side = "the provider" if provider_view else "either side"

    @endpoint(
        bp,
        base,
        "GET",
        name=f"{prefix}_list",
        tag=TAG,
        query=ResourceQuery,
        response=ResourceOut,
        many=True,
        summary=f"Resources the caller sees from {side}",
    )
    def list_resources(call: Call) -> Any:
        q: ResourceQuery = call.query
        narrowing = lists.Narrowing(
            customer_id=uuid_filter("customer_uuid", q.customer_uuid),
            project_id=uuid_filter("project_uuid", q.project_uuid),
            provider_id=uuid_filter("provider_uuid", q.provider_uuid),
            offering_ids=tuple(o for o in (uuid_filter("offering_uuid", v) for v in q.offering_uuid) if o),
        )
        filters = lists.ResourceFilters(
            narrowing=narrowing,
            states=tuple(q.state),
            name=q.name,
            name_exact=q.name_exact,
            backend_id=q.backend_id,
            offering_type=q.offering_type,
            plan_id=uuid_filter("plan_uuid", q.plan_uuid),
            query=q.query,
            slug=q.slug,
            category_id=uuid_filter("category_uuid", q.category_uuid),
        )
        page = lists.list_resources(call.user, filters, q.ordering(), q.page_request(), provider_view)
        views = {v.resource.id: v for v in resource_views.describe(page.items)}
        return listed(call, page, ResourceOut, lambda r: to_data(call, views[r.id], collection))

    @endpoint(
        bp,
        f"{base}/{{uuid}}",
        "GET",
        name=f"{prefix}_retrieve",
        tag=TAG,
        query=FieldsQuery,
        response=ResourceDetailOut,
    )
    def retrieve_resource(call: Call, uuid: str) -> Any:
        resource = service.get_visible(call.user, object_id(uuid, MODEL), provider_view)
        data = to_data(call, resource_views.describe_one(resource), collection)
        wanted = set(call.query.field)
        if not wanted or wanted & {"order_in_progress", "creation_order"}:
            found = resource_views.orders_of(call.user, resource)
            data.update(
                order_in_progress=found.in_progress and orders_api.to_data(call, found.in_progress),
                creation_order=found.creation and orders_api.to_data(call, found.creation),
            )
        return render(ResourceDetailOut, data, call.query.field)

    @endpoint(
        bp,
        f"{base}/{{uuid}}/offering",
        "GET",
        name=f"{prefix}_offering_retrieve",
        tag=TAG,
        query=FieldsQuery,
        response=OfferingOut,
        summary="The offering the resource was ordered from, as the public catalog shows it",
    )
    def resource_offering(call: Call, uuid: str) -> Any:
        view = resource_views.offering_of(call.user, object_id(uuid, MODEL), provider_view)
        return render(OfferingOut, offerings_api.public_data(call, view), call.query.field)

    @endpoint(
        bp,
        f"{base}/{{uuid}}/team",
        "GET",
        name=f"{prefix}_team_list",
        tag=TAG,
        response=TeamMemberOut,
        many=True,
        summary="The resource's project team",
    )
    def team(call: Call, uuid: str) -> Any:
        members = service.team_accounts(call.user, object_id(uuid, MODEL), provider_view)
        return [
            render(
                TeamMemberOut,
                {
                    "url": call.url("users", m.user.id),
                    "uuid": m.user.id,
                    "username": m.user.username,
                    "full_name": m.user.full_name,
                    "email": m.user.email,
                    "role": m.role.name,
                    "expiration_time": m.grant.expiration_time,
                    "offering_user_username": account.username or None if account else None,
                    "offering_user_state": account.state.value if account else None,
                },
            )
            for m, account in members
        ]

    @endpoint(
        bp,
        f"{base}/{{uuid}}/plan_periods",
        "GET",
        name=f"{prefix}_plan_periods_list",
        tag=TAG,
        response=PlanPeriodOut,
        many=True,
        summary="The resource's plan, since it was made",
    )
    def plan_periods(call: Call, uuid: str) -> Any:
        resource = service.get_visible(call.user, object_id(uuid, MODEL), provider_view)
        if not resource.plan_id:
            return []
        period = {
            "uuid": resource.id,
            "plan_name": resource.plan_name,
            "plan_uuid": resource.plan_id,
            "start": resource.created,
            "end": None,
            "components": [],
        }
        return [render(PlanPeriodOut, period)]

    @endpoint(
        bp,
        f"{base}/{{uuid}}/terminate",
        "POST",
        name=f"{prefix}_terminate",
        tag=TAG,
        body=TerminateIn,
        response=OrderUuidOut,
        summary="Order the resource's termination",
    )
    def terminate(call: Call, uuid: str) -> Any:
        body: TerminateIn = call.body
        order = service.terminate(call.ctx, object_id(uuid, MODEL), body.attributes, provider_view)
        return {"order_uuid": order.id}

    _changes(collection)


def _updated(resource: Resource) -> dict[str, Any]:
    data = {"name": resource.name, "description": resource.description, "end_date": resource.end_date}
    return render(ResourceUpdateOut, data)


def _changes(collection: str) -> None:
    """PUT, PATCH, set_slug/, set_end_date/ and set_end_date_by_staff/ of one of the two views."""
    provider_view = collection == PROVIDER
    base = f"/api/{collection}"
    prefix = collection.replace("-", "_")

    @endpoint(
        bp,
        f"{base}/{{uuid}}",
        "PUT",
        name=f"{prefix}_update",
        tag=TAG,
        body=ResourceUpdateIn,
        response=ResourceUpdateOut,
        summary="Rename or describe the resource (and, as its consumer, set its end date)",
    )
    def update_resource(call: Call, uuid: str) -> Any:
        found = changes(call.body)
        return _updated(service.update(call.ctx, object_id(uuid, MODEL), found, provider_view))

    @endpoint(
        bp,
        f"{base}/{{uuid}}",
        "PATCH",
        name=f"{prefix}_partial_update",
        tag=TAG,
        body=ResourceUpdatePatch,
        response=ResourceUpdateOut,
        summary="Rename or describe the resource (and, as its consumer, set its end date)",
    )
    def partial_update_resource(call: Call, uuid: str) -> Any:
        found = patch_changes(call.body)
        return _updated(service.update(call.ctx, object_id(uuid, MODEL), found, provider_view))

    @endpoint(
        bp,
        f"{base}/{{uuid}}/set_slug",
        "POST",
        name=f"{prefix}_set_slug",
        tag=TAG,
        body=SlugIn,
        response=StatusOut,
        summary="Set the resource's slug (staff, or RESOURCE.SET_SLUG before it is being made)",
    )
    def set_slug(call: Call, uuid: str) -> Any:
        body: SlugIn = call.body
        return {"status": service.set_slug(call.ctx, object_id(uuid, MODEL), body.slug, provider_view)}

    by = "provider" if provider_view else "consumer"

    @endpoint(
        bp,
        f"{base}/{{uuid}}/set_end_date",
        "POST",
        name=f"{prefix}_set_end_date",
        tag=TAG,
        body=EndDateIn,
        response=StatusOut,
        summary=f"Set or clear the resource's end date as its {by}",
    )
    def set_end_date(call: Call, uuid: str) -> Any:
        body: EndDateIn = call.body
        service.set_end_date(call.ctx, object_id(uuid, MODEL), body.end_date, by)
        return {"status": END_DATE_SET}

    @endpoint(
        bp,
        f"{base}/{{uuid}}/set_end_date_by_staff",
        "POST",
        name=f"{prefix}_set_end_date_by_staff",
        tag=TAG,
        body=EndDateIn,
        response=StatusOut,
        summary="Set or clear the resource's end date (staff; at least 7 days ahead)",
    )
    def set_end_date_by_staff(call: Call, uuid: str) -> Any:
        body: EndDateIn = call.body
        service.set_end_date(call.ctx, object_id(uuid, MODEL), body.end_date, "staff")
        return {"status": END_DATE_SET}


_views(CONSUMER)
_views(PROVIDER)

BASE = f"/api/{CONSUMER}"
PBASE = f"/api/{PROVIDER}"


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/update_limits",
    "POST",
    name="marketplace_resources_update_limits",
    tag=TAG,
    body=LimitsIn,
    response=OrderUuidOut,
    summary="Order new limits",
)
def update_limits(call: Call, uuid: str) -> Any:
    body: LimitsIn = call.body
    return {"order_uuid": service.update_limits(call.ctx, object_id(uuid, MODEL), body.limits).id}


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/switch_plan",
    "POST",
    name="marketplace_resources_switch_plan",
    tag=TAG,
    body=PlanIn,
    response=OrderUuidOut,
    summary="Order another plan of the offering",
)
def switch_plan(call: Call, uuid: str) -> Any:
    body: PlanIn = call.body
    return {"order_uuid": service.switch_plan(call.ctx, object_id(uuid, MODEL), body.plan).id}


@endpoint(
    bp,
    f"{PBASE}/{{uuid}}/set_backend_id",
    "POST",
    name="marketplace_provider_resources_set_backend_id",
    tag=TAG,
    body=BackendIdIn,
    response=StatusOut,
)
def set_backend_id(call: Call, uuid: str) -> Any:
    body: BackendIdIn = call.body
    changed = service.set_backend_id(call.ctx, object_id(uuid, MODEL), body.backend_id)
    return {"status": service.BACKEND_ID_CHANGED if changed else service.BACKEND_ID_UNCHANGED}


@endpoint(
    bp,
    f"{PBASE}/{{uuid}}/set_backend_metadata",
    "POST",
    name="marketplace_provider_resources_set_backend_metadata",
    tag=TAG,
    body=BackendMetadataIn,
    response=StatusOut,
)
def set_backend_metadata(call: Call, uuid: str) -> Any:
    body: BackendMetadataIn = call.body
    service.set_backend_metadata(call.ctx, object_id(uuid, MODEL), body.backend_metadata)
    return {"status": "Resource backend metadata has been changed."}


@endpoint(
    bp,
    f"{PBASE}/{{uuid}}/refresh_last_sync",
    "POST",
    name="marketplace_provider_resources_refresh_last_sync",
    tag=TAG,
    response=StatusOut,
    summary="Record that the provider's agent has just synced the resource",
)
def refresh_last_sync(call: Call, uuid: str) -> Any:
    service.refresh_last_sync(call.ctx, object_id(uuid, MODEL))
    return {"status": "Resource last sync has been refreshed."}


@endpoint(
    bp,
    f"{PBASE}/{{uuid}}/set_limits",
    "POST",
    name="marketplace_provider_resources_set_limits",
    tag=TAG,
    body=LimitsIn,
    response=StatusOut,
    summary="Report the limits the backend has",
)
def set_limits(call: Call, uuid: str) -> Any:
    body: LimitsIn = call.body
    service.set_limits(call.ctx, object_id(uuid, MODEL), body.limits)
    return {"status": "Resource limits have been changed."}


@endpoint(
    bp,
    f"{PBASE}/{{uuid}}/set_as_erred",
    "POST",
    name="marketplace_provider_resources_set_as_erred",
    tag=TAG,
    body=ErredIn,
    response=StatusOut,
)
def set_as_erred(call: Call, uuid: str) -> Any:
    body: ErredIn = call.body
    service.set_as_erred(call.ctx, object_id(uuid, MODEL), body.error_message, body.error_traceback)
    return {"status": "Resource has been marked as erred."}


@endpoint(
    bp,
    f"{PBASE}/{{uuid}}/set_as_ok",
    "POST",
    name="marketplace_provider_resources_set_as_ok",
    tag=TAG,
    response=StatusOut,
)
def set_as_ok(call: Call, uuid: str) -> Any:
    service.set_as_ok(call.ctx, object_id(uuid, MODEL))
    return {"status": "Resource has been marked as OK."}


@endpoint(
    bp,
    f"{PBASE}/{{uuid}}/submit_report",
    "POST",
    name="marketplace_provider_resources_submit_report",
    tag=TAG,
    body=ReportIn,
    response=StatusOut,
)
def submit_report(call: Call, uuid: str) -> Any:
    body: ReportIn = call.body
    service.submit_report(call.ctx, object_id(uuid, MODEL), [s.model_dump() for s in body.report])
    return {"status": "Report is submitted"}


@endpoint(
    bp,
    f"{PBASE}/{{uuid}}/set_end_date_by_provider",
    "POST",
    name="marketplace_provider_resources_set_end_date_by_provider",
    tag=TAG,
    body=EndDateIn,
    response=StatusOut,
    summary="Set or clear the resource's end date as its provider (Waldur's older name of set_end_date/)",
)
def set_end_date_by_provider(call: Call, uuid: str) -> Any:
    body: EndDateIn = call.body
    service.set_end_date(call.ctx, object_id(uuid, MODEL), body.end_date, "provider")
    return {"status": END_DATE_SET}


@endpoint(
    bp,
    f"{BASE}/{{uuid}}/update_options",
    "POST",
    name="marketplace_resources_update_options",
    tag=TAG,
    body=OptionsIn,
    response=StatusOut,
    summary="Change the resource's options (Cirrus's offerings define none: Waldur's 400)",
)
def update_options(call: Call, uuid: str) -> Any:
    body: OptionsIn = call.body
    service.update_options(call.ctx, object_id(uuid, MODEL), body.options)
    return {"status": "Resource options are submitted"}
