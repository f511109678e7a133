"""What the OpenAPI document says of strings is what the API enforces: names and texts refuse the
characters chalicelib/domain/text.py refuses (one character class for the check and the pattern),
emails, URLs, usernames, slugs, secrets, passwords and SSH key lines carry the rule they are checked
by, and a string a pattern matches is one the API takes. The refusals no pattern can say (an
internal web-hook address, an SSH key body that does not parse, a size in bytes as stored) are the
fuzzer's UNEXPRESSIBLE, said in the field's description where it is a bound."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app import app  # noqa: F401 (registers the endpoints)
from chalicelib.api import errors, openapi
from chalicelib.api.rest import ENDPOINTS, Endpoint
from chalicelib.domain import hooks as hook_rules
from chalicelib.domain import offering_users, slugs, ssh_keys, text, usernames
from chalicelib.domain.errors import ValidationError as DomainError
from tests.helpers import call

pytestmark = pytest.mark.fakes


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return openapi.document("http://localhost")


def _endpoint(name: str) -> Endpoint:
    [found] = [ep for ep in ENDPOINTS if ep.name == name]
    return found


def _properties(doc: dict[str, Any], name: str) -> dict[str, Any]:
    op = doc["paths"][_endpoint(name).path.rstrip("/") + "/"][_endpoint(name).method.lower()]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]  # type: ignore[no-any-return]


def _field_errors(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        found = errors.drf_errors(exc)
        return found if isinstance(found, dict) else {"": found}
    return {}


def _matches(schema: dict[str, Any]) -> Any:
    """Strings the field's schema allows, as a validator reads it (jsonschema_rs, the engine
    schemathesis asks; a JSON string never holds a lone surrogate)."""
    valid = jsonschema_rs.validator_for({k: v for k, v in schema.items() if k != "nullable"}).is_valid
    low, high = schema.get("minLength", 0), schema.get("maxLength", 10_000)
    return (
        st.from_regex(schema["pattern"], fullmatch=True)
        .filter(lambda s: low <= len(s) <= high and not re.search("[\ud800-\udfff]", s))
        .filter(valid)
    )


# Every string body field whose schema has a pattern, once per model.
PATTERNED = sorted(
    {
        (ep.name, field)
        for ep in ENDPOINTS
        if ep.body is not None
        for field, prop in ep.body.model_json_schema().get("properties", {}).items()
        if "pattern" in prop
    }
)


# --- the rule and the pattern are one ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "allowed"),
    [
        (text.LINE_PATTERN, lambda v: text.text_problem(v) is None),
        (text.LINES_PATTERN, lambda v: text.text_problem(v, multiline=True) is None),
        (text.NAME_PATTERN, lambda v: text.text_problem(v) is None and v.strip() != ""),
    ],
    ids=["line", "lines", "name"],
)
def test_each_text_pattern_says_exactly_what_text_problem_refuses_in_every_engine(pattern, allowed):
    """Every character of the BMP (and some beyond), alone, padded and between letters: Python's
    `re`, the Rust validator schemathesis uses and the check agree."""
    rust = jsonschema_rs.validator_for({"type": "string", "pattern": pattern}).is_valid
    python = re.compile(pattern)
    wrong = []
    for code in [*range(0x3100), *range(0xFE00, 0x10000), 0x1F600, 0xE0001, 0x10FFFD]:
        if 0xD800 <= code <= 0xDFFF:
            continue  # not in a decoded JSON string (a lone one is refused: test_lone_surrogates...)
        char = chr(code)
        for value in (char, f"a{char}b", f"{char}a{char}", char * 2):
            expected = allowed(value)
            if bool(python.fullmatch(value)) != expected or rust(value) != expected:
                wrong.append((hex(code), value))
    assert not wrong[:20]


def test_lone_surrogates_are_refused_though_no_pattern_can_name_them(client, staff):
    """A Rust pattern cannot name a surrogate, and a decoded JSON string holds none; the check
    refuses the lone one JSON's escapes can smuggle in (DRF's message)."""
    reply = call(client, "POST", "/api/customers/", staff, raw_body='{"name": "a\\ud800b"}')
    assert reply.status == 400 and reply.json == {"name": ["Surrogate characters are not allowed: U+D800."]}


@pytest.mark.parametrize(("operation", "field"), PATTERNED, ids=[f"{o}.{f}" for o, f in PATTERNED])
def test_a_string_its_pattern_allows_is_one_its_model_takes(doc, operation, field):
    """No schema-valid string is refused by the field's own validation (the fuzzer's
    positive_data_acceptance, field by field, without a server)."""
    schema = _properties(doc, operation)[field]
    model = _endpoint(operation).body

    @settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_matches(schema))
    def check(value: str) -> None:
        assert field not in _field_errors(model, {field: value}), (field, value)

    check()


def test_text_fields_carry_the_pattern_of_their_rule(doc):
    customer = _properties(doc, "customers_create")
    assert customer["name"]["pattern"] == text.NAME_PATTERN
    assert customer["postal"]["pattern"] == customer["bank_name"]["pattern"] == text.LINE_PATTERN
    assert customer["contact_details"]["pattern"] == customer["description"]["pattern"] == text.LINES_PATTERN
    invitation = _properties(doc, "user_invitations_create")
    assert invitation["full_name"]["pattern"] == invitation["job_title"]["pattern"] == text.LINE_PATTERN
    assert invitation["extra_invitation_text"]["pattern"] == text.LINES_PATTERN
    robot = _properties(doc, "marketplace_robot_accounts_partial_update")
    assert robot["type"]["pattern"] == text.NAME_PATTERN and robot["type"]["maxLength"] == 5
    assert robot["username"]["pattern"] == text.LINE_PATTERN and robot["username"]["maxLength"] == 32
    usages = doc["components"]["schemas"]
    assert any(
        s.get("properties", {}).get("username", {}).get("pattern") == text.NAME_PATTERN
        for s in usages.values()
    )


def test_a_name_of_spaces_only_is_outside_its_pattern_and_refused(client, staff):
    assert not re.fullmatch(text.NAME_PATTERN, "\u3000 \u00a0")
    reply = call(client, "POST", "/api/customers/", staff, {"name": "\u3000 \u00a0"})
    assert reply.status == 400 and reply.json == {"name": ["This field may not be blank."]}


# --- emails -----------------------------------------------------------------------------------------
def test_every_email_input_has_the_email_pattern_put_and_patch_alike(doc):
    email_pattern = _properties(doc, "customers_create")["email"]["pattern"]
    for operation in (
        "user_invitations_create",
        "hooks_email_create",
        "hooks_email_update",
        "hooks_email_partial_update",
        "users_create",
        "users_partial_update",
    ):
        assert _properties(doc, operation)["email"]["pattern"] == email_pattern, operation
    assert _properties(doc, "user_invitations_create")["email"]["minLength"] == 1


def test_an_invitation_email_with_a_trailing_line_break_is_refused(client, staff):
    customer = call(client, "POST", "/api/customers/", staff, {"name": "Acme"}).json
    reply = call(
        client,
        "POST",
        "/api/user-invitations/",
        staff,
        {"scope": customer["url"], "role": "CUSTOMER.OWNER", "email": "someone@example.org\n"},
    )
    assert reply.status == 400 and reply.json == {"email": ["Enter a valid email address."]}


def test_the_email_pattern_spells_its_whitespace_the_same_in_every_engine(doc):
    pattern = _properties(doc, "customers_create")["email"]["pattern"]
    rust = jsonschema_rs.validator_for({"type": "string", "pattern": pattern}).is_valid
    for sep in ("\x1c", "\x85", "\u3000", "\ufeff", "\u200b"):
        value = f"a{sep}b@example.org"
        accepted = "email" not in _field_errors(
            _endpoint("customers_create").body, {"name": "x", "email": value}
        )
        assert rust(value) == accepted == bool(re.fullmatch(pattern, value)), repr(sep)


# --- URLs -------------------------------------------------------------------------------------------
def test_urls_carry_the_shape_their_validator_accepts(doc):
    hook = _properties(doc, "hooks_web_create")
    assert hook["destination_url"]["pattern"] == hook_rules.URL_PATTERN
    assert (
        _properties(doc, "hooks_web_partial_update")["destination_url"]["pattern"] == hook_rules.URL_PATTERN
    )
    url = re.compile(hook_rules.URL_PATTERN)
    assert url.fullmatch("https://hooks.example.org:8443/in?x=1") and not url.fullmatch("0")
    assert not url.fullmatch("http://a.1/") and not url.fullmatch("ftp://example.org/")
    payment = re.compile(_properties(doc, "invoices_set_payment_url")["payment_url"]["pattern"])
    assert (
        payment.fullmatch("")
        and payment.fullmatch("https://pay.example.org/x")
        and not payment.fullmatch("x")
    )
    scope = re.compile(_properties(doc, "user_invitations_create")["scope"]["pattern"])
    assert scope.fullmatch(f"https://h/api/projects/{'a' * 32}/") and not scope.fullmatch(
        "https://h/api/users/x/"
    )


def test_a_payment_url_that_breaks_the_parser_is_refused_in_drfs_words(client, staff):
    from chalicelib.api.invoices import PaymentUrlIn

    assert _field_errors(PaymentUrlIn, {"payment_url": "http://["}) == {"payment_url": ["Enter a valid URL."]}


# --- secrets, usernames, passwords, slugs, keys ---------------------------------------------------------
def test_bounds_checked_in_their_own_words_are_stated(doc):
    for operation in ("hooks_web_create", "hooks_web_update", "hooks_web_partial_update"):
        secret = _properties(doc, operation)["secret"]
        assert (secret["minLength"], secret["maxLength"]) == (16, 256), operation
    assert _properties(doc, "users_password")["password"]["minLength"] == 8
    assert _properties(doc, "users_change_password")["new_password"]["minLength"] == 8
    user = _properties(doc, "users_create")["username"]
    assert user["pattern"] == usernames.ASCII_PATTERN and user["maxLength"] == usernames.MAX_LENGTH
    for operation in ("marketplace_offering_users_create", "marketplace_offering_users_update"):
        name = _properties(doc, operation)["username"]
        assert (name["pattern"], name["maxLength"]) == (offering_users.USERNAME_PATTERN, 100), operation
    given_name = _properties(doc, "marketplace_service_providers_set_offerings_username")["username"]
    assert (given_name["pattern"], given_name["maxLength"]) == (offering_users.GIVEN_USERNAME_PATTERN, 100)


def test_slugs_state_the_rule_and_set_slug_requires_one(doc):
    for operation in ("customers_update", "customers_partial_update", "projects_create"):
        slug = _properties(doc, operation)["slug"]
        assert (slug["pattern"], slug["maxLength"]) == (slugs.BLANK_OR_PATTERN, 50), operation
    for operation in (
        "projects_set_slug",
        "marketplace_resources_set_slug",
        "marketplace_provider_resources_set_slug",
    ):
        op = doc["paths"][_endpoint(operation).path.rstrip("/") + "/"]["post"]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert body["required"] == ["slug"], operation
        assert body["properties"]["slug"]["pattern"] == slugs.PATTERN


def test_an_ssh_key_line_is_described_up_to_its_parse(doc):
    assert _properties(doc, "keys_create")["public_key"]["pattern"] == ssh_keys.KEY_PATTERN
    for operation in ("marketplace_robot_accounts_create", "marketplace_robot_accounts_partial_update"):
        assert _properties(doc, operation)["keys"]["items"]["pattern"] == ssh_keys.KEY_PATTERN, operation


def test_offering_bytes_bound_is_said_in_words(doc):
    vendor = _properties(doc, "marketplace_provider_offerings_update_overview")["vendor_details"]
    assert "bytes as stored" in vendor["description"] and vendor["maxLength"] == 16 * 1024


# --- rules the domain checks: every string the pattern allows passes them ----------------------------
@settings(max_examples=60, deadline=None, derandomize=True)
@given(_matches({"pattern": slugs.PATTERN, "maxLength": slugs.MAX_LENGTH}))
def test_set_slug_takes_every_slug_its_pattern_allows(value):
    assert slugs.check(value) == value


@settings(max_examples=60, deadline=None, derandomize=True)
@given(_matches({"pattern": offering_users.USERNAME_PATTERN, "maxLength": offering_users.USERNAME_MAX}))
def test_offering_usernames_take_every_name_their_pattern_allows(value):
    assert offering_users.check_username(value) == value


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(_matches({"pattern": ssh_keys.KEY_PATTERN, "maxLength": ssh_keys.PUBLIC_KEY_MAX}))
def test_a_key_line_of_the_pattern_is_refused_only_for_not_parsing(value):
    try:
        ssh_keys.clean_public_key(value)
    except DomainError as exc:
        assert exc.errors == {"public_key": [ssh_keys.INVALID_KEY]}


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(_matches({"pattern": hook_rules.URL_PATTERN, "maxLength": hook_rules.URL_MAX}))
def test_a_destination_of_the_pattern_is_refused_only_for_its_address(value):
    try:
        hook_rules.check_destination(value)
    except DomainError as exc:
        assert exc.errors == {"destination_url": [hook_rules.DESTINATION_NOT_ALLOWED]}


# --- users PUT/PATCH: password is not a field of theirs -------------------------------------------------
def test_users_update_ignores_a_password_as_waldur_does(doc, client, staff, alice):
    """Waldur's UserSerializer has no `password`: PUT/PATCH ignore it like any unknown key (the
    `password/` action changes it). The schema does not offer it."""
    assert "password" not in _properties(doc, "users_update")
    assert "password" not in _properties(doc, "users_partial_update")
    assert "password" in _properties(doc, "users_create")
    url = f"/api/users/{alice.id}/"
    reply = call(client, "PATCH", url, staff, {"password": "another-password", "job_title": "Engineer"})
    assert reply.status == 200 and reply.json["job_title"] == "Engineer"
    reply = call(client, "PUT", url, staff, {"username": "alice", "password": "another-password"})
    assert reply.status == 200
    signed_in = call(
        client, "POST", "/api-auth/password/", None, {"username": "alice", "password": alice.password}
    )
    assert signed_in.status == 200
