"""A small marketplace for order and resource tests: a provider customer with an active offering,
a consumer customer with a project, and their people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import Account, make_account

BASIC = "Marketplace.Basic"
DEMO = "Cirrus.Demo"
SLURM = "Marketplace.Slurm"

CPU = {"type": "cpu", "name": "CPU", "measured_unit": "cores", "billing_type": "limit"}
PLAN = {"name": "Standard", "unit": "month", "unit_price": "10", "prices": {"cpu": "2"}}


def ctx_of(account: Account) -> Any:
    from chalicelib.domain.context import EventContext
    from chalicelib.services.ports import users

    user = users.get(account.id)
    assert user is not None
    return EventContext(principal=user.principal(), ip_address="10.0.0.9", correlation_id="t-1")


def make_offering(
    staff: Account,
    customer_id: str,
    offering_type: str = BASIC,
    *,
    name: str = "Compute",
    plugin_options: dict[str, Any] | None = None,
    plans: tuple[dict[str, Any], ...] = (PLAN,),
    **fields: Any,
) -> Any:
    """An active offering of `customer_id` with a `cpu` limit component and one plan."""
    from chalicelib.services import offerings

    data = {
        "name": name,
        "type": offering_type,
        "components": [CPU],
        "plans": list(plans),
        "plugin_options": plugin_options or {},
        **fields,
    }
    offering = offerings.create_offering(ctx_of(staff), customer_id, data)
    return offerings.set_state(ctx_of(staff), offering.id, "activate")


@dataclass
class Market:
    staff: Account
    provider: Any  # Customer
    consumer: Any  # Customer
    project: Any  # Project
    offering: Any  # Offering (Marketplace.Basic)
    owner: Account  # CUSTOMER.OWNER of the consumer
    member: Account  # PROJECT.MEMBER of the project (orders need approval)
    seller: Account  # CUSTOMER.OWNER of the provider

    @property
    def plan(self) -> Any:
        return self.offering.plans[0]


def build_market(staff: Account) -> Market:
    """Needs moto (the `aws` or `runtime` fixture)."""
    from chalicelib.services import access, customers, memberships, projects

    access._memo.set(None)
    access._roles_memo.set(None)
    ctx = ctx_of(staff)
    provider = customers.create_customer(ctx, {"name": "Cloud Provider"})
    consumer = customers.create_customer(ctx, {"name": "Acme"})
    project = projects.create_project(ctx, consumer.id, {"name": "Apollo"})
    offering = make_offering(staff, provider.id)
    owner = make_account("owner", full_name="Owner of Acme")
    member = make_account("member", full_name="Member of Apollo")
    seller = make_account("seller", full_name="Seller")
    memberships.add_user(ctx, customers.scope(consumer), owner.id, "CUSTOMER.OWNER", None)
    memberships.add_user(ctx, projects.scope(project), member.id, "PROJECT.MEMBER", None)
    memberships.add_user(ctx, customers.scope(provider), seller.id, "CUSTOMER.OWNER", None)
    return Market(staff, provider, consumer, project, offering, owner, member, seller)


def order_request(market: Market, offering: Any = None, **overrides: Any) -> Any:
    from chalicelib.services.orders import OrderRequest

    offering = offering or market.offering
    values: dict[str, Any] = {
        "project": f"http://testserver/api/projects/{market.project.id}/",
        "offering": f"http://testserver/api/marketplace-public-offerings/{offering.id}/",
        "plan": f"http://testserver/api/marketplace-public-offerings/{offering.id}/plans/{offering.plans[0].id}/"
        if offering.plans
        else None,
        "attributes": {"name": "vm-1"},
        "limits": {"cpu": 2},
        **overrides,
    }
    return OrderRequest(**values)
