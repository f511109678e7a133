"""Site agent identities, services and processors (Waldur's `marketplace-site-agent-*`).

- Who: staff, and the offering's provider (OFFERING.UPDATE on the offering: the provider's
  CUSTOMER.OWNER, OFFERING.MANAGER of the offering) see and change an offering's identities;
  support read them; anybody else gets 404, as for an object they cannot see.
- An identity names an offering (that the caller may manage) and lives in the offering's provider
  partition; `register_service/` gets or creates the identity's service by name (201 when made,
  200 when it was there: its mode is updated and it is Active again); `register_processor/` does
  the same for a service's processor by name, stamping `last_run`.
- Waldur's site agent models log no audit events that Cirrus knows of; none are written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.domain import agents as rules
from chalicelib.domain.agents import AgentIdentity, AgentProcessor, AgentService, Dependency
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.rbac import Access, Scope
from chalicelib.domain.roles import P, ScopeType
from chalicelib.services import access as access_service
from chalicelib.services.ports import agents as store
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import unit_of_work

NO_OFFERING = "Object with uuid={} does not exist."


@dataclass(frozen=True)
class IdentityInput:
    """What a client sends for an identity (create and update)."""

    offering_id: str
    name: str
    version_text: str | None = None
    dependencies: tuple[Dependency, ...] = ()
    config_file_path: str | None = None
    config_file_content: str | None = None
    last_restarted: datetime | None = None


@dataclass(frozen=True)
class IdentityView:
    """An identity with its services and their processors (Waldur nests them)."""

    identity: AgentIdentity
    services: tuple[tuple[AgentService, tuple[AgentProcessor, ...]], ...] = ()


@dataclass(frozen=True)
class ServiceView:
    service: AgentService
    identity_name: str
    processors: tuple[AgentProcessor, ...] = ()


# --- who ----------------------------------------------------------------------------------------------
def _scope(provider_id: str, offering_id: str) -> Scope:
    return Scope(ScopeType.OFFERING, offering_id, provider_id, "")


def _sees(rights: Access, provider_id: str, offering_id: str) -> bool:
    return rights.reads_everything or rights.has(P.UPDATE_OFFERING, _scope(provider_id, offering_id))


def _provider_ids(rights: Access) -> list[str | None]:
    """The partitions to read: every identity (None) for staff and support; else the customers
    the caller holds a customer role in and the providers of the offerings they manage."""
    if rights.reads_everything:
        return [None]
    found = rights.customer_role_ids()
    found |= {g.customer_id for g in rights.active_grants() if g.scope_type is ScopeType.OFFERING}
    return list[str | None](sorted(found))


# --- identities -----------------------------------------------------------------------------------------
def _nest(
    identity: AgentIdentity, services: Sequence[AgentService], processors: Sequence[AgentProcessor]
) -> IdentityView:
    """The identity with its own services and their processors, picked out of those given."""
    own = [s for s in services if s.identity_id == identity.id]
    nested = tuple((s, tuple(p for p in processors if p.service_id == s.id)) for s in own)
    return IdentityView(identity, nested)


def _view(identity: AgentIdentity) -> IdentityView:
    services = store.services(identity.provider_id, identity.id)
    processors = store.processors(identity.provider_id, identity.id)
    return _nest(identity, services, processors)


def _all_processors(provider_ids: Sequence[str | None]) -> list[AgentProcessor]:
    """The processors of these partitions: one Query each (a list nests them all from it)."""
    return [p for provider_id in provider_ids for p in store.processors(provider_id)]


def _visible_identity(principal: Principal, identity_id: str) -> AgentIdentity:
    identity = store.get_identity(identity_id)
    rights = access_service.access(principal)
    if identity is None or not _sees(rights, identity.provider_id, identity.offering_id):
        raise NotFound(rules.IDENTITY_MODEL)
    return identity


def get_identity(principal: Principal, identity_id: str) -> IdentityView:
    return _view(_visible_identity(principal, identity_id))


def list_identities(
    principal: Principal, name: str | None = None, offering_id: str | None = None, version: str | None = None
) -> list[IdentityView]:
    """The identities the caller sees, oldest first, by exact name, offering and agent version."""
    rights = access_service.access(principal)
    found: list[AgentIdentity] = []
    for provider_id in _provider_ids(rights):
        found += store.identities(provider_id, offering_id)
    kept = [
        i
        for i in found
        if _sees(rights, i.provider_id, i.offering_id)
        and (name is None or i.name == name)
        and (version is None or i.version_text == version)
    ]
    if not kept:
        return []
    # The services and processors of every listed identity in one Query each per partition, not
    # two Queries per identity.
    providers = _provider_ids(rights)
    services = [s for provider_id in providers for s in store.services(provider_id)]
    processors = _all_processors(providers)
    return [_nest(i, services, processors) for i in sorted(kept, key=lambda i: i.id)]


def _managed_offering(principal: Principal, offering_id: str) -> tuple[str, str]:
    """(provider, offering) of an offering the caller may manage: one they cannot see at all is
    DRF's does-not-exist (400), one they see but may not manage a 403."""
    offering = offering_store.get(offering_id)
    rights = access_service.access(principal)
    if offering is None or not _sees(rights, offering.customer_id, offering.id):
        raise ValidationError.field("offering", NO_OFFERING.format(offering_id))
    rights.require(P.UPDATE_OFFERING, _scope(offering.customer_id, offering.id))
    return offering.customer_id, offering.id


