"""Files attached to support issues: what is accepted, under which name, and how an upload's body is read.

An attachment is stored in S3 under a key Cirrus makes (never the uploader's file name) and served
only through short-lived presigned URLs, always as a download (`Content-Disposition: attachment`),
so a file cannot run as a page of the API's origin. What may be uploaded is bounded here, whatever
the transport (a multipart POST to the API, as Waldur's clients send, or a presigned upload):

- the size: at most `max_bytes` (settings), and never empty;
- the type: the declared MIME type must be in `ALLOWED_TYPES` (documents, images, archives, plain
  text; no HTML, SVG or script, which a browser would run), and the file name's extension must be
  one that type is known by, so a `.html` cannot travel as `text/plain`;
- the name: at most `MAX_NAME` characters, no directory part, no control characters.

A malware scan is a hook point (`SCANNERS` in services/support_attachments.py), not done here.

Who (Waldur's AttachmentSerializer.validate and AttachmentQuerySet): staff, an owner of the issue's
customer and the issue's caller may attach files to it; support users see every attachment (as
they see every issue) and the rest see those of the issues they see. Deleting is for staff, the
issue's customer owners, its caller, and the attachment's author.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP

from chalicelib.domain import events
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.support import Issue, issue_fields

MAX_NAME = 255
DEFAULT_MAX_BYTES = 4 * 1024 * 1024  # what fits a Lambda request through API Gateway, base64-encoded

# MIME type -> the extensions a file of that type may carry (lower case, without the dot).
ALLOWED_TYPES: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({"pdf"}),
    "text/plain": frozenset({"txt", "log", "text", "conf", "cfg", "ini", "out", "err"}),
    "text/csv": frozenset({"csv"}),
    "application/json": frozenset({"json"}),
    "image/png": frozenset({"png"}),
    "image/jpeg": frozenset({"jpg", "jpeg"}),
    "image/gif": frozenset({"gif"}),
    "image/webp": frozenset({"webp"}),
    "application/zip": frozenset({"zip"}),
    "application/gzip": frozenset({"gz", "tgz"}),
    "application/x-tar": frozenset({"tar"}),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": frozenset({"docx"}),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": frozenset({"xlsx"}),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": frozenset({"pptx"}),
    "application/vnd.oasis.opendocument.text": frozenset({"odt"}),
    "application/vnd.oasis.opendocument.spreadsheet": frozenset({"ods"}),
}

TOO_LARGE = "The file is too large: at most {limit} bytes."
EMPTY = "The submitted file is empty."
TYPE_REFUSED = "Files of type {mime} cannot be attached."
EXTENSION_MISMATCH = "The file name's extension does not match its type {mime}."
NO_FILE = "No file was submitted."
BAD_NAME = "The file name is not valid."

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Upload:
    """A file as submitted: its name (cleaned), declared type and content."""

    name: str
    mime_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


def clean_name(raw: str) -> str:
    """The file's own name: no directory part (either separator), no control characters, NFC,
    at most MAX_NAME characters (the extension kept). Refused when nothing is left."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", name).strip().strip(".")
    if not name:
        raise ValidationError.field("file", BAD_NAME)
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        name = (stem if keep else name)[: MAX_NAME - len(keep) - (1 if keep else 0)] + (
            f".{keep}" if keep else ""
        )
    return name


def extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def base_type(mime: str) -> str:
    """`text/plain; charset=utf-8` -> `text/plain`."""
    return (mime or "").split(";", 1)[0].strip().lower()


def check(name: str, mime_type: str, size: int, max_bytes: int) -> tuple[str, str]:
    """(clean name, MIME type) of a file that may be attached, else a ValidationError on `file`."""
    cleaned = clean_name(name)
    mime = base_type(mime_type)
    if size <= 0:
        raise ValidationError.field("file", EMPTY)
    if size > max_bytes:
        raise ValidationError.field("file", TOO_LARGE.format(limit=max_bytes))
    if mime not in ALLOWED_TYPES:
        raise ValidationError.field("file", TYPE_REFUSED.format(mime=mime or "unknown"))
    if extension(cleaned) not in ALLOWED_TYPES[mime]:
        raise ValidationError.field("file", EXTENSION_MISMATCH.format(mime=mime))
    return cleaned, mime


def parse_multipart(content_type: str, body: bytes, max_bytes: int) -> tuple[dict[str, str], Upload | None]:
    """The text fields and the file (`file`) of a multipart/form-data body. Bodies larger than
    the file limit plus a margin for the other fields are refused before parsing."""
    if not base_type(content_type) == "multipart/form-data" or "boundary=" not in content_type:
        raise ValidationError(["Expected a multipart/form-data body with a boundary."])
    if len(body) > max_bytes + 64 * 1024:
        raise ValidationError.field("file", TOO_LARGE.format(limit=max_bytes))
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ValidationError(["The multipart body could not be read."])
    fields: dict[str, str] = {}
    upload: Upload | None = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if name == "file" and filename is not None:
            upload = Upload(name=filename, mime_type=part.get_content_type(), content=content)
        elif filename is None:
            fields[name] = content.decode("utf-8", errors="replace")[:2048]
    return fields, upload


# --- attachments -----------------------------------------------------------------------------------
ATTACHMENT = "Attachment"
CREATED, DELETED = "attachment_created", "attachment_deleted"  # Waldur's AttachmentEventLogger
EVENT_TYPES = (CREATED, DELETED)  # (and attachment_updated, which nothing here writes)


@dataclass(frozen=True)
class Attachment:
    """A file attached to an issue, stored beside it; `storage_key` names its S3 object."""

    id: str
    issue_id: str
    issue_key: str
    customer_id: str | None
    file_name: str
    mime_type: str
    file_size: int
    storage_key: str
    created: datetime
    author_id: str | None = None  # a SupportUser
    author_user_id: str | None = None
    backend_id: str = ""
    version: int = 0


def storage_key(issue_id: str, attachment_id: str) -> str:
    """Cirrus's name for the object (never the uploader's file name)."""
    return f"support/{issue_id}/{attachment_id}"


def may_attach(issue: Issue, user_id: str, *, is_staff: bool, owned_customers: frozenset[str]) -> bool:
    """Waldur's rule: staff, an owner of the issue's customer, or its caller."""
    if is_staff or issue.caller_id == user_id:
        return True
    return issue.customer_id is not None and issue.customer_id in owned_customers


def may_delete(
    attachment: Attachment, issue: Issue, user_id: str, *, is_staff: bool, owned_customers: frozenset[str]
) -> bool:
    return attachment.author_user_id == user_id or may_attach(
        issue, user_id, is_staff=is_staff, owned_customers=owned_customers
    )


def attachment_event(
    attachment: Attachment, issue: Issue, event_type: str, ctx: EventContext
) -> events.Event:
    verb = {CREATED: "added to", DELETED: "deleted from"}[event_type]
    message = f"Attachment {attachment.file_name} has been {verb} issue {issue.key}."
    fields = {
        **issue_fields(issue),
        "attachment_uuid": attachment.id,
        "attachment_file_name": attachment.file_name,
    }
    return events.make_event(event_type, message, ctx, fields, issue.customer_id)
