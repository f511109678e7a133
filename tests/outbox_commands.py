"""Every state-changing command of the services layer, a small scenario that runs it, and the events
it must write: the table the outbox tests run (tests/integration/test_outbox_*.py) and the README's
audit-log table is checked against (tests/unit/test_readme_events.py).

A command is a public function of `chalicelib/services/*.py` that takes `ctx: EventContext` (they
are found by inspection: a new one fails the tests until it is added here), or one of the few
commands that take no context (scheduled jobs, token checks, mail delivery; listed by hand).
Commands that write no event say why (`no_event`).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.context import EventContext

SERVICES = "chalicelib.services"
Fields = Mapping[str, Mapping[str, str]]  # event type → context fields each event of that type carries


# --- the world every scenario starts from ----------------------------------------------------------
@dataclass
class World:
    """Staff, a user without roles (alice), customer Acme with project Apollo. Small on purpose:
    moto's query cost grows with the table."""

    staff: Any  # tests.conftest.Account
    alice: Any
    customer: Any  # domain Customer
    project: Any  # domain Project

    @property
    def ctx(self) -> EventContext:
        """Staff acting, from an address the events must record."""
        return self.acting(self.staff)

    def acting(self, account: Any) -> EventContext:
        from chalicelib.store import users

        user = users.get(account.id)
        assert user is not None
        return EventContext(principal=user.principal(), ip_address="10.0.0.7", correlation_id="c-1")

    def account(self, name: str | None) -> Any:
        return None if name is None else getattr(self, name)

    # setup helpers (they write events too: scenarios call them before the events are counted)
    def grant(self, account: Any, role: str, scope: Any, expires: datetime | None = None) -> Any:
        from chalicelib.services import memberships

        return memberships.add_user(self.ctx, scope, account.id, role, expires)

    def customer_scope(self, customer: Any = None) -> Any:
        from chalicelib.services import customers

        return customers.scope(customer or self.customer)

    def project_scope(self) -> Any:
        from chalicelib.services import projects

        return projects.scope(self.project)

    def invite(self, scope_url: str | None = None, role: str = "PROJECT.ADMIN") -> Any:
        from chalicelib.services import invitations

        url = scope_url or f"{BASE_URL}/api/projects/{self.project.id}/"
        return invitations.create_invitation(self.ctx, url, role, "alice@example.org", {})


BASE_URL = "http://testserver"


def build_world() -> World:
    """Needs the `aws` fixture's moto (and queues for invitations' mail)."""
    from chalicelib.services import access, customers, projects
    from tests.conftest import make_account

    # The commands run as background work does, outside any request: drop the per-request memo an
    # earlier test's HTTP request left in this thread (it would keep roles read before a change).
    access._memo.set(None)
    access._roles_memo.set(None)
    staff = make_account("staff", is_staff=True, full_name="Staff Person")
    alice = make_account("alice", full_name="Alice Example", email="alice@example.org")
    world = World(staff, alice, None, None)
    world.customer = customers.create_customer(world.ctx, {"name": "Acme"})
    world.project = projects.create_project(world.ctx, world.customer.id, {"name": "Apollo"})
    return world


@contextmanager
def clock_at(when: datetime) -> Iterator[None]:
    from chalicelib.domain import clock

    clock.set_source(lambda: when)
    try:
        yield
    finally:
        clock.set_source(None)


# --- expected context fields (Waldur's names) ------------------------------------------------------
def customer_fields(customer: Any) -> dict[str, str]:
    return {"customer_uuid": customer.id, "customer_name": customer.name}


def project_fields(project: Any) -> dict[str, str]:
    return {
        "project_uuid": project.id,
        "project_name": project.name,
        "customer_uuid": project.customer_id,
        "customer_name": project.customer_name,
    }


def affected(account: Any) -> dict[str, str]:
    return {"affected_user_uuid": account.id, "affected_user_username": account.username}


def on_project(w: World, role: str, account: Any) -> dict[str, str]:
    # A project-scope role event names the project and its customer's uuid (not its name).
    project = {"project_uuid": w.project.id, "project_name": w.project.name, "customer_uuid": w.customer.id}
    return {"role_name": role, "structure_type": "project", **project, **affected(account)}


def on_customer(customer: Any, role: str, account: Any) -> dict[str, str]:
    return {"role_name": role, "structure_type": "customer", **customer_fields(customer), **affected(account)}


def role_fields(role: Any) -> dict[str, str]:
    return {"role_uuid": role.id, "role_name": role.name}


def invitation_fields(w: World, view: Any) -> dict[str, str]:
    # Neither the invitation's uuid nor the invited address: members who may not manage invitations
    # read these events (issue 13, finding 1).
    return {
        "role_name": "PROJECT.ADMIN",
        "structure_type": "project",
        **project_fields(w.project),
    }


# --- the table -------------------------------------------------------------------------------------
def _nothing(w: World) -> Any:
    return None


