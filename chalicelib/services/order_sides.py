"""Who sees and who acts on marketplace orders and resources: the two sides of each.

- The **consumer** side is the project's: a role in the project or its customer. Consumer actions
  check ORDER.* / RESOURCE.* permissions on the project (then its customer).
- The **provider** side is the offering's: a customer role in the offering's customer or a role on
  the offering. Provider actions check RESOURCE.SET_STATE (and the other provider RESOURCE.*
  permissions) on the offering (then its customer): CUSTOMER.OWNER and CUSTOMER.MANAGER of the
  provider and OFFERING.MANAGER of the offering hold them.
- Staff pass everything; support read everything. What a caller sees on neither side is a 404.
"""

from __future__ import annotations

from typing import Protocol

from chalicelib.domain.context import Principal
from chalicelib.domain.rbac import Access, Scope
from chalicelib.domain.roles import ScopeType
from chalicelib.services import access as access_service


class Placed(Protocol):
    """An order or a resource: where it lives and whose offering it uses."""

    @property
    def customer_id(self) -> str: ...
    @property
    def project_id(self) -> str: ...
    @property
    def offering_id(self) -> str: ...
    @property
    def provider_id(self) -> str: ...
    @property
    def project_name(self) -> str: ...
    @property
    def offering_name(self) -> str: ...


def rights(principal: Principal) -> Access:
    return access_service.access(principal)


def consumer_scope(thing: Placed) -> Scope:
    return Scope(ScopeType.PROJECT, thing.project_id, thing.customer_id, thing.project_name)


def provider_scope(thing: Placed) -> Scope:
    return Scope(ScopeType.OFFERING, thing.offering_id, thing.provider_id, thing.offering_name)


def sees_as_consumer(access: Access, thing: Placed) -> bool:
    return access.sees_project(thing.project_id, thing.customer_id)


def sees_as_provider(access: Access, thing: Placed) -> bool:
    if access.reads_everything or thing.provider_id in access.customer_role_ids():
        return True
    return any(g.scope_key == (ScopeType.OFFERING, thing.offering_id) for g in access.active_grants())


def sees(access: Access, thing: Placed) -> bool:
    return sees_as_consumer(access, thing) or sees_as_provider(access, thing)


def provided_offerings(access: Access) -> dict[str, str]:
    """Offerings the caller holds a role on (not through their customer): offering → provider."""
    return {g.scope_id: g.customer_id for g in access.active_grants() if g.scope_type is ScopeType.OFFERING}
