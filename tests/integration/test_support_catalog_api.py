"""`/api/support-priorities/` and `/api/support-templates/` over Chalice's test client, on moto's
DynamoDB: Waldur's fields, filters, order and errors; who reads (priorities: signed-in users;
templates: anybody) and who writes (templates: staff; priorities: nobody through the API)."""

from __future__ import annotations

from uuid import UUID

import pytest

from chalicelib.domain import support_catalog as domain
from tests.helpers import call

PRIORITIES = "/api/support-priorities/"
TEMPLATES = "/api/support-templates/"
DEFAULT_NAMES = ["High", "Highest", "Low", "Lowest", "Medium"]  # Waldur orders priorities by name
FORBIDDEN = {"detail": "You do not have permission to perform this action."}


def make_template(client, staff, **fields):
    body = {"name": "Disk quota", "description": "Please raise my quota.", **fields}
    reply = call(client, "POST", TEMPLATES, staff, body)
    assert reply.status == 201, reply.json
    return reply.json


# --- priorities ------------------------------------------------------------------------------------
def test_a_signed_in_user_reads_the_default_priorities_by_name(client, alice):
    reply = call(client, "GET", PRIORITIES, alice)
    assert reply.status == 200
    assert [p["name"] for p in reply.json] == DEFAULT_NAMES
    assert reply.headers["X-Result-Count"] == "5"
    high = reply.json[0]
    assert set(high) == {"url", "uuid", "name", "description", "icon_url"}
    assert high["uuid"] == domain.default_priority_id("High")
    assert high["url"] == f"http://localhost/api/support-priorities/{high['uuid']}/"
    assert high["description"] == "Serious problem that could block progress."
    # Read again: the same five (written once, not again).
    assert call(client, "GET", PRIORITIES, alice).json == reply.json


def test_priorities_filter_by_name_and_order_as_waldurs(client, alice):
    def names(query):
        reply = call(client, "GET", PRIORITIES + query, alice)
        assert reply.status == 200, reply.json
        return [p["name"] for p in reply.json]

    assert names("?name=high") == ["High", "Highest"]
    assert names("?name_exact=High") == ["High"]
    assert names("?name_exact=high") == []
    assert names("?o=-name") == DEFAULT_NAMES[::-1]
    assert names("?page_size=2&page=3") == ["Medium"]
    assert call(client, "GET", PRIORITIES + "?o=created", alice).status == 400


def test_a_default_priority_is_found_by_its_uuid_before_anybody_listed_them(client, alice):
    medium = domain.default_priority_id("Medium")
    reply = call(client, "GET", f"{PRIORITIES}{UUID(medium)}/", alice)  # the dashed form too
    assert reply.status == 200, reply.json
    assert (reply.json["uuid"], reply.json["name"]) == (medium, "Medium")
    assert call(client, "HEAD", PRIORITIES, alice).headers["X-Result-Count"] == "5"


def test_an_unknown_priority_is_waldurs_404(client, alice):
    for uuid in ("0" * 32, "not-a-uuid"):
        reply = call(client, "GET", f"{PRIORITIES}{uuid}/", alice)
        assert (reply.status, reply.json) == (404, {"detail": "No Priority matches the given query."})


def test_priorities_need_a_signed_in_user_and_are_read_only(client, staff):
    assert call(client, "GET", PRIORITIES).status == 401
    assert call(client, "GET", f"{PRIORITIES}{domain.default_priority_id('Low')}/").status == 401
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        path = PRIORITIES if method == "POST" else f"{PRIORITIES}{domain.default_priority_id('Low')}/"
        assert call(client, method, path, staff, {"name": "Urgent"}).status == 405, method
    assert [p["name"] for p in call(client, "GET", PRIORITIES, staff).json] == DEFAULT_NAMES


# --- templates -------------------------------------------------------------------------------------
def test_staff_create_a_template_that_anybody_reads(client, staff, alice):
    made = make_template(client, staff, issue_type="SERVICE_REQUEST")
    assert set(made) == {"url", "uuid", "name", "description", "issue_type", "attachments"}
    assert (made["name"], made["description"], made["issue_type"], made["attachments"]) == (
        "Disk quota",
        "Please raise my quota.",
        "SERVICE_REQUEST",
        [],
    )
    assert made["url"] == f"http://localhost/api/support-templates/{made['uuid']}/"
    for reader in (alice, None):  # Waldur's IsAdminOrReadOnly: anonymous reads too
        assert call(client, "GET", made["url"], reader).json == made
        listed = call(client, "GET", TEMPLATES, reader)
        assert (listed.status, listed.json, listed.headers["X-Result-Count"]) == (200, [made], "1")