@dataclass(frozen=True)
class Case:
    """One run of a command. `act` returns the context fields the events must carry."""

    act: Callable[[World, Any], Fields | None]
    events: tuple[str, ...]  # the event types it writes, with repeats (order free)
    setup: Callable[[World], Any] = _nothing  # runs before the events are counted
    actor: str | None = "staff"  # the World account the events name as user (None: no actor)
    # Item kinds the run may write outside a transaction that carries an event, and why: derived or
    # bookkeeping data that Waldur logs nothing for either.
    outside: Mapping[str, str] = field(default_factory=dict)
    label: str = ""
    why_no_event: str = ""  # required when `events` is empty


@dataclass(frozen=True)
class Command:
    cases: tuple[Case, ...] = ()
    no_event: str = ""  # why the command never writes an event

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(t for c in self.cases for t in c.events)


def emits(*cases: Case) -> Command:
    return Command(cases)


def no_event(reason: str, *cases: Case) -> Command:
    return Command(cases, no_event=reason)


# A generated slug takes its number from a counter before the creating transaction (store/slugs.py).
SLUG_NUMBER = {"SLUGSEQ/": "the next number of a generated slug (Waldur logs nothing for it)"}
TOKENS_FOLLOW_USER = {"token": "each live token's snapshot of its user follows the change (derived)"}
MAIL_STATE = {
    "invitation": "the mail's delivery state and token hash on the invitation (bookkeeping, no edit)"
}


# auth ----------------------------------------------------------------------------------------------
def login_ok(w: World, _: Any) -> Fields:
    from chalicelib.services import auth

    auth.login("alice", w.alice.password, EventContext(ip_address="10.0.0.8"))
    return {"auth_logged_in_with_username": {"ip_address": "10.0.0.8", "user_full_name": "Alice Example"}}


def fail_login(w: World, _: Any = None) -> Fields:
    from chalicelib.domain.errors import AuthenticationFailed
    from chalicelib.services import auth

    try:
        auth.login("alice", "not her password", EventContext(ip_address="10.0.0.8"))
    except AuthenticationFailed:
        pass
    else:
        raise AssertionError("a wrong password signed in")
    return {"auth_login_failed_with_username": {"username": "alice", "ip_address": "10.0.0.8"}}


def logout(w: World, _: Any) -> Fields:
    from chalicelib.domain.tokens import hash_key
    from chalicelib.services import auth

    auth.logout(w.acting(w.alice), hash_key(w.alice.token))
    return {"auth_logged_out": {}}


def authenticate_later(w: World, _: Any) -> None:
    from chalicelib.services import auth

    with clock_at(_now() + timedelta(minutes=5)):  # past the renewal granularity: the expiry slides
        auth.authenticate(w.alice.token)


def purge_tokens(w: World, _: Any) -> None:
    from chalicelib.workflows import maintenance

    with clock_at(_now() + timedelta(hours=3)):  # both tokens (1 hour lifetime) have lapsed
        maintenance.purge_expired_tokens({}, EventContext())


def purge_lockouts(w: World, _: Any) -> None:
    from chalicelib.workflows import maintenance

    with clock_at(_now() + timedelta(hours=3)):  # the cool-off window has ended
        maintenance.purge_login_lockouts({}, EventContext())


def _now() -> datetime:
    from chalicelib.domain.clock import utcnow

    return utcnow()


# users ---------------------------------------------------------------------------------------------
def create_user(w: World, _: Any) -> Fields:
    from chalicelib.services import users

    bob = users.create_user(w.ctx, {"username": "bob", "email": "bob@example.org"}, "bob-secret-pw")
    return {"user_creation_succeeded": affected(bob)}


def register_user(w: World, _: Any) -> Fields:
    from chalicelib.services import users

    carol = users.register_user(EventContext(), {"username": "carol"}, None)
    return {"user_creation_succeeded": affected(carol)}


def update_user(w: World, _: Any) -> Fields:
    from chalicelib.services import users

    users.update_user(w.ctx, w.alice.id, {"full_name": "Alice Renamed"})
    return {"user_update_succeeded": affected(w.alice)}


def set_password(w: World, _: Any) -> Fields:
    from chalicelib.services import users

    users.set_password(w.ctx, w.alice.id, "a-new-long-password")
    return {"user_update_succeeded": affected(w.alice)}


def alice_admin(w: World) -> Any:
    return w.grant(w.alice, "PROJECT.ADMIN", w.project_scope())


def delete_user(w: World, _: Any) -> Fields:
    from chalicelib.services import users

    users.delete_user(w.ctx, w.alice.id)
    return {
        "role_revoked": on_project(w, "PROJECT.ADMIN", w.alice),
        "user_deletion_succeeded": affected(w.alice),
    }


# customers -----------------------------------------------------------------------------------------
def create_customer(w: World, _: Any) -> Fields:
    from chalicelib.services import customers

    globex = customers.create_customer(w.ctx, {"name": "Globex", "abbreviation": "GX"})
    return {"customer_creation_succeeded": customer_fields(globex)}


def rename_customer(w: World, _: Any) -> Fields:
    from chalicelib.services import customers

    renamed = customers.update_customer(w.ctx, w.customer.id, {"name": "Acme Corp"})
    return {"customer_update_succeeded": customer_fields(renamed)}


