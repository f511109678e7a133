"""The schema tells the truth about query parameters, uuid references and dates: `?o=` lists exactly
the orderings its list takes, a uuid or a reference declares the form its validator checks, and a
date is ISO 8601 text (never a number read as a Unix time). Each fact is checked against the
validation itself (rest.parse_query, the body models) and, for some, against the API."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app import app  # noqa: F401  (importing the app registers every endpoint)
from chalicelib.api import errors, fields, openapi, rest
from chalicelib.api.rest import ENDPOINTS, Endpoint
from chalicelib.domain import ids
from tests.helpers import call, create_customer, create_project

pytestmark = pytest.mark.fakes

HEX = "0123456789abcdef0123456789abcdef"
DASHED = str(uuid.UUID(HEX)).upper()


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return openapi.document("http://localhost")


def _id(ep: Endpoint) -> str:
    return f"{ep.method} {ep.path}"


def _parameters(doc: dict[str, Any], ep: Endpoint) -> dict[str, dict[str, Any]]:
    operation = doc["paths"][ep.path.rstrip("/") + "/"][ep.method.lower()]
    return {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "query"}


def _text(schema: dict[str, Any]) -> dict[str, Any]:
    """The string a parameter takes (itself, a list's item, or the string of an anyOf)."""
    if schema.get("type") == "array":
        return _text(schema["items"])
    for option in schema.get("anyOf", []):
        if option.get("type") == "string":
            return option  # type: ignore[no-any-return]
    return schema


def _required(ep: Endpoint) -> dict[str, list[str]]:
    """A value for each required parameter: its first choice (customer-quotas' quota_name), else a
    uuid (daily-quotas' scope), which each one takes."""
    assert ep.query is not None
    props = ep.query.model_json_schema().get("properties", {})
    return {
        f: [(props.get(f, {}).get("enum") or [uuid.uuid4().hex])[0]]
        for f, info in ep.query.model_fields.items()
        if info.is_required()
    }


def _query_errors(ep: Endpoint, name: str, value: str) -> list[str]:
    """The messages parse_query gives for `?name=value` ([] when it takes it)."""
    assert ep.query is not None
    given = _required(ep)
    try:
        rest.parse_query(ep.query, {**given, name: [value]})
    except ValidationError as exc:
        found = errors.drf_errors(exc)
        return list(found.get(name, ["(elsewhere)"])) if isinstance(found, dict) else ["(not a field)"]
    return []


def _matches(schema: dict[str, Any], value: str) -> bool:
    text = _text(schema)
    if "enum" in text:
        return value in text["enum"]
    pattern = text.get("pattern")
    return pattern is None or re.fullmatch(pattern.lstrip("^").rstrip("$"), value) is not None


QUERIES = [ep for ep in ENDPOINTS if ep.query is not None and ep.method == "GET"]
ORDERED = [ep for ep in QUERIES if ep.query is not None and "o" in ep.query.model_fields]
EVERY_ORDERING = sorted({n for ep in ORDERED for n in getattr(ep.query, "ordering_fields", ())})


# --- ?o= ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ep", ORDERED, ids=_id)
def test_every_o_parameter_lists_exactly_the_orderings_its_list_takes(doc, ep):
    """What the schema allows for `o` is what the API takes, and the reverse, for every name any
    list orders by (and a few malformed ones): both come from the list's `ordering_fields`."""
    schema = _parameters(doc, ep)["o"]
    candidates = [*EVERY_ORDERING, *(f"-{n}" for n in EVERY_ORDERING), "zz", "--created", "created "]
    candidates += [",".join(EVERY_ORDERING[:3]), "created,", ",-created", ","]
    wrong = [c for c in candidates if _matches(schema, c) != (_query_errors(ep, "o", c) == [])]
    assert not wrong, f"{_id(ep)}: the schema and the API disagree on {wrong}"
    # The names the schema lists are the list's own orderings (none: `o` is not a choice).
    own = getattr(ep.query, "ordering_fields", None)
    if own:
        assert {n for n in EVERY_ORDERING if _matches(schema, n)} == set(own)


def test_o_follows_django_filters_ordering_filter(client, staff):
    create_customer(client, staff, "Acme")
    create_customer(client, staff, "Beta")

    def names(o: str) -> list[str]:
        listed = call(client, "GET", f"/api/customers/?o={o}", staff).json
        return [c["name"] for c in listed if c["name"] in ("Acme", "Beta")]

    assert names("-name,created") == ["Beta", "Acme"]
    assert names("name,") == ["Acme", "Beta"]  # an empty part is skipped
    assert names(",-name") == ["Beta", "Acme"]
    refused = call(client, "GET", "/api/customers/?o=--name", staff)
    assert refused.status == 400
    assert refused.json == {"o": ["Select a valid choice. --name is not one of the available choices."]}


def test_a_list_without_orderings_ignores_o_as_drf_does(client, staff):
    # DRF's OrderingFilter drops names it does not know, and Waldur ignores a parameter a list has no
    # filter for: the list answers as if `o` were not sent, and the schema says `o` is ignored.
    plain = call(client, "GET", "/api/marketplace-categories/", staff)
    ordered = call(client, "GET", "/api/marketplace-categories/?o=whatever,-title", staff)
    assert ordered.status == 200 and ordered.json == plain.json


def test_an_invoices_items_o_is_one_ordering(doc):
    """Waldur's InvoiceItemOEnum: one ordering (not a list), each name ascending or descending."""
    ep = next(e for e in ENDPOINTS if e.path == "/api/invoices/{uuid}/items")
    schema = _parameters(doc, ep)["o"]
    assert {"name", "-name", "project_name", "-project_name"} <= set(schema["enum"])
    for value in schema["enum"]:
        assert _query_errors(ep, "o", value) == []
    for value in ("--name", "name,project_name", "zz"):
        assert _query_errors(ep, "o", value) == [
            f"Select a valid choice. {value} is not one of the available choices."
        ]


# --- uuids and references ----------------------------------------------------------------------------
UUID_PATTERNS = {ids.UUID_PATTERN, ids.UUID_OR_URL_PATTERN}


def test_a_path_uuid_and_a_uuid_filter_share_one_pattern():
    assert openapi.PATH_UUID == ids.UUID_PATTERN


def _sample(pattern: str) -> str:
    """A value the pattern allows, of the plainest kind."""
    for value in (HEX, DASHED, f"{HEX},{HEX}", f"http://localhost/api/customers/{HEX}/"):
        if re.fullmatch(pattern.lstrip("^").rstrip("$"), value):
            return value
    raise AssertionError(pattern)


def _free_params() -> list[tuple[Endpoint, str]]:
    found = []
    for ep in QUERIES:
        assert ep.query is not None
        for name in ep.query.model_fields:
            if re.search(r"(^|_)uuid$|^(resource|customer|project|offering|scope|user|plan)$", name):
                found.append((ep, name))
    return found


@pytest.mark.parametrize(("ep", "name"), _free_params(), ids=lambda v: v if isinstance(v, str) else _id(v))
def test_a_uuid_or_reference_filter_is_refused_only_where_the_schema_says_so(doc, client, staff, ep, name):
    """Either the parameter declares a pattern, "zz" is outside it and the API refuses "zz", and
    takes a value of the pattern; or it declares none and the API takes "zz" (it matches nothing)."""
    text = _text(_parameters(doc, ep)[name])
    pattern = text.get("pattern")
    path = ep.path.replace("{uuid}", HEX) + "/"
    if "{" in path:
        pytest.skip("a second path parameter")
    if pattern is None:
        assert _query_errors(ep, name, "zz") == []
        if "{" not in ep.path:
            assert call(client, "GET", f"{path}?{name}=zz", staff).status == 200
        return
    assert not re.fullmatch(pattern.lstrip("^").rstrip("$"), "zz")
    refused = _query_errors(ep, name, "zz")
    assert refused and all(m.endswith("valid UUID.") or "not the URL of" in m for m in refused), refused
    assert _query_errors(ep, name, _sample(pattern)) == []
    if "{" not in ep.path:
        required = "".join(f"&{f}={v[0]}" for f, v in _required(ep).items() if f != name)
        assert call(client, "GET", f"{path}?{name}={_sample(pattern)}{required}", staff).status == 200


def test_uuid_messages_are_django_filters_for_filters_and_drfs_for_fields(client, staff):
    reply = call(client, "GET", "/api/marketplace-robot-accounts/?resource=zz", staff)
    assert reply.status == 400 and reply.json == {"resource": ["Enter a valid UUID."]}
    reply = call(client, "GET", "/api/events/count/?customer_uuid=zz&project_uuid=zz", staff)
    assert reply.json == {
        "customer_uuid": ["Must be a valid UUID."],
        "project_uuid": ["Must be a valid UUID."],
    }
    reply = call(
        client, "POST", "/api/marketplace-site-agent-identities/", staff, {"offering": "zz", "name": "a"}
    )
    assert reply.status == 400 and reply.json["offering"] == ["Must be a valid UUID."]


def test_a_uuid_filter_takes_any_case_and_dashes_and_reports_repeated_values_flat(client, staff):
    customer = create_customer(client, staff, "Acme")
    create_project(client, staff, customer, "Apollo")
    dashed = str(uuid.UUID(customer["uuid"])).upper()
    found = call(client, "GET", f"/api/projects/?customer={dashed}", staff).json
    assert [p["name"] for p in found] == ["Apollo"]
    reply = call(client, "GET", f"/api/projects/?customer_uuid={customer['uuid']}&customer_uuid=nope", staff)
    assert reply.status == 400 and reply.json == {"customer_uuid": ["Enter a valid UUID."]}


def test_a_body_reference_declares_a_url_or_a_uuid(doc):
    ep = next(e for e in ENDPOINTS if e.name == "marketplace_site_agent_identities_create")
    ref = doc["paths"]["/api/marketplace-site-agent-identities/"]["post"]["requestBody"]["content"]
    model = doc["components"]["schemas"][ref["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert model["properties"]["offering"]["pattern"] == ids.UUID_OR_URL_PATTERN
    assert ep.body is not None


def _takes_uuid(value: str) -> bool:
    return ids.parse_id(value) is not None


def _takes_reference(value: str) -> bool:
    return ids.id_from_url(value) is not None


def _takes_uuids(value: str) -> bool:
    return all(ids.parse_id(part) for part in value.split(","))


def _takes_ordering(ep: Endpoint) -> Any:
    return lambda value: _query_errors(ep, "o", value) == []


DRAWN = [
    (ids.UUID_PATTERN, _takes_uuid),
    (ids.UUID_OR_URL_PATTERN, _takes_reference),
    (fields._UUIDS_PATTERN, _takes_uuids),
    *[
        (rest.ordering_pattern(ep.query.ordering_fields), _takes_ordering(ep))
        for ep in ORDERED
        if ep.query and getattr(ep.query, "ordering_fields", ())
    ],
]


@pytest.mark.parametrize(("pattern", "takes"), DRAWN)
def test_what_a_fuzzer_draws_from_a_pattern_the_validator_takes(pattern, takes):
    """Schemathesis draws from these patterns with Python's `re`: quickly, and only values the
    validators take (a uuid parses, a reference resolves, an ordering names known fields)."""

    @settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(re.compile(pattern.lstrip("^").rstrip("$")), fullmatch=True))
    def check(value: str) -> None:
        assert takes(value), value

    check()


def test_events_scope_declares_the_url_shape_it_checks(doc, client, staff):
    ep = next(e for e in ENDPOINTS if e.name == "events_list")
    pattern = _text(_parameters(doc, ep)["scope"])["pattern"]
    project = f"http://localhost/api/projects/{HEX}/"
    assert re.fullmatch(pattern.lstrip("^").rstrip("$"), project)
    assert not re.fullmatch(pattern.lstrip("^").rstrip("$"), "zz")
    refused = call(client, "GET", "/api/events/?scope=zz", staff)
    assert refused.status == 400 and "is not the URL of" in refused.json["scope"][0]
    # The URL of a project that does not exist is well formed: its feed is empty, not a 400.
    assert call(client, "GET", f"/api/events/?scope={project}", staff).json == []


# --- dates ---------------------------------------------------------------------------------------------
DATE_MESSAGES = {
    "date": (fields.DATE_FILTER_INVALID, fields.DATE_FIELD_INVALID),
    "date-time": (fields.DATETIME_FILTER_INVALID, fields.DATETIME_FIELD_INVALID),
}
NOT_ISO = ["0", "0.5", "1700000000", "01/02/2026", "tomorrow"]


def _dated_params(doc: dict[str, Any]) -> list[tuple[Endpoint, str, str]]:
    found = []
    for ep in QUERIES:
        for name, schema in _parameters(doc, ep).items():
            kind = _text(schema).get("format")
            if kind in DATE_MESSAGES:
                found.append((ep, name, kind))
    return found


def test_every_date_filter_takes_iso_text_only_in_django_filters_words(doc):
    dated = _dated_params(doc)
    assert len(dated) >= 15
    for ep, name, kind in dated:
        message = DATE_MESSAGES[kind][0]
        for value in NOT_ISO:
            assert _query_errors(ep, name, value) == [message], (_id(ep), name, value)
        for value in ("2026-01-02", "2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123456+02:00"):
            if kind == "date" and "T" in value:
                continue
            assert _query_errors(ep, name, value) == [], (_id(ep), name, value)


def _dated_body_fields(doc: dict[str, Any]) -> list[tuple[Endpoint, str, str]]:
    found = []
    for ep in ENDPOINTS:
        if ep.body is None:
            continue
        schema = ep.body.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            kind = _text(prop).get("format")
            if kind in DATE_MESSAGES:
                found.append((ep, name, kind))
    return found


def test_every_body_date_takes_iso_text_only_in_drfs_words(doc):
    dated = _dated_body_fields(doc)
    assert len(dated) >= 10
    for ep, name, kind in dated:
        assert ep.body is not None
        message = DATE_MESSAGES[kind][1]
        for value in (0, 0.5, True, "0", "1700000000"):
            try:
                ep.body.model_validate({name: value})
            except ValidationError as exc:
                found = errors.drf_errors(exc, ep.body, {name: value})
                assert found.get(name) == [message], (_id(ep), name, value, found)
            else:
                raise AssertionError((_id(ep), name, value))


def test_a_number_is_not_a_date_through_the_api(client, staff):
    customer = create_customer(client, staff, "Acme")
    reply = call(client, "PATCH", f"/api/customers/{customer['uuid']}/", staff, {"accounting_start_date": 0})
    assert reply.status == 400
    assert reply.json == {"accounting_start_date": [fields.DATETIME_FIELD_INVALID]}
    reply = call(client, "GET", "/api/marketplace-orders/?modified=1700000000", staff)
    assert reply.status == 400 and reply.json == {"modified": ["Enter a valid date/time."]}
    reply = call(client, "GET", "/api/invoices/?start_date=0", staff)
    assert reply.status == 400 and reply.json == {"start_date": ["Enter a valid date."]}
    taken = call(
        client,
        "PATCH",
        f"/api/customers/{customer['uuid']}/",
        staff,
        {"accounting_start_date": "2026-01-02 03:04"},
    )
    assert taken.status == 200, taken.json
    assert taken.json["accounting_start_date"].startswith("2026-01-02T03:04")


# --- body hyperlinks ---------------------------------------------------------------------------------
def _body_property(doc: dict[str, Any], name: str, field: str) -> dict[str, Any]:
    [ep] = [e for e in ENDPOINTS if e.name == name]
    operation = doc["paths"][ep.path.rstrip("/") + "/"][ep.method.lower()]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"][field]  # type: ignore[no-any-return]


def test_an_invitations_scope_declares_the_url_of_a_customer_or_a_project(doc, client, staff):
    pattern = _body_property(doc, "user_invitations_create", "scope")["pattern"].lstrip("^").rstrip("$")
    assert re.fullmatch(pattern, f"http://localhost/api/projects/{HEX}/")
    assert not re.fullmatch(pattern, f"http://localhost/api/users/{HEX}/") and not re.fullmatch(pattern, "zz")
    body = {"scope": "zz", "role": "CUSTOMER.OWNER", "email": "a@b.org"}
    reply = call(client, "POST", "/api/user-invitations/", staff, body)
    assert reply.status == 400 and reply.json == {"scope": ["Can't restore object from url: zz"]}


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_projects_customer_is_a_hyperlink_in_form_and_its_own_customer_in_fact(doc, client, staff, method):
    for name in ("projects_create", "projects_update", "projects_partial_update"):
        assert _body_property(doc, name, "customer")["pattern"] == ids.UUID_OR_URL_PATTERN
    customer = create_customer(client, staff, "Acme")
    project = create_project(client, staff, customer, "Apollo")
    path = f"/api/projects/{project['uuid']}/"
    body = {"name": "Apollo", "customer": ""}
    reply = call(client, method, path, staff, body)
    assert reply.status == 400 and reply.json == {"customer": ["Invalid hyperlink - No URL match."]}
    # Of the right form, another customer: Cirrus keeps a project in its customer (stored state).
    other = create_customer(client, staff, "Beta")
    moved = call(client, method, path, staff, {**body, "customer": other["url"]})
    assert moved.status == 400 and moved.json == {"customer": ["A project cannot move to another customer."]}
    kept = call(client, method, path, staff, {**body, "customer": customer["url"]})
    assert kept.status == 200, kept.json


def test_an_orders_type_lists_only_what_post_places(doc):
    """POST /api/marketplace-orders/ places creations; the other types are the resource's actions,
    so the schema's enum is ["Create"] and the API refuses the others, naming where they go."""
    from chalicelib.services.orders import ONLY_CREATE

    assert _body_property(doc, "marketplace_orders_create", "type")["enum"] == ["Create"]
    [ep] = [e for e in ENDPOINTS if e.name == "marketplace_orders_create"]
    assert ep.body is not None
    for value, message in (("Terminate", ONLY_CREATE), ("Bogus", '"Bogus" is not a valid choice.')):
        with pytest.raises(ValidationError) as refused:
            ep.body.model_validate({"project": HEX, "offering": HEX, "type": value})
        assert errors.drf_errors(refused.value, ep.body, {"type": value}) == {"type": [message]}


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e999", "1.7976931348623157e+308", "-1e300"])
def test_an_events_time_bound_is_a_finite_number(client, staff, value):
    # Unix seconds: infinity is no time (it overflowed the id range: a 500), as django-filter's
    # NumberFilter refuses it.
    for name in ("created_from", "created_to"):
        reply = call(client, "GET", f"/api/events/?{name}={value}", staff)
        assert reply.status == 400 and list(reply.json) == [name], reply.json
    assert call(client, "GET", "/api/events/?created_to=253402300799&created_from=0", staff).status == 200
