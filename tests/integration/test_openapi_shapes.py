"""The OpenAPI document states the shape of what the API takes: a PATCH field takes what the same
field of the full body takes; a decimal given as a string has the form its pattern states; maps
(prices, quotas, limits) say their values; bodies that need one of two keys, a non-empty list or a
key say so; a body that may be left out is not `required`. Each schema fact is checked against the
validation itself (the model, or the API where a service checks)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from app import app  # noqa: F401 (the endpoints are registered by importing it)
from chalicelib.api import errors, openapi
from chalicelib.api.rest import ENDPOINTS, Endpoint
from chalicelib.domain.hooks import SPECIFY_EVENTS
from chalicelib.domain.ids import UUID_OR_URL_PATTERN as REFERENCE_PATTERN
from chalicelib.domain.ids import id_from_url
from chalicelib.domain.numbers import MAX_INTEGER
from chalicelib.domain.quotas import CUSTOMER_QUOTAS, PROJECT_QUOTAS
from chalicelib.providers import registry
from tests.helpers import call
from tests.integration.test_marketplace_resources_api import PROVIDER, live

pytestmark = pytest.mark.fakes
REQUIRED = ["This field is required."]


def _doc() -> dict[str, Any]:
    return openapi.document("http://localhost")


def _endpoint(name: str) -> Endpoint:
    [found] = [ep for ep in ENDPOINTS if ep.name == name]
    return found


def _operation(ep: Endpoint) -> dict[str, Any]:
    return _doc()["paths"][ep.path.rstrip("/") + "/"][ep.method.lower()]  # type: ignore[no-any-return]


def _schema(ref: dict[str, Any]) -> dict[str, Any]:
    return _doc()["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]  # type: ignore[no-any-return]


def _body(name: str) -> dict[str, Any]:
    return _schema(_operation(_endpoint(name))["requestBody"]["content"]["application/json"]["schema"])


def _errors(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return errors.drf_errors(exc)
    return {}


# --- PATCH bodies ----------------------------------------------------------------------------------
PATCHES = list({ep.body: ep for ep in ENDPOINTS if hasattr(ep.body, "__partial_of__")}.values())
_NOT_SHAPE = ("default", "nullable")  # what a PATCH field may say otherwise: it may be left out


def _shape(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in _NOT_SHAPE}


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A body's schema as the document states it."""
    schema = model.model_json_schema(ref_template=openapi._REF, schema_generator=openapi._Generator)
    schema.pop("$defs", None)
    return openapi.openapi30(schema)  # type: ignore[no-any-return]


def test_every_partial_body_is_found():
    assert len(PATCHES) >= 10


@pytest.mark.parametrize("ep", PATCHES, ids=lambda ep: f"{ep.method} {ep.path}")
def test_a_patch_field_takes_what_the_full_bodys_field_takes(ep):
    """fields.partial: the same enum, pattern, bounds and description per field, none required."""
    whole = _model_schema(ep.body.__partial_of__)["properties"]  # type: ignore[union-attr]
    patch = _model_schema(ep.body)
    assert patch == _schema(_operation(ep)["requestBody"]["content"]["application/json"]["schema"])
    assert set(patch["properties"]) == set(whole)
    differ = [n for n, s in patch["properties"].items() if _shape(s) != _shape(whole[n])]
    assert differ == []
    assert "required" not in patch
    # left out, not null: no default (fields.omitted), a nullable one's being null
    assert [n for n, s in patch["properties"].items() if "default" in s and not s.get("nullable")] == []


def test_patch_choices_are_the_full_bodys(client, staff):
    plan = _body("marketplace_plans_partial_update")["properties"]
    assert "month" in plan["unit"]["enum"] and "" not in plan["unit"]["enum"]
    web = _body("hooks_web_partial_update")["properties"]
    assert set(web["content_type"]["enum"]) == {"json", "form"}
    assert "customer_creation_succeeded" in web["event_types"]["items"]["enum"]
    assert set(_body("roles_partial_update")["properties"]["content_type"]["enum"]) == {
        "customer",
        "offering",
        "project",
    }


def test_a_web_hooks_secret_states_its_length():
    for name in ("hooks_web_create", "hooks_web_update", "hooks_web_partial_update"):
        secret = _body(name)["properties"]["secret"]
        assert (secret["minLength"], secret["maxLength"]) == (16, 256)
        model = _endpoint(name).body
        assert _errors(model, {"secret": "s" * 15})["secret"] == [
            "Ensure this field has at least 16 characters."
        ]
        assert "secret" not in _errors(model, {"secret": "s" * 16})


