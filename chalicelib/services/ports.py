"""Ports: what the use cases need from the world, as Protocols, and the one place they are bound.

Services never import an adapter. They reach storage, queues, workflows, mail and time through the
handles below (`from chalicelib.services.ports import users`), typed by the Protocols in this
module. A handle resolves, at call time, to whatever the composition root (`chalicelib.bootstrap`)
bound with `use()`: the DynamoDB store modules on AWS and under `make run`, the in-memory fakes of
`tests/fakes.py` in the service specifications. Nothing registers itself on import.

The store modules implement these Protocols as modules (mypy checks each one against its Protocol
where bootstrap binds it); the fakes implement them as classes; `tests/contract/` runs one suite
against both, so a fake cannot drift from the store it stands for.

Writes go through a unit of work: repositories stage their writes (with their conditions) on the
`UnitOfWork` they are given, and `commit()` applies all of them or none. A repository accepts only
the unit of work of its own kind (a DynamoDB repository refuses a fake's and the reverse).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from chalicelib.domain.events import Event
from chalicelib.domain.ids import id_bounds

if TYPE_CHECKING:
    from chalicelib.domain.agents import AgentIdentity, AgentProcessor, AgentService
    from chalicelib.domain.analytics import Aggregate
    from chalicelib.domain.attachments import Attachment
    from chalicelib.domain.customers import Customer
    from chalicelib.domain.hooks import Hook, HookKind, Subscription
    from chalicelib.domain.invitations import ExecutionState, Invitation
    from chalicelib.domain.invoices import Invoice, InvoiceItem
    from chalicelib.domain.offering_users import AttributeConfig, OfferingUser
    from chalicelib.domain.offerings import Category, ServiceProvider
    from chalicelib.domain.orders import Order
    from chalicelib.domain.projects import Project
    from chalicelib.domain.rbac import Grant
    from chalicelib.domain.request_keys import RequestKey
    from chalicelib.domain.resources import Resource
    from chalicelib.domain.robot_accounts import RobotAccount
    from chalicelib.domain.roles import Role, ScopeType
    from chalicelib.domain.ssh_keys import SshKey
    from chalicelib.domain.support import Comment, Issue, SupportUser
    from chalicelib.domain.support_catalog import Priority, Template
    from chalicelib.domain.support_feedback import Feedback, FeedbackToken
    from chalicelib.domain.support_sync import Link
    from chalicelib.domain.tokens import LoginFailures, Token
    from chalicelib.domain.usages import ComponentUsage
    from chalicelib.domain.user_usages import ComponentUserUsage, UserUsageLimit
    from chalicelib.domain.users import User
    from chalicelib.domain.vocabulary import Offering
    from chalicelib.services.paging import Page, PageRequest


# Carries out effects (`services/effects.py`: start a workflow, answer one, queue a task), in order.
Executor = Callable[[Sequence[object]], None]


class UnitOfWork(Protocol):
    """The writes of one command, committed atomically, with the audit events that describe them."""

    def record(self, event: Event) -> None:
        """Write `event` to the audit log in the same commit as the change it describes."""

    def after_commit(self, *effects: object) -> None:
        """Have `effects` carried out, in order, once the writes committed (never if they fail)."""

    def commit(self) -> None:
        """Apply every staged write or none; a failed condition raises the domain error its write
        was staged with (or a Conflict)."""


class Clock(Protocol):
    def now(self) -> datetime: ...


class Mailer(Protocol):
    """Outgoing email (SES on AWS, the local outbox under `make run`). Callers send from background
    tasks, never while a request waits; a failure raises and is the caller's to record."""

    def send_email(self, to: str, subject: str, body: str) -> None: ...


class Files(Protocol):
    """Stored files (support attachments): S3 on AWS, moto's S3 under `make run` and the tests. A
    file is reached only through a short-lived URL that downloads it (never renders it inline)."""

    def put(self, key: str, content: bytes, mime_type: str) -> None: ...

    def download_url(self, key: str, file_name: str, mime_type: str) -> str: ...

    def delete(self, key: str) -> None: ...


# --- repositories -----------------------------------------------------------------------------------


class Categories(Protocol):
    def get(self, category_id: str) -> Category | None: ...
    def load(self, category_id: str) -> Category | None: ...
    def get_many(self, category_ids: list[str]) -> dict[str, Category]: ...
    def read_all(self) -> list[Category]: ...
    def add(self, uow: UnitOfWork, category: Category) -> None: ...
    def save(self, uow: UnitOfWork, before: Category, after: Category) -> None: ...
    def remove(self, uow: UnitOfWork, category: Category) -> None: ...


