"""HomePort starts against Cirrus, signs users in and shows their organisations (the journeys of each
area are in the other test files of this folder)."""

from __future__ import annotations

import urllib.request

from tests.browser.harness import Banner, Portal


def test_homeport_is_served_at_the_root_with_its_settings_pointing_here(homeport_stack: Banner) -> None:
    with urllib.request.urlopen(f"{homeport_stack.url}/scripts/configs/config.json", timeout=30) as answer:
        settings = answer.read().decode()
    assert f'"apiEndpoint": "{homeport_stack.url}/"' in settings
    with urllib.request.urlopen(f"{homeport_stack.url}/organizations/x/dashboard/", timeout=30) as answer:
        assert answer.headers["Content-Type"].startswith("text/html") and b"<html" in answer.read()


def test_staff_signs_in_and_sees_the_organisations(staff_portal: Portal, homeport_stack: Banner) -> None:
    staff_portal.screenshot("staff-signed-in")
    staff_portal.visit("/organizations/", expect=["Demo Organisation"], shot="staff-organizations")


def test_the_demo_owner_signs_in_and_sees_their_organisation(owner_portal: Portal) -> None:
    owner_portal.visit("/organizations/", expect=["Demo Organisation"], shot="owner-organizations")
