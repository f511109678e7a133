"""Offering users' commands and the service provider's `set_offerings_username`, for the outbox
table (tests/outbox_commands.py merges OFFERING_USER_COMMANDS into COMMANDS): each scenario, and
the events it must write.

The world's project Apollo holds a live resource of provider Cloud's `Marketplace.Basic` offering
(tests/outbox_marketplace.py); alice is granted a role in Apollo, which opens her account in the
offering (Waldur's `marketplace_offering_user_created`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.outbox_commands import Case, Command, Fields, S, World, emits, no_event
from tests.outbox_marketplace import live_resource

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CREATED = "marketplace_offering_user_created"
UPDATED = "marketplace_offering_user_updated"
CONFIG = {"CUST/OFFUSERCFG": "the offering's user attribute config (Waldur logs no event for it)"}


def _offering(w: World, resource: Any) -> Any:
    from chalicelib.services import offerings

    return offerings.get_offering(resource.offering_id)


def account_fields(w: World, resource: Any, account: Any = None) -> dict[str, str]:
    who = account or w.alice
    return {
        "offering_uuid": resource.offering_id,
        "customer_uuid": resource.provider_id,
        "affected_user_uuid": who.id,
        "affected_user_username": who.username,
    }


def resource_with_alice(w: World) -> tuple[Any, Any]:
    """A live resource in Apollo and alice's account in its offering (she joined Apollo)."""
    from chalicelib.services.ports import offering_users

    resource = live_resource(w)
    w.grant(w.alice, "PROJECT.MEMBER", w.project_scope())
    account = offering_users.load(resource.provider_id, resource.offering_id, w.alice.id)
    assert account is not None
    return resource, account


def _after_granted(w: World, resource: Any) -> Fields:
    from chalicelib.domain.rbac import Grant
    from chalicelib.domain.roles import ScopeType
    from chalicelib.services import memberships

    grant = Grant("g" * 32, w.alice.id, "r" * 32, ScopeType.PROJECT, w.project.id, w.customer.id, NOW)
    memberships.after_granted(w.ctx, grant)
    return {CREATED: account_fields(w, resource)}


def _provision_for_grant(w: World, resource: Any) -> Fields:
    from chalicelib.domain.rbac import Grant
    from chalicelib.domain.roles import ScopeType
    from chalicelib.services import offering_users

    grant = Grant("g" * 32, w.alice.id, "r" * 32, ScopeType.PROJECT, w.project.id, w.customer.id, NOW)
    assert offering_users.provision_for_grant(w.ctx, grant) == 1
    return {CREATED: account_fields(w, resource)}


def _resource_and_alice(w: World) -> Any:
    """A live resource, then alice joined Apollo and lost her account (the provider removed it)."""
    from chalicelib.services import offering_users

    resource, account = resource_with_alice(w)
    offering_users.delete(w.ctx, account.id)
    return resource


def _provision_for_resource(w: World, resource: Any) -> Fields:
    from chalicelib.services import offering_users

    assert offering_users.provision_for_resource(w.ctx, resource) == 1
    return {CREATED: account_fields(w, resource)}


def _ensure(w: World, resource: Any) -> Fields:
    from chalicelib.services import offering_users
    from chalicelib.services.ports import users

    alice = users.get(w.alice.id)
    assert offering_users.ensure_account(w.ctx, _offering(w, resource), alice) is not None  # type: ignore[arg-type]
    return {CREATED: account_fields(w, resource)}


def _create(w: World, resource: Any) -> Fields:
    from chalicelib.services import offering_users

    offering_users.create(w.ctx, resource.offering_id, w.alice.id, "alice_1")
    return {CREATED: {**account_fields(w, resource), "offering_user_username": "alice_1"}}


def _set_username(w: World, prepared: Any) -> Fields:
    from chalicelib.services import offering_users

    resource, account = prepared
    offering_users.set_username(w.ctx, account.id, "alice_2")
    return {UPDATED: {**account_fields(w, resource), "offering_user_username": "alice_2"}}


