"""Roles through the real Waldur clients over HTTP: waldur-api-client's strict RoleDetails parser and
python-waldur-client's `get_roles`."""

from __future__ import annotations

from http import HTTPStatus
from uuid import UUID

import pytest
from waldur_api_client.api.roles import (
    roles_create,
    roles_destroy,
    roles_disable,
    roles_enable,
    roles_list,
    roles_partial_update,
    roles_retrieve,
)
from waldur_api_client.models.patched_role_details_request import PatchedRoleDetailsRequest
from waldur_api_client.models.role_details import RoleDetails
from waldur_api_client.models.role_details_o_enum import RoleDetailsOEnum
from waldur_api_client.models.role_modify_request import RoleModifyRequest
from waldur_api_client.models.role_modify_request_permissions import RoleModifyRequestPermissions
from waldur_api_client.models.role_type import RoleType

from chalicelib.domain.roles import SYSTEM_ROLES

pytestmark = pytest.mark.compat


def test_roles_list_parses_strictly(api):
    roles = roles_list.sync_all(client=api, o=[RoleDetailsOEnum.NAME])
    assert len(roles) == 7
    for role in roles:
        assert isinstance(role, RoleDetails)
        assert isinstance(role.uuid, UUID) and role.uuid.hex == SYSTEM_ROLES[role.name].id
        assert isinstance(role.content_type, RoleType)
        assert role.is_system_role is True and role.is_active is True
        assert role.users_count == 0
    (offering,) = roles_list.sync(client=api, content_type="offering", is_active=True)
    assert offering.name == "OFFERING.MANAGER" and offering.content_type is RoleType.OFFERING


def test_role_lifecycle_through_the_generated_client(api):
    permissions = RoleModifyRequestPermissions.from_dict({"ORDER.APPROVE": True})  # the schema's object
    body = RoleModifyRequest(name="PROJECT.REVIEWER", permissions=permissions, content_type="project")
    created = roles_create.sync_detailed(client=api, body=body)
    assert created.status_code == HTTPStatus.CREATED, created.content
    role = created.parsed
    assert isinstance(role, RoleDetails)
    assert role.permissions == ["ORDER.APPROVE"] and role.content_type is RoleType.PROJECT

    patched = roles_partial_update.sync(
        uuid=role.uuid, client=api, body=PatchedRoleDetailsRequest(description="Approves orders.")
    )
    assert patched.description == "Approves orders."

    assert roles_disable.sync_detailed(uuid=role.uuid, client=api).status_code == HTTPStatus.OK
    assert roles_retrieve.sync(uuid=role.uuid, client=api).is_active is False
    assert roles_enable.sync_detailed(uuid=role.uuid, client=api).status_code == HTTPStatus.OK
    assert roles_destroy.sync_detailed(uuid=role.uuid, client=api).status_code == HTTPStatus.NO_CONTENT


def test_python_waldur_client_reads_roles_by_name(waldur):
    roles = waldur.get_roles(params={"name": "PROJECT.ADMIN"})
    assert [(r["name"], r["uuid"]) for r in roles] == [("PROJECT.ADMIN", SYSTEM_ROLES["PROJECT.ADMIN"].id)]
    assert len(waldur.get_roles(params={"page_size": 2})) == 7  # follows the Link header's pages
