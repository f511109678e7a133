"""What customers and projects contribute to `customer-quotas/` and `project-quotas/` (Waldur's lists
of every customer or project with its current usage of one quota), as current facts (period NOW):

- a directory of the scopes that exist (`quotalist#customers`, `quotalist#projects`): field = the
  customer's or project's id, 1 while it exists (a removed project leaves it), labelled with what a
  row shows of it (names, abbreviation; the project's customer, for the `customer_uuid` filter);
- per quota, the usage of each scope that has some (`quotalist#<customer|project>#<quota>`):
  field = its id, amount = its usage. A scope absent from it uses none (a sum of 0 is not kept).

A list is then two Queries (the directory and the quota's usage), whatever the number of resources.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from chalicelib.domain.analytics import NOW, Add, Aggregate, series
from chalicelib.domain.customers import Customer
from chalicelib.domain.projects import Project
from chalicelib.domain.quotas import Quota

AREA = "quotalist"
CUSTOMERS = series(AREA, "customers")
PROJECTS = series(AREA, "projects")


def usage_series(kind: str, quota: str) -> str:
    """The usage of `quota` per customer (kind "customer") or project ("project")."""
    return series(AREA, kind, quota)


def _usage(kind: str, scope_id: str, quotas: Sequence[Quota]) -> list[Add]:
    return [Add(usage_series(kind, q.name), NOW, scope_id, q.usage) for q in quotas if q.usage]


def customer_facts(customer: Customer) -> list[Add]:
    label = json.dumps({"name": customer.name, "abbreviation": customer.abbreviation}, sort_keys=True)
    usage = _usage("customer", customer.id, customer.quotas)
    return [Add(CUSTOMERS, NOW, customer.id, 1, label=label), *usage]


def project_facts(project: Project) -> list[Add]:
    if project.removed is not None:  # Waldur lists the projects still available
        return []
    label = json.dumps(
        {
            "name": project.name,
            "customer": project.customer_id,
            "customer_name": project.customer_name,
            "customer_abbreviation": project.customer_abbreviation,
        },
        sort_keys=True,
    )
    return [Add(PROJECTS, NOW, project.id, 1, label=label), *_usage("project", project.id, project.quotas)]


# --- reading -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One customer or project with its usage of the quota asked for."""

    id: str
    name: str
    customer_id: str
    customer_name: str
    customer_abbreviation: str
    value: int


def rows(kind: str, directory: Sequence[Aggregate], usage: Sequence[Aggregate]) -> list[Row]:
    """The directory's scopes, each with its usage (0 where it has none)."""
    used = {a.field: a.value for a in usage}
    out: list[Row] = []
    for entry in directory:
        if entry.value <= 0:
            continue
        try:
            facts = json.loads(entry.label) if entry.label else {}
        except ValueError:
            facts = {}
        name = str(facts.get("name", ""))
        value = int(used.get(entry.field, Decimal(0)))
        if kind == "customer":
            abbreviation = str(facts.get("abbreviation", ""))
            out.append(Row(entry.field, name, entry.field, name, abbreviation, value))
        else:
            out.append(
                Row(
                    entry.field,
                    name,
                    str(facts.get("customer", "")),
                    str(facts.get("customer_name", "")),
                    str(facts.get("customer_abbreviation", "")),
                    value,
                )
            )
    return out


def ordered(found: Sequence[Row], by: str, ascending: bool = False) -> list[Row]:
    """Waldur's order: by `value` (the default) or `name`, most first (its view orders
    `F(field).desc()`); `ascending` reverses it. Ties by name, then id, so pages never overlap."""
    if by == "name":
        return sorted(found, key=lambda r: (r.name, r.id), reverse=not ascending)
    by_name = sorted(found, key=lambda r: (r.name, r.id))
    return sorted(by_name, key=lambda r: r.value, reverse=not ascending)
