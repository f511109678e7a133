"""The marketplace catalog through the real clients over HTTP: python-waldur-client's offering
methods as Waldur's Ansible modules call them, and waldur-api-client's strict parsers of
ProviderOfferingDetails, PublicOfferingDetails, BasePublicPlan, ProviderPlanDetails, ServiceProvider,
MarketplaceCategory and DetailState."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from uuid import UUID

import pytest
from waldur_api_client.api.marketplace_categories import marketplace_categories_list
from waldur_api_client.api.marketplace_plans import marketplace_plans_list, marketplace_plans_retrieve
from waldur_api_client.api.marketplace_provider_offerings import (
    marketplace_provider_offerings_activate,
    marketplace_provider_offerings_create,
    marketplace_provider_offerings_list,
    marketplace_provider_offerings_pause,
    marketplace_provider_offerings_retrieve,
    marketplace_provider_offerings_update_integration,
)
from waldur_api_client.api.marketplace_public_offerings import (
    marketplace_public_offerings_list,
    marketplace_public_offerings_plans_list,
    marketplace_public_offerings_plans_retrieve,
    marketplace_public_offerings_retrieve,
)
from waldur_api_client.api.marketplace_service_providers import marketplace_service_providers_list
from waldur_api_client.models.base_public_plan import BasePublicPlan
from waldur_api_client.models.detail_state import DetailState
from waldur_api_client.models.marketplace_category import MarketplaceCategory
from waldur_api_client.models.offering_create_request import OfferingCreateRequest
from waldur_api_client.models.offering_integration_update_request import OfferingIntegrationUpdateRequest
from waldur_api_client.models.offering_pause_request import OfferingPauseRequest
from waldur_api_client.models.offering_state import OfferingState
from waldur_api_client.models.provider_offering_details import ProviderOfferingDetails
from waldur_api_client.models.provider_plan_details import ProviderPlanDetails
from waldur_api_client.models.public_offering_details import PublicOfferingDetails
from waldur_api_client.models.service_provider import ServiceProvider

from tests.conftest import make_account

pytestmark = pytest.mark.compat

COMPONENTS = [
    {"type": "cores", "name": "Cores", "measured_unit": "cores", "billing_type": "limit", "max_value": 32},
    {"type": "storage", "name": "Storage", "measured_unit": "GB", "billing_type": "usage"},
]
PLANS = [
    {"name": "Monthly", "unit": "month", "unit_price": "25.00", "prices": {"cores": "3", "storage": "0.1"}}
]


def _catalog(waldur: Any) -> tuple[dict[str, Any], str]:
    """A provider customer and a category, as python-waldur-client's callers make them."""
    customer = waldur.create_customer(name="Cloud Provider")
    category = waldur._post(f"{waldur.api_url}marketplace-categories/", [201], json={"title": "Compute"})
    return customer, category["uuid"]


def test_python_waldur_client_creates_activates_and_reads_an_offering(waldur):
    customer, category_uuid = _catalog(waldur)
    params = {
        "name": "Virtual machines",
        "category": "Compute",  # looked up by name (name_exact)
        "customer": customer["uuid"],
        "type": "Marketplace.Slurm",
        "description": "VMs by the core",
        "components": COMPONENTS,
        "plans": PLANS,
        "plugin_options": {},
    }
    offering, changed = waldur.create_offering(params)
    assert changed and offering["state"] == "Draft" and offering["category_uuid"] == category_uuid
    assert waldur.activate_offering(offering["uuid"]) == {
        "detail": "Offering state updated.",
        "state": "Active",
    }

    fetched = waldur.get_marketplace_provider_offering(offering["uuid"])
    assert (fetched["state"], fetched["plugin_options"]) == ("Active", {})
    assert {c["type"] for c in fetched["components"]} == {"cores", "storage", "cpu", "gpu", "ram"}
    public = waldur.get_marketplace_public_offering(offering["uuid"])
    assert [p["name"] for p in public["plans"]] == ["Monthly"]
    [listed] = waldur.list_marketplace_public_offerings({"name_exact": "Virtual machines"})
    assert listed["uuid"] == offering["uuid"]
    assert [o["uuid"] for o in waldur.list_marketplace_provider_offerings()] == [offering["uuid"]]

    # What create_marketplace_order reads: the offering by name for a project, and the plan's URL.
    project = waldur.create_project(customer_uuid=customer["uuid"], name="Apollo")
    assert waldur._get_offering("Virtual machines", project["uuid"])["uuid"] == offering["uuid"]
    [plan] = waldur.marketplace_public_offering_get_plans(offering["uuid"])
    detail = waldur.marketplace_public_offering_get_plan_details(offering["uuid"], plan["uuid"])
    assert detail["url"].endswith(
        f"/api/marketplace-public-offerings/{offering['uuid']}/plans/{plan['uuid']}/"
    )
    assert (detail["unit_price"], detail["prices"]) == ("25.00", {"cores": "3", "storage": "0.1"})


