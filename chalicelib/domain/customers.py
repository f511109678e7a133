"""Customers (organisations): the tenants that own projects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from chalicelib.domain import events
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.quotas import CUSTOMER_QUOTAS, Quota, quotas_of

# Plain text fields a customer carries; all optional and blank by default, as in Waldur.
TEXT_FIELDS: tuple[str, ...] = (
    "native_name",
    "abbreviation",
    "contact_details",
    "email",
    "phone_number",
    "registration_code",
    "domain",
    "homepage",
    "country",
    "vat_code",
    "address",
    "postal",
    "bank_name",
    "bank_account",
    "backend_id",
    "description",
)

# Fields only staff change (Waldur's CustomerSerializer.Meta.staff_only_fields, those Cirrus has):
# billing terms, the administrative locks, and the domain that matches users to organisations.
STAFF_ONLY_FIELDS: frozenset[str] = frozenset(
    {"default_tax_percent", "accounting_start_date", "blocked", "archived", "domain", "slug"}
)

# Waldur's words (structure.utils.check_customer_blocked_or_archived).
BLOCKED = "Blocked organization is not available."
ARCHIVED = "Archived organization is not available."
# Waldur's answer to deleting a customer that still has projects (the store's condition says it too).
HAS_PROJECTS = "Cannot delete organization with existing projects."


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    created: datetime
    native_name: str = ""
    abbreviation: str = ""
    contact_details: str = ""
    email: str = ""
    phone_number: str = ""
    registration_code: str = ""
    domain: str = ""
    homepage: str = ""
    country: str = ""
    vat_code: str = ""
    address: str = ""
    postal: str = ""
    bank_name: str = ""
    bank_account: str = ""
    backend_id: str = ""
    description: str = ""
    latitude: float | None = None
    longitude: float | None = None
    blocked: bool = False
    archived: bool = False
    default_tax_percent: Decimal = Decimal("0")
    accounting_start_date: datetime | None = None
    quota_usage: dict[str, int] = field(default_factory=dict)
    quota_limits: dict[str, int] = field(default_factory=dict)
    version: int = 0
    # Unique among customers, kept on rename (domain/slugs.py); "" on a customer made before slugs
    # until `python -m chalicelib.ops backfill-slugs` gives it one.
    slug: str = ""

    @property
    def quotas(self) -> list[Quota]:
        return quotas_of(CUSTOMER_QUOTAS, self.quota_usage, self.quota_limits)

    @property
    def projects_count(self) -> int:
        return int(self.quota_usage.get("nc_project_count", 0))

    @property
    def users_count(self) -> int:
        return int(self.quota_usage.get("nc_user_count", 0))

    def event_fields(self) -> dict[str, str]:
        return {"customer_uuid": self.id, "customer_name": self.name}

    def require_available(self) -> None:
        """A blocked or archived customer takes no new work (orders, projects, changes by its
        own people): 400 in Waldur's words, until staff lift the lock."""
        if self.blocked:
            raise ValidationError([BLOCKED])
        if self.archived:
            raise ValidationError([ARCHIVED])

    def matches_query(self, text: str) -> bool:
        """Waldur's `query` filter: a case-insensitive substring of name, abbreviation, native name,
        contact details, email or registration code."""
        needle = text.lower()
        haystack = (
            self.name,
            self.abbreviation,
            self.native_name,
            self.contact_details,
            self.email,
            self.registration_code,
        )
        return any(needle in value.lower() for value in haystack)


def event(customer: Customer, action: str, ctx: EventContext) -> events.Event:
    """The audit event of `action` (events.CREATION, UPDATE or DELETION) on `customer`."""
    return events.lifecycle_event(
        "customer", action, customer.name, ctx, customer.event_fields(), customer.id
    )