# --- decimals ----------------------------------------------------------------------------------------
def _decimal(schema: dict[str, Any]) -> bool:
    return {o.get("type") for o in schema.get("anyOf", [])} == {"integer", "string"} and any(
        "A decimal number" in str(o.get("description", "")) for o in schema["anyOf"]
    )


def _decimals(schema: dict[str, Any], path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """(where, the decimal's schema) for every decimal in a body: a property, a map's value, a list's item."""
    if "$ref" in schema:
        return _decimals(_schema(schema), path)
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _decimals(schema["allOf"][0], path)
    if _decimal(schema):
        return [(path, schema)]
    found = []
    for name, prop in schema.get("properties", {}).items():
        found += _decimals(prop, (*path, name))
    if isinstance(schema.get("additionalProperties"), dict):
        found += _decimals(schema["additionalProperties"], (*path, "cpu"))
    if isinstance(schema.get("items"), dict):
        found += _decimals(schema["items"], (*path, 0))
    return found


def _at(path: tuple[Any, ...], value: Any) -> Any:
    """A body holding `value` at `path` (a name: an object's key; 0: a list's item)."""
    for part in reversed(path):
        value = [value] if part == 0 else {part: value}
    return value


def _error_at(found: Any, path: tuple[Any, ...]) -> Any:
    """The messages at `path` of a DRF error body, None when there are none."""
    for part in path:
        if isinstance(found, list) and found and isinstance(found[0], str):
            return found  # the container itself is refused
        if part == 0:
            found = found[0] if isinstance(found, list) and found else None
        else:
            found = found.get(part) if isinstance(found, dict) else None
        if not found:
            return None
    return found


DECIMALS = [
    (ep, path, schema)
    for ep in {ep.body: ep for ep in ENDPOINTS if ep.body is not None}.values()
    for path, schema in _decimals(_operation(ep)["requestBody"]["content"]["application/json"]["schema"])
]


def test_every_decimal_input_is_found():
    fields = {path[-1] if path[-1] != "cpu" else path[-2] for _, path, _ in DECIMALS}
    assert {"default_tax_percent", "quantity", "unit_price", "prices", "limit", "usage", "amount"} <= fields


@pytest.mark.parametrize(
    ("ep", "path", "schema"),
    DECIMALS,
    ids=[f"{ep.method} {ep.path} {'.'.join(map(str, p))}" for ep, p, _ in DECIMALS],
)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_a_decimal_string_of_its_pattern_and_a_whole_number_within_its_bounds_are_taken(
    ep, path, schema, data
):
    number, string = sorted(schema["anyOf"], key=lambda o: o["type"])
    text = data.draw(st.from_regex(string["pattern"], fullmatch=True))
    assert _error_at(_errors(ep.body, _at(path, text)), path) is None, text
    # OpenAPI 3.0: an exclusive bound is a flag beside the bound
    low = number.get("minimum", -(10**30)) + (1 if number.get("exclusiveMinimum") else 0)
    high = number.get("maximum", 10**30) - (1 if number.get("exclusiveMaximum") else 0)
    whole = data.draw(st.integers(low, high))
    assert _error_at(_errors(ep.body, _at(path, whole)), path) is None, whole


def test_blank_and_numbers_out_of_form_are_refused_and_the_pattern_says_so():
    import re

    tax = {
        o["type"]: o for o in _body("customers_partial_update")["properties"]["default_tax_percent"]["anyOf"]
    }
    pattern = re.compile(tax["string"]["pattern"])
    model = _endpoint("customers_partial_update").body
    for text in ("", "abc", "200.01", "1.234", "-1"):
        assert not pattern.match(text)
        assert _errors(model, {"default_tax_percent": text}).get("default_tax_percent"), text
    for text in ("0", "12.5", "199.99", "200", "200.00"):
        assert pattern.match(text)
        assert _errors(model, {"default_tax_percent": text}) == {}, text


def test_a_customers_tax_given_as_a_string_is_stored(client, staff):
    customer = call(client, "POST", "/api/customers/", staff, {"name": "Acme"}).json
    reply = call(
        client, "PATCH", f"/api/customers/{customer['uuid']}/", staff, {"default_tax_percent": "12.5"}
    )
    assert reply.status == 200 and reply.json["default_tax_percent"] == "12.50"


# --- maps ----------------------------------------------------------------------------------------------
def test_limits_are_whole_numbers_per_component_and_the_schema_says_so():
    for name in ("marketplace_orders_create", "marketplace_resources_update_limits"):
        limits = _body(name)["properties"]["limits"]
        assert limits["additionalProperties"] == {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER}
        assert limits["maxProperties"] == 100
        model = _endpoint(name).body
        refused = _errors(model, {"limits": {"cpu": {"nested": 1}, "ram": 1}})["limits"]
        assert refused == ["Ensure this value is nested no more than 1 levels deep."]
        refused = _errors(model, {"limits": {"cpu": "5", "ram": 1.5, "gpu": -1, "disk": 2}})["limits"]
        assert set(refused) == {"cpu", "ram", "gpu"}


def test_prices_are_decimals_per_component():
    prices = _body("marketplace_plans_update_prices")["properties"]["prices"]
    assert _decimal(prices["additionalProperties"]) and prices["maxProperties"] == 100
    model = _endpoint("marketplace_plans_update_prices").body
    assert _errors(model, {"prices": {"cpu": ""}}) == {"prices": {"cpu": ["A valid number is required."]}}
    assert _errors(model, {"prices": {"cpu": "0.5", "ram": 2}}) == {}


@pytest.mark.parametrize(
    ("name", "names"), [("customers_set_quotas", CUSTOMER_QUOTAS), ("projects_set_quotas", PROJECT_QUOTAS)]
)
def test_set_quotas_names_its_quotas_at_least_one(client, market, name, names):
    quotas = _body(name)["properties"]["quotas"]
    assert set(quotas["properties"]) == set(names)
    assert quotas["additionalProperties"] is False and quotas["minProperties"] == 1
    assert quotas["properties"][names[0]] == {"type": "integer", "minimum": -1, "maximum": MAX_INTEGER}
    model = _endpoint(name).body
    assert _errors(model, {"quotas": {}}) == {"quotas": ["Name at least one quota."]}
    assert _errors(model, {"quotas": {"disk": 1}}) == {"quotas": ["Unknown quota: disk."]}
    assert _errors(model, {"quotas": {names[0]: -2}})["quotas"][names[0]]
    assert _errors(model, {"quotas": {names[0]: "10"}})["quotas"][names[0]]
    target = {"customers": market.consumer.id, "projects": market.project.id}[name.split("_")[0]]
    path = f"/api/{name.split('_')[0]}/{target}/set_quotas/"
    reply = call(client, "POST", path, market.staff, {"quotas": {n: 5 for n in names}})
    assert reply.status == 200, reply.json


# --- bodies that need a key -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "body"),
    [("web", {"destination_url": "https://example.org/hook"}), ("email", {"email": "me@example.org"})],
)
def test_a_new_hook_names_its_event_types_or_groups(client, alice, kind, body):
    create = _body(f"hooks_{kind}_create")
    branches = create["anyOf"]
    assert [b["required"] for b in branches] == [["event_types"], ["event_groups"]]
    assert "anyOf" not in _body(f"hooks_{kind}_update")  # a PUT needs neither (Waldur's `not self.instance`)
    path = f"/api/hooks-{kind}/"
    reply = call(client, "POST", path, alice, body)
    assert (reply.status, reply.json) == (400, {"non_field_errors": [SPECIFY_EVENTS]})
    for events in ({"event_types": []}, {"event_groups": ["users"]}):  # either key, even empty (Waldur)
        reply = call(client, "POST", path, alice, {**body, **events})
        assert reply.status == 201, reply.json


