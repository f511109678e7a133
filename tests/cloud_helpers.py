"""A market with an offering of the fake cloud type (tests/fakes/cloud.py), and resources imported
from it: the setting of the provider-plugin platform tests."""

from __future__ import annotations

from typing import Any

from tests.fakes.cloud import TYPE, FakeCloud
from tests.marketplace_helpers import Market, ctx_of, make_offering


def cloud_offering(market: Market, name: str = "Cloud", offering_type: str = TYPE, **fields: Any) -> Any:
    """An active offering of `Test.Cloud` (or another fake cloud type) by the market's provider
    (components: cpu, cores (limits) and traffic (usage))."""
    return make_offering(market.staff, market.provider.id, offering_type, name=name, **fields)


def imported(market: Market, offering: Any, cloud: FakeCloud, backend_id: str, **remote: Any) -> Any:
    """A resource of the market's project made from `backend_id`, which the cloud gets first."""
    from chalicelib.services import provider_imports
    from chalicelib.workflows.cloud_driver import backend_for

    if backend_id not in cloud.resources:
        cloud.add(backend_id, **remote)
    return provider_imports.import_resource(
        ctx_of(market.staff), offering.id, backend_for, backend_id, market.project.id
    )


def current(resource: Any) -> Any:
    from chalicelib.store import resources

    return resources.load(resource.customer_id, resource.project_id, resource.id)
