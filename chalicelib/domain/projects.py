"""Projects: a customer's unit of work and billing; they hold resources. Removal is soft."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from chalicelib.domain import events
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.quotas import PROJECT_QUOTAS, RESOURCE_COUNT, Quota, quotas_of


@dataclass(frozen=True)
class Project:
    id: str
    customer_id: str
    name: str
    created: datetime
    # Denormalised from the customer so a project reads in one request; kept in step on rename.
    customer_name: str = ""
    customer_abbreviation: str = ""
    customer_native_name: str = ""
    description: str = ""
    backend_id: str = ""
    start_date: date | None = None
    end_date: date | None = None
    is_industry: bool = False
    removed: datetime | None = None
    quota_usage: dict[str, int] = field(default_factory=dict)
    quota_limits: dict[str, int] = field(default_factory=dict)
    version: int = 0
    # Unique among projects, kept on rename (domain/slugs.py); "" on a project made before slugs
    # until `python -m chalicelib.ops backfill-slugs`. The customer's is copied at creation.
    slug: str = ""
    customer_slug: str = ""

    @property
    def quotas(self) -> list[Quota]:
        return quotas_of(PROJECT_QUOTAS, self.quota_usage, self.quota_limits)

    @property
    def resources_count(self) -> int:
        return int(self.quota_usage.get(RESOURCE_COUNT, 0))

    def event_fields(self) -> dict[str, str]:
        return {
            "project_uuid": self.id,
            "project_name": self.name,
            "customer_uuid": self.customer_id,
            "customer_name": self.customer_name,
        }

    def matches_query(self, text: str) -> bool:
        needle = text.lower()
        return needle in self.name.lower() or needle in self.description.lower()

    def check_dates(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError.field("end_date", "End date must be later than start date.")

    def check_removable(self) -> None:
        """Waldur refuses to delete a project that still holds resources."""
        if self.resources_count > 0:
            raise Conflict("Project has resources. Please remove them before deleting the project.")


# Waldur's words for a slug change refused to a PROJECT.SET_SLUG holder who is not staff.
SLUG_IN_USE = "Project slug cannot be changed once a resource of the project exists."


def event(project: Project, action: str, ctx: EventContext) -> events.Event:
    """The audit event of `action` (events.CREATION, UPDATE or DELETION) on `project`."""
    return events.lifecycle_event(
        "project", action, project.name, ctx, project.event_fields(), project.customer_id
    )