def touch_customer(w: World, _: Any) -> None:
    from chalicelib.services import customers

    customers.update_customer(w.ctx, w.customer.id, {"name": "Acme"})


def customer_with_owner(w: World) -> Any:
    from chalicelib.services import customers

    initech = customers.create_customer(w.ctx, {"name": "Initech"})
    w.grant(w.alice, "CUSTOMER.OWNER", w.customer_scope(initech))
    return initech


def delete_customer(w: World, initech: Any) -> Fields:
    from chalicelib.services import customers

    customers.delete_customer(w.ctx, initech.id)
    return {
        "role_revoked": on_customer(initech, "CUSTOMER.OWNER", w.alice),
        "customer_deletion_succeeded": customer_fields(initech),
    }


# projects ------------------------------------------------------------------------------------------
def create_project(w: World, _: Any) -> Fields:
    from chalicelib.services import projects

    gemini = projects.create_project(w.ctx, w.customer.id, {"name": "Gemini"})
    return {"project_creation_succeeded": project_fields(gemini)}


def update_project(w: World, _: Any) -> Fields:
    from chalicelib.services import projects

    updated = projects.update_project(w.ctx, w.project.id, {"description": "To the moon"})
    return {"project_update_succeeded": project_fields(updated)}


def set_project_slug(w: World, _: Any) -> Fields:
    from chalicelib.services import projects

    projects.set_slug(w.ctx, w.project.id, "apollo-x")
    return {"project_update_succeeded": project_fields(w.project)}


def delete_project(w: World, _: Any) -> Fields:
    from chalicelib.services import projects

    projects.delete_project(w.ctx, w.project.id)
    return {
        "project_deletion_succeeded": project_fields(w.project),
        "role_revoked": on_project(w, "PROJECT.ADMIN", w.alice),
    }


# memberships ---------------------------------------------------------------------------------------
def add_user(w: World, _: Any) -> Fields:
    alice_admin(w)
    return {"role_granted": on_project(w, "PROJECT.ADMIN", w.alice)}


def update_grant(w: World, _: Any) -> Fields:
    from chalicelib.services import memberships

    later = _now() + timedelta(days=30)
    memberships.update_user(w.ctx, w.project_scope(), w.alice.id, "PROJECT.ADMIN", later)
    return {"role_updated": {**on_project(w, "PROJECT.ADMIN", w.alice), "expiration_time": later.isoformat()}}


def delete_grant(w: World, _: Any) -> Fields:
    from chalicelib.services import memberships

    memberships.delete_user(w.ctx, w.project_scope(), w.alice.id, "PROJECT.ADMIN")
    return {"role_revoked": on_project(w, "PROJECT.ADMIN", w.alice)}


def grant_role(w: World, _: Any) -> Fields:
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.rbac import Grant
    from chalicelib.domain.roles import SYSTEM_ROLES
    from chalicelib.services import memberships
    from chalicelib.store import users

    role, scope = SYSTEM_ROLES["PROJECT.MEMBER"], w.project_scope()
    user = users.get(w.alice.id)
    assert user is not None
    grant = Grant(new_id(), user.id, role.id, scope.type, scope.id, scope.customer_id, _now(), version=1)
    memberships.grant_role(w.ctx, grant, role, scope, user)
    return {"role_granted": on_project(w, "PROJECT.MEMBER", w.alice)}


def revoke(w: World, grant: Any) -> Fields:
    from chalicelib.domain.roles import SYSTEM_ROLES
    from chalicelib.services import memberships
    from chalicelib.store import users

    role = SYSTEM_ROLES["PROJECT.ADMIN"]
    memberships.revoke(w.ctx, grant, role, w.project_scope(), users.get(w.alice.id))
    return {"role_revoked": on_project(w, "PROJECT.ADMIN", w.alice)}


def two_grants(w: World) -> list[Any]:
    return [alice_admin(w), w.grant(w.staff, "PROJECT.MEMBER", w.project_scope())]


def revoke_all(w: World, grants: list[Any]) -> Fields:
    from chalicelib.services import memberships

    memberships.revoke_all(w.ctx, grants)
    return {"role_revoked": {"structure_type": "project", "project_uuid": w.project.id}}


def lapsing_grant(w: World) -> datetime:
    ends = _now() + timedelta(hours=1)
    w.grant(w.alice, "PROJECT.ADMIN", w.project_scope(), expires=ends)
    return ends


def revoke_expired(w: World, ends: datetime) -> Fields:
    from chalicelib.services import memberships
    from chalicelib.workflows.maintenance import _hours

    later = ends + timedelta(seconds=1)
    assert memberships.revoke_expired(later, _hours(later)) == 1
    return {"role_revoked": on_project(w, "PROJECT.ADMIN", w.alice)}


# roles ---------------------------------------------------------------------------------------------
REVIEWER = {"name": "PROJECT.REVIEWER", "content_type": "project", "permissions": ["ORDER.APPROVE"]}


