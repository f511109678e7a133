"""What a resource's rendering names beyond the resource itself: its offering (description, images,
provider, components), the offering's category and the resource's project (description, end date).

Waldur's ResourceSerializer follows these relations for every row; HomePort's resource lists show
the category column and its details page reads the offering the resource was ordered from
(`marketplace-resources/<uuid>/offering/`). A page of resources is joined with one BatchGetItem per
kind (offerings, categories, projects), whatever the page's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain.context import Principal
from chalicelib.domain.errors import NotFound
from chalicelib.domain.offerings import MODEL as OFFERING_MODEL
from chalicelib.domain.offerings import Category
from chalicelib.domain.orders import Order
from chalicelib.domain.projects import Project
from chalicelib.domain.resources import Resource
from chalicelib.domain.vocabulary import Offering
from chalicelib.services import catalog, orders
from chalicelib.services import resources as service
from chalicelib.services.ports import categories as category_store
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import projects as project_store


@dataclass(frozen=True)
class ResourceView:
    """A resource with its offering, category and project as they are now (None: gone)."""

    resource: Resource
    offering: Offering | None = None
    category: Category | None = None
    project: Project | None = None


def describe(resources: Sequence[Resource]) -> list[ResourceView]:
    """Join each resource with its offering, the offering's category and its project."""
    if not resources:
        return []
    pairs = {(r.provider_id, r.offering_id) for r in resources}
    offerings = {o.id: o for o in offering_store.get_many(pairs)}
    wanted = sorted({o.category_id for o in offerings.values() if o.category_id})
    categories = category_store.get_many(wanted) if wanted else {}
    projects = {p.id: p for p in project_store.get_many({r.project_id: r.customer_id for r in resources})}
    views = []
    for r in resources:
        offering = offerings.get(r.offering_id)
        category = categories.get(offering.category_id or "") if offering else None
        views.append(ResourceView(r, offering, category, projects.get(r.project_id)))
    return views


def describe_one(resource: Resource) -> ResourceView:
    return describe([resource])[0]


def offering_of(principal: Principal, resource_id: str, provider_view: bool) -> catalog.OfferingView:
    """The offering the resource was ordered from, as the public catalog renders it (no secret
    options), to whoever sees the resource: also when the catalog no longer lists the offering
    (paused, archived, not shared), as Waldur's `offering/` action answers it."""
    resource = service.get_visible(principal, resource_id, provider_view)
    offering = offering_store.get(resource.offering_id)
    if offering is None:
        raise NotFound(OFFERING_MODEL)
    return catalog.for_consumers(offering)


@dataclass(frozen=True)
class OpenOrders:
    """Waldur's `order_in_progress` and `creation_order` of a resource (None: none, or not seen)."""

    in_progress: Order | None
    creation: Order | None


def orders_of(principal: Principal, resource: Resource) -> OpenOrders:
    """The order changing the resource now and the one that made it, as the caller sees them
    (HomePort's details page shows the order in progress, or a failed creation order)."""
    return OpenOrders(
        _order(principal, resource.order_in_progress_id), _order(principal, resource.creation_order_id)
    )


def _order(principal: Principal, order_id: str | None) -> Order | None:
    if not order_id:
        return None
    try:
        return orders.get_visible(principal, order_id)
    except NotFound:
        return None
