"""`/health-check/`: what Waldur's django-health-check answers at the server root, which HomePort's
header reads (every value "working": a green mark; else a red one with the list). Public, like
Waldur's; it says only whether each part answers."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import RootModel

from chalicelib.api.rest import Call, WithStatus, endpoint

bp = Blueprint(__name__)
TAG = "health-check"
WORKING = "working"


class HealthOut(RootModel[dict[str, str]]):
    """Each checked part and "working", or what is wrong with it."""


@endpoint(
    bp,
    "/health-check",
    "GET",
    name="health_check",
    tag=TAG,
    anonymous=True,
    response=HealthOut,
    also=(500,),
    summary="Whether the API and its table answer (django-health-check's shape)",
)
def health_check(call: Call) -> Any:
    from chalicelib.store import health

    parts = {
        "API": WORKING,
        "DynamoDB": WORKING if health.table_answers() else "unavailable: the table did not answer",
    }
    return WithStatus(parts, 200 if all(v == WORKING for v in parts.values()) else 500)