def reviewer(w: World) -> Any:
    from chalicelib.services import roles

    return roles.create_role(w.ctx, REVIEWER)


def create_role(w: World, _: Any) -> Fields:
    return {"role_definition_created": role_fields(reviewer(w))}


def rename_role(w: World, role: Any) -> Fields:
    from chalicelib.services import roles

    renamed = roles.update_role(w.ctx, role.id, {"name": "PROJECT.AUDITOR"})
    return {"role_definition_updated": role_fields(renamed)}


def disable_and_describe_role(w: World, role: Any) -> Fields:
    from chalicelib.services import roles

    changed = roles.update_role(w.ctx, role.id, {"is_active": False, "description": "Retired"})
    return {"role_disabled": role_fields(changed), "role_definition_updated": role_fields(changed)}


def enable_by_update(w: World, role: Any) -> Fields:
    from chalicelib.services import roles

    return {"role_enabled": role_fields(roles.update_role(w.ctx, role.id, {"is_active": True}))}


def disable_role(w: World, role: Any) -> Fields:
    from chalicelib.services import roles

    return {"role_disabled": role_fields(roles.set_active(w.ctx, role.id, False))}


def disabled_reviewer(w: World) -> Any:
    from chalicelib.services import roles

    return roles.set_active(w.ctx, reviewer(w).id, False)


def enable_role(w: World, role: Any) -> Fields:
    from chalicelib.services import roles

    return {"role_enabled": role_fields(roles.set_active(w.ctx, role.id, True))}


def delete_role(w: World, role: Any) -> Fields:
    from chalicelib.services import roles

    roles.delete_role(w.ctx, role.id)
    return {"role_definition_deleted": role_fields(role)}


# invitations ---------------------------------------------------------------------------------------
def create_invitation(w: World, _: Any) -> Fields:
    return {"invitation_created": invitation_fields(w, w.invite())}


def invitation(w: World) -> Any:
    return w.invite()


def canceled_invitation(w: World) -> Any:
    from chalicelib.services import invitations

    return invitations.cancel(w.ctx, w.invite().invitation.id)


def send_invitation(w: World, view: Any) -> Fields:
    from chalicelib.services import invitations

    invitations.send(w.ctx, view.invitation.id)
    return {"invitation_updated": invitation_fields(w, view)}


def cancel_invitation(w: World, view: Any) -> Fields:
    from chalicelib.services import invitations

    invitations.cancel(w.ctx, view.invitation.id)
    return {"invitation_canceled": invitation_fields(w, view)}


def accept_invitation(w: World, view: Any) -> Fields:
    from chalicelib.services import invitations

    invitations.accept(w.acting(w.alice), view.invitation.id)
    return {
        "role_granted": on_project(w, "PROJECT.ADMIN", w.alice),
        "invitation_accepted": invitation_fields(w, view),
    }


def expire_invitations(w: World, view: Any) -> Fields:
    from chalicelib.services import invitations
    from chalicelib.workflows.invitations import expiry_hours

    later = view.invitation.expires + timedelta(minutes=1)
    assert invitations.expire_due(later, expiry_hours(later)) == 1
    return {"invitation_expired": invitation_fields(w, view)}


def deliver_email(w: World, view: Any) -> None:
    from chalicelib.services import invitations

    invitation = view.invitation
    assert invitations.deliver_email(invitation.customer_id, invitation.id, "Staff")


# hooks ---------------------------------------------------------------------------------------------
HOOK_ROWS = {
    "hook": "a user's own notification settings and their subscription index (Waldur logs none)",
    "counter": "how many hooks there are",
}


def create_hook(w: World, _: Any = None) -> Any:
    from chalicelib.domain.hooks import HookKind
    from chalicelib.services import hooks

    sent = {"email": "staff@example.org", "event_types": ["project_update_succeeded"]}
    return hooks.create_hook(w.ctx, HookKind.EMAIL, sent).hook


def add_hook(w: World, _: Any) -> None:
    create_hook(w)


def update_hook(w: World, hook: Any) -> None:
    from chalicelib.services import hooks

    hooks.update_hook(w.ctx, hook.kind, hook.id, {"event_groups": ["projects"]})


def delete_hook(w: World, hook: Any) -> None:
    from chalicelib.services import hooks

    hooks.delete_hook(w.ctx, hook.kind, hook.id)


def hook_and_event(w: World) -> tuple[Any, dict[str, Any]]:
    from chalicelib.workflows.publisher import event_document
    from tests.helpers import all_events

    hook = create_hook(w)
    wanted = next(e for e in all_events() if e.event_type == "project_creation_succeeded")
    return hook, {**event_document(wanted), "event_type": "project_update_succeeded"}


def dispatch_event(w: World, prepared: tuple[Any, dict[str, Any]]) -> None:
    from chalicelib.services import hook_delivery

    assert hook_delivery.dispatch(prepared[1]) == 1


