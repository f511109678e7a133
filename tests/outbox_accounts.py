"""SSH keys' commands (chalicelib/services/ssh_keys.py) and staff's password change
(`users.change_password`) for the outbox table (tests/outbox_commands.py merges ACCOUNT_COMMANDS
into COMMANDS)."""

from __future__ import annotations

from typing import Any

from tests.outbox_commands import Case, Command, Fields, S, World, affected, emits

# An Ed25519 key made with ssh-keygen (tests/unit/test_ssh_key_rules.py has its fingerprints).
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMI8mOlDJAWsXHu2OOZiOdaEhJ8q0XbC9uZKPuk9DlM6 alice@example"


def _fields(w: World, key: Any) -> dict[str, str]:
    return {"ssh_key_uuid": key.id, "ssh_key_name": key.name, **affected(w.alice)}


def alices_key(w: World) -> Any:
    from chalicelib.services import ssh_keys

    return ssh_keys.create_key(w.acting(w.alice), "laptop", KEY)


def create_key(w: World, _: Any) -> Fields:
    key = alices_key(w)
    return {"ssh_key_creation_succeeded": _fields(w, key)}


def delete_key(w: World, key: Any) -> Fields:
    from chalicelib.services import ssh_keys

    ssh_keys.delete_key(w.ctx, key.id)  # staff deletes alice's key
    return {"ssh_key_deletion_succeeded": _fields(w, key)}


def remove_user_keys(w: World, key: Any) -> Fields:
    from chalicelib.services import ssh_keys
    from chalicelib.store import users

    user = users.get(w.alice.id)
    assert user is not None
    ssh_keys.remove_user_keys(w.ctx, user)
    return {"ssh_key_deletion_succeeded": _fields(w, key)}


def change_password(w: World, _: Any) -> Fields:
    from chalicelib.services import users

    users.change_password(w.ctx, w.alice.id, "a-new-long-password", None)
    return {"user_password_updated_by_staff": affected(w.alice)}


ACCOUNT_COMMANDS: dict[str, Command] = {
    f"{S}users.change_password": emits(Case(change_password, ("user_password_updated_by_staff",))),
    f"{S}ssh_keys.create_key": emits(Case(create_key, ("ssh_key_creation_succeeded",), actor="alice")),
    f"{S}ssh_keys.delete_key": emits(Case(delete_key, ("ssh_key_deletion_succeeded",), setup=alices_key)),
    f"{S}ssh_keys.remove_user_keys": emits(
        Case(remove_user_keys, ("ssh_key_deletion_succeeded",), setup=alices_key)
    ),
}
