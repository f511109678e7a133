"""Demo data for the local stack: a staff user (and a ready token), a customer and a project, and a
non-staff user who owns that customer (to try roles with)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.context import EventContext
from chalicelib.domain.roles import CUSTOMER_OWNER, ScopeType
from chalicelib.services import auth, customers, memberships, projects, users
from chalicelib.services.paging import Ordering, PageRequest
from chalicelib.store import users as user_store

DEMO_CUSTOMER = "Demo Organisation"
DEMO_PROJECT = "Demo Project"
DEMO_OWNER = "demo-owner"
DEMO_OWNER_PASSWORD = "cirrus-local-owner"


@dataclass(frozen=True)
class Seeded:
    username: str
    password: str
    token: str
    customer_id: str
    project_id: str
    owner_username: str = DEMO_OWNER
    owner_password: str = DEMO_OWNER_PASSWORD


def seed(username: str, password: str) -> Seeded:
    """Create the staff user and the demo objects (skipping those that already exist)."""
    system = EventContext(ip_address="127.0.0.1")
    user = user_store.get_by_username(username)
    if user is None:
        user = users.register_user(
            system,
            {
                "username": username,
                "full_name": "Cirrus Administrator",
                "is_staff": True,
                "token_lifetime": None,
            },
            password,
        )
    token = auth.login(username, password, system)
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
    existing = projects.list_projects(
        user.principal(),
        projects.ProjectFilters(customers=[customer.id], name_exact=DEMO_PROJECT),
        Ordering(),
        PageRequest(),
    ).items
    project = (
        existing[0]
        if existing
        else projects.create_project(
            ctx, customer.id, {"name": DEMO_PROJECT, "description": "Created by the local stack."}
        )
    )
    owner = user_store.get_by_username(DEMO_OWNER)
    if owner is None:
        owner = users.register_user(
            system, {"username": DEMO_OWNER, "full_name": "Demo Owner"}, DEMO_OWNER_PASSWORD
        )
        scope = memberships.visible_scope(user.principal(), ScopeType.CUSTOMER, customer.id)
        memberships.add_user(ctx, scope, owner.id, CUSTOMER_OWNER, None)
    return Seeded(username, password, token, customer.id, project.id)
