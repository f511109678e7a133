"""`/api/marketplace-service-providers/` (list, retrieve, create) and `/api/marketplace-categories/`
(list and retrieve for anybody, anonymous too; staff create, update and delete), in Waldur's
ServiceProvider and MarketplaceCategory fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field

from chalicelib.api.fields import UuidFilter, changes, free_text, name_text, partial, patch_changes
from chalicelib.api.marketplace_catalog import CATEGORIES, TAG
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    FieldsQuery,
    ListQuery,
    NoContent,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain.ids import id_from_url, parse_id
from chalicelib.domain.offerings import CATEGORY_MODEL, PROVIDER_MODEL, Category
from chalicelib.services import catalog
from chalicelib.services import categories as category_service
from chalicelib.services import service_providers as service
from chalicelib.services.catalog import OfferingFilters
from chalicelib.services.paging import paginate
from chalicelib.services.service_providers import ProviderView

bp = Blueprint(__name__)
PROVIDERS = "marketplace-service-providers"


# --- service providers ---------------------------------------------------------------------------
class ServiceProviderIn(BodyModel):
    customer: str = Field(min_length=1)
    description: free_text(2000) = ""  # type: ignore[valid-type]
    enable_notifications: bool = True


class ServiceProviderOut(ResponseModel):
    omit_when_null = frozenset({"offering_count"})

    url: str
    uuid: str
    created: datetime
    description: str
    enable_notifications: bool
    customer: str
    customer_name: str
    customer_uuid: str
    customer_abbreviation: str
    customer_native_name: str
    customer_country: str
    customer_slug: str
    image: str | None = None
    organization_groups: list[Any]
    offering_count: int | None = None
    allowed_domains: list[str]


class ServiceProviderQuery(ListQuery):
    customer: str | None = None
    customer_uuid: UuidFilter | None = None
    name: str | None = None  # the customer's name contains


def provider_data(call: Call, view: ProviderView) -> dict[str, Any]:
    p, customer = view.provider, view.customer
    return {
        "url": call.url(PROVIDERS, p.id),
        "uuid": p.id,
        "created": p.created,
        "description": p.description,
        "enable_notifications": p.enable_notifications,
        "customer": call.url("customers", p.customer_id),
        "customer_uuid": p.customer_id,
        "customer_name": customer.name if customer else "",
        "customer_abbreviation": customer.abbreviation if customer else "",
        "customer_native_name": customer.native_name if customer else "",
        "customer_country": customer.country if customer else "",
        "customer_slug": p.customer_id[:12],
        "image": p.image,
        "organization_groups": [],
        "offering_count": view.offering_count if view.offering_count else None,
        "allowed_domains": [],
    }


@endpoint(bp, f"/api/{PROVIDERS}", "GET", name="marketplace_service_providers_list", tag=TAG,
          query=ServiceProviderQuery, response=ServiceProviderOut, many=True, anonymous=True,
          summary="Service providers by customer name (anonymous allowed, as Waldur's)")  # fmt: skip
def list_providers(call: Call) -> Any:
    q: ServiceProviderQuery = call.query
    customer = q.customer_uuid or (id_from_url(q.customer) or "-" if q.customer else None)
    rows = service.list_providers(parse_id(customer) or customer if customer else None, q.name)
    page = paginate(rows, q.page_request())
    return listed(call, page, ServiceProviderOut, lambda v: provider_data(call, v))


@endpoint(bp, f"/api/{PROVIDERS}", "POST", name="marketplace_service_providers_create", tag=TAG,
          body=ServiceProviderIn, response=ServiceProviderOut, status=201,
          summary="Register a customer as a service provider (staff or its owner)")  # fmt: skip
def create_provider(call: Call) -> Any:
    body: ServiceProviderIn = call.body
    fields = changes(body, exclude=frozenset({"customer"}))
    view = service.register(call.ctx, id_from_url(body.customer), fields)
    return Created(render(ServiceProviderOut, provider_data(call, view)))


@endpoint(bp, f"/api/{PROVIDERS}/{{uuid}}", "GET", name="marketplace_service_providers_retrieve", tag=TAG,
          query=FieldsQuery, response=ServiceProviderOut, anonymous=True)  # fmt: skip
def retrieve_provider(call: Call, uuid: str) -> Any:
    view = service.get(object_id(uuid, PROVIDER_MODEL))
    return render(ServiceProviderOut, provider_data(call, view), call.query.field)


# --- categories ------------------------------------------------------------------------------------
class CategoryIn(BodyModel):
    title: name_text(255)  # type: ignore[valid-type]
    description: free_text() = ""  # type: ignore[valid-type]
    icon: str | None = None
    default_vm_category: bool = False
    default_volume_category: bool = False
    default_tenant_category: bool = False


CategoryPatch = partial(CategoryIn, "CategoryPatch", nullable=frozenset({"icon"}))


class CategoryOut(ResponseModel):
    url: str
    uuid: str
    title: str
    description: str
    icon: str | None = None
    default_vm_category: bool
    default_volume_category: bool
    default_tenant_category: bool
    offering_count: int
    available_offerings_count: int
    sections: list[Any]
    columns: list[Any]
    components: list[Any]
    articles: list[Any]


class CategoryQuery(ListQuery):
    title: str | None = None
    name_exact: str | None = None  # python-waldur-client looks a category up by name: its exact title
    # HomePort's sidebar and landing page: only categories with offerings the caller may order, and
    # `offering_count` counting those a customer may order (shared ones and its own).
    has_offerings: bool | None = None
    allowed_customer_uuid: UuidFilter | None = None

    def offering_filters(self) -> OfferingFilters:
        allowed = parse_id(self.allowed_customer_uuid) if self.allowed_customer_uuid else None
        return OfferingFilters(allowed_customer_id=allowed)


def category_data(call: Call, category: Category, offering_count: int = 0) -> dict[str, Any]:
    """A category; `offering_count`: the catalog offerings in it the caller may order (as
    `available_offerings_count`: Waldur counts the same offerings there for its catalog)."""
    return {
        "url": call.url(CATEGORIES, category.id),
        "uuid": category.id,
        "title": category.title,
        "description": category.description,
        "icon": category.icon,
        "default_vm_category": category.default_vm_category,
        "default_volume_category": category.default_volume_category,
        "default_tenant_category": category.default_tenant_category,
        "offering_count": offering_count,
        "available_offerings_count": offering_count,
        "sections": [],
        "columns": [],
        "components": [],
        "articles": [],
    }


def _category(call: Call, category: Category) -> dict[str, Any]:
    count = catalog.orderable_counts(call.principal, OfferingFilters()).get(category.id, 0)
    return render(CategoryOut, category_data(call, category, count), getattr(call.query, "field", ()))


@endpoint(bp, f"/api/{CATEGORIES}", "GET", name="marketplace_categories_list", tag=TAG, query=CategoryQuery,
          response=CategoryOut, many=True, anonymous=True, summary="Categories by title")  # fmt: skip
def list_categories(call: Call) -> Any:
    q: CategoryQuery = call.query
    counts = catalog.orderable_counts(call.principal, q.offering_filters())
    found = category_service.list_categories(q.title, q.name_exact)
    if q.has_offerings is not None:
        found = [c for c in found if (counts.get(c.id, 0) > 0) is q.has_offerings]
    page = paginate(found, q.page_request())
    return listed(call, page, CategoryOut, lambda c: category_data(call, c, counts.get(c.id, 0)))


@endpoint(bp, f"/api/{CATEGORIES}", "POST", name="marketplace_categories_create", tag=TAG, body=CategoryIn,
          response=CategoryOut, status=201, summary="Create a category (staff)")  # fmt: skip
def create_category(call: Call) -> Any:
    return Created(_category(call, category_service.create_category(call.ctx, changes(call.body))))


@endpoint(bp, f"/api/{CATEGORIES}/{{uuid}}", "GET", name="marketplace_categories_retrieve", tag=TAG,
          query=FieldsQuery, response=CategoryOut, anonymous=True)  # fmt: skip
def retrieve_category(call: Call, uuid: str) -> Any:
    return _category(call, category_service.get(object_id(uuid, CATEGORY_MODEL)))


@endpoint(bp, f"/api/{CATEGORIES}/{{uuid}}", "PUT", name="marketplace_categories_update", tag=TAG,
          body=CategoryIn, response=CategoryOut, summary="Change a category (staff)")  # fmt: skip
def update_category(call: Call, uuid: str) -> Any:
    changed = category_service.update_category(call.ctx, object_id(uuid, CATEGORY_MODEL), changes(call.body))
    return _category(call, changed)


@endpoint(bp, f"/api/{CATEGORIES}/{{uuid}}", "PATCH", name="marketplace_categories_partial_update", tag=TAG,
          body=CategoryPatch, response=CategoryOut,
          summary="Change some fields of a category (staff)")  # fmt: skip
def partial_update_category(call: Call, uuid: str) -> Any:
    sent = patch_changes(call.body)
    return _category(call, category_service.update_category(call.ctx, object_id(uuid, CATEGORY_MODEL), sent))


@endpoint(bp, f"/api/{CATEGORIES}/{{uuid}}", "DELETE", name="marketplace_categories_destroy", tag=TAG,
          status=204, summary="Delete a category (staff)")  # fmt: skip
def delete_category(call: Call, uuid: str) -> Any:
    category_service.delete_category(call.ctx, object_id(uuid, CATEGORY_MODEL))
    return NoContent()
