"""Slugs and a resource's own changes through the real clients, parsed strictly: waldur-api-client's
Customer, Project and Resource (both views) with `slug`, `project_slug`, `customer_slug`; the
`?slug=` filters the site agent uses; `set_slug/` (Status); PATCH and PUT (ResourceUpdate);
`set_end_date/` in both views, `set_end_date_by_provider/`, `update_options/`; and
python-waldur-client's `update_marketplace_resource` (its PATCH, which used to answer 405)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from tests.marketplace_helpers import build_market, ctx_of, order_request


@pytest.fixture
def aws(stack):
    """Orders start their workflow (recorded by moto, not run)."""
    yield


@pytest.fixture
def market(aws, admin):
    return build_market(admin)


def _refused(call: Any, **kwargs: Any) -> tuple[int, Any]:
    """A 400 the client has no model for: its generated parser raises UnexpectedStatus with it."""
    from waldur_api_client.errors import UnexpectedStatus

    with pytest.raises(UnexpectedStatus) as refused:
        call(**kwargs)
    return refused.value.status_code, json.loads(refused.value.content)


def _resource(market: Any, name: str = "vm-1") -> Any:
    from chalicelib.services import orders

    order = orders.create_order(ctx_of(market.staff), order_request(market, attributes={"name": name}))
    return order.resource_id


def test_slugs_parse_strictly_and_filter(server, market, api):
    from waldur_api_client.api.customers import customers_list, customers_retrieve
    from waldur_api_client.api.marketplace_provider_resources import (
        marketplace_provider_resources_list,
        marketplace_provider_resources_retrieve,
    )
    from waldur_api_client.api.marketplace_resources import (
        marketplace_resources_list,
        marketplace_resources_retrieve,
    )
    from waldur_api_client.api.projects import projects_list, projects_retrieve, projects_set_slug
    from waldur_api_client.models import ProjectSlugRequest

    resource_id = _resource(market, "Big Compute Node")
    customer = customers_retrieve.sync(uuid=market.consumer.id, client=api)
    project = projects_retrieve.sync(uuid=market.project.id, client=api)
    assert (customer.slug, project.slug, project.customer_slug) == ("acme-1", "apollo-1", "acme-1")
    for view in (marketplace_resources_retrieve, marketplace_provider_resources_retrieve):
        resource = view.sync(uuid=resource_id, client=api)
        assert (resource.slug, resource.project_slug, resource.customer_slug) == (
            "big-comp-1",
            "apollo-1",
            "acme-1",
        )

    # the agent finds a project by its slug (resource import), and resources likewise
    assert [p.uuid.hex for p in projects_list.sync(client=api, slug="apollo-1")] == [market.project.id]
    assert projects_list.sync(client=api, slug="apollo-2") == []
    assert [c.uuid.hex for c in customers_list.sync(client=api, slug="acme-1")] == [market.consumer.id]
    for listing in (marketplace_resources_list, marketplace_provider_resources_list):
        assert [r.uuid.hex for r in listing.sync(client=api, slug="big-comp-1")] == [resource_id]

    status = projects_set_slug.sync(
        uuid=market.project.id, client=api, body=ProjectSlugRequest(slug="apollo")
    )
    assert status.status == "Project slug has been changed."
    assert projects_retrieve.sync(uuid=market.project.id, client=api).slug == "apollo"


def test_set_slug_on_resources_and_its_400s(server, market, api):
    from waldur_api_client.api.marketplace_provider_resources import marketplace_provider_resources_set_slug
    from waldur_api_client.api.marketplace_resources import marketplace_resources_set_slug
    from waldur_api_client.models import ResourceSlugRequest

    first, second = _resource(market), _resource(market)
    status = marketplace_resources_set_slug.sync(
        uuid=first, client=api, body=ResourceSlugRequest(slug="alloc-a")
    )
    assert status.status == "Resource slug has been changed."
    same = marketplace_provider_resources_set_slug.sync(
        uuid=first, client=api, body=ResourceSlugRequest(slug="alloc-a")
    )
    assert same.status == "Resource slug is not changed."
    taken = _refused(
        marketplace_resources_set_slug.sync, uuid=second, client=api, body=ResourceSlugRequest(slug="alloc-a")
    )
    assert taken == (400, {"slug": ["This slug is already in use."]})
    bad = _refused(
        marketplace_resources_set_slug.sync, uuid=second, client=api, body=ResourceSlugRequest(slug="a b")
    )
    assert bad[0] == 400 and list(bad[1]) == ["slug"]


def test_resource_updates_parse_strictly(server, market, api):
    from waldur_api_client.api.marketplace_provider_resources import (
        marketplace_provider_resources_partial_update,
        marketplace_provider_resources_set_end_date,
        marketplace_provider_resources_set_end_date_by_provider,
    )
    from waldur_api_client.api.marketplace_resources import (
        marketplace_resources_partial_update,
        marketplace_resources_retrieve,
        marketplace_resources_set_end_date,
        marketplace_resources_update,
        marketplace_resources_update_options,
    )
    from waldur_api_client.models import (
        PatchedResourceUpdateRequest,
        ResourceEndDateByProviderRequest,
        ResourceEndDateRequest,
        ResourceOptionsRequest,
        ResourceUpdateRequest,
    )
    from waldur_api_client.models.resource_options_request_options_type_0 import (
        ResourceOptionsRequestOptionsType0,
    )

    resource_id = _resource(market)
    today = dt.date.today()
    patched = marketplace_resources_partial_update.sync(
        uuid=resource_id, client=api, body=PatchedResourceUpdateRequest(name="vm-renamed", description="d")
    )
    assert (patched.name, patched.description) == ("vm-renamed", "d")
    put = marketplace_resources_update.sync(
        uuid=resource_id, client=api, body=ResourceUpdateRequest(name="vm-put", end_date=today)
    )
    assert (put.name, put.end_date) == ("vm-put", today)
    yesterday = PatchedResourceUpdateRequest(end_date=today - dt.timedelta(days=1))
    past = _refused(marketplace_resources_partial_update.sync, uuid=resource_id, client=api, body=yesterday)
    assert past == (400, {"end_date": ["Cannot be earlier than the current date."]})

    marketplace_resources_set_end_date.sync_detailed(
        uuid=resource_id, client=api, body=ResourceEndDateRequest(end_date=None)
    )
    assert marketplace_resources_retrieve.sync(uuid=resource_id, client=api).end_date is None
    week = today + dt.timedelta(days=7)
    marketplace_provider_resources_set_end_date.sync_detailed(
        uuid=resource_id, client=api, body=ResourceEndDateRequest(end_date=week)
    )
    assert marketplace_resources_retrieve.sync(uuid=resource_id, client=api).end_date == week
    soon = _refused(
        marketplace_provider_resources_set_end_date_by_provider.sync_detailed,
        uuid=resource_id,
        client=api,
        body=ResourceEndDateByProviderRequest(end_date=today),
    )
    assert soon == (400, {"end_date": ["Please set at least 7 days in advance."]})
    renamed = marketplace_provider_resources_partial_update.sync(
        uuid=resource_id, client=api, body=PatchedResourceUpdateRequest(name="by-provider")
    )
    assert renamed.name == "by-provider"

    options = ResourceOptionsRequest(options=ResourceOptionsRequestOptionsType0.from_dict({"a": 1}))
    refused = _refused(marketplace_resources_update_options.sync, uuid=resource_id, client=api, body=options)
    assert refused == (400, {"options": ["Metadata for resource options is not defined."]})


def test_python_waldur_client_patches_a_resource(server, market, waldur):
    resource_id = _resource(market)
    changed = waldur.update_marketplace_resource(resource_id, name="vm-9", description="nine")
    assert (changed["name"], changed["description"]) == ("vm-9", "nine")
    assert waldur.update_marketplace_provider_resource(resource_id, name="vm-10")["name"] == "vm-10"