def _act(w: World, prepared: Any) -> Fields:
    from chalicelib.services import offering_users

    resource, account = prepared
    offering_users.act(w.ctx, account.id, "begin_creating")
    return {UPDATED: account_fields(w, resource)}


def _restrict(w: World, prepared: Any) -> Fields:
    from chalicelib.services import offering_users

    resource, account = prepared
    offering_users.set_restricted(w.ctx, account.id, True)
    return {"marketplace_offering_user_restriction_updated": account_fields(w, resource)}


def _delete(w: World, prepared: Any) -> Fields:
    from chalicelib.services import offering_users

    resource, account = prepared
    offering_users.delete(w.ctx, account.id)
    return {"marketplace_offering_user_deleted": account_fields(w, resource)}


def _set_offering_username(w: World, prepared: Any) -> Fields:
    from chalicelib.services import offering_users
    from chalicelib.services.ports import users

    resource, _ = prepared
    alice = users.get(w.alice.id)
    offering_users.set_offering_username(w.ctx, _offering(w, resource), alice, "alice_3")  # type: ignore[arg-type]
    return {UPDATED: {**account_fields(w, resource), "offering_user_username": "alice_3"}}


def _set_offerings_username(w: World, prepared: Any) -> Fields:
    from chalicelib.services import provider_lists
    from chalicelib.services.ports import service_providers

    resource, _ = prepared
    provider = service_providers.for_customer(resource.provider_id)
    assert provider is not None
    assert provider_lists.set_offerings_username(w.ctx, provider.id, w.alice.id, "alice_4") == 1
    return {UPDATED: {**account_fields(w, resource), "offering_user_username": "alice_4"}}


def _config(w: World, resource: Any) -> None:
    from chalicelib.services import offering_users

    offering_users.set_attribute_config(w.ctx, resource.offering_id, {"email": False}, partial=True)


def _reset_config(w: World, resource: Any) -> None:
    from chalicelib.services import offering_users

    offering_users.set_attribute_config(w.ctx, resource.offering_id, {"email": False}, partial=True)
    offering_users.reset_attribute_config(w.ctx, resource.offering_id)


OFFERING_USER_COMMANDS: dict[str, Command] = {
    f"{S}memberships.after_granted": emits(Case(_after_granted, (CREATED,), setup=live_resource)),
    f"{S}offering_users.provision_for_grant": emits(
        Case(_provision_for_grant, (CREATED,), setup=live_resource)
    ),
    f"{S}offering_users.provision_for_resource": emits(
        Case(_provision_for_resource, (CREATED,), setup=_resource_and_alice)
    ),
    f"{S}offering_users.ensure_account": emits(Case(_ensure, (CREATED,), setup=live_resource)),
    f"{S}offering_users.create": emits(Case(_create, (CREATED,), setup=live_resource)),
    f"{S}offering_users.set_username": emits(Case(_set_username, (UPDATED,), setup=resource_with_alice)),
    f"{S}offering_users.act": emits(Case(_act, (UPDATED,), setup=resource_with_alice)),
    f"{S}offering_users.set_restricted": emits(
        Case(_restrict, ("marketplace_offering_user_restriction_updated",), setup=resource_with_alice)
    ),
    f"{S}offering_users.delete": emits(
        Case(_delete, ("marketplace_offering_user_deleted",), setup=resource_with_alice)
    ),
    f"{S}offering_users.set_offering_username": emits(
        Case(_set_offering_username, (UPDATED,), setup=resource_with_alice)
    ),
    f"{S}provider_lists.set_offerings_username": emits(
        Case(_set_offerings_username, (UPDATED,), setup=resource_with_alice)
    ),
    f"{S}offering_users.set_attribute_config": no_event(
        CONFIG["CUST/OFFUSERCFG"], Case(_config, (), setup=live_resource, outside=CONFIG)
    ),
    f"{S}offering_users.reset_attribute_config": no_event(
        CONFIG["CUST/OFFUSERCFG"], Case(_reset_config, (), setup=live_resource, outside=CONFIG)
    ),
}
