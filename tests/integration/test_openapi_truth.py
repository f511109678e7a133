"""The OpenAPI document (GET /api/schema/) says what the API does: it is valid OpenAPI 3.0; a body
field is nullable exactly when the API takes null for it; choices list their values; emails,
countries, decimals, uuids and dates say their form; every answer with a body has a schema; and each
creation links to the operations on what it made. Generated from the models that validate, so the
checks below compare the document with the validation itself."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from app import app
from chalicelib.api import errors, openapi, rest
from chalicelib.api.rest import ENDPOINTS, Endpoint
from tests.helpers import call

pytestmark = pytest.mark.fakes
NOT_NULL = ["This field may not be null."]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return openapi.document("http://localhost")


def _id(ep: Endpoint) -> str:
    return f"{ep.method} {ep.path}"


def _operation(doc: dict[str, Any], ep: Endpoint) -> dict[str, Any]:
    return doc["paths"][ep.path.rstrip("/") + "/"][ep.method.lower()]  # type: ignore[no-any-return]


def _body_schema(doc: dict[str, Any], ep: Endpoint) -> dict[str, Any]:
    ref = _operation(doc, ep)["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]  # type: ignore[no-any-return]


def _field_errors(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        found = errors.drf_errors(exc)
        return found if isinstance(found, dict) else {}
    return {}


BODIES = list({ep.body: ep for ep in ENDPOINTS if ep.body is not None}.values())


# --- the document as a whole ------------------------------------------------------------------------
def test_the_document_is_valid_openapi_3_0(doc):
    validator = pytest.importorskip("openapi_spec_validator")
    assert doc["openapi"].startswith("3.0.")
    validator.validate(doc)  # pydantic's `{"type": "null"}` is 3.1's word: 3.0 says `nullable`


def test_the_document_is_built_once_and_on_demand(client):
    # Served from the cache: the second answer is the same object, built on the first request.
    first = openapi.document("http://localhost")
    assert openapi.document("http://localhost") is first
    assert call(client, "GET", "/api/schema/").json["openapi"] == first["openapi"]


# --- 1. nullability ---------------------------------------------------------------------------------
@pytest.mark.parametrize("ep", BODIES, ids=_id)
def test_a_body_field_is_nullable_exactly_when_its_model_takes_null(doc, ep):
    """Validation and schema from one declaration (fields.partial's `nullable`, fields.omitted)."""
    wrong = []
    for name, schema in _body_schema(doc, ep).get("properties", {}).items():
        refused = _field_errors(ep.body, {name: None}).get(name) == NOT_NULL
        if refused == bool(schema.get("nullable")):
            wrong.append((name, "declared nullable" if schema.get("nullable") else "declared not nullable"))
    assert not wrong


def test_patch_bodies_refuse_null_as_drf_does_and_say_so(doc, client, staff):
    customer = call(client, "POST", "/api/customers/", staff, {"name": "Acme"}).json
    patch = _body_schema(doc, _endpoint("customers_partial_update"))["properties"]
    assert "nullable" not in patch["name"] and "nullable" not in patch["email"]
    assert patch["latitude"]["nullable"] and patch["accounting_start_date"]["nullable"]
    reply = call(client, "PATCH", f"/api/customers/{customer['uuid']}/", staff, {"name": None, "email": None})
    assert reply.status == 400
    assert reply.json == {"email": NOT_NULL, "name": NOT_NULL}
    reply = call(client, "PATCH", f"/api/customers/{customer['uuid']}/", staff, {"latitude": None})
    assert reply.status == 200 and reply.json.get("latitude") is None
    # a hand-written optional body: left out, fine; null, refused; the schema says so
    overview = _body_schema(doc, _endpoint("marketplace_provider_offerings_update_overview"))["properties"]
    assert "nullable" not in overview["name"] and "default" not in overview["name"]
    assert _field_errors(
        _endpoint("marketplace_provider_offerings_update_overview").body, {"name": None}
    ) == {"name": NOT_NULL}
    item = _body_schema(doc, _endpoint("invoice_items_update"))["properties"]
    assert not any(p.get("nullable") for p in item.values())


# --- 2. choices ---------------------------------------------------------------------------------------
def test_choice_fields_list_their_values(doc):
    schemas = doc["components"]["schemas"]
    component = schemas["ComponentIn"]["properties"]
    assert set(component["billing_type"]["enum"]) == {"fixed", "usage", "limit", "one", "few"}
    web = _body_schema(doc, _endpoint("hooks_web_create"))["properties"]
    assert "customer_creation_succeeded" in web["event_types"]["items"]["enum"]
    assert set(web["content_type"]["enum"]) == {"json", "form"}
    role = _body_schema(doc, _endpoint("roles_create"))["properties"]
    assert role["content_type"]["enum"] == ["customer", "offering", "project"]
    assert "PROJECT.UPDATE" in role["permissions"]["items"]["enum"]
    order = _body_schema(doc, _endpoint("marketplace_orders_create"))["properties"]
    assert order["type"]["enum"] == ["Create"]  # the others are the resource's actions (terminate/, ...)
    states = _parameter(doc, "marketplace_orders_list", "state")
    assert "executing" in states["items"]["enum"]


@pytest.mark.parametrize("ep", BODIES, ids=_id)
def test_a_body_choice_outside_its_enum_is_refused_in_drfs_words(doc, ep):
    # Roles' content_type and permissions are checked by the service (its own messages).
    checked_later = {"content_type", "permissions"} if ep.body.__name__ in ("RoleIn", "RolePatch") else set()
    for name, schema in _body_schema(doc, ep).get("properties", {}).items():
        values = schema.get("enum") or schema.get("items", {}).get("enum")
        if not values or name in checked_later:
            continue
        bad = ["not-a-choice"] if "items" in schema else "not-a-choice"
        found = _field_errors(ep.body, {name: bad}).get(name)
        assert found == ['"not-a-choice" is not a valid choice.'], (name, found)


def test_a_query_choice_outside_its_enum_is_refused(doc):
    checked = 0
    for ep in ENDPOINTS:
        for param in _operation(doc, ep)["parameters"]:
            schema = param["schema"]
            if param["in"] != "query" or not (schema.get("enum") or schema.get("items", {}).get("enum")):
                continue
            with pytest.raises(ValidationError, match="valid choice"):
                rest.parse_query(ep.query, {param["name"]: ["not-a-choice"]})
            checked += 1
    assert checked >= 10


# --- 3. forms and bounds ------------------------------------------------------------------------------
def test_formats_and_bounds_are_declared(doc):
    customer = _body_schema(doc, _endpoint("customers_create"))["properties"]
    email = re.compile(customer["email"]["pattern"])
    assert email.match("a@example.org") and email.match("") and not email.match("not an email")
    assert re.compile(customer["country"]["pattern"]).match("FI") and not re.match(
        customer["country"]["pattern"], "fi"
    )
    tax = {o["type"]: o for o in customer["default_tax_percent"]["anyOf"]}
    assert (tax["integer"]["minimum"], tax["integer"]["maximum"]) == (0, 200)
    quantity = {
        o["type"]: o
        for o in _body_schema(doc, _endpoint("invoice_items_update"))["properties"]["quantity"]["anyOf"]
    }
    # 22 digits, 10 of them decimals: below 10**12
    assert (quantity["integer"]["maximum"], quantity["integer"]["exclusiveMaximum"]) == (10**12, True)
    assert customer["accounting_start_date"]["format"] == "date-time"
    user = _body_schema(doc, _endpoint("users_partial_update"))["properties"]
    assert user["token_lifetime"]["minimum"] == 60 and user["token_lifetime"]["nullable"]
    project = _body_schema(doc, _endpoint("projects_create"))["properties"]
    assert project["end_date"]["format"] == "date"


def test_uuids_say_their_form(doc, client, staff):
    [path_param] = _operation(doc, _endpoint("customers_retrieve"))["parameters"][:1]
    pattern = re.compile(path_param["schema"]["pattern"])
    made = call(client, "POST", "/api/customers/", staff, {"name": "Acme"}).json
    dashed = str(uuid.UUID(made["uuid"]))
    for form in (made["uuid"], dashed, made["uuid"].upper()):
        assert pattern.match(form)
        assert call(client, "GET", f"/api/customers/{form}/", staff).status == 200
    assert not pattern.match("not-a-uuid")
    rendered = doc["components"]["schemas"]["CustomerOut"]["properties"]["uuid"]["pattern"]
    assert re.match(rendered, made["uuid"]) and not re.match(rendered, dashed)


# --- 4. every body has a schema ----------------------------------------------------------------------
def _view(ep: Endpoint) -> Any:
    return inspect.unwrap(app.routes[ep.path][ep.method].view_function)


_EMPTY = {"Empty", "NoContent"}


def _empty_answer(node: ast.expr | None) -> bool:
    """`Empty()`, `NoContent()` or `WithHeaders(None, ...)`: an answer with no body."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return False
    if node.func.id in _EMPTY:
        return True
    first = node.args[0] if node.args else None
    return node.func.id == "WithHeaders" and isinstance(first, ast.Constant) and first.value is None


def test_every_answer_with_a_body_has_a_schema(doc):
    """An endpoint without a response model answers no body: each of its views' returns is one."""
    missing = []
    for ep in ENDPOINTS:
        if ep.response is not None or ep.media is not None:
            assert "content" in _operation(doc, ep)["responses"][str(ep.status)], _id(ep)
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(_view(ep))))
        returns = [n for n in ast.walk(tree) if isinstance(n, ast.Return)]
        if not returns or not all(_empty_answer(r.value) for r in returns):
            missing.append(_id(ep))
    assert not missing