def deliver_event(w: World, prepared: tuple[Any, dict[str, Any]]) -> None:
    from chalicelib.services import hook_delivery

    hook, document = prepared
    payload = {"kind": hook.kind.value, "user_uuid": hook.user_id, "hook_uuid": hook.id, "event": document}
    assert hook_delivery.deliver(payload) == hook_delivery.DELIVERED


# marketplace catalog ---------------------------------------------------------------------------------
OFFERING_DATA = {
    "name": "Compute",
    "type": "Marketplace.Basic",
    "components": [{"type": "cores", "name": "Cores", "billing_type": "limit"}],
    "plans": [{"name": "Monthly", "unit": "month", "unit_price": "10"}],
}


def offering_fields(offering: Any) -> dict[str, str]:
    return {
        "offering_uuid": offering.id,
        "offering_name": offering.name,
        "customer_uuid": offering.customer_id,
    }


def an_offering(w: World) -> Any:
    from chalicelib.services import offerings

    return offerings.create_offering(w.ctx, w.customer.id, OFFERING_DATA)


def create_offering(w: World, _: Any) -> Fields:
    return {"marketplace_offering_created": {**offering_fields(an_offering(w)), "customer_name": "Acme"}}


def activate_offering(w: World, offering: Any) -> Fields:
    from chalicelib.services import offerings

    return {
        "marketplace_offering_updated": offering_fields(offerings.set_state(w.ctx, offering.id, "activate"))
    }


def update_offering(w: World, offering: Any) -> Fields:
    from chalicelib.services import offerings

    changed = offerings.update_offering(w.ctx, offering.id, "update_overview", {"description": "Fast"})
    return {"marketplace_offering_updated": offering_fields(changed)}


def create_component(w: World, offering: Any) -> Fields:
    from chalicelib.services import offerings

    offerings.create_component(w.ctx, offering.id, {"type": "ram", "name": "RAM", "billing_type": "usage"})
    return {"marketplace_offering_component_created": {**offering_fields(offering), "component_type": "ram"}}


def update_component(w: World, offering: Any) -> Fields:
    from chalicelib.services import offerings

    offerings.update_component(w.ctx, offering.id, offering.components[0].id, {"name": "CPU cores"})
    return {
        "marketplace_offering_component_updated": {**offering_fields(offering), "component_type": "cores"}
    }


def remove_component(w: World, offering: Any) -> Fields:
    from chalicelib.services import offerings

    offerings.remove_component(w.ctx, offering.id, offering.components[0].id)
    return {
        "marketplace_offering_component_deleted": {**offering_fields(offering), "component_type": "cores"}
    }


def plan_of(w: World) -> Any:
    offering = an_offering(w)
    return offering.plans[0]


def plan_fields(plan: Any) -> dict[str, str]:
    return {"plan_uuid": plan.id, "plan_name": plan.name}


def create_plan(w: World, offering: Any) -> Fields:
    from chalicelib.services import plans

    view = plans.create_plan(w.ctx, offering.id, {"name": "Yearly", "unit": "month", "unit_price": "100"})
    return {"marketplace_plan_created": {**offering_fields(offering), **plan_fields(view.plan)}}


def update_plan(w: World, plan: Any) -> Fields:
    from chalicelib.services import plans

    plans.update_plan(w.ctx, plan.id, {"description": "The usual"})
    return {"marketplace_plan_updated": plan_fields(plan)}


def update_prices(w: World, plan: Any) -> Fields:
    from chalicelib.services import plans

    plans.update_prices(w.ctx, plan.id, {"cores": "2.5"})
    return {"marketplace_plan_updated": plan_fields(plan)}


def update_quotas(w: World, plan: Any) -> Fields:
    from chalicelib.services import plans

    plans.update_quotas(w.ctx, plan.id, {"cores": 4})
    return {"marketplace_plan_updated": plan_fields(plan)}


def archive_plan(w: World, plan: Any) -> Fields:
    from chalicelib.services import plans

    plans.archive_plan(w.ctx, plan.id)
    return {"marketplace_plan_archived": plan_fields(plan)}


CATEGORY_ROWS = {"CATEGORIES/CAT": "a catalog heading (Waldur logs no category changes)"}


def a_category(w: World) -> Any:
    from chalicelib.services import categories

    return categories.create_category(w.ctx, {"title": "Compute"})


def create_category(w: World, _: Any) -> None:
    a_category(w)


def update_category(w: World, category: Any) -> None:
    from chalicelib.services import categories

    categories.update_category(w.ctx, category.id, {"title": "HPC"})


def delete_category(w: World, category: Any) -> None:
    from chalicelib.services import categories

    categories.delete_category(w.ctx, category.id)


def register_provider(w: World, _: Any) -> None:
    from chalicelib.services import service_providers

    service_providers.register(w.ctx, w.customer.id, {"description": "We sell"})


OFFERING_GONE = {
    "CUST/OFFER": "the offering (Waldur logs no offering deletion)",
    "CUST/PLAN": "its plans' pointers",
    "counter": "how many offerings there are",
}


def offering_with_manager(w: World) -> Any:
    from chalicelib.services import offerings

    offering = an_offering(w)
    w.grant(w.alice, "OFFERING.MANAGER", offerings.scope(offering))
    return offering