class Offerings(Protocol):
    """Offerings with their components and plans (a plan lives inside its offering, and a pointer
    finds its offering from the plan's id alone)."""

    def get(self, offering_id: str) -> Offering | None:
        """The offering for a lookup (may be a version behind right after a change)."""

    def load(self, customer_id: str, offering_id: str) -> Offering | None:
        """The offering as stored now, before a versioned change (None if not the customer's)."""

    def plan_owner(self, plan_id: str) -> tuple[str, str] | None:
        """(provider customer id, offering id) of the offering holding the plan."""

    def has_resources(self, offering: Offering) -> bool:
        """Whether any resource, in any state, was ordered from the offering."""

    def for_customer(self, customer_id: str) -> list[Offering]:
        """A provider's offerings, oldest first."""

    def get_many(self, ids: Iterable[tuple[str, str]]) -> list[Offering]:
        """Offerings by (customer id, offering id), in no particular order; missing ones left out."""

    def read_all(self) -> list[Offering]:
        """Every offering, newest first (the catalog's filtered lists: a slow path)."""

    def page_all(self, request: PageRequest) -> Page[Offering]:
        """One page of every offering, newest first, with the platform-wide total."""

    def add(self, uow: UnitOfWork, offering: Offering) -> None:
        """Create it at version 1 with its plans' pointers (Conflict if a plan id is taken)."""

    def save(self, uow: UnitOfWork, before: Offering, after: Offering) -> None:
        """Write `after` at version + 1, pointing new plans; Conflict if it changed since `before`."""

    def remove(self, uow: UnitOfWork, offering: Offering) -> None:
        """Delete it and its plans' pointers; Conflict if it changed since it was read."""


class ServiceProviders(Protocol):
    """The sellers: one record per customer that sells in the marketplace."""

    def get(self, provider_id: str) -> ServiceProvider | None: ...
    def for_customer(self, customer_id: str) -> ServiceProvider | None: ...

    def read_all(self) -> list[ServiceProvider]:
        """Every provider, by the provider's id (creation order)."""

    def add(self, uow: UnitOfWork, provider: ServiceProvider) -> None:
        """Register the customer; a second record for it is refused (ValidationError on
        `customer`, Waldur's unique check)."""


@dataclass(frozen=True)
class UserQuery:
    """Which users a staff list shows, in what order: by username (the store's index, whose total
    is the platform-wide count) or by another field (`full_name`, `email`, `date_joined`,
    `is_active`, `is_staff`: read by username, then sorted stably, so ties stay by username)."""

    username_exact: str | None = None
    matches: Callable[[User], bool] | None = None
    order: str = "username"
    descending: bool = False


class Users(Protocol):
    def get(self, user_id: str) -> User | None: ...
    def load(self, user_id: str) -> User | None: ...
    def get_many(self, user_ids: list[str]) -> dict[str, User]: ...
    def get_by_username(self, username: str) -> User | None: ...
    def lookalike_ids(self, username: str) -> set[str]: ...
    def page(self, query: UserQuery, request: PageRequest) -> Page[User]: ...
    def add(self, uow: UnitOfWork, user: User) -> None: ...
    def save_changes(self, uow: UnitOfWork, before: User, after: User) -> None: ...
    def remove(self, uow: UnitOfWork, user: User) -> None: ...


class Tokens(Protocol):
    def get(self, key_hash: str) -> Token | None: ...
    def put(self, uow: UnitOfWork, token: Token) -> None: ...
    def extend(self, token: Token) -> None: ...
    def revoke(self, uow: UnitOfWork, key_hash: str) -> None: ...
    def refresh_snapshots(self, user: User) -> None: ...
    def refresh_snapshots_in(self, uow: UnitOfWork, user: User) -> bool: ...
    def revoke_others(self, user_id: str, keep: str | None) -> None: ...
    def revoke_others_in(self, uow: UnitOfWork, user_id: str, keep: str | None) -> bool: ...
    def login_failures(self, username: str, ip_address: str) -> LoginFailures | None: ...
    def count_login_failure(
        self,
        uow: UnitOfWork,
        username: str,
        ip_address: str,
        known: LoginFailures | None,
        now: datetime,
        window_ends: datetime,
    ) -> None: ...
    def clear_login_failures(self, uow: UnitOfWork, username: str, ip_address: str) -> None: ...


class Roles(Protocol):
    def all_roles(self) -> dict[str, Role]: ...
    def load(self, role_id: str) -> Role | None: ...
    def with_users_counts(self, roles: list[Role]) -> list[Role]: ...
    def add(self, uow: UnitOfWork, role: Role) -> None: ...
    def save(self, uow: UnitOfWork, before: Role, after: Role) -> None: ...
    def remove(self, uow: UnitOfWork, role: Role) -> None: ...


class Grants(Protocol):
    """Role grants (Waldur's UserRole) and the bookkeeping that moves with them: the user's
    membership of the grant's customer (its `nc_user_count`), a custom role's holders, the expiry
    buckets the revocation job reads."""

    def for_user(self, user_id: str) -> list[Grant]:
        """Every grant of the user, lapsed ones included (what a permission check reads)."""

    def for_scope(self, customer_id: str, scope_type: ScopeType, scope_id: str) -> list[Grant]:
        """The scope's grants, ordered by scope, user, role."""

    def for_customer(self, customer_id: str) -> list[Grant]:
        """The grants on the customer, its projects and its offerings (by scope, user, role)."""

    def get(
        self, customer_id: str, scope_type: ScopeType, scope_id: str, user_id: str, role_id: str
    ) -> Grant | None:
        """The user's grant of the role on the scope, read consistently."""

    def get_by_id(self, grant_id: str) -> Grant | None: ...

    def all_grants(self) -> list[Grant]:
        """Every grant, by id (staff's unfiltered list: a slow path)."""

    def member_grants(self, customer_id: str, user_id: str) -> int:
        """How many grants the user holds in the customer (0: not a member); `add` and `remove`
        take it, read before, and lose the race if it changed."""

    def lapsing_in(self, hour: datetime) -> list[Grant]:
        """The grants listed as expiring within `hour` (the revocation job's bucket)."""

    def add(self, uow: UnitOfWork, grant: Grant, held: int, *, stored_role: bool = False) -> None:
        """Grant the role: ValidationError if the user already holds it there; a new member takes
        one `nc_user_count` (QuotaExceeded at the limit); a custom role (`stored_role`) must still
        exist (ValidationError on `role`)."""

    def set_expiration(self, uow: UnitOfWork, before: Grant, expiration_time: datetime | None) -> None:
        """Move (or clear) the grant's expiry; Conflict if it changed since `before`."""

    def remove(self, uow: UnitOfWork, grant: Grant, held: int) -> None:
        """Revoke the grant; the last one in its customer releases the member's `nc_user_count`."""


