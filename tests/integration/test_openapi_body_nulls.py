"""Null, sent to every field of every endpoint's body (as staff, on tenant B's objects, from an
otherwise valid body): the API refuses it in DRF's words exactly where the OpenAPI document says the
field is not nullable, views included (a view may not refuse a null the schema allows)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.api import openapi
from chalicelib.api.rest import ENDPOINTS, Endpoint
from tests.helpers import call
from tests.integration.test_tenant_isolation import (
    TARGETS,
    World,
    body_for,
    build_world,
    collection_of,
    stage,  # noqa: F401 (the module's moto backend, a fixture)
)

# Logging out ends the staff session every later probe uses.
CASES = [ep for ep in ENDPOINTS if ep.body is not None and ep.path != "/api-auth/logout"]
NOT_NULL = ["This field may not be null."]


@pytest.fixture(scope="module")
def world(stage: Any) -> World:  # noqa: F811 (the imported fixture)
    return build_world(stage.client)


def _properties(ep: Endpoint) -> dict[str, Any]:
    doc = openapi.document("http://localhost")
    op = doc["paths"][ep.path.rstrip("/") + "/"][ep.method.lower()]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    return doc["components"]["schemas"][ref].get("properties", {})  # type: ignore[no-any-return]


@pytest.mark.parametrize("ep", CASES, ids=lambda ep: f"{ep.method} {ep.path}")
def test_null_is_refused_exactly_where_the_schema_says(world: World, ep: Endpoint) -> None:
    target = TARGETS[collection_of(ep.path)](world) if "{uuid}" in ep.path else ""
    path = ep.path.replace("{uuid}", target) + "/"
    wrong = []
    for name, schema in _properties(ep).items():
        reply = call(world.client, ep.method, path, world.staff, {**(body_for(ep, world) or {}), name: None})
        refused = reply.status == 400 and isinstance(reply.json, dict) and reply.json.get(name) == NOT_NULL
        if refused == bool(schema.get("nullable")):
            wrong.append((name, schema.get("nullable", False), reply.status, reply.raw[:200]))
    assert not wrong
