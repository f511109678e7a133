"""`/api/support-attachments/`: files attached to support issues, in Waldur's shapes
(waldur-api-client 8.1.3's Attachment; its `support_attachments_create` posts
multipart/form-data with `issue` and `file`). `file` in an answer is a short-lived URL that
downloads the file (S3, presigned). Rules: chalicelib/services/support_attachments.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]

from chalicelib.api.fields import ReferenceFilter, UuidFilter
from chalicelib.api.marketplace_orders import uuid_filter
from chalicelib.api.rest import (
    Call,
    Created,
    ListQuery,
    NoContent,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.config import get_settings
from chalicelib.domain import attachments as domain
from chalicelib.domain.errors import ValidationError
from chalicelib.services import support_attachments as service

bp = Blueprint(__name__)
ATTACHMENTS = "support-attachments"
ISSUES = "support-issues"
# DRF's FileField message for a body that carries no file (JSON, a form without one).
NOT_A_FILE = "The submitted data was not a file. Check the encoding type on the form."


class AttachmentOut(ResponseModel):
    """Waldur's Attachment."""

    url: str
    uuid: str
    issue: str
    issue_key: str
    created: datetime
    file: str
    mime_type: str
    file_size: int
    file_name: str
    backend_id: str
    destroy_is_available: bool


class AttachmentQuery(ListQuery):
    issue: ReferenceFilter | None = None
    issue_uuid: UuidFilter | None = None

    def issue_reference(self) -> str | None:
        if self.issue is not None:
            return str(self.issue)
        return uuid_filter("issue_uuid", self.issue_uuid)


def attachment_data(call: Call, visible: service.Visible) -> dict[str, Any]:
    a = visible.attachment
    return {
        "url": call.url(ATTACHMENTS, a.id),
        "uuid": a.id,
        "issue": call.url(ISSUES, a.issue_id),
        "issue_key": visible.issue.key,
        "created": a.created,
        "file": service.download_url(visible),
        "mime_type": a.mime_type,
        "file_size": a.file_size,
        "file_name": a.file_name,
        "backend_id": a.backend_id,
        "destroy_is_available": service.may_delete(call.user, visible),
    }


@endpoint(bp, f"/api/{ATTACHMENTS}", "GET", name="support_attachments_list", tag=ATTACHMENTS,
          query=AttachmentQuery, response=AttachmentOut, many=True,
          summary="The files attached to the issues the caller sees")  # fmt: skip
def list_attachments(call: Call) -> Any:
    q: AttachmentQuery = call.query
    page = service.listed(call.user, q.issue_reference(), q.page_request())
    return listed(call, page, AttachmentOut, lambda v: attachment_data(call, v))


# What waldur-api-client's AttachmentRequestMultipart sends: the issue's URL and the file, as a file part
# (its name and declared type are checked as domain/attachments.py says).
UPLOAD = {
    "type": "object",
    "required": ["issue", "file"],
    "properties": {
        "issue": {"type": "string", "format": "uri", "maxLength": 2000, "description": "The issue's URL"},
        "file": {"type": "string", "format": "binary", "description": "The file, with its name and type"},
    },
}


@endpoint(bp, f"/api/{ATTACHMENTS}", "POST", name="support_attachments_create", tag=ATTACHMENTS,
          response=AttachmentOut, status=201, upload=UPLOAD,
          summary="Attach a file to an issue (multipart/form-data: issue, file)")  # fmt: skip
def create_attachment(call: Call) -> Any:
    content_type = call.header("content-type") or ""
    if domain.base_type(content_type) != "multipart/form-data":
        raise ValidationError.field("file", NOT_A_FILE)
    fields, upload = domain.parse_multipart(content_type, call.raw_body, get_settings().attachment_max_bytes)
    made = service.create(call.ctx, fields.get("issue"), upload)
    return Created(render(AttachmentOut, attachment_data(call, made)))


@endpoint(bp, f"/api/{ATTACHMENTS}/{{uuid}}", "GET", name="support_attachments_retrieve", tag=ATTACHMENTS,
          response=AttachmentOut)  # fmt: skip
def retrieve_attachment(call: Call, uuid: str) -> Any:
    visible = service.get_visible(call.user, object_id(uuid, domain.ATTACHMENT))
    return render(AttachmentOut, attachment_data(call, visible), getattr(call.query, "field", ()))


@endpoint(bp, f"/api/{ATTACHMENTS}/{{uuid}}", "DELETE", name="support_attachments_destroy", tag=ATTACHMENTS,
          status=204)  # fmt: skip
def delete_attachment(call: Call, uuid: str) -> Any:
    service.delete(call.ctx, object_id(uuid, domain.ATTACHMENT))
    return NoContent()