class Invitations(Protocol):
    """Invitations to a role on a customer or a project (Waldur's `user-invitations/`)."""

    def get(self, customer_id: str, invitation_id: str) -> Invitation | None: ...

    def load(self, invitation_id: str) -> Invitation | None:
        """By id alone, read consistently (the accept link carries only the id)."""

    def for_customer(self, customer_id: str) -> list[Invitation]:
        """The invitations to a customer and its projects, oldest first."""

    def page_all(self, request: PageRequest, newest_first: bool = True) -> Page[Invitation]:
        """One page of every invitation by creation, with the platform-wide total (staff)."""

    def read_all(self) -> list[Invitation]:
        """Every invitation, newest first (staff's filtered list: a slow path)."""

    def pending_in(self, hour: datetime) -> list[Invitation]:
        """The invitations listed as pending whose week ends within `hour` (may lag: re-read)."""

    def add(self, uow: UnitOfWork, invitation: Invitation) -> None: ...

    def save_transition(self, uow: UnitOfWork, before: Invitation, after: Invitation) -> None:
        """Write a state change (version + 1); Conflict if the invitation changed since `before`."""

    def set_execution_state(
        self, invitation: Invitation, state: ExecutionState, error_message: str = ""
    ) -> None:
        """Record how sending its mail went, now (no version bump); NotFound if it is gone."""

    def set_token_hash(self, invitation: Invitation, token_hash: str) -> None:
        """Keep the hash of the token the next mail carries, now; NotFound if it is gone."""


# --- organisations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerQuery:
    """Which customers a staff list shows, in what order: `name` (by name, then id, as the by-name
    index orders them), `created`, or `abbreviation` / `native_name` (ties by name). Unfiltered
    and ordered by name or creation, the total is the platform-wide count (store/counters.py)."""

    name_exact: str | None = None
    matches: Callable[[Customer], bool] | None = None
    order: str = "name"
    descending: bool = False


@dataclass(frozen=True)
class ProjectQuery:
    """Which live projects a list shows, in what order: of `customer_ids` (none: every customer's),
    by `created` (newest first by default) or by `name` / `customer_name` (case-insensitive, ties by
    creation in the same direction). Unfiltered by creation, the total is the customer's project
    count (or the platform-wide one)."""

    customer_ids: tuple[str, ...] = ()
    matches: Callable[[Project], bool] | None = None
    order: str = "created"
    descending: bool = True


