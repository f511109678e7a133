"""In-memory site agent identities, services and processors (ports.Agents)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from chalicelib.domain.agents import AgentIdentity, AgentProcessor, AgentService
from chalicelib.domain.errors import DomainError
from chalicelib.services.ports import UnitOfWork
from tests.fakes.world import World, lost_race, work

T = TypeVar("T", AgentIdentity, AgentService, AgentProcessor)


class FakeAgents:
    def __init__(self, world: World) -> None:
        self._identities: dict[str, AgentIdentity] = world.table("agent_identities")
        self._services: dict[str, AgentService] = world.table("agent_services")
        self._processors: dict[str, AgentProcessor] = world.table("agent_processors")

    def get_identity(self, identity_id: str) -> AgentIdentity | None:
        return self._identities.get(identity_id)

    def identities(self, provider_id: str | None, offering_id: str | None = None) -> list[AgentIdentity]:
        found = [
            i
            for i in self._identities.values()
            if (provider_id is None or i.provider_id == provider_id)
            and (offering_id is None or i.offering_id == offering_id)
        ]
        return sorted(found, key=lambda i: i.id)

    def get_service(self, service_id: str) -> AgentService | None:
        return self._services.get(service_id)

    def services(self, provider_id: str | None, identity_id: str | None = None) -> list[AgentService]:
        found = [
            s
            for s in self._services.values()
            if (provider_id is None or s.provider_id == provider_id)
            and (identity_id is None or s.identity_id == identity_id)
        ]
        return sorted(found, key=lambda s: s.id)

    def get_processor(self, processor_id: str) -> AgentProcessor | None:
        return self._processors.get(processor_id)

    def processors(self, provider_id: str | None, identity_id: str | None = None) -> list[AgentProcessor]:
        found = [
            p
            for p in self._processors.values()
            if (provider_id is None or p.provider_id == provider_id)
            and (identity_id is None or p.identity_id == identity_id)
        ]
        return sorted(found, key=lambda p: p.id)

    def _save(self, uow: UnitOfWork, table: str, rows: dict[str, Any], before: T | None, after: T) -> T:
        stored = replace(after, version=1 if before is None else before.version + 1)
        expected = None if before is None else before.version

        def check() -> DomainError | None:
            found = rows.get(stored.id)
            current = None if found is None else found.version
            return None if current == expected else lost_race()

        work(uow).stage(table, stored.id, check, lambda: rows.__setitem__(stored.id, stored))
        return stored

    def save_identity(
        self, uow: UnitOfWork, before: AgentIdentity | None, after: AgentIdentity
    ) -> AgentIdentity:
        return self._save(uow, "agent_identities", self._identities, before, after)

    def save_service(self, uow: UnitOfWork, before: AgentService | None, after: AgentService) -> AgentService:
        return self._save(uow, "agent_services", self._services, before, after)

    def save_processor(
        self, uow: UnitOfWork, before: AgentProcessor | None, after: AgentProcessor
    ) -> AgentProcessor:
        return self._save(uow, "agent_processors", self._processors, before, after)

    def remove_identity(
        self,
        uow: UnitOfWork,
        identity: AgentIdentity,
        its_services: Sequence[AgentService],
        its_processors: Sequence[AgentProcessor],
    ) -> None:
        staged = work(uow)
        staged.stage("agent_identities", identity.id, None, self._dropper(self._identities, identity.id))
        for service in its_services:
            staged.stage("agent_services", service.id, None, self._dropper(self._services, service.id))
        for processor in its_processors:
            staged.stage(
                "agent_processors", processor.id, None, self._dropper(self._processors, processor.id)
            )

    @staticmethod
    def _dropper(rows: dict[str, Any], key: str) -> Callable[[], None]:
        def drop() -> None:
            rows.pop(key, None)

        return drop
