"""The support desk's catalogs: issue priorities (Waldur's `support.Priority`) and issue templates
(Waldur's `support.Template`).

Priorities are what a ticket's `priority` may be. Waldur pulls them from its service desk backend
(Jira, Zammad, SMAX) and its API only reads them; its built-in ("basic") backend pulls none. Cirrus's
built-in desk starts with Jira's default scheme (`DEFAULT_PRIORITIES`), written once, the first time
the catalog is read; operators add and remove priorities with `python -m chalicelib.ops
support-priorities`. Each default has a fixed id (uuid5 of its name), so every deployment names
them alike and two first reads at once write the same items.

Templates are ready-made issue texts (name, description, issue type) that staff keep and users pick
when they open a ticket. Waldur logs no events for either catalog; neither does Cirrus.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.domain import bounds
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.text import text_problem

PRIORITY_MODEL = "Priority"  # Waldur's model names, in their 404 messages
TEMPLATE_MODEL = "Template"

NAME_MAX = 150  # Waldur's NameMixin
PRIORITY_DESCRIPTION_MAX = 2000  # Waldur's DescribableMixin
ICON_URL_MAX = 500  # Waldur's UiDescribableMixin (a URLField)
# A template's description is a TextField in Waldur (unbounded); here a long text's budget.
TEMPLATE_DESCRIPTION_BYTES = bounds.LONG_TEXT_BYTES

PRIORITY_NAME_TAKEN = "A priority with this name already exists."


class IssueType(StrEnum):
    """Waldur's Template.IssueTypes (the values waldur-api-client's IssueTypeEnum parses)."""

    INFORMATIONAL = "INFORMATIONAL"
    SERVICE_REQUEST = "SERVICE_REQUEST"
    CHANGE_REQUEST = "CHANGE_REQUEST"
    INCIDENT = "INCIDENT"


@dataclass(frozen=True)
class Priority:
    id: str
    name: str
    description: str = ""
    icon_url: str = ""


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    description: str
    created: datetime
    issue_type: IssueType = IssueType.INFORMATIONAL
    version: int = 0


# Jira's default priority scheme (Waldur's first and most used backend), with Jira's descriptions.
DEFAULT_PRIORITIES = (
    ("Highest", "This problem will block progress."),
    ("High", "Serious problem that could block progress."),
    ("Medium", "Has the potential to affect progress."),
    ("Low", "Minor problem or easily worked around."),
    ("Lowest", "Trivial problem with little or no impact on progress."),
)
_DEFAULTS_NAMESPACE = uuid.UUID("8a3c6f0e-5b7d-4e21-9f4a-2d6b1c0e7a93")


def default_priority_id(name: str) -> str:
    """The fixed id of a default priority (the same on every deployment)."""
    return uuid.uuid5(_DEFAULTS_NAMESPACE, f"support-priority:{name}").hex


def default_priorities() -> list[Priority]:
    return [Priority(default_priority_id(n), n, d) for n, d in DEFAULT_PRIORITIES]


def by_name(found: list[Priority]) -> list[Priority]:
    """Waldur's order for both catalogs: by name (then id, so equal names keep one order)."""
    return sorted(found, key=lambda p: (p.name, p.id))


def name_matches(name: str, contains: str | None, exact: str | None) -> bool:
    """Waldur's NameFilterSet: `name` contains (any case), `name_exact` is the name itself."""
    if contains is not None and contains.lower() not in name.lower():
        return False
    return exact is None or name == exact


def clean_priority(priority_id: str, name: str, description: str = "", icon_url: str = "") -> Priority:
    """A priority an operator adds (`python -m chalicelib.ops`), checked as the API checks names and
    descriptions; a ValidationError naming the field otherwise."""
    name, description, icon_url = name.strip(), description.strip(), icon_url.strip()
    checks = (
        ("name", name, NAME_MAX, False),
        ("description", description, PRIORITY_DESCRIPTION_MAX, True),
        ("icon_url", icon_url, ICON_URL_MAX, False),
    )
    for field, value, most, multiline in checks:
        if len(value) > most:
            raise ValidationError.field(field, f"Ensure this field has no more than {most} characters.")
        problem = text_problem(value, multiline=multiline)
        if problem:
            raise ValidationError.field(field, problem)
    if not name:
        raise ValidationError.field("name", "This field may not be blank.")
    if icon_url and not icon_url.startswith(("https://", "http://")):
        raise ValidationError.field("icon_url", "Enter a valid URL.")
    return Priority(priority_id, name, description, icon_url)
