"""The API's real answers, in the scenarios other modules already drive, validate against its
OpenAPI document: each is replayed with a client that checks every answer (its status documented,
its JSON body valid under the documented schema; tests/schema_check.py)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.integration import (
    test_customers_api,
    test_hooks_api,
    test_invitations_api,
    test_marketplace_catalog_api,
    test_meta_api,
    test_projects_api,
    test_roles_api,
    test_users_api,
)
from tests.schema_check import SchemaCheckedHttp

pytestmark = pytest.mark.fakes
MODULES: list[ModuleType] = [
    test_customers_api,
    test_projects_api,
    test_users_api,
    test_roles_api,
    test_hooks_api,
    test_invitations_api,
    test_marketplace_catalog_api,
    test_meta_api,
]
# The shared fixtures (tests/conftest.py) a replayed scenario may take.
SHARED = {"client", "staff", "support", "alice", "market", "aws", "settle", "fakes", "monkeypatch"}


def _scenarios() -> list[Callable[..., Any]]:
    found = []
    for module in MODULES:
        for name, function in vars(module).items():
            if not name.startswith("test_") or not inspect.isfunction(function):
                continue
            if hasattr(function, "pytestmark") or not set(inspect.signature(function).parameters) <= SHARED:
                continue  # parametrized, or needs its module's own fixtures
            found.append(function)
    return found


SCENARIOS = _scenarios()


def test_enough_scenarios_are_replayed() -> None:
    assert len(SCENARIOS) >= 50


@pytest.mark.parametrize(
    "scenario", SCENARIOS, ids=lambda f: f"{f.__module__.rsplit('.', 1)[-1]}.{f.__name__}"
)
def test_every_answer_validates_against_the_document(
    scenario: Callable[..., Any], client: Any, request: pytest.FixtureRequest
) -> None:
    checked = SchemaCheckedHttp(client)
    arguments = {
        name: checked if name == "client" else request.getfixturevalue(name)
        for name in inspect.signature(scenario).parameters
    }
    scenario(**arguments)
    assert checked.checked > 0 or "client" not in arguments
    assert not checked.problems
