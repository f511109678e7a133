"""What a service provider sees of its consumers: `marketplace-service-providers/<uuid>/`
`projects/`, `project_permissions/`, `users/`, `customers/`, `offerings/`, `keys/`,
`project_service_accounts/`, `course_accounts/` (empty: Cirrus has no such accounts) and
`set_offerings_username/`; and the offering's own `list_project_service_accounts/` and
`list_course_accounts/` (empty likewise), which the site agent reads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field

from chalicelib.api import projects as project_api
from chalicelib.api.fields import DetailMessageOut
from chalicelib.api.marketplace_catalog import TAG
from chalicelib.api.marketplace_offering_users import GivenUsername
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    ListQuery,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import offering_users as account_rules
from chalicelib.domain.offerings import MODEL as OFFERING_MODEL
from chalicelib.domain.offerings import PROVIDER_MODEL
from chalicelib.services import access as access_service
from chalicelib.services import offerings as catalog
from chalicelib.services import provider_lists as service
from chalicelib.services.paging import paginate

bp = Blueprint(__name__)
BASE = "/api/marketplace-service-providers/{uuid}"
OFFERINGS = "/api/marketplace-provider-offerings/{uuid}"


def _like(value: str | None, *texts: str) -> bool:
    return value is None or any(value.lower() in t.lower() for t in texts)


# --- projects ---------------------------------------------------------------------------------------
class ProjectsQuery(ListQuery):
    name: str | None = None
    name_exact: str | None = None
    query: str | None = Field(None, max_length=255)
    customer: str | None = None
    description: str | None = None


@endpoint(bp, f"{BASE}/projects", "GET", name="marketplace_service_providers_projects_list", tag=TAG,
          query=ProjectsQuery, response=project_api.ProjectOut, many=True,
          summary="Projects with the provider's live resources (its team, staff)")  # fmt: skip
def provider_projects(call: Call, uuid: str) -> Any:
    q: ProjectsQuery = call.query
    customer = q.customer.rstrip("/").rsplit("/", 1)[-1] if q.customer else None
    rows = [
        p
        for p in service.projects(call.user, object_id(uuid, PROVIDER_MODEL))
        if _like(q.name, p.name)
        and (q.name_exact is None or p.name == q.name_exact)
        and (q.query is None or _like(q.query, p.name, p.id) or object_id_or_none(q.query) == p.id)
        and (customer is None or object_id_or_none(customer) == p.customer_id)
        and _like(q.description, p.description)
    ]
    return listed(
        call, paginate(rows, q.page_request()), project_api.ProjectOut, lambda p: project_api.to_data(call, p)
    )


def object_id_or_none(value: str) -> str | None:
    from chalicelib.domain.ids import parse_id

    return parse_id(value)


# --- project permissions ----------------------------------------------------------------------------
class PermissionOut(ResponseModel):
    """Waldur's ProjectPermissionLog."""

    omit_when_null = frozenset({"project_end_date"})

    created: datetime
    expiration_time: datetime | None = None
    created_by: str | None = None
    created_by_full_name: str | None = None
    created_by_username: str | None = None
    project: str
    project_uuid: str
    project_name: str
    project_created: datetime
    project_end_date: date | None = None
    customer_uuid: str
    customer_name: str
    role: str
    role_name: str
    user: str
    user_full_name: str
    user_native_name: str
    user_username: str
    user_uuid: str
    user_email: str


class PermissionsQuery(ListQuery):
    username: str | None = None
    full_name: str | None = None
    role_name: str | None = None
    user: str | None = None
    scope_uuid: str | None = None


@endpoint(bp, f"{BASE}/project_permissions", "GET",
          name="marketplace_service_providers_project_permissions_list", tag=TAG,
          query=PermissionsQuery, response=PermissionOut, many=True,
          summary="Roles in the projects with the provider's live resources")  # fmt: skip