def delete_offering(w: World, offering: Any) -> Fields:
    from chalicelib.services import offerings

    offerings.delete_offering(w.ctx, offering.id)
    return {"role_revoked": {"offering_uuid": offering.id, **affected(w.alice)}}


S = f"{SERVICES}."
W = "chalicelib.workflows."  # the few commands workers run outside the services layer
COMMANDS: dict[str, Command] = {
    # auth
    f"{S}auth.login": emits(
        Case(login_ok, ("auth_logged_in_with_username",), actor="alice", label="signed in"),
        Case(fail_login, ("auth_login_failed_with_username",), actor=None, label="wrong password"),
        Case(
            login_ok,
            ("auth_logged_in_with_username",),
            setup=fail_login,
            actor="alice",
            label="after a failure",
        ),
    ),
    f"{S}auth.logout": emits(Case(logout, ("auth_logged_out",), actor="alice")),
    f"{S}auth.authenticate": no_event(
        "checks a token; it only slides the token's expiry (bookkeeping, as Waldur's token auth)",
        Case(authenticate_later, (), actor=None, outside={"token": "the sliding expiry"}),
    ),
    # users
    f"{S}users.create_user": emits(Case(create_user, ("user_creation_succeeded",))),
    f"{S}users.register_user": emits(Case(register_user, ("user_creation_succeeded",), actor=None)),
    f"{S}users.update_user": emits(Case(update_user, ("user_update_succeeded",), outside=TOKENS_FOLLOW_USER)),
    f"{S}users.set_password": emits(Case(set_password, ("user_update_succeeded",))),
    f"{S}users.delete_user": emits(
        Case(
            delete_user,
            ("role_revoked", "user_deletion_succeeded"),
            setup=alice_admin,
            outside={"token": "the deleted user's tokens are dropped (derived)"},
        )
    ),
    # customers
    f"{S}customers.create_customer": emits(
        Case(create_customer, ("customer_creation_succeeded",), outside=SLUG_NUMBER)
    ),
    f"{S}customers.update_customer": emits(
        Case(
            rename_customer,
            ("customer_update_succeeded",),
            outside={"project": "projects keep a copy of their customer's names (derived)"},
            label="rename",
        ),
        Case(touch_customer, (), label="unchanged", why_no_event="nothing changed, nothing is written"),
    ),
    f"{S}customers.delete_customer": emits(
        Case(delete_customer, ("role_revoked", "customer_deletion_succeeded"), setup=customer_with_owner)
    ),
    # projects
    f"{S}projects.create_project": emits(
        Case(create_project, ("project_creation_succeeded",), outside=SLUG_NUMBER)
    ),
    f"{S}projects.set_slug": emits(Case(set_project_slug, ("project_update_succeeded",))),
    f"{S}projects.update_project": emits(Case(update_project, ("project_update_succeeded",))),
    f"{S}projects.delete_project": emits(
        Case(delete_project, ("project_deletion_succeeded", "role_revoked"), setup=alice_admin)
    ),
    # memberships
    f"{S}memberships.add_user": emits(Case(add_user, ("role_granted",))),
    f"{S}memberships.update_user": emits(Case(update_grant, ("role_updated",), setup=alice_admin)),
    f"{S}memberships.delete_user": emits(Case(delete_grant, ("role_revoked",), setup=alice_admin)),
    f"{S}memberships.grant_role": emits(Case(grant_role, ("role_granted",))),
    f"{S}memberships.revoke": emits(Case(revoke, ("role_revoked",), setup=alice_admin)),
    f"{S}memberships.revoke_all": emits(Case(revoke_all, ("role_revoked", "role_revoked"), setup=two_grants)),
    f"{S}memberships.revoke_expired": emits(
        Case(revoke_expired, ("role_revoked",), setup=lapsing_grant, actor=None)
    ),
    f"{S}memberships.role_event": no_event("builds the event its callers record; writes nothing"),
    # roles
    f"{S}roles.create_role": emits(Case(create_role, ("role_definition_created",))),
    f"{S}roles.update_role": emits(
        Case(rename_role, ("role_definition_updated",), setup=reviewer, label="rename"),
        Case(
            disable_and_describe_role,
            ("role_disabled", "role_definition_updated"),
            setup=reviewer,
            label="disable and describe",
        ),
        Case(enable_by_update, ("role_enabled",), setup=disabled_reviewer, label="enable"),
    ),
    f"{S}roles.set_active": emits(
        Case(disable_role, ("role_disabled",), setup=reviewer, label="disable"),
        Case(enable_role, ("role_enabled",), setup=disabled_reviewer, label="enable"),
    ),
    f"{S}roles.delete_role": emits(Case(delete_role, ("role_definition_deleted",), setup=reviewer)),
    # invitations
    f"{S}invitations.create_invitation": emits(
        Case(create_invitation, ("invitation_created",), outside=MAIL_STATE)
    ),
    f"{S}invitations.send": emits(
        Case(
            send_invitation,
            ("invitation_updated",),
            setup=canceled_invitation,
            outside=MAIL_STATE,
            label="canceled: pending again",
        ),
        Case(
            send_invitation,
            (),
            setup=invitation,
            outside=MAIL_STATE,
            label="pending: mail again",
            why_no_event="the invitation is unchanged; only its mail is queued again (bookkeeping)",
        ),
    ),
    f"{S}invitations.cancel": emits(Case(cancel_invitation, ("invitation_canceled",), setup=invitation)),
    f"{S}invitations.accept": emits(
        Case(accept_invitation, ("role_granted", "invitation_accepted"), setup=invitation, actor="alice")
    ),
    f"{S}invitations.expire_due": emits(
        Case(expire_invitations, ("invitation_expired",), setup=invitation, actor=None)
    ),
    f"{S}invitations.deliver_email": no_event(
        "mails a pending invitation and records how sending went on it (bookkeeping)",
        Case(deliver_email, (), setup=invitation, actor=None, outside=MAIL_STATE),
    ),
    # hooks
    f"{S}request_keys.once": no_event(
        "runs its caller's creation (which writes that creation's events) or answers a retry from the "
        "key, writing nothing"
    ),
    f"{S}request_keys.remember": no_event("stages the request's key in its caller's unit of work"),
    f"{S}hooks.create_hook": no_event(HOOK_ROWS["hook"], Case(add_hook, (), outside=HOOK_ROWS)),
    f"{S}hooks.update_hook": no_event(
        HOOK_ROWS["hook"], Case(update_hook, (), setup=create_hook, outside=HOOK_ROWS)
    ),
    f"{S}hooks.delete_hook": no_event(
        HOOK_ROWS["hook"], Case(delete_hook, (), setup=create_hook, outside=HOOK_ROWS)
    ),
    f"{S}hook_delivery.dispatch": no_event(
        "queues a delivery per subscribed hook; writes nothing",
        Case(dispatch_event, (), setup=hook_and_event, actor=None),
    ),
    f"{S}hook_delivery.deliver": no_event(
        "sends one delivery and records its outcome on the hook (bookkeeping)",
        Case(deliver_event, (), setup=hook_and_event, actor=None, outside={"hook": "delivery health"}),
    ),
    # marketplace catalog
    f"{S}offerings.create_offering": emits(Case(create_offering, ("marketplace_offering_created",))),
    f"{S}offerings.set_state": emits(
        Case(activate_offering, ("marketplace_offering_updated",), setup=an_offering)
    ),
    f"{S}offerings.update_offering": emits(
        Case(update_offering, ("marketplace_offering_updated",), setup=an_offering)
    ),
    f"{S}offerings.create_component": emits(
        Case(create_component, ("marketplace_offering_component_created",), setup=an_offering)
    ),
    f"{S}offerings.update_component": emits(
        Case(update_component, ("marketplace_offering_component_updated",), setup=an_offering)
    ),
    f"{S}offerings.remove_component": emits(
        Case(remove_component, ("marketplace_offering_component_deleted",), setup=an_offering)
    ),
    f"{S}offerings.delete_offering": emits(
        Case(
            delete_offering,
            ("role_revoked",),
            setup=offering_with_manager,
            outside=OFFERING_GONE,
            label="team",
        ),
        Case(
            delete_offering,
            (),
            setup=an_offering,
            outside=OFFERING_GONE,
            label="no team",
            why_no_event="Waldur logs no offering deletion",
        ),
    ),
    f"{S}plans.create_plan": emits(Case(create_plan, ("marketplace_plan_created",), setup=an_offering)),
    f"{S}plans.update_plan": emits(Case(update_plan, ("marketplace_plan_updated",), setup=plan_of)),
    f"{S}plans.update_prices": emits(Case(update_prices, ("marketplace_plan_updated",), setup=plan_of)),
    f"{S}plans.update_quotas": emits(Case(update_quotas, ("marketplace_plan_updated",), setup=plan_of)),
    f"{S}plans.archive_plan": emits(Case(archive_plan, ("marketplace_plan_archived",), setup=plan_of)),
    f"{S}categories.create_category": no_event(
        CATEGORY_ROWS["CATEGORIES/CAT"], Case(create_category, (), outside=CATEGORY_ROWS)
    ),
    f"{S}categories.update_category": no_event(
        CATEGORY_ROWS["CATEGORIES/CAT"], Case(update_category, (), setup=a_category, outside=CATEGORY_ROWS)
    ),
    f"{S}categories.delete_category": no_event(
        CATEGORY_ROWS["CATEGORIES/CAT"], Case(delete_category, (), setup=a_category, outside=CATEGORY_ROWS)
    ),
    f"{S}service_providers.register": no_event(
        "a customer's registration as a seller (Waldur logs none)",
        Case(register_provider, (), outside={"CUST/PROVIDER": "the provider record"}),
    ),
    # scheduled housekeeping outside the services layer
    "chalicelib.workflows.maintenance.purge_expired_tokens": no_event(
        "deletes lapsed tokens (bookkeeping; TTL would too)",
        Case(purge_tokens, (), actor=None, outside={"token": "lapsed tokens deleted"}),
    ),
    "chalicelib.workflows.maintenance.purge_login_lockouts": no_event(
        "deletes ended login-failure windows (bookkeeping)",
        Case(purge_lockouts, (), setup=fail_login, actor=None, outside={"login_failures": "ended windows"}),
    ),
}


