"""The one message shape every queue carries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.context import EventContext, Principal


class TaskContext(BaseModel):
    """The request's event context, carried so events written by the task name the same actor."""

    model_config = ConfigDict(extra="ignore")

    user_uuid: str | None = None
    username: str | None = None
    full_name: str | None = None
    is_staff: bool = False
    is_support: bool = False
    impersonator_uuid: str | None = None
    impersonator_username: str | None = None
    ip_address: str | None = None
    correlation_id: str | None = None

    @classmethod
    def of(cls, ctx: EventContext | None) -> TaskContext:
        if ctx is None:
            return cls()
        p = ctx.principal
        return cls(
            user_uuid=p.user_id if p else None,
            username=p.username if p else None,
            full_name=p.full_name if p else None,
            is_staff=p.is_staff if p else False,
            is_support=p.is_support if p else False,
            impersonator_uuid=p.impersonator_id if p else None,
            impersonator_username=p.impersonator_username if p else None,
            ip_address=ctx.ip_address,
            correlation_id=ctx.correlation_id,
        )

    def restore(self) -> EventContext:
        principal = None
        if self.user_uuid:
            principal = Principal(
                user_id=self.user_uuid,
                username=self.username or "",
                full_name=self.full_name or "",
                is_staff=self.is_staff,
                is_support=self.is_support,
                impersonator_id=self.impersonator_uuid,
                impersonator_username=self.impersonator_username,
            )
        return EventContext(
            principal=principal, ip_address=self.ip_address, correlation_id=self.correlation_id
        )


class TaskEnvelope(BaseModel):
    """A task to run: which, with what, on whose behalf, and how to recognise a redelivery."""

    model_config = ConfigDict(extra="ignore")

    task: str
    payload: dict[str, Any] = Field(default_factory=dict)
    context: TaskContext = Field(default_factory=TaskContext)
    idempotency_key: str
    attempt: int = 1
