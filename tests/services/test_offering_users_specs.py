"""Offering users, specified on the in-memory fakes: made when a user gains access to a resource
of an agent-driven offering (a project role where one lives, a resource made where they hold one),
once per user per offering, named by the offering's username policy, with Waldur's events; the
agent's state actions; who sees and who changes them; the provider's lists and
`set_offerings_username`."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from chalicelib.domain.offering_users import State
from chalicelib.services import ports
from chalicelib.services.paging import Ordering, PageRequest
from tests.conftest import make_account
from tests.fakes import World
from tests.marketplace_helpers import DEMO, Market, build_market, ctx_of, make_offering, order_request

PAGE = PageRequest(page=1, page_size=50)


@pytest.fixture
def market(fakes: World) -> Market:
    return build_market(make_account("staff", is_staff=True))


def _done(market: Market, offering: Any = None) -> Any:
    """A resource of `offering` (the market's) in Apollo, its Create order done by the provider."""
    from chalicelib.services import orders

    order = orders.create_order(ctx_of(market.staff), order_request(market, offering))
    if order.state.value == "pending-provider":
        orders.approve_by_provider(ctx_of(market.seller), order.id)
    orders.set_state_done(ctx_of(market.seller), order.id)
    return order


def _accounts(market: Market, offering: Any = None) -> list[Any]:
    return ports.offering_users.of_provider(market.provider.id, (offering or market.offering).id)


def _grant(market: Market, account: Any, role: str = "PROJECT.ADMIN") -> None:
    from chalicelib.services import memberships, projects

    memberships.add_user(ctx_of(market.staff), projects.scope(market.project), account.id, role, None)


def _list(who: Any, **filters: Any) -> list[Any]:
    from chalicelib.services import offering_users

    page = offering_users.list_offering_users(
        who.principal() if hasattr(who, "principal") else _principal(who),
        offering_users.Filters(**filters),
        Ordering(None),
        PAGE,
    )
    return [v.account for v in page.items]


def _principal(account: Any) -> Any:
    user = ports.users.get(account.id)
    assert user is not None
    return user.principal()


# --- made by access ---------------------------------------------------------------------------------
def test_members_of_a_project_get_an_account_when_its_resource_is_made(fakes: World, market: Market) -> None:
    _done(market)
    (account,) = _accounts(market)
    assert (account.user_id, account.state, account.username) == (market.member.id, State.REQUESTED, "")
    created = [e for e in fakes.events if e.event_type == "marketplace_offering_user_created"]
    assert [(e.context["affected_user_uuid"], e.context["offering_uuid"]) for e in created] == [
        (market.member.id, market.offering.id)
    ]
    assert created[0].customer_id == market.provider.id  # in the provider's log


def test_a_user_granted_a_role_where_a_resource_lives_gets_an_account_once(
    fakes: World, market: Market
) -> None:
    _done(market)
    newcomer = make_account("newcomer", full_name="New Comer")
    _grant(market, newcomer)
    _grant(market, newcomer, "PROJECT.MANAGER")  # a second role: no second account
    users = sorted(a.user_id for a in _accounts(market))
    assert users == sorted([market.member.id, newcomer.id])
    created = [e for e in fakes.events if e.event_type == "marketplace_offering_user_created"]
    assert len(created) == 2


def test_no_account_without_a_live_resource_or_for_a_platform_run_offering(
    fakes: World, market: Market
) -> None:
    from chalicelib.services import orders

    orders.create_order(ctx_of(market.staff), order_request(market))  # still Creating
    _grant(market, make_account("early"))
    assert _accounts(market) == []
    demo = make_offering(
        market.staff, market.provider.id, DEMO, name="Demo", plugin_options={"delay_seconds": 0}
    )
    order = orders.create_order(ctx_of(market.staff), order_request(market, demo))
    orders.complete_processed(ctx_of(market.staff), order.customer_id, order.id)
    assert _accounts(market, demo) == []


@pytest.mark.parametrize(
    ("policy", "options", "expected"),
    [
        ("waldur_username", {}, ["member", "second"]),
        ("anonymized", {"username_anonymized_prefix": "acc_"}, ["acc_000", "acc_001"]),
        ("full_name", {}, ["member_of_apollo_00", "second_person_00"]),
        ("service_provider", {}, ["", ""]),
    ],
)
def test_the_offerings_policy_names_the_accounts(
    fakes: World, market: Market, policy: str, options: dict[str, str], expected: list[str]
) -> None:
    offering = make_offering(
        market.staff,
        market.provider.id,
        name="Named",
        plugin_options={"username_generation_policy": policy, **options},
    )
    _done(market, offering)
    _grant(market, make_account("second", full_name="Second Person"))
    accounts = sorted(_accounts(market, offering), key=lambda a: a.created)
    assert [a.username for a in accounts] == expected
    assert {a.state for a in accounts} == {State.OK if expected[0] else State.REQUESTED}


# --- the agent's actions ------------------------------------------------------------------------------
def test_the_provider_names_an_account_and_it_becomes_ok(fakes: World, market: Market) -> None:
    from chalicelib.services import offering_users

    _done(market)
    (account,) = _accounts(market)
    seller = ctx_of(market.seller)
    offering_users.act(seller, account.id, "begin_creating")
    view = offering_users.set_username(seller, account.id, "m01")
    assert (view.account.state, view.account.username) == (State.OK, "m01")
    with pytest.raises(Conflict):
        offering_users.act(seller, account.id, "begin_creating")
    with pytest.raises(ValidationError):
        offering_users.set_username(seller, account.id, "with space")
    assert ports.offering_users.get(account.id).username == "m01"  # type: ignore[union-attr]


def test_the_user_sees_but_may_not_change_their_account_and_others_see_nothing(
    fakes: World, market: Market
) -> None:
    from chalicelib.services import offering_users

    _done(market)
    (account,) = _accounts(market)
    assert offering_users.retrieve(_principal(market.member), account.id).account.id == account.id
    with pytest.raises(PermissionDenied):
        offering_users.set_username(ctx_of(market.member), account.id, "mine")
    for other in (market.owner, make_account("stranger")):
        with pytest.raises(NotFound):
            offering_users.retrieve(_principal(other), account.id)
        with pytest.raises(NotFound):
            offering_users.act(ctx_of(other), account.id, "set_ok")
        assert _list(other) == []
    assert [a.id for a in _list(market.member)] == [account.id]
    assert [a.id for a in _list(market.seller, offering_ids=(market.offering.id,))] == [account.id]


def test_a_provider_of_another_offering_cannot_reach_these_accounts(fakes: World, market: Market) -> None:
    from chalicelib.services import customers, memberships, offering_users

    _done(market)
    (account,) = _accounts(market)
    rival = customers.create_customer(ctx_of(market.staff), {"name": "Rival Cloud"})
    rival_owner = make_account("rival")
    memberships.add_user(ctx_of(market.staff), customers.scope(rival), rival_owner.id, "CUSTOMER.OWNER", None)
    make_offering(market.staff, rival.id, name="Rival Compute")
    assert _list(rival_owner, offering_ids=(market.offering.id,)) == []
    with pytest.raises(NotFound):
        offering_users.delete(ctx_of(rival_owner), account.id)


def test_the_provider_opens_accounts_for_its_consumers_only(fakes: World, market: Market) -> None:
    """An account shows the provider the user's name, email and phone: a provider may not open one
    for a user who does not consume the offering (staff may)."""
    from chalicelib.services import offering_users

    _done(market)
    stranger = make_account("stranger", full_name="Not A Customer")
    offering = f"http://testserver/api/marketplace-provider-offerings/{market.offering.id}/"
    with pytest.raises(ValidationError) as refused:
        offering_users.create(ctx_of(market.seller), offering, stranger.id, "s1")
    assert refused.value.errors == {"user": [offering_users.INVALID_HYPERLINK]}
    with pytest.raises(ValidationError) as unknown:
        offering_users.create(ctx_of(market.seller), offering, "0" * 32, "s1")
    assert unknown.value.errors == refused.value.errors  # a stranger is told apart from nobody
    assert [a.user_id for a in _accounts(market)] == [market.member.id]

    made = offering_users.create(ctx_of(market.seller), offering, market.owner.id, "owner_1")
    assert made.account.user_id == market.owner.id  # the consumer customer's owner consumes it
    assert offering_users.create(ctx_of(market.staff), offering, stranger.id, "s1").account.username == "s1"


def test_the_provider_sees_what_the_attribute_config_exposes_and_the_user_sees_all(
    fakes: World, market: Market
) -> None:
    from chalicelib.services import offering_users

    _done(market)
    (account,) = _accounts(market)
    seller = _principal(market.seller)
    assert offering_users.retrieve(seller, account.id).exposed == {"username", "full_name", "email"}
    assert _list(market.seller) and offering_users.list_offering_users(
        seller, offering_users.Filters(), Ordering(None), PAGE
    ).items[0].exposed == {"username", "full_name", "email"}
    offering_users.set_attribute_config(ctx_of(market.seller), market.offering.id, {"email": False}, True)
    assert offering_users.retrieve(seller, account.id).exposed == {"username", "full_name"}
    assert offering_users.retrieve(_principal(market.member), account.id).exposed is None  # their own
    assert offering_users.retrieve(_principal(market.staff), account.id).exposed is None


# --- the provider's lists -----------------------------------------------------------------------------
def test_set_offerings_username_names_the_user_in_each_offering_they_use(
    fakes: World, market: Market
) -> None:
    from chalicelib.services import provider_lists

    second = make_offering(market.staff, market.provider.id, name="Second")
    _done(market)
    _done(market, second)
    provider = ports.service_providers.for_customer(market.provider.id)
    assert provider is not None
    with pytest.raises(PermissionDenied):
        provider_lists.set_offerings_username(ctx_of(market.member), provider.id, market.member.id, "me")
    count = provider_lists.set_offerings_username(
        ctx_of(market.seller), provider.id, market.member.id, "apollo"
    )
    assert count == 2
    names = {a.offering_id: (a.username, a.state) for a in ports.offering_users.of_user(market.member.id)}
    assert names == {market.offering.id: ("apollo", State.OK), second.id: ("apollo", State.OK)}
    with pytest.raises(ValidationError):
        provider_lists.set_offerings_username(ctx_of(market.seller), provider.id, "f" * 32, "apollo")


def test_the_providers_lists_show_its_consumers_to_its_team_only(fakes: World, market: Market) -> None:
    from chalicelib.services import provider_lists

    _done(market)
    provider = ports.service_providers.for_customer(market.provider.id)
    assert provider is not None
    seller = _principal(market.seller)
    assert [p.id for p in provider_lists.projects(seller, provider.id)] == [market.project.id]
    assert [(u.username, n) for u, n in provider_lists.users(seller, provider.id)] == [("member", 1)]
    assert [(c.name, p, u) for c, p, u in provider_lists.customers(seller, provider.id)] == [("Acme", 1, 1)]
    assert provider_lists.keys(seller, provider.id) == []
    for outsider in (market.owner, market.member):
        with pytest.raises(PermissionDenied):
            provider_lists.projects(_principal(outsider), provider.id)


def test_the_provider_reads_its_consumers_keys_through_the_keys_contexts_reader(
    fakes: World, market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import dataclass

    from chalicelib.services import provider_lists

    @dataclass(frozen=True)
    class Prints:
        md5: str = "aa:bb"
        sha256: str = "SHA256:x"
        sha512: str = "SHA512:y"

    @dataclass(frozen=True)
    class Key:
        id: str
        user_id: str
        name: str = "laptop"
        public_key: str = "ssh-ed25519 AAAA"
        is_shared: bool = False
        type: str = "ssh-ed25519"
        fingerprints: Prints = Prints()

    asked: list[list[str]] = []

    def reader(user_ids: list[str]) -> list[Key]:
        asked.append(list(user_ids))
        return [Key(id=f"{n:032x}", user_id=u) for n, u in enumerate(user_ids)]

    monkeypatch.setattr(provider_lists, "KEY_READERS", [reader])
    _done(market)
    provider = ports.service_providers.for_customer(market.provider.id)
    assert provider is not None
    keys = provider_lists.keys(_principal(market.seller), provider.id)
    assert asked == [[market.member.id]]  # only the consumers' users
    assert [(k.user_id, k.fingerprints.sha256) for k in keys] == [(market.member.id, "SHA256:x")]
