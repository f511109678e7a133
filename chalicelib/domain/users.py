"""Users, their passwords, and what a user's authentication snapshot carries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import events
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import ValidationError

DEFAULT_TOKEN_LIFETIME = 3600  # seconds; Waldur's default
PASSWORD_MIN_LENGTH = 8  # Django's MinimumLengthValidator, which Waldur's password actions run
PASSWORD_MAX_LENGTH = 128  # Django's password column
PASSWORD_TOO_SHORT = f"This password is too short. It must contain at least {PASSWORD_MIN_LENGTH} characters."


@dataclass(frozen=True)
class User:
    id: str
    username: str
    date_joined: datetime
    full_name: str = ""
    email: str = ""
    native_name: str = ""
    organization: str = ""
    job_title: str = ""
    phone_number: str = ""
    civil_number: str = ""
    description: str = ""
    preferred_language: str = ""
    registration_method: str = "default"
    is_staff: bool = False
    is_support: bool = False
    is_active: bool = True
    token_lifetime: int | None = DEFAULT_TOKEN_LIFETIME
    # When the user agreed to the terms of service (Waldur's `agreement_date`); HomePort sends a user
    # without it to the profile form to agree (`agree_with_policy`) before anything else.
    agreement_date: datetime | None = None
    password_hash: str = ""
    version: int = 0

    def principal(self) -> Principal:
        return Principal(
            user_id=self.id,
            username=self.username,
            full_name=self.full_name,
            is_staff=self.is_staff,
            is_support=self.is_support,
        )

    def event_fields(self) -> dict[str, str]:
        return {"affected_user_uuid": self.id, "affected_user_username": self.username}

    def matches_query(self, text: str) -> bool:
        needle = text.lower()
        return any(needle in v.lower() for v in (self.username, self.full_name, self.email))


# Fields whose change must reach the user's live tokens at once (they decide what a token may do).
AUTH_FIELDS: frozenset[str] = frozenset(
    {"username", "full_name", "is_staff", "is_support", "is_active", "token_lifetime"}
)


# Where a user's identity comes from (Waldur's identity_provider_* user fields). A password user's is
# the local database (Waldur's LOCAL_IDP_NAME and LOCAL_IDP_LABEL); any other registration method is
# an identity provider behind Cognito, whose claims set these fields again at every sign-in
# (services/federation.py), so the user cannot change them here (HomePort shows them read-only).
LOCAL_METHOD = "default"
LOCAL_PROVIDER = "Local DB"
CLAIMED_FIELDS: tuple[str, ...] = ("full_name", "email")


@dataclass(frozen=True)
class IdentitySource:
    name: str
    label: str
    management_url: str
    fields: tuple[str, ...]


def identity_source(registration_method: str) -> IdentitySource:
    if registration_method == LOCAL_METHOD:
        return IdentitySource(LOCAL_PROVIDER, LOCAL_PROVIDER, "", ())
    label = "Cognito" if registration_method == "cognito" else registration_method
    return IdentitySource(registration_method, label, "", CLAIMED_FIELDS)


def pbkdf2(password: str, salt: str, iterations: int) -> bytes:
    """The one place a password is stretched (the costly step a login's timing depends on)."""
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)


def check_token_lifetime(lifetime: int | None, maximum: int | None) -> None:
    """A lifetime a user chooses for their own tokens stays within the operator's bound (None: no
    bound, tokens that never expire allowed, as in Waldur)."""
    if maximum is None:
        return
    if lifetime is None:
        raise ValidationError.field(
            "token_lifetime", f"Tokens that never expire are not allowed: at most {maximum} seconds."
        )
    if lifetime > maximum:
        raise ValidationError.field(
            "token_lifetime", f"Ensure this value is less than or equal to {maximum}."
        )


def hash_password(password: str, iterations: int, salt: str | None = None) -> str:
    """Django's format, `pbkdf2_sha256$<iterations>$<salt>$<b64 hash>`, so hashes stay portable."""
    salt = salt or secrets.token_hex(11)
    digest = pbkdf2(password, salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def _parts(encoded: str) -> tuple[int, str] | None:
    """The iterations and salt of a usable hash, or None (no password: a federated user, say)."""
    try:
        algorithm, iterations, salt, _ = encoded.split("$", 3)
        count = int(iterations)
    except ValueError:
        return None
    return (count, salt) if algorithm == "pbkdf2_sha256" and count > 0 else None


def check_password(password: str, encoded: str) -> bool:
    parts = _parts(encoded)
    if parts is None:
        return False
    return hmac.compare_digest(hash_password(password, parts[0], parts[1]), encoded)


# The salt of the stand-in hash below: any fixed value does, nothing is ever compared equal to it.
_DUMMY_SALT = "cirrus-no-such-user"


def check_login_password(password: str, encoded: str | None, iterations: int) -> bool:
    """`check_password` for a login, costing one stretch of `iterations` also when there is no user
    (`encoded` None) or the user has no usable password: the time a refusal takes then does not
    tell which usernames exist (Django's `make_password` on a missing user, likewise)."""
    if encoded is not None and _parts(encoded) is not None:
        return check_password(password, encoded)
    pbkdf2(password, _DUMMY_SALT, iterations)  # the same work, for nothing
    return False


def event(user: User, action: str, ctx: EventContext) -> events.Event:
    """The audit event of `action` (events.CREATION, UPDATE or DELETION) on `user`."""
    return events.lifecycle_event("user", action, user.username, ctx, user.event_fields())


USER_PASSWORD_UPDATED_BY_STAFF = "user_password_updated_by_staff"


def password_event_by_staff(user: User, ctx: EventContext) -> events.Event:
    """Waldur's event of a password set by staff (`change_password/`): its message names the staff
    user as Waldur prints a user, `username (full name)`."""
    actor = ctx.actor
    by = f"{actor.username} ({actor.full_name})" if actor.full_name else actor.username
    message = f"Password has been changed for user {user.username} by {by}."
    return events.make_event(USER_PASSWORD_UPDATED_BY_STAFF, message, ctx, user.event_fields())
