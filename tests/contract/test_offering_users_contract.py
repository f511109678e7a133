"""Offering users and their offering's attribute config: the fake and the store agree
(tests/contract/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.offering_users import AttributeConfig, OfferingUser, State
from chalicelib.services.ports import Ports

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
SELLER, OTHER = "c" * 32, "d" * 32
OFFERING, SECOND = "a" * 32, "b" * 32


def _id(n: int) -> str:
    return f"{n:032x}"


def _account(
    n: int, offering: str = OFFERING, provider: str = SELLER, user: int | None = None
) -> OfferingUser:
    return OfferingUser(
        id=_id(n),
        offering_id=offering,
        provider_id=provider,
        user_id=_id(100 + (n if user is None else user)),
        created=NOW,
        modified=NOW,
        offering_name="Compute",
    )


def _add(ports: Ports, *accounts: OfferingUser) -> None:
    for account in accounts:
        uow = ports.unit_of_work()
        ports.offering_users.add(uow, account)
        uow.commit()


def test_an_account_is_found_by_id_by_key_by_offering_by_provider_and_by_user(ports: Ports) -> None:
    first, second, elsewhere = _account(1), _account(2, SECOND), _account(3, OFFERING, OTHER, user=1)
    _add(ports, first, second, elsewhere)
    store = ports.offering_users

    assert store.get(first.id) == first
    assert store.load(SELLER, OFFERING, first.user_id) == first
    assert store.load(SELLER, SECOND, first.user_id) is None
    assert store.of_provider(SELLER) == [first, second]
    assert store.of_provider(SELLER, SECOND) == [second]
    assert store.of_user(first.user_id) == [first, elsewhere]
    assert store.get_many(SELLER, OFFERING, [first.user_id, second.user_id]) == {first.user_id: first}


def test_a_user_has_one_account_per_offering(ports: Ports) -> None:
    _add(ports, _account(1))
    with pytest.raises(ValidationError):
        _add(ports, _account(2, user=1))
    assert [a.id for a in ports.offering_users.of_provider(SELLER)] == [_id(1)]


def test_a_change_is_versioned_and_a_stale_one_loses(ports: Ports) -> None:
    account = _account(1)
    _add(ports, account)
    uow = ports.unit_of_work()
    after = ports.offering_users.save(uow, account, replace(account, username="u1", state=State.OK))
    uow.commit()
    assert ports.offering_users.load(SELLER, OFFERING, account.user_id) == after
    assert after.version == 2

    stale = ports.unit_of_work()
    ports.offering_users.save(stale, account, replace(account, username="u2"))
    with pytest.raises(Conflict):
        stale.commit()

    gone = ports.unit_of_work()
    ports.offering_users.remove(gone, after)
    gone.commit()
    assert ports.offering_users.get(account.id) is None


def test_the_attribute_config_is_stored_once_then_versioned(ports: Ports) -> None:
    store = ports.offering_users
    assert store.attribute_config(SELLER, OFFERING) is None
    default = AttributeConfig(OFFERING, SELLER, ("username",), NOW, NOW)
    uow = ports.unit_of_work()
    saved = store.save_attribute_config(uow, None, replace(default, exposed=("username", "email")))
    uow.commit()
    assert store.attribute_config(SELLER, OFFERING) == saved
    assert (saved.saved, saved.version, saved.exposed) == (True, 1, ("username", "email"))

    twice = ports.unit_of_work()
    store.save_attribute_config(twice, None, default)
    with pytest.raises(Conflict):
        twice.commit()

    uow = ports.unit_of_work()
    store.remove_attribute_config(uow, saved)
    uow.commit()
    assert store.attribute_config(SELLER, OFFERING) is None
