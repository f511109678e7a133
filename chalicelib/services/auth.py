"""Authentication use cases: password login (Waldur's `/api-auth/password/`), logout, token checks."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chalicelib.config import get_settings
from chalicelib.domain import events
from chalicelib.domain import tokens as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import AuthenticationFailed, Conflict, LockedOut, PermissionDenied
from chalicelib.domain.users import check_login_password
from chalicelib.services.ports import tokens as store
from chalicelib.services.ports import unit_of_work
from chalicelib.services.ports import users as user_store

INVALID_CREDENTIALS = "Invalid username/password."
INVALID_TOKEN = "Invalid token."
EXPIRED_TOKEN = "Token has expired."
INACTIVE_USER = "User inactive or deleted."
LOCKED_OUT = "Account locked: too many login attempts. Please try again later."
IMPERSONATION_DENIED = "Only staff users can impersonate other users."


def login(username: str, password: str, ctx: EventContext) -> str:
    """Check the credentials and return a new token key; count failures and lock out repeat offenders."""
    settings = get_settings()
    now = utcnow()
    ip = ctx.ip_address or "unknown"
    failures = store.login_failures(username, ip)
    if failures is not None and failures.locked(now, settings.lockout_limit):
        raise LockedOut(LOCKED_OUT)
    user = user_store.get_by_username(username)
    # The password is stretched whether or not the user exists, so timing tells nothing.
    matches = check_login_password(
        password, user.password_hash if user else None, settings.password_iterations
    )
    if user is None or not user.is_active or not matches:
        _count_failure(username, ip, failures, now, ctx)
        raise AuthenticationFailed(INVALID_CREDENTIALS)
    key, token = domain.issue(user, now)
    uow = unit_of_work()
    store.put(uow, token)
    if failures is not None:
        store.clear_login_failures(uow, username, ip)
    user_ctx = replace(ctx, principal=user.principal())
    uow.record(
        events.make_event(
            events.AUTH_LOGGED_IN_WITH_USERNAME,
            f"User {user.username} authenticated successfully with username and password.",
            user_ctx,
            {},
        )
    )
    uow.commit()
    return key


_COUNT_ATTEMPTS = 3


def _count_failure(
    username: str, ip: str, failures: domain.LoginFailures | None, now: datetime, ctx: EventContext
) -> None:
    """Count a failed login and log it in one transaction (no count without its event, nor an event
    without its count). A failure racing another one for the same window counts again on a fresh read."""
    window = now + timedelta(seconds=get_settings().lockout_cooloff_seconds)
    event = events.make_event(
        events.AUTH_LOGIN_FAILED_WITH_USERNAME,
        f"User {username} failed to authenticate with username and password.",
        ctx,
        {"username": username},
    )
    for attempt in range(_COUNT_ATTEMPTS):
        uow = unit_of_work()
        store.count_login_failure(uow, username, ip, failures, now, window)
        uow.record(event)
        try:
            uow.commit()
            return
        except Conflict:
            if attempt == _COUNT_ATTEMPTS - 1:
                raise
            failures = store.login_failures(username, ip)


@dataclass(frozen=True)
class Authenticated:
    principal: Principal
    key_hash: str


def authenticate(key: str) -> Authenticated:
    """Resolve a token key to its user (one GetItem), sliding the token's expiry forward."""
    now = utcnow()
    token = store.get(domain.hash_key(key)) if key else None
    if token is None:
        raise AuthenticationFailed(INVALID_TOKEN)
    if not token.is_active:
        raise AuthenticationFailed(INACTIVE_USER)
    if token.is_expired(now):
        raise AuthenticationFailed(EXPIRED_TOKEN)
    renewed = token.renewed(now)
    if renewed is not None:
        store.extend(renewed)
    return Authenticated(token.principal(), token.key_hash)


def impersonate(staff: Principal, user_id: str) -> Principal:
    """Act as another user: only staff may, and the impersonator is kept for the audit trail."""
    if not staff.is_staff:
        raise PermissionDenied(IMPERSONATION_DENIED)
    user = user_store.get(user_id)
    if user is None or not user.is_active:
        raise AuthenticationFailed(INACTIVE_USER)
    return replace(user.principal(), impersonator_id=staff.user_id, impersonator_username=staff.username)


def logout(ctx: EventContext, key_hash: str) -> None:
    """Revoke the token the request came with, and log it as its owner's logout: staff who log out
    while impersonating end their own session, so the event names them (and goes to their feed),
    not the user they were acting as, who is still signed in wherever they were."""
    principal = ctx.actor
    if principal.impersonator_id:
        ctx = replace(ctx, principal=_token_owner(key_hash, principal))
    uow = unit_of_work()
    store.revoke(uow, key_hash)
    uow.record(
        events.make_event(
            events.AUTH_LOGGED_OUT,
            f"User {ctx.actor.username} has logged out.",
            ctx,
            {},
        )
    )
    uow.commit()


def _token_owner(key_hash: str, impersonated: Principal) -> Principal:
    """Who the token belongs to: its snapshot, or (revoked meanwhile) the impersonator's id and name."""
    token = store.get(key_hash)
    if token is not None:
        return token.principal()
    return Principal(
        user_id=impersonated.impersonator_id or "", username=impersonated.impersonator_username or ""
    )