def _fields(given: IdentityInput) -> dict[str, Any]:
    return {
        "name": given.name,
        "version_text": given.version_text,
        "dependencies": given.dependencies,
        "config_file_path": given.config_file_path,
        "config_file_content": given.config_file_content,
        "last_restarted": given.last_restarted,
    }


def create_identity(ctx: EventContext, given: IdentityInput) -> IdentityView:
    """Register an agent identity for an offering the caller manages."""
    provider_id, offering_id = _managed_offering(ctx.actor, given.offering_id)
    now = utcnow()
    identity = AgentIdentity(
        id=new_id(),
        offering_id=offering_id,
        provider_id=provider_id,
        created=now,
        modified=now,
        created_by_id=ctx.actor.user_id,
        **_fields(given),
    )
    uow = unit_of_work()
    stored = store.save_identity(uow, None, identity)
    uow.commit()
    return IdentityView(stored)


def update_identity(ctx: EventContext, identity_id: str, given: IdentityInput) -> IdentityView:
    """Replace an identity's fields (PUT; the agent does it at each restart). Its offering stays."""
    before = _visible_identity(ctx.actor, identity_id)
    access_service.access(ctx.actor).require(
        P.UPDATE_OFFERING, _scope(before.provider_id, before.offering_id)
    )
    if given.offering_id != before.offering_id:
        raise ValidationError.field("offering", rules.OFFERING_FIXED)
    if replace(before, **_fields(given)) == before:
        return _view(before)  # the same fields again: nothing to write
    uow = unit_of_work()
    stored = store.save_identity(uow, before, replace(before, modified=utcnow(), **_fields(given)))
    uow.commit()
    return _view(stored)


def delete_identity(ctx: EventContext, identity_id: str) -> None:
    """Remove an identity with its services and processors."""
    identity = _visible_identity(ctx.actor, identity_id)
    rights = access_service.access(ctx.actor)
    rights.require(P.UPDATE_OFFERING, _scope(identity.provider_id, identity.offering_id))
    services = store.services(identity.provider_id, identity.id)
    processors = store.processors(identity.provider_id, identity.id)
    uow = unit_of_work()
    store.remove_identity(uow, identity, services, processors)
    uow.commit()


# --- services -------------------------------------------------------------------------------------------
def register_service(
    ctx: EventContext, identity_id: str, name: str, mode: str | None
) -> tuple[ServiceView, bool]:
    """Get or create the identity's service called `name`: (the service, whether it was made)."""
    identity = _visible_identity(ctx.actor, identity_id)
    rights = access_service.access(ctx.actor)
    rights.require(P.UPDATE_OFFERING, _scope(identity.provider_id, identity.offering_id))
    existing = store.services(identity.provider_id, identity.id)
    before = next((s for s in existing if s.name == name), None)
    now = utcnow()
    if before is None and len(existing) >= rules.MAX_SERVICES:
        raise ValidationError([rules.TOO_MANY_SERVICES])
    if before is None:
        after = AgentService(
            id=new_id(),
            identity_id=identity.id,
            provider_id=identity.provider_id,
            offering_id=identity.offering_id,
            name=name,
            created=now,
            modified=now,
            mode=mode,
        )
    else:
        after = replace(before, mode=mode, state=rules.ACTIVE, modified=now)
    uow = unit_of_work()
    stored = store.save_service(uow, before, after)
    uow.commit()
    processors = store.processors(identity.provider_id, identity.id)
    mine = tuple(p for p in processors if p.service_id == stored.id)
    return ServiceView(stored, identity.name, mine), before is None


def _visible_service(principal: Principal, service_id: str) -> AgentService:
    service = store.get_service(service_id)
    rights = access_service.access(principal)
    if service is None or not _sees(rights, service.provider_id, service.offering_id):
        raise NotFound(rules.SERVICE_MODEL)
    return service


def _service_view(
    service: AgentService,
    names: Mapping[str, str] | None = None,
    processors: Sequence[AgentProcessor] | None = None,
) -> ServiceView:
    """The service with its identity's name and its processors (read unless given)."""
    if names is None:
        identity = store.get_identity(service.identity_id)
        names = {service.identity_id: identity.name if identity else ""}
    if processors is None:
        processors = store.processors(service.provider_id, service.identity_id)
    mine = tuple(p for p in processors if p.service_id == service.id)
    return ServiceView(service, names.get(service.identity_id, ""), mine)


