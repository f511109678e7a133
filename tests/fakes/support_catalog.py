"""In-memory support desk catalogs (the port `SupportCatalog`, stored by
`chalicelib/store/support_catalog.py`): priorities with the "defaults written" mark, and templates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from chalicelib.domain.support_catalog import Priority, Template
from chalicelib.services.ports import UnitOfWork
from tests.fakes.world import World, lost_race, work

SEEDED = "seeded"


class FakeSupportCatalog:
    def __init__(self, world: World) -> None:
        self._priorities = world.table("support_priorities")  # id -> Priority
        self._marks = world.table("support_priority_marks")  # SEEDED -> True
        self._templates = world.table("support_templates")  # id -> Template

    # --- priorities
    def priorities(self) -> tuple[list[Priority], bool]:
        return sorted(self._priorities.values(), key=lambda p: p.id), SEEDED in self._marks

    def get_priority(self, priority_id: str) -> Priority | None:
        return self._priorities.get(priority_id)

    def seed_priorities(self, uow: UnitOfWork, defaults: list[Priority]) -> None:
        staged = work(uow)
        staged.stage(
            "support_priority_marks",
            SEEDED,
            lambda: lost_race() if SEEDED in self._marks else None,
            lambda: self._marks.__setitem__(SEEDED, True),
        )
        for priority in defaults:
            staged.stage("support_priorities", priority.id, None, self._put(priority))

    def _put(self, priority: Priority) -> Callable[[], None]:
        return lambda: self._priorities.__setitem__(priority.id, priority)

    def add_priority(self, uow: UnitOfWork, priority: Priority) -> None:
        work(uow).stage(
            "support_priorities",
            priority.id,
            lambda: lost_race() if priority.id in self._priorities else None,
            lambda: self._priorities.__setitem__(priority.id, priority),
        )

    def remove_priority(self, uow: UnitOfWork, priority: Priority) -> None:
        work(uow).stage(
            "support_priorities",
            priority.id,
            lambda: None if priority.id in self._priorities else lost_race(),
            lambda: self._priorities.pop(priority.id, None),
        )

    # --- templates
    def get_template(self, template_id: str) -> Template | None:
        return self._templates.get(template_id)

    def load_template(self, template_id: str) -> Template | None:
        return self._templates.get(template_id)

    def templates(self) -> list[Template]:
        return sorted(self._templates.values(), key=lambda t: t.id)

    def add_template(self, uow: UnitOfWork, template: Template) -> None:
        work(uow).stage(
            "support_templates",
            template.id,
            lambda: lost_race() if template.id in self._templates else None,
            lambda: self._templates.__setitem__(template.id, template),
        )

    def save_template(self, uow: UnitOfWork, before: Template, after: Template) -> Template:
        def unchanged() -> bool:
            found = self._templates.get(before.id)
            return found is not None and found.version == before.version

        stored = replace(after, version=before.version + 1)
        work(uow).stage(
            "support_templates",
            before.id,
            lambda: None if unchanged() else lost_race(),
            lambda: self._templates.__setitem__(before.id, stored),
        )
        return stored

    def remove_template(self, uow: UnitOfWork, template: Template) -> None:
        work(uow).stage(
            "support_templates",
            template.id,
            lambda: None if template.id in self._templates else lost_race(),
            lambda: self._templates.pop(template.id, None),
        )