def provider_project_permissions(call: Call, uuid: str) -> Any:
    q: PermissionsQuery = call.query
    grants, found, users = service.project_permissions(call.user, object_id(uuid, PROVIDER_MODEL))
    roles = access_service.all_roles()
    rows = []
    for g in grants:
        project, user, role = found[g.scope_id], users[g.user_id], roles.get(g.role_id)
        role_name = role.name if role else g.role_id
        if not (
            _like(q.username, user.username)
            and _like(q.full_name, user.full_name)
            and (q.role_name is None or role_name == q.role_name)
            and (q.user is None or object_id_or_none(q.user) == user.id)
            and (q.scope_uuid is None or object_id_or_none(q.scope_uuid) == project.id)
        ):
            continue
        rows.append(
            {
                "created": g.created,
                "expiration_time": g.expiration_time,
                "created_by": call.url("users", g.created_by_id) if g.created_by_id else None,
                "created_by_full_name": g.created_by_full_name or None,
                "created_by_username": g.created_by_username or None,
                "project": call.url("projects", project.id),
                "project_uuid": project.id,
                "project_name": project.name,
                "project_created": project.created,
                "project_end_date": project.end_date,
                "customer_uuid": project.customer_id,
                "customer_name": project.customer_name,
                "role": g.role_id,
                "role_name": role_name,
                "user": call.url("users", user.id),
                "user_full_name": user.full_name,
                "user_native_name": user.native_name,
                "user_username": user.username,
                "user_uuid": user.id,
                "user_email": user.email,
            }
        )
    return listed(call, paginate(rows, q.page_request()), PermissionOut, lambda row: row)


# --- users ------------------------------------------------------------------------------------------
class ProviderUserOut(ResponseModel):
    """Waldur's MarketplaceServiceProviderUser (the attributes Cirrus keeps)."""

    uuid: str
    username: str
    full_name: str
    first_name: str
    last_name: str
    organization: str
    email: str
    phone_number: str
    projects_count: int
    registration_method: str
    is_active: bool
    job_title: str


class UsersQuery(ListQuery):
    username: str | None = None
    full_name: str | None = None
    email: str | None = None
    organization: str | None = None
    query: str | None = Field(None, max_length=255)
    user_keyword: str | None = Field(None, max_length=255)
    is_active: bool | None = None


@endpoint(bp, f"{BASE}/users", "GET", name="marketplace_service_providers_users_list", tag=TAG,
          query=UsersQuery, response=ProviderUserOut, many=True,
          summary="Users with a role in the projects with the provider's live resources")  # fmt: skip
def provider_users(call: Call, uuid: str) -> Any:
    q: UsersQuery = call.query
    keyword = q.query or q.user_keyword
    rows = [
        (u, n)
        for u, n in service.users(call.user, object_id(uuid, PROVIDER_MODEL))
        if _like(q.username, u.username)
        and _like(q.full_name, u.full_name)
        and _like(q.email, u.email)
        and _like(q.organization, u.organization)
        and _like(keyword, u.username, u.full_name, u.email)
        and (q.is_active is None or u.is_active == q.is_active)
    ]

    def data(row: Any) -> dict[str, Any]:
        user, count = row
        first, _, last = user.full_name.strip().partition(" ")
        return {
            "uuid": user.id,
            "username": user.username,
            "full_name": user.full_name,
            "first_name": first,
            "last_name": last.strip(),
            "organization": user.organization,
            "email": user.email,
            "phone_number": user.phone_number,
            "projects_count": count,
            "registration_method": user.registration_method,
            "is_active": user.is_active,
            "job_title": user.job_title,
        }

    return listed(call, paginate(rows, q.page_request()), ProviderUserOut, data)


# --- customers --------------------------------------------------------------------------------------
class ProviderCustomerOut(ResponseModel):
    """Waldur's MarketplaceProviderCustomer (without the nested projects, users and estimates)."""

    uuid: str
    name: str
    abbreviation: str
    phone_number: str
    email: str
    projects_count: int
    users_count: int


class CustomersQuery(ListQuery):
    name: str | None = None
    name_exact: str | None = None
    abbreviation: str | None = None
    query: str | None = Field(None, max_length=255)


