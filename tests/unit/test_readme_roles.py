"""The README's roles → permissions table says what the code grants."""

from __future__ import annotations

from pathlib import Path

from chalicelib.domain.roles import SYSTEM_ROLES

README = Path(__file__).resolve().parents[2] / "README.md"


def _documented() -> dict[str, tuple[str, frozenset[str]]]:
    rows = {}
    for line in README.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        name = cells[0].strip("`")
        if name not in SYSTEM_ROLES:
            continue
        permissions = set()
        for group in cells[2].split(";"):
            if ":" not in group:
                continue
            prefix, names = group.split(":", 1)
            permissions |= {f"{prefix.strip()}.{n.strip()}" for n in names.split(",")}
        rows[name] = (cells[1], frozenset(permissions))
    return rows


def test_the_readme_table_lists_every_system_role_with_its_permissions():
    documented = _documented()
    assert set(documented) == set(SYSTEM_ROLES)
    for name, role in SYSTEM_ROLES.items():
        assert documented[name] == (role.content_type.value, role.permissions), name
