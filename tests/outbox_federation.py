"""Federated sign-in's commands (chalicelib/services/federation.py) for the outbox table
(tests/outbox_commands.py merges FEDERATION_COMMANDS into COMMANDS).

The claims are a verified Cognito token's (tests/cognito_fakes.py); the events' actor is the
federated user themself, whose account the scenario's setup adds to the world as `federated`.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from chalicelib.domain.context import EventContext
from tests.outbox_commands import TOKENS_FOLLOW_USER, Case, Command, Fields, S, World, emits

CTX = EventContext(ip_address="10.0.0.9", correlation_id="c-fed")


def _claims(**overrides: Any) -> dict[str, Any]:
    from tests.cognito_fakes import claims

    return claims("id", sub="outbox-subject", **overrides)


def newcomer(w: World) -> Any:
    """The federated user as the events will name them (not created yet)."""
    from chalicelib.services.federation import federated_user_id

    claims = _claims()
    w.federated = SimpleNamespace(  # type: ignore[attr-defined]
        id=federated_user_id(claims["iss"], claims["sub"]), username=claims["cognito:username"]
    )
    return w.federated  # type: ignore[attr-defined]


def known(w: World) -> Any:
    from chalicelib.services import federation

    user = newcomer(w)
    federation.authenticate(_claims(), EventContext())
    return user


def _affected(user: Any) -> dict[str, str]:
    return {"affected_user_uuid": user.id, "affected_user_username": user.username, "ip_address": "10.0.0.9"}


def first_sight(w: World, user: Any) -> Fields:
    from chalicelib.services import federation

    federation.authenticate(_claims(), CTX)
    return {"user_creation_succeeded": _affected(user)}


def renamed(w: World, user: Any) -> Fields:
    from chalicelib.services import federation

    federation.authenticate(_claims(name="Alice Renamed"), CTX)
    return {"user_update_succeeded": {**_affected(user), "user_full_name": "Alice Renamed"}}


def unchanged(w: World, user: Any) -> None:
    from chalicelib.services import federation

    federation.authenticate(_claims(), CTX)


def hosted_ui_sign_in(w: World, user: Any) -> Fields:
    from chalicelib.services import federation

    federation.sign_in(_claims(), CTX)
    login = {"user_uuid": user.id, "provider": "cognito", "ip_address": "10.0.0.9"}
    return {"user_creation_succeeded": _affected(user), "auth_logged_in_with_oauth": login}


def renamed_sign_in(w: World, user: Any) -> Fields:
    from chalicelib.services import federation

    federation.sign_in(_claims(name="Alice Renamed"), CTX)
    return {"user_update_succeeded": {**_affected(user), "user_full_name": "Alice Renamed"}}


def known_sign_in(w: World, user: Any) -> Fields:
    return {"auth_logged_in_with_oauth": hosted_ui_sign_in(w, user)["auth_logged_in_with_oauth"]}


FEDERATION_COMMANDS: dict[str, Command] = {
    f"{S}federation.authenticate": emits(
        Case(
            first_sight, ("user_creation_succeeded",), setup=newcomer, actor="federated", label="first sight"
        ),
        Case(
            renamed,
            ("user_update_succeeded",),
            setup=known,
            actor="federated",
            outside=TOKENS_FOLLOW_USER,
            label="claims changed",
        ),
        Case(
            unchanged,
            (),
            setup=known,
            actor="federated",
            label="claims as stored",
            why_no_event="the claims match the stored user: one read, nothing written",
        ),
    ),
    f"{S}federation.sign_in": emits(
        Case(
            hosted_ui_sign_in,
            ("user_creation_succeeded", "auth_logged_in_with_oauth"),
            setup=newcomer,
            actor="federated",
            label="first sight",
        ),
        Case(
            known_sign_in, ("auth_logged_in_with_oauth",), setup=known, actor="federated", label="known user"
        ),
        Case(
            renamed_sign_in,
            ("user_update_succeeded", "auth_logged_in_with_oauth"),
            setup=known,
            actor="federated",
            outside=TOKENS_FOLLOW_USER,
            label="claims changed",
        ),
    ),
}
