"""The marketplace in HomePort, as staff and as the demo owner: the landing page, a category, the
offerings list and an offering's page with its prices; then an order placed through HomePort's order
form (organisation, project, plan, a CPU limit, a name: 201) and approved by the provider on the
order's page (the demo offering is done on its provider's approval), after which the order is done,
its resource OK, and both show in the order lists."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

from tests.browser.harness import Banner, Portal

CATEGORY = "Demo services"
OFFERING = "Demo compute"
PROVIDER = "Demo Organisation"
PROJECT = "Demo Project"


def _api(banner: Banner, path: str) -> Any:
    """What the API says (as staff), to check the UI's effects and find what it made."""
    request = urllib.request.Request(
        f"{banner.url}/api/{path}", headers={"Authorization": f"Token {banner.token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def _category_id(banner: Banner) -> str:
    [category] = [c for c in _api(banner, "marketplace-categories/") if c["title"] == CATEGORY]
    return str(category["uuid"])


def _browse(portal: Portal, banner: Banner, who: str) -> None:
    """Landing → category → offerings → the offering's page, with its name, provider and prices."""
    portal.visit(
        "/marketplace/", expect=[CATEGORY, "1 offering", OFFERING, PROVIDER], shot=f"{who}-marketplace"
    )
    portal.page.get_by_text(CATEGORY, exact=True).first.click()
    portal.page.wait_for_url(re.compile(rf".*/marketplace-category/{_category_id(banner)}/.*"))
    portal.settle()
    portal.expect(OFFERING, PROVIDER)
    portal.check("the category's page")
    portal.visit("/marketplace-public-offerings/", expect=[OFFERING, PROVIDER])
    portal.visit(
        f"/marketplace-public-offering/{banner.offering_id}/",
        # the plan, its monthly base (the fixed Public IP) and the usage price of Storage
        expect=[OFFERING, "Monthly", "EUR 5.00", "Storage: EUR 0.05", "Request-based item"],
        shot=f"{who}-offering",
    )


def test_staff_browses_the_marketplace_to_the_demo_offering(
    staff_portal: Portal, homeport_stack: Banner
) -> None:
    _browse(staff_portal, homeport_stack, "staff")


def test_the_demo_owner_browses_the_marketplace_to_the_demo_offering(
    owner_portal: Portal, homeport_stack: Banner
) -> None:
    _browse(owner_portal, homeport_stack, "owner")


def _place_order(portal: Portal, banner: Banner, name: str, cores: int) -> dict[str, Any]:
    """HomePort's order form for the demo offering, filled in and submitted; the order made."""
    page = portal.page
    portal.visit(f"/marketplace-provider-offering/{banner.offering_id}/", expect=[OFFERING, "Monthly"])
    page.locator("#step-customer input[role=combobox]").click()
    page.get_by_role("option", name=re.compile(PROVIDER)).first.click()
    page.locator("#step-project input[role=combobox]").click()
    page.get_by_role("option", name=re.compile(PROJECT)).first.click()
    page.locator("input[name='limits.cpu']").fill(str(cores))
    page.locator("input[name='attributes.name']").fill(name)
    # 5 a month for the Public IP, 2 a core a month for the CPU
    portal.expect(f"EUR {2 * cores:.2f} /mo", f"EUR {5 + 2 * cores:.2f} /month")
    portal.screenshot(f"order-form-{name}")
    page.get_by_role("button", name="Create").click()
    with page.expect_response(
        lambda r: r.request.method == "POST" and "/api/marketplace-orders/" in r.url
    ) as sent:
        page.get_by_role("button", name="Yes").click()
    answer = sent.value
    assert answer.status == 201, answer.text()
    portal.expect("Order has been submitted.")
    portal.settle()
    portal.check("the order placed")
    return dict(answer.json())


def _approve_as_provider(portal: Portal, order: dict[str, Any], name: str) -> None:
    """The order's page, as the provider: Actions → Approve; the demo offering's order is then done."""
    page = portal.page
    portal.visit(f"/marketplace-order-details/{order['uuid']}/", expect=[name, "pending-provider", OFFERING])
    page.get_by_role("button", name="Actions").click()
    with page.expect_response(lambda r: r.url.endswith(f"/{order['uuid']}/approve_by_provider/")) as approved:
        page.get_by_text("Approve", exact=True).click()
    assert approved.value.status == 200
    portal.expect("Order has been approved.", "done")
    portal.settle()
    portal.screenshot(f"order-approved-{name}")
    portal.check("the order approved")


def _order_journey(portal: Portal, banner: Banner, name: str, cores: int) -> None:
    order = _place_order(portal, banner, name, cores)
    assert (order["state"], order["offering_name"], order["limits"]) == (
        "pending-provider",
        OFFERING,
        {"cpu": cores},
    )
    assert order["cost"] == f"{5 + 2 * cores:.2f}"
    _approve_as_provider(portal, order, name)

    done = _api(banner, f"marketplace-orders/{order['uuid']}/")
    assert done["state"] == "done" and done["provider_reviewed_at"]
    resource = _api(banner, f"marketplace-resources/{order['marketplace_resource_uuid']}/")
    assert (resource["name"], resource["state"], resource["limits"]) == (name, "OK", {"cpu": cores})
    portal.visit("/marketplace-orders/?state=", expect=[name, OFFERING])
    portal.visit(f"/providers/{banner.customer_id}/orders/", expect=[name], shot=f"provider-orders-{name}")


def test_staff_orders_the_demo_offering_and_approves_it_as_the_provider(
    staff_portal: Portal, homeport_stack: Banner
) -> None:
    _order_journey(staff_portal, homeport_stack, "staff-ui-vm", cores=3)


def test_the_demo_owner_orders_and_approves_as_the_provider(
    owner_portal: Portal, homeport_stack: Banner
) -> None:
    _order_journey(owner_portal, homeport_stack, "owner-ui-vm", cores=2)
