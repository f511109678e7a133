"""Users who sign in through Cognito (its own users, or SAML/OIDC identities it federates).

A verified token's claims name the user: on first sight the user is created from them; on later
sign-ins their name, email and (when groups are mapped) staff and support flags follow the claims;
a deactivated user stays refused. The user's id is derived from the pool and the token's `sub`, so
resolving a bearer token costs one GetItem, with no lookup table to keep in step.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.config import CognitoSettings, get_settings
from chalicelib.domain import events, usernames
from chalicelib.domain import tokens as token_rules
from chalicelib.domain import users as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import AuthenticationFailed, Conflict, ValidationError
from chalicelib.domain.users import User
from chalicelib.services.ports import tokens, unit_of_work
from chalicelib.services.ports import users as store

# Federated users' ids are UUIDv5 in this namespace, of `<issuer>#<sub>`.
ID_NAMESPACE = uuid.UUID("0f5c3a4e-6b1d-5c8e-9a7f-2d4b6e8c1a3f")
NATIVE_PROVIDER = "cognito"  # registration_method of the pool's own users
# Where a username may come from, in order of preference: an attribute the IdP mapping fills, then
# the pool's own username (an ID token's `cognito:username`, an access token's `username`). A claim
# outside the username rule, or looking like another user's name, is passed over; when none is left
# the user gets a generated name (domain.usernames).
USERNAME_CLAIMS = ("preferred_username", "cognito:username", "username")

NO_USER = "The token names no user."
INACTIVE_USER = "User inactive or deleted."
USERNAME_TAKEN = "A user with that username already exists."


@dataclass(frozen=True)
class Identity:
    """What a token says about its user. None: the token does not say (the user keeps theirs)."""

    user_id: str
    usernames: tuple[str, ...]  # to try in order at first sight, the generated fallback last
    provider: str
    full_name: str | None = None
    email: str | None = None
    is_staff: bool | None = None
    is_support: bool | None = None


def federated_user_id(issuer: str, subject: str) -> str:
    return uuid.uuid5(ID_NAMESPACE, f"{issuer}#{subject}").hex


def identity_from_claims(claims: Mapping[str, Any], settings: CognitoSettings) -> Identity:
    """Read a verified token's claims (ID or access token) into an Identity."""
    given = [
        name for name in (claims.get(k) for k in USERNAME_CLAIMS) if isinstance(name, str) and name.strip()
    ]
    if not given:
        raise AuthenticationFailed(NO_USER)
    user_id = federated_user_id(str(claims["iss"]), str(claims["sub"]))
    valid = (usernames.from_claim(name) for name in given)
    groups = _groups(claims, settings.groups_claims)
    return Identity(
        user_id=user_id,
        usernames=tuple(dict.fromkeys([*(name for name in valid if name), usernames.fallback(user_id)])),
        provider=_provider(claims, groups, settings.user_pool_id),
        full_name=_full_name(claims),
        email=_text(claims.get("email")),
        is_staff=bool(groups & set(settings.staff_groups)) if settings.staff_groups else None,
        is_support=bool(groups & set(settings.support_groups)) if settings.support_groups else None,
    )


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None


def _full_name(claims: Mapping[str, Any]) -> str | None:
    name = _text(claims.get("name"))
    if name is not None:
        return name
    parts = [_text(claims.get(k)) for k in ("given_name", "family_name")]
    present = [p for p in parts if p]
    return " ".join(present) if present else None


def _groups(claims: Mapping[str, Any], names: tuple[str, ...]) -> set[str]:
    """Groups from Cognito's list claim, or from a custom attribute an IdP mapping filled as a string
    (`"[staff, users]"` for a multi-valued SAML attribute, or a comma-separated list)."""
    found: set[str] = set()
    for name in names:
        value = claims.get(name)
        if isinstance(value, list):
            found.update(v for v in value if isinstance(v, str))
        elif isinstance(value, str):
            found.update(g for g in re.split(r"[,\s\[\]]+", value) if g)
    return found


