"""Cognito JWT verification (chalicelib/auth/bearer.py, jwks.py) and what a token says about its user
(services/federation.py's claims reading), without AWS: the key set comes from an in-memory fetch."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from chalicelib.auth.bearer import BearerVerifier
from chalicelib.auth.jwks import KeyCache, KeySetUnavailable, signing_keys
from chalicelib.config import CognitoSettings
from chalicelib.domain import usernames
from chalicelib.domain.errors import AuthenticationFailed
from chalicelib.services.federation import federated_user_id, identity_from_claims
from tests.cognito_fakes import CLIENT_ID, ISSUER, KID, POOL_ID, b64, claims, jwks, mint, rsa_key, unsigned

SETTINGS = CognitoSettings(user_pool_id=POOL_ID, client_ids=(CLIENT_ID,), leeway_seconds=30)


class CountingFetch:
    def __init__(self, document: dict[str, Any] | None = None, fail: bool = False) -> None:
        self.document = document if document is not None else jwks()
        self.fail = fail
        self.calls = 0

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.fail:
            raise KeySetUnavailable("down")
        return self.document


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier(fetch: CountingFetch | None = None, clock: Clock | None = None) -> BearerVerifier:
    keys = KeyCache(fetch or CountingFetch(), refresh_seconds=60, clock=clock or Clock())
    return BearerVerifier(SETTINGS, keys)


def refused(token: str, detail: str = "Invalid token.", **kwargs: Any) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        verifier().verify(token, **kwargs)
    assert caught.value.detail == detail


# --- accepted ----------------------------------------------------------------------------------------
def test_an_id_token_and_an_access_token_of_the_pool_are_accepted() -> None:
    assert verifier().verify(mint(claims("id")))["cognito:username"] == "fed-alice"
    assert verifier().verify(mint(claims("access")))["username"] == "fed-alice"


def test_expiry_and_not_before_are_judged_with_the_leeway() -> None:
    now = int(time.time())
    verifier().verify(mint(claims(exp=now - 10)))  # 10 s late: within 30 s of clock skew
    verifier().verify(mint(claims(nbf=now + 10, iat=now + 10)))


# --- refused: the security matrix (the API-level twin is tests/integration/test_bearer_auth.py) --------
def _public_pem() -> bytes:
    return rsa_key().as_pem(private=False)


def hs256_with_public_key() -> str:
    # The classic confusion: an HMAC "signed" with the RSA public key, hoping it is used as the secret
    # (made by hand: joserfc itself refuses a public key as an HMAC secret).
    signing_input = unsigned({"alg": "HS256", "kid": KID, "typ": "JWT"}, claims())[:-1]
    mac = hmac.new(_public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def tampered() -> str:
    header, _, signature = mint().split(".")
    forged = unsigned({"alg": "RS256", "kid": KID}, claims(sub="someone-else")).split(".")[1]
    return f"{header}.{forged}.{signature}"


FORGERIES = {
    "alg none": lambda: unsigned({"alg": "none", "kid": KID}, claims()),
    "alg none, signature kept": lambda: unsigned({"alg": "none", "kid": KID}, claims(), mint().split(".")[2]),
    "HS256 signed with the public key": hs256_with_public_key,
    "foreign issuer": lambda: mint(claims(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")),
    "wrong audience (id token)": lambda: mint(claims("id", aud="another-client")),
    "wrong client (access token)": lambda: mint(claims("access", client_id="another-client")),
    "token_use refresh": lambda: mint({**claims("id"), "token_use": "refresh"}),
    "token_use missing": lambda: mint({k: v for k, v in claims("id").items() if k != "token_use"}),
    "id token carrying only client_id": lambda: mint(claims("id", aud=None, client_id=CLIENT_ID)),
    "audience as a list": lambda: mint(claims("id", aud=[CLIENT_ID])),
    "no subject": lambda: mint(claims(sub=None)),
    "no expiry": lambda: mint(claims(exp=None)),
    "unknown kid": lambda: mint(key=RSAKey.generate_key(2048, parameters={"kid": "rogue"})),
    "another key under the pool's kid": lambda: mint(key=RSAKey.generate_key(2048), kid=KID),
    "no kid": lambda: unsigned({"alg": "RS256"}, claims(), mint().split(".")[2]),
    "tampered payload": tampered,
    "truncated": lambda: mint()[:-12],
    "garbage": lambda: "not-a-jwt",
    "three garbage parts": lambda: "a.b.c",
    "empty": lambda: "",
    "huge": lambda: "a" * 20_000 + ".b.c",
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_or_foreign_token_is_refused(forge: Any) -> None:
    refused(forge())


def test_an_expired_token_is_refused_past_the_leeway() -> None:
    refused(mint(claims(exp=int(time.time()) - 31)), "Token has expired.")


def test_a_not_yet_valid_token_is_refused_past_the_leeway() -> None:
    refused(mint(claims(nbf=int(time.time()) + 120)), "Token is not yet valid.")
    refused(mint(claims(iat=int(time.time()) + 120)), "Token is not yet valid.")


def test_the_callback_demands_an_id_token() -> None:
    refused(mint(claims("access")), token_use="id")


# --- the key cache -----------------------------------------------------------------------------------
def test_keys_are_fetched_once_and_kept() -> None:
    fetch = CountingFetch()
    check = verifier(fetch)
    for _ in range(50):
        check.verify(mint())
    assert fetch.calls == 1


def test_garbage_key_ids_cause_one_fetch_per_interval_not_a_storm() -> None:
    fetch, clock = CountingFetch(), Clock()
    check = verifier(fetch, clock)
    check.verify(mint())  # the first fetch
    rogue = RSAKey.generate_key(2048)
    for i in range(1000):
        with pytest.raises(AuthenticationFailed):
            check.verify(mint(key=rogue, kid=f"garbage-{i}"))
    assert fetch.calls == 1  # within the interval: no refetch at all
    clock.now += 61
    for i in range(1000):
        with pytest.raises(AuthenticationFailed):
            check.verify(mint(key=rogue, kid=f"more-garbage-{i}"))
    assert fetch.calls == 2


def test_a_rotated_key_is_picked_up_on_its_first_token() -> None:
    fetch, clock = CountingFetch(), Clock()
    check = verifier(fetch, clock)
    check.verify(mint())
    new_key = rsa_key("test-key-2")
    fetch.document = jwks(rsa_key(), new_key)  # Cognito publishes the next key
    clock.now += 61
    assert check.verify(mint(key=new_key))["sub"]
    assert fetch.calls == 2


def test_an_unreachable_key_set_refuses_tokens_and_is_not_hammered() -> None:
    fetch = CountingFetch(fail=True)
    check = verifier(fetch)
    for _ in range(20):
        with pytest.raises(AuthenticationFailed):
            check.verify(mint())
    assert fetch.calls == 1


def test_only_rsa_signature_keys_are_taken_from_the_key_set() -> None:
    public = rsa_key().as_dict(private=False)
    document = {
        "keys": [
            public,
            {**public, "kid": "enc", "use": "enc"},
            {**public, "kid": "hs", "alg": "HS256"},
            {"kty": "oct", "kid": "oct", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "broken", "n": "x"},
            "not a key",
        ]
    }
    assert list(signing_keys(document)) == [KID]


# --- what a token says about its user ----------------------------------------------------------------
def test_an_id_token_names_the_user_their_name_and_email() -> None:
    identity = identity_from_claims(claims("id"), SETTINGS)
    assert identity.user_id == federated_user_id(ISSUER, claims()["sub"])
    assert identity.usernames == ("fed-alice", usernames.fallback(identity.user_id))
    assert (identity.full_name, identity.email, identity.provider) == (
        "Alice Fed",
        "alice@idp.example",
        "cognito",
    )
    assert identity.is_staff is None and identity.is_support is None  # no group mapping configured


def test_an_access_token_names_the_same_user_without_profile_claims() -> None:
    access = identity_from_claims(claims("access"), SETTINGS)
    assert access.user_id == identity_from_claims(claims("id"), SETTINGS).user_id
    assert (access.full_name, access.email) == (None, None)  # not in the token: left as they are


def test_the_identity_provider_comes_from_identities_or_cognitos_provider_group() -> None:
    saml = claims(identities=[{"providerName": "Campus", "providerType": "SAML", "userId": "a@campus"}])
    assert identity_from_claims(saml, SETTINGS).provider == "Campus"
    as_text = claims(identities='[{"providerName": "PartnerOIDC"}]')
    assert identity_from_claims(as_text, SETTINGS).provider == "PartnerOIDC"
    access = claims("access", **{"cognito:groups": [f"{POOL_ID}_Campus", "users"]})
    assert identity_from_claims(access, SETTINGS).provider == "Campus"


def test_a_mapped_username_is_preferred_and_the_pools_is_the_fallback() -> None:
    identity = identity_from_claims(claims(preferred_username="alice"), SETTINGS)
    assert identity.usernames == ("alice", "fed-alice", usernames.fallback(identity.user_id))


def test_claimed_usernames_outside_the_rule_are_passed_over() -> None:
    identity = identity_from_claims(claims(preferred_username="al\u200bice\r\n"), SETTINGS)
    assert identity.usernames == ("fed-alice", usernames.fallback(identity.user_id))


def test_a_token_without_a_user_is_refused() -> None:
    machine = claims("access", username=None)  # a client-credentials token names no user
    with pytest.raises(AuthenticationFailed, match="names no user"):
        identity_from_claims(machine, SETTINGS)


def test_groups_decide_staff_and_support_when_mapped() -> None:
    mapped = CognitoSettings(
        user_pool_id=POOL_ID, client_ids=(CLIENT_ID,), staff_groups=("ops",), support_groups=("helpdesk",)
    )
    staff = identity_from_claims(claims(**{"cognito:groups": ["ops"]}), mapped)
    assert (staff.is_staff, staff.is_support) == (True, False)
    # A multi-valued SAML attribute mapped to custom:groups arrives as one string.
    support = identity_from_claims(claims(**{"custom:groups": "[users, helpdesk]"}), mapped)
    assert (support.is_staff, support.is_support) == (False, True)
    nobody = identity_from_claims(claims(), mapped)
    assert (nobody.is_staff, nobody.is_support) == (False, False)  # a lost group demotes
