"""Site agent identities, services and processors, in their offering's provider partition:

- `CUST#<provider>` / `AGENTID#<offering>#<identity>`: an identity (one offering's: a prefix);
- `CUST#<provider>` / `AGENTSVC#<identity>#<service>`: its services (an identity's: a prefix);
- `CUST#<provider>` / `AGENTPROC#<identity>#<service>#<processor>`: its services' processors.

gsi1 `AGENT_IDENTITIES` / `AGENT_SERVICES` / `AGENT_PROCESSORS` + `<id>` finds each by id alone and
lists each kind for staff (ids are UUIDv7: by creation). A provider runs a handful of agents, so a
provider's lists are one Query of its partition and a staff list one Query of the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeVar

from chalicelib.domain.agents import AgentIdentity, AgentProcessor, AgentService
from chalicelib.domain.errors import Conflict
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import keys
from chalicelib.store.codec import Codec
from chalicelib.store.items import AgentIdentityItem, AgentProcessorItem, AgentServiceItem, BaseItem
from chalicelib.store.unit_of_work import LOST_RACE, put_alone, transaction

_IDENTITY = Codec(AgentIdentity, keyed=frozenset({"id", "offering_id", "provider_id", "version"}))
_SERVICE = Codec(AgentService, keyed=frozenset({"id", "identity_id", "provider_id", "version"}))
_PROCESSOR = Codec(
    AgentProcessor, keyed=frozenset({"id", "service_id", "identity_id", "provider_id", "version"})
)
ItemT = TypeVar("ItemT", bound=BaseItem)


# --- mapping ------------------------------------------------------------------------------------------
def _identity(item: AgentIdentityItem) -> AgentIdentity:
    return _IDENTITY.from_doc(
        item.fields or {},
        id=item.identity_id,
        offering_id=item.offering_id,
        provider_id=item.provider_id,
        version=int(item.version),
    )


def _identity_item(identity: AgentIdentity) -> AgentIdentityItem:
    return AgentIdentityItem(
        pk=keys.customer_pk(identity.provider_id),
        sk=keys.agent_identity_sk(identity.offering_id, identity.id),
        gsi1pk=keys.AGENT_IDENTITIES,
        gsi1sk=identity.id,
        identity_id=identity.id,
        offering_id=identity.offering_id,
        provider_id=identity.provider_id,
        fields=_IDENTITY.to_doc(identity),
        version=identity.version,
    )


def _service(item: AgentServiceItem) -> AgentService:
    return _SERVICE.from_doc(
        item.fields or {},
        id=item.service_id,
        identity_id=item.identity_id,
        provider_id=item.provider_id,
        version=int(item.version),
    )


def _service_item(service: AgentService) -> AgentServiceItem:
    return AgentServiceItem(
        pk=keys.customer_pk(service.provider_id),
        sk=keys.agent_service_sk(service.identity_id, service.id),
        gsi1pk=keys.AGENT_SERVICES,
        gsi1sk=service.id,
        service_id=service.id,
        identity_id=service.identity_id,
        provider_id=service.provider_id,
        fields=_SERVICE.to_doc(service),
        version=service.version,
    )


def _processor(item: AgentProcessorItem) -> AgentProcessor:
    return _PROCESSOR.from_doc(
        item.fields or {},
        id=item.processor_id,
        service_id=item.service_id,
        identity_id=item.identity_id,
        provider_id=item.provider_id,
        version=int(item.version),
    )


def _processor_item(processor: AgentProcessor) -> AgentProcessorItem:
    return AgentProcessorItem(
        pk=keys.customer_pk(processor.provider_id),
        sk=keys.agent_processor_sk(processor.identity_id, processor.service_id, processor.id),
        gsi1pk=keys.AGENT_PROCESSORS,
        gsi1sk=processor.id,
        processor_id=processor.id,
        service_id=processor.service_id,
        identity_id=processor.identity_id,
        provider_id=processor.provider_id,
        fields=_PROCESSOR.to_doc(processor),
        version=processor.version,
    )


# --- reads --------------------------------------------------------------------------------------------
def _by_id(partition: str, object_id: str, kind: type[ItemT]) -> ItemT | None:
    for item in BaseItem.gsi1.query(partition, BaseItem.gsi1sk == object_id):
        if isinstance(item, kind):
            return item
    return None


def _in_partition(provider_id: str | None, prefix: str, partition: str, kind: type[ItemT]) -> list[ItemT]:
    """A provider's items under `prefix` (consistent), or with no provider every one of the kind
    (gsi1), oldest first."""
    if provider_id is None:
        found: Any = BaseItem.gsi1.query(partition)
    else:
        key = keys.customer_pk(provider_id)
        found = BaseItem.query(key, BaseItem.sk.startswith(prefix), consistent_read=True)
    return sorted((i for i in found if isinstance(i, kind)), key=lambda i: i.gsi1sk or "")


def get_identity(identity_id: str) -> AgentIdentity | None:
    """The identity with this id (one gsi1 Query), or None."""
    item = _by_id(keys.AGENT_IDENTITIES, identity_id, AgentIdentityItem)
    return _identity(item) if item else None


def identities(provider_id: str | None, offering_id: str | None = None) -> list[AgentIdentity]:
    """A provider's identities (one offering's with `offering_id`), or with no provider every
    identity, oldest first: one Query."""
    prefix = keys.agent_identity_offering_prefix(offering_id) if offering_id else keys.AGENT_IDENTITY_PREFIX
    items = _in_partition(provider_id, prefix, keys.AGENT_IDENTITIES, AgentIdentityItem)
    return [_identity(i) for i in items if offering_id is None or i.offering_id == offering_id]


def get_service(service_id: str) -> AgentService | None:
    """The service with this id (one gsi1 Query), or None."""
    item = _by_id(keys.AGENT_SERVICES, service_id, AgentServiceItem)
    return _service(item) if item else None


def services(provider_id: str | None, identity_id: str | None = None) -> list[AgentService]:
    """A provider's services (one identity's with `identity_id`), or with no provider every
    service, oldest first: one Query."""
    prefix = keys.agent_service_identity_prefix(identity_id) if identity_id else keys.AGENT_SERVICE_PREFIX
    items = _in_partition(provider_id, prefix, keys.AGENT_SERVICES, AgentServiceItem)
    return [_service(i) for i in items if identity_id is None or i.identity_id == identity_id]


def get_processor(processor_id: str) -> AgentProcessor | None:
    """The processor with this id (one gsi1 Query), or None."""
    item = _by_id(keys.AGENT_PROCESSORS, processor_id, AgentProcessorItem)
    return _processor(item) if item else None


def processors(provider_id: str | None, identity_id: str | None = None) -> list[AgentProcessor]:
    """A provider's processors (one identity's with `identity_id`), or with no provider every
    processor, oldest first: one Query."""
    prefix = keys.agent_processor_identity_prefix(identity_id) if identity_id else keys.AGENT_PROCESSOR_PREFIX
    items = _in_partition(provider_id, prefix, keys.AGENT_PROCESSORS, AgentProcessorItem)
    return [_processor(i) for i in items if identity_id is None or i.identity_id == identity_id]


# --- writes -------------------------------------------------------------------------------------------
def _put(uow: Work, item: BaseItem, before_version: int | None) -> None:
    """Put a new item (none there) or a new version over `before_version` (nobody changed it). A new
    version is the agent's heartbeat (a service's `modified`, a processor's `last_run`, an
    identity's `last_restarted`, each cycle): alone in its unit, it goes as one PutItem."""
    tx = transaction(uow)
    if before_version is None:
        tx.put(item, condition=BaseItem.pk.does_not_exist(), on_conflict=Conflict(LOST_RACE))
        return
    condition = BaseItem.version == before_version
    alone = put_alone(item, condition, Conflict(LOST_RACE))
    tx.put(item, condition=condition, on_conflict=Conflict(LOST_RACE), alone=alone)


