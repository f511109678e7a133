"""Support feedbacks and their tokens (store/support_feedbacks.py) and their fake behave alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain import support_feedback as domain
from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.support_feedback import Feedback
from chalicelib.services.paging import PageRequest
from chalicelib.services.ports import Ports

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _feedback(n: int, issue: str | None = None, customer: str | None = "c1") -> Feedback:
    return Feedback(
        id=f"{n:032x}",
        issue_id=issue or f"i{n}",
        customer_id=customer,
        evaluation=n,
        comment=f"comment {n}",
        created=T0 + timedelta(minutes=n),
        modified=T0 + timedelta(minutes=n),
        issue_key=f"SUP-{n}",
        issue_summary="Slow",
        caller_id="u1",
        user_full_name="Uma User",
    )


def _add(ports: Ports, feedback: Feedback) -> Feedback:
    uow = ports.unit_of_work()
    made = ports.support_feedbacks.add(uow, feedback)
    uow.commit()
    return made


def test_feedbacks_are_found_by_id_by_issue_and_listed_oldest_first(ports: Ports) -> None:
    store = ports.support_feedbacks
    first = _add(ports, _feedback(1))
    second = _add(ports, _feedback(2, customer=None))  # a personal issue's, in the desk's partition
    third = _add(ports, _feedback(3))

    assert store.get(first.id) == first and first.version == 1
    assert store.get(f"{99:032x}") is None
    assert store.of_issue("i2", None) == second and store.of_issue("i9", "c1") is None
    assert store.of_issues([("i1", "c1"), ("i2", None), ("i9", None)]) == {"i1": first, "i2": second}
    assert store.of_issues([]) == {}
    assert [f.id for f in store.every()] == [first.id, second.id, third.id]
    page = store.page(PageRequest(page=1, page_size=2))
    assert [f.id for f in page.items] == [first.id, second.id] and page.total in (2, 3)


def test_one_feedback_per_issue_and_a_stale_removal_is_refused(ports: Ports) -> None:
    store = ports.support_feedbacks
    made = _add(ports, _feedback(1))
    with pytest.raises(ValidationError) as refused:
        _add(ports, _feedback(2, issue="i1"))
    assert refused.value.errors == {"non_field_errors": [domain.ALREADY_GIVEN]}
    assert store.of_issue("i1", "c1") == made

    uow = ports.unit_of_work()
    store.remove(uow, Feedback(**{**made.__dict__, "version": 7}))
    with pytest.raises(Conflict):
        uow.commit()
    uow = ports.unit_of_work()
    store.remove(uow, made)
    uow.commit()
    assert store.get(made.id) is None and store.of_issue("i1", "c1") is None


def test_a_token_is_kept_by_its_hash_only(ports: Ports) -> None:
    store = ports.support_feedbacks
    token, kept = domain.new_token("i1", "c1", T0)
    store.keep_token(kept)
    found = store.get_token(domain.token_hash(token))
    assert found == kept and found is not None and token not in found.token_hash
    assert found.opened_by(token, T0 + timedelta(days=6))
    assert not found.opened_by(token, T0 + timedelta(days=7))  # Waldur's 7 days
    assert not found.opened_by(token + "x", T0)
    assert store.get_token(domain.token_hash("another")) is None


def test_the_evaluations_are_counted_and_a_removal_uncounts(ports: Ports, settle: Any) -> None:
    """The reports' counts (on DynamoDB: the stream's counters, moved once `settle` reads it)."""
    store = ports.support_feedbacks
    made = [
        _add(ports, replace(_feedback(n, issue=f"i{k}"), id=f"{100 + k:032x}"))
        for k, n in enumerate((7, 10, 10))
    ]
    settle()
    assert store.evaluation_counts() == {**{n: 0 for n in range(1, 11)}, 7: 1, 10: 2}
    uow = ports.unit_of_work()
    store.remove(uow, made[1])
    uow.commit()
    settle()
    assert store.evaluation_counts()[10] == 1
