"""In-memory support attachments' records (the port `SupportAttachments`, stored by
`chalicelib/store/support_attachments.py`), with the store's versions and its read bound."""

from __future__ import annotations

from chalicelib.domain.attachments import Attachment
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import UnitOfWork
from tests.fakes.support import FakeSupportDesk, _bounded
from tests.fakes.world import World

TABLE = "support_attachments"


class FakeSupportAttachments:
    def __init__(self, world: World) -> None:
        self._rows: dict[str, Attachment] = world.table(TABLE)
        self._writes = FakeSupportDesk(world)  # its versioned writes, as the store conditions them

    def get(self, attachment_id: str) -> Attachment | None:
        return self._rows.get(attachment_id)

    def of_issue(self, issue_id: str, customer_id: str | None) -> list[Attachment]:
        return sorted((a for a in self._rows.values() if a.issue_id == issue_id), key=lambda a: a.id)

    def add(self, uow: UnitOfWork, attachment: Attachment) -> Attachment:
        made: Attachment = self._writes._put_new(uow, TABLE, self._rows, attachment)
        return made

    def remove(self, uow: UnitOfWork, attachment: Attachment) -> None:
        self._writes._delete(uow, TABLE, self._rows, attachment)

    def every(self) -> list[Attachment]:
        return _bounded(sorted(self._rows.values(), key=lambda a: a.id), "attachments", "issue_uuid=")

    def page(self, request: PageRequest, *, descending: bool = True) -> Page[Attachment]:
        return paginate(sorted(self._rows.values(), key=lambda a: a.id, reverse=descending), request)
