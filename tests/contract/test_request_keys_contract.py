"""Idempotency keys: the fake and the store agree (tests/contract/conftest.py) that a key is kept
per user with what its creation made, that a second creation with a kept key loses in its commit
with nothing of it written, and that a key is forgotten (and may be taken over) after a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.customers import Customer
from chalicelib.domain.request_keys import KeyAlreadyUsed, RequestKey
from chalicelib.services.ports import Ports

ALICE, BOB = "a" * 32, "b" * 32
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _create(ports: Ports, n: int, key: str, request_hash: str, at: datetime = NOW) -> Customer:
    """A creation (a customer) and its key, in one unit of work, committed."""
    customer = Customer(id=f"{n:032x}", name=f"c{n}", created=at)
    uow = ports.unit_of_work()
    ports.customers.add(uow, customer)
    ports.request_keys.remember(uow, ALICE, key, RequestKey(customer.id, "", request_hash), at)
    uow.commit()
    return customer


def test_a_key_is_kept_per_user_with_what_its_creation_made(ports: Ports) -> None:
    assert ports.request_keys.find(ALICE, "key-1", NOW) is None
    first = _create(ports, 1, "key-1", "h1")
    assert ports.request_keys.find(ALICE, "key-1", NOW) == RequestKey(first.id, "", "h1")
    assert ports.request_keys.find(BOB, "key-1", NOW) is None  # keys are per user
    assert ports.request_keys.find(ALICE, "key-2", NOW) is None


def test_a_second_creation_with_a_kept_key_loses_and_writes_nothing(ports: Ports) -> None:
    first = _create(ports, 1, "key-1", "h1")
    with pytest.raises(KeyAlreadyUsed) as used:
        _create(ports, 2, "key-1", "h2", NOW + timedelta(hours=23))
    assert used.value.used == RequestKey(first.id, "", "h1")
    assert ports.customers.get(f"{2:032x}") is None  # the losing creation left nothing
    assert ports.request_keys.find(ALICE, "key-1", NOW) == RequestKey(first.id, "", "h1")


def test_a_key_is_forgotten_after_a_day_and_may_be_used_again(ports: Ports) -> None:
    _create(ports, 1, "key-1", "h1")
    assert ports.request_keys.find(ALICE, "key-1", NOW + DAY - timedelta(seconds=1)) is not None
    assert ports.request_keys.find(ALICE, "key-1", NOW + DAY) is None
    later = _create(ports, 2, "key-1", "h2", NOW + DAY + timedelta(seconds=1))
    assert ports.request_keys.find(ALICE, "key-1", NOW + DAY) == RequestKey(later.id, "", "h2")
