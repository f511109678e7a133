"""What HomePort's marketplace pages read besides offerings and categories, in Waldur's shapes:

- `GET /api/marketplace-plugins/` (anonymous): each offering type of the plugin registry with its
  built-in components; the offering page and the order form look their type up in it (a type
  missing from it breaks both pages).
- `GET /api/marketplace-plan-components/` (anonymous): the price of each component in each plan of
  the catalog offerings the caller sees (the offering page's price list).
- `GET /api/marketplace-category-groups/` (anonymous): Cirrus has no category groups, so the list is
  empty and every group is a 404 (the landing page then shows the categories ungrouped).
- `GET /api/marketplace-global-categories/`: per category uuid, the caller's resources that are not
  Terminated (the sidebar's badges, on every page).
- `GET /api/marketplace-offering-permissions/`: the roles on a provider's offerings (its dashboard
  lists the offering managers); Waldur's `pk` (a database id) has no counterpart and is left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import RootModel

from chalicelib.api.fields import UuidFilter
from chalicelib.api.marketplace_catalog import TAG
from chalicelib.api.rest import Call, FieldsQuery, ListQuery, QueryModel, ResponseModel, endpoint, listed
from chalicelib.domain.errors import NotFound
from chalicelib.domain.ids import id_from_url, parse_id
from chalicelib.domain.vocabulary import BillingType
from chalicelib.providers import registry
from chalicelib.services import catalog, market_queries
from chalicelib.services import offering_permissions as permissions
from chalicelib.services.paging import paginate

bp = Blueprint(__name__)
PLUGINS = "marketplace-plugins"
PLAN_COMPONENTS = "marketplace-plan-components"
CATEGORY_GROUPS = "marketplace-category-groups"
GLOBAL_CATEGORIES = "marketplace-global-categories"
CATEGORY_GROUP_MODEL = "CategoryGroup"


# --- plugins -------------------------------------------------------------------------------------
class PluginComponentOut(ResponseModel):
    type: str
    name: str
    measured_unit: str
    billing_type: str


class PluginOut(ResponseModel):
    """Waldur's PluginOfferingType. `available_limits`: the component types whose limits the type
    lets a customer choose (Waldur's `available_limits` of a plugin's registration, e.g.
    OpenStack.Tenant's cores, ram and storage): a cloud type's `limit` components; the other types
    declare none (Waldur's Marketplace.Basic neither), so the order form takes limits from the
    offering's components."""

    offering_type: str
    components: list[PluginComponentOut]
    available_limits: list[str]


def plugin_data(name: str) -> dict[str, Any]:
    found = registry.get_type(name)
    templates = found.components if found else ()
    cloud = found is not None and found.cloud is not None
    return {
        "offering_type": name,
        "components": [
            {
                "type": t.type,
                "name": t.name,
                "measured_unit": t.measured_unit,
                "billing_type": t.billing_type.value,
            }
            for t in templates
        ],
        "available_limits": [t.type for t in templates if cloud and t.billing_type is BillingType.LIMIT],
    }


@endpoint(bp, f"/api/{PLUGINS}", "GET", name="marketplace_plugins_list", tag=TAG, response=PluginOut,
          unpaged=True, anonymous=True,
          summary="The offering types of the plugin registry and their built-in components")  # fmt: skip
def list_plugins(call: Call) -> Any:
    return [plugin_data(name) for name in registry.offering_types()]


# --- plan components -----------------------------------------------------------------------------
class PlanComponentQuery(ListQuery):
    offering_uuid: UuidFilter | None = None
    plan_uuid: UuidFilter | None = None
    shared: bool | None = None
    archived: bool | None = None

    def filters(self) -> catalog.PlanComponentFilters:
        return catalog.PlanComponentFilters(
            offering_id=parse_id(self.offering_uuid) if self.offering_uuid else None,
            plan_id=parse_id(self.plan_uuid) if self.plan_uuid else None,
            shared=self.shared,
            archived=self.archived,
        )


class PlanComponentOut(ResponseModel):
    """Waldur's PlanComponent; `future_price` is null (Cirrus schedules no price changes)."""

    offering_uuid: str
    offering_name: str
    plan_uuid: str
    plan_name: str
    plan_unit: str
    component_name: str
    measured_unit: str
    billing_type: str
    amount: int
    price: str
    future_price: str | None = None


def plan_component_data(row: catalog.PlanComponentRow) -> dict[str, Any]:
    o, plan, c = row.offering, row.plan, row.component
    price = plan.prices.get(c.type)
    return {
        "offering_uuid": o.id,
        "offering_name": o.name,
        "plan_uuid": plan.id,
        "plan_name": plan.name,
        "plan_unit": plan.unit.value,
        "component_name": c.name,
        "measured_unit": c.measured_unit,
        "billing_type": c.billing_type.value,
        "amount": plan.quotas.get(c.type, 0),
        "price": f"{price:f}" if price is not None else "0",
        "future_price": None,
    }


@endpoint(bp, f"/api/{PLAN_COMPONENTS}", "GET", name="marketplace_plan_components_list", tag=TAG,
          query=PlanComponentQuery, response=PlanComponentOut, many=True, anonymous=True,
          summary="Each component's price in each plan of the catalog offerings the caller sees")  # fmt: skip
def list_plan_components(call: Call) -> Any:
    q: PlanComponentQuery = call.query
    page = paginate(catalog.plan_components(call.principal, q.filters()), q.page_request())
    return listed(call, page, PlanComponentOut, plan_component_data)


# --- category groups -----------------------------------------------------------------------------
class CategoryGroupQuery(ListQuery):
    title: str | None = None


class CategoryGroupOut(ResponseModel):
    url: str
    uuid: str
    title: str
    description: str
    icon: str | None = None


@endpoint(bp, f"/api/{CATEGORY_GROUPS}", "GET", name="marketplace_category_groups_list", tag=TAG,
          query=CategoryGroupQuery, response=CategoryGroupOut, many=True, anonymous=True,
          summary="Category groups: none in Cirrus (an empty list)")  # fmt: skip
def list_category_groups(call: Call) -> Any:
    q: CategoryGroupQuery = call.query
    return listed(call, paginate([], q.page_request()), CategoryGroupOut, lambda g: g)


@endpoint(bp, f"/api/{CATEGORY_GROUPS}/{{uuid}}", "GET", name="marketplace_category_groups_retrieve",
          tag=TAG, query=FieldsQuery, response=CategoryGroupOut, anonymous=True,
          summary="A category group: none exists in Cirrus (404)")  # fmt: skip
def retrieve_category_group(call: Call, uuid: str) -> Any:
    raise NotFound(CATEGORY_GROUP_MODEL)


# --- global categories ---------------------------------------------------------------------------
class GlobalCategoriesQuery(QueryModel):
    customer_uuid: UuidFilter | None = None
    project_uuid: UuidFilter | None = None


class GlobalCategoriesOut(RootModel[dict[str, int]]):
    pass


@endpoint(bp, f"/api/{GLOBAL_CATEGORIES}", "GET", name="marketplace_global_categories_retrieve", tag=TAG,
          query=GlobalCategoriesQuery, response=GlobalCategoriesOut,
          summary="Per category uuid, how many of the caller's resources are not Terminated")  # fmt: skip
def global_categories(call: Call) -> Any:
    q: GlobalCategoriesQuery = call.query
    return market_queries.live_resources_by_category(
        call.user,
        customer_id=parse_id(q.customer_uuid) if q.customer_uuid else None,
        project_id=parse_id(q.project_uuid) if q.project_uuid else None,
    )


# --- offering permissions ------------------------------------------------------------------------
OFFERING_PERMISSIONS = "marketplace-offering-permissions"


class OfferingPermissionQuery(ListQuery):
    customer: str | None = None  # a customer's uuid (HomePort sends it so) or URL
    customer_uuid: UuidFilter | None = None
    offering: str | None = None  # an offering's uuid or URL
    user: str | None = None  # a user's uuid or URL

    def filters(self) -> permissions.OfferingPermissionFilters:
        def ref(value: str | None) -> str | None:
            return None if value is None else (id_from_url(value) or parse_id(value) or "-")

        return permissions.OfferingPermissionFilters(
            customer_id=parse_id(self.customer_uuid) if self.customer_uuid else ref(self.customer),
            offering_id=ref(self.offering),
            user_id=ref(self.user),
        )


class OfferingPermissionOut(ResponseModel):
    """Waldur's OfferingPermission (without `pk`)."""

    url: str
    created: datetime
    created_by: str | None = None
    offering: str
    offering_uuid: str
    offering_slug: str
    offering_name: str
    role: str
    role_name: str
    user: str
    user_full_name: str
    user_native_name: str
    user_username: str
    user_uuid: str
    user_email: str
    expiration_time: datetime | None = None


def offering_permission_data(call: Call, row: permissions.OfferingPermission) -> dict[str, Any]:
    g, user, offering = row.grant, row.user, row.offering
    return {
        "url": call.url(OFFERING_PERMISSIONS, g.id),
        "created": g.created,
        "created_by": call.url("users", g.created_by_id) if g.created_by_id else None,
        "offering": call.url("marketplace-provider-offerings", offering.id),
        "offering_uuid": offering.id,
        "offering_slug": offering.id[:12],
        "offering_name": offering.name,
        "role": row.role.name,
        "role_name": row.role.name,
        "user": call.url("users", user.id),
        "user_full_name": user.full_name,
        "user_native_name": user.native_name,
        "user_username": user.username,
        "user_uuid": user.id,
        "user_email": user.email,
        "expiration_time": g.expiration_time,
    }


@endpoint(bp, f"/api/{OFFERING_PERMISSIONS}", "GET", name="marketplace_offering_permissions_list", tag=TAG,
          query=OfferingPermissionQuery, response=OfferingPermissionOut, many=True,
          summary="Roles on the offerings of the providers whose whole customer the caller sees")  # fmt: skip
def list_offering_permissions(call: Call) -> Any:
    q: OfferingPermissionQuery = call.query
    rows = permissions.list_offering_permissions(call.user, q.filters())
    return listed(
        call,
        paginate(rows, q.page_request()),
        OfferingPermissionOut,
        lambda r: offering_permission_data(call, r),
    )
