"""Files attached to support issues (`/api/support-attachments/`): who may attach, read and delete
them (domain/attachments.py), with the file in the `Files` port (S3) and its record beside the
issue in the table.

Adding one: the upload is checked (size, type, name), offered to every scanner in `SCANNERS`
(the malware-scan hook point: a callable that raises ValidationError to refuse a file; none is
installed by default), stored under a key Cirrus makes, then recorded with its `attachment_created`
event; if the record cannot be written the stored file is deleted again. Deleting one removes the
record with its `attachment_deleted` event; the file goes in that event's follow-up task
(`support.delete_attachment_file`), so it is deleted even if the request's process dies. An issue's
deletion is followed the same way by the removal of its attachments and their files
(`support.delete_issue_attachments`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.config import get_settings
from chalicelib.domain import attachments as domain
from chalicelib.domain.attachments import Attachment, Upload
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, PermissionDenied, ValidationError
from chalicelib.domain.ids import id_from_url, new_id
from chalicelib.domain.support import Issue
from chalicelib.services import support
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import files, unit_of_work
from chalicelib.services.ports import support as issues
from chalicelib.services.ports import support_attachments as store

REQUIRED = "This field is required."
INVALID_HYPERLINK = "Invalid hyperlink - Object does not exist."

# The malware-scan hook point: each is called with the checked upload before it is stored and may
# refuse it by raising ValidationError (e.g. a ClamAV or a cloud scanner's verdict).
SCANNERS: list[Callable[[Upload], None]] = []


@dataclass(frozen=True)
class Visible:
    """An attachment a caller may see, with its issue (for the response's `issue_key` and rights)."""

    attachment: Attachment
    issue: Issue


def _issue_of(principal: Principal, reference: str | None) -> Issue:
    """The issue a new attachment names: one the caller sees, else the hyperlink is invalid (an
    issue they may not see is not revealed)."""
    if not reference:
        raise ValidationError.field("issue", REQUIRED)
    issue_id = id_from_url(reference)
    try:
        return support.get_visible(principal, issue_id) if issue_id else _missing()
    except NotFound:
        raise ValidationError.field("issue", INVALID_HYPERLINK) from None


def _missing() -> Issue:
    raise NotFound(domain.ATTACHMENT)


def _owned(principal: Principal) -> frozenset[str]:
    return support.rights(principal).owned_customers


def create(ctx: EventContext, issue_reference: str | None, upload: Upload | None) -> Visible:
    principal = ctx.actor
    issue = _issue_of(principal, issue_reference)
    if not domain.may_attach(
        issue, principal.user_id, is_staff=principal.is_staff, owned_customers=_owned(principal)
    ):
        raise PermissionDenied()
    if upload is None:
        raise ValidationError.field("file", domain.NO_FILE)
    settings = get_settings()
    name, mime = domain.check(upload.name, upload.mime_type, upload.size, settings.attachment_max_bytes)
    checked = Upload(name=name, mime_type=mime, content=upload.content)
    for refuse_if_unsafe in SCANNERS:
        refuse_if_unsafe(checked)
    attachment_id = new_id()
    tally = support._Tally()
    author = support.own_support_user(principal, tally)
    attachment = Attachment(
        id=attachment_id,
        issue_id=issue.id,
        issue_key=issue.key,
        customer_id=issue.customer_id,
        file_name=name,
        mime_type=mime,
        file_size=checked.size,
        storage_key=domain.storage_key(issue.id, attachment_id),
        created=utcnow(),
        author_id=author.id,
        author_user_id=principal.user_id,
    )
    files.put(attachment.storage_key, checked.content, mime)
    try:
        uow = unit_of_work()
        tally.stage(uow)
        made = store.add(uow, attachment)
        uow.record(domain.attachment_event(made, issue, domain.CREATED, ctx))
        uow.commit()
    except BaseException:
        files.delete(attachment.storage_key)  # nothing refers to it
        raise
    return Visible(made, issue)


def get_visible(principal: Principal, attachment_id: str) -> Visible:
    attachment = store.get(attachment_id)
    issue = issues.get_issue(attachment.issue_id) if attachment else None
    if attachment is None or issue is None or not support.rights(principal).sees(issue):
        raise NotFound(domain.ATTACHMENT)
    return Visible(attachment, issue)


def listed(principal: Principal, issue_reference: str | None, request: PageRequest) -> Page[Visible]:
    """Waldur's list, filtered by `issue`/`issue_uuid`: one issue's attachments (of an issue the
    caller sees), else every attachment the caller sees (the desk's unfiltered list is one Query;
    anybody else's is read and checked against its issues, bounded by `filter_read_limit`)."""
    who = support.rights(principal)
    if issue_reference is not None:
        issue_id = id_from_url(issue_reference) or ""
        issue = issues.get_issue(issue_id)
        if issue is None or not who.sees(issue):
            return paginate([], request)
        rows = sorted(store.of_issue(issue.id, issue.customer_id), key=lambda a: a.created, reverse=True)
        return paginate([Visible(a, issue) for a in rows], request)
    if who.desk:
        page = store.page(request)
        found = {issue_id: issues.get_issue(issue_id) for issue_id in {a.issue_id for a in page.items}}
        return Page([Visible(a, i) for a in page.items if (i := found[a.issue_id]) is not None], page.total)
    seen: dict[str, Issue | None] = {}
    visible = []
    for attachment in sorted(store.every(), key=lambda a: a.created, reverse=True):
        if attachment.issue_id not in seen:
            issue = issues.get_issue(attachment.issue_id)
            seen[attachment.issue_id] = issue if issue is not None and who.sees(issue) else None
        if (issue := seen[attachment.issue_id]) is not None:
            visible.append(Visible(attachment, issue))
    return paginate(visible, request)


def download_url(visible: Visible) -> str:
    """A short-lived URL that downloads the file (only ever made for a caller who sees it)."""
    a = visible.attachment
    return files.download_url(a.storage_key, a.file_name, a.mime_type)


def may_delete(principal: Principal, visible: Visible) -> bool:
    return domain.may_delete(
        visible.attachment,
        visible.issue,
        principal.user_id,
        is_staff=principal.is_staff,
        owned_customers=_owned(principal),
    )


def delete(ctx: EventContext, attachment_id: str) -> None:
    visible = get_visible(ctx.actor, attachment_id)
    if not may_delete(ctx.actor, visible):
        raise PermissionDenied()
    uow = unit_of_work()
    store.remove(uow, visible.attachment)
    uow.record(domain.attachment_event(visible.attachment, visible.issue, domain.DELETED, ctx))
    uow.commit()


def delete_file(issue_id: str, attachment_id: str) -> None:
    """The follow-up of `attachment_deleted`: the stored file goes (again, if redelivered: S3
    deletes what is not there without error)."""
    files.delete(domain.storage_key(issue_id, attachment_id))


def delete_of_issue(issue_id: str, customer_id: str | None) -> int:
    """The follow-up of `issue_deletion_succeeded`: the deleted issue's attachments and their files
    (no event each: the issue's deletion is the record). Redelivered, it finds nothing left."""
    removed = 0
    for attachment in store.of_issue(issue_id, customer_id):
        uow = unit_of_work()
        store.remove(uow, attachment)
        uow.commit()
        files.delete(attachment.storage_key)
        removed += 1
    return removed
