"""What a cancelled transaction is reported as, reason by reason (DynamoDB gives one per write)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.domain.errors import Conflict, NotFound, ServiceUnavailable
from chalicelib.store.unit_of_work import LOST_RACE, TransactionRejected, UnitOfWork


def cancelled(*codes: str | None) -> Any:
    reasons = [SimpleNamespace(code=c, message=f"{c} happened") if c else None for c in codes]
    return SimpleNamespace(cancellation_reasons=reasons, cause_response_code="TransactionCanceledException")


def explain(*codes: str | None) -> Exception:
    errors: list[Any] = [NotFound("project")] * len(codes)
    return UnitOfWork._explain(cancelled(*codes), errors)


def test_a_failed_condition_is_the_error_its_write_names():
    assert isinstance(explain(None, "ConditionalCheckFailed"), NotFound)


def test_contention_alone_is_a_lost_race():
    outcome = explain(None, "TransactionConflict")
    assert isinstance(outcome, Conflict) and outcome.detail == LOST_RACE


@pytest.mark.parametrize("code", ["ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"])
def test_throttling_is_unavailable_for_now(code):
    outcome = explain(code, None, "TransactionConflict")
    assert isinstance(outcome, ServiceUnavailable) and outcome.retry_after >= 1


def test_an_invalid_write_is_a_bug_naming_the_reason_not_a_lost_race():
    outcome = explain(None, "ValidationError")
    assert isinstance(outcome, TransactionRejected)
    assert "ValidationError happened" in str(outcome)
