"""The support desk's catalogs as services, on the in-memory fakes (no AWS): the default priorities
written once and only once, operators' additions and removals, a first read racing another, and
templates' staff-only writes."""

from __future__ import annotations

import pytest

from chalicelib.domain import support_catalog as domain
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, PermissionDenied, ValidationError
from chalicelib.domain.support_catalog import IssueType
from chalicelib.services import support_catalog as service
from tests.fakes import World

STAFF = EventContext(principal=Principal(user_id="5" * 32, username="staff", is_staff=True))
SUPPORT = EventContext(principal=Principal(user_id="6" * 32, username="desk", is_support=True))
DEFAULTS = ["High", "Highest", "Low", "Lowest", "Medium"]


def _names() -> list[str]:
    return [p.name for p in service.list_priorities()]


def test_the_first_read_writes_the_defaults_and_later_reads_write_nothing(fakes: World) -> None:
    assert _names() == DEFAULTS
    commits = fakes.commits
    assert _names() == DEFAULTS
    assert service.get_priority(domain.default_priority_id("Low")).name == "Low"
    assert fakes.commits == commits


def test_a_removed_default_is_not_written_again(fakes: World) -> None:
    gone = service.remove_priority("Lowest")  # before any read: the defaults are written first
    assert gone.id == domain.default_priority_id("Lowest")
    assert _names() == ["High", "Highest", "Low", "Medium"]
    with pytest.raises(NotFound):
        service.get_priority(gone.id)
    service.remove_priority(domain.default_priority_id("High"))  # by uuid too
    assert _names() == ["Highest", "Low", "Medium"]
    with pytest.raises(NotFound):
        service.remove_priority("High")


def test_operators_add_priorities_checked_as_the_api_checks_names(fakes: World) -> None:
    urgent = service.add_priority("  Urgent ", "Drop everything.", "https://icons.example.org/u.svg")
    assert (urgent.name, urgent.description, urgent.icon_url) == (
        "Urgent",
        "Drop everything.",
        "https://icons.example.org/u.svg",
    )
    assert _names() == ["High", "Highest", "Low", "Lowest", "Medium", "Urgent"]
    assert service.list_priorities(name="URG") == [urgent]
    refused = [
        (("Medium",), {"name": [domain.PRIORITY_NAME_TAKEN]}),
        ((" ",), {"name": ["This field may not be blank."]}),
        (("x" * 151,), {"name": ["Ensure this field has no more than 150 characters."]}),
        (("Bad\x07",), {"name": ["Control characters are not allowed."]}),
        (("Fine", "d" * 2001), {"description": ["Ensure this field has no more than 2000 characters."]}),
        (("Fine", "", "javascript:alert(1)"), {"icon_url": ["Enter a valid URL."]}),
    ]
    for args, errors in refused:
        with pytest.raises(ValidationError) as bad:
            service.add_priority(*args)
        assert bad.value.errors == errors, args
    assert len(_names()) == 6


def test_a_first_read_that_loses_the_race_reads_what_the_winner_wrote(
    fakes: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.services.ports import current

    catalog = current().support_catalog
    real = catalog.priorities

    # GIVEN another request seeds between this request's read and its write
    def read_then_lose() -> tuple[list[domain.Priority], bool]:
        monkeypatch.setattr(catalog, "priorities", real)
        service.list_priorities()  # the winner
        service.remove_priority("Medium")  # and an operator acts at once
        return [], False

    monkeypatch.setattr(catalog, "priorities", read_then_lose)
    # WHEN this request's seeding commits, THEN it loses quietly and answers what is stored
    assert _names() == ["High", "Highest", "Low", "Lowest"]


def test_only_staff_write_templates(fakes: World) -> None:
    made = service.create_template(STAFF, {"name": "VPN", "description": "Grant VPN."})
    assert (made.issue_type, made.version) == (IssueType.INFORMATIONAL, 1)
    for ctx in (SUPPORT, EventContext(principal=Principal(user_id="7" * 32, username="alice"))):
        with pytest.raises(PermissionDenied):
            service.create_template(ctx, {"name": "x", "description": "y"})
        with pytest.raises(PermissionDenied):
            service.update_template(ctx, made.id, {"name": "x"})
        with pytest.raises(PermissionDenied):
            service.delete_template(ctx, made.id)
    assert service.list_templates() == [made]


def test_an_update_that_changes_nothing_writes_nothing(fakes: World) -> None:
    made = service.create_template(STAFF, {"name": "VPN", "description": "Grant VPN."})
    commits = fakes.commits
    assert service.update_template(STAFF, made.id, {"name": "VPN"}) == made
    assert fakes.commits == commits
    changed = service.update_template(STAFF, made.id, {"issue_type": IssueType.CHANGE_REQUEST})
    assert changed.version == 2 and service.get_template(made.id) == changed