def cases() -> list[tuple[str, Case]]:
    """Every (command, case), with a readable id."""
    found = []
    for name, command in COMMANDS.items():
        for case in command.cases:
            short = name.removeprefix(S)
            found.append((f"{short}[{case.label}]" if case.label else short, case))
    return found


def resolve(name: str) -> Any:
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def takes_context(function: Callable[..., Any]) -> bool:
    """A command in the services layer's sense: a parameter `ctx` annotated EventContext."""
    hints = typing.get_type_hints(function)
    return "ctx" in inspect.signature(function).parameters and hints.get("ctx") is EventContext


def service_commands() -> set[str]:
    """Every public function of chalicelib/services/*.py that takes `ctx: EventContext`."""
    import chalicelib.services as package

    found = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{SERVICES}.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if (
                function.__module__ == module.__name__
                and not name.startswith("_")
                and takes_context(function)
            ):
                found.add(f"{module.__name__}.{name}")
    return found


def emitted_by() -> dict[str, list[str]]:
    """Event type → the commands that write it (short names: `orders.create_order`,
    `workflows.order_workflow.process`), as the README lists them."""
    table: dict[str, set[str]] = {}
    for name, command in COMMANDS.items():
        for event_type in command.event_types:
            table.setdefault(event_type, set()).add(name.removeprefix(S).removeprefix("chalicelib."))
    return {t: sorted(names) for t, names in sorted(table.items())}