def test_a_no_content_answer_is_documented_as_204(doc):
    wrong = []
    for ep in ENDPOINTS:
        tree = ast.parse(textwrap.dedent(inspect.getsource(_view(ep))))
        no_content = any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "NoContent"
            for n in ast.walk(tree)
        )
        if no_content and "204" not in _operation(doc, ep)["responses"]:
            wrong.append(_id(ep))
    assert not wrong


def test_root_and_configuration_answer_what_their_schema_says(doc, client):
    from tests.schema_check import SchemaCheck

    check = SchemaCheck(doc)
    for path in ("/api/", "/api/configuration/", "/api/schema/", "/api/version/"):
        reply = call(client, "GET", path)
        assert reply.status == 200
        assert check.problems("GET", path, reply.status, reply.raw) == []
        assert "content" in check.operation("GET", path)[1]["responses"]["200"]  # type: ignore[index]


# --- 5. links -----------------------------------------------------------------------------------------
def test_each_creation_links_to_the_operations_on_what_it_made(doc):
    names = {op["operationId"]: path for path, ops in doc["paths"].items() for op in ops.values()}
    creations = [ep for ep in ENDPOINTS if ep.method == "POST" and ep.status == 201 and "{" not in ep.path]
    linked = 0
    for ep in creations:
        links = _operation(doc, ep)["responses"]["201"].get("links", {})
        if ep.response is None or "uuid" not in ep.response.model_fields:
            assert not links, _id(ep)
            continue
        collection = ep.path.rstrip("/") + "/{uuid}/"
        expected = {op["operationId"] for path, ops in doc["paths"].items() if path.startswith(collection)
                    and re.findall(r"{(\w+)}", path) == ["uuid"] for op in ops.values()}  # fmt: skip
        assert set(links) == expected, _id(ep)
        for link in links.values():
            assert names[link["operationId"]].startswith(collection)
            assert link["parameters"] == {"uuid": "$response.body#/uuid"}
        linked += len(links)
    customers = _operation(doc, _endpoint("customers_create"))["responses"]["201"]["links"]
    assert {"customers_retrieve", "customers_partial_update", "customers_destroy"} <= set(customers)
    assert linked >= 100


# --- helpers ------------------------------------------------------------------------------------------
def _endpoint(name: str) -> Endpoint:
    [found] = [ep for ep in ENDPOINTS if ep.name == name]
    return found


def _parameter(doc: dict[str, Any], name: str, parameter: str) -> dict[str, Any]:
    [found] = [p for p in _operation(doc, _endpoint(name))["parameters"] if p["name"] == parameter]
    return found["schema"]  # type: ignore[no-any-return]


def test_a_get_or_create_documents_both_its_statuses():
    """register_service/ and register_processor/ answer 201 when they made the object and 200 when
    they found it: the document lists both (a fuzzer found the 201 undocumented)."""
    from chalicelib.api.openapi import document

    doc = document("http://testserver")
    for path in (
        "/api/marketplace-site-agent-identities/{uuid}/register_service/",
        "/api/marketplace-site-agent-services/{uuid}/register_processor/",
    ):
        responses = doc["paths"][path]["post"]["responses"]
        assert responses["200"] == responses["201"] and "content" in responses["201"], path