def get_service(principal: Principal, service_id: str) -> ServiceView:
    return _service_view(_visible_service(principal, service_id))


@dataclass(frozen=True)
class ServiceFilters:
    identity_id: str | None = None
    mode: str | None = None
    states: tuple[str, ...] = ()
    modified_after: datetime | None = None
    modified_before: datetime | None = None

    def keep(self, service: AgentService) -> bool:
        checks = (
            self.mode is None or service.mode == self.mode,
            not self.states or service.state in self.states,
            self.modified_after is None or service.modified >= self.modified_after,
            self.modified_before is None or service.modified <= self.modified_before,
        )
        return all(checks)


def list_services(principal: Principal, filters: ServiceFilters) -> list[ServiceView]:
    """The services the caller sees, oldest first."""
    rights = access_service.access(principal)
    found: list[AgentService] = []
    for provider_id in _provider_ids(rights):
        found += store.services(provider_id, filters.identity_id)
    kept = [s for s in found if _sees(rights, s.provider_id, s.offering_id) and filters.keep(s)]
    if not kept:
        return []
    providers = _provider_ids(rights)
    names = {i.id: i.name for p in providers for i in store.identities(p)}
    processors = _all_processors(providers)
    return [_service_view(s, names, processors) for s in sorted(kept, key=lambda s: s.id)]


def set_statistics(ctx: EventContext, service_id: str, statistics: Mapping[str, Any]) -> ServiceView:
    """Replace a service's statistics (what the agent counted in its last run)."""
    before = _visible_service(ctx.actor, service_id)
    access_service.access(ctx.actor).require(
        P.UPDATE_OFFERING, _scope(before.provider_id, before.offering_id)
    )
    rules.check_statistics(statistics)
    uow = unit_of_work()
    stored = store.save_service(uow, before, replace(before, statistics=dict(statistics), modified=utcnow()))
    uow.commit()
    return _service_view(stored)


# --- processors -----------------------------------------------------------------------------------------
def register_processor(
    ctx: EventContext, service_id: str, name: str, backend_type: str, backend_version: str | None
) -> tuple[AgentProcessor, str, bool]:
    """Get or create the service's processor called `name`, stamping its last run: (the
    processor, its service's name, whether it was made)."""
    service = _visible_service(ctx.actor, service_id)
    rights = access_service.access(ctx.actor)
    rights.require(P.UPDATE_OFFERING, _scope(service.provider_id, service.offering_id))
    existing = [
        p for p in store.processors(service.provider_id, service.identity_id) if p.service_id == service.id
    ]
    before = next((p for p in existing if p.name == name), None)
    if before is None and len(existing) >= rules.MAX_PROCESSORS:
        raise ValidationError([rules.TOO_MANY_PROCESSORS])
    now = utcnow()
    if before is None:
        after = AgentProcessor(
            id=new_id(),
            service_id=service.id,
            identity_id=service.identity_id,
            provider_id=service.provider_id,
            offering_id=service.offering_id,
            name=name,
            backend_type=backend_type,
            created=now,
            modified=now,
            backend_version=backend_version,
            last_run=now,
        )
    else:
        after = replace(
            before, backend_type=backend_type, backend_version=backend_version, last_run=now, modified=now
        )
    uow = unit_of_work()
    stored = store.save_processor(uow, before, after)
    uow.commit()
    return stored, service.name, before is None


def _visible_processor(principal: Principal, processor_id: str) -> AgentProcessor:
    processor = store.get_processor(processor_id)
    rights = access_service.access(principal)
    if processor is None or not _sees(rights, processor.provider_id, processor.offering_id):
        raise NotFound(rules.PROCESSOR_MODEL)
    return processor


def _service_names(provider_ids: Sequence[str | None]) -> dict[str, str]:
    return {s.id: s.name for p in provider_ids for s in store.services(p)}


def get_processor(principal: Principal, processor_id: str) -> tuple[AgentProcessor, str]:
    processor = _visible_processor(principal, processor_id)
    service = store.get_service(processor.service_id)
    return processor, service.name if service else ""


@dataclass(frozen=True)
class ProcessorFilters:
    service_id: str | None = None
    backend_type: str | None = None
    backend_version: str | None = None

    def keep(self, processor: AgentProcessor) -> bool:
        checks = (
            self.service_id is None or processor.service_id == self.service_id,
            self.backend_type is None or processor.backend_type == self.backend_type,
            self.backend_version is None or processor.backend_version == self.backend_version,
        )
        return all(checks)


def list_processors(principal: Principal, filters: ProcessorFilters) -> list[tuple[AgentProcessor, str]]:
    """The processors the caller sees with their services' names, oldest first."""
    rights = access_service.access(principal)
    providers = _provider_ids(rights)
    found = _all_processors(providers)
    kept = [p for p in found if _sees(rights, p.provider_id, p.offering_id) and filters.keep(p)]
    names = _service_names(providers)
    return [(p, names.get(p.service_id, "")) for p in sorted(kept, key=lambda p: p.id)]
