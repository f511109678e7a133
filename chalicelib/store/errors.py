"""Telling a failed condition (an expected outcome) from any other DynamoDB failure, and a throttled
store (worth retrying later) from both."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import PynamoDBException, UpdateError

from chalicelib.domain.errors import ServiceUnavailable

__all__ = [
    "THROTTLED_REASONS",
    "UpdateError",
    "lost_condition",
    "raise_if_throttled",
    "throttled",
    "watch_throttling",
]

# What a caller is told to wait before sending the request again. botocore has already retried the
# call with backoff (standard mode) by the time this is seen, so the table is busy for a while yet.
RETRY_AFTER_SECONDS = 2

# Error codes of a call DynamoDB refused to serve now (botocore's standard mode retries each of
# them; these are what is left once its attempts are spent). TransactionInProgressException is the
# answer to a retry (same ClientRequestToken) of a transaction still being applied: its outcome is
# not known yet, so the caller is asked to come back rather than told it failed.
THROTTLED_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
    }
)
# The same, as TransactWriteItems' cancellation reasons (one per item of the transaction).
THROTTLED_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})


def lost_condition(exc: PynamoDBException) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def throttled() -> ServiceUnavailable:
    return ServiceUnavailable(retry_after=RETRY_AFTER_SECONDS)


def raise_if_throttled(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
    """botocore's `after-call` hook (run once, after its retries): a throttled DynamoDB call becomes
    ServiceUnavailable wherever it was made (a read, a single write, a transaction), so the API
    answers 503 with Retry-After and a queue task is retried, instead of a 500 / a permanent
    failure for every caller to classify pynamodb's exceptions itself."""
    status = getattr(http_response, "status_code", 200)
    if status >= 400 and (parsed.get("Error") or {}).get("Code") in THROTTLED_CODES:
        raise throttled()


def watch_throttling(client: Any) -> None:
    """Register `raise_if_throttled` on a DynamoDB client (idempotent: one unique id)."""
    client.meta.events.register("after-call.dynamodb", raise_if_throttled, unique_id="cirrus-throttled")
