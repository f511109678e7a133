"""Telling a failed condition (an expected outcome) from any other DynamoDB failure."""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException, UpdateError

__all__ = ["UpdateError", "lost_condition"]


def lost_condition(exc: PynamoDBException) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"
