"""In-memory support desk (the port `SupportDesk`, stored by `chalicelib/store/support.py`):
issues, comments and support users by id, with the store's versions and its read bound."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from chalicelib.config import get_settings
from chalicelib.domain.errors import TooBroad
from chalicelib.domain.support import Comment, Issue, SupportUser, counted
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import UnitOfWork
from chalicelib.store.pages import TOO_BROAD
from tests.fakes.world import World, lost_race, work


def _bounded(rows: list[Any], what: str, hint: str) -> list[Any]:
    limit = get_settings().filter_read_limit
    if len(rows) > limit:
        raise TooBroad(TOO_BROAD.format(what=what, limit=limit, hint=f" with {hint}"))
    return rows


class FakeSupportDesk:
    def __init__(self, world: World) -> None:
        self._issues: dict[str, Issue] = world.table("support_issues")
        self._comments: dict[str, Comment] = world.table("support_comments")
        self._users: dict[str, SupportUser] = world.table("support_users")
        self._numbers = world.table("support_issue_numbers")

    # --- versioned writes, as the store conditions them ----------------------------------------
    def _put_new(self, uow: UnitOfWork, table: str, rows: dict[str, Any], row: Any) -> Any:
        made = replace(row, version=1)
        work(uow).stage(
            table,
            row.id,
            lambda: lost_race() if row.id in rows else None,
            lambda: rows.__setitem__(row.id, made),
        )
        return made

    def _put_over(self, uow: UnitOfWork, table: str, rows: dict[str, Any], before: Any, after: Any) -> Any:
        made = replace(after, version=before.version + 1)

        def unchanged() -> bool:
            found = rows.get(before.id)
            return found is not None and found.version == before.version

        work(uow).stage(
            table,
            before.id,
            lambda: None if unchanged() else lost_race(),
            lambda: rows.__setitem__(made.id, made),
        )
        return made

    def _delete(self, uow: UnitOfWork, table: str, rows: dict[str, Any], row: Any) -> None:
        def unchanged() -> bool:
            found = rows.get(row.id)
            return found is not None and found.version == row.version

        work(uow).stage(
            table, row.id, lambda: None if unchanged() else lost_race(), lambda: rows.pop(row.id, None)
        )

    # --- issues ----------------------------------------------------------------------------------
    def get_issue(self, issue_id: str) -> Issue | None:
        return self._issues.get(issue_id)

    def next_issue_number(self) -> int:
        self._numbers["n"] = self._numbers.get("n", 0) + 1
        return int(self._numbers["n"])

    def add_issue(self, uow: UnitOfWork, issue: Issue) -> Issue:
        made: Issue = self._put_new(uow, "support_issues", self._issues, issue)
        return made

    def save_issue(self, uow: UnitOfWork, before: Issue, after: Issue) -> Issue:
        made: Issue = self._put_over(uow, "support_issues", self._issues, before, after)
        return made

    def remove_issue(self, uow: UnitOfWork, issue: Issue, comments: Iterable[Comment]) -> None:
        self._delete(uow, "support_issues", self._issues, issue)
        for comment in comments:
            self._drop(uow, comment.id)

    def _drop(self, uow: UnitOfWork, comment_id: str) -> None:
        def apply() -> None:
            self._comments.pop(comment_id, None)

        work(uow).stage("support_comments", comment_id, None, apply)

    def _sorted(self, rows: Iterable[Issue]) -> list[Issue]:
        return _bounded(
            sorted(rows, key=lambda i: i.id), "issues", "customer_uuid=, caller= or project_uuid="
        )

    def issues_of_customer(self, customer_id: str) -> list[Issue]:
        return self._sorted(i for i in self._issues.values() if i.customer_id == customer_id)

    def issues_of_user(self, user_id: str) -> list[Issue]:
        return self._sorted(i for i in self._issues.values() if user_id in (i.caller_id, i.reporter_user_id))

    def all_issues(self) -> list[Issue]:
        return self._sorted(self._issues.values())

    def issue_page(self, request: PageRequest, *, descending: bool = True) -> Page[Issue]:
        return paginate(sorted(self._issues.values(), key=lambda i: i.id, reverse=descending), request)

    # --- comments --------------------------------------------------------------------------------
    def get_comment(self, comment_id: str) -> Comment | None:
        return self._comments.get(comment_id)

    def comments_of(self, issue: Issue) -> list[Comment]:
        return sorted((c for c in self._comments.values() if c.issue_id == issue.id), key=lambda c: c.id)

    def add_comment(self, uow: UnitOfWork, comment: Comment) -> Comment:
        made: Comment = self._put_new(uow, "support_comments", self._comments, comment)
        return made

    def save_comment(self, uow: UnitOfWork, before: Comment, after: Comment) -> Comment:
        made: Comment = self._put_over(uow, "support_comments", self._comments, before, after)
        return made

    def remove_comment(self, uow: UnitOfWork, comment: Comment) -> None:
        self._delete(uow, "support_comments", self._comments, comment)

    def all_comments(self) -> list[Comment]:
        return _bounded(sorted(self._comments.values(), key=lambda c: c.id), "comments", "issue_uuid=")

    def comment_page(self, request: PageRequest, *, descending: bool = True) -> Page[Comment]:
        return paginate(sorted(self._comments.values(), key=lambda c: c.id, reverse=descending), request)

    # --- support users ---------------------------------------------------------------------------
    def get_support_user(self, support_user_id: str) -> SupportUser | None:
        return self._users.get(support_user_id)

    def get_support_users(self, ids: Iterable[str]) -> dict[str, SupportUser]:
        return {i: self._users[i] for i in ids if i in self._users}

    def add_support_user(self, uow: UnitOfWork, user: SupportUser) -> SupportUser:
        made: SupportUser = self._put_new(uow, "support_users", self._users, user)
        return made

    def save_support_user(self, uow: UnitOfWork, before: SupportUser, after: SupportUser) -> SupportUser:
        made: SupportUser = self._put_over(uow, "support_users", self._users, before, after)
        return made

    def remove_support_user(self, uow: UnitOfWork, user: SupportUser) -> None:
        self._delete(uow, "support_users", self._users, user)

    def count(self, uow: UnitOfWork, support_user_id: str, deltas: dict[str, int]) -> None:
        def apply() -> None:
            found = self._users[support_user_id]
            moved = counted(found, deltas)
            self._users[support_user_id] = replace(moved, version=found.version + 1)

        work(uow).stage(
            "support_users",
            support_user_id,
            lambda: None if support_user_id in self._users else lost_race(),
            apply,
        )

    def all_support_users(self) -> list[SupportUser]:
        return _bounded(list(self._users.values()), "support users", "user=")