@endpoint(bp, f"{BASE}/customers", "GET", name="marketplace_service_providers_customers_list", tag=TAG,
          query=CustomersQuery, response=ProviderCustomerOut, many=True,
          summary="Customers consuming the provider's offerings")  # fmt: skip
def provider_customers(call: Call, uuid: str) -> Any:
    q: CustomersQuery = call.query
    rows = [
        row
        for row in service.customers(call.user, object_id(uuid, PROVIDER_MODEL))
        if _like(q.name, row[0].name)
        and (q.name_exact is None or row[0].name == q.name_exact)
        and _like(q.abbreviation, row[0].abbreviation)
        and _like(q.query, row[0].name, row[0].abbreviation)
    ]

    def data(row: Any) -> dict[str, Any]:
        customer, projects_count, users_count = row
        return {
            "uuid": customer.id,
            "name": customer.name,
            "abbreviation": customer.abbreviation,
            "phone_number": customer.phone_number,
            "email": customer.email,
            "projects_count": projects_count,
            "users_count": users_count,
        }

    return listed(call, paginate(rows, q.page_request()), ProviderCustomerOut, data)


# --- offerings --------------------------------------------------------------------------------------
class ProviderOfferingOut(ResponseModel):
    """Waldur's ProviderOffering (without components, plans and estimates)."""

    uuid: str
    customer_uuid: str
    name: str
    category_title: str
    type: str
    state: str
    resources_count: int
    options: dict[str, Any]
    service_provider_can_create_offering_user: bool


class OfferingsQuery(ListQuery):
    name: str | None = None
    name_exact: str | None = None
    type: list[str] = []
    state: list[str] = []
    query: str | None = Field(None, max_length=255)


@endpoint(bp, f"{BASE}/offerings", "GET", name="marketplace_service_providers_offerings_list", tag=TAG,
          query=OfferingsQuery, response=ProviderOfferingOut, many=True,
          summary="The provider's billable shared offerings")  # fmt: skip
def provider_offerings(call: Call, uuid: str) -> Any:
    q: OfferingsQuery = call.query
    rows = [
        o
        for o in service.offerings(call.user, object_id(uuid, PROVIDER_MODEL))
        if _like(q.name, o.name)
        and (q.name_exact is None or o.name == q.name_exact)
        and (not q.type or o.type in q.type)
        and (not q.state or o.state.value in q.state)
        and _like(q.query, o.name, o.description)
    ]

    def data(o: Any) -> dict[str, Any]:
        return {
            "uuid": o.id,
            "customer_uuid": o.customer_id,
            "name": o.name,
            "category_title": "",
            "type": o.type,
            "state": o.state.value,
            "resources_count": 0,
            "options": dict(o.options),
            "service_provider_can_create_offering_user": bool(
                o.plugin_options.get("service_provider_can_create_offering_user", False)
            ),
        }

    return listed(call, paginate(rows, q.page_request()), ProviderOfferingOut, data)


# --- keys -------------------------------------------------------------------------------------------
class SshKeyOut(ResponseModel):
    """Waldur's SshKey."""

    url: str
    uuid: str
    name: str
    public_key: str
    fingerprint_md5: str
    fingerprint_sha256: str
    fingerprint_sha512: str
    user_uuid: str
    is_shared: bool
    type: str


class KeysQuery(ListQuery):
    name: str | None = None
    name_exact: str | None = None
    user_uuid: str | None = None


@endpoint(bp, f"{BASE}/keys", "GET", name="marketplace_service_providers_keys_list", tag=TAG,
          query=KeysQuery, response=SshKeyOut, many=True,
          summary="SSH public keys of the provider's consumers")  # fmt: skip
