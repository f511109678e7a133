"""Offering users on the DynamoDB store (moto): what opening an account on a grant costs in round
trips, whatever the provider already holds; that a second run writes nothing; and that a
resource's team shows each member's account (what the site agent keeps on the backend)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import make_account
from tests.marketplace_helpers import Market, build_market, ctx_of, order_request


@pytest.fixture
def aws(stack: Any) -> Iterator[None]:
    """Orders start their workflow (recorded by moto, not run)."""
    yield


@pytest.fixture
def market(aws: None) -> Market:
    return build_market(make_account("staff", is_staff=True))


@pytest.fixture
def dynamodb_calls() -> Iterator[list[str]]:
    from chalicelib.store.table import connection

    calls: list[str] = []

    def count(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = connection().client.meta.events
    events.register("before-call.dynamodb", count)
    yield calls
    events.unregister("before-call.dynamodb", count)


def _done(market: Market) -> Any:
    from chalicelib.services import orders

    order = orders.create_order(ctx_of(market.staff), order_request(market))
    orders.approve_by_provider(ctx_of(market.seller), order.id)
    orders.set_state_done(ctx_of(market.seller), order.id)
    return order


def _grant_of(market: Market, user_id: str) -> Any:
    from chalicelib.domain.roles import ScopeType
    from chalicelib.store import grants

    found = grants.for_scope(market.consumer.id, ScopeType.PROJECT, market.project.id)
    return next(g for g in found if g.user_id == user_id)


def test_opening_an_account_on_a_grant_costs_a_few_round_trips_whatever_the_provider_holds(
    market: Market, dynamodb_calls: list[str]
) -> None:
    from chalicelib.services import memberships, offering_users, projects
    from chalicelib.store import offering_users as store

    _done(market)
    # the provider already holds accounts of many users
    for i in range(6):
        extra = make_account(f"extra{i}")
        memberships.add_user(
            ctx_of(market.staff), projects.scope(market.project), extra.id, "PROJECT.MEMBER", None
        )
    newcomer = make_account("newcomer")
    memberships.add_user(
        ctx_of(market.staff), projects.scope(market.project), newcomer.id, "PROJECT.ADMIN", None
    )
    assert len(store.of_provider(market.provider.id)) == 8
    grant = _grant_of(market, newcomer.id)
    store_account = store.load(market.provider.id, market.offering.id, newcomer.id)
    assert store_account is not None

    # WHEN the grant's follower runs again (a retry, a second role): it finds the account
    staff = ctx_of(market.staff)
    dynamodb_calls.clear()
    assert offering_users.provision_for_grant(staff, grant) == 0

    # THEN it read the project's resources, the offering, the user and the account, and wrote nothing
    assert "TransactWriteItems" not in dynamodb_calls
    assert len(dynamodb_calls) <= 4, dynamodb_calls

    # AND a first run costs those reads, the account's own read and one transaction
    store_removed = store.load(market.provider.id, market.offering.id, newcomer.id)
    offering_users.delete(ctx_of(market.seller), store_removed.id)  # type: ignore[union-attr]
    dynamodb_calls.clear()
    assert offering_users.provision_for_grant(staff, grant) == 1
    assert dynamodb_calls.count("TransactWriteItems") == 1
    assert len(dynamodb_calls) <= 7, dynamodb_calls


def test_the_team_names_each_members_account(market: Market) -> None:
    from chalicelib.services import offering_users, resources
    from chalicelib.services.paging import Ordering, PageRequest

    order = _done(market)
    seller = ctx_of(market.seller)
    account = offering_users.list_offering_users(
        seller.actor,
        offering_users.Filters(offering_ids=(market.offering.id,)),
        Ordering(None),
        PageRequest(1, 10),
    ).items[0]
    offering_users.set_username(seller, account.account.id, "m_01")
    team = resources.team_accounts(seller.actor, order.resource_id, provider_view=True)
    assert [(m.user.username, a.username if a else None) for m, a in team] == [("member", "m_01")]
