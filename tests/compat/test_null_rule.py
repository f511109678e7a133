"""Null in responses, as DRF renders it, exactly where Waldur's schema allows it.

DRF renders every declared field, null when unset; waldur-api-client (Waldur's schema) parses a
present key strictly, so a null breaks a field typed as never null, and a missing key breaks a
required one. Every response model of every endpoint is paired with the client model of the same
operation (tests/compat/waldur_schema.py derives the pairs), and each field is checked against it:
nullable there -> rendered null; never null there -> in the model's `omit_when_null`; required and
never null there -> Cirrus always has a value."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import BaseModel, RootModel

from chalicelib.api.rest import ResponseModel, render
from tests.compat import waldur_schema

pytestmark = pytest.mark.compat

# Response models no waldur-api-client operation parses: Cirrus-only routes (Cognito), and Waldur
# operations the client types as `Any` (so any body parses). Their unset fields render null.
CIRRUS_ONLY = {
    "cognito.LogoutOut",  # POST /api-auth/cognito/logout (Cirrus's own)
    "cognito.TokenOut",  # GET /api-auth/cognito/callback (Cirrus's own)
    "events.ScopeTypesOut",  # the client parses a plain list of strings
    "fields.QuotaOut",  # quotas: not in the client's models (they land in additional_properties)
    "hooks.HookSummaryOut",  # GET /api/hooks/: typed Any
    "invitations.DetailOut",  # send/cancel/accept: typed Any
    "marketplace_plans.DetailOut",  # archive: typed Any
    "fields.DetailMessageOut",  # users password/, set_offerings_username: typed Any
    "fields.StatusMessageOut",  # users change_password/: typed Any
    "auth.DetailOut",  # roles' {"detail": ...} answers: typed Any
    "root.RootOut",  # GET /api/: not in the client
    "root.DocumentOut",  # GET /api/schema/: the OpenAPI document itself
    "absent_features.ChecklistOut",  # GET /api/marketplace-checklists/: not in the client
    "health.HealthOut",  # GET /health-check/: django-health-check's, not in the client
    # POST /api/support-{jira,zammad}-webhook/: called by the remote desk, not by a client; Cirrus
    # answers 202 and queues a pull (Waldur answers 200, echoing Jira's body; Zammad's is typed Any).
    "support_webhooks.WebhookAccepted",
    # GET /api/support-feedback-report/, support-feedback-average-report/: typed Any (200 parses None)
    "support_feedbacks.FeedbackReportOut",
    "support_feedbacks.FeedbackAverageOut",
}

# Where Cirrus cannot meet the client's schema, and why it does no harm (or what is left to do).
KNOWN_GAPS = {
    # An invoice item made without an offering has no offering_uuid; every item Cirrus bills comes
    # from a resource, which has one.
    "invoice_items.InvoiceItemDetailOut.offering_uuid",
    # The service/course account lists are always empty: no item is ever rendered.
    "marketplace_provider_lists.NoAccountOut",
    # Waldur renders `scope` null for a resource no backend model stands behind (its schema says
    # never null; waldur-api-client takes the null as it is). HomePort needs the null: it tells a
    # marketplace-only resource by `scope === null` (its actions menu fetches `scope` otherwise).
    "marketplace_resources.ResourceOut.scope",
    "marketplace_resources.ResourceDetailOut.scope",
    # Waldur's database id of a role grant: Cirrus has none (HomePort reads the other fields).
    "marketplace_overview.OfferingPermissionOut.pk",
}


@pytest.fixture(scope="module")
def mapping() -> waldur_schema.Mapping:
    return waldur_schema.mapping()


def _known(problem: str) -> bool:
    where = problem.split(":", 1)[0]
    return any(where == gap or where.startswith(f"{gap}.") for gap in KNOWN_GAPS)


def test_every_response_model_answers_as_a_waldur_model_or_is_listed_cirrus_only(
    mapping: waldur_schema.Mapping,
) -> None:
    assert {waldur_schema.qualified(m) for m in mapping.cirrus_only} == CIRRUS_ONLY
    assert len(mapping.pairs) >= 65
    named = {
        waldur_schema.qualified(ours): {t.__name__ for t in theirs} for ours, theirs in mapping.pairs.items()
    }
    assert named["customers.CustomerOut"] == {"Customer"}
    assert named["projects.ProjectOut"] == {"Project"}
    assert named["marketplace_resources.ResourceOut"] == {"Resource"}
    assert named["marketplace_orders.OrderOut"] == {"OrderDetails"}
    assert named["invoices.PriceEstimateOut"] == {"NestedPriceEstimate"}  # nested, by field name
    assert named["users.UserOut"] == {"User", "UserMe"}


def test_every_model_renders_through_response_model(mapping: waldur_schema.Mapping) -> None:
    """`omit_when_null` is honoured by ResponseModel's serializer, nested ones included (a RootModel
    is a plain list or mapping: no fields of its own)."""
    models = set(mapping.pairs) | mapping.unpaired
    assert [m.__name__ for m in models if not issubclass(m, (ResponseModel, RootModel))] == []


def test_every_field_renders_null_exactly_where_waldurs_schema_allows_it(
    mapping: waldur_schema.Mapping,
) -> None:
    problems = waldur_schema.problems(mapping.pairs)
    assert [p for p in problems if not _known(p)] == []
    # Each known gap is still a gap (drop it from the list once fixed).
    assert {gap for gap in KNOWN_GAPS if not any(p.startswith(gap) for p in problems)} == set()


def test_cirrus_only_models_omit_only_what_is_not_theirs(mapping: waldur_schema.Mapping) -> None:
    """With no Waldur schema to forbid it, a Cirrus-only model renders null as DRF does; the hooks
    summary leaves out the other kind's fields, as Waldur serialises each hook with its own."""
    omitting: dict[str, frozenset[str]] = {
        waldur_schema.qualified(m): getattr(m, "omit_when_null", frozenset()) for m in mapping.cirrus_only
    }
    assert {k: v for k, v in omitting.items() if v} == {
        "hooks.HookSummaryOut": {"destination_url", "content_type", "email"}
    }


