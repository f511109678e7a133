"""Per-user usages and per-user usage limits: the fakes and the store agree
(tests/contract/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.user_usages import LIMIT_TAKEN, ComponentUserUsage, UserUsageLimit
from chalicelib.services.paging import PageRequest
from chalicelib.services.ports import Ports, Source

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
PERIOD = date(2026, 12, 1)
C1, C2, PROVIDER = "c1" + "0" * 30, "c2" + "0" * 30, "pv" + "0" * 30
P1, P2, P3 = "p1" + "0" * 30, "p2" + "0" * 30, "p3" + "0" * 30
OFF_A, OFF_B = "oa" + "0" * 30, "ob" + "0" * 30
R1, R2, R3 = "r1" + "0" * 30, "r2" + "0" * 30, "r3" + "0" * 30
PLACES = {R1: (C1, P1, OFF_A), R2: (C1, P2, OFF_B), R3: (C2, P3, OFF_A)}


def _id(n: int) -> str:
    """Ids in creation order (as UUIDv7s sort)."""
    return f"{n:032x}"


def _ids(rows: Any) -> list[str]:
    return [r.id for r in rows]


def _commit(ports: Ports, write: Any) -> Any:
    uow = ports.unit_of_work()
    done = write(uow)
    uow.commit()
    return done


def _share(n: int, username: str, resource: str = R1, component: str = "cpu_hours", **fields: Any) -> Any:
    customer, project, offering = PLACES[resource]
    values: dict[str, Any] = {
        "id": _id(n),
        "component_usage_id": _id(900),
        "resource_id": resource,
        "customer_id": customer,
        "project_id": project,
        "offering_id": offering,
        "provider_id": PROVIDER,
        "component_type": component,
        "billing_period": PERIOD,
        "username": username,
        "amount": Decimal("1.50"),
        "date": NOW,
        "created": NOW,
        "modified": NOW,
    }
    return ComponentUserUsage(**{**values, **fields})


def _limit(n: int, user: str, resource: str = R1, component: str = "cc" + "0" * 30, **fields: Any) -> Any:
    customer, project, offering = PLACES[resource]
    values: dict[str, Any] = {
        "id": _id(n),
        "resource_id": resource,
        "customer_id": customer,
        "project_id": project,
        "offering_id": offering,
        "provider_id": PROVIDER,
        "component_id": component,
        "component_type": "cpu_hours",
        "offering_user_id": user,
        "limit": Decimal("100.00"),
        "created": NOW,
        "modified": NOW,
    }
    return UserUsageLimit(**{**values, **fields})


# --- per-user usages ----------------------------------------------------------------------------------
def test_a_share_is_one_per_component_usage_and_username(ports: Ports) -> None:
    alice, bob = _share(1, "alice", offering_user_id="ou" + "0" * 30), _share(2, "bob")
    saved = _commit(ports, lambda uow: ports.user_usages.save(uow, [(None, alice), (None, bob)]))
    assert saved == [replace(alice, version=1), replace(bob, version=1)]
    assert ports.user_usages.get(alice.id) == saved[0]
    assert ports.user_usages.of_component_usage(C1, P1, R1, PERIOD, "cpu_hours") == saved
    assert ports.user_usages.of_component_usage(C1, P1, R1, PERIOD, "gpu_hours") == []
    assert ports.user_usages.of_component_usage(C1, P1, R1, date(2026, 11, 1), "cpu_hours") == []

    again = ports.unit_of_work()  # a second "first" share of the same user loses
    ports.user_usages.save(again, [(None, _share(3, "alice"))])
    with pytest.raises(Conflict):
        again.commit()
    more = replace(saved[0], amount=Decimal("4.00"))
    assert _commit(ports, lambda uow: ports.user_usages.save(uow, [(saved[0], more)])) == [
        replace(more, version=2)
    ]
    assert ports.user_usages.get(alice.id) == replace(more, version=2)
    stale = ports.unit_of_work()
    ports.user_usages.save(stale, [(saved[0], replace(saved[0], amount=Decimal("9")))])
    with pytest.raises(Conflict):
        stale.commit()


def test_shares_are_read_by_customer_project_provider_and_all(ports: Ports) -> None:
    shares: list[tuple[ComponentUserUsage | None, ComponentUserUsage]] = [
        (None, _share(1, "a")),
        (None, _share(2, "b", R2)),
        (None, _share(3, "c", R3)),
    ]
    _commit(ports, lambda uow: ports.user_usages.save(uow, shares))
    read = ports.user_usages.read
    assert _ids(read([Source.consumer(C1)], bounded=False)) == [_id(1), _id(2)]
    assert _ids(read([Source.consumer(C1, P2)], bounded=False)) == [_id(2)]
    assert _ids(read([Source.provider(PROVIDER, OFF_A)], bounded=True)) == [_id(1), _id(3)]
    page = ports.user_usages.newest_page(PageRequest(1, 2))
    assert (_ids(page.items), page.total) == ([_id(3), _id(2)], 3)


# --- per-user limits ----------------------------------------------------------------------------------
def test_a_limit_is_one_per_resource_component_and_user(ports: Ports) -> None:
    first = _commit(ports, lambda uow: ports.user_limits.add(uow, _limit(1, "u1" + "0" * 30)))
    assert first == replace(_limit(1, "u1" + "0" * 30), version=1)
    assert ports.user_limits.get(first.id) == first
    twin = ports.unit_of_work()
    ports.user_limits.add(twin, _limit(2, "u1" + "0" * 30))
    with pytest.raises(ValidationError) as refused:
        twin.commit()
    assert refused.value.errors == {"non_field_errors": [LIMIT_TAKEN]}
    other = _commit(ports, lambda uow: ports.user_limits.add(uow, _limit(3, "u2" + "0" * 30)))
    assert ports.user_limits.of_resource(C1, P1, R1) == [first, other]
    assert ports.user_limits.of_resource(C1, P1, R2) == []


def test_a_limit_changes_moves_and_goes(ports: Ports) -> None:
    first = _commit(ports, lambda uow: ports.user_limits.add(uow, _limit(1, "u1" + "0" * 30)))
    lower = replace(first, limit=Decimal("5.00"))
    saved = _commit(ports, lambda uow: ports.user_limits.save(uow, first, lower))
    assert saved == replace(lower, version=2) == ports.user_limits.get(first.id)
    stale = ports.unit_of_work()
    ports.user_limits.save(stale, first, replace(first, limit=Decimal("7")))
    with pytest.raises(Conflict):
        stale.commit()
    moved = replace(saved, offering_user_id="u9" + "0" * 30)
    assert _commit(ports, lambda uow: ports.user_limits.save(uow, saved, moved)) == replace(moved, version=3)
    assert ports.user_limits.of_resource(C1, P1, R1) == [replace(moved, version=3)]
    _commit(ports, lambda uow: ports.user_limits.remove(uow, replace(moved, version=3)))
    assert ports.user_limits.get(first.id) is None
    assert ports.user_limits.of_resource(C1, P1, R1) == []


def test_limits_are_read_by_customer_provider_and_all(ports: Ports) -> None:
    for n, resource in ((1, R1), (2, R2), (3, R3)):
        _commit(ports, lambda uow, n=n, r=resource: ports.user_limits.add(uow, _limit(n, "u" * 32, r)))
    read = ports.user_limits.read
    assert _ids(read([Source.consumer(C1)], bounded=False)) == [_id(1), _id(2)]
    assert _ids(read([Source.provider(PROVIDER, OFF_B)], bounded=True)) == [_id(2)]
    page = ports.user_limits.newest_page(PageRequest(1, 5))
    assert _ids(page.items) == [_id(3), _id(2), _id(1)]