class Customers(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...
    def load(self, customer_id: str) -> Customer | None: ...
    def get_many(self, customer_ids: list[str]) -> list[Customer]: ...
    def page(self, query: CustomerQuery, request: PageRequest) -> Page[Customer]: ...
    def add(self, uow: UnitOfWork, customer: Customer) -> None: ...
    def save_changes(self, uow: UnitOfWork, before: Customer, after: Customer) -> None: ...
    def remove(self, uow: UnitOfWork, customer: Customer) -> None: ...
    def take_one(self, uow: UnitOfWork, customer_id: str, quota: str) -> None: ...
    def release_one(self, uow: UnitOfWork, customer_id: str, quota: str) -> None: ...
    def set_quota_limits(self, uow: UnitOfWork, customer: Customer, limits: dict[str, int]) -> None: ...


class Projects(Protocol):
    def get(self, project_id: str) -> Project | None: ...
    def load(self, project_id: str) -> Project | None: ...
    def load_in(self, customer_id: str, project_id: str) -> Project | None: ...
    def get_many(self, project_customers: dict[str, str]) -> list[Project]: ...
    def of_customer(self, customer_id: str) -> list[Project]: ...
    def page(self, query: ProjectQuery, request: PageRequest) -> Page[Project]: ...
    def add(self, uow: UnitOfWork, project: Project) -> None: ...
    def save_changes(self, uow: UnitOfWork, before: Project, after: Project) -> None: ...
    def remove(self, uow: UnitOfWork, project: Project, when: datetime) -> None: ...
    def take_one(self, uow: UnitOfWork, customer_id: str, project_id: str, quota: str) -> None: ...
    def release_one(self, uow: UnitOfWork, customer_id: str, project_id: str, quota: str) -> None: ...
    def set_quota_limits(self, uow: UnitOfWork, project: Project, limits: dict[str, int]) -> None: ...
    def follow_customer_rename(
        self, customer_id: str, name: str, abbreviation: str, native_name: str, customer_version: int
    ) -> int: ...


# --- audit log and hooks ---------------------------------------------------------------------------


def _whole_range() -> tuple[str, str]:
    return id_bounds(None, None)


@dataclass(frozen=True)
class EventQuery:
    """What one request reads of the audit log: a scope's feed as (scope type, id), or with
    `feed=None` every event (staff's log); the events whose ids (so creation times) fall in
    `id_range`, inclusive; newest or oldest first; those `predicate` passes (None: all)."""

    feed: tuple[str, str] | None = None
    id_range: tuple[str, str] = field(default_factory=_whole_range)
    newest_first: bool = True
    predicate: Callable[[Event], bool] | None = None


class Events(Protocol):
    """Reading the audit log (it is written only by `UnitOfWork.record`). A filtered query reads
    its range with a bound and refuses one beyond it (TooBroad, naming what narrows it)."""

    def page(self, query: EventQuery, request: PageRequest) -> Page[Event]: ...
    def count(self, query: EventQuery) -> int: ...
    def get(self, event_id: str) -> tuple[Event, list[tuple[str, str]]] | None:
        """The event and the scopes whose feeds hold it."""


class Hooks(Protocol):
    def get(self, user_id: str, kind: HookKind, hook_id: str) -> Hook | None: ...
    def load(self, kind: HookKind, hook_id: str) -> Hook | None: ...
    def for_user(self, user_id: str, kind: HookKind | None = None) -> list[Hook]: ...
    def page_all(self, kind: HookKind, request: PageRequest) -> Page[Hook]: ...
    def read_all(self, kind: HookKind) -> list[Hook]: ...
    def subscribers(self, event_type: str) -> list[Subscription]: ...
    def add(self, uow: UnitOfWork, hook: Hook) -> None: ...
    def save_changes(self, uow: UnitOfWork, before: Hook, after: Hook) -> None: ...
    def remove(self, uow: UnitOfWork, hook: Hook) -> None: ...
    def remove_all(self, uow: UnitOfWork, hooks: list[Hook]) -> None: ...
    def record_success(self, hook: Hook, when: datetime) -> None: ...
    def record_failure(self, hook: Hook, when: datetime, error: str) -> None: ...


# --- billing -----------------------------------------------------------------------------------------


class Invoices(Protocol):
    """A customer's invoice of a month (its header: number, state, tax, references) and its items.
    Item writes of a month go in with `require_pending` in the same unit of work, so none lands on
    an issued invoice. Lists of headers carry no items (`with_items` adds them)."""

    # reads: one invoice, one item
    def get_in(self, customer_id: str, year: int, month: int, consistent: bool = True) -> Invoice | None: ...
    def header_in(self, customer_id: str, year: int, month: int) -> Invoice | None: ...
    def header(self, invoice_id: str) -> Invoice | None: ...
    def get(self, invoice_id: str) -> Invoice | None: ...
    def get_item(self, item_id: str) -> InvoiceItem | None: ...
    def reload_item(self, item: InvoiceItem) -> InvoiceItem | None: ...
    # reads: lists
    def items_of_resource(
        self, customer_id: str, year: int, month: int, project_id: str, resource_id: str
    ) -> list[InvoiceItem]: ...
    def items_of(
        self, customer_id: str, year: int, month: int, project_id: str = ""
    ) -> list[InvoiceItem]: ...
    def all_items(self, customer_id: str) -> list[InvoiceItem]: ...
    def every_item(self) -> Iterable[InvoiceItem]: ...
    def page_of_every_item(self, request: PageRequest) -> Page[InvoiceItem]: ...
    def headers_of_customer(
        self, customer_id: str, low: str | None = None, high: str | None = None
    ) -> list[Invoice]: ...
    def headers(self, year: int | None = None, month: int | None = None) -> Iterable[Invoice]: ...
    def page_of_all(
        self, request: PageRequest, year: int | None = None, month: int | None = None
    ) -> Page[Invoice]: ...
    def with_items(self, found: list[Invoice]) -> list[Invoice]: ...
    # writes
    def reserve_numbers(self, count: int) -> int: ...
    def create(self, invoice: Invoice) -> bool: ...
    def save_state(self, uow: UnitOfWork, before: Invoice, after: Invoice) -> Invoice: ...
    def require_pending(self, uow: UnitOfWork, customer_id: str, year: int, month: int) -> None: ...
    def add_item(self, uow: UnitOfWork, item: InvoiceItem) -> InvoiceItem: ...
    def put_new_item(self, item: InvoiceItem) -> bool: ...
    def save_item(self, uow: UnitOfWork, before: InvoiceItem, after: InvoiceItem) -> InvoiceItem: ...
    def remove_item(self, uow: UnitOfWork, item: InvoiceItem) -> None: ...


# --- marketplace: orders, resources, usages ---------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a list of orders, resources or usages is read from: a consumer customer's (`customer_id`,
    one project's of it with `project_id`), a service provider's (`provider_id`, one offering's of it
    with `offering_id`), or, with neither, every one (staff's list)."""

    customer_id: str | None = None
    project_id: str | None = None
    provider_id: str | None = None
    offering_id: str | None = None

    @classmethod
    def consumer(cls, customer_id: str, project_id: str | None = None) -> Source:
        return cls(customer_id=customer_id, project_id=project_id)

    @classmethod
    def provider(cls, provider_id: str, offering_id: str | None = None) -> Source:
        return cls(provider_id=provider_id, offering_id=offering_id)


class Orders(Protocol):
    def get(self, order_id: str) -> Order | None: ...
    def load(self, customer_id: str, order_id: str) -> Order | None: ...
    def add(self, uow: UnitOfWork, order: Order) -> Order: ...
    def save_transition(self, uow: UnitOfWork, before: Order, after: Order) -> Order: ...
    def remove(self, uow: UnitOfWork, order: Order) -> None: ...
    def read(self, sources: Sequence[Source], *, bounded: bool) -> list[Order]: ...
    def newest_page(self, request: PageRequest, *, descending: bool = True) -> Page[Order]: ...


class Resources(Protocol):
    def get(self, resource_id: str) -> Resource | None: ...
    def load(self, customer_id: str, project_id: str, resource_id: str) -> Resource | None: ...
    def add(self, uow: UnitOfWork, resource: Resource) -> Resource: ...
    def release_count(self, uow: UnitOfWork, resource: Resource) -> None: ...
    def save_changes(self, uow: UnitOfWork, before: Resource, after: Resource) -> Resource: ...
    def read(self, sources: Sequence[Source], *, bounded: bool) -> list[Resource]: ...
    def newest_page(self, request: PageRequest, *, descending: bool = True) -> Page[Resource]: ...


class Usages(Protocol):
    def get(self, usage_id: str) -> ComponentUsage | None: ...
    def of_resource(self, customer_id: str, project_id: str, resource_id: str) -> list[ComponentUsage]: ...
    def save(
        self, uow: UnitOfWork, changes: list[tuple[ComponentUsage | None, ComponentUsage]]
    ) -> list[ComponentUsage]: ...
    def read(self, sources: Sequence[Source], *, bounded: bool) -> list[ComponentUsage]: ...
    def newest_page(self, request: PageRequest, *, descending: bool = True) -> Page[ComponentUsage]: ...


class UserUsages(Protocol):
    """Per-user usages (one per component usage and username)."""

    def get(self, user_usage_id: str) -> ComponentUserUsage | None: ...
    def of_component_usage(
        self, customer_id: str, project_id: str, resource_id: str, billing_period: date, component_type: str
    ) -> list[ComponentUserUsage]: ...
    def save(
        self, uow: UnitOfWork, changes: list[tuple[ComponentUserUsage | None, ComponentUserUsage]]
    ) -> list[ComponentUserUsage]: ...
    def read(self, sources: Sequence[Source], *, bounded: bool) -> list[ComponentUserUsage]: ...
    def newest_page(self, request: PageRequest, *, descending: bool = True) -> Page[ComponentUserUsage]: ...


class UserLimits(Protocol):
    """Per-user usage limits (one per resource, component and offering user)."""

    def get(self, limit_id: str) -> UserUsageLimit | None: ...
    def of_resource(self, customer_id: str, project_id: str, resource_id: str) -> list[UserUsageLimit]: ...
    def add(self, uow: UnitOfWork, limit: UserUsageLimit) -> UserUsageLimit: ...
    def save(self, uow: UnitOfWork, before: UserUsageLimit, after: UserUsageLimit) -> UserUsageLimit: ...
    def remove(self, uow: UnitOfWork, limit: UserUsageLimit) -> None: ...
    def read(self, sources: Sequence[Source], *, bounded: bool) -> list[UserUsageLimit]: ...
    def newest_page(self, request: PageRequest, *, descending: bool = True) -> Page[UserUsageLimit]: ...


class Agents(Protocol):
    """Site agent identities, services and processors, in their offering's provider partition."""

    def get_identity(self, identity_id: str) -> AgentIdentity | None: ...
    def identities(self, provider_id: str | None, offering_id: str | None = None) -> list[AgentIdentity]: ...
    def get_service(self, service_id: str) -> AgentService | None: ...
    def services(self, provider_id: str | None, identity_id: str | None = None) -> list[AgentService]: ...
    def get_processor(self, processor_id: str) -> AgentProcessor | None: ...
    def processors(self, provider_id: str | None, identity_id: str | None = None) -> list[AgentProcessor]: ...
    def save_identity(
        self, uow: UnitOfWork, before: AgentIdentity | None, after: AgentIdentity
    ) -> AgentIdentity: ...
    def save_service(
        self, uow: UnitOfWork, before: AgentService | None, after: AgentService
    ) -> AgentService: ...
    def save_processor(
        self, uow: UnitOfWork, before: AgentProcessor | None, after: AgentProcessor
    ) -> AgentProcessor: ...
    def remove_identity(
        self,
        uow: UnitOfWork,
        identity: AgentIdentity,
        its_services: Sequence[AgentService],
        its_processors: Sequence[AgentProcessor],
    ) -> None: ...


# --- SSH keys ---------------------------------------------------------------------------------------


class SshKeys(Protocol):
    """Users' SSH public keys, in their owner's partition."""

    def get(self, key_id: str) -> SshKey | None:
        """By id, read consistently (None once deleted)."""

    def of_user(self, user_id: str) -> list[SshKey]:
        """A user's keys, by name."""

    def of_users(self, user_ids: Iterable[str]) -> list[SshKey]:
        """Several users' keys, by user (in the order given) then name."""

    def page_all(self, request: PageRequest, descending: bool = False) -> Page[SshKey]:
        """One page of every key by name (then id), with the platform-wide total (staff)."""

    def read_all(self) -> list[SshKey]:
        """Every key by name, then id (staff's filtered list; TooBroad past the read bound)."""

    def add(self, uow: UnitOfWork, key: SshKey) -> None:
        """Store it: ValidationError on `name` if its owner has a key of that name, on
        `public_key` if they hold MAX_KEYS_PER_USER keys."""

    def remove(self, uow: UnitOfWork, key: SshKey) -> None:
        """Delete it; Conflict if it is gone (or replaced by another of its name)."""

    def forget_count(self, uow: UnitOfWork, user_id: str) -> None:
        """Drop the user's key count (with the user)."""


class Slugs(Protocol):
    def next_number(self, kind: str, base: str) -> int: ...
    def holder(self, kind: str, slug: str) -> str | None: ...
    def claim(self, uow: UnitOfWork, kind: str, slug: str, holder_id: str) -> None: ...
    def release(self, uow: UnitOfWork, kind: str, slug: str) -> None: ...


class OfferingUsers(Protocol):
    """Users' accounts at service providers (one per user per offering), in the provider's
    partition, and each offering's user attribute config."""

    def get(self, offering_user_id: str) -> OfferingUser | None:
        """By its own id (may be a moment behind a change)."""

    def load(self, provider_id: str, offering_id: str, user_id: str) -> OfferingUser | None:
        """The user's account in the offering as stored now."""

    def get_many(self, provider_id: str, offering_id: str, user_ids: list[str]) -> dict[str, OfferingUser]:
        """These users' accounts in the offering, by user id (the missing left out)."""

    def of_provider(self, provider_id: str, offering_id: str | None = None) -> list[OfferingUser]:
        """A provider's accounts (one offering's), by offering, then user."""

    def of_user(self, user_id: str) -> list[OfferingUser]:
        """A user's accounts in every offering."""

    def attribute_config(self, provider_id: str, offering_id: str) -> AttributeConfig | None: ...

    def add(self, uow: UnitOfWork, user: OfferingUser) -> None:
        """Make it; ValidationError if the user has one in the offering already."""

    def save(self, uow: UnitOfWork, before: OfferingUser, after: OfferingUser) -> OfferingUser:
        """Write `after` at version + 1; Conflict if it changed since `before`."""

    def remove(self, uow: UnitOfWork, user: OfferingUser) -> None: ...

    def save_attribute_config(
        self, uow: UnitOfWork, before: AttributeConfig | None, after: AttributeConfig
    ) -> AttributeConfig:
        """Store it (first, or over `before`); Conflict if it changed since `before`."""

    def remove_attribute_config(self, uow: UnitOfWork, config: AttributeConfig) -> None: ...


class RobotAccounts(Protocol):
    """Resources' robot accounts (one per resource and type), in the consumer customer's partition
    and indexed under their provider: the listing half is market_queries' `Rows`."""

    def get(self, account_id: str) -> RobotAccount | None:
        """By id (may be a moment behind a change)."""

    def of_resource(self, customer_id: str, project_id: str, resource_id: str) -> list[RobotAccount]:
        """A resource's accounts as stored now, by type."""

    def add(self, uow: UnitOfWork, account: RobotAccount) -> RobotAccount:
        """Make it (version 1); ValidationError if the resource has an account of its type."""

    def save(self, uow: UnitOfWork, before: RobotAccount, after: RobotAccount) -> RobotAccount:
        """Write `after` at version + 1 (moved if its type changed: ValidationError if that type is
        taken); Conflict if it changed since `before`."""

    def remove(self, uow: UnitOfWork, account: RobotAccount) -> None:
        """Delete it; Conflict if it changed or went meanwhile."""

    def read(self, sources: Sequence[Source], *, bounded: bool) -> list[RobotAccount]: ...
    def newest_page(self, request: PageRequest, *, descending: bool = True) -> Page[RobotAccount]: ...


class SupportDesk(Protocol):
    """The built-in support desk's issues, their comments and the desk's users (store/support.py)."""

    def get_issue(self, issue_id: str) -> Issue | None:
        """The issue as stored now, or None."""

    def next_issue_number(self) -> int:
        """A new issue number (1, 2, ...), never given twice."""

    def add_issue(self, uow: UnitOfWork, issue: Issue) -> Issue:
        """Make it (version 1), listed among its caller's and its reporter's issues."""

    def save_issue(self, uow: UnitOfWork, before: Issue, after: Issue) -> Issue:
        """Write `after` at version + 1; Conflict if it changed since `before`."""

    def remove_issue(self, uow: UnitOfWork, issue: Issue, comments: Iterable[Comment]) -> None:
        """Delete it with its comments; Conflict if it changed meanwhile."""

    def issues_of_customer(self, customer_id: str) -> list[Issue]: ...
    def issues_of_user(self, user_id: str) -> list[Issue]: ...
    def all_issues(self) -> list[Issue]: ...
    def issue_page(self, request: PageRequest, *, descending: bool = True) -> Page[Issue]: ...

    def get_comment(self, comment_id: str) -> Comment | None: ...
    def comments_of(self, issue: Issue) -> list[Comment]: ...
    def add_comment(self, uow: UnitOfWork, comment: Comment) -> Comment: ...
    def save_comment(self, uow: UnitOfWork, before: Comment, after: Comment) -> Comment: ...
    def remove_comment(self, uow: UnitOfWork, comment: Comment) -> None: ...
    def all_comments(self) -> list[Comment]: ...
    def comment_page(self, request: PageRequest, *, descending: bool = True) -> Page[Comment]: ...

    def get_support_user(self, support_user_id: str) -> SupportUser | None: ...
    def get_support_users(self, ids: Iterable[str]) -> dict[str, SupportUser]: ...
    def add_support_user(self, uow: UnitOfWork, user: SupportUser) -> SupportUser: ...
    def save_support_user(self, uow: UnitOfWork, before: SupportUser, after: SupportUser) -> SupportUser: ...
    def remove_support_user(self, uow: UnitOfWork, user: SupportUser) -> None: ...

    def count(self, uow: UnitOfWork, support_user_id: str, deltas: dict[str, int]) -> None:
        """Move a support user's issue and comment counts; Conflict if it went meanwhile."""

    def all_support_users(self) -> list[SupportUser]: ...


class SupportLinks(Protocol):
    """The support desk's links to an external service desk (store/support_sync.py): which remote
    issue an issue is and what both last agreed on, the remote comments already known, and where
    the scheduled pull resumes."""

    def get_link(self, backend: str, backend_id: str) -> Link | None: ...

    def add_link(self, uow: UnitOfWork, link: Link) -> Link:
        """Make it (version 1); Conflict if the remote issue is linked already."""

    def save_link(self, uow: UnitOfWork, before: Link, after: Link) -> Link:
        """Write `after` at version + 1; Conflict if it changed since `before`."""

    def linked_comments(self, backend: str, issue_backend_id: str) -> dict[str, str]:
        """The remote issue's comments known here: remote comment id -> our comment id."""

    def add_comment_link(
        self, uow: UnitOfWork, backend: str, issue_backend_id: str, comment_backend_id: str, comment_id: str
    ) -> None:
        """Know the remote comment as ours; Conflict if it is known already."""

    def watermark(self, backend: str) -> datetime | None: ...

    def set_watermark(self, backend: str, at: datetime) -> None:
        """Bookkeeping, written alone (no unit of work, no event)."""


class RequestKeys(Protocol):
    """`Idempotency-Key`s of creations, each stored in its creation's transaction."""

    def find(self, user_id: str, key: str, now: datetime) -> RequestKey | None:
        """What the user's creation with `key` made, if the key is still kept at `now`."""

    def remember(self, uow: UnitOfWork, user_id: str, key: str, used: RequestKey, now: datetime) -> None:
        """Stage the key with what its creation makes; a key already kept makes the commit raise
        KeyAlreadyUsed naming what it made (an expired one is taken over)."""


# --- support desk catalogs ----------------------------------------------------------------------------


class SupportAttachments(Protocol):
    """Files attached to support issues: their records (the files are `Files`' objects)."""

    def get(self, attachment_id: str) -> Attachment | None: ...

    def of_issue(self, issue_id: str, customer_id: str | None) -> list[Attachment]: ...

    def add(self, uow: UnitOfWork, attachment: Attachment) -> Attachment: ...

    def remove(self, uow: UnitOfWork, attachment: Attachment) -> None: ...

    def every(self) -> list[Attachment]: ...

    def page(self, request: PageRequest, *, descending: bool = True) -> Page[Attachment]: ...


class SupportFeedbacks(Protocol):
    """Callers' feedbacks on their resolved issues (one per issue) and the mailed tokens that open
    them, kept by their hashes (store/support_feedbacks.py)."""

    def get(self, feedback_id: str) -> Feedback | None: ...

    def of_issue(self, issue_id: str, customer_id: str | None) -> Feedback | None: ...

    def of_issues(self, issues: Iterable[tuple[str, str | None]]) -> dict[str, Feedback]:
        """By issue id, of the (issue id, customer id) given."""

    def add(self, uow: UnitOfWork, feedback: Feedback) -> Feedback:
        """Make it; one already given for its issue makes the commit raise Waldur's 400."""

    def remove(self, uow: UnitOfWork, feedback: Feedback) -> None: ...

    def every(self) -> list[Feedback]: ...

    def page(self, request: PageRequest, *, descending: bool = False) -> Page[Feedback]: ...

    def evaluation_counts(self) -> dict[int, int]:
        """How many feedbacks rate each evaluation 1 to 10 (platform-wide totals: they lag the
        feedbacks by the stream consumer's delay)."""

    def keep_token(self, token: FeedbackToken) -> None:
        """Keep a mailed token's hash and what it opens."""

    def get_token(self, token_hash: str) -> FeedbackToken | None: ...


class Analytics(Protocol):
    """The analytics aggregates, read one series per Query (store/analytics.py; what they hold:
    domain/analytics.py). Kept by the stream consumer: they lag the table by its delay."""

    def read(self, series: str, start: str, end: str) -> list[Aggregate]:
        """Every aggregate of `series` with a period from `start` to `end` (both included)."""

    def read_now(self, series: str) -> list[Aggregate]:
        """The current values of a series (period NOW)."""

    def latest(self, series: str, before: str) -> list[Aggregate]:
        """The aggregates of the last period before `before` (a gauge carried into a range)."""


class SupportCatalog(Protocol):
    """The support desk's priorities and issue templates (global, staff-kept)."""

    def priorities(self) -> tuple[list[Priority], bool]:
        """Every priority, and whether the default priorities were ever written."""

    def get_priority(self, priority_id: str) -> Priority | None: ...

    def seed_priorities(self, uow: UnitOfWork, defaults: list[Priority]) -> None:
        """Write the defaults and mark them written; the commit raises Conflict if they were."""

    def add_priority(self, uow: UnitOfWork, priority: Priority) -> None: ...
    def remove_priority(self, uow: UnitOfWork, priority: Priority) -> None: ...

    def get_template(self, template_id: str) -> Template | None: ...
    def load_template(self, template_id: str) -> Template | None: ...

    def templates(self) -> list[Template]:
        """Every template, oldest first."""

    def add_template(self, uow: UnitOfWork, template: Template) -> None: ...

    def save_template(self, uow: UnitOfWork, before: Template, after: Template) -> Template:
        """Write `after` at version + 1; Conflict if it changed since `before`."""

    def remove_template(self, uow: UnitOfWork, template: Template) -> None: ...


# --- the bound set -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ports:
    """Everything the services reach outside themselves. Built by the composition root only."""

    unit_of_work: Callable[[], UnitOfWork]
    effects: Executor
    categories: Categories
    offerings: Offerings
    service_providers: ServiceProviders
    users: Users
    tokens: Tokens
    roles: Roles
    orders: Orders
    resources: Resources
    usages: Usages
    grants: Grants
    invitations: Invitations
    customers: Customers
    projects: Projects

    events: Events
    hooks: Hooks
    mailer: Mailer
    files: Files

    invoices: Invoices

    user_usages: UserUsages
    user_limits: UserLimits
    agents: Agents
    ssh_keys: SshKeys
    slugs: Slugs
    offering_users: OfferingUsers
    robot_accounts: RobotAccounts
    request_keys: RequestKeys
    support: SupportDesk
    support_catalog: SupportCatalog
    support_attachments: SupportAttachments
    support_links: SupportLinks
    support_feedbacks: SupportFeedbacks
    analytics: Analytics


_bound: list[Ports | None] = [None]


def use(ports: Ports | None) -> None:
    """Bind the ports the services use from now on (the composition root and test fixtures call
    this; None unbinds)."""
    _bound[0] = ports


def bound() -> Ports | None:
    return _bound[0]


def current() -> Ports:
    found = _bound[0]
    if found is None:
        raise RuntimeError("no ports bound: call chalicelib.bootstrap.ensure_ready() first")
    return found


def unit_of_work() -> UnitOfWork:
    """A fresh unit of work of the bound kind."""
    return current().unit_of_work()


class _Handle:
    """Stands for one port of whatever `Ports` is bound when it is used (so a module-level alias in a
    service follows the composition root, and tests swap the whole set at once)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(getattr(current(), self._name), attribute)

    def __repr__(self) -> str:
        return f"<port {self._name}>"


PORT_NAMES = tuple(f.name for f in fields(Ports) if f.name not in ("unit_of_work", "effects"))

categories = cast(Categories, _Handle("categories"))
offerings = cast(Offerings, _Handle("offerings"))
service_providers = cast(ServiceProviders, _Handle("service_providers"))
users = cast(Users, _Handle("users"))
tokens = cast(Tokens, _Handle("tokens"))
roles = cast(Roles, _Handle("roles"))
orders = cast(Orders, _Handle("orders"))
resources = cast(Resources, _Handle("resources"))
usages = cast(Usages, _Handle("usages"))
grants = cast(Grants, _Handle("grants"))
invitations = cast(Invitations, _Handle("invitations"))

customers = cast(Customers, _Handle("customers"))
projects = cast(Projects, _Handle("projects"))

events = cast(Events, _Handle("events"))
hooks = cast(Hooks, _Handle("hooks"))
mailer = cast(Mailer, _Handle("mailer"))
files = cast(Files, _Handle("files"))

invoices = cast(Invoices, _Handle("invoices"))

user_usages = cast(UserUsages, _Handle("user_usages"))
user_limits = cast(UserLimits, _Handle("user_limits"))
agents = cast(Agents, _Handle("agents"))
ssh_keys = cast(SshKeys, _Handle("ssh_keys"))
slugs = cast(Slugs, _Handle("slugs"))
offering_users = cast(OfferingUsers, _Handle("offering_users"))
robot_accounts = cast(RobotAccounts, _Handle("robot_accounts"))
request_keys = cast(RequestKeys, _Handle("request_keys"))
support = cast(SupportDesk, _Handle("support"))
support_catalog = cast(SupportCatalog, _Handle("support_catalog"))
support_attachments = cast(SupportAttachments, _Handle("support_attachments"))
support_links = cast(SupportLinks, _Handle("support_links"))
support_feedbacks = cast(SupportFeedbacks, _Handle("support_feedbacks"))
analytics = cast(Analytics, _Handle("analytics"))
