"""The router root, version, configuration and the OpenAPI document."""

from __future__ import annotations

import pytest

from app import app
from chalicelib.api import not_found
from chalicelib.api.rest import ENDPOINTS
from tests.helpers import call

# Specifications of the services through the API, on the in-memory fakes (tests/fakes); the
# tests marked moto read or break the store itself.
pytestmark = pytest.mark.fakes


def test_root_links_every_collection_with_a_trailing_slash(client):
    reply = call(client, "GET", "/api/")
    assert reply.status == 200
    assert reply.json["customers"].endswith("/api/customers/")
    assert set(reply.json) >= {"customers", "projects", "users"}


def test_version_and_configuration_are_public(client):
    assert call(client, "GET", "/api/version/").json == {"version": "0.1.0"}
    config = call(client, "GET", "/api/configuration/").json
    assert "LOCAL_SIGNIN" in config["WALDUR_CORE"]["AUTHENTICATION_METHODS"]


def test_openapi_document_covers_every_route_the_app_registers(client):
    doc = call(client, "GET", "/api/schema/").json
    assert doc["openapi"].startswith("3.")
    documented = {(path.rstrip("/"), method.upper()) for path, ops in doc["paths"].items() for method in ops}
    registered = set(registered_operations())
    assert documented == registered


def test_openapi_bodies_and_responses_come_from_the_models(client):
    doc = call(client, "GET", "/api/schema/").json
    create = doc["paths"]["/api/customers/"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = doc["components"]["schemas"][schema_ref.split("/")[-1]]
    assert body["required"] == ["name"]
    assert body["properties"]["name"]["maxLength"] == 150
    listing = doc["paths"]["/api/projects/"]["get"]
    assert {"X-Result-Count", "Link"} <= set(listing["responses"]["200"]["headers"])
    assert {"page", "page_size", "o", "field", "customer", "name_exact"} <= {
        p["name"] for p in listing["parameters"]
    }
    assert len(ENDPOINTS) == len(registered_operations())


def test_openapi_says_what_the_api_answers(client):
    doc = call(client, "GET", "/api/schema/").json
    # an invoice's items are a plain list, as the API sends them
    items = doc["paths"]["/api/invoices/{uuid}/items/"]["get"]["responses"]["200"]
    assert items["content"]["application/json"]["schema"]["type"] == "array"
    assert "headers" not in items  # not a page
    # DRF's error bodies: an object, or a plain list of messages (a non-field error)
    error = doc["paths"]["/api/customers/"]["post"]["responses"]["400"]["content"]["application/json"]
    assert {s["type"] for s in error["schema"]["oneOf"]} == {"object", "array"}
    # every operation lists the errors it can meet: writes a 409, bodies a 415, all 405 and 429
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            codes = set(op["responses"])
            assert {"400", "401", "403", "404", "405", "429"} <= codes, (method, path)
            assert ("409" in codes) == (method != "get"), (method, path)
            assert ("415" in codes) == ("requestBody" in op), (method, path)


def test_a_field_query_answers_a_sparse_object_and_the_schema_says_so(client, staff):
    doc = call(client, "GET", "/api/schema/").json
    schemas = doc["components"]["schemas"]
    ok = doc["paths"]["/api/customers/"]["get"]["responses"]["200"]["content"]["application/json"]
    whole, sparse = (option["$ref"].rsplit("/", 1)[-1] for option in ok["schema"]["items"]["anyOf"])
    assert "name" in schemas[whole]["required"]  # the whole object has its required keys ...
    assert "required" not in schemas[sparse]  # ... the ?field= variant none
    assert schemas[sparse]["properties"] == schemas[whole]["properties"]
    call(client, "POST", "/api/customers/", staff, {"name": "Acme"})
    [answer] = call(client, "GET", "/api/customers/?field=uuid", staff).json
    assert set(answer) == {"uuid"}  # what the variant describes


def registered_operations():
    """Every route's operations but the catch-all's, which answers what no endpoint serves."""
    catch_all = {not_found.ROOT, not_found.CATCH_ALL}
    return [(p, m) for p, methods in app.routes.items() if p not in catch_all for m in methods if m != "HEAD"]


def test_an_unexpected_failure_is_a_500_in_drfs_shape(client, staff, monkeypatch):
    from chalicelib.services import customers as customer_service

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(customer_service, "list_customers", broken)
    reply = call(client, "GET", "/api/customers/", staff)
    assert reply.status == 500
    assert reply.json == {"detail": "A server error occurred."}
    assert "disk on fire" not in reply.raw.decode()


def test_openapi_says_which_creations_take_an_idempotency_key_and_that_writes_may_be_503(client):
    doc = call(client, "GET", "/api/schema/").json
    keyed = {
        path
        for path, operations in doc["paths"].items()
        for op in operations.values()
        if any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in op["parameters"])
    }
    assert keyed == {
        "/api/customers/", "/api/projects/", "/api/hooks-web/", "/api/hooks-email/", "/api/user-invitations/",
        "/api/keys/", "/api/marketplace-provider-offerings/", "/api/marketplace-plans/",
        "/api/marketplace-robot-accounts/", "/api/marketplace-orders/",
    }  # fmt: skip
    create = doc["paths"]["/api/customers/"]["post"]
    [key] = [p for p in create["parameters"] if p["in"] == "header"]
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 255)
    assert {"422", "503"} <= set(create["responses"])  # a reused key; past the deadline