def save_identity(uow: Work, before: AgentIdentity | None, after: AgentIdentity) -> AgentIdentity:
    """Add the identity (`before` None) or store `after` over `before`, if nobody changed it."""
    stored = replace(after, version=1 if before is None else before.version + 1)
    _put(uow, _identity_item(stored), None if before is None else before.version)
    return stored


def save_service(uow: Work, before: AgentService | None, after: AgentService) -> AgentService:
    """Add the service (`before` None) or store `after` over `before`, if nobody changed it."""
    stored = replace(after, version=1 if before is None else before.version + 1)
    _put(uow, _service_item(stored), None if before is None else before.version)
    return stored


def save_processor(uow: Work, before: AgentProcessor | None, after: AgentProcessor) -> AgentProcessor:
    """Add the processor (`before` None) or store `after` over `before`, if nobody changed it."""
    stored = replace(after, version=1 if before is None else before.version + 1)
    _put(uow, _processor_item(stored), None if before is None else before.version)
    return stored


def remove_identity(
    uow: Work,
    identity: AgentIdentity,
    its_services: Sequence[AgentService],
    its_processors: Sequence[AgentProcessor],
) -> None:
    """Delete the identity with its services and processors (the caller bounds how many: one
    transaction holds 100 writes)."""
    tx = transaction(uow)
    tx.delete(_identity_item(identity))
    for service in its_services:
        tx.delete(_service_item(service))
    for processor in its_processors:
        tx.delete(_processor_item(processor))
