"""Support attachments in the single table: `<issue pk>` / `ISSUEATTACH#<issue>#<id>` beside their
issue (an issue's attachments: one Query of a prefix, oldest first), gsi1 `ISSUEATTACHMENTS` /
`<id>` (by id; the desk's list, newest first, totalled by the `support_attachments` counter). The
files are S3 objects (chalicelib/files.py) named by `storage_key`."""

from __future__ import annotations

from dataclasses import replace

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.attachments import Attachment
from chalicelib.domain.errors import Conflict
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.codec import Codec
from chalicelib.store.items import BaseItem, IssueAttachmentItem
from chalicelib.store.pages import everything
from chalicelib.store.unit_of_work import LOST_RACE, transaction

NARROW = ("attachments", "issue_uuid=")
_CODEC = Codec(Attachment, keyed=frozenset({"id", "issue_id", "customer_id", "created", "version"}))


def _attachment(item: IssueAttachmentItem) -> Attachment:
    return _CODEC.from_doc(
        item.fields or {},
        id=item.attachment_id,
        issue_id=item.issue_id,
        customer_id=item.customer_id,
        created=item.created,
        version=int(item.version),
    )


def _item(attachment: Attachment) -> IssueAttachmentItem:
    return IssueAttachmentItem(
        pk=keys.issue_pk(attachment.customer_id),
        sk=keys.issue_attachment_sk(attachment.issue_id, attachment.id),
        gsi1pk=keys.ISSUE_ATTACHMENTS,
        gsi1sk=attachment.id,
        attachment_id=attachment.id,
        issue_id=attachment.issue_id,
        customer_id=attachment.customer_id,
        created=attachment.created,
        fields=_CODEC.to_doc(attachment),
        version=attachment.version,
    )


def get(attachment_id: str) -> Attachment | None:
    """The attachment as stored now (gsi1, then a consistent read)."""
    for found in BaseItem.gsi1.query(keys.ISSUE_ATTACHMENTS, BaseItem.gsi1sk == attachment_id):
        if isinstance(found, IssueAttachmentItem):
            try:
                return _attachment(IssueAttachmentItem.get(found.pk, found.sk, consistent_read=True))
            except DoesNotExist:
                return None
    return None


def of_issue(issue_id: str, customer_id: str | None) -> list[Attachment]:
    """An issue's attachments, oldest first: one Query of its prefix (read consistently)."""
    found = BaseItem.query(
        keys.issue_pk(customer_id),
        BaseItem.sk.startswith(keys.issue_attachment_prefix(issue_id)),
        consistent_read=True,
    )
    return [_attachment(i) for i in found if isinstance(i, IssueAttachmentItem)]


def add(uow: Work, attachment: Attachment) -> Attachment:
    made = replace(attachment, version=1)
    transaction(uow).put(
        _item(made), condition=IssueAttachmentItem.pk.does_not_exist(), on_conflict=Conflict(LOST_RACE)
    )
    return made


def remove(uow: Work, attachment: Attachment) -> None:
    transaction(uow).delete(
        _item(attachment),
        condition=IssueAttachmentItem.version == attachment.version,
        on_conflict=Conflict(LOST_RACE),
    )


def every() -> list[Attachment]:
    """Every attachment, oldest first (filtered lists): bounded by `filter_read_limit`."""
    listing = everything(
        keys.ISSUE_ATTACHMENTS,
        IssueAttachmentItem,
        counters.SUPPORT_ATTACHMENTS,
        descending=False,
        narrow=NARROW,
    )
    return [_attachment(i) for i in pages.read_filtered([listing])]


def page(request: PageRequest, *, descending: bool = True) -> Page[Attachment]:
    """Page `request` of every attachment, newest first (the desk's unfiltered list): one Query."""
    listing = everything(
        keys.ISSUE_ATTACHMENTS,
        IssueAttachmentItem,
        counters.SUPPORT_ATTACHMENTS,
        descending=descending,
        narrow=NARROW,
    )
    return pages.rows_page(listing, _attachment, request.page, request.page_size)
