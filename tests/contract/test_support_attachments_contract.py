"""The support attachments' records (store/support_attachments.py) and their fake behave alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.attachments import Attachment, storage_key
from chalicelib.domain.errors import Conflict
from chalicelib.services.paging import PageRequest
from chalicelib.services.ports import Ports

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _attachment(n: int, issue: str = "i1", customer: str | None = "c1") -> Attachment:
    attachment_id = f"{n:032x}"
    return Attachment(
        id=attachment_id,
        issue_id=issue,
        issue_key="SUP-1",
        customer_id=customer,
        file_name=f"file-{n}.txt",
        mime_type="text/plain",
        file_size=10 + n,
        storage_key=storage_key(issue, attachment_id),
        created=T0 + timedelta(minutes=n),
        author_id="author",
        author_user_id="user",
    )


def _add(ports: Ports, attachment: Attachment) -> Attachment:
    uow = ports.unit_of_work()
    made = ports.support_attachments.add(uow, attachment)
    uow.commit()
    return made


def test_an_issues_attachments_are_found_by_issue_and_by_id(ports: Ports) -> None:
    store = ports.support_attachments
    first = _add(ports, _attachment(1))
    second = _add(ports, _attachment(2))
    _add(ports, _attachment(3, issue="i2", customer=None))  # a personal issue's, in the desk's partition

    assert [a.id for a in store.of_issue("i1", "c1")] == [first.id, second.id]
    assert [a.id for a in store.of_issue("i2", None)] == [_attachment(3).id]
    assert store.get(first.id) == first and first.version == 1
    assert store.get(f"{99:032x}") is None
    assert [a.id for a in store.every()] == [_attachment(n).id for n in (1, 2, 3)]
    page = store.page(PageRequest(page=1, page_size=2))
    assert [a.id for a in page.items] == [_attachment(3).id, second.id]


def test_a_removed_attachment_is_gone_and_a_stale_removal_is_refused(ports: Ports) -> None:
    store = ports.support_attachments
    made = _add(ports, _attachment(1))
    uow = ports.unit_of_work()
    store.remove(uow, made)
    uow.commit()
    assert store.get(made.id) is None and store.of_issue("i1", "c1") == []

    again = _add(ports, _attachment(2))
    uow = ports.unit_of_work()
    store.remove(uow, Attachment(**{**again.__dict__, "version": 7}))
    with pytest.raises(Conflict):
        uow.commit()
    assert store.get(again.id) == again
