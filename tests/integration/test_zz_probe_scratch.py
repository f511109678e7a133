"""scratch: null probe"""
from __future__ import annotations
import json
import pytest
from chalicelib.api import openapi
from chalicelib.api.rest import ENDPOINTS, Endpoint
from tests.helpers import call
from tests.integration.test_tenant_isolation import TARGETS, World, body_for, build_world, collection_of, stage  # noqa: F401

CASES = [ep for ep in ENDPOINTS if ep.body is not None and ep.path != "/api-auth/logout"]

@pytest.fixture(scope="module")
def world(stage):  # noqa: F811
    return build_world(stage.client)

def _props(ep):
    doc = openapi.document("http://localhost")
    op = doc["paths"][ep.path.rstrip("/") + "/"][ep.method.lower()]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    return doc["components"]["schemas"][ref].get("properties", {})

@pytest.mark.parametrize("ep", CASES, ids=lambda ep: f"{ep.method} {ep.path}")
def test_null(world, ep):
    target = TARGETS[collection_of(ep.path)](world) if "{uuid}" in ep.path else ""
    path = ep.path.replace("{uuid}", target) + "/"
    bad = []
    for name, schema in _props(ep).items():
        body = {**(body_for(ep, world) or {}), name: None}
        reply = call(world.client, ep.method, path, world.staff, body)
        refused = reply.status == 400 and isinstance(reply.json, dict) and reply.json.get(name) == ["This field may not be null."]
        if refused == bool(schema.get("nullable")):
            bad.append((name, schema.get("nullable"), reply.status, reply.raw[:200]))
    assert not bad