def test_a_usage_report_names_its_resource_or_its_plan_period(client, market):
    report = _body("marketplace_component_usages_set_usage")
    assert [b["required"] for b in report["anyOf"]] == [["resource"], ["plan_period"]]
    for branch in report["anyOf"]:
        [prop] = branch["properties"].values()
        assert prop["type"] == "string" and prop["minLength"] == 1 and "nullable" not in prop
    reply = call(
        client, "POST", "/api/marketplace-component-usages/set_usage/", market.seller, {"usages": []}
    )
    assert (reply.status, reply.json) == (400, {"resource": REQUIRED})
    reply = call(
        client,
        "POST",
        "/api/marketplace-component-usages/set_usage/",
        market.seller,
        {"usages": [], "resource": ""},
    )
    assert reply.status == 400 and "resource" in reply.json


def test_a_report_is_a_non_empty_list_of_sections(client, market):
    report = _body("marketplace_provider_resources_submit_report")["properties"]["report"]
    assert report["minItems"] == 1
    section = _schema(report["items"])
    assert set(section["properties"]) == {"header", "body"}
    assert all(p["type"] == "string" for p in section["properties"].values())
    resource = live(client, market)
    path = f"{PROVIDER}{resource}/submit_report/"
    reply = call(client, "POST", path, market.seller, {"report": []})
    # DRF's ListSerializer says what is wrong with the list as a whole under non_field_errors
    too_few = {"non_field_errors": ["Ensure this field has at least 1 elements."]}
    assert (reply.status, reply.json) == (400, {"report": too_few})
    # A key the section does not have is ignored, as DRF's serializer ignores it.
    reply = call(client, "POST", path, market.seller, {"report": [{"header": "Access", "x": 1}]})
    assert reply.status == 200, reply.json
    shown = call(client, "GET", f"{PROVIDER}{resource}/", market.seller).json["report"]
    assert shown == [{"header": "Access", "body": ""}]


