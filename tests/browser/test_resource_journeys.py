"""Resources in HomePort, as staff and as the demo owner: the project's, the organisation's, all and a
category's resource lists show real rows (name, category, offering); a resource's details page shows
it with its offering, plan and orders; changing limits and terminating through HomePort's dialogs
place the orders, which complete in the local stack.

The journeys that change a resource order one of their own first (through the API, as staff), so
the seeded `demo-vm` stays as the other journeys expect it. The demo offering may be one the
platform provisions itself (Cirrus.Demo) or one its provider reviews (Marketplace.Basic): `finish`
takes an order through whichever approvals it waits for.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import Any

import pytest

from tests.browser.harness import Banner, Portal

DEMO_RESOURCE = "demo-vm"
DEMO_OFFERING = "Demo compute"
DEMO_CATEGORY = "Demo services"
DEMO_PROJECT = "Demo Project"
DEMO_CUSTOMER = "Demo Organisation"


# --- the API, as staff (setting up and checking what the UI did) -------------------------------------
def api(banner: Banner, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{banner.url}{path}", data=data, method=method)
    request.add_header("Authorization", f"Token {banner.token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as answer:
        raw = answer.read()
    return json.loads(raw) if raw else None


def demo_resource(banner: Banner) -> dict[str, Any]:
    [found] = api(banner, "GET", f"/api/marketplace-resources/?name_exact={DEMO_RESOURCE}")
    return found  # type: ignore[no-any-return]


def finish(banner: Banner, order_uuid: str, timeout: float = 60.0) -> dict[str, Any]:
    """Wait for the order to be done, approving it on the sides it waits for (staff may)."""
    deadline = time.monotonic() + timeout
    path = f"/api/marketplace-orders/{order_uuid}/"
    while True:
        order = api(banner, "GET", path)
        if order["state"] in ("done", "erred", "rejected", "canceled"):
            return order  # type: ignore[no-any-return]
        action = {"pending-consumer": "approve_by_consumer", "pending-provider": "approve_by_provider"}.get(
            order["state"]
        )
        if action:
            api(banner, "POST", f"{path}{action}/")
        elif order["offering_type"] != "Cirrus.Demo" and order["state"] == "executing":
            api(banner, "POST", f"{path}set_state_done/")  # a provider that reviews: it says when done
        assert time.monotonic() < deadline, f"order {order_uuid} still {order['state']}"
        time.sleep(0.5)


def order_resource(banner: Banner, name: str) -> dict[str, Any]:
    """A resource of the demo offering in the demo project, made and ready (OK)."""
    offering = api(banner, "GET", f"/api/marketplace-public-offerings/{banner.offering_id}/")
    order = api(
        banner,
        "POST",
        "/api/marketplace-orders/",
        {
            "project": f"{banner.url}/api/projects/{banner.project_id}/",
            "offering": offering["url"],
            "plan": offering["plans"][0]["url"],
            "attributes": {"name": name},
            "limits": {"cpu": 2},
            "accepting_terms_of_service": True,
        },
    )
    assert finish(banner, order["uuid"])["state"] == "done"
    resource = api(banner, "GET", f"/api/marketplace-resources/{order['marketplace_resource_uuid']}/")
    assert resource["state"] == "OK"
    return resource  # type: ignore[no-any-return]


def orders_of(banner: Banner, resource_uuid: str, kind: str) -> list[dict[str, Any]]:
    found = api(banner, "GET", f"/api/marketplace-orders/?resource_uuid={resource_uuid}&type={kind}")
    return found  # type: ignore[no-any-return]


def wait_for(condition: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"no {what} after {timeout:.0f} s"
        time.sleep(0.5)
    return found


def shown(portal: Portal, *texts: str) -> None:
    """Each text is on screen (a visible element has it: the sidebar's hidden menu entries and
    ellipsised breadcrumbs do not count)."""
    for text in texts:
        portal.page.get_by_text(text, exact=False).locator("visible=true").first.wait_for()


def visit(portal: Portal, path: str, expect: list[str], shot: str | None = None) -> None:
    """`Portal.visit`, with the texts expected where they are visible."""
    portal.visit(path)
    try:
        shown(portal, *expect)
    except Exception:
        portal.screenshot(f"{portal.name}-failed-{path.strip('/').replace('/', '-').replace('?', '-')}")
        raise
    if shot:
        portal.screenshot(shot)
    portal.check(path)


# --- lists ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["staff", "owner"])
def test_the_resource_lists_show_the_demo_resource(
    who: str, request: pytest.FixtureRequest, homeport_stack: Banner
) -> None:
    portal: Portal = request.getfixturevalue(f"{who}_portal")
    banner = homeport_stack
    resource = demo_resource(banner)
    row = [DEMO_RESOURCE, DEMO_OFFERING]
    visit(
        portal, f"/projects/{banner.project_id}/resources/", [*row, DEMO_CATEGORY], f"{who}-project-resources"
    )
    # The row opens (its components and plan) and its actions menu lists the marketplace actions.
    table_row = portal.page.locator("tr", has_text=DEMO_RESOURCE).first
    table_row.locator("button").last.click()
    shown(portal, "Change limits", "Terminate")
    portal.page.keyboard.press("Escape")
    portal.check("the resource's actions menu")

    visit(portal, f"/organizations/{banner.customer_id}/marketplace-resources/", row)
    visit(portal, "/all-resources/", [*row, DEMO_PROJECT, DEMO_CUSTOMER], f"{who}-all-resources")
    visit(portal, f"/resources/{resource['category_uuid']}/", [*row, DEMO_PROJECT])


# --- details --------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["staff", "owner"])
def test_a_resources_details_page_shows_it_with_its_offering_plan_and_orders(
    who: str, request: pytest.FixtureRequest, homeport_stack: Banner
) -> None:
    portal: Portal = request.getfixturevalue(f"{who}_portal")
    resource = demo_resource(homeport_stack)
    base = f"/resource-details/{resource['uuid']}"
    visit(portal, base, [DEMO_RESOURCE, DEMO_OFFERING, "CPU"], f"{who}-resource-details")
    details = [DEMO_CUSTOMER, DEMO_PROJECT, DEMO_CATEGORY, resource["plan_name"], resource["backend_id"]]
    visit(portal, f"{base}?tab=resource-details", details)
    visit(portal, f"{base}?tab=activity", [f"Resource {DEMO_RESOURCE} has been created."])
    visit(portal, f"{base}?tab=order-history", ["Create", "Done"])


# --- changing a resource through the UI ---------------------------------------------------------------
def test_the_owner_changes_a_resources_limits_in_the_dialog(
    owner_portal: Portal, homeport_stack: Banner
) -> None:
    banner = homeport_stack
    resource = order_resource(banner, f"limits-{uuid.uuid4().hex[:6]}")
    page = owner_portal.page
    visit(owner_portal, f"/resource-details/{resource['uuid']}", [resource["name"], "0/2 CPU"])
    page.get_by_role("button", name="Actions").click()
    page.get_by_text("Change limits", exact=True).first.click()
    dialog = page.locator(".modal-dialog")
    dialog.get_by_text("Change resource limits").wait_for()
    owner_portal.settle()
    dialog.locator("input").first.fill("5")
    owner_portal.screenshot("owner-change-limits")
    dialog.locator("button[type=submit]").click()
    shown(owner_portal, "Resource limits change request has been submitted.")
    owner_portal.check("change limits")

    [update] = wait_for(lambda: orders_of(banner, resource["uuid"], "Update"), "update order")
    assert update["limits"] == {"cpu": 5} and update["created_by_username"] == banner.owner[0]
    assert finish(banner, update["uuid"])["state"] == "done"
    changed = api(banner, "GET", f"/api/marketplace-resources/{resource['uuid']}/")
    assert (changed["state"], changed["limits"]) == ("OK", {"cpu": 5})
    visit(owner_portal, f"/resource-details/{resource['uuid']}", ["0/5 CPU"])


def test_staff_terminates_a_resource_from_the_project_list(
    staff_portal: Portal, homeport_stack: Banner
) -> None:
    banner = homeport_stack
    resource = order_resource(banner, f"ending-{uuid.uuid4().hex[:6]}")
    page = staff_portal.page
    visit(staff_portal, f"/projects/{banner.project_id}/resources/", [resource["name"]])
    dialog = page.locator(".modal-dialog")
    title = dialog.get_by_text(f"Terminate resource {resource['name']}").first
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # here: the tests skip without it

    for _ in range(5):  # the list may render again (it refreshes) and close the menu under the click
        try:
            page.locator("tr", has_text=resource["name"]).first.locator("button").last.click(timeout=5000)
            page.locator(".dropdown-menu").get_by_text("Terminate", exact=True).first.click(timeout=5000)
            title.wait_for(timeout=5000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    else:
        raise AssertionError("the project's resource list never let Terminate open its dialog")
    staff_portal.screenshot("staff-terminate")
    dialog.locator("button[type=submit]").click()
    shown(staff_portal, "Resource termination request has been submitted.")
    staff_portal.check("terminate")

    [terminate] = wait_for(lambda: orders_of(banner, resource["uuid"], "Terminate"), "termination order")
    assert terminate["created_by_username"] == banner.staff[0]
    assert finish(banner, terminate["uuid"])["state"] == "done"
    ended = api(banner, "GET", f"/api/marketplace-resources/{resource['uuid']}/")
    assert ended["state"] == "Terminated"
    visit(staff_portal, f"/resource-details/{resource['uuid']}", [resource["name"], "Resource is TERMINATED"])
    # Terminated resources leave the lists (HomePort asks for the other states only).
    visit(staff_portal, f"/projects/{banner.project_id}/resources/", [DEMO_RESOURCE])
    assert page.locator("tr", has_text=resource["name"]).count() == 0
