"""Robot accounts' commands for the outbox table (tests/outbox_commands.py merges
ROBOT_ACCOUNT_COMMANDS into COMMANDS): each scenario, and the events it must write.

The world's project Apollo holds a live resource of provider Cloud's offering
(tests/outbox_marketplace.py); staff set up a robot account on it.
"""

from __future__ import annotations

from typing import Any

from tests.outbox_commands import Case, Command, Fields, S, World, emits
from tests.outbox_marketplace import live_resource

CREATED = "resource_robot_account_created"
UPDATED = "resource_robot_account_updated"
DELETED = "resource_robot_account_deleted"
STATE_CHANGED = "resource_robot_account_state_changed"


def _fields(resource: Any, account_id: str, username: str = "") -> dict[str, str]:
    return {
        "robot_account_uuid": account_id,
        "robot_account_username": username,
        "robot_account_type": "cicd",
        "resource_uuid": resource.id,
        "project_uuid": resource.project_id,
        "customer_uuid": resource.customer_id,
        "offering_uuid": resource.offering_id,
    }


def _made(w: World) -> tuple[Any, Any]:
    """A live resource in Apollo and a robot account on it."""
    from chalicelib.services import robot_accounts

    resource = live_resource(w)
    view = robot_accounts.create(w.ctx, robot_accounts.AccountRequest(resource=resource.id, type="cicd"))
    return resource, view.account


def _create(w: World, resource: Any) -> Fields:
    from chalicelib.services import robot_accounts

    request = robot_accounts.AccountRequest(resource=resource.id, type="cicd", username="ci_bot")
    made = robot_accounts.create(w.ctx, request).account
    return {CREATED: _fields(resource, made.id, "ci_bot")}


def _update(w: World, prepared: Any) -> Fields:
    from chalicelib.services import robot_accounts

    resource, account = prepared
    robot_accounts.update(w.ctx, account.id, robot_accounts.AccountRequest(username="ci_bot"))
    return {UPDATED: _fields(resource, account.id, "ci_bot")}


def _set_state(w: World, prepared: Any) -> Fields:
    from chalicelib.services import robot_accounts

    resource, account = prepared
    robot_accounts.set_state(w.ctx, account.id, "set_state_creating")
    return {STATE_CHANGED: _fields(resource, account.id)}


def _delete(w: World, prepared: Any) -> Fields:
    from chalicelib.services import robot_accounts

    resource, account = prepared
    robot_accounts.delete(w.ctx, account.id)
    return {DELETED: _fields(resource, account.id)}


ROBOT_ACCOUNT_COMMANDS: dict[str, Command] = {
    f"{S}robot_accounts.create": emits(Case(_create, (CREATED,), setup=live_resource)),
    f"{S}robot_accounts.update": emits(Case(_update, (UPDATED,), setup=_made)),
    f"{S}robot_accounts.set_state": emits(Case(_set_state, (STATE_CHANGED,), setup=_made)),
    f"{S}robot_accounts.delete": emits(Case(_delete, (DELETED,), setup=_made)),
}