@pytest.mark.parametrize("name", ["projects_set_slug", "marketplace_resources_set_slug"])
def test_set_slug_requires_the_slug(name):
    body = _body(name)
    assert body["required"] == ["slug"] and "nullable" not in body["properties"]["slug"]
    assert _operation(_endpoint(name))["requestBody"]["required"] is True
    assert _errors(_endpoint(name).body, {}) == {"slug": REQUIRED}


def test_an_offering_type_is_one_of_the_registered_types():
    offering = _body("marketplace_provider_offerings_create")["properties"]
    assert offering["type"]["enum"] == registry.offering_types()
    model = _endpoint("marketplace_provider_offerings_create").body
    assert _errors(model, {"type": "nope"})["type"] == ['"nope" is not a valid choice.']


# --- bodies that may be left out --------------------------------------------------------------------
def test_a_body_that_takes_nothing_is_not_required_and_nothing_is_taken(client, staff):
    assert _operation(_endpoint("customers_partial_update"))["requestBody"]["required"] is False
    assert _operation(_endpoint("customers_create"))["requestBody"]["required"] is True
    customer = call(client, "POST", "/api/customers/", staff, {"name": "Acme"}).json
    reply = call(client, "PATCH", f"/api/customers/{customer['uuid']}/", staff)
    assert reply.status == 200 and reply.json["name"] == "Acme"
    wrong = [
        f"{ep.method} {ep.path}"
        for ep in ENDPOINTS
        if ep.body is not None
        and not _operation(ep)["requestBody"]["required"]
        and _errors(ep.body, {}) != {}
    ]
    assert wrong == []


# --- references ---------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(reference=st.from_regex(REFERENCE_PATTERN, fullmatch=True))
def test_a_reference_of_the_pattern_resolves(reference):
    assert id_from_url(reference) is not None


def test_a_site_agent_identity_states_its_offering_reference():
    import re

    offering = _body("marketplace_site_agent_identities_create")["properties"]["offering"]
    assert offering["pattern"] == REFERENCE_PATTERN
    for bad in ("0", "offering", "http://localhost/api/marketplace-provider-offerings/123/"):
        assert not re.match(REFERENCE_PATTERN, bad) and id_from_url(bad) is None
    good = "http://localhost/api/marketplace-provider-offerings/0123456789abcdef0123456789abcdef/"
    assert re.match(REFERENCE_PATTERN, good) and id_from_url(good) == "0123456789abcdef0123456789abcdef"


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_an_invitations_scope_of_the_pattern_names_a_customer_or_a_project(data):
    from chalicelib.services.invitations import _scope_reference

    pattern = _body("user_invitations_create")["properties"]["scope"]["pattern"]
    assert _scope_reference(data.draw(st.from_regex(pattern, fullmatch=True))) is not None


def test_an_invitations_scope_out_of_the_pattern_names_nothing():
    import re

    from chalicelib.services.invitations import _scope_reference

    pattern = _body("user_invitations_create")["properties"]["scope"]["pattern"]
    uuid = "0123456789abcdef0123456789abcdef"
    for bad in ("Y", f"http://localhost/api/users/{uuid}/", f"/api/customers/{uuid}/x/{uuid}/"):
        assert not re.match(pattern, bad) and _scope_reference(bad) is None, bad
    assert re.match(pattern, f"http://localhost/api/projects/{uuid}/")
