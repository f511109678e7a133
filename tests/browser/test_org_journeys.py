"""The user's, organisation's, project's and administration journeys in HomePort, as staff and as the
demo organisation's owner: every page shows the demo data (the organisation, its project, invoice
100001 and its EUR 8.40, the team, the event log), with no failed API call, no script error and no
error message (the harness fails a page on any of them).

HomePort checks an organisation page's permission before it has loaded the organisation: opened by
its address, an owner's Team and Accounting pages say "no permission" (staff pass on `is_staff`).
An owner reaches them, as in HomePort, from the organisation's dashboard: `follow` moves there
inside the page (the router's own navigation), as a click on HomePort's menu does.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable
from decimal import Decimal

from tests.browser.harness import Banner, Portal


def see(portal: Portal, *texts: str) -> None:
    """Each text is shown somewhere visible (a name may also sit in a closed menu)."""
    for text in texts:
        portal.page.get_by_text(text, exact=False).filter(visible=True).first.wait_for(state="visible")


def visit(portal: Portal, path: str, expect: Iterable[str] = (), shot: str | None = None) -> None:
    """Portal.visit, with the texts looked for where they are visible."""
    portal.visit(path)
    _looked_at(portal, path, expect, shot)


def follow(portal: Portal, path: str, expect: Iterable[str] = (), shot: str | None = None) -> None:
    """Go to `path` inside the running page (HomePort's router navigation, as a click on its menu),
    then check it as Portal.visit does."""
    portal.page.evaluate(
        "p => { history.pushState({}, '', p); dispatchEvent(new PopStateEvent('popstate', {state: {}})) }",
        path,
    )
    portal.page.wait_for_url(f"**{path}*")
    portal.settle()
    _looked_at(portal, path, expect, shot)


def _looked_at(portal: Portal, path: str, expect: Iterable[str], shot: str | None) -> None:
    see(portal, *expect)
    if shot:
        portal.screenshot(shot)
    portal.check(path)


def this_months_invoice(banner: Banner) -> tuple[str, str]:
    """The demo organisation's invoice of this month (100001) and its total as HomePort shows it
    (`EUR 8.40` on the 5th of a month: the demo resource's price is prorated, and other tests may
    have ordered more on this stack: read it right before looking)."""
    request = urllib.request.Request(
        f"{banner.url}/api/invoices/?customer_uuid={banner.customer_id}",
        headers={"Authorization": f"Token {banner.token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        [invoice] = json.load(answer)
    assert invoice["number"] == 100001
    return str(invoice["uuid"]), f"EUR {Decimal(invoice['total']):,.2f}"


# --- the user's own pages ---------------------------------------------------------------------------
def test_staff_profile_pages(staff_portal: Portal) -> None:
    visit(
        staff_portal, "/profile/", expect=["Cirrus Administrator", "admin@example.org"], shot="staff-profile"
    )
    visit(staff_portal, "/profile/events/", expect=["User admin has been created."])
    visit(staff_portal, "/profile/keys/", expect=["SSH keys"])
    visit(
        staff_portal,
        "/profile/manage/",
        expect=["Identity provider", "Local DB"],
        shot="staff-profile-manage",
    )


def test_owner_profile_pages(owner_portal: Portal) -> None:
    visit(owner_portal, "/profile/", expect=["Demo Owner", "Demo Organisation"], shot="owner-profile")
    visit(owner_portal, "/profile/events/", expect=["User demo-owner has been created."])
    visit(owner_portal, "/profile/keys/", expect=["SSH keys"])
    visit(owner_portal, "/profile/manage/", expect=["demo-owner@example.org", "Local DB"])


# --- the organisation ---------------------------------------------------------------------------------
def _organisation_journey(portal: Portal, banner: Banner, who: str) -> None:
    base = f"/organizations/{banner.customer_id}"
    invoice_id, total = this_months_invoice(banner)
    visit(
        portal,
        f"{base}/dashboard/",
        expect=["Demo Organisation", "Estimated cost", total, "Team size", "Aggregate usage and limits"],
        shot=f"{who}-organization-dashboard",
    )
    follow(portal, f"{base}/projects/", expect=["Demo Project"])
    follow(portal, f"{base}/users/", expect=["Team members", "Demo Owner", "demo-owner@example.org"])
    follow(portal, f"{base}/invitations/", expect=["Team invitations"])
    follow(portal, f"{base}/marketplace-orders/", expect=["demo-vm", "Demo Project"])
    follow(portal, f"{base}/billing/", expect=["100001", total], shot=f"{who}-organization-billing")
    follow(portal, f"{base}/billing/{invoice_id}/", expect=["Invoice No. 100001", "TOTAL", total])
    follow(portal, f"{base}/events/", expect=["Organization Demo Organisation has been created."])
    follow(portal, f"{base}/manage/", expect=["Basic details", "Demo Organisation"])


def test_staff_organisation_journey(staff_portal: Portal, homeport_stack: Banner) -> None:
    _organisation_journey(staff_portal, homeport_stack, "staff")


def test_owner_organisation_journey(owner_portal: Portal, homeport_stack: Banner) -> None:
    _organisation_journey(owner_portal, homeport_stack, "owner")


# --- the project -------------------------------------------------------------------------------------
def _project_journey(portal: Portal, banner: Banner, who: str) -> None:
    base = f"/projects/{banner.project_id}"
    _, total = this_months_invoice(banner)  # the demo project holds all of the organisation's resources
    visit(
        portal,
        f"{base}/",
        expect=["Demo Project", "Project cost", total, "Team size", "Aggregate usage and limits", "CPU"],
        shot=f"{who}-project-dashboard",
    )
    follow(portal, f"{base}/events/", expect=["Project Demo Project has been created."])
    follow(portal, f"{base}/users/", expect=["Team members"])
    follow(portal, f"{base}/manage/", expect=["Demo Project", "Demo Organisation"])


def test_staff_project_journey(staff_portal: Portal, homeport_stack: Banner) -> None:
    _project_journey(staff_portal, homeport_stack, "staff")


def test_owner_project_journey(owner_portal: Portal, homeport_stack: Banner) -> None:
    _project_journey(owner_portal, homeport_stack, "owner")


# --- lists and administration --------------------------------------------------------------------------
def test_owner_lists_their_organisations_and_projects(owner_portal: Portal) -> None:
    visit(owner_portal, "/organizations/", expect=["Demo Organisation", "demo@example.org"])
    visit(owner_portal, "/projects/", expect=["Demo Project", "Demo Organisation"])


def test_staff_administration(staff_portal: Portal) -> None:
    visit(
        staff_portal,
        "/administration/",
        expect=["Health checks", "Organizations", "Users"],
        shot="staff-admin",
    )
    # Each user's roles: the demo owner's organisation in the "Organization roles" column.
    visit(
        staff_portal,
        "/administration/users/",
        expect=["Cirrus Administrator", "Demo Owner", "Demo Organisation"],
        shot="staff-admin-users",
    )
    visit(staff_portal, "/administration/roles/", expect=["CUSTOMER.OWNER", "PROJECT.MEMBER"])
    visit(staff_portal, "/organizations/", expect=["Demo Organisation"])
    visit(staff_portal, "/projects/", expect=["Demo Project"])