def provider_keys(call: Call, uuid: str) -> Any:
    q: KeysQuery = call.query
    rows = [
        k
        for k in service.keys(call.user, object_id(uuid, PROVIDER_MODEL))
        if _like(q.name, k.name)
        and (q.name_exact is None or k.name == q.name_exact)
        and (q.user_uuid is None or object_id_or_none(q.user_uuid) == k.user_id)
    ]

    def data(k: service.KeyView) -> dict[str, Any]:
        return {
            "url": call.url("keys", k.id),
            "uuid": k.id,
            "name": k.name,
            "public_key": k.public_key,
            "fingerprint_md5": k.fingerprints.md5,
            "fingerprint_sha256": k.fingerprints.sha256,
            "fingerprint_sha512": k.fingerprints.sha512,
            "user_uuid": k.user_id,
            "is_shared": k.is_shared,
            "type": k.type,
        }

    return listed(call, paginate(rows, q.page_request()), SshKeyOut, data)


# --- accounts Cirrus does not have --------------------------------------------------------------------
class AccountsQuery(ListQuery):
    project_uuid: str | None = None
    project: str | None = None
    username: str | None = None
    email: str | None = None
    state: list[str] = []


class NoAccountOut(ResponseModel):
    uuid: str


def _empty(kind: str, path: str, name: str) -> None:
    @endpoint(bp, path, "GET", name=name, tag=TAG, query=AccountsQuery, response=NoAccountOut, many=True,
              summary=f"{kind}: always empty (Cirrus has no such accounts)")  # fmt: skip
    def empty(call: Call, uuid: str) -> Any:
        service.no_accounts(call.user, object_id(uuid, PROVIDER_MODEL))
        return listed(call, paginate([], call.query.page_request()), NoAccountOut, lambda row: row)


_empty("Project service accounts", f"{BASE}/project_service_accounts",
       "marketplace_service_providers_project_service_accounts_list")  # fmt: skip
_empty("Course accounts", f"{BASE}/course_accounts", "marketplace_service_providers_course_accounts_list")


class OfferingAccountsQuery(ListQuery):
    project_uuid: str | None = None
    state: list[str] = []


def _empty_of_offering(kind: str, path: str, name: str) -> None:
    @endpoint(bp, path, "GET", name=name, tag="marketplace-provider-offerings", query=OfferingAccountsQuery,
              response=NoAccountOut, many=True,
              summary=f"{kind} of the offering: always empty (Cirrus has no such accounts)")  # fmt: skip
    def empty(call: Call, uuid: str) -> Any:
        offering_id = object_id(uuid, OFFERING_MODEL)
        offering = catalog.get_offering(offering_id)
        if not catalog.manages(access_service.access(call.user), offering):
            from chalicelib.domain.errors import NotFound

            raise NotFound(OFFERING_MODEL)
        return listed(call, paginate([], call.query.page_request()), NoAccountOut, lambda row: row)


_empty_of_offering("Project service accounts", f"{OFFERINGS}/list_project_service_accounts",
                   "marketplace_provider_offerings_list_project_service_accounts_list")  # fmt: skip
_empty_of_offering("Course accounts", f"{OFFERINGS}/list_course_accounts",
                   "marketplace_provider_offerings_list_course_accounts_list")  # fmt: skip


# --- set_offerings_username -------------------------------------------------------------------------
class SetUsernameIn(BodyModel):
    user_uuid: str = Field(min_length=1, max_length=64)
    username: GivenUsername


@endpoint(bp, f"{BASE}/set_offerings_username", "POST",
          name="marketplace_service_providers_set_offerings_username", tag=TAG,
          body=SetUsernameIn, response=DetailMessageOut, status=201,
          summary="Set a user's username in every offering of the provider they use")  # fmt: skip
def set_offerings_username(call: Call, uuid: str) -> Any:
    body: SetUsernameIn = call.body
    if not body.username:
        from chalicelib.domain.errors import ValidationError

        raise ValidationError.field("username", "This field may not be blank.")
    account_rules.check_username(body.username)
    service.set_offerings_username(call.ctx, object_id(uuid, PROVIDER_MODEL), body.user_uuid, body.username)
    return Created(render(DetailMessageOut, {"detail": "Offering users have been set."}))
