"""The README's audit-log table (event type → groups → commands) says what the code writes: the
groups of chalicelib/domain/events.py and the commands of tests/outbox_commands.py, whose
integration test runs each command and checks the events it writes."""

from __future__ import annotations

from pathlib import Path

from chalicelib.domain.events import EVENT_GROUPS, all_event_types
from tests.outbox_commands import emitted_by

README = Path(__file__).resolve().parents[2] / "README.md"


def _cells(text: str) -> list[str]:
    return [c.strip().strip("`") for c in text.split(",") if c.strip()]


def _documented() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """The rows of the table in the "Audit log" section: `type` | groups | `command`, ..."""
    section = README.read_text().split("\n## Audit log\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        rows[cells[0].strip("`")] = (frozenset(_cells(cells[1])), frozenset(_cells(cells[2])))
    return rows


def test_the_readme_lists_every_event_type_with_its_groups_and_the_commands_that_write_it():
    documented = _documented()
    assert sorted(documented) == all_event_types()
    commands = emitted_by()
    for event_type, (groups, writers) in documented.items():
        in_groups = frozenset(g for g, types in EVENT_GROUPS.items() if event_type in types)
        assert groups == in_groups, event_type
        assert writers == frozenset(commands.get(event_type, ())), event_type
