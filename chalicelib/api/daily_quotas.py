"""`GET /api/daily-quotas/?scope=<customer or project URL>&quota_names=nc_user_count&start=&end=`:
each quota's usage per day, `{"<quota>": [<usage>, ...]}` (one value per day from `start` to `end`).
HomePort's dashboards draw the team size from it. Read from the quotas' daily points (the analytics
engine); what is answered before them: domain/daily_quotas.py."""

from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import AfterValidator, Field, RootModel, StringConstraints

from chalicelib.api.fields import DateFilter, schema_facts
from chalicelib.api.rest import Call, QueryModel, endpoint
from chalicelib.domain import ids
from chalicelib.domain.ids import parse_id
from chalicelib.services import daily_quotas as service

bp = Blueprint(__name__)
COLLECTIONS = {"customers": "customer", "projects": "project"}
INVALID_SCOPE = "Invalid scope: {} is not the URL of a customer or project."


def scope_of(value: str) -> tuple[str | None, str]:
    """A customer's or project's URL → (type, id); a bare uuid → (None, id)."""
    parts = [p for p in value.split("?")[0].split("#")[0].split("/") if p]
    found = parse_id(parts[-1]) if parts else None
    if found is not None and len(parts) == 1:
        return None, found
    if found is not None and parts[-2] in COLLECTIONS:
        return COLLECTIONS[parts[-2]], found
    raise ValueError(INVALID_SCOPE.format(value))


def _scope(value: str) -> str:
    scope_of(value)
    return value


_KINDS = "|".join(COLLECTIONS)
Scope = Annotated[
    str,
    StringConstraints(max_length=2000),
    AfterValidator(_scope),
    schema_facts(
        pattern=f"^({ids.UUID_CORE}|(https?://{ids.URL_HOST})?(/{ids.URL_SEGMENT})*/({_KINDS})/{ids.UUID_CORE}/?)$",
        description="A customer's or project's URL (or a uuid)",
    ),
]
QuotaName = Annotated[str, StringConstraints(max_length=150)]


class DailyQuotaQuery(QueryModel):
    scope: Scope  # required, as in Waldur

    quota_names: list[QuotaName] = Field(default_factory=list, max_length=20)
    start: DateFilter | None = None
    end: DateFilter | None = None


class DailyQuotasOut(RootModel[dict[str, list[int]]]):
    pass


@endpoint(
    bp,
    "/api/daily-quotas",
    "GET",
    name="daily_quotas_retrieve",
    tag="daily-quotas",
    query=DailyQuotaQuery,
    response=DailyQuotasOut,
    summary="A customer's or project's quota usage per day (the last usage recorded on or before each day)",
)
def daily_quotas(call: Call) -> Any:
    q: DailyQuotaQuery = call.query
    return service.series(call.user, scope_of(q.scope), q.quota_names, q.start, q.end)
