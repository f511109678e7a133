"""Idempotency keys: a client's `Idempotency-Key` header makes a creation safe to send again.

A creation that carries a key stores it, in the creation's own transaction, with what it made and a
hash of the request; a retry (same user, same key, same request) is answered with that object as it
is now instead of making a second one, and the same key with another request is refused, as it is
no retry (Powertools' IdempotencyValidationError). Keys are per user and forgotten after a day.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.errors import DomainError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_LENGTH = f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters."
KEY_REUSED = "This Idempotency-Key was already used with a different request; use a new key."


@dataclass(frozen=True)
class KeyUse:
    """The key a request was sent with and the hash of that request (its operation and body)."""

    key: str
    request_hash: str


@dataclass(frozen=True)
class RequestKey:
    """What a key is remembered with: the object the creation made, what finds it besides its id
    (an order's customer; "" when its id alone does), and the hash of the request that made it
    ("" for a key stored before requests were hashed: it matches any request)."""

    object_id: str
    scope_id: str
    request_hash: str

    def answers(self, use: KeyUse) -> bool:
        """Whether `use` is a retry of the request that stored this key."""
        return not self.request_hash or self.request_hash == use.request_hash


class KeyAlreadyUsed(DomainError):
    """The creation's key was stored by an earlier request (a retry, or a concurrent one)."""

    def __init__(self, used: RequestKey) -> None:
        self.used = used
        super().__init__(used.object_id)
