"""The caller's rights for the current request: their grants and the roles, read once.

A permission check costs two DynamoDB calls per request whatever the table holds (the caller's
grants: one gsi1 Query; the roles: one Query of the `ROLES` partition), memoised until the next
request begins. Staff need neither.
"""

from __future__ import annotations

from contextvars import ContextVar

from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import Principal
from chalicelib.domain.rbac import Access
from chalicelib.domain.roles import Role
from chalicelib.services.ports import grants, roles

_memo: ContextVar[dict[str, Access] | None] = ContextVar("cirrus_access", default=None)
_roles_memo: ContextVar[dict[str, Role] | None] = ContextVar("cirrus_roles", default=None)


def begin_request() -> None:
    """Forget what the previous request read (the API calls this first thing)."""
    _memo.set({})
    _roles_memo.set(None)


def end_request() -> None:
    """Leave the request: what runs next on this thread (a test's service calls, work outside a
    request) reads afresh, as `access` promises outside a request."""
    _memo.set(None)
    _roles_memo.set(None)


def all_roles() -> dict[str, Role]:
    cached = _roles_memo.get()
    if cached is None:
        cached = roles.all_roles()
        if _memo.get() is not None:  # within a request: keep it for the request
            _roles_memo.set(cached)
    return cached


def access(principal: Principal) -> Access:
    """What `principal` may do now. Outside a request (background work) nothing is memoised."""
    memo = _memo.get()
    key = f"{principal.user_id}:{principal.is_staff}:{principal.is_support}"
    if memo is not None and key in memo:
        return memo[key]
    if principal.is_staff:
        found = Access(principal, now=utcnow())
    else:
        found = Access(principal, tuple(grants.for_user(principal.user_id)), all_roles(), utcnow())
    if memo is not None:
        memo[key] = found
    return found


def forget(principal: Principal) -> None:
    """Drop the memo after the request changed the caller's own grants."""
    memo = _memo.get()
    if memo is not None:
        for key in [k for k in memo if k.startswith(f"{principal.user_id}:")]:
            del memo[key]
