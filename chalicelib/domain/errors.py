"""Domain errors. The API maps each kind to one HTTP status in a single place (api/errors.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class DomainError(Exception):
    """Base of every error a user can cause; anything else is a bug."""


class ValidationError(DomainError):
    """Bad input: a field map (`{"name": ["This field is required."]}`) or a list of messages. A
    field of a dict or a nested object maps its keys the same way, as DRF nests them
    (`{"limits": {"cpu": ["A valid integer is required."]}}`)."""

    def __init__(self, errors: Mapping[str, Any] | Sequence[str]) -> None:
        self.errors: dict[str, Any] | list[str] = _detail(errors)
        super().__init__(str(self.errors))

    @classmethod
    def field(cls, name: str, message: str) -> ValidationError:
        return cls({name: [message]})


def _detail(errors: Mapping[str, Any] | Sequence[str]) -> Any:
    if isinstance(errors, Mapping):
        return {str(k): _detail(v) for k, v in errors.items()}
    return list(errors)


class NotAuthenticated(DomainError):
    def __init__(self, detail: str = "Authentication credentials were not provided.") -> None:
        self.detail = detail
        super().__init__(detail)


class AuthenticationFailed(NotAuthenticated):
    pass


class PermissionDenied(DomainError):
    def __init__(self, detail: str = "You do not have permission to perform this action.") -> None:
        self.detail = detail
        super().__init__(detail)


class LockedOut(PermissionDenied):
    pass


class NotFound(DomainError):
    """An object that does not exist or that the caller may not see (Waldur answers 404 for both)."""

    def __init__(self, model: str) -> None:
        self.detail = f"No {model} matches the given query."
        super().__init__(self.detail)


class Conflict(DomainError):
    """The object's state does not allow the operation, or it changed under us (a lost race)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class StateTransitionRefused(DomainError):
    """A state action from a state it does not start from, where Waldur's schema answers 400
    (its `StateTransitionError`, e.g. robot accounts' `set_state_*`) rather than the 409 of its
    older state actions."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class ServiceUnavailable(Exception):
    """The store is shedding load (throttled) even after the SDK's own retries: neither the caller's
    fault nor a bug, so not a DomainError. Nothing was written; the same request may simply be sent
    again after `retry_after` seconds (HTTP 503 with Retry-After; a queue task is retried)."""

    def __init__(
        self, detail: str = "Service temporarily unavailable, try again later.", retry_after: int = 1
    ) -> None:
        self.detail = detail
        self.retry_after = retry_after


class Unprocessable(DomainError):
    """Well-formed, but it cannot be done as asked (422), e.g. an idempotency key reused with
    another request."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class TooBroad(DomainError):
    """A filter or ordering no key serves would read more than the configured bound (a 400 whose
    detail says what would narrow the request)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class QuotaExceeded(ValidationError):
    def __init__(self, name: str, limit: int, requested: int) -> None:
        super().__init__(
            [f"One or more quotas were exceeded: {name} quota limit: {limit}, requires {requested}"]
        )
