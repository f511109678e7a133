"""`/api/projects/`: a customer's projects. Deletion is soft and refused while resources remain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import BaseModel

from chalicelib.api.fields import (
    QuotaOut,
    Slug,
    SlugOrBlank,
    changes,
    free_text,
    name_text,
    partial,
    patch_changes,
    quotas_out,
    text,
)
from chalicelib.api.invoices import PriceEstimateOut, price_estimate
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    FieldsQuery,
    ListQuery,
    NoContent,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.ids import id_from_url, parse_id
from chalicelib.domain.projects import Project
from chalicelib.services import projects as service

bp = Blueprint(__name__)
TAG = "projects"
MODEL = "Project"
INVALID_HYPERLINK = service.INVALID_HYPERLINK


class ProjectIn(BodyModel):
    name: name_text(500)  # type: ignore[valid-type]
    customer: str
    description: free_text(2000) = ""  # type: ignore[valid-type]
    backend_id: text(255) = ""  # type: ignore[valid-type]
    start_date: date | None = None
    end_date: date | None = None
    is_industry: bool = False
    # Project types are not modelled yet: only null (no type) is accepted.
    type: str | None = None
    # Staff (and PROJECT.SET_SLUG holders on creation); generated from the name when not given.
    slug: SlugOrBlank | None = None


ProjectPatch = partial(ProjectIn, "ProjectPatch", nullable=frozenset({"start_date", "end_date", "type"}))


class ProjectOut(ResponseModel):
    omit_when_null = frozenset({"billing_price_estimate", "customer_slug", "slug"})

    url: str
    uuid: str
    name: str
    customer: str
    customer_uuid: str
    customer_name: str
    customer_native_name: str
    customer_abbreviation: str
    description: str
    created: datetime
    backend_id: str
    start_date: date | None = None
    end_date: date | None = None
    is_industry: bool
    is_removed: bool
    resources_count: int
    quotas: list[QuotaOut]
    billing_price_estimate: PriceEstimateOut | None = None  # on retrieve only (one more Query)
    # Absent on a project made before slugs (or its customer's), until the ops backfill.
    slug: str | None = None
    customer_slug: str | None = None


class SlugIn(BodyModel):
    slug: Slug


class StatusOut(ResponseModel):
    status: str


class ProjectQuery(ListQuery):
    name: str | None = None
    name_exact: str | None = None
    customer: list[str] = []
    customer_uuid: list[str] = []
    customer_name: str | None = None
    description: str | None = None
    query: str | None = None
    can_manage: bool | None = None
    can_admin: bool | None = None
    slug: str | None = None

    ordering_fields = service.ORDERING_FIELDS


def to_data(call: Call, project: Project) -> dict[str, Any]:
    return {
        "url": call.url("projects", project.id),
        "uuid": project.id,
        "name": project.name,
        "customer": call.url("customers", project.customer_id),
        "customer_uuid": project.customer_id,
        "customer_name": project.customer_name,
        "customer_native_name": project.customer_native_name,
        "customer_abbreviation": project.customer_abbreviation,
        "description": project.description,
        "created": project.created,
        "backend_id": project.backend_id,
        "start_date": project.start_date,
        "end_date": project.end_date,
        "is_industry": project.is_industry,
        "is_removed": project.removed is not None,
        "resources_count": project.resources_count,
        "quotas": quotas_out(project.quotas),
        "slug": project.slug or None,
        "customer_slug": project.customer_slug or None,
    }


def _one(call: Call, project: Project) -> dict[str, Any]:
    return render(ProjectOut, to_data(call, project), getattr(call.query, "field", ()))


def _customer_ids(values: list[str]) -> list[str] | None:
    """`?customer=<uuid>` (repeatable, comma lists too). None: a value names no customer at all."""
    ids = []
    for value in values:
        for part in value.split(","):
            parsed = parse_id(part.strip())
            if parsed is None:
                return None
            ids.append(parsed)
    return ids


def _check_type(body: BaseModel) -> None:
    if getattr(body, "type", None) is not None:
        raise ValidationError.field("type", INVALID_HYPERLINK)


@endpoint(
    bp,
    "/api/projects",
    "GET",
    name="projects_list",
    tag=TAG,
    query=ProjectQuery,
    response=ProjectOut,
    many=True,
    summary="List projects the caller may see",
)
def list_projects(call: Call) -> Any:
    q: ProjectQuery = call.query
    customer_ids: list[str] = []
    for name, values in (("customer", q.customer), ("customer_uuid", q.customer_uuid)):
        found = _customer_ids(values)
        if found is None:  # reported under the parameter that carried it, as django-filter does
            raise ValidationError.field(name, "Enter a valid UUID.")
        customer_ids += found
    filters = service.ProjectFilters(
        customers=customer_ids,
        customer_name=q.customer_name,
        name=q.name,
        name_exact=q.name_exact,
        description=q.description,
        query=q.query,
        slug=q.slug,
    )
    page = service.list_projects(call.user, filters, q.ordering(), q.page_request())
    return listed(call, page, ProjectOut, lambda p: to_data(call, p))


@endpoint(
    bp,
    "/api/projects",
    "POST",
    name="projects_create",
    tag=TAG,
    body=ProjectIn,
    response=ProjectOut,
    status=201,
    retry_key=True,
    summary="Create a project in a customer",
)
def create_project(call: Call) -> Any:
    body: ProjectIn = call.body
    _check_type(body)
    fields = changes(body, exclude=frozenset({"customer", "type"}))
    project = service.create_project(call.ctx, id_from_url(body.customer), fields)
    return Created(_one(call, project))


@endpoint(
    bp,
    "/api/projects/{uuid}",
    "GET",
    name="projects_retrieve",
    tag=TAG,
    query=FieldsQuery,
    response=ProjectOut,
)
def retrieve_project(call: Call, uuid: str) -> Any:
    project = service.get_visible(call.user, object_id(uuid, MODEL))
    data = to_data(call, project)
    data["billing_price_estimate"] = price_estimate(call, project.customer_id, project.id)
    return render(ProjectOut, data, call.query.field)


def _update(call: Call, uuid: str, fields: dict[str, Any]) -> Any:
    _check_type(call.body)
    project_id = object_id(uuid, MODEL)
    customer = fields.pop("customer", None)
    fields.pop("type", None)
    if customer is not None:
        current = service.get_visible(call.user, project_id)
        if id_from_url(customer) != current.customer_id:
            raise ValidationError.field("customer", "A project cannot move to another customer.")
    return _one(call, service.update_project(call.ctx, project_id, fields))


@endpoint(
    bp, "/api/projects/{uuid}", "PUT", name="projects_update", tag=TAG, body=ProjectIn, response=ProjectOut
)
def update_project(call: Call, uuid: str) -> Any:
    return _update(call, uuid, changes(call.body))


@endpoint(
    bp,
    "/api/projects/{uuid}",
    "PATCH",
    name="projects_partial_update",
    tag=TAG,
    body=ProjectPatch,
    response=ProjectOut,
)
def partial_update_project(call: Call, uuid: str) -> Any:
    return _update(call, uuid, patch_changes(call.body))


@endpoint(bp, "/api/projects/{uuid}", "DELETE", name="projects_destroy", tag=TAG, status=204)
def delete_project(call: Call, uuid: str) -> Any:
    service.delete_project(call.ctx, object_id(uuid, MODEL))
    return NoContent()


@endpoint(
    bp,
    "/api/projects/{uuid}/set_slug",
    "POST",
    name="projects_set_slug",
    tag=TAG,
    body=SlugIn,
    response=StatusOut,
    summary="Set a project's slug (staff, or PROJECT.SET_SLUG before it holds resources)",
)
def set_project_slug(call: Call, uuid: str) -> Any:
    body: SlugIn = call.body
    return {"status": service.set_slug(call.ctx, object_id(uuid, MODEL), body.slug)}
