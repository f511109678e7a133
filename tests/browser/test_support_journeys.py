"""The support desk in HomePort (WALDUR_SUPPORT enabled): staff open the desk's issue list (with
its feedback reports) and an issue with its comments, the demo owner their own tickets, as `make
run` seeds them; no failed API call, no script error and no error message (the harness fails a page
on any of them)."""

from __future__ import annotations

import json
import urllib.request

from tests.browser.harness import Banner, Portal
from tests.browser.test_org_journeys import visit


def _issues(banner: Banner) -> list[dict]:
    request = urllib.request.Request(
        f"{banner.url}/api/support-issues/?o=key", headers={"Authorization": f"Token {banner.token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return list(json.load(answer))


def test_staff_work_the_support_desk(staff_portal: Portal, homeport_stack: Banner) -> None:
    issues = {i["summary"]: i for i in _issues(homeport_stack)}
    vm = issues["Cannot reach my demo VM"]
    visit(
        staff_portal,
        "/support/list/",
        expect=["Cannot reach my demo VM", "More CPU for the demo project"],
        shot="support-list",
    )
    visit(
        staff_portal,
        f"/support/issue/{vm['uuid']}/",
        expect=["Cannot reach my demo VM", "a host was rebooted overnight"],
        shot="support-issue",
    )


def test_the_demo_owner_sees_their_tickets(owner_portal: Portal) -> None:
    visit(owner_portal, "/profile/issues/", expect=["Cannot reach my demo VM"], shot="owner-issues")
