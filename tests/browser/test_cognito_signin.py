"""Sign-in through the Cognito hosted UI from HomePort's login page, in the browser: the login page
lists Cognito (`/api/identity-providers/`), its button takes the browser to the hosted UI, which
returns to HomePort's `oauth_login_completed/cognito/` page with a code; HomePort posts it to
`/api-auth/cognito/` and lands the user, signed in, on their dashboard, with no failed API call.

The hosted UI is tests/cognito_fakes.py's fake on 127.0.0.1 (its authorize endpoint signs in at once,
with no form). The ID token it hands over is a real one of the local stack's user pool (moto's), for
the stack's demo federated user, so the API verifies it exactly as it verifies any pool token. The
stack is a second one, started for this module, with the hosted UI's domain pointing at the fake.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.local.cognito import DEMO_FULL_NAME
from tests.browser.conftest import _worker, open_portal
from tests.browser.harness import OUTPUT, Banner, LocalStack, Portal, homeport_dir
from tests.cognito_fakes import FakeCognito, serving

LANDING = re.compile(r".*/(profile|organizations|dashboard)/.*")


@dataclass
class CognitoStack:
    banner: Banner
    fake: FakeCognito
    pool_id: str


def _pool(log_text: str) -> tuple[str, str, str]:
    """The local pool's id, app client id and moto's endpoint, from the stack's banner."""
    pool = re.search(r"cognito:\s+pool (\S+), app client (\S+) ", log_text)
    moto = re.search(r"CIRRUS_AWS_ENDPOINT_URL=(\S+)", log_text)
    assert pool and moto, "the local stack's banner names no Cognito pool"
    return pool.group(1), pool.group(2), moto.group(1)


@pytest.fixture(scope="module")
def cognito_stack() -> Iterator[CognitoStack]:
    from chalicelib.local import cognito

    build = homeport_dir()
    assert build is not None
    with serving(FakeCognito()) as fake:
        log = OUTPUT / f"stack-cognito-{_worker()}.log"
        stack = LocalStack(log, build, env={"CIRRUS_COGNITO_DOMAIN": fake.url})
        try:
            banner = stack.banner()
            pool_id, client_id, moto = _pool(log.read_text(encoding="utf-8"))
            fake.client_id = client_id
            fake.callback_urls = [f"{banner.url}/oauth_login_completed/cognito/"]

            def pool_token() -> str:
                # The hosted UI's sign-in of the pool's own demo user: a token moto signs.
                return cognito.token(
                    cognito.DEMO_USERNAME,
                    cognito.DEMO_PASSWORD,
                    client_id=client_id,
                    endpoint=moto,
                    region=pool_id.split("_", 1)[0],
                )

            fake.id_token_source = pool_token
            _agree(banner.url, pool_token())
            yield CognitoStack(banner, fake, pool_id)
        finally:
            stack.stop()


def _agree(url: str, id_token: str) -> None:
    """The demo federated user, provisioned by a bearer request, has agreed to the terms (as after a
    first visit to HomePort's profile form): HomePort then lands them on their dashboard."""
    headers = {"Authorization": f"Bearer {id_token}", "Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(f"{url}/api/users/me/", headers=headers)) as me:
        user = json.load(me)
    body = json.dumps({"agree_with_policy": True}).encode()
    request = urllib.request.Request(f"{user['url']}", data=body, headers=headers, method="PATCH")
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200


@pytest.fixture
def portal(chromium: Any, cognito_stack: CognitoStack) -> Iterator[Portal]:
    portal = open_portal(chromium, cognito_stack.banner.url, "cognito")
    try:
        yield portal
    finally:
        portal.context.close()


def test_homeports_cognito_button_signs_in_through_the_hosted_ui(
    portal: Portal, cognito_stack: CognitoStack
) -> None:
    page = portal.page
    page.goto(f"{portal.base_url}/login/")
    button = page.get_by_text("Sign in with Cognito", exact=True)
    button.wait_for(state="visible")
    portal.screenshot("cognito-login-page")
    portal.check("the login page")

    button.click()
    page.wait_for_url(LANDING)
    portal.settle()
    assert "/profile/manage/" not in page.url  # an existing user who agreed: no profile form

    # HomePort went through the hosted UI and its own completion page, and the API exchanged the code
    # with HomePort's page as redirect URI (the only one it accepts on this path).
    (exchange,) = cognito_stack.fake.exchanges
    assert exchange["redirect_uri"] == f"{portal.base_url}/oauth_login_completed/cognito/"
    assert ("POST", "/api-auth/cognito/", 200) in portal.calls
    me = [c for c in portal.calls if c[:2] == ("GET", "/api/users/me/")]
    assert me and all(status == 200 for *_, status in me)
    portal.screenshot("cognito-signed-in")
    # The pool user's name, on HomePort's page (the first match is in a closed menu).
    page.locator(f"text={DEMO_FULL_NAME} >> visible=true").first.wait_for(state="visible")
    portal.check("after the Cognito sign-in")
