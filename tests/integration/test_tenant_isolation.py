"""Tenant isolation, generated from the route registry: every endpoint the app registers is called
by a customer owner of tenant A against tenant B's objects, and must neither reach nor reveal them.

The world (made by staff): customer A with project A1, customer B with project B1. `a_owner` is
CUSTOMER.OWNER of A and PROJECT.MANAGER of A1, roles in A only; `b_user` is CUSTOMER.MANAGER of B and
PROJECT.ADMIN of B1, roles in B only.

- Every endpoint whose path names an object (`{uuid}`) is called with B's object of that collection
  (`TARGETS`) and a valid body built from the endpoint's body model: the answer is 404, unless the
  collection is public by design (`PUBLIC`) or the route reaches B by design (`BY_DESIGN`), each
  with its reason; and B's state (staff's view of B's objects, B's event feed,
  the global feed) is what it was before. A read of A's object by the same route is the control.
- Every GET without `{uuid}` (lists, `users/me/`) is called plainly and with each filter that can
  name B: no uuid or name of B appears in what a_owner gets.
- Every other write without `{uuid}` (creates) is called with B named where the body takes a
  reference: refused (400 or 403), B unchanged.

A new route is covered by the next run. A new collection with objects fails until `TARGETS` knows
B's object in it: nothing escapes the matrix silently.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from app import app
from chalicelib.api.rest import ENDPOINTS, Endpoint
from chalicelib.domain.roles import SYSTEM_ROLES
from tests.conftest import Account, make_account
from tests.helpers import Reply, call

B_NAME = "Tenant B Corporation"
B1_NAME = "Tenant B Project One"
B_USER_NAME = "tenant-b-user"

# The role a body names on each kind of scope: one a customer owner may hand out in their own
# customer, and the one `b_user` holds in B; so a request that slipped through would succeed.
SCOPE_ROLE = {"customers": SYSTEM_ROLES["CUSTOMER.MANAGER"], "projects": SYSTEM_ROLES["PROJECT.ADMIN"]}
PROBED_ROLE = SYSTEM_ROLES["PROJECT.MEMBER"]  # the object probed in `roles/`

# Collections whose objects every signed-in user may read by design: (read status, write status, why).
PUBLIC: dict[str, tuple[int, int, str]] = {
    "marketplace-categories": (
        200,
        403,
        "categories are the catalog's global headings: anybody reads them (anonymously too, as "
        "Waldur's public catalog); only staff write them",
    ),
    "roles": (
        200,
        403,
        "roles are global definitions, not tenant data: every signed-in user reads them (Waldur's "
        "clients look roles up by name); only staff write them",
    ),
    "support-users": (
        403,
        403,
        "the support desk's own accounts, no tenant's data: only staff and support read them, only "
        "staff write them (Waldur's IsStaffOrSupportUser); anybody else gets 403 whoever's it is",
    ),
    "support-feedbacks": (
        403,
        403,
        "callers' ratings of resolved issues: only staff and support read them (Waldur's "
        "is_staff_or_support on list and retrieve, checked before the object is looked up); anybody "
        "else gets 403 whoever's it is; giving one needs the mailed token, no sign-in",
    ),
    "support-priorities": (
        200,
        405,
        "priorities are the support desk's global catalog of what a ticket's priority may be: every "
        "signed-in user reads them (Waldur's PriorityViewSet); nobody writes them through the API",
    ),
    "support-templates": (
        200,
        403,
        "issue templates are the support desk's global ready-made texts: anybody reads them (Waldur's "
        "IsAdminOrReadOnly, anonymous too); only staff write them",
    ),
    "marketplace-service-providers": (
        403,
        403,
        "the provider directory is public (anonymous too, as Waldur's); what a provider sees of its "
        "consumers (projects/, users/, keys/, ... set_offerings_username/) is its team's: 403 as in Waldur",
    ),
}

# Endpoints that reach another tenant's object by design: (status, why). The probe expects exactly
# this status, then marks the world dirty (the change is the design), so the next test gets a new one.
# None now: accepting an invitation took only its uuid until issue 13 (finding 1); it now needs the
# invited address or the mail's token, so another tenant's invitation is a 404 like any object.
BY_DESIGN: dict[tuple[str, str], tuple[int, str]] = {}

# Endpoints that name no object of any tenant and are left out, with the reason.
EXCLUDED: dict[tuple[str, str], str] = {
    ("POST", "/api-auth/logout"): "acts only on the caller's own token (and would end the probe's session)",
    ("POST", "/api/hooks-web"): "a hook is its creator's own and names no tenant's object; what it delivers "
    "is filtered by its owner's visibility (tests/integration/test_hook_delivery.py)",
    ("POST", "/api/hooks-email"): "likewise: the caller's own hook",
    ("POST", "/api/keys"): "an SSH key is its creator's own (nobody adds one to another account) and names "
    "no tenant's object",
    ("GET", "/api/support-users"): "the support desk's accounts: 403 for anybody but staff and support "
    "(Waldur's IsStaffOrSupportUser), whatever the filters; tests/integration/test_support_api.py",
    ("GET", "/api/support-feedbacks"): "callers' feedbacks: 403 for anybody but staff and support, "
    "whatever the filters; tests/integration/test_support_mail_api.py",
    ("GET", "/api/support-feedback-report"): "platform-wide counts of the evaluations, no tenant's object: "
    "403 for anybody but staff and support; tests/integration/test_support_mail_api.py",
    ("GET", "/api/support-feedback-average-report"): "likewise: the average evaluation, for the desk only",
    ("GET", "/api/marketplace-stats/component_usages"): "platform-wide usage sums: 403 for anybody but staff "
    "and support (Waldur's StatsViewSet); tests/integration/test_analytics_usages_api.py",
    ("GET", "/api/marketplace-stats/component_usages_per_month"): "likewise: platform-wide, per month",
    ("GET", "/api/marketplace-stats/component_usages_per_project"): "likewise: platform-wide, per project",
    ("GET", "/api/marketplace-stats/user_auth_method_count"): "platform-wide counts of active users by "
    "registration method, no tenant's object: 403 for anybody but staff and support (Waldur's "
    "StatsViewSet); tests/compat/test_marketplace_stats_users_clients.py",
    ("GET", "/api/analytics-charts/users-registration"): "platform-wide counts of users by registration "
    "method, no tenant's object: 403 for anybody but staff and support (Waldur's stats are theirs); "
    "tests/integration/test_analytics_charts_api.py",
    **{
        (
            "GET",
            f"/api/marketplace-stats/{name}",
        ): "platform-wide statistics (Waldur's StatsViewSet): 403 for "
        "anybody but staff and support, whatever the query; "
        "tests/integration/test_marketplace_stats_orders.py"
        for name in (
            "resource_provisioning_stats",
            "project_creation_trend",
            "resource_creation_trend",
            "organization_project_count",
            "organization_resource_count",
            "customer_member_count",
        )
    },
}

# Lists about one customer that its own customer-level roles may read, staff and support any: 403
# for a scope the caller does not see (B's, a ghost's, none named), the same answer either way.
OWN_SCOPE_ONLY: dict[tuple[str, str], str] = {
    ("GET", "/api/marketplace-stats/order_stats"): "order statistics of a customer (customer_uuid) or of "
    "a provider (provider_uuid): its customer-level roles read them; the platform's are staff's and "
    "support's",
}

# Endpoints that refuse everybody but staff before they look the object up (so the answer is the same
# 403 for any uuid, and reveals nothing), and platform-wide statistics that refuse everybody but staff
# and support whatever the filters (probed as lists, every filter naming B: the same 403): (status, why).
_PLATFORM_STATS = "platform-wide figures (Waldur's StatsViewSet is IsSupport): 403 for anybody else"
STAFF_ONLY: dict[tuple[str, str], tuple[int, str]] = {
    ("POST", "/api/users/{uuid}/change_password"): (
        403,
        "Waldur's change_password/ is staff's only, refused before the user is looked up",
    ),
    ("GET", "/api/marketplace-stats/total_cost_of_active_resources_per_offering"): (403, _PLATFORM_STATS),
    ("GET", "/api/marketplace-stats/offering_costs_summary"): (403, _PLATFORM_STATS),
    ("GET", "/api/marketplace-stats/resources_limits"): (403, _PLATFORM_STATS),
    ("GET", "/api/marketplace-stats/top_service_providers_by_resources"): (403, _PLATFORM_STATS),
    ("GET", "/api/marketplace-stats/count_active_resources_grouped_by_offering"): (403, _PLATFORM_STATS),
    ("GET", "/api/billing-total-cost"): (
        403,
        "every customer's invoices of a month added up: Waldur's TotalCustomerCostView refuses all but "
        "staff and support, whatever the customer_uuid or name asked",
    ),
}


# --- the world -----------------------------------------------------------------------------------
@dataclass
class World:
    client: Any
    staff: Account
    a_owner: Account
    b_user: Account
    a: dict[str, Any]
    a1: dict[str, Any]
    b: dict[str, Any]
    b1: dict[str, Any]
    a_grants: list[str]
    b_grants: list[str]
    extra: dict[str, str] = field(default_factory=dict)  # lazily made objects of B, by collection
    own_extra: dict[str, str] = field(default_factory=dict)  # the same, of A
    pristine: dict[str, Any] = field(default_factory=dict)  # b_state() as built
    dirty: bool = False  # B or a_owner changed: the next test needs a fresh world

    def b_tokens(self) -> list[str]:
        """What must never reach a_owner: B's uuids (hex and dashed) and names."""
        ids = [self.b["uuid"], self.b1["uuid"], self.b_user.id, *self.b_grants, *self.extra.values()]
        dashed = [str(_uuid(i)) for i in ids]
        return [*ids, *dashed, B_NAME, B1_NAME, B_USER_NAME]


