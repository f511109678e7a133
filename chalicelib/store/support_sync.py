"""The support desk's sync with an external service desk, in the single table (port `SupportLinks`).

- Link: `SUPPORTLINK#<backend>#<remote id>` / `#LINK`: which issue the remote issue is, and what both
  sides last agreed on (domain/support_sync.py). Made once (a second one for the same remote issue
  is a Conflict), then changed under a version condition.
- Comment link: the same partition / `COMMENT#<remote comment id>`: a remote comment our desk knows
  (imported from the remote, or ours pushed to it), naming our comment; made once, so a comment is
  never imported twice however often a pull sees it.
- Watermark: `SUPPORTSYNC#<backend>` / `#WATERMARK`: where the scheduled pull resumes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.errors import Conflict
from chalicelib.domain.support_sync import Link
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import keys
from chalicelib.store.codec import Codec
from chalicelib.store.items import BaseItem, SupportCommentLinkItem, SupportLinkItem, SupportWatermarkItem
from chalicelib.store.unit_of_work import LOST_RACE, transaction

_LINK = Codec(Link, keyed=frozenset({"issue_id", "version"}))


def _link(item: SupportLinkItem) -> Link:
    return _LINK.from_doc(item.fields or {}, issue_id=item.issue_id, version=int(item.version))


def _link_item(link: Link) -> SupportLinkItem:
    return SupportLinkItem(
        pk=keys.support_link_pk(link.backend, link.backend_id),
        sk=keys.SUPPORT_LINK_SK,
        issue_id=link.issue_id,
        fields=_LINK.to_doc(link),
        version=link.version,
    )


def get_link(backend: str, backend_id: str) -> Link | None:
    """One GetItem, consistent."""
    try:
        item = SupportLinkItem.get(
            keys.support_link_pk(backend, backend_id), keys.SUPPORT_LINK_SK, consistent_read=True
        )
    except DoesNotExist:
        return None
    return _link(item)


def add_link(uow: Work, link: Link) -> Link:
    made = replace(link, version=1)
    transaction(uow).put(
        _link_item(made), condition=SupportLinkItem.pk.does_not_exist(), on_conflict=Conflict(LOST_RACE)
    )
    return made


def save_link(uow: Work, before: Link, after: Link) -> Link:
    made = replace(after, version=before.version + 1)
    condition = SupportLinkItem.version == before.version
    transaction(uow).put(_link_item(made), condition=condition, on_conflict=Conflict(LOST_RACE))
    return made


def linked_comments(backend: str, issue_backend_id: str) -> dict[str, str]:
    """The remote issue's comments our desk knows: remote comment id -> our comment id (one
    Query of the remote issue's partition, consistent)."""
    found = BaseItem.query(
        keys.support_link_pk(backend, issue_backend_id),
        BaseItem.sk.startswith(keys.SUPPORT_COMMENT_LINK_PREFIX),
        consistent_read=True,
    )
    prefix = len(keys.SUPPORT_COMMENT_LINK_PREFIX)
    return {i.sk[prefix:]: i.comment_id for i in found if isinstance(i, SupportCommentLinkItem)}


def add_comment_link(
    uow: Work, backend: str, issue_backend_id: str, comment_backend_id: str, comment_id: str
) -> None:
    """Know the remote comment as ours `comment_id`; a Conflict if it is known already."""
    item = SupportCommentLinkItem(
        pk=keys.support_link_pk(backend, issue_backend_id),
        sk=keys.support_comment_link_sk(comment_backend_id),
        comment_id=comment_id,
        version=1,
    )
    transaction(uow).put(
        item, condition=SupportCommentLinkItem.pk.does_not_exist(), on_conflict=Conflict(LOST_RACE)
    )


def watermark(backend: str) -> datetime | None:
    try:
        item = SupportWatermarkItem.get(
            keys.support_sync_pk(backend), keys.SUPPORT_WATERMARK_SK, consistent_read=True
        )
    except DoesNotExist:
        return None
    return item.at


def set_watermark(backend: str, at: datetime) -> None:
    """Bookkeeping of the scheduled pull (one PutItem, no event)."""
    SupportWatermarkItem(pk=keys.support_sync_pk(backend), sk=keys.SUPPORT_WATERMARK_SK, at=at).save()
