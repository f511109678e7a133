"""Bad input never yields a 500: each case gets Django REST framework's 4xx shape, and nothing
already stored changes."""

from __future__ import annotations

import pytest

from tests.helpers import call, create_customer, create_project

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes

GHOST = "0" * 32
LONG = "x" * 151

# (name, method, path template, body or raw body, extra headers, expected status, expected JSON or a key)
CASES = [
    ("malformed json", "POST", "/api/customers/", b'{"name": ', None, 400, "detail"),
    ("json array body", "POST", "/api/customers/", b'["name"]', None, 400, "non_field_errors"),
    ("json scalar body", "PATCH", "/api/customers/{c}/", b"42", None, 400, "non_field_errors"),
    (
        "missing required field",
        "POST",
        "/api/customers/",
        {},
        None,
        400,
        {"name": ["This field is required."]},
    ),
    (
        "blank name",
        "POST",
        "/api/customers/",
        {"name": ""},
        None,
        400,
        {"name": ["This field may not be blank."]},
    ),
    (
        "null name",
        "PATCH",
        "/api/customers/{c}/",
        {"name": None},
        None,
        400,
        {"name": ["This field may not be null."]},
    ),
    (
        "wrong type string",
        "POST",
        "/api/customers/",
        {"name": 12},
        None,
        400,
        {"name": ["Not a valid string."]},
    ),
    (
        "wrong type bool",
        "PATCH",
        "/api/customers/{c}/",
        {"blocked": "maybe"},
        None,
        400,
        {"blocked": ["Must be a valid boolean."]},
    ),
    ("wrong type number", "PATCH", "/api/customers/{c}/", {"latitude": "north"}, None, 400, "latitude"),
    ("out of range number", "PATCH", "/api/customers/{c}/", {"latitude": 123}, None, 400, "latitude"),
    (
        "over-long string",
        "POST",
        "/api/customers/",
        {"name": LONG},
        None,
        400,
        {"name": ["Ensure this field has no more than 150 characters."]},
    ),
    (
        "bad email",
        "PATCH",
        "/api/customers/{c}/",
        {"email": "not-an-email"},
        None,
        400,
        {"email": ["Enter a valid email address."]},
    ),
    (
        "email with a trailing line break",
        "PATCH",
        "/api/customers/{c}/",
        {"email": "a@b.cd\n"},
        None,
        400,
        {"email": ["Enter a valid email address."]},
    ),
    ("bad country", "PATCH", "/api/customers/{c}/", {"country": "xx"}, None, 400, "country"),
    (
        "bad date",
        "PATCH",
        "/api/projects/{p}/",
        {"start_date": "01/02/2026"},
        None,
        400,
        {"start_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
    ),
    (
        "bad datetime",
        "PATCH",
        "/api/customers/{c}/",
        {"accounting_start_date": "yesterday"},
        None,
        400,
        "accounting_start_date",
    ),
    (
        "text/plain body",
        "POST",
        "/api/customers/",
        b"name=x",
        {"Content-Type": "text/plain"},
        415,
        {"detail": "Unsupported media type in request."},
    ),
    (
        "form body",
        "PATCH",
        "/api/customers/{c}/",
        b"name=x",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
        "detail",
    ),
    ("not utf-8", "POST", "/api/customers/", b"\xff\xfe\x00", None, 400, "detail"),
    (
        "unknown customer uuid",
        "GET",
        f"/api/customers/{GHOST}/",
        None,
        None,
        404,
        {"detail": "No Customer matches the given query."},
    ),
    (
        "bad uuid syntax",
        "GET",
        "/api/customers/not-a-uuid/",
        None,
        None,
        404,
        {"detail": "No Customer matches the given query."},
    ),
    (
        "bad uuid on update",
        "PATCH",
        "/api/projects/12345/",
        {"name": "x"},
        None,
        404,
        {"detail": "No Project matches the given query."},
    ),
    ("unknown project on delete", "DELETE", f"/api/projects/{GHOST}/", None, None, 404, "detail"),
    (
        "unknown user",
        "GET",
        f"/api/users/{GHOST}/",
        None,
        None,
        404,
        {"detail": "No User matches the given query."},
    ),
    (
        "page not a number",  # DRF's PageNumberPagination: any page it cannot serve is a 404
        "GET",
        "/api/customers/?page=abc",
        None,
        None,
        404,
        {"detail": "Invalid page."},
    ),
    ("page zero", "GET", "/api/projects/?page=0", None, None, 404, {"detail": "Invalid page."}),
    ("unknown ordering", "GET", "/api/customers/?o=colour", None, None, 400, "o"),
    ("bad customer filter", "GET", "/api/projects/?customer=nope", None, None, 400, "customer"),
    (
        "bad customer_uuid filter",
        "GET",
        "/api/projects/?customer_uuid=nope",
        None,
        None,
        400,
        {"customer_uuid": ["Enter a valid UUID."]},
    ),
    ("bad boolean filter", "GET", "/api/users/?is_staff=perhaps", None, None, 400, "is_staff"),
    (
        "project for unknown customer",
        "POST",
        "/api/projects/",
        {"name": "P", "customer": GHOST},
        None,
        400,
        {"customer": ["Invalid hyperlink - Object does not exist."]},
    ),
    (
        "project type given",
        "POST",
        "/api/projects/",
        {"name": "P", "customer": "{c}", "type": "x"},
        None,
        400,
        "type",
    ),
    ("verb not allowed", "PATCH", "/api/version/", {}, None, 405, {"detail": 'Method "PATCH" not allowed.'}),
    (
        "delete on a list",
        "DELETE",
        "/api/customers/",
        None,
        None,
        405,
        {"detail": 'Method "DELETE" not allowed.'},
    ),
    (
        "bad impersonation header",
        "GET",
        "/api/users/me/",
        None,
        {"X-Impersonated-User-Uuid": "zzz"},
        400,
        ["Invalid impersonated user uuid."],
    ),
    ("bad username", "POST", "/api/users/", {"username": "no spaces allowed"}, None, 400, "username"),
    (
        "negative token lifetime",
        "PATCH",
        "/api/users/{u}/",
        {"token_lifetime": -5},
        None,
        400,
        "token_lifetime",
    ),
    ("write to a read-only endpoint", "PATCH", "/api/users/me/", {"full_name": "x"}, None, 405, "detail"),
]


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_gets_a_drf_shaped_4xx_and_changes_nothing(
    client, staff, method, path, body, headers, status, expected
):
    customer = create_customer(client, staff, "Keep Me", email="keep@me.test")
    project = create_project(client, staff, customer, "Keep Too")
    ids = {"c": customer["uuid"], "p": project["uuid"], "u": staff.id}
    before = (
        call(client, "GET", "/api/customers/", staff).json,
        call(client, "GET", "/api/projects/", staff).json,
        call(client, "GET", "/api/users/", staff).json,
    )
    raw = body if isinstance(body, bytes) else None
    reply = call(
        client, method, _fill(path, ids), staff, None if raw else _fill(body, ids), headers, raw_body=raw
    )

    assert reply.status == status, reply.json
    if isinstance(expected, str):
        assert expected in reply.json
    else:
        assert reply.json == expected
    after = (
        call(client, "GET", "/api/customers/", staff).json,
        call(client, "GET", "/api/projects/", staff).json,
        call(client, "GET", "/api/users/", staff).json,
    )
    assert after == before


def test_unknown_query_parameters_are_ignored_as_waldurs_filter_backends_ignore_them(client, staff):
    customer = create_customer(client, staff, "Acme")
    listed = call(client, "GET", "/api/customers/", staff)
    tolerated = call(client, "GET", "/api/customers/?colour=red&modified_before=soon&format=json", staff)
    assert tolerated.status == 200 and tolerated.json == listed.json
    one = call(client, "GET", f"/api/customers/{customer['uuid']}/", staff)
    paged = call(client, "GET", f"/api/customers/{customer['uuid']}/?page=2&page_size=10", staff)
    assert paged.status == 200 and paged.json == one.json
    refused = call(client, "GET", "/api/customers/?colour=red&o=colour", staff)  # known: still checked
    assert refused.status == 400 and set(refused.json) == {"o"}


def test_empty_filters_and_a_bad_page_size_change_nothing_as_in_drf(client, staff):
    """django-filter skips a filter whose value is empty; DRF's paginator takes its default size
    when `page_size` is not a positive number."""
    create_customer(client, staff, "Acme")
    create_customer(client, staff, "Globex")
    listed = call(client, "GET", "/api/customers/", staff)
    for query in ("?name=&o=", "?customer=&query=", "?page_size=lots", "?page_size=0", "?page_size=-3"):
        tolerated = call(client, "GET", f"/api/customers/{query}", staff)
        assert (tolerated.status, tolerated.json) == (200, listed.json), query
        assert tolerated.headers["X-Result-Count"] == listed.headers["X-Result-Count"], query
    named = call(client, "GET", "/api/customers/?name=&name=Glob", staff)  # the empty one is dropped
    assert [c["name"] for c in named.json] == ["Globex"]
