"""The support desk's links to an external desk: the fake and the store agree
(tests/contract/conftest.py) on a link made once and changed under its version, remote comments
known once, and the pull's watermark."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.domain.support_sync import Link
from chalicelib.services.ports import Ports, UnitOfWork

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
LINK = Link(backend="jira", backend_id="10001", issue_id="a" * 32, customer_id=None, key="SD-1", status="New")


def _commit(ports: Ports, write: Callable[[UnitOfWork], object]) -> None:
    uow = ports.unit_of_work()
    write(uow)
    uow.commit()


def test_a_link_is_made_once_and_changed_under_its_version(ports: Ports) -> None:
    links = ports.support_links
    assert links.get_link("jira", "10001") is None
    _commit(ports, lambda uow: links.add_link(uow, LINK))
    made = links.get_link("jira", "10001")
    assert made == replace(LINK, version=1)
    assert links.get_link("zammad", "10001") is None  # another desk's id space
    with pytest.raises(Conflict):
        _commit(ports, lambda uow: links.add_link(uow, replace(LINK, issue_id="b" * 32)))
    assert made is not None
    _commit(ports, lambda uow: links.save_link(uow, made, replace(made, status="Resolved")))
    assert links.get_link("jira", "10001") == replace(LINK, status="Resolved", version=2)
    with pytest.raises(Conflict):  # `made` is stale now
        _commit(ports, lambda uow: links.save_link(uow, made, replace(made, status="New")))


def test_a_remote_comment_is_known_once(ports: Ports) -> None:
    links = ports.support_links
    assert links.linked_comments("jira", "10001") == {}
    _commit(ports, lambda uow: links.add_comment_link(uow, "jira", "10001", "20001", "c" * 32))
    _commit(ports, lambda uow: links.add_comment_link(uow, "jira", "10002", "20002", "d" * 32))
    with pytest.raises(Conflict):
        _commit(ports, lambda uow: links.add_comment_link(uow, "jira", "10001", "20001", "e" * 32))
    assert links.linked_comments("jira", "10001") == {"20001": "c" * 32}
    assert links.linked_comments("zammad", "10001") == {}


def test_the_watermark_moves_where_it_is_set(ports: Ports) -> None:
    links = ports.support_links
    assert links.watermark("jira") is None
    links.set_watermark("jira", NOW)
    assert links.watermark("jira") == NOW
    assert links.watermark("zammad") is None