def _uuid(hex_id: str) -> Any:
    from uuid import UUID

    return UUID(hex_id)


def _ok(reply: Reply, expected: int = 201) -> Any:
    assert reply.status == expected, reply.json
    return reply.json


def _grant(
    w_client: Any, staff: Account, collection: str, scope: dict[str, Any], user: Account, role: str
) -> None:
    path = f"/api/{collection}/{scope['uuid']}/add_user/"
    _ok(call(w_client, "POST", path, staff, {"user": user.id, "role": role}))


def _grant_ids(client: Any, staff: Account, user: Account) -> list[str]:
    return [p["uuid"] for p in _ok(call(client, "GET", f"/api/user-permissions/?user={user.id}", staff), 200)]


def build_world(client: Any) -> World:
    staff = make_account("staff", is_staff=True)
    a_owner = make_account("a_owner", full_name="Owner of A")
    b_user = make_account(B_USER_NAME, full_name="Member of B", email="member@b.example")
    a = _ok(call(client, "POST", "/api/customers/", staff, {"name": "Tenant A Corporation"}))
    b = _ok(call(client, "POST", "/api/customers/", staff, {"name": B_NAME}))
    a1 = _ok(call(client, "POST", "/api/projects/", staff, {"name": "A1", "customer": a["url"]}))
    b1 = _ok(call(client, "POST", "/api/projects/", staff, {"name": B1_NAME, "customer": b["url"]}))
    _grant(client, staff, "customers", a, a_owner, "CUSTOMER.OWNER")
    _grant(client, staff, "projects", a1, a_owner, "PROJECT.MANAGER")
    _grant(client, staff, "customers", b, b_user, SCOPE_ROLE["customers"].name)
    _grant(client, staff, "projects", b1, b_user, SCOPE_ROLE["projects"].name)
    built = World(
        client,
        staff,
        a_owner,
        b_user,
        a,
        a1,
        b,
        b1,
        _grant_ids(client, staff, a_owner),
        _grant_ids(client, staff, b_user),
    )
    for collection in {collection_of(ep.path) for ep in OBJECT_CASES}:
        for made in (TARGETS, OWN):  # objects made on demand exist before any probe
            if collection in made:
                made[collection](built)
    built.pristine = b_state(built)
    return built


@dataclass
class Stage:
    """The module's moto backend and the world currently in it."""

    client: Any
    world: World | None = None


@pytest.fixture(scope="module")
def stage() -> Any:
    """One moto backend for the whole matrix (per module and worker): moto's setup costs more than
    all the probes of one endpoint together."""
    from chalice.test import Client
    from moto import mock_aws

    from chalicelib import bootstrap
    from chalicelib.config import get_settings, reset_settings
    from chalicelib.local.aws import create_buckets, create_queues, create_state_machines, create_table
    from chalicelib.workflows import queues
    from tests.workflow_helpers import TEST_TIMING

    reset_settings()
    queues._lookup_url.cache_clear()
    with mock_aws():
        create_table(get_settings().table_name)
        create_buckets()  # support attachments
        bootstrap.ensure_ready()
        create_queues(visibility_timeout=30)  # orders start their workflow (recorded, not run)
        create_state_machines(timing=TEST_TIMING)
        with Client(app) as test_client:
            yield Stage(test_client.http)
    reset_settings()


