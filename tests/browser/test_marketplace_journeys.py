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


def _see(portal: Portal, *texts: str) -> None:
    """Each text is visible on the page (the sidebar's collapsed menus hold some of them hidden)."""
    for text in texts:
        portal.page.get_by_text(text, exact=False).locator("visible=true").first.wait_for()


def _visit(portal: Portal, path: str, expect: tuple[str, ...] = (), shot: str | None = None) -> None:
    portal.visit(path)
    _see(portal, *expect)
    if shot:
        portal.screenshot(shot)


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
    _visit(portal, "/marketplace/", (CATEGORY, "1 offering", OFFERING, PROVIDER), shot=f"{who}-marketplace")
    portal.page.get_by_text(CATEGORY, exact=True).locator("visible=true").first.click()
    portal.page.wait_for_url(re.compile(rf".*/marketplace-category/{_category_id(banner)}/.*"))
    portal.settle()
    _see(portal, OFFERING, PROVIDER)
    portal.check("the category's page")
    _visit(portal, "/marketplace-public-offerings/", (OFFERING, PROVIDER))
    _visit(
        portal,
        f"/marketplace-public-offering/{banner.offering_id}/",
        # the plan, its monthly base (the fixed Public IP) and the usage price of Storage
        (OFFERING, "Monthly", "EUR 5.00", "Storage: EUR 0.05", "Request-based item"),
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


def _choose(portal: Portal, step: str, option: str, attempts: int = 3) -> None:
    """Pick `option` in the step's select (typed in: its options load as one types). The select
    can be reset under the typing while the step before it settles (seen once under CI's load: the
    typed text gone, no search sent), so the text is typed again when no option has come."""
    from playwright.sync_api import TimeoutError as NotYet  # the harness imports playwright lazily

    field = portal.page.locator(f"{step} input[role=combobox]")
    found = portal.page.get_by_role("option", name=re.compile(re.escape(option))).first
    for attempt in range(1, attempts + 1):
        field.click()
        field.fill("")
        field.fill(option)
        try:
            found.wait_for(timeout=15_000)
            break
        except NotYet:
            if attempt == attempts:
                raise
    found.click()
    portal.page.locator(step).get_by_text(option).first.wait_for()


def _place_order(portal: Portal, banner: Banner, name: str, cores: int) -> dict[str, Any]:
    """HomePort's order form for the demo offering, filled in and submitted; the order made."""
    page = portal.page
    _visit(portal, f"/marketplace-provider-offering/{banner.offering_id}/", (OFFERING, "Monthly"))
    _choose(portal, "#step-customer", PROVIDER)
    page.get_by_text("Please select organization first.").wait_for(state="hidden")
    _choose(portal, "#step-project", PROJECT)
    page.locator("input[name='limits.cpu']").fill(str(cores))
    page.locator("input[name='attributes.name']").fill(name)
    # 5 a month for the Public IP, 2 a core a month for the CPU
    _see(portal, f"EUR {2 * cores:.2f} /mo", f"EUR {5 + 2 * cores:.2f} /month")
    portal.screenshot(f"order-form-{name}")
    page.get_by_role("button", name="Create").click()
    with page.expect_response(
        lambda r: r.request.method == "POST" and "/api/marketplace-orders/" in r.url
    ) as sent:
        page.get_by_role("button", name="Yes").click()
    answer = sent.value
    assert answer.status == 201, answer.text()
    _see(portal, "Order has been submitted.")
    # HomePort opens the new resource's page; it is Creating (a turning badge, not a page loading)
    # until the provider approves, so wait for its calls only.
    page.wait_for_load_state("networkidle")
    _see(portal, name, "Creating")
    portal.check("the order placed")
    return dict(answer.json())


def _filter_orders(portal: Portal, state: str) -> None:
    """An order list's State filter set to `state` (HomePort's lists start on Executing)."""
    page = portal.page
    page.locator("button.btn-toggle-filters").click()
    page.get_by_text("State", exact=True).last.click()
    page.get_by_text(state, exact=True).last.click()
    page.get_by_text("Apply", exact=True).last.dispatch_event("click")  # below the fold at times
    portal.settle()


def _approved(portal: Portal, order: dict[str, Any], approve: Any) -> None:
    with portal.page.expect_response(
        lambda r: r.url.endswith(f"/{order['uuid']}/approve_by_provider/")
    ) as sent:
        approve()
    assert sent.value.status == 200
    _see(portal, "Order has been approved.")
    portal.settle()


def _approve_on_the_orders_page(portal: Portal, order: dict[str, Any], name: str) -> None:
    """The order's own page, as the provider: Actions → Approve; the demo offering's order is done."""
    page = portal.page
    _visit(portal, f"/marketplace-order-details/{order['uuid']}/", (name, "pending-provider", OFFERING))
    page.get_by_role("button", name="Actions").click()
    _approved(portal, order, lambda: page.get_by_text("Approve", exact=True).click())
    _see(portal, "done")
    portal.screenshot(f"order-approved-{name}")
    portal.check("the order approved")


def _approve_in_the_provider_list(portal: Portal, banner: Banner, order: dict[str, Any], name: str) -> None:
    """The provider's order list, pending ones: the order's row → Approve."""
    page = portal.page
    _visit(portal, f"/providers/{banner.customer_id}/orders/")
    _filter_orders(portal, "Pending provider approval")
    row = page.locator("tr", has_text=name).first
    row.wait_for()
    portal.screenshot(f"provider-pending-{name}")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # here: the tests skip without it

    approve = page.get_by_text("Approve", exact=True).locator("visible=true").first
    wanted = f"/{order['uuid']}/approve_by_provider/"
    for _ in range(6):  # the list may render again (its filter applied) and close or replace the menu
        row.locator("button.dropdown-toggle").click()
        try:
            approve.wait_for(timeout=3000)
            with page.expect_response(lambda r: r.url.endswith(wanted), timeout=15_000) as sent:
                approve.click(timeout=5000)
            break
        except PlaywrightTimeout:
            continue
    else:
        raise AssertionError(f"{name}: the provider's order list never let Approve be clicked")
    assert sent.value.status == 200
    _see(portal, "Order has been approved.")
    portal.settle()
    portal.check("the order approved in the provider's list")


def _order_journey(portal: Portal, banner: Banner, name: str, cores: int, in_list: bool) -> None:
    order = _place_order(portal, banner, name, cores)
    assert (order["state"], order["offering_name"], order["limits"]) == (
        "pending-provider",
        OFFERING,
        {"cpu": cores},
    )
    assert order["cost"] == f"{5 + 2 * cores:.2f}"
    if in_list:
        _approve_in_the_provider_list(portal, banner, order, name)
    else:
        _approve_on_the_orders_page(portal, order, name)

    done = _api(banner, f"marketplace-orders/{order['uuid']}/")
    assert done["state"] == "done" and done["provider_reviewed_at"]
    resource = _api(banner, f"marketplace-resources/{order['marketplace_resource_uuid']}/")
    assert (resource["name"], resource["state"], resource["limits"]) == (name, "OK", {"cpu": cores})
    for path in ("/marketplace-orders/", f"/providers/{banner.customer_id}/orders/"):
        _visit(portal, path)
        _filter_orders(portal, "Done")
        _see(portal, name, PROJECT)
        portal.check(f"{path} (done orders)")
    portal.screenshot(f"provider-orders-{name}")


def test_staff_orders_the_demo_offering_and_approves_it_as_the_provider(
    staff_portal: Portal, homeport_stack: Banner
) -> None:
    _order_journey(staff_portal, homeport_stack, "staff-ui-vm", cores=3, in_list=False)


def test_the_demo_owner_orders_and_approves_in_the_providers_order_list(
    owner_portal: Portal, homeport_stack: Banner
) -> None:
    _order_journey(owner_portal, homeport_stack, "owner-ui-vm", cores=2, in_list=True)
