"""`/api/support-priorities/` (list and retrieve, signed-in users) and `/api/support-templates/`
(list and retrieve for anybody, staff create, change and delete), in waldur-api-client 8.1.3's
Priority and Template fields.

Templates' attachments are not stored yet (they come with the support desk's S3 attachments): every
template's `attachments` is an empty list, and Waldur's `create_attachments/` and
`delete_attachments/` actions are not served (404)."""

from __future__ import annotations

import typing
from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import StringConstraints

from chalicelib.api.fields import changes, free_text, name_text, partial
from chalicelib.api.marketplace_catalog import choice
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
from chalicelib.domain import support_catalog as domain
from chalicelib.domain.support_catalog import IssueType, Priority, Template
from chalicelib.services import support_catalog as service
from chalicelib.services.paging import paginate

bp = Blueprint(__name__)
TAG = "support"
PRIORITIES = "support-priorities"
TEMPLATES = "support-templates"


# --- priorities ------------------------------------------------------------------------------------
class PriorityOut(ResponseModel):
    url: str
    uuid: str
    name: str
    description: str
    icon_url: str


class PriorityQuery(ListQuery):
    """Waldur's PriorityFilter: `name` contains (any case), `name_exact` the name itself."""

    name: str | None = None
    name_exact: str | None = None

    ordering_fields = ("name",)


def priority_data(call: Call, priority: Priority) -> dict[str, Any]:
    return {
        "url": call.url(PRIORITIES, priority.id),
        "uuid": priority.id,
        "name": priority.name,
        "description": priority.description,
        "icon_url": priority.icon_url,
    }


@endpoint(bp, f"/api/{PRIORITIES}", "GET", name="support_priorities_list", tag=TAG, query=PriorityQuery,
          response=PriorityOut, many=True, summary="Issue priorities, by name")  # fmt: skip
def list_priorities(call: Call) -> Any:
    q: PriorityQuery = call.query
    ordering = q.ordering()
    found = service.list_priorities(q.name, q.name_exact, descending=ordering.descending)
    return listed(call, paginate(found, q.page_request()), PriorityOut, lambda p: priority_data(call, p))


@endpoint(bp, f"/api/{PRIORITIES}/{{uuid}}", "GET", name="support_priorities_retrieve", tag=TAG,
          query=FieldsQuery, response=PriorityOut)  # fmt: skip
def retrieve_priority(call: Call, uuid: str) -> Any:
    priority = service.get_priority(object_id(uuid, domain.PRIORITY_MODEL))
    return render(PriorityOut, priority_data(call, priority), call.query.field)


# --- templates -------------------------------------------------------------------------------------
# A TextField without `blank=True` in Waldur: required and not blank (after the trim); a description's
# characters, and a long text's budget as stored.
TemplateDescription = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    *typing.get_args(free_text(max_bytes=domain.TEMPLATE_DESCRIPTION_BYTES))[1:],
]


class TemplateIn(BodyModel):
    """Waldur's TemplateRequest."""

    name: name_text(domain.NAME_MAX)  # type: ignore[valid-type]
    description: TemplateDescription
    issue_type: choice(IssueType) = IssueType.INFORMATIONAL.value  # type: ignore[valid-type]


TemplatePatch = partial(TemplateIn, "TemplatePatch")


class TemplateAttachmentOut(ResponseModel):
    """Waldur's TemplateAttachment (none is stored yet: see the module's docstring)."""

    uuid: str
    name: str
    file: str
    mime_type: str
    file_size: int
    created: str


class TemplateOut(ResponseModel):
    url: str
    uuid: str
    name: str
    description: str
    issue_type: str
    attachments: list[TemplateAttachmentOut]


def template_data(call: Call, template: Template) -> dict[str, Any]:
    return {
        "url": call.url(TEMPLATES, template.id),
        "uuid": template.id,
        "name": template.name,
        "description": template.description,
        "issue_type": template.issue_type.value,
        "attachments": [],
    }


def _fields(body: BodyModel) -> dict[str, Any]:
    """The fields sent (PUT and PATCH change what they name, as DRF does), as the service takes them."""
    sent = changes(body)
    if "issue_type" in sent:
        sent["issue_type"] = IssueType(sent["issue_type"])
    return sent


def _template(call: Call, template: Template) -> dict[str, Any]:
    return render(TemplateOut, template_data(call, template), getattr(call.query, "field", ()))


@endpoint(bp, f"/api/{TEMPLATES}", "GET", name="support_templates_list", tag=TAG, query=ListQuery,
          response=TemplateOut, many=True, anonymous=True, summary="Issue templates, by name")  # fmt: skip
def list_templates(call: Call) -> Any:
    page = paginate(service.list_templates(), call.query.page_request())
    return listed(call, page, TemplateOut, lambda t: template_data(call, t))


@endpoint(bp, f"/api/{TEMPLATES}", "POST", name="support_templates_create", tag=TAG, body=TemplateIn,
          response=TemplateOut, status=201, summary="Create an issue template (staff)")  # fmt: skip
def create_template(call: Call) -> Any:
    fields = {**_fields(call.body), "issue_type": IssueType(call.body.issue_type)}
    return Created(_template(call, service.create_template(call.ctx, fields)))


@endpoint(bp, f"/api/{TEMPLATES}/{{uuid}}", "GET", name="support_templates_retrieve", tag=TAG,
          query=FieldsQuery, response=TemplateOut, anonymous=True)  # fmt: skip
def retrieve_template(call: Call, uuid: str) -> Any:
    return _template(call, service.get_template(object_id(uuid, domain.TEMPLATE_MODEL)))


@endpoint(bp, f"/api/{TEMPLATES}/{{uuid}}", "PUT", name="support_templates_update", tag=TAG,
          body=TemplateIn, response=TemplateOut, summary="Change an issue template (staff)")  # fmt: skip
def update_template(call: Call, uuid: str) -> Any:
    fields = _fields(call.body)
    changed = service.update_template(call.ctx, object_id(uuid, domain.TEMPLATE_MODEL), fields)
    return _template(call, changed)


@endpoint(bp, f"/api/{TEMPLATES}/{{uuid}}", "PATCH", name="support_templates_partial_update", tag=TAG,
          body=TemplatePatch, response=TemplateOut,
          summary="Change some fields of an issue template (staff)")  # fmt: skip
def partial_update_template(call: Call, uuid: str) -> Any:
    fields = _fields(call.body)
    changed = service.update_template(call.ctx, object_id(uuid, domain.TEMPLATE_MODEL), fields)
    return _template(call, changed)


@endpoint(bp, f"/api/{TEMPLATES}/{{uuid}}", "DELETE", name="support_templates_destroy", tag=TAG,
          status=204, summary="Delete an issue template (staff)")  # fmt: skip
def delete_template(call: Call, uuid: str) -> Any:
    service.delete_template(call.ctx, object_id(uuid, domain.TEMPLATE_MODEL))
    return NoContent()
