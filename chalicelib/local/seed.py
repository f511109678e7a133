"""Demo data for the local stack: a staff user (and a ready token), a customer and a project, a
non-staff user who owns that customer (to try roles with), and a demo catalog: the customer as a
service provider with an Active `Marketplace.Basic` offering in a category, with a monthly plan.

The demo offering is a Basic one (HomePort has an order form for that type, none for Cirrus's own
`Cirrus.Demo`) whose provider's approval finishes an order (`done_on_approval`): an order waits in
`pending-provider` until the demo customer approves it (HomePort's provider order list has the
button), and is then done with its resource OK."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.config import get_settings
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import AuthenticationFailed, TooBroad
from chalicelib.domain.projects import Project
from chalicelib.domain.roles import CUSTOMER_OWNER, ScopeType
from chalicelib.domain.users import User, check_login_password
from chalicelib.domain.vocabulary import Offering, OfferingState, OrderState
from chalicelib.providers.builtin import BASIC, DONE_ON_APPROVAL
from chalicelib.services import auth, categories, customers, memberships, offerings, projects, users
from chalicelib.services.paging import Ordering, PageRequest
from chalicelib.store import offerings as offering_store
from chalicelib.store import users as user_store

DEMO_CUSTOMER = "Demo Organisation"
DEMO_PROJECT = "Demo Project"
DEMO_OWNER = "demo-owner"
DEMO_OWNER_PASSWORD = "cirrus-local-owner"
DEMO_CATEGORY = "Demo services"
DEMO_RESOURCE = "demo-vm"
DEMO_OFFERING = "Demo compute"
DEMO_SUPPORT = "demo-support"
DEMO_SUPPORT_PASSWORD = "cirrus-local-support"
DEMO_OFFERING_DATA = {
    "name": DEMO_OFFERING,
    "type": BASIC,
    "description": "A demo provider: an order is done once the provider (the demo organisation) approves it.",
    "components": [
        {"type": "ip", "name": "Public IP", "measured_unit": "IPs", "billing_type": "fixed"},
        {
            "type": "cpu",
            "name": "CPU",
            "measured_unit": "cores",
            "billing_type": "limit",
            "limit_period": "month",  # billed monthly as without one; HomePort shows it monthly
            "max_value": 64,
        },
        {"type": "storage", "name": "Storage", "measured_unit": "GB", "billing_type": "usage"},
    ],
    "plans": [
        {
            "name": "Monthly",
            "unit": "month",
            "unit_price": "5",
            "prices": {"ip": "5", "cpu": "2", "storage": "0.05"},
            "quotas": {"ip": 1},
        }
    ],
    "plugin_options": {DONE_ON_APPROVAL: True},
}


@dataclass(frozen=True)
class Seeded:
    username: str
    password: str
    token: str
    customer_id: str
    project_id: str
    owner_username: str = DEMO_OWNER
    owner_password: str = DEMO_OWNER_PASSWORD
    offering_id: str = ""
    plan_id: str = ""
    support_username: str = DEMO_SUPPORT
    support_password: str = DEMO_SUPPORT_PASSWORD
    support_issues: int = 0


def seed(username: str, password: str, remembered_token: str | None = None) -> Seeded:
    """Create the staff user and the demo objects (skipping those that already exist). The staff
    token is `remembered_token` (the one printed before a restart) while it still signs the staff
    user in and the password still matches; otherwise a new one (a login)."""
    system = EventContext(ip_address="127.0.0.1")
    user = user_store.get_by_username(username)
    if user is None:
        user = users.register_user(
            system,
            {
                "username": username,
                "full_name": "Cirrus Administrator",
                "email": "admin@example.org",  # HomePort asks for the mandatory fields otherwise
                "agree_with_policy": True,  # and for the agreement to the terms
                "is_staff": True,
                "token_lifetime": None,
            },
            password,
        )
    token = _still_valid(remembered_token, user, password) or auth.login(username, password, system)
    ctx = EventContext(principal=user.principal(), ip_address="127.0.0.1")
    found = customers.list_customers(
        user.principal(),
        customers.CustomerFilters(name_exact=DEMO_CUSTOMER),
        Ordering(),
        PageRequest(),
    ).items
    customer = (
        found[0]
        if found
        else customers.create_customer(
            ctx, {"name": DEMO_CUSTOMER, "abbreviation": "DEMO", "email": "demo@example.org"}
        )
    )
    project = _demo_project(user.principal(), customer.id) or projects.create_project(
        ctx, customer.id, {"name": DEMO_PROJECT, "description": "Created by the local stack."}
    )
    owner = user_store.get_by_username(DEMO_OWNER)
    if owner is None:
        owner = users.register_user(
            system,
            {
                "username": DEMO_OWNER,
                "full_name": "Demo Owner",
                "email": "demo-owner@example.org",
                "agree_with_policy": True,
            },
            DEMO_OWNER_PASSWORD,
        )
        scope = memberships.visible_scope(user.principal(), ScopeType.CUSTOMER, customer.id)
        memberships.add_user(ctx, scope, owner.id, CUSTOMER_OWNER, None)
    offering = seed_catalog(ctx, customer.id)
    issues = seed_support(system, owner, project.id)
    return Seeded(
        username,
        password,
        token,
        customer.id,
        project.id,
        offering_id=offering.id,
        plan_id=offering.plans[0].id,
        support_issues=issues,
    )


def seed_support(system: EventContext, owner: User, project_id: str) -> int:
    """The support desk's demo: a support user (not staff), and, on a desk without tickets, the
    demo owner's ticket about the demo project with the desk's public answer, and a personal one
    the desk is working on. Returns how many tickets the desk holds (the first page's count)."""
    from chalicelib.services import support

    desk = user_store.get_by_username(DEMO_SUPPORT)
    if desk is None:
        desk = users.register_user(
            system,
            {
                "username": DEMO_SUPPORT,
                "full_name": "Demo Support",
                "email": "demo-support@example.org",
                "agree_with_policy": True,
                "is_support": True,
            },
            DEMO_SUPPORT_PASSWORD,
        )
    as_desk = EventContext(principal=desk.principal(), ip_address="127.0.0.1")
    existing = support.list_issues(desk.principal(), support.IssueFilters(), Ordering(), PageRequest())
    if existing.total:
        return existing.total
    as_owner = EventContext(principal=owner.principal(), ip_address="127.0.0.1")
    vm = support.create_issue(
        as_owner,
        support.IssueRequest(
            type="Incident",
            summary="Cannot reach my demo VM",
            description="SSH to demo-vm times out since this morning.",
            project=project_id,
        ),
    )
    support.add_comment(as_desk, vm.id, "Thanks, we are looking into it: a host was rebooted overnight.")
    quota = support.create_issue(
        as_owner,
        support.IssueRequest(type="Service Request", summary="More CPU for the demo project"),
    )
    support.set_status(as_desk, quota.id, "In Progress")
    return 2


def _still_valid(token: str | None, user: User, password: str) -> str | None:
    """`token` if it is a live token of `user` and `password` is still theirs (a changed
    CIRRUS_ADMIN_PASSWORD goes through a login, which refuses it, as on a first start)."""
    if not token:
        return None
    try:
        found = auth.authenticate(token)
    except AuthenticationFailed:
        return None
    if found.principal.user_id != user.id:
        return None
    iterations = get_settings().password_iterations
    return token if check_login_password(password, user.password_hash, iterations) else None


def _demo_project(principal: Principal, customer_id: str) -> Project | None:
    """The demo project of a stack that ran before: the customer's first project (one Query, however
    many projects it has), else one named so. A name filter reads the whole partition, refused
    past CIRRUS_FILTER_READ_LIMIT projects: then the first project stands in for it."""
    first = projects.list_projects(
        principal,
        projects.ProjectFilters(customers=[customer_id]),
        Ordering("created"),
        PageRequest(page=1, page_size=1),
    ).items
    if not first or first[0].name == DEMO_PROJECT:
        return first[0] if first else None
    try:
        named = projects.list_projects(
            principal,
            projects.ProjectFilters(customers=[customer_id], name_exact=DEMO_PROJECT),
            Ordering(),
            PageRequest(),
        ).items
    except TooBroad:
        return first[0]
    return named[0] if named else None


def seed_catalog(ctx: EventContext, customer_id: str) -> Offering:
    """The demo category and the customer's Active demo offering (the customer becomes a provider)."""
    found = [c for c in categories.list_categories() if c.title == DEMO_CATEGORY]
    category = found[0] if found else categories.create_category(ctx, {"title": DEMO_CATEGORY})
    named = [o for o in offering_store.for_customer(customer_id) if o.name == DEMO_OFFERING]
    for older in named:  # a data directory's Cirrus.Demo offering of before: HomePort cannot order it
        if older.type != BASIC and older.state is not OfferingState.ARCHIVED:
            offerings.set_state(ctx, older.id, "archive")
    existing = [o for o in named if o.type == BASIC and o.state is not OfferingState.ARCHIVED]
    offering = (
        existing[0]
        if existing
        else offerings.create_offering(ctx, customer_id, {**DEMO_OFFERING_DATA, "category_id": category.id})
    )
    if offering.state is not OfferingState.ACTIVE:
        offering = offerings.set_state(ctx, offering.id, "activate")
    return offering


def order_demo_resource(seeded: Seeded, username: str) -> str:
    """Order the demo resource (2 cores of the demo offering in the demo project) as staff, and
    approve it as the provider (staff may), unless the project has it: the order is then done and
    the resource OK. Returns the resource's id."""
    from chalicelib.services import orders
    from chalicelib.services.ports import Source
    from chalicelib.store import resources as resource_store

    source = Source.consumer(seeded.customer_id, seeded.project_id)
    for resource in resource_store.read([source], bounded=False):
        if resource.name == DEMO_RESOURCE:
            return resource.id
    user = user_store.get_by_username(username)
    if user is None:
        raise LookupError(f"no user {username!r} to order the demo resource as")
    ctx = EventContext(principal=user.principal(), ip_address="127.0.0.1")
    order = orders.create_order(
        ctx,
        orders.OrderRequest(
            project=seeded.project_id,
            offering=seeded.offering_id,
            plan=seeded.plan_id,
            attributes={"name": DEMO_RESOURCE},
            limits={"cpu": 2},
        ),
    )
    if order.state is OrderState.PENDING_PROVIDER:
        orders.approve_by_provider(ctx, order.id)
    return order.resource_id
