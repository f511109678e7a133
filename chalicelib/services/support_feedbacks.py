"""Feedback on resolved support issues (Waldur's `support-feedbacks/`; rules in
chalicelib/domain/support_feedback.py).

- **Anybody holding a mailed token** rates its issue once, signed in or not (Waldur's
  `create_permissions = ()`): a token that is unknown or past its 7 days is "Token is wrong."; an
  issue rated already is "Feedback for this issue already exists." (the store's conditional put
  decides a race). Waldur logs no event for it, nor does Cirrus.
- **Staff and support** list and read feedbacks; anybody else gets a 403 (Waldur's
  is_staff_or_support on list and retrieve).
- The token is made by the resolution mail's task (`request_token`), which keeps only its hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib.domain import support_feedback as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, PermissionDenied, ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.support import Issue
from chalicelib.domain.support_feedback import Feedback
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import support as issues
from chalicelib.services.ports import support_feedbacks as store
from chalicelib.services.ports import unit_of_work

WRONG_TOKEN = ValidationError({"token": [domain.TOKEN_WRONG]})


# --- giving feedback -----------------------------------------------------------------------------
def create(ctx: EventContext, token: str, evaluation: int, comment: str = "") -> Feedback:
    """Rate the issue the token opens (no sign-in needed: `ctx` may carry nobody)."""
    now = utcnow()
    kept = store.get_token(domain.token_hash(token)) if token else None
    if kept is None or not kept.opened_by(token, now):
        raise WRONG_TOKEN
    issue = issues.get_issue(kept.issue_id)
    if issue is None:
        raise ValidationError({"non_field_errors": [domain.ISSUE_GONE]})
    if store.of_issue(issue.id, issue.customer_id) is not None:
        raise ValidationError({"non_field_errors": [domain.ALREADY_GIVEN]})
    feedback = Feedback(
        id=new_id(),
        issue_id=issue.id,
        customer_id=issue.customer_id,
        evaluation=evaluation,
        comment=comment,
        created=now,
        modified=now,
        issue_key=issue.key,
        issue_summary=issue.summary,
        caller_id=issue.caller_id,
        user_full_name=issue.caller_full_name or "",
    )
    uow = unit_of_work()
    made = store.add(uow, feedback)
    uow.commit()  # Waldur logs no event for a feedback
    return made


def request_token(issue: Issue) -> str:
    """A new token for the issue's feedback mail (its hash kept first, so a mailed token works)."""
    token, kept = domain.new_token(issue.id, issue.customer_id, utcnow())
    store.keep_token(kept)
    return token


# --- reading feedback ----------------------------------------------------------------------------
def require_reader(principal: Principal) -> None:
    """Staff and support read feedbacks; anybody else gets a 403."""
    if not principal.reads_everything:
        raise PermissionDenied()


def report(principal: Principal) -> dict[str, int]:
    """Waldur's feedback report: how many feedbacks rate each evaluation, by its label ("1" to
    "10"), the evaluations nobody gave left out. Staff and support only."""
    require_reader(principal)
    return {str(n): count for n, count in sorted(store.evaluation_counts().items()) if count}


def average(principal: Principal) -> float | None:
    """Waldur's average evaluation, to two decimals; None without any feedback."""
    require_reader(principal)
    counts = store.evaluation_counts()
    total = sum(counts.values())
    return round(sum(n * c for n, c in counts.items()) / total, 2) if total else None


def get(principal: Principal, feedback_id: str) -> Feedback:
    """The desk reads one; anybody else gets a 403 whatever the id (Waldur checks before looking)."""
    require_reader(principal)
    found = store.get(feedback_id)
    if found is None:
        raise NotFound(domain.FEEDBACK)
    return found


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class FeedbackFilters:
    """Waldur's FeedbackFilter (and what waldur-api-client sends)."""

    issue_id: str | None = None
    caller_id: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    evaluations: tuple[int, ...] = ()
    issue_key: str | None = None
    user_full_name: str | None = None

    def keep(self, f: Feedback) -> bool:
        before, after = _aware(self.created_before), _aware(self.created_after)
        return (
            (self.issue_id is None or f.issue_id == self.issue_id)
            and (self.caller_id is None or f.caller_id == self.caller_id)
            and (before is None or f.created <= before)
            and (after is None or f.created >= after)
            and (not self.evaluations or f.evaluation in self.evaluations)
            and (self.issue_key is None or f.issue_key == self.issue_key)
            and (self.user_full_name is None or self.user_full_name.lower() in f.user_full_name.lower())
        )

    @property
    def filtered(self) -> bool:
        return any(v not in (None, ()) for v in vars(self).values())


def listed(principal: Principal, filters: FeedbackFilters, request: PageRequest) -> Page[Feedback]:
    """The desk's list, oldest first (Waldur's order): one page of the feedbacks' index, or every
    feedback (bounded by `filter_read_limit`) filtered in memory."""
    require_reader(principal)
    if not filters.filtered:
        return store.page(request)
    return paginate([f for f in store.every() if filters.keep(f)], request)


def of_issue(issue: Issue) -> Feedback | None:
    """The issue's feedback (what its answer nests)."""
    return store.of_issue(issue.id, issue.customer_id)


def of_issues(found: Iterable[Issue]) -> dict[str, Feedback]:
    """The feedbacks of a page of issues, by issue id."""
    return store.of_issues((i.id, i.customer_id) for i in found)


def delete_of_issue(issue_id: str, customer_id: str | None) -> bool:
    """A deleted issue's feedback goes with it (Waldur's cascade), in its follow-up task."""
    found = store.of_issue(issue_id, customer_id)
    if found is None:
        return False
    uow = unit_of_work()
    store.remove(uow, found)
    uow.commit()
    return True
