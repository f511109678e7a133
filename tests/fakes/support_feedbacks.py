"""In-memory support feedbacks and their tokens (the port `SupportFeedbacks`, stored by
`chalicelib/store/support_feedbacks.py`): one feedback per issue, the store's versions and read bound."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from chalicelib.domain.errors import DomainError
from chalicelib.domain.support_feedback import Feedback, FeedbackToken
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import UnitOfWork
from chalicelib.store.support_feedbacks import already
from tests.fakes.support import FakeSupportDesk, _bounded
from tests.fakes.world import World, work

TABLE = "support_feedbacks"


class FakeSupportFeedbacks:
    def __init__(self, world: World) -> None:
        self._rows: dict[str, Feedback] = world.table(TABLE)
        self._tokens: dict[str, FeedbackToken] = world.table("support_feedback_tokens")
        self._writes = FakeSupportDesk(world)  # its versioned writes, as the store conditions them

    def get(self, feedback_id: str) -> Feedback | None:
        return self._rows.get(feedback_id)

    def of_issue(self, issue_id: str, customer_id: str | None) -> Feedback | None:
        return next((f for f in self._rows.values() if f.issue_id == issue_id), None)

    def of_issues(self, issues: Iterable[tuple[str, str | None]]) -> dict[str, Feedback]:
        wanted = {issue_id for issue_id, _ in issues}
        return {f.issue_id: f for f in self._rows.values() if f.issue_id in wanted}

    def add(self, uow: UnitOfWork, feedback: Feedback) -> Feedback:
        made = replace(feedback, version=1)

        def given() -> DomainError | None:
            return already() if self.of_issue(feedback.issue_id, feedback.customer_id) else None

        work(uow).stage(TABLE, feedback.id, given, lambda: self._rows.__setitem__(made.id, made))
        return made

    def remove(self, uow: UnitOfWork, feedback: Feedback) -> None:
        self._writes._delete(uow, TABLE, self._rows, feedback)

    def every(self) -> list[Feedback]:
        return _bounded(sorted(self._rows.values(), key=lambda f: f.id), "feedbacks", "issue_uuid=")

    def page(self, request: PageRequest, *, descending: bool = False) -> Page[Feedback]:
        return paginate(sorted(self._rows.values(), key=lambda f: f.id, reverse=descending), request)

    def evaluation_counts(self) -> dict[int, int]:
        return {n: sum(1 for f in self._rows.values() if f.evaluation == n) for n in range(1, 11)}

    def keep_token(self, token: FeedbackToken) -> None:
        self._tokens[token.token_hash] = token

    def get_token(self, token_hash: str) -> FeedbackToken | None:
        return self._tokens.get(token_hash)