@pytest.fixture
def world(stage: Stage) -> World:
    """The world, shared by the probes: each is refused and changes nothing, which each test checks.
    A probe that did change B (a failure, or a documented entry) marks it dirty, and the next test
    gets a fresh table and world, so one failure does not cascade into the others."""
    from chalicelib.config import get_settings
    from chalicelib.local.aws import create_table, dynamodb_client

    if stage.world is not None and stage.world.dirty:
        name = get_settings().table_name
        dynamodb_client(None).delete_table(TableName=name)
        create_table(name)
        stage.world = None
    if stage.world is None:
        stage.world = build_world(stage.client)
    return stage.world


# --- B's object in each collection -----------------------------------------------------------------
def _invitation(w: World, customer: dict[str, Any], made: dict[str, str]) -> str:
    """An invitation to `customer`, made by staff once (when the invitations API exists)."""
    key = "user-invitations"
    if key not in made:
        body = {"scope": customer["url"], "role": SCOPE_ROLE["customers"].id, "email": "invitee@example.org"}
        reply = call(w.client, "POST", "/api/user-invitations/", w.staff, body)
        assert reply.status == 201, (
            f"the isolation matrix could not make an invitation ({reply.status} {reply.json}): "
            f"fix _invitation in {__file__}"
        )
        made[key] = reply.json["uuid"]
    return made[key]


def _hook(w: World, owner: Account, collection: str, made: dict[str, str]) -> str:
    """A web or email hook of `owner` (b_user for B, a_owner for A), made once."""
    if collection not in made:
        target = {
            "hooks-web": {"destination_url": "https://receiver.example/"},
            "hooks-email": {"email": "hooks@example.org"},
        }
        body = {**target[collection], "event_types": ["project_creation_succeeded"]}
        reply = call(w.client, "POST", f"/api/{collection}/", owner, body)
        assert reply.status == 201, (
            f"the isolation matrix could not make a hook ({reply.status} {reply.json})"
        )
        made[collection] = reply.json["uuid"]
    return made[collection]


# Collection (the path's first segment after /api/) → B's object in it, and A's (for the controls).
TARGETS: dict[str, Callable[[World], str]] = {
    "customers": lambda w: w.b["uuid"],
    "financial-reports": lambda w: w.b["uuid"],  # a customer's report: keyed by the customer
    "projects": lambda w: w.b1["uuid"],
    "users": lambda w: w.b_user.id,
    "user-permissions": lambda w: w.b_grants[0],
    "roles": lambda w: PROBED_ROLE.id,
    "user-invitations": lambda w: _invitation(w, w.b, w.extra),
    "events": lambda w: _first_event(w.b["uuid"]),
    "hooks-web": lambda w: _hook(w, w.b_user, "hooks-web", w.extra),
    "hooks-email": lambda w: _hook(w, w.b_user, "hooks-email", w.extra),
    "marketplace-categories": lambda w: _category(w),
    "marketplace-provider-offerings": lambda w: _offering(w, w.b, w.extra),
    "offerings": lambda w: _offering(w, w.b, w.extra),  # python-waldur-client's path for offering roles
    "marketplace-plans": lambda w: _plan(w, w.b, w.extra),
    "marketplace-orders": lambda w: _order(w, w.b, w.b1, w.extra),
    "marketplace-resources": lambda w: _resource(w, w.b, w.b1, w.extra),
    "marketplace-provider-resources": lambda w: _resource(w, w.b, w.b1, w.extra),
    "marketplace-component-usages": lambda w: _usage(w, w.b, w.b1, w.extra),
    "invoices": lambda w: _invoice(w, w.b, w.b1, w.extra),
    "invoice-items": lambda w: _invoice_item(w, w.b, w.b1, w.extra),
    "marketplace-component-user-usages": lambda w: _user_usage(w, w.b, w.b1, w.extra),
    "component-user-usage-limits": lambda w: _user_limit(w, w.b, w.b1, w.extra),
    "marketplace-site-agent-identities": lambda w: _agent(
        w, w.b, w.extra, "marketplace-site-agent-identities"
    ),
    "marketplace-site-agent-services": lambda w: _agent(w, w.b, w.extra, "marketplace-site-agent-services"),
    "marketplace-site-agent-processors": lambda w: _agent(
        w, w.b, w.extra, "marketplace-site-agent-processors"
    ),
    "keys": lambda w: _ssh_key(w, w.b_user, w.extra),
    "marketplace-service-providers": lambda w: _provider(w, w.b, w.extra),
    "marketplace-offering-users": lambda w: _offering_user(w, w.b, w.b1, w.extra),
    "marketplace-robot-accounts": lambda w: _robot_account(w, w.b, w.b1, w.extra),
    "support-issues": lambda w: _issue(w, w.b_user, w.b1, w.extra),
    "support-comments": lambda w: _issue_comment(w, w.b_user, w.b1, w.extra),
    "support-attachments": lambda w: _issue_attachment(w, w.b_user, w.b1, w.extra),
    "support-users": lambda w: _desk_account(w, w.b_user, w.b1, w.extra),
    "support-feedbacks": lambda w: _issue_feedback(w, w.b_user, w.b1, w.extra),
    "support-priorities": lambda w: _priority(),
    "support-templates": lambda w: _support_template(w),
    "marketplace-customer-usage": lambda w: w.b["uuid"],  # a customer's usage: keyed by the customer
    "marketplace-project-usage": lambda w: w.b1["uuid"],  # a project's usage: keyed by the project
}
OWN: dict[str, Callable[[World], str]] = {
    "customers": lambda w: w.a["uuid"],
    "financial-reports": lambda w: w.a["uuid"],
    "projects": lambda w: w.a1["uuid"],
    "users": lambda w: w.a_owner.id,
    "user-permissions": lambda w: w.a_grants[0],
    "roles": lambda w: PROBED_ROLE.id,
    "user-invitations": lambda w: _invitation(w, w.a, w.own_extra),
    "events": lambda w: _first_event(w.a["uuid"]),
    "hooks-web": lambda w: _hook(w, w.a_owner, "hooks-web", w.own_extra),
    "hooks-email": lambda w: _hook(w, w.a_owner, "hooks-email", w.own_extra),
    "marketplace-categories": lambda w: _category(w),
    "marketplace-provider-offerings": lambda w: _offering(w, w.a, w.own_extra),
    "offerings": lambda w: _offering(w, w.a, w.own_extra),
    "marketplace-plans": lambda w: _plan(w, w.a, w.own_extra),
    "marketplace-orders": lambda w: _order(w, w.a, w.a1, w.own_extra),
    "marketplace-resources": lambda w: _resource(w, w.a, w.a1, w.own_extra),
    "marketplace-provider-resources": lambda w: _resource(w, w.a, w.a1, w.own_extra),
    "marketplace-component-usages": lambda w: _usage(w, w.a, w.a1, w.own_extra),
    "invoices": lambda w: _invoice(w, w.a, w.a1, w.own_extra),
    "invoice-items": lambda w: _invoice_item(w, w.a, w.a1, w.own_extra),
    "marketplace-component-user-usages": lambda w: _user_usage(w, w.a, w.a1, w.own_extra),
    "component-user-usage-limits": lambda w: _user_limit(w, w.a, w.a1, w.own_extra),
    "marketplace-site-agent-identities": lambda w: _agent(
        w, w.a, w.own_extra, "marketplace-site-agent-identities"
    ),
    "marketplace-site-agent-services": lambda w: _agent(
        w, w.a, w.own_extra, "marketplace-site-agent-services"
    ),
    "marketplace-site-agent-processors": lambda w: _agent(
        w, w.a, w.own_extra, "marketplace-site-agent-processors"
    ),
    "keys": lambda w: _ssh_key(w, w.a_owner, w.own_extra),
    "marketplace-service-providers": lambda w: _provider(w, w.a, w.own_extra),
    "marketplace-offering-users": lambda w: _offering_user(w, w.a, w.a1, w.own_extra),
    "marketplace-robot-accounts": lambda w: _robot_account(w, w.a, w.a1, w.own_extra),
    "support-issues": lambda w: _issue(w, w.a_owner, w.a1, w.own_extra),
    "support-comments": lambda w: _issue_comment(w, w.a_owner, w.a1, w.own_extra),
    "support-attachments": lambda w: _issue_attachment(w, w.a_owner, w.a1, w.own_extra),
    "support-priorities": lambda w: _priority(),
    "support-templates": lambda w: _support_template(w),
    "marketplace-customer-usage": lambda w: w.a["uuid"],
    "marketplace-project-usage": lambda w: w.a1["uuid"],
}
# Object reads that answer 200 only with a parameter Waldur requires (else a 400 after the scope's
# 404): the control sends it (the route's last segment → the query string).
CONTROL_QUERY: dict[str, Callable[[World], str]] = {
    "components-usage-timeseries": lambda w: f"?offering_uuid={_offering(w, w.a, w.own_extra)}",
    "components-usage-by-project": lambda w: f"?offering_uuid={_offering(w, w.a, w.own_extra)}",
}

