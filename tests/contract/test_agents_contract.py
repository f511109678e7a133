"""Site agent identities, services and processors: the fake and the store agree
(tests/contract/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.domain.agents import AgentIdentity, AgentProcessor, AgentService, Dependency
from chalicelib.domain.errors import Conflict
from chalicelib.services.ports import Ports

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
SELLER, OTHER = "c" * 32, "d" * 32
OFFERING, OTHER_OFFERING = "e" * 32, "f" * 32


def _id(n: int) -> str:
    return f"{n:032x}"


def _identity(n: int, provider: str = SELLER, offering: str = OFFERING) -> AgentIdentity:
    return AgentIdentity(
        id=_id(n),
        offering_id=offering,
        provider_id=provider,
        name=f"agent-{n}",
        created=NOW,
        modified=NOW,
        version_text="1.0.7",
        dependencies=(Dependency("pyyaml", "6.0.1"),),
        last_restarted=NOW,
    )


def _service(n: int, identity: AgentIdentity) -> AgentService:
    return AgentService(
        id=_id(n),
        identity_id=identity.id,
        provider_id=identity.provider_id,
        offering_id=identity.offering_id,
        name=f"mode-{n}",
        created=NOW,
        modified=NOW,
        mode="report",
        statistics={"resources": 2},
    )


def _processor(n: int, service: AgentService) -> AgentProcessor:
    return AgentProcessor(
        id=_id(n),
        service_id=service.id,
        identity_id=service.identity_id,
        provider_id=service.provider_id,
        offering_id=service.offering_id,
        name=f"Processor{n}",
        backend_type="mock",
        created=NOW,
        modified=NOW,
        last_run=NOW,
    )


def test_identities_services_and_processors_round_trip_and_list_by_partition(ports: Ports) -> None:
    agents = ports.agents
    uow = ports.unit_of_work()
    one = agents.save_identity(uow, None, _identity(1))
    two = agents.save_identity(uow, None, _identity(2, offering=OTHER_OFFERING))
    elsewhere = agents.save_identity(uow, None, _identity(3, provider=OTHER))
    svc = agents.save_service(uow, None, _service(10, one))
    proc = agents.save_processor(uow, None, _processor(20, svc))
    uow.commit()

    assert agents.get_identity(one.id) == one and one.version == 1
    assert agents.get_service(svc.id) == svc
    assert agents.get_processor(proc.id) == proc
    assert agents.get_identity(_id(99)) is None
    assert agents.identities(SELLER) == [one, two]
    assert agents.identities(SELLER, OTHER_OFFERING) == [two]
    assert agents.identities(None) == [one, two, elsewhere]
    assert agents.services(SELLER, one.id) == [svc]
    assert agents.services(SELLER, two.id) == []
    assert agents.services(None) == [svc]
    assert agents.processors(SELLER, one.id) == [proc]
    assert agents.processors(OTHER) == []


def test_a_stale_save_loses_and_removal_takes_the_children(ports: Ports) -> None:
    agents = ports.agents
    uow = ports.unit_of_work()
    one = agents.save_identity(uow, None, _identity(1))
    svc = agents.save_service(uow, None, _service(10, one))
    proc = agents.save_processor(uow, None, _processor(20, svc))
    uow.commit()

    uow = ports.unit_of_work()
    renamed = agents.save_identity(uow, one, replace(one, name="renamed"))
    uow.commit()
    assert agents.get_identity(one.id) == renamed and renamed.version == 2

    uow = ports.unit_of_work()
    agents.save_identity(uow, one, replace(one, name="stale"))
    with pytest.raises(Conflict):
        uow.commit()
    uow = ports.unit_of_work()
    agents.save_identity(uow, None, _identity(1))  # the id is taken
    with pytest.raises(Conflict):
        uow.commit()

    uow = ports.unit_of_work()
    agents.remove_identity(uow, renamed, [svc], [proc])
    uow.commit()
    assert (agents.get_identity(one.id), agents.get_service(svc.id), agents.get_processor(proc.id)) == (
        None,
        None,
        None,
    )
    assert (agents.identities(None), agents.services(None), agents.processors(None)) == ([], [], [])
