"""Robot accounts, specified on the in-memory fakes: the provider sets one up on a resource (one per
resource and type), for users of the resource's project or customer, with SSH keys checked as
/api/keys/ checks them; the agent moves it through Waldur's states (Waldur's 400 outside them); both sides
read it, only the provider and staff change it, strangers do not see it; Waldur's events."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.errors import NotFound, PermissionDenied, StateTransitionRefused, ValidationError
from chalicelib.domain.robot_accounts import State
from chalicelib.services import ports
from chalicelib.services import robot_accounts as service
from chalicelib.services.market_queries import Narrowing
from chalicelib.services.paging import Ordering, PageRequest
from tests.conftest import make_account
from tests.fakes import World
from tests.marketplace_helpers import Market, build_market, ctx_of, order_request

PAGE = PageRequest(page=1, page_size=50)
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMI8mOlDJAWsXHu2OOZiOdaEhJ8q0XbC9uZKPuk9DlM6 ci@example"


@pytest.fixture
def market(fakes: World) -> Market:
    return build_market(make_account("staff", is_staff=True))


@pytest.fixture
def resource_id(market: Market) -> str:
    """A resource in Apollo, its Create order done by the provider."""
    from chalicelib.services import orders

    order = orders.create_order(ctx_of(market.staff), order_request(market))
    if order.state.value == "pending-provider":
        orders.approve_by_provider(ctx_of(market.seller), order.id)
    orders.set_state_done(ctx_of(market.seller), order.id)
    return str(order.resource_id)


def _principal(account: Any) -> Any:
    user = ports.users.get(account.id)
    assert user is not None
    return user.principal()


def _create(market: Market, resource_id: str, who: Any = None, **fields: Any) -> Any:
    request = service.AccountRequest(**{"resource": resource_id, "type": "cicd", **fields})
    return service.create(ctx_of(who or market.seller), request)


def _list(who: Any, **narrowing: Any) -> list[Any]:
    filters = service.AccountFilters(narrowing=Narrowing(**narrowing))
    page = service.list_accounts(_principal(who), filters, Ordering(None), PAGE)
    return [v.account for v in page.items]


def test_the_provider_sets_up_a_robot_account_for_the_projects_users(
    fakes: World, market: Market, resource_id: str
):
    view = _create(
        market, resource_id, users=[market.member.id], keys=[f"  {KEY}  "], responsible_user=market.owner.id
    )
    account = view.account
    assert account.state is State.REQUESTED
    assert (account.type, account.keys, account.users) == ("cicd", (KEY,), (market.member.id,))
    assert account.responsible_user_id == market.owner.id
    assert [u.id for u in view.users] == [market.member.id]
    assert account.resource_name and account.project_id == market.project.id
    assert account.provider_id == market.provider.id
    created = [e for e in fakes.events if e.event_type == "resource_robot_account_created"]
    assert created[0].context["robot_account_uuid"] == account.id
    assert created[0].context["resource_uuid"] == resource_id


def test_one_account_per_resource_and_type(market: Market, resource_id: str):
    _create(market, resource_id)
    with pytest.raises(ValidationError) as refused:
        _create(market, resource_id)
    assert refused.value.errors == {"non_field_errors": ["The fields resource, type must make a unique set."]}
    assert _create(market, resource_id, type="ssh").account.type == "ssh"


def test_users_must_belong_to_the_resources_project_or_customer(market: Market, resource_id: str):
    stranger = make_account("stranger")
    with pytest.raises(ValidationError) as refused:
        _create(market, resource_id, users=[stranger.id])
    assert refused.value.errors == ["User should belong to the same project or organization as resource."]
    with pytest.raises(ValidationError):
        _create(market, resource_id, users=["f" * 32])  # no such user: the same answer
    with pytest.raises(ValidationError):
        _create(market, resource_id, responsible_user=market.seller.id)
    assert _list(market.staff) == []


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (["ssh-ed25519 AAAA"], "Invalid SSH public key."),
        (["not a key"], "Key is not valid: cannot generate fingerprint_md5 from it."),
        ([KEY] * 101, "Ensure this field has no more than 100 elements."),
    ],
)
def test_keys_are_checked_as_ssh_public_keys(market: Market, resource_id: str, keys: list[str], message: str):
    with pytest.raises(ValidationError) as refused:
        _create(market, resource_id, keys=keys)
    assert refused.value.errors == {"keys": [message]}


def test_type_and_username_are_bounded(market: Market, resource_id: str):
    with pytest.raises(ValidationError) as refused:
        _create(market, resource_id, type="pipeline")
    assert refused.value.errors == {"type": ["Ensure this field has no more than 5 characters."]}
    with pytest.raises(ValidationError):
        _create(market, resource_id, username="u" * 33)


def test_the_consumer_reads_but_does_not_change(market: Market, resource_id: str):
    made = _create(market, resource_id).account
    for reader in (market.owner, market.member, market.seller, market.staff):
        assert [a.id for a in _list(reader)] == [made.id]
        assert service.retrieve(_principal(reader), made.id).account.id == made.id
    with pytest.raises(PermissionDenied):
        _create(market, resource_id, who=market.owner, type="ssh")
    with pytest.raises(PermissionDenied):
        service.update(ctx_of(market.owner), made.id, service.AccountRequest(username="x"))
    with pytest.raises(PermissionDenied):
        service.set_state(ctx_of(market.member), made.id, "set_state_creating")
    with pytest.raises(PermissionDenied):
        service.delete(ctx_of(market.owner), made.id)


def test_strangers_do_not_see_it(market: Market, resource_id: str):
    made = _create(market, resource_id).account
    stranger = make_account("stranger")
    assert _list(stranger) == []
    assert _list(stranger, resource_id=resource_id) == []
    for attempt in (
        lambda: service.retrieve(_principal(stranger), made.id),
        lambda: service.update(ctx_of(stranger), made.id, service.AccountRequest(username="x")),
        lambda: service.set_state(ctx_of(stranger), made.id, "set_state_ok"),
        lambda: service.delete(ctx_of(stranger), made.id),
    ):
        with pytest.raises(NotFound):
            attempt()
    with pytest.raises(ValidationError) as refused:
        _create(market, resource_id, who=stranger, type="ssh")
    assert refused.value.errors == {"resource": ["Invalid hyperlink - Object does not exist."]}


def test_lists_narrow_by_resource_project_customer_and_provider(market: Market, resource_id: str):
    made = _create(market, resource_id).account
    for narrowing in (
        {"resource_id": resource_id},
        {"project_id": market.project.id},
        {"customer_id": market.consumer.id},
        {"provider_id": market.provider.id},
    ):
        assert [a.id for a in _list(market.staff, **narrowing)] == [made.id], narrowing
    assert _list(market.staff, resource_id="e" * 32) == []
    assert _list(market.staff, provider_id=market.consumer.id) == []


def test_the_agent_moves_it_through_waldurs_states(fakes: World, market: Market, resource_id: str):
    made = _create(market, resource_id).account
    seller = ctx_of(market.seller)
    with pytest.raises(StateTransitionRefused) as refused:
        service.set_state(seller, made.id, "set_state_request_deletion")
    assert str(refused.value) == "Valid states for operation: OK."
    assert service.set_state(seller, made.id, "set_state_creating").account.state is State.CREATING
    erred = service.set_state(seller, made.id, "set_state_erred", "backend down").account
    assert (erred.state, erred.error_message) == (State.ERROR, "backend down")
    recovered = service.set_state(seller, made.id, "set_state_ok").account
    assert (recovered.state, recovered.error_message) == (State.OK, "")
    assert (
        service.set_state(seller, made.id, "set_state_request_deletion").account.state
        is State.REQUESTED_DELETION
    )
    assert service.set_state(seller, made.id, "set_state_deleted").account.state is State.DELETED
    with pytest.raises(StateTransitionRefused):
        service.set_state(seller, made.id, "set_state_ok")
    changed = [e for e in fakes.events if e.event_type == "resource_robot_account_state_changed"]
    assert len(changed) == 5


def test_the_provider_changes_and_deletes_it(fakes: World, market: Market, resource_id: str):
    made = _create(market, resource_id).account
    seller = ctx_of(market.seller)
    changed = service.update(
        seller, made.id, service.AccountRequest(username="ci_bot", type="ci", keys=[KEY])
    )
    assert (changed.account.username, changed.account.type, changed.account.keys) == ("ci_bot", "ci", (KEY,))
    assert [a.type for a in _list(market.staff, resource_id=resource_id)] == ["ci"]
    moved = service.update(seller, made.id, service.AccountRequest(resource="e" * 32)).account
    assert moved.resource_id == resource_id  # the resource is fixed once made
    service.delete(seller, made.id)
    assert _list(market.staff) == []
    with pytest.raises(NotFound):
        service.retrieve(_principal(market.staff), made.id)
    types = [e.event_type for e in fakes.events if e.event_type.startswith("resource_robot_account_")]
    assert types == [
        "resource_robot_account_created",
        "resource_robot_account_updated",
        "resource_robot_account_updated",
        "resource_robot_account_deleted",
    ]