def test_a_template_is_informational_unless_told_and_listed_by_name(client, staff):
    second = make_template(client, staff, name="VPN access", description="Grant me VPN.")
    first = make_template(client, staff, name="Account", description="Open an account.")
    assert first["issue_type"] == "INFORMATIONAL"
    names = [t["name"] for t in call(client, "GET", TEMPLATES, staff).json]
    assert names == ["Account", "VPN access"]
    assert [t["uuid"] for t in call(client, "GET", TEMPLATES + "?page_size=1&page=2", staff).json] == [
        second["uuid"]
    ]


def test_staff_change_and_delete_a_template(client, staff):
    made = make_template(client, staff)
    patched = call(client, "PATCH", made["url"], staff, {"issue_type": "INCIDENT"})
    assert patched.status == 200, patched.json
    assert (patched.json["name"], patched.json["issue_type"]) == ("Disk quota", "INCIDENT")
    put = call(client, "PUT", made["url"], staff, {"name": "Quota", "description": "More, please."})
    assert put.status == 200, put.json
    assert (put.json["name"], put.json["description"], put.json["issue_type"]) == (
        "Quota",
        "More, please.",
        "INCIDENT",  # PUT changes what it names, as DRF does
    )
    assert call(client, "GET", made["url"], staff).json == put.json
    assert call(client, "DELETE", made["url"], staff).status == 204
    gone = call(client, "GET", made["url"], staff)
    assert (gone.status, gone.json) == (404, {"detail": "No Template matches the given query."})
    assert call(client, "DELETE", made["url"], staff).status == 404


def test_only_staff_write_templates_and_support_only_read(client, staff, support, alice):
    made = make_template(client, staff)
    body = {"name": "Mine", "description": "Taken over."}
    for who in (alice, support):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            reply = call(client, method, TEMPLATES if method == "POST" else made["url"], who, body)
            assert (reply.status, reply.json) == (403, FORBIDDEN), (method, who.username)
        # Refused before the lookup: an unknown template answers the same.
        assert call(client, "DELETE", f"{TEMPLATES}{'0' * 32}/", who).status == 403
    assert call(client, "POST", TEMPLATES, None, body).status == 401
    assert call(client, "GET", TEMPLATES, staff).json == [made]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"description": "x"}, {"name": ["This field is required."]}),
        ({"name": "x"}, {"description": ["This field is required."]}),
        ({"name": "  ", "description": "x"}, {"name": ["This field may not be blank."]}),
        ({"name": "x", "description": " \n "}, {"description": ["This field may not be blank."]}),
        (
            {"name": "x" * 151, "description": "x"},
            {"name": ["Ensure this field has no more than 150 characters."]},
        ),
        (
            {"name": "a\u202eb", "description": "x"},
            {"name": ["Bidirectional override characters are not allowed."]},
        ),
        ({"name": "x", "description": "a\x00b"}, {"description": ["Null characters are not allowed."]}),
        (
            {"name": "x", "description": "x", "issue_type": "BUG"},
            {"issue_type": ['"BUG" is not a valid choice.']},
        ),
        (
            {"name": "x", "description": "x", "issue_type": None},
            {"issue_type": ["This field may not be null."]},
        ),
        ({"name": ["x"], "description": "x"}, {"name": ["Not a valid string."]}),
    ],
)
def test_bad_template_input_is_a_400_naming_the_field_and_nothing_is_stored(client, staff, body, errors):
    reply = call(client, "POST", TEMPLATES, staff, body)
    assert (reply.status, reply.json) == (400, errors)
    assert call(client, "GET", TEMPLATES, staff).json == []


def test_a_template_description_is_bounded_by_its_size_as_stored(client, staff):
    # 16 KiB as stored: an ASCII text of that length fits, a shorter one of non-ASCII letters does not.
    fits = "x" * (domain.TEMPLATE_DESCRIPTION_BYTES - 2)
    assert call(client, "POST", TEMPLATES, staff, {"name": "big", "description": fits}).status == 201
    too_big = "é" * 3000  # 3,000 characters, 18,002 bytes as stored
    reply = call(client, "POST", TEMPLATES, staff, {"name": "big", "description": too_big})
    assert reply.status == 400
    assert reply.json["description"][0].startswith("Ensure this value is no larger than 16384 bytes")
    made = call(client, "GET", TEMPLATES, staff).json
    patched = call(client, "PATCH", made[0]["url"], staff, {"description": too_big})
    assert patched.status == 400 and call(client, "GET", made[0]["url"], staff).json == made[0]