def test_python_waldur_client_manages_components_roles_providers_and_categories(waldur):
    customer, _ = _catalog(waldur)
    params = {
        "name": "Storage",
        "category": "Compute",
        "customer": customer["uuid"],
        "type": "Marketplace.Basic",
        "components": COMPONENTS[:1],
        "plans": [{"name": "Monthly", "unit": "month"}],
    }
    offering, _ = waldur.create_offering(params)
    waldur.create_offering_component(
        offering["uuid"], {"type": "backup", "name": "Backup", "billing_type": "usage", "measured_unit": "GB"}
    )
    fetched = waldur.get_marketplace_provider_offering(offering["uuid"])
    backup = next(c for c in fetched["components"] if c["type"] == "backup")
    waldur.update_offering_component(offering["uuid"], {**backup, "name": "Backups"})
    names = {
        c["type"]: c["name"] for c in waldur.get_marketplace_provider_offering(offering["uuid"])["components"]
    }
    assert names == {"cores": "Cores", "backup": "Backups"}

    # Offering roles, on the path python-waldur-client uses (offerings/<uuid>/...).
    manager = make_account("manager")
    role = next(r for r in waldur._get_all(f"{waldur.api_url}roles/") if r["name"] == "OFFERING.MANAGER")
    waldur.create_offering_permission(offering["uuid"], manager.id, role["uuid"])
    [member] = waldur.get_offering_permissions(offering["uuid"], user_uuid=manager.id)
    assert (member["role_name"], member["user_username"]) == ("OFFERING.MANAGER", "manager")
    waldur.update_offering_permission(offering["uuid"], manager.id, role["uuid"], "2099-01-01T00:00:00Z")
    waldur.remove_offering_permission(offering["uuid"], manager.id, role["uuid"])
    assert waldur.get_offering_permissions(offering["uuid"]) == []

    # The customer became a provider with its first offering; the site agent finds it this way.
    [provider] = waldur.list_service_providers({"customer_uuid": customer["uuid"]})
    assert (provider["customer_uuid"], provider["customer_name"]) == (customer["uuid"], "Cloud Provider")
    assert [c["title"] for c in waldur.list_marketplace_categories()] == ["Compute"]

    waldur.delete_offering(offering["uuid"])  # a Draft nobody ordered
    assert waldur.list_marketplace_provider_offerings() == []


# --- waldur-api-client: strict parsing -----------------------------------------------------------
def _created(api: Any, customer_url: str, category_url: str) -> ProviderOfferingDetails:
    body = OfferingCreateRequest.from_dict(
        {
            "name": "HPC",
            "category": category_url,
            "customer": customer_url,
            "type": "Cirrus.Demo",
            "components": COMPONENTS,
            "plans": [{"name": "Monthly", "unit": "month", "unit_price": "10"}],
            "plugin_options": {},
            "attributes": {"site": "eu"},
        }
    )
    reply = marketplace_provider_offerings_create.sync_detailed(client=api, body=body)
    assert reply.status_code == HTTPStatus.CREATED, reply.content
    assert isinstance(reply.parsed, ProviderOfferingDetails)
    return reply.parsed