# Object reads whose control reaches the route but answers other than 200 by design: (status, why).
CONTROL_STATUS: dict[tuple[str, str], tuple[int, str]] = {
    ("GET", "/api/marketplace-provider-offerings/{uuid}/importable_resources"): (
        403,
        "A's offering is shared (and not a cloud type): Waldur limits import from a shared offering to "
        "staff, checked after the offering is found; tests/integration/test_provider_imports_api.py",
    ),
}


def _ssh_key(w: World, owner: Account, made: dict[str, str]) -> str:
    """An SSH key of `owner` (b_user for B, a_owner for A), added by them once."""
    from tests.unit.test_ssh_key_rules import ED25519

    if "keys" not in made:
        reply = call(w.client, "POST", "/api/keys/", owner, {"name": "probe key", "public_key": ED25519})
        assert reply.status == 201, f"the isolation matrix could not make an SSH key: {reply.json}"
        made["keys"] = reply.json["uuid"]
    return made["keys"]


def _category(w: World) -> str:
    """A catalog category made by staff once, shared by both tenants' offerings (global data: kept
    out of `extra`, so its uuid is not taken for tenant B's)."""
    key = "marketplace-categories"
    if key not in w.own_extra:
        reply = call(w.client, "POST", f"/api/{key}/", w.staff, {"title": "Isolation category"})
        assert reply.status == 201, reply.json
        w.own_extra[key] = reply.json["uuid"]
    return w.own_extra[key]


def _priority() -> str:
    """A default support priority (global, written on first read: its uuid is fixed)."""
    from chalicelib.domain.support_catalog import default_priority_id

    return default_priority_id("Medium")


def _support_template(w: World) -> str:
    """An issue template made by staff once (global data, like a category: kept out of `extra`)."""
    key = "support-templates"
    if key not in w.own_extra:
        body = {"name": "Isolation template", "description": "A template both tenants read."}
        reply = call(w.client, "POST", f"/api/{key}/", w.staff, body)
        assert reply.status == 201, reply.json
        w.own_extra[key] = reply.json["uuid"]
    return w.own_extra[key]


def _offering(w: World, customer: dict[str, Any], made: dict[str, str]) -> str:
    """An Active shared offering of `customer` with one plan, made by staff once; its plan is
    `made["marketplace-plans"]`."""
    key = "marketplace-provider-offerings"
    if key not in made:
        body = {
            "name": f"Offering of {customer['name']}",
            "category": f"http://localhost/api/marketplace-categories/{_category(w)}/",
            "customer": customer["url"],
            "type": "Marketplace.Basic",
            "components": [{"type": "cores", "name": "Cores", "billing_type": "limit"}],
            "plans": [{"name": "Monthly", "unit": "month", "unit_price": "1"}],
        }
        reply = call(w.client, "POST", f"/api/{key}/", w.staff, body)
        assert reply.status == 201, f"the isolation matrix could not make an offering: {reply.json}"
        made[key] = reply.json["uuid"]
        made["marketplace-plans"] = reply.json["plans"][0]["uuid"]
        activated = call(w.client, "POST", f"/api/{key}/{made[key]}/activate/", w.staff)
        assert activated.status == 200, activated.json
    return made[key]


def _plan(w: World, customer: dict[str, Any], made: dict[str, str]) -> str:
    _offering(w, customer, made)
    return made["marketplace-plans"]


def _order(w: World, customer: dict[str, Any], project: dict[str, Any], made: dict[str, str]) -> str:
    """An order of `project` for its own customer's offering, placed by staff once (it waits for the
    provider's approval); its resource is `made["marketplace-resources"]`."""
    key = "marketplace-orders"
    if key not in made:
        offering = _offering(w, customer, made)
        body = {
            "project": project["url"],
            "offering": f"http://localhost/api/marketplace-public-offerings/{offering}/",
            "plan": f"http://localhost/api/marketplace-public-offerings/{offering}/plans/{made['marketplace-plans']}/",
            "attributes": {"name": f"Resource of {project['name']}"},
        }
        reply = call(w.client, "POST", f"/api/{key}/", w.staff, body)
        assert reply.status == 201, f"the isolation matrix could not place an order: {reply.json}"
        made[key] = reply.json["uuid"]
        made["marketplace-resources"] = reply.json["marketplace_resource_uuid"]
    return made[key]


