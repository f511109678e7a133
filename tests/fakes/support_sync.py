"""In-memory links to an external service desk (the port `SupportLinks`, stored by
`chalicelib/store/support_sync.py`), with the store's conditions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.domain.support_sync import Link
from chalicelib.services.ports import UnitOfWork
from tests.fakes.world import World, lost_race, work


class FakeSupportLinks:
    def __init__(self, world: World) -> None:
        self._links: dict[tuple[str, str], Link] = world.table("support_links")
        self._comments: dict[tuple[str, str, str], str] = world.table("support_comment_links")
        self._marks: dict[str, datetime] = world.table("support_watermarks")

    def get_link(self, backend: str, backend_id: str) -> Link | None:
        return self._links.get((backend, backend_id))

    def add_link(self, uow: UnitOfWork, link: Link) -> Link:
        made = replace(link, version=1)
        key = (link.backend, link.backend_id)
        work(uow).stage(
            "support_links",
            key,
            lambda: lost_race() if key in self._links else None,
            lambda: self._links.__setitem__(key, made),
        )
        return made

    def save_link(self, uow: UnitOfWork, before: Link, after: Link) -> Link:
        made = replace(after, version=before.version + 1)
        key = (before.backend, before.backend_id)

        def unchanged() -> bool:
            found = self._links.get(key)
            return found is not None and found.version == before.version

        work(uow).stage(
            "support_links",
            key,
            lambda: None if unchanged() else lost_race(),
            lambda: self._links.__setitem__(key, made),
        )
        return made

    def linked_comments(self, backend: str, issue_backend_id: str) -> dict[str, str]:
        return {
            remote: ours
            for (kind, issue, remote), ours in self._comments.items()
            if (kind, issue) == (backend, issue_backend_id)
        }

    def add_comment_link(
        self, uow: UnitOfWork, backend: str, issue_backend_id: str, comment_backend_id: str, comment_id: str
    ) -> None:
        key = (backend, issue_backend_id, comment_backend_id)
        work(uow).stage(
            "support_comment_links",
            key,
            lambda: lost_race() if key in self._comments else None,
            lambda: self._comments.__setitem__(key, comment_id),
        )

    def watermark(self, backend: str) -> datetime | None:
        return self._marks.get(backend)

    def set_watermark(self, backend: str, at: datetime) -> None:
        self._marks[backend] = at