def test_waldur_api_client_parses_provider_and_public_offerings_strictly(api, waldur):
    customer, _ = _catalog(waldur)
    [category] = marketplace_categories_list.sync(client=api) or []
    assert isinstance(category, MarketplaceCategory) and category.title == "Compute"
    offering = _created(api, customer["url"], str(category.url))
    assert offering.state == OfferingState.DRAFT and offering.type_ == "Cirrus.Demo"
    assert offering.customer_uuid == UUID(customer["uuid"]) and offering.category_title == "Compute"
    assert offering.plugin_options.additional_properties["failure_rate"] == 0.0

    state = marketplace_provider_offerings_activate.sync(uuid=offering.uuid, client=api)
    assert isinstance(state, DetailState) and state.state == "Active"
    paused = marketplace_provider_offerings_pause.sync(
        uuid=offering.uuid, client=api, body=OfferingPauseRequest(paused_reason="upgrade")
    )
    assert isinstance(paused, DetailState) and paused.state == "Paused"
    integration = OfferingIntegrationUpdateRequest.from_dict({"plugin_options": {"delay_seconds": 1}})
    updated = marketplace_provider_offerings_update_integration.sync_detailed(
        uuid=offering.uuid, client=api, body=integration
    )
    assert updated.status_code == HTTPStatus.OK, updated.content

    fetched = marketplace_provider_offerings_retrieve.sync(uuid=offering.uuid, client=api)
    assert isinstance(fetched, ProviderOfferingDetails)
    assert (fetched.state, fetched.paused_reason) == (OfferingState.PAUSED, "upgrade")
    assert fetched.plugin_options.additional_properties["delay_seconds"] == 1
    listed = marketplace_provider_offerings_list.sync(client=api, customer_uuid=UUID(customer["uuid"]))
    assert [o.uuid for o in listed or []] == [offering.uuid]

    public = marketplace_public_offerings_retrieve.sync(uuid=str(offering.uuid), client=api)
    assert isinstance(public, PublicOfferingDetails) and public.state == OfferingState.PAUSED
    states = [OfferingState.ACTIVE, OfferingState.PAUSED]
    catalog = marketplace_public_offerings_list.sync(client=api, state=states) or []
    assert [o.uuid for o in catalog] == [offering.uuid]
    plans = marketplace_public_offerings_plans_list.sync(uuid=str(offering.uuid), client=api) or []
    assert all(isinstance(p, BasePublicPlan) for p in plans) and [p.name for p in plans] == ["Monthly"]
    plan = marketplace_public_offerings_plans_retrieve.sync(
        uuid=str(offering.uuid), plan_uuid=str(plans[0].uuid), client=api
    )
    assert isinstance(plan, BasePublicPlan) and plan.unit_price == "10"


def test_waldur_api_client_parses_provider_plans_and_service_providers_strictly(api, waldur):
    customer, _ = _catalog(waldur)
    category = (marketplace_categories_list.sync(client=api) or [])[0]
    offering = _created(api, customer["url"], str(category.url))
    [plan] = marketplace_plans_list.sync(client=api, offering_uuid=offering.uuid) or []
    assert isinstance(plan, ProviderPlanDetails) and plan.offering.endswith(f"/{offering.uuid.hex}/")
    fetched = marketplace_plans_retrieve.sync(uuid=plan.uuid, client=api)
    assert isinstance(fetched, ProviderPlanDetails)
    assert (fetched.minimal_price, [c.type_ for c in fetched.components]) == ("10", ["cores", "storage"])

    [provider] = (
        marketplace_service_providers_list.sync(client=api, customer_uuid=UUID(customer["uuid"])) or []
    )
    assert isinstance(provider, ServiceProvider) and provider.customer_name == "Cloud Provider"
