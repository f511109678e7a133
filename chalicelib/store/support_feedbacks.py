"""Support feedbacks and their mailed tokens in the single table.

- Feedback: `<issue pk>` / `ISSUEFEEDBACK#<issue>` beside its issue (the key makes it one per issue:
  a conditional put), gsi1 `ISSUEFEEDBACKS` / `<id>` (by id; the desk's list, totalled by the
  `support_feedbacks` counter).
- Token: `FEEDBACKTOKEN#<sha256 of the token>` / `#META`: the issue it rates and until when
  (`expires_at`, the table's TTL, removes it a while after).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain import support_feedback as domain
from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.support_feedback import Feedback, FeedbackToken
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.codec import Codec
from chalicelib.store.items import BaseItem, FeedbackTokenItem, IssueFeedbackItem
from chalicelib.store.pages import everything
from chalicelib.store.unit_of_work import LOST_RACE, transaction

NARROW = ("feedbacks", "issue_uuid=")
_CODEC = Codec(Feedback, keyed=frozenset({"id", "issue_id", "customer_id", "created", "version"}))


def already() -> ValidationError:
    """Waldur's serializer error, raised in its validate(): DRF files it under non_field_errors."""
    return ValidationError({"non_field_errors": [domain.ALREADY_GIVEN]})


def _feedback(item: IssueFeedbackItem) -> Feedback:
    return _CODEC.from_doc(
        item.fields or {},
        id=item.feedback_id,
        issue_id=item.issue_id,
        customer_id=item.customer_id,
        created=item.created,
        version=int(item.version),
    )


def _item(feedback: Feedback) -> IssueFeedbackItem:
    return IssueFeedbackItem(
        pk=keys.issue_pk(feedback.customer_id),
        sk=keys.issue_feedback_sk(feedback.issue_id),
        gsi1pk=keys.ISSUE_FEEDBACKS,
        gsi1sk=feedback.id,
        feedback_id=feedback.id,
        issue_id=feedback.issue_id,
        customer_id=feedback.customer_id,
        created=feedback.created,
        fields=_CODEC.to_doc(feedback),
        version=feedback.version,
    )


def get(feedback_id: str) -> Feedback | None:
    """The feedback as stored now (gsi1, then a consistent read)."""
    for found in BaseItem.gsi1.query(keys.ISSUE_FEEDBACKS, BaseItem.gsi1sk == feedback_id):
        if isinstance(found, IssueFeedbackItem):
            try:
                return _feedback(IssueFeedbackItem.get(found.pk, found.sk, consistent_read=True))
            except DoesNotExist:
                return None
    return None


def of_issue(issue_id: str, customer_id: str | None) -> Feedback | None:
    """The issue's feedback, if any: one GetItem, consistent."""
    try:
        item = IssueFeedbackItem.get(
            keys.issue_pk(customer_id), keys.issue_feedback_sk(issue_id), consistent_read=True
        )
    except DoesNotExist:
        return None
    return _feedback(item)


def of_issues(issues: Iterable[tuple[str, str | None]]) -> dict[str, Feedback]:
    """The feedbacks of several issues (issue id, customer id), by issue id: one BatchGetItem per
    hundred."""
    wanted = [(keys.issue_pk(c), keys.issue_feedback_sk(i)) for i, c in dict.fromkeys(issues)]
    if not wanted:
        return {}
    found = (_feedback(item) for item in IssueFeedbackItem.batch_get(wanted))
    return {f.issue_id: f for f in found}


def add(uow: Work, feedback: Feedback) -> Feedback:
    """Make it; the issue's feedback given meanwhile makes the commit raise Waldur's 400."""
    made = replace(feedback, version=1)
    transaction(uow).put(_item(made), condition=IssueFeedbackItem.pk.does_not_exist(), on_conflict=already)
    return made


def remove(uow: Work, feedback: Feedback) -> None:
    condition = IssueFeedbackItem.version == feedback.version
    transaction(uow).delete(_item(feedback), condition=condition, on_conflict=Conflict(LOST_RACE))


def every() -> list[Feedback]:
    """Every feedback, oldest first (filtered lists): bounded by `filter_read_limit`."""
    listing = everything(
        keys.ISSUE_FEEDBACKS, IssueFeedbackItem, counters.SUPPORT_FEEDBACKS, descending=False, narrow=NARROW
    )
    return [_feedback(i) for i in pages.read_filtered([listing])]


def page(request: PageRequest, *, descending: bool = False) -> Page[Feedback]:
    """Page `request` of every feedback, oldest first (Waldur's order): one Query."""
    listing = everything(
        keys.ISSUE_FEEDBACKS,
        IssueFeedbackItem,
        counters.SUPPORT_FEEDBACKS,
        descending=descending,
        narrow=NARROW,
    )
    return pages.rows_page(listing, _feedback, request.page, request.page_size)


# --- tokens --------------------------------------------------------------------------------------
def keep_token(token: FeedbackToken) -> None:
    """Keep a mailed token's hash (one PutItem; a hash is never taken twice)."""
    FeedbackTokenItem(
        pk=keys.feedback_token_pk(token.token_hash),
        sk=keys.META,
        issue_id=token.issue_id,
        customer_id=token.customer_id,
        expires=token.expires,
        expires_at=token.expires,
    ).save(condition=FeedbackTokenItem.pk.does_not_exist())


def get_token(token_hash: str) -> FeedbackToken | None:
    """The token with that hash, if kept (expired ones too, until the TTL removes them)."""
    try:
        item = FeedbackTokenItem.get(keys.feedback_token_pk(token_hash), keys.META, consistent_read=True)
    except DoesNotExist:
        return None
    return FeedbackToken(token_hash, item.issue_id, item.customer_id, item.expires)


def evaluation_counts() -> dict[int, int]:
    """The ten evaluations' counters (store/counters.py), in one BatchGetItem."""
    names = {n: counters.feedback_evaluation(n) for n in range(1, 11)}
    found = counters.values(list(names.values()))
    return {n: found[name] for n, name in names.items()}