def _resource(w: World, customer: dict[str, Any], project: dict[str, Any], made: dict[str, str]) -> str:
    _order(w, customer, project, made)
    return made["marketplace-resources"]


def _made_ok(
    w: World,
    customer: dict[str, Any],
    project: dict[str, Any],
    made: dict[str, str],
    name: str,
    limits: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Another resource of `project` from the customer's offering, ordered by staff and made OK."""
    offering = _offering(w, customer, made)
    body = {
        "project": project["url"],
        "offering": f"http://localhost/api/marketplace-public-offerings/{offering}/",
        "plan": f"http://localhost/api/marketplace-public-offerings/{offering}/plans/{made['marketplace-plans']}/",
        "attributes": {"name": name},
        **({"limits": limits} if limits else {}),
    }
    order = _ok(call(w.client, "POST", "/api/marketplace-orders/", w.staff, body))
    for action in ("approve_by_provider", "set_state_done"):
        path = f"/api/marketplace-orders/{order['uuid']}/{action}/"
        assert call(w.client, "POST", path, w.staff).status == 200, action
    return order


def _usage(w: World, customer: dict[str, Any], project: dict[str, Any], made: dict[str, str]) -> str:
    """A usage of the offering's `cores` (limit-based) component, reported by staff once for a
    second resource of `project`, made OK for it (the probed order and resource stay pending)."""
    key = "marketplace-component-usages"
    if key not in made:
        order = _made_ok(w, customer, project, made, f"Measured resource of {project['name']}")
        usage = {"resource": order["marketplace_resource_uuid"], "usages": [{"type": "cores", "amount": 2}]}
        reply = call(w.client, "POST", f"/api/{key}/set_usage/", w.staff, usage)
        assert reply.status == 201, f"the isolation matrix could not report a usage: {reply.json}"
        listed = _ok(call(w.client, "GET", f"/api/{key}/?resource_uuid={usage['resource']}", w.staff), 200)
        made[key] = listed[0]["uuid"]
    return made[key]


def _invoice(w: World, customer: dict[str, Any], project: dict[str, Any], made: dict[str, str]) -> str:
    """The customer's invoice of the month, with the item of a resource ordered with a `cores` limit
    and made OK by staff once; the item is `made["invoice-items"]`."""
    key = "invoices"
    if key not in made:
        _made_ok(w, customer, project, made, f"Billed resource of {project['name']}", {"cores": 2})
        query = f"?customer_uuid={customer['uuid']}"
        [invoice] = _ok(call(w.client, "GET", f"/api/invoices/{query}", w.staff), 200)
        [item] = _ok(call(w.client, "GET", f"/api/invoice-items/{query}", w.staff), 200)
        made[key], made["invoice-items"] = invoice["uuid"], item["uuid"]
    return made[key]


def _invoice_item(w: World, customer: dict[str, Any], project: dict[str, Any], made: dict[str, str]) -> str:
    _invoice(w, customer, project, made)
    return made["invoice-items"]


def _user_usage(w: World, customer: dict[str, Any], project: dict[str, Any], made: dict[str, str]) -> str:
    """A user's share of the measured resource's usage, reported by staff once."""
    key = "marketplace-component-user-usages"
    if key not in made:
        usage = _usage(w, customer, project, made)
        path = f"/api/marketplace-component-usages/{usage}/set_user_usage/"
        reply = call(w.client, "POST", path, w.staff, {"username": f"user of {project['name']}", "usage": 1})
        assert reply.status == 201, f"the isolation matrix could not report a share: {reply.json}"
        query = f"?customer_uuid={customer['uuid']}"
        [share] = _ok(call(w.client, "GET", f"/api/{key}/{query}", w.staff), 200)
        made[key] = share["uuid"]
    return made[key]


def _user_limit(w: World, customer: dict[str, Any], project: dict[str, Any], made: dict[str, str]) -> str:
    """A per-user limit on the measured resource's `cores` component, set by staff once."""
    key = "component-user-usage-limits"
    if key not in made:
        usage_path = f"/api/marketplace-component-usages/{_usage(w, customer, project, made)}/"
        usage = _ok(call(w.client, "GET", usage_path, w.staff), 200)
        offering_path = f"/api/marketplace-provider-offerings/{usage['offering_uuid']}/"
        offering = _ok(call(w.client, "GET", offering_path, w.staff), 200)
        account = _offering_user(w, customer, project, made)  # limits name an account of the offering
        body = {
            "resource": f"http://localhost/api/marketplace-resources/{usage['resource_uuid']}/",
            "component": offering["components"][0]["uuid"],
            "user": f"http://localhost/api/marketplace-offering-users/{account}/",
            "limit": 10,
        }
        made[key] = _ok(call(w.client, "POST", f"/api/{key}/", w.staff, body))["uuid"]
    return made[key]


def _agent(w: World, customer: dict[str, Any], made: dict[str, str], key: str) -> str:
    """A site agent identity of the customer's offering with a service and a processor, registered
    by staff once; each is `made[<its collection>]`."""
    identities = "marketplace-site-agent-identities"
    if identities not in made:
        offering = _offering(w, customer, made)
        body = {"offering": offering, "name": f"agent-{offering}", "version": "1.0.7"}
        made[identities] = _ok(call(w.client, "POST", f"/api/{identities}/", w.staff, body))["uuid"]
        path = f"/api/{identities}/{made[identities]}/register_service/"
        service = _ok(call(w.client, "POST", path, w.staff, {"name": "order_process"}))
        made["marketplace-site-agent-services"] = service["uuid"]
        path = f"/api/marketplace-site-agent-services/{service['uuid']}/register_processor/"
        processor = _ok(call(w.client, "POST", path, w.staff, {"name": "Processor", "backend_type": "mock"}))
        made["marketplace-site-agent-processors"] = processor["uuid"]
    return made[key]


def _provider(w: World, customer: dict[str, Any], made: dict[str, str]) -> str:
    """The customer's service provider record (its first offering registered it)."""
    key = "marketplace-service-providers"
    if key not in made:
        _offering(w, customer, made)
        query = f"?customer_uuid={customer['uuid']}"
        [provider] = _ok(call(w.client, "GET", f"/api/{key}/{query}", w.staff), 200)
        made[key] = provider["uuid"]
    return made[key]


def _offering_user(w: World, customer: dict[str, Any], project: dict[str, Any], made: dict[str, str]) -> str:
    """The account in the customer's offering of the project's member (b_user, or a_owner), opened
    when a resource of the offering was made OK in their project."""
    key = "marketplace-offering-users"
    if key not in made:
        _made_ok(w, customer, project, made, f"Resource with accounts of {project['name']}")
        query = f"?offering_uuid={_offering(w, customer, made)}"
        [account] = _ok(call(w.client, "GET", f"/api/{key}/{query}", w.staff), 200)
        made[key] = account["uuid"]
    return made[key]


def _robot_account(w: World, customer: dict[str, Any], project: dict[str, Any], made: dict[str, str]) -> str:
    """A robot account on the measured resource of `project` (the one `_usage` made OK), set up by
    staff once."""
    key = "marketplace-robot-accounts"
    if key not in made:
        usage_path = f"/api/marketplace-component-usages/{_usage(w, customer, project, made)}/"
        usage = _ok(call(w.client, "GET", usage_path, w.staff), 200)
        body = {
            "resource": f"http://localhost/api/marketplace-resources/{usage['resource_uuid']}/",
            "type": "cicd",
        }
        made[key] = _ok(call(w.client, "POST", f"/api/{key}/", w.staff, body))["uuid"]
    return made[key]


def _issue(w: World, author: Account, project: dict[str, Any], made: dict[str, str]) -> str:
    """A support issue its tenant's user opened about their project (they hold a role there)."""
    key = "support-issues"
    if key not in made:
        body = {"type": "Incident", "summary": f"Issue of {project['name']}", "project": project["url"]}
        made[key] = _ok(call(w.client, "POST", f"/api/{key}/", author, body))["uuid"]
    return made[key]


def _issue_comment(w: World, author: Account, project: dict[str, Any], made: dict[str, str]) -> str:
    """A public comment of the same user on that issue."""
    key = "support-comments"
    if key not in made:
        issue = _issue(w, author, project, made)
        body = {"description": "Any news?"}
        made[key] = _ok(call(w.client, "POST", f"/api/support-issues/{issue}/comment/", author, body))["uuid"]
    return made[key]


def _issue_attachment(w: World, author: Account, project: dict[str, Any], made: dict[str, str]) -> str:
    """A file the same user (the issue's caller) attached to that issue."""
    key = "support-attachments"
    if key not in made:
        issue = _issue(w, author, project, made)
        body = (
            '--b\r\nContent-Disposition: form-data; name="issue"\r\n\r\n'
            f"http://localhost/api/support-issues/{issue}/\r\n"
            '--b\r\nContent-Disposition: form-data; name="file"; filename="log.txt"\r\n'
            "Content-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"
        )
        headers = {"Content-Type": "multipart/form-data; boundary=b"}
        reply = call(w.client, "POST", f"/api/{key}/", author, headers=headers, raw_body=body.encode())
        made[key] = _ok(reply)["uuid"]
    return made[key]


def _issue_feedback(w: World, author: Account, project: dict[str, Any], made: dict[str, str]) -> str:
    """The caller's rating of that issue, resolved by staff, given with the mail's token (no sign-in)."""
    from chalicelib.services import support_feedbacks
    from chalicelib.services.ports import support as issues

    key = "support-feedbacks"
    if key not in made:
        issue = _issue(w, author, project, made)
        body = {"status": "Resolved"}
        _ok(call(w.client, "POST", f"/api/support-issues/{issue}/set_status/", w.staff, body), 200)
        found = issues.get_issue(issue)
        assert found is not None
        token = support_feedbacks.request_token(found)
        rated = call(w.client, "POST", f"/api/{key}/", None, {"token": token, "evaluation": 9})
        made[key] = _ok(rated)["uuid"]
    return made[key]


def _desk_account(w: World, author: Account, project: dict[str, Any], made: dict[str, str]) -> str:
    """The support user the desk made for the issue's reporter."""
    issue = _issue(w, author, project, made)
    return str(_ok(call(w.client, "GET", f"/api/support-issues/{issue}/", w.staff), 200)["reporter_uuid"])


def _first_event(customer_id: str) -> str:
    """The oldest event in a customer's feed (its creation)."""
    from tests.helpers import feed

    return str(feed("customer", customer_id)[0].id)


def collection_of(path: str) -> str:
    parts = path.strip("/").split("/")
    return parts[1] if parts[0] == "api" and len(parts) > 1 else parts[0]


def placeholders(path: str) -> list[str]:
    return re.findall(r"{([^}]+)}", path)


def _key(ep: Endpoint) -> tuple[str, str]:
    return (ep.method, ep.path)


# --- the matrix, from the registry -----------------------------------------------------------------
CHECKED = [ep for ep in ENDPOINTS if not ep.anonymous and _key(ep) not in EXCLUDED]
OBJECT_CASES = [ep for ep in CHECKED if placeholders(ep.path)]
LIST_CASES = [ep for ep in CHECKED if not placeholders(ep.path) and ep.method == "GET"]
CREATE_CASES = [ep for ep in CHECKED if not placeholders(ep.path) and ep.method != "GET"]


def _id(ep: Endpoint) -> str:
    return f"{ep.method} {ep.path}"


def _filled(path: str, objects: dict[str, Callable[[World], str]], collection: str, w: World) -> str:
    """The route with one tenant's objects: `{uuid}` from the collection, `{order_uuid}` its order."""
    filled = path.replace("{uuid}", objects[collection](w))
    if "{order_uuid}" in filled:
        filled = filled.replace("{order_uuid}", objects["marketplace-orders"](w))
    return filled


def test_the_matrix_covers_every_endpoint() -> None:
    authenticated = [ep for ep in ENDPOINTS if not ep.anonymous]
    assert len(OBJECT_CASES) + len(LIST_CASES) + len(CREATE_CASES) + len(EXCLUDED) == len(authenticated)
    assert {_key(ep) for ep in OBJECT_CASES + LIST_CASES + CREATE_CASES} | set(EXCLUDED) == {
        _key(ep) for ep in authenticated
    }
    assert set(EXCLUDED) <= {_key(ep) for ep in authenticated}, "EXCLUDED names a route that is gone"
    # Object routes are probed by substituting `{uuid}`; any other placeholder needs teaching.
    # `{order_uuid}` (an offering's order) is the order of the same tenant's offering.
    assert {p for ep in OBJECT_CASES for p in placeholders(ep.path)} == {"uuid", "order_uuid"}
    missing = sorted({collection_of(ep.path) for ep in OBJECT_CASES} - set(TARGETS))
    assert not missing, f"no object of tenant B for {missing}: add one to TARGETS in {__file__}"
    # The registry as of this writing (customers, projects, users, roles, teams, user-permissions),
    # so that a registry emptied by a broken import is noticed too.
    assert len(OBJECT_CASES) >= 29 and len(LIST_CASES) >= 6 and len(CREATE_CASES) >= 4


# --- bodies ------------------------------------------------------------------------------------------
def _plausible(name: str, annotation: Any, ep: Endpoint, w: World) -> Any:
    collection = collection_of(ep.path)
    on_existing_grant = ep.name.endswith(("update_user", "delete_user"))
    values: dict[str, Callable[[], Any]] = {
        # add_user: a_owner grants themselves a role in B; update/delete: b_user's role in B.
        "user": lambda: w.b_user.id if on_existing_grant else w.a_owner.id,
        # The uuid, as Waldur's clients send it; a customer role unless the scope is a project.
        "role": lambda: SCOPE_ROLE["projects" if collection == "projects" else "customers"].id,
        "expiration_time": lambda: (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "customer": lambda: w.b["url"],
        "project": lambda: w.b1["url"],
        "scope": lambda: w.b["url"],
        "name": lambda: "Isolation probe",
        "description": lambda: "written from another tenant",
        "username": lambda: "isolation-probe",
        "full_name": lambda: "Isolation Probe",
        "email": lambda: "probe@a.example",
        "password": lambda: "isolation-probe-pw-1",
        "permissions": lambda: ["PROJECT.UPDATE"],
        "content_type": lambda: "project",
        "destination_url": lambda: "https://probe.a.example/hook",
        "category": lambda: f"http://localhost/api/marketplace-categories/{_category(w)}/",
        "offering": lambda: (
            f"http://localhost/api/marketplace-provider-offerings/{_offering(w, w.b, w.extra)}/"
        ),
        "billing_type": lambda: "usage",
        "type": lambda: "Incident" if collection == "support-issues" else "probe",
        "status": lambda: "Resolved" if collection == "support-issues" else "probe",
        # set_usage: B's resource, with a usage of its offering's component.
        "resource": lambda: _resource(w, w.b, w.b1, w.extra),
        "usages": lambda: (
            [{"username": "isolation-probe", "usage": "1"}]
            if ep.name.endswith("set_user_usages")
            else [{"type": "cores", "amount": "1"}]
        ),
        "payment_url": lambda: "https://probe.a.example/pay",  # a valid URL: refused for the invoice
        "quotas": lambda: {"nc_resource_count": 1},  # set_quotas: a quota of customers and projects
        "report": lambda: [{"header": "probe", "body": "written from another tenant"}],
    }
    if name in values:
        return values[name]()
    fallback: dict[Any, Any] = {str: "probe", bool: False, int: 1, list: [], dict: {}}
    origin = typing.get_origin(annotation) or annotation
    if origin in fallback:
        return fallback[origin]
    pytest.fail(f"{_id(ep)}: no plausible value for required body field {name!r}: add one to _plausible")


def body_for(ep: Endpoint, w: World) -> dict[str, Any] | None:
    """Every required field, and every optional one with a known plausible value (so a PATCH that
    slipped through would change something)."""
    if ep.body is None:
        return None
    body = {}
    for name, info in ep.body.model_fields.items():
        required = info.is_required()
        optional = ("user", "role", "expiration_time", "customer", "name", "description", "resource")
        if required or name in optional:
            body[name] = _plausible(name, info.annotation, ep, w)
    return body


# --- B's state -------------------------------------------------------------------------------------
def b_state(w: World) -> dict[str, Any]:
    """Staff's view of B: its customer (counts of projects and users), its project, its member
    (with every role they hold), its people (every grant in B and B1, a_owner's included if they
    got one), the probed role, B's objects made on demand; and the audit feeds of B and of the
    global tenant (every change writes its event in the same transaction)."""
    from tests.helpers import all_events, feed

    b, b1 = w.b["uuid"], w.b1["uuid"]
    paths = [
        f"/api/customers/{b}/",
        f"/api/customers/{b}/users/",
        f"/api/projects/{b1}/",
        f"/api/users/{w.b_user.id}/",
        f"/api/roles/{PROBED_ROLE.id}/",
        *(f"/api/{collection}/{uuid}/" for collection, uuid in w.extra.items()),
    ]
    state: dict[str, Any] = {}
    for path in paths:
        reply = call(w.client, "GET", path, w.staff)
        body = reply.json
        if isinstance(body, dict) and "X-Amz-Signature=" in str(body.get("file", "")):
            # An attachment's download URL is signed anew on every read: the object it names stays.
            body = {**body, "file": str(body["file"]).split("?", 1)[0]}
        state[path] = (reply.status, body)
    state["feed of B"] = [(e.id, e.event_type) for e in feed("customer", b)]
    state["global events"] = [(e.id, e.event_type) for e in all_events() if e.customer_id is None]
    return state


def _leaks(w: World, reply: Reply, sent: Any = None) -> list[str]:
    """B's uuids and names in the answer, other than those the caller sent (an error may quote them)."""
    text = reply.raw.decode() if reply.raw else ""
    quoted = json.dumps(sent) if sent is not None else ""
    return [token for token in w.b_tokens() if token in text and token not in quoted]


# --- the probes ------------------------------------------------------------------------------------
def expected_status(ep: Endpoint) -> tuple[int, str]:
    collection = collection_of(ep.path)
    if _key(ep) in BY_DESIGN:
        return BY_DESIGN[_key(ep)]
    if _key(ep) in STAFF_ONLY:
        return STAFF_ONLY[_key(ep)]
    if collection in PUBLIC:
        read, write, reason = PUBLIC[collection]
        return (read if ep.method == "GET" else write), reason
    return 404, "another tenant's object is hidden, as in Waldur"


@pytest.mark.parametrize("ep", OBJECT_CASES, ids=_id)
def test_another_tenants_object_is_out_of_reach(world: World, ep: Endpoint) -> None:
    collection = collection_of(ep.path)
    if collection not in TARGETS:
        pytest.fail(
            f"{_id(ep)}: the isolation matrix knows no object of tenant B in {collection!r}: "
            f"add one to TARGETS in {__file__}"
        )
    path = _filled(ep.path, TARGETS, collection, world) + "/"
    expected, reason = expected_status(ep)
    body = body_for(ep, world)
    before = world.pristine

    reply = call(world.client, ep.method, path, world.a_owner, body)
    head = call(world.client, "HEAD", path, world.a_owner).status if ep.method == "GET" else expected
    after = b_state(world)
    world.dirty = after != before or _key(ep) in BY_DESIGN

    assert reply.status == expected, (
        f"{ep.method} {path} as a_owner -> {reply.status} {reply.json} ({reason})"
    )
    assert head == expected
    if expected == 404:
        assert not _leaks(world, reply, body)
    if _key(ep) not in BY_DESIGN:
        assert after == before, f"{ep.method} {path} as a_owner changed tenant B"


# Collections whose objects no tenant user reads, their own included: the control has nothing to read.
NO_OWN_READ = {
    "support-users": "only staff and support read the desk's accounts (403 to anybody else, PUBLIC)",
    "support-feedbacks": "only staff and support read feedbacks (403 to anybody else, PUBLIC)",
}


@pytest.mark.parametrize(
    "ep",
    [ep for ep in OBJECT_CASES if ep.method == "GET" and collection_of(ep.path) not in NO_OWN_READ],
    ids=_id,
)
def test_the_same_read_reaches_the_callers_own_tenant(world: World, ep: Endpoint) -> None:
    """The control: each 404 above is B being hidden, not a route the probe got wrong."""
    collection = collection_of(ep.path)
    assert collection in OWN, f"no object of tenant A known in {collection!r}: add one to OWN"
    path = _filled(ep.path, OWN, collection, world) + "/"
    query = CONTROL_QUERY.get(ep.path.rstrip("/").rsplit("/", 1)[-1])
    reply = call(world.client, "GET", path + (query(world) if query else ""), world.a_owner)
    assert reply.status == CONTROL_STATUS.get(_key(ep), (200, ""))[0], reply.json


def _probes(ep: Endpoint, w: World) -> list[str]:
    """The query strings to try: plain, and each filter of the endpoint that can name B."""
    fields = ep.query.model_fields if ep.query else {}
    base = {"page_size": "300"} if "page_size" in fields else {}
    naming_b = {
        "customer": [w.b["uuid"], w.b["url"]],
        "customer_uuid": [w.b["uuid"]],
        "project": [w.b1["uuid"], w.b1["url"]],
        "project_uuid": [w.b1["uuid"]],
        "user": [w.b_user.id],
        "user_uuid": [w.b_user.id],
        "scope_uuid": [w.b["uuid"], w.b1["uuid"]],
        "scope": [w.b["url"], w.b1["url"]],
        "scope_name": [B_NAME, B1_NAME],
        "name": [B_NAME],
        "name_exact": [B_NAME],
        "query": ["Tenant B"],
        "username": [B_USER_NAME],
        "author_uuid": [w.b_user.id],
        "author_username": [B_USER_NAME],
        "provider_uuid": [w.b["uuid"], w.extra.get("marketplace-service-providers", "")],
        "offering_uuid": [w.extra.get("marketplace-provider-offerings", "")],
        "resource_uuid": [w.extra.get("marketplace-resources", "")],
    }
    queries = [urlencode(base)]
    for name in fields:
        for value in naming_b.get(name, []):
            queries.append(urlencode({**base, name: value}))
    return queries


@pytest.mark.parametrize("ep", LIST_CASES, ids=_id)
def test_lists_show_nothing_of_another_tenant(world: World, ep: Endpoint) -> None:
    refused = STAFF_ONLY.get(_key(ep))
    for query in _probes(ep, world):
        path = ep.path + "/" + (f"?{query}" if query else "")
        reply = call(world.client, "GET", path, world.a_owner)
        if refused:
            allowed: tuple[int, ...] = (refused[0],)
        elif _key(ep) in OWN_SCOPE_ONLY:
            allowed = (200, 400, 403)
        else:
            allowed = (200, 400)
        assert reply.status in allowed, f"GET {path} -> {reply.status} {reply.json}"
        assert not _leaks(world, reply), f"GET {path} as a_owner shows tenant B: {reply.json}"


@pytest.mark.parametrize("ep", [ep for ep in LIST_CASES if _key(ep) in OWN_SCOPE_ONLY], ids=_id)
def test_a_list_about_one_customer_answers_its_own_roles_and_refuses_another_tenant(
    world: World, ep: Endpoint
) -> None:
    for name in ("customer_uuid", "provider_uuid"):
        own = call(world.client, "GET", f"{ep.path}/?{name}={world.a['uuid']}", world.a_owner)
        assert own.status == 200, own.json  # the control
        for other in (world.b["uuid"], "0" * 32):
            reply = call(world.client, "GET", f"{ep.path}/?{name}={other}", world.a_owner)
            assert reply.status == 403, f"GET {ep.path}/?{name}={other} -> {reply.status} {reply.json}"


@pytest.mark.parametrize("ep", CREATE_CASES, ids=_id)
def test_creating_in_another_tenant_is_refused(world: World, ep: Endpoint) -> None:
    body = body_for(ep, world)
    before = world.pristine
    reply = call(world.client, ep.method, ep.path + "/", world.a_owner, body)
    after = b_state(world)
    world.dirty = after != before
    # 400: a reference to B is an object that does not exist for a_owner; 403: staff only.
    assert reply.status in (400, 403), f"{_id(ep)} {body} as a_owner -> {reply.status} {reply.json}"
    assert not _leaks(world, reply, body)
    assert after == before, f"{_id(ep)} as a_owner changed tenant B"


def test_the_world_is_as_the_matrix_assumes(world: World) -> None:
    """a_owner reaches A and only A; staff reach B (so B's 404s are isolation, not absence)."""
    names = [c["name"] for c in _ok(call(world.client, "GET", "/api/customers/", world.a_owner), 200)]
    assert names == ["Tenant A Corporation"]
    roles = _ok(call(world.client, "GET", "/api/user-permissions/", world.a_owner), 200)
    assert sorted(r["role_name"] for r in roles) == ["CUSTOMER.OWNER", "PROJECT.MANAGER"]
    assert {r["customer_uuid"] for r in roles} == {world.a["uuid"]}
    b_roles = _ok(
        call(world.client, "GET", f"/api/user-permissions/?user={world.b_user.id}", world.staff), 200
    )
    assert {r["customer_uuid"] for r in b_roles} == {world.b["uuid"]} and len(b_roles) == 2
    assert call(world.client, "GET", f"/api/projects/{world.b1['uuid']}/", world.staff).status == 200
