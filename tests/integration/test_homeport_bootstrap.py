"""What HomePort (Waldur's web UI) reads before and right after sign-in: the public configuration in
Waldur's shape, the roles signed out, the login page's identity providers and logos, and the token a
password sign-in leaves on `users/me` (HomePort sends `Token <users/me token>` from then on)."""

from __future__ import annotations

from typing import Any

from tests.helpers import call


def test_configuration_has_what_homeport_bootstraps_from(client: Any) -> None:
    reply = call(client, "GET", "/api/configuration/")
    assert reply.status == 200
    body = reply.json
    # bootstrap.ts: LANGUAGES.reduce / .map, LANGUAGE_CODE, FEATURES per area.
    assert ["en", "English"] in body["LANGUAGES"] and body["LANGUAGE_CODE"] == "en"
    assert body["FEATURES"]["user"]["ssh_keys"] is True
    assert all(isinstance(flag, bool) for area in body["FEATURES"].values() for flag in area.values())
    core = body["WALDUR_CORE"]
    assert core["CURRENCY_NAME"] == "EUR" and core["LANGUAGE_CHOICES"] == ["en"]
    assert core["AUTHENTICATION_METHODS"] == ["LOCAL_SIGNIN"]  # no hosted UI configured here
    assert isinstance(core["USER_MANDATORY_FIELDS"], list) and core["BRAND_COLOR"].startswith("#")
    # The sections HomePort reads keys of without checking they exist.
    for section in ("WALDUR_AUTH_SAML2", "WALDUR_AUTH_SOCIAL", "WALDUR_MARKETPLACE", "WALDUR_SUPPORT"):
        assert isinstance(body[section], dict)


def test_the_login_page_lists_no_identity_provider_without_a_hosted_ui(client: Any) -> None:
    reply = call(client, "GET", "/api/identity-providers/")
    assert reply.status == 200 and reply.json == [] and reply.headers["X-Result-Count"] == "0"
    missing = call(client, "GET", "/api/identity-providers/cognito/")
    assert missing.status == 404 and "detail" in missing.json


def test_logos_are_served_for_waldurs_names_only(client: Any) -> None:
    for name in ("login_logo", "hero_image", "sidebar_logo_mobile", "favicon"):
        reply = call(client, "GET", f"/api/icons/{name}/")
        assert reply.status == 200 and reply.headers["Content-Type"] == "image/svg+xml"
        assert reply.raw.startswith(b"<svg")
    unknown = call(client, "GET", "/api/icons/..%2f..%2fetc/")
    assert unknown.status == 404 and "detail" in unknown.json


def test_users_me_shows_the_token_the_caller_signed_in_with(client: Any, alice: Any, staff: Any) -> None:
    signed_in = call(
        client, "POST", "/api-auth/password/", body={"username": "alice", "password": alice.password}
    )
    assert signed_in.status == 200
    token = signed_in.json["token"]
    me = call(client, "GET", "/api/users/me/", headers={"Authorization": f"Token {token}"})
    assert me.status == 200 and me.json["token"] == token and me.json["uuid"] == alice.id
    own = call(client, "GET", f"/api/users/{alice.id}/", headers={"Authorization": f"Token {token}"})
    assert own.json["token"] == token


def test_nobody_else_sees_a_users_token(client: Any, alice: Any, staff: Any) -> None:
    """Waldur: nobody apart from the user herself sees her token, staff included, and an
    impersonating staff member does not get the impersonated user's (nor show their own)."""
    seen_by_staff = call(client, "GET", f"/api/users/{alice.id}/", staff)
    assert seen_by_staff.status == 200 and "token" not in seen_by_staff.json
    listed = call(client, "GET", "/api/users/", staff)
    assert all("token" not in user for user in listed.json)
    impersonating = call(
        client, "GET", "/api/users/me/", staff, headers={"X-Impersonated-User-Uuid": alice.id}
    )
    assert impersonating.status == 200 and impersonating.json["uuid"] == alice.id
    assert "token" not in impersonating.json


def test_agreeing_to_the_terms_records_the_first_date_only(client: Any, alice: Any) -> None:
    """HomePort sends a user without `agreement_date` to the profile form, whose checkbox PATCHes
    `agree_with_policy: true`; the date stays that of the first agreement."""
    me = call(client, "GET", "/api/users/me/", alice)
    assert me.json["agreement_date"] is None
    agreed = call(client, "PATCH", f"/api/users/{alice.id}/", alice, {"agree_with_policy": True})
    assert agreed.status == 200 and agreed.json["agreement_date"] is not None
    assert "agree_with_policy" not in agreed.json  # write-only
    again = call(
        client, "PATCH", f"/api/users/{alice.id}/", alice, {"agree_with_policy": True, "job_title": "QA"}
    )
    assert again.json["agreement_date"] == agreed.json["agreement_date"] and again.json["job_title"] == "QA"
    kept = call(client, "PATCH", f"/api/users/{alice.id}/", alice, {"agree_with_policy": False})
    assert kept.json["agreement_date"] == agreed.json["agreement_date"]
    forged = call(
        client, "PATCH", f"/api/users/{alice.id}/", alice, {"agreement_date": "2000-01-01T00:00:00Z"}
    )
    assert forged.json["agreement_date"] == agreed.json["agreement_date"]  # read-only


def test_the_health_check_says_each_part_is_working(client: Any) -> None:
    """HomePort's header reads `<api root>/health-check/` (django-health-check's shape): every value
    "working" shows a green mark."""
    reply = call(client, "GET", "/health-check/")
    assert reply.status == 200 and reply.json == {"API": "working", "DynamoDB": "working"}


def test_the_health_check_says_when_the_table_does_not_answer(client: Any) -> None:
    import boto3

    from chalicelib.config import get_settings

    settings = get_settings()
    boto3.client("dynamodb", region_name=settings.region).delete_table(TableName=settings.table_name)
    reply = call(client, "GET", "/health-check/")
    assert reply.status == 500 and reply.json["API"] == "working"
    assert reply.json["DynamoDB"].startswith("unavailable")
