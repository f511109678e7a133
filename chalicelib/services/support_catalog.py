"""Support desk catalog use cases: `support-priorities/` and `support-templates/`.

Who may do what (Waldur's PriorityViewSet and TemplateViewSet):
- priorities: every signed-in user reads them; nobody writes them through the API (Waldur's come
  from its service desk backend). Cirrus's built-in desk writes Jira's default scheme the first
  time the catalog is read, and operators add and remove priorities with the ops CLI
  (`add_priority`, `remove_priority`: no permission check, the CLI runs with the table's
  credentials).
- templates: anybody reads them (Waldur's IsAdminOrReadOnly lets anonymous reads through); staff
  create, change and delete them (anybody else gets a 403 before the template is looked up).
Neither writes events: Waldur logs none for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib.domain import rbac
from chalicelib.domain import support_catalog as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import Conflict, NotFound, ValidationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.support_catalog import Priority, Template
from chalicelib.services.ports import support_catalog as store
from chalicelib.services.ports import unit_of_work


# --- priorities ------------------------------------------------------------------------------------
def _all_priorities() -> list[Priority]:
    """Every priority, the defaults written first if they never were (once per deployment: after
    that, one Query)."""
    found, seeded = store.priorities()
    if seeded:
        return found
    defaults = domain.default_priorities()
    uow = unit_of_work()
    store.seed_priorities(uow, defaults)
    try:
        uow.commit()
    except Conflict:  # another request seeded them a moment ago
        return store.priorities()[0]
    known = {p.id for p in found}
    return found + [p for p in defaults if p.id not in known]


def list_priorities(
    name: str | None = None, name_exact: str | None = None, descending: bool = False
) -> list[Priority]:
    """By name (Waldur's order; `descending` for `o=-name`), filtered as Waldur's PriorityFilter."""
    found = [p for p in _all_priorities() if domain.name_matches(p.name, name, name_exact)]
    ordered = domain.by_name(found)
    return ordered[::-1] if descending else ordered


def get_priority(priority_id: str) -> Priority:
    priority = store.get_priority(priority_id)
    if priority is None and priority_id in {p.id for p in domain.default_priorities()}:
        # A default's fixed id may be asked for before anybody listed (so before it was written).
        priority = next((p for p in _all_priorities() if p.id == priority_id), None)
    if priority is None:
        raise NotFound(domain.PRIORITY_MODEL)
    return priority


def add_priority(name: str, description: str = "", icon_url: str = "") -> Priority:
    """An operator's new priority (the defaults are written first, if they never were): a
    ValidationError for a bad field or a name in use."""
    priority = domain.clean_priority(new_id(), name, description, icon_url)
    if any(p.name == priority.name for p in _all_priorities()):
        raise ValidationError.field("name", domain.PRIORITY_NAME_TAKEN)
    uow = unit_of_work()
    store.add_priority(uow, priority)
    uow.commit()
    return priority


def remove_priority(name_or_id: str) -> Priority:
    """Remove the priority of that name (or id); NotFound if there is none. Tickets keep the
    priority name they were given (an issue's priority is a name, as in Waldur)."""
    found = [p for p in _all_priorities() if name_or_id in (p.name, p.id)]
    if not found:
        raise NotFound(domain.PRIORITY_MODEL)
    uow = unit_of_work()
    store.remove_priority(uow, found[0])
    uow.commit()
    return found[0]


# --- templates -------------------------------------------------------------------------------------
def get_template(template_id: str) -> Template:
    template = store.get_template(template_id)
    if template is None:
        raise NotFound(domain.TEMPLATE_MODEL)
    return template


def _for_change(template_id: str) -> Template:
    template = store.load_template(template_id)
    if template is None:
        raise NotFound(domain.TEMPLATE_MODEL)
    return template


def list_templates() -> list[Template]:
    """Every template, by name (Waldur's order), then id."""
    return sorted(store.templates(), key=lambda t: (t.name, t.id))


def create_template(ctx: EventContext, fields: Mapping[str, Any]) -> Template:
    """Staff only (`fields`: name, description, and issue_type if given)."""
    rbac.require_staff(ctx.actor)
    template = Template(id=new_id(), created=utcnow(), version=1, **fields)
    uow = unit_of_work()
    store.add_template(uow, template)
    uow.commit()
    return template


def update_template(ctx: EventContext, template_id: str, changes: Mapping[str, Any]) -> Template:
    rbac.require_staff(ctx.actor)
    before = _for_change(template_id)
    after = replace(before, **changes)
    if after == before:
        return before
    uow = unit_of_work()
    stored = store.save_template(uow, before, after)
    uow.commit()
    return stored


def delete_template(ctx: EventContext, template_id: str) -> None:
    rbac.require_staff(ctx.actor)
    template = _for_change(template_id)
    uow = unit_of_work()
    store.remove_template(uow, template)
    uow.commit()
