"""Support desk catalogs: the fake and the store agree (tests/contract/conftest.py) on the
priorities' one-time seeding mark, adding and removing a priority, and templates' versioned
writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.domain import support_catalog as domain
from chalicelib.domain.errors import Conflict
from chalicelib.domain.ids import new_id
from chalicelib.domain.support_catalog import IssueType, Priority, Template
from chalicelib.services.ports import Ports, UnitOfWork

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _commit(ports: Ports, write: Callable[[UnitOfWork], object]) -> None:
    uow = ports.unit_of_work()
    write(uow)
    uow.commit()


def test_the_defaults_are_written_once_with_their_mark(ports: Ports) -> None:
    catalog = ports.support_catalog
    assert catalog.priorities() == ([], False)
    defaults = domain.default_priorities()
    _commit(ports, lambda uow: catalog.seed_priorities(uow, defaults))
    found, seeded = catalog.priorities()
    assert seeded and sorted(found, key=lambda p: p.id) == sorted(defaults, key=lambda p: p.id)
    assert catalog.get_priority(defaults[0].id) == defaults[0]
    # A second seeding loses: the mark is there, nothing is written again.
    urgent = Priority(domain.default_priority_id("Highest"), "Renamed")
    with pytest.raises(Conflict):
        _commit(ports, lambda uow: catalog.seed_priorities(uow, [urgent]))
    assert catalog.get_priority(urgent.id) == defaults[0]


def test_a_removed_priority_stays_removed_and_an_added_one_is_read_back(ports: Ports) -> None:
    catalog = ports.support_catalog
    defaults = domain.default_priorities()
    _commit(ports, lambda uow: catalog.seed_priorities(uow, defaults))
    _commit(ports, lambda uow: catalog.remove_priority(uow, defaults[0]))
    added = Priority(new_id(), "Urgent", "Now.", "https://icons.example.org/urgent.svg")
    _commit(ports, lambda uow: catalog.add_priority(uow, added))
    found, seeded = catalog.priorities()
    assert seeded
    assert {p.name for p in found} == {"High", "Medium", "Low", "Lowest", "Urgent"}
    assert catalog.get_priority(added.id) == added and catalog.get_priority(defaults[0].id) is None
    with pytest.raises(Conflict):  # gone already
        _commit(ports, lambda uow: catalog.remove_priority(uow, defaults[0]))
    with pytest.raises(Conflict):  # that id is taken
        _commit(ports, lambda uow: catalog.add_priority(uow, added))


def test_templates_are_written_at_their_version(ports: Ports) -> None:
    catalog = ports.support_catalog
    first = Template(new_id(), "VPN", "Grant VPN.", NOW, IssueType.SERVICE_REQUEST, version=1)
    second = Template(new_id(), "Account", "Open one.", NOW, version=1)
    _commit(ports, lambda uow: catalog.add_template(uow, first))
    _commit(ports, lambda uow: catalog.add_template(uow, second))
    assert catalog.templates() == [first, second]  # oldest first
    assert catalog.get_template(first.id) == first == catalog.load_template(first.id)

    uow = ports.unit_of_work()
    stored = catalog.save_template(uow, first, replace(first, issue_type=IssueType.INCIDENT))
    uow.commit()
    assert stored.version == 2 and catalog.load_template(first.id) == stored
    with pytest.raises(Conflict):  # `first` is a version behind now
        _commit(ports, lambda uow: catalog.save_template(uow, first, replace(first, name="Stale")))
    assert catalog.load_template(first.id) == stored

    _commit(ports, lambda uow: catalog.remove_template(uow, stored))
    assert catalog.get_template(first.id) is None and catalog.templates() == [second]
    with pytest.raises(Conflict):
        _commit(ports, lambda uow: catalog.remove_template(uow, stored))