# --- the check itself fails on the mistakes it is there for --------------------------------------
def _client(name: str) -> type:
    return waldur_schema.client_model(name)


class _NullableWaldurForbids(ResponseModel):
    accounting_start_date: datetime | None = None  # Customer: Union[Unset, datetime], never null


class _OmitsWhatWaldurAllowsNull(ResponseModel):
    omit_when_null = frozenset({"latitude"})

    latitude: float | None = None  # Customer: Union[None, Unset, float]


class _LacksARequiredKey(ResponseModel):
    url: str  # RobotAccount also requires uuid, type, resource, ...


class _UnsetButRequired(ResponseModel):
    uuid: str | None = None  # RobotAccount: uuid is required, never null


@pytest.mark.parametrize(
    ("model", "client", "expected"),
    [
        (_NullableWaldurForbids, "Customer", "accounting_start_date: rendered null when unset, but Customer"),
        (_OmitsWhatWaldurAllowsNull, "Customer", "latitude: left out when unset, but Customer allows null"),
        (_LacksARequiredKey, "RobotAccount", "uuid: never rendered, but RobotAccount requires it"),
        (_UnsetButRequired, "RobotAccount", "uuid: may be unset, but RobotAccount requires a value"),
    ],
)
def test_the_check_catches(model: type[BaseModel], client: str, expected: str) -> None:
    assert any(expected in p for p in waldur_schema.problems({model: {_client(client)}}))


def test_a_model_that_follows_the_rule_passes() -> None:
    class Good(ResponseModel):
        omit_when_null = frozenset({"accounting_start_date"})

        latitude: float | None = None
        accounting_start_date: datetime | None = None

    assert waldur_schema.problems({Good: {_client("Customer")}}) == []


# --- rendering ----------------------------------------------------------------------------------
class _Inner(ResponseModel):
    omit_when_null = frozenset({"b"})

    a: int | None = None
    b: int | None = None


class _Outer(ResponseModel):
    omit_when_null = frozenset({"gone"})

    kept: str | None = None
    gone: str | None = None
    inner: _Inner
    inners: list[_Inner]


def test_render_sends_null_except_omit_when_null_nested_models_included() -> None:
    data = {"inner": {}, "inners": [{"b": 2}, {}]}
    assert render(_Outer, data) == {
        "kept": None,
        "inner": {"a": None},
        "inners": [{"a": None, "b": 2}, {"a": None}],
    }
    assert render(_Outer, data, ["kept", "gone"]) == {"kept": None}  # ?field= keeps only those


def test_the_schema_says_an_omitted_field_is_never_null() -> None:
    props = _Outer.model_json_schema(mode="serialization")["properties"]
    assert props["gone"] == {"title": "Gone", "type": "string"}
    assert {"type": "null"} in props["kept"]["anyOf"]
