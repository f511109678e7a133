"""Waldur token authentication rules: 40-hex keys stored as hashes, sliding expiry, login lockout."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.context import Principal

if TYPE_CHECKING:
    from chalicelib.domain.users import User

# A token's expiry is pushed forward on use, but written at most this often: a request then costs
# one read, not a read and a write (the benchmark counts round trips).
RENEWAL_GRANULARITY = timedelta(seconds=60)


def new_key() -> str:
    return secrets.token_hex(20)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Token:
    """A live token: its hash, the user's authentication snapshot, and when it lapses."""

    key_hash: str
    user_id: str
    username: str
    full_name: str
    is_staff: bool
    is_support: bool
    is_active: bool
    lifetime: int | None  # seconds; None never lapses
    created: datetime
    expires: datetime | None

    def is_expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires

    def renewed(self, now: datetime) -> Token | None:
        """The token with its expiry slid forward, or None when the stored expiry is fresh enough."""
        if self.lifetime is None:
            return None
        target = now + timedelta(seconds=self.lifetime)
        if self.expires is not None and target - self.expires < RENEWAL_GRANULARITY:
            return None
        return replace(self, expires=target)

    def principal(self) -> Principal:
        return Principal(
            user_id=self.user_id,
            username=self.username,
            full_name=self.full_name,
            is_staff=self.is_staff,
            is_support=self.is_support,
        )


def expiry_for(now: datetime, lifetime: int | None) -> datetime | None:
    return None if lifetime is None else now + timedelta(seconds=lifetime)


def issue(user: User, now: datetime) -> tuple[str, Token]:
    """A new token for `user` (any sign-in): its key, shown once, and the token kept by its hash,
    carrying the user's authentication snapshot and lapsing after their token lifetime."""
    key = new_key()
    token = Token(
        key_hash=hash_key(key),
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        is_staff=user.is_staff,
        is_support=user.is_support,
        is_active=user.is_active,
        lifetime=user.token_lifetime,
        created=now,
        expires=expiry_for(now, user.token_lifetime),
    )
    return key, token


@dataclass(frozen=True)
class LoginFailures:
    """Failed logins for one username from one address, counted within a cool-off window."""

    count: int
    window_ends: datetime

    def locked(self, now: datetime, limit: int) -> bool:
        return now < self.window_ends and self.count >= limit
