"""`Authorization: Bearer <jwt>` against the API: Cognito tokens verified against the pool's key set
(served by a fake Cognito on 127.0.0.1, or moto's own key set for moto's tokens), users provisioned on
first sight and kept up to date with their claims, deactivated users refused, and every forged token
refused with 401 without creating anybody."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.domain import usernames
from chalicelib.services.federation import federated_user_id
from tests.cognito_fakes import (
    ISSUER,
    FakeCognito,
    claims,
    configure,
    mint,
    serving,
)
from tests.conftest import Account
from tests.helpers import Reply, call, feed
from tests.unit.test_jwt_verification import FORGERIES

SUB = claims()["sub"]
USER_ID = federated_user_id(ISSUER, SUB)


@pytest.fixture
def cognito(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCognito]:
    with serving(FakeCognito()) as fake:
        configure(
            monkeypatch, fake, CIRRUS_COGNITO_STAFF_GROUPS="ops", CIRRUS_COGNITO_SUPPORT_GROUPS="helpdesk"
        )
        yield fake


def bearer(client: Any, token: str, path: str = "/api/users/me/", **headers: str) -> Reply:
    return call(client, "GET", path, headers={"Authorization": f"Bearer {token}", **headers})


def user_count(settle: Callable[[], int]) -> int:
    """The users' total once the stream consumer has counted every change so far."""
    from chalicelib.store import counters

    settle()
    return counters.value(counters.USERS)


def stored(user_id: str = USER_ID) -> Any:
    from chalicelib.store import users

    return users.get(user_id)


# --- refused: 401 and nobody created -----------------------------------------------------------------
API_FORGERIES = {
    **FORGERIES,
    "expired": lambda: mint(claims(exp=int(time.time()) - 3600)),
    "not yet valid": lambda: mint(claims(nbf=int(time.time()) + 3600)),
}


def test_every_forged_token_is_refused_and_creates_nobody(client, cognito, settle):
    # One world for the whole matrix (moto's table per test is the slow part); each case is judged alone.
    before = user_count(settle)
    wrong = {}
    for case, forge in API_FORGERIES.items():
        reply = bearer(client, forge())
        if reply.status != 401 or set(reply.json) != {"detail"} or user_count(settle) != before or stored():
            wrong[case] = (reply.status, reply.json, user_count(settle) - before)
    assert wrong == {}
    assert len(API_FORGERIES) >= 20


def test_a_malformed_bearer_header_is_refused(client, cognito):
    for header in ("Bearer", "Bearer a b"):
        reply = call(client, "GET", "/api/users/me/", headers={"Authorization": header})
        assert reply.status == 401, header


def test_without_a_pool_a_bearer_token_is_not_ours_to_judge(client, monkeypatch):
    from chalicelib.config import reset_settings

    monkeypatch.delenv("CIRRUS_COGNITO_USER_POOL_ID", raising=False)
    reset_settings()
    reply = bearer(client, mint())
    assert reply.status == 401
    assert reply.json == {"detail": "Authentication credentials were not provided."}
    assert call(client, "GET", "/api/version/", headers={"Authorization": f"Bearer {mint()}"}).status == 200


# --- first sight and later sign-ins ------------------------------------------------------------------
def test_first_sight_provisions_the_user_from_the_claims(client, cognito, settle):
    before = user_count(settle)
    token = mint(claims(identities=[{"providerName": "Campus", "providerType": "SAML"}]))

    reply = bearer(client, token)

    assert reply.status == 200, reply.json
    me = reply.json
    assert (me["uuid"], me["username"], me["full_name"], me["email"]) == (
        USER_ID,
        "fed-alice",
        "Alice Fed",
        "alice@idp.example",
    )
    assert me["registration_method"] == "Campus"
    assert (me["is_staff"], me["is_support"], me["is_active"]) == (False, False, True)
    assert user_count(settle) == before + 1
    created = [e for e in feed("user", USER_ID) if e.event_type == "user_creation_succeeded"]
    assert len(created) == 1
    assert created[0].context["user_uuid"] == USER_ID  # the user signed themself up


