"""Aggregate usage and limits of a project's or a customer's resources (Waldur's `projects/<uuid>/stats/`
and `customers/<uuid>/stats/`; HomePort's dashboards show them as "Aggregate usage and limits").

Who sees: whoever sees the project (its resources are theirs to see); a customer's stats cover the
resources the caller sees in it: all of them for staff, support and its customer-level roles, those
of the caller's own projects for a project-only member (Waldur would show them the whole customer's).
Reads: one Query of the customer's (or the project's) resources and one BatchGetItem of their offerings.
"""

from __future__ import annotations

from chalicelib.domain.context import Principal
from chalicelib.domain.resources import ComponentTotal, Resource, component_totals
from chalicelib.services import access as access_service
from chalicelib.services import customers, projects
from chalicelib.services.ports import Source
from chalicelib.services.ports import offerings as offering_store
from chalicelib.services.ports import resources as resource_store


def _totals(resources: list[Resource]) -> list[ComponentTotal]:
    """The resources' offerings (one BatchGetItem), by name, and their components' sums."""
    keys = sorted({(r.provider_id, r.offering_id) for r in resources})
    offerings = offering_store.get_many(keys) if keys else []
    return component_totals(resources, sorted(offerings, key=lambda o: (o.name, o.id)))


def project_stats(principal: Principal, project_id: str) -> list[ComponentTotal]:
    project = projects.get_visible(principal, project_id)  # NotFound unless the caller sees it
    return _totals(resource_store.read([Source.consumer(project.customer_id, project.id)], bounded=False))


def customer_stats(principal: Principal, customer_id: str) -> list[ComponentTotal]:
    customer = customers.get_visible(principal, customer_id)  # NotFound unless the caller sees it
    rights = access_service.access(principal)
    if rights.sees_whole_customer(customer.id):
        sources = [Source.consumer(customer.id)]
    else:
        own = sorted(p for p, c in rights.project_grants().items() if c == customer.id)
        sources = [Source.consumer(customer.id, p) for p in own]
    return _totals(resource_store.read(sources, bounded=False) if sources else [])
