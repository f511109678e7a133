"""Robot accounts: the fake and the store agree (tests/contract/conftest.py): one per resource and
type, version-checked changes, a new type moves the account, and the lists by customer, project,
provider and every account."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.robot_accounts import TYPE_TAKEN, RobotAccount, State
from chalicelib.services.paging import PageRequest
from chalicelib.services.ports import Ports, Source

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
C1, C2, PROVIDER = "c1" + "0" * 30, "c2" + "0" * 30, "pv" + "0" * 30
P1, P2, P3 = "p1" + "0" * 30, "p2" + "0" * 30, "p3" + "0" * 30
OFF_A, OFF_B = "oa" + "0" * 30, "ob" + "0" * 30
R1, R2, R3 = "r1" + "0" * 30, "r2" + "0" * 30, "r3" + "0" * 30
PLACES = {R1: (C1, P1, OFF_A), R2: (C1, P2, OFF_B), R3: (C2, P3, OFF_A)}
USER = "u1" + "0" * 30


def _id(n: int) -> str:
    return f"{n:032x}"


def _ids(rows: Any) -> list[str]:
    return [r.id for r in rows]


def _commit(ports: Ports, write: Any) -> Any:
    uow = ports.unit_of_work()
    done = write(uow)
    uow.commit()
    return done


def _account(n: int, resource: str = R1, account_type: str = "cicd", **fields: Any) -> RobotAccount:
    customer, project, offering = PLACES[resource]
    values: dict[str, Any] = {
        "id": _id(n),
        "resource_id": resource,
        "customer_id": customer,
        "project_id": project,
        "offering_id": offering,
        "provider_id": PROVIDER,
        "type": account_type,
        "created": NOW,
        "modified": NOW,
        "users": (USER,),
        "keys": ("ssh-ed25519 AAAA x",),
        "responsible_user_id": USER,
        "resource_name": "vm-1",
        "state": State.CREATING,
    }
    return RobotAccount(**{**values, **fields})


def test_an_account_is_one_per_resource_and_type(ports: Ports) -> None:
    first = _commit(ports, lambda uow: ports.robot_accounts.add(uow, _account(1)))
    assert first == replace(_account(1), version=1)
    assert ports.robot_accounts.get(first.id) == first
    twin = ports.unit_of_work()
    ports.robot_accounts.add(twin, _account(2))
    with pytest.raises(ValidationError) as refused:
        twin.commit()
    assert refused.value.errors == {"non_field_errors": [TYPE_TAKEN]}
    other = _commit(ports, lambda uow: ports.robot_accounts.add(uow, _account(3, account_type="ssh")))
    assert ports.robot_accounts.of_resource(C1, P1, R1) == [first, other]
    assert ports.robot_accounts.of_resource(C1, P1, R2) == []


def test_an_account_changes_moves_and_goes(ports: Ports) -> None:
    first = _commit(ports, lambda uow: ports.robot_accounts.add(uow, _account(1)))
    named = replace(first, username="ci_bot", state=State.OK)
    saved = _commit(ports, lambda uow: ports.robot_accounts.save(uow, first, named))
    assert saved == replace(named, version=2) == ports.robot_accounts.get(first.id)
    stale = ports.unit_of_work()
    ports.robot_accounts.save(stale, first, replace(first, username="late"))
    with pytest.raises(Conflict):
        stale.commit()
    moved = replace(saved, type="ci")
    assert _commit(ports, lambda uow: ports.robot_accounts.save(uow, saved, moved)) == replace(
        moved, version=3
    )
    assert ports.robot_accounts.of_resource(C1, P1, R1) == [replace(moved, version=3)]
    _commit(ports, lambda uow: ports.robot_accounts.add(uow, _account(2)))
    taken = ports.unit_of_work()
    ports.robot_accounts.save(taken, replace(moved, version=3), replace(moved, type="cicd"))
    with pytest.raises(ValidationError):
        taken.commit()
    _commit(ports, lambda uow: ports.robot_accounts.remove(uow, replace(moved, version=3)))
    assert ports.robot_accounts.get(first.id) is None
    assert _ids(ports.robot_accounts.of_resource(C1, P1, R1)) == [_id(2)]


def test_accounts_are_read_by_customer_project_provider_and_all(ports: Ports) -> None:
    for n, resource in ((1, R1), (2, R2), (3, R3)):
        _commit(ports, lambda uow, n=n, r=resource: ports.robot_accounts.add(uow, _account(n, r)))
    read = ports.robot_accounts.read
    assert _ids(read([Source.consumer(C1)], bounded=False)) == [_id(1), _id(2)]
    assert _ids(read([Source.consumer(C1, P2)], bounded=True)) == [_id(2)]
    assert _ids(read([Source.provider(PROVIDER)], bounded=True)) == [_id(1), _id(2), _id(3)]
    assert _ids(read([Source.provider(PROVIDER, OFF_B)], bounded=True)) == [_id(2)]
    page = ports.robot_accounts.newest_page(PageRequest(1, 5))
    assert _ids(page.items) == [_id(3), _id(2), _id(1)]
