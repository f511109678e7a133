"""SSH keys: the fake and the store agree (tests/contract/conftest.py) on lookups, per-user order,
the (user, name) uniqueness, the per-user cap, deletion and the staff's list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.domain import ssh_keys as domain
from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.ssh_keys import Fingerprints, SshKey
from chalicelib.services.paging import PageRequest
from chalicelib.services.ports import Ports

ALICE, BOB = "1" * 32, "2" * 32
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
PRINTS = Fingerprints("aa:bb", "SHA256:x", "SHA512:y")


@pytest.fixture
def settle(request: pytest.FixtureRequest, ports: Ports) -> Callable[[], None]:
    """Run the store's stream consumer (the staff list's total catches up); nothing on the fakes."""
    if "dynamodb" not in request.node.callspec.id:
        return lambda: None
    run: Callable[[], int] = request.getfixturevalue("settle")  # the store's (tests/conftest.py)

    def settled() -> None:
        run()

    return settled


def _key(user_id: str, name: str) -> SshKey:
    return SshKey(new_id(), user_id, name, f"ssh-ed25519 AAAA {name}", PRINTS, NOW)


def _add(ports: Ports, key: SshKey) -> SshKey:
    uow = ports.unit_of_work()
    ports.ssh_keys.add(uow, key)
    uow.commit()
    return key


def _remove(ports: Ports, key: SshKey) -> None:
    uow = ports.unit_of_work()
    ports.ssh_keys.remove(uow, key)
    uow.commit()


def test_keys_are_found_by_id_and_listed_by_owner_in_name_order(ports: Ports) -> None:
    b = _add(ports, _key(ALICE, "b-laptop"))
    a = _add(ports, _key(ALICE, "a-desktop"))
    theirs = _add(ports, _key(BOB, "bob"))
    assert ports.ssh_keys.get(a.id) == a
    assert ports.ssh_keys.get(new_id()) is None
    assert ports.ssh_keys.of_user(ALICE) == [a, b]
    assert ports.ssh_keys.of_users([BOB, ALICE, BOB]) == [theirs, a, b]


def test_a_name_is_unique_per_user_blank_included(ports: Ports) -> None:
    _add(ports, _key(ALICE, "laptop"))
    _add(ports, _key(BOB, "laptop"))  # another user's name does not clash
    _add(ports, _key(ALICE, ""))
    for name in ("laptop", ""):
        with pytest.raises(ValidationError) as refused:
            _add(ports, _key(ALICE, name))
        assert refused.value.errors == {"name": [domain.NAME_TAKEN]}
    assert len(ports.ssh_keys.of_user(ALICE)) == 2


def test_deletion_removes_the_key_read_and_not_a_newer_one_of_its_name(ports: Ports) -> None:
    old = _add(ports, _key(ALICE, "laptop"))
    _remove(ports, old)
    assert ports.ssh_keys.get(old.id) is None and ports.ssh_keys.of_user(ALICE) == []
    newer = _add(ports, _key(ALICE, "laptop"))
    with pytest.raises(Conflict):
        _remove(ports, old)
    assert ports.ssh_keys.of_user(ALICE) == [newer]


def test_a_user_holds_at_most_the_cap_and_a_deletion_frees_a_place(
    ports: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small cap keeps moto's table small; the fake and the store import the same constant.
    from chalicelib.store import ssh_keys as store
    from tests.fakes import ssh_keys as fake

    for module in (store, fake):
        monkeypatch.setattr(module, "MAX_KEYS_PER_USER", 2)
    first = _add(ports, _key(ALICE, "one"))
    _add(ports, _key(ALICE, "two"))
    with pytest.raises(ValidationError) as refused:
        _add(ports, _key(ALICE, "three"))
    assert refused.value.errors == {"public_key": [domain.TOO_MANY]}
    _add(ports, _key(BOB, "bob"))  # the cap is per user
    _remove(ports, first)
    _add(ports, _key(ALICE, "three"))
    assert [k.name for k in ports.ssh_keys.of_user(ALICE)] == ["three", "two"]


def test_staff_list_every_key_by_name(ports: Ports, settle: Callable[[], None]) -> None:
    z, y, x = (_add(ports, _key(user, name)) for user, name in ((BOB, "z"), (ALICE, "y"), (ALICE, "x")))
    settle()
    page = ports.ssh_keys.page_all(PageRequest(page=1, page_size=2))
    assert page.items == [x, y] and page.total == 3
    assert ports.ssh_keys.page_all(PageRequest(page=2, page_size=2)).items == [z]
    assert ports.ssh_keys.page_all(PageRequest(page=1, page_size=2), descending=True).items == [z, y]
    assert ports.ssh_keys.read_all() == [x, y, z]


def test_a_key_keeps_its_fields(ports: Ports) -> None:
    key = replace(_key(ALICE, "ключ ✓"), is_shared=False)
    _add(ports, key)
    assert ports.ssh_keys.of_user(ALICE) == [key]
