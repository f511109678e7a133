"""Fixtures of the browser tests: one local stack with HomePort and one headless Chromium per test
process (pytest-xdist worker), a fresh signed-in tab per test. Without Chromium, a HomePort build or
Playwright, every browser test is skipped with the reason (shown in pytest's summary)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import (
    CHROMIUM_ARGS,
    OUTPUT,
    Banner,
    LocalStack,
    Portal,
    chromium_path,
    homeport_dir,
    missing_requirement,
)

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = missing_requirement()
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {reason}"))


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def homeport_stack() -> Iterator[Banner]:
    """The local stack as `make run` starts it, serving HomePort at `/`."""
    build = homeport_dir()
    assert build is not None
    stack = LocalStack(OUTPUT / f"stack-{_worker()}.log", build)
    try:
        yield stack.banner()
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def open_portal(chromium: Any, url: str, name: str) -> Portal:
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    return Portal(context, url, name)


@pytest.fixture
def staff_portal(chromium: Any, homeport_stack: Banner) -> Iterator[Portal]:
    portal = open_portal(chromium, homeport_stack.url, "staff")
    try:
        portal.sign_in(*homeport_stack.staff)
        yield portal
    finally:
        portal.context.close()


@pytest.fixture
def owner_portal(chromium: Any, homeport_stack: Banner) -> Iterator[Portal]:
    """The demo customer's owner: not staff, sees only what that organisation holds."""
    portal = open_portal(chromium, homeport_stack.url, "owner")
    try:
        portal.sign_in(*homeport_stack.owner)
        yield portal
    finally:
        portal.context.close()
