"""Who is acting, from where: recorded in every event and carried into background work."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.errors import NotAuthenticated
from chalicelib.domain.request_keys import KeyUse


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. When staff impersonate, this is the impersonated user."""

    user_id: str
    username: str
    full_name: str = ""
    is_staff: bool = False
    is_support: bool = False
    impersonator_id: str | None = None
    impersonator_username: str | None = None

    @property
    def reads_everything(self) -> bool:
        return self.is_staff or self.is_support


@dataclass(frozen=True)
class EventContext:
    """Request context (Waldur's thread-local event context, made explicit)."""

    principal: Principal | None = None
    ip_address: str | None = None
    correlation_id: str | None = None
    # The Idempotency-Key a creation was sent with (only on the creations that honour one): the
    # creation stores it in its own transaction (services/request_keys.py). Never carried into
    # background work.
    request_key: KeyUse | None = None

    @property
    def actor(self) -> Principal:
        """The authenticated caller (services that change things are never called anonymously)."""
        if self.principal is None:
            raise NotAuthenticated()
        return self.principal

    def as_event_fields(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        if self.ip_address:
            fields["ip_address"] = self.ip_address
        p = self.principal
        if p is not None:
            fields.update(user_uuid=p.user_id, user_username=p.username, user_full_name=p.full_name)
            if p.impersonator_id:
                fields["impersonator_uuid"] = p.impersonator_id
                fields["impersonator_username"] = p.impersonator_username or ""
        return fields