def test_later_sign_ins_update_name_and_email_and_nothing_else(client, cognito):
    assert bearer(client, mint()).status == 200

    reply = bearer(client, mint(claims(name="Alice Renamed", email="alice@new.example")))

    assert (reply.json["full_name"], reply.json["email"]) == ("Alice Renamed", "alice@new.example")
    assert reply.json["username"] == "fed-alice"  # the username stays what it was at first sight
    updates = [e.event_type for e in feed("user", USER_ID)]
    assert updates.count("user_update_succeeded") == 1
    # The same claims again change nothing and log nothing.
    assert bearer(client, mint(claims(name="Alice Renamed", email="alice@new.example"))).status == 200
    assert [e.event_type for e in feed("user", USER_ID)] == updates


def test_an_access_token_is_the_same_user_and_keeps_their_profile(client, cognito):
    first = bearer(client, mint(claims("id"))).json

    again = bearer(client, mint(claims("access"))).json

    assert again["uuid"] == first["uuid"]
    assert (again["full_name"], again["email"]) == ("Alice Fed", "alice@idp.example")


def test_a_deactivated_user_stays_refused(client, cognito, staff: Account):
    assert bearer(client, mint()).status == 200
    reply = call(client, "PATCH", f"/api/users/{USER_ID}/", staff, {"is_active": False})
    assert reply.status == 200, reply.json

    refused = bearer(client, mint(claims(name="Someone Else")))

    assert refused.status == 401
    assert refused.json == {"detail": "User inactive or deleted."}
    assert stored().full_name == "Alice Fed"  # a refused token changes nothing


def test_groups_make_staff_and_support_and_losing_them_demotes(client, cognito, alice: Account):
    ops = mint(claims(**{"cognito:groups": ["ops"]}))
    assert bearer(client, ops).json["is_staff"] is True
    # As staff they read everybody, and may impersonate.
    impersonated = bearer(client, ops, "/api/users/me/", **{"X-Impersonated-User-Uuid": alice.id})
    assert impersonated.json["uuid"] == alice.id
    assert impersonated.headers["X-impersonator-uuid"] == USER_ID

    demoted = bearer(client, mint(claims(**{"cognito:groups": ["helpdesk"]}))).json

    assert (demoted["is_staff"], demoted["is_support"]) == (False, True)
    refused = bearer(client, mint(), "/api/users/me/", **{"X-Impersonated-User-Uuid": alice.id})
    assert refused.status == 403


def test_a_taken_username_falls_back_to_the_pools_and_never_takes_over_an_account(
    client, cognito, alice: Account
):
    # The IdP calls them "alice": that is a local user's name, so they get the pool's name instead.
    reply = bearer(client, mint(claims(preferred_username="alice")))
    assert reply.status == 200
    assert (reply.json["uuid"], reply.json["username"]) == (USER_ID, "fed-alice")

    # Another identity whose every name is taken gets a generated name; alice is untouched.
    other = mint(claims(sub="another-subject", **{"cognito:username": "alice"}))
    fallback = bearer(client, other)
    other_id = federated_user_id(ISSUER, "another-subject")
    assert fallback.status == 200
    assert (fallback.json["uuid"], fallback.json["username"]) == (other_id, usernames.fallback(other_id))
    assert call(client, "GET", "/api/users/me/", alice).json["uuid"] == alice.id


@pytest.mark.parametrize(
    "claimed",
    [
        "st\u200baff",  # a zero-width space
        "<b>staff</b>",  # markup
        "staff\r\nX-Injected: 1",  # a line break
        "St\u0430ff",  # a Cyrillic a: looks like the staff user's name
        "STAFF",  # the staff user's name in capitals
        "\uff53\uff54\uff41\uff46\uff46",  # full-width letters: NFKC makes them "staff"
    ],
    ids=["zero-width", "html", "crlf", "cyrillic", "case", "full-width"],
)
def test_a_claimed_username_outside_the_rules_or_like_anothers_gets_a_generated_name(
    client, cognito, staff: Account, claimed: str
):
    # GIVEN an IdP whose users choose their preferred_username, and whose pool name is just as free
    token = mint(claims(preferred_username=claimed, **{"cognito:username": claimed}))
    # WHEN that user is seen for the first time
    reply = bearer(client, token)
    # THEN they get a plain generated name, and the staff user is still the only one named alike
    assert reply.status == 200
    assert reply.json["username"] == usernames.fallback(USER_ID)
    assert stored().username == usernames.fallback(USER_ID)
    assert call(client, "GET", "/api/users/me/", staff).json["username"] == "staff"