def _provider(claims: Mapping[str, Any], groups: set[str], pool_id: str) -> str:
    """The identity provider: an ID token's `identities`, else the group Cognito puts federated users
    in (`<pool id>_<provider>`, in access tokens too), else the pool itself."""
    identities = claims.get("identities")
    if isinstance(identities, str):
        try:
            identities = json.loads(identities)
        except ValueError:
            identities = None
    if isinstance(identities, list):
        for entry in identities:
            if isinstance(entry, dict) and isinstance(entry.get("providerName"), str):
                return str(entry["providerName"])
    prefix = f"{pool_id}_"
    for group in sorted(groups):
        if pool_id and group.startswith(prefix) and len(group) > len(prefix):
            return group[len(prefix) :]
    return NATIVE_PROVIDER


def authenticate(claims: Mapping[str, Any], ctx: EventContext) -> User:
    """The user a verified token names: created at first sight, brought up to date with the claims
    afterwards (each change logged as Waldur logs user changes), refused when deactivated."""
    return _resolve(identity_from_claims(claims, get_settings().cognito), ctx)


def _resolve(identity: Identity, ctx: EventContext) -> User:
    user = store.get(identity.user_id)  # the one round trip of a known user
    return _provision(identity, ctx) if user is None else _existing(user, identity, ctx)


def _provision(identity: Identity, ctx: EventContext) -> User:
    for username in identity.usernames:
        if store.lookalike_ids(username) - {identity.user_id}:
            continue  # it would pass for another user's name (a staff name, say)
        user = User(
            id=identity.user_id,
            username=username,
            date_joined=utcnow(),
            full_name=identity.full_name or "",
            email=identity.email or "",
            registration_method=identity.provider,
            is_staff=bool(identity.is_staff),
            is_support=bool(identity.is_support),
        )
        uow = unit_of_work()
        store.add(uow, user)
        uow.record(domain.event(user, events.CREATION, replace(ctx, principal=user.principal())))
        try:
            uow.commit()
        except (ValidationError, Conflict):
            # Either a concurrent first request made this very user, or the name is someone else's.
            raced = store.get(identity.user_id)
            if raced is not None:
                return _existing(raced, identity, ctx)
            continue
        return replace(user, version=1)
    raise AuthenticationFailed(USERNAME_TAKEN)


def _existing(user: User, identity: Identity, ctx: EventContext) -> User:
    if not user.is_active:
        raise AuthenticationFailed(INACTIVE_USER)
    return _follow_claims(user, identity, ctx)


def _follow_claims(user: User, identity: Identity, ctx: EventContext) -> User:
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("full_name", identity.full_name),
            ("email", identity.email),
            ("is_staff", identity.is_staff),
            ("is_support", identity.is_support),
        )
        if value is not None and getattr(user, name) != value
    }
    if not changes:
        return user
    after = replace(user, **changes)
    uow = unit_of_work()
    store.save_changes(uow, user, after)
    uow.record(domain.event(after, events.UPDATE, replace(ctx, principal=after.principal())))
    auth_changed = any(name in domain.AUTH_FIELDS for name in changes)
    if auth_changed:
        tokens.refresh_snapshots_in(uow, after)  # their live Waldur tokens follow in the same transaction
    try:
        uow.commit()
    except Conflict:
        # A concurrent request of the same user applied the claims first (or staff changed the user):
        # go on with what is stored; the next sign-in applies the claims again.
        fresh = store.load(user.id)
        if fresh is None or not fresh.is_active:
            raise AuthenticationFailed(INACTIVE_USER) from None
        return fresh
    if auth_changed:
        tokens.refresh_snapshots(after)
    return replace(after, version=user.version + 1)


def sign_in(claims: Mapping[str, Any], ctx: EventContext) -> str:
    """The hosted UI's sign-in: the user the ID token names (created or updated as above) gets a
    Waldur token, logged as `auth_logged_in_with_oauth` in the token's transaction; returns its key."""
    identity = identity_from_claims(claims, get_settings().cognito)
    user = _resolve(identity, ctx)
    provider = identity.provider
    now = utcnow()
    key, token = token_rules.issue(user, now)
    uow = unit_of_work()
    tokens.put(uow, token)
    uow.record(
        events.make_event(
            events.AUTH_LOGGED_IN_WITH_OAUTH,
            f"User {user.username} authenticated successfully with Cognito ({provider}).",
            replace(ctx, principal=user.principal()),
            {"provider": provider},
        )
    )
    uow.commit()
    return key