# The marketplace's order and resource commands, in their own module (their scenarios need a small
# market); imported last, as that module builds on this one's helpers.
from tests.outbox_marketplace import MARKETPLACE_COMMANDS  # noqa: E402

COMMANDS.update(MARKETPLACE_COMMANDS)

# Federated sign-in's commands (Cognito), in their own module as well.
from tests.outbox_federation import FEDERATION_COMMANDS  # noqa: E402

COMMANDS.update(FEDERATION_COMMANDS)

# SSH keys' commands and staff's password change, in their own module.
from tests.outbox_accounts import ACCOUNT_COMMANDS  # noqa: E402

COMMANDS.update(ACCOUNT_COMMANDS)
# Offering users (tests/outbox_offering_users.py).
from tests.outbox_offering_users import OFFERING_USER_COMMANDS  # noqa: E402

COMMANDS.update(OFFERING_USER_COMMANDS)

# The site agent's registrations, the order's backend id and per-user usages and limits: bookkeeping
# that Waldur's event types have no entry for (declared without a run: each writes one item kind,
# and its own tests cover what it writes).
_AGENT = "a site agent's registration (Waldur's event types have none for agents)"
_USER_USAGE = "a per-user share of a usage report or its limit (Waldur logs no event for usage)"
COMMANDS.update(
    {
        f"{S}agents.create_identity": no_event(_AGENT),
        f"{S}agents.update_identity": no_event(_AGENT),
        f"{S}agents.delete_identity": no_event(_AGENT),
        f"{S}agents.register_service": no_event(_AGENT),
        f"{S}agents.register_processor": no_event(_AGENT),
        f"{S}agents.set_statistics": no_event(_AGENT),
        f"{S}orders.set_backend_id": no_event("the provider's report on its order (Waldur logs no event)"),
        f"{S}user_limits.create_limit": no_event(_USER_USAGE),
        f"{S}user_limits.update_limit": no_event(_USER_USAGE),
        f"{S}user_limits.delete_limit": no_event(_USER_USAGE),
        f"{S}user_usages.set_user_usages": no_event(_USER_USAGE),
    }
)

# Robot accounts (tests/outbox_robot_accounts.py).
from tests.outbox_robot_accounts import ROBOT_ACCOUNT_COMMANDS  # noqa: E402

COMMANDS.update(ROBOT_ACCOUNT_COMMANDS)

# The support desk (tests/outbox_support.py).
from tests.outbox_support import SUPPORT_COMMANDS  # noqa: E402

COMMANDS.update(SUPPORT_COMMANDS)

# Request-based offerings (tests/outbox_marketplace_support.py).
from tests.outbox_marketplace_support import MARKET_SUPPORT_COMMANDS  # noqa: E402

COMMANDS.update(MARKET_SUPPORT_COMMANDS)
# The support desk's sync with an external desk (tests/outbox_support_sync.py).
from tests.outbox_support_sync import SUPPORT_SYNC_COMMANDS  # noqa: E402

COMMANDS.update(SUPPORT_SYNC_COMMANDS)
# Resources imported from a cloud offering's provider (tests/outbox_providers.py).
from tests.outbox_providers import PROVIDER_COMMANDS  # noqa: E402

COMMANDS.update(PROVIDER_COMMANDS)