def test_a_clean_claimed_username_is_kept_after_nfkc(client, cognito):
    reply = bearer(client, mint(claims(preferred_username="\uff41lice.example")))  # a full-width a
    assert reply.status == 200 and reply.json["username"] == "alice.example"


def test_a_first_sight_that_lost_the_race_signs_in_the_winner(cognito, settle):
    from chalicelib.config import get_settings
    from chalicelib.domain.context import EventContext
    from chalicelib.services import federation

    identity = federation.identity_from_claims(claims(), get_settings().cognito)
    winner = federation.authenticate(claims(), EventContext())
    before = user_count(settle)

    # A concurrent first request of the same user, whose read saw no user yet:
    loser = federation._provision(identity, EventContext())

    assert loser.id == winner.id
    assert user_count(settle) == before


# --- cost ----------------------------------------------------------------------------------------------
@pytest.fixture
def dynamodb_calls() -> Iterator[list[str]]:
    from chalicelib.store.table import connection

    calls: list[str] = []

    def count(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = connection().client.meta.events
    events.register("before-call.dynamodb", count)
    yield calls
    events.unregister("before-call.dynamodb", count)


def test_a_known_user_costs_one_read_and_the_key_set_one_fetch(client, cognito, alice, dynamodb_calls):
    token = mint()
    dynamodb_calls.clear()
    assert bearer(client, token, "/api/version/").status == 200  # first sight: the key set is fetched
    # No such user yet; nobody's name looks like theirs (Query); made with its event.
    assert dynamodb_calls == ["GetItem", "Query", "TransactWriteItems"]
    costs = []
    for _ in range(20):
        dynamodb_calls.clear()
        assert bearer(client, token).status == 200
        costs.append(len(dynamodb_calls))
    dynamodb_calls.clear()
    assert call(client, "GET", "/api/users/me/", alice).status == 200
    with_waldur_token = len(dynamodb_calls)

    assert cognito.jwks_fetches == 1
    # users/me/ reads the user once more; the bearer's own cost is the one GetItem of the user,
    # the same as a Waldur token's one GetItem of the token.
    assert costs == [with_waldur_token] * 20
    dynamodb_calls.clear()
    assert bearer(client, token, "/api/version/").status == 200
    assert dynamodb_calls == ["GetItem"]


# --- a token moto issued ---------------------------------------------------------------------------------
def _moto_pool() -> tuple[str, str, dict[str, str]]:
    import boto3

    from chalicelib.local import cognito as local_cognito

    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id = idp.create_user_pool(PoolName="test")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="api",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=["email", "name"],
    )["UserPoolClient"]["ClientId"]
    local_cognito.add_user(
        idp, pool_id, "moto-user", "Moto-passw0rd!", name="Moto User", email="m@example.org"
    )
    result = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "moto-user", "PASSWORD": "Moto-passw0rd!"},
    )["AuthenticationResult"]
    return pool_id, client_id, {"id": result["IdToken"], "access": result["AccessToken"]}


def _moto_key_set() -> dict[str, Any]:
    """The public half of the fixed key moto signs every pool's tokens with (what moto's server
    serves at /<pool id>/.well-known/jwks.json)."""
    import json

    from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse

    return dict(json.loads(CognitoIdpJsonWebKeyResponse.json_web_key))


def test_a_token_moto_issued_is_accepted(client, aws, monkeypatch):
    pool_id, client_id, tokens = _moto_pool()
    with serving(FakeCognito(key_set=_moto_key_set())) as fake:
        configure(monkeypatch, fake, CIRRUS_COGNITO_USER_POOL_ID=pool_id, CIRRUS_COGNITO_CLIENT_ID=client_id)

        by_id = bearer(client, tokens["id"])
        by_access = bearer(client, tokens["access"])

    assert by_id.status == 200, by_id.json
    assert (by_id.json["username"], by_id.json["full_name"], by_id.json["email"]) == (
        "moto-user",
        "Moto User",
        "m@example.org",
    )
    assert by_id.json["registration_method"] == "cognito"
    assert by_access.status == 200 and by_access.json["uuid"] == by_id.json["uuid"]
