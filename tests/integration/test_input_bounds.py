"""Free-form input is bounded (issue 13, finding 7): an order's attributes, a resource's backend
metadata and report, an offering's options, limits, error texts. Too large, too deep or too wide is
a 400 naming the field, and nothing is stored; what fits still works."""

from __future__ import annotations

import pytest

from chalicelib.domain import bounds
from chalicelib.domain.numbers import MAX_INTEGER
from tests.helpers import call
from tests.integration.test_marketplace_orders_api import ORDERS, act, body, get, place, quota

PROVIDER_RESOURCES = "/api/marketplace-provider-resources/"
OFFERINGS = "/api/marketplace-provider-offerings/"


# Queues and state machines exist on moto (orders start workflows); nothing runs them.
pytestmark = [pytest.mark.stack, pytest.mark.fakes]  # on moto: queues and state machines; else the fakes


def nested(levels: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def orders_seen(client, market) -> int:
    return len(get(client, market.owner, f"{ORDERS}?project_uuid={market.project.id}"))


def refuses_order(client, market, field, value):
    """POST the order with `field` set to `value`: a 400 naming the field, and no order, resource or
    quota use stored."""
    reply = call(client, "POST", ORDERS, market.owner, body(market, **{field: value}))
    assert reply.status == 400, reply.json
    assert list(reply.json) == [field]
    assert orders_seen(client, market) == 0
    assert quota(client, market.owner, f"/api/projects/{market.project.id}/") == 0
    errors = reply.json[field]
    if isinstance(errors, dict):  # a dict field's errors are keyed by the dict's key, as DRF nests them
        (errors,) = errors.values()
    return errors[0]


def test_an_order_with_300_kb_of_attributes_is_refused_and_nothing_is_stored(client, market):
    message = refuses_order(client, market, "attributes", {"name": "vm", "blob": "a" * 300_000})
    assert message.startswith(f"Ensure this value is no larger than {bounds.ATTRIBUTES.max_bytes} bytes")


def test_a_one_megabyte_order_body_is_refused(client, market):
    refuses_order(client, market, "attributes", {"name": "vm", **{f"k{i}": "x" * 4000 for i in range(250)}})
    refuses_order(client, market, "attributes", {"name": "vm", "blob": "é" * 1_000_000})


def test_too_deep_or_too_wide_attributes_are_refused(client, market):
    assert "nested no more than 10 levels" in refuses_order(client, market, "attributes", nested(11))
    wide = {f"k{i}": i for i in range(bounds.ATTRIBUTES.max_keys + 1)}
    assert "no more than 500 keys" in refuses_order(client, market, "attributes", wide)
    assert "longer than 255 characters" in refuses_order(client, market, "attributes", {"k" * 256: 1})


def test_non_ascii_attributes_are_measured_as_stored(client, market):
    # 6,000 characters, but 36,000 bytes escaped as the store writes them: over the 32 KiB budget.
    refuses_order(client, market, "attributes", {"name": "vm", "text": "ж" * 6_000})


def test_limits_are_bounded_whole_numbers(client, market):
    assert refuses_order(client, market, "limits", {"cpu": 10**30}) == (
        f"Ensure this value is less than or equal to {MAX_INTEGER}."
    )
    assert "longer than 50 characters" in refuses_order(client, market, "limits", {"c" * 51: 1})


def test_orders_within_the_bounds_are_placed(client, market):
    order = place(
        client, market, market.owner, attributes={"name": "vm-1", "deep": nested(9), "text": "a" * 30_000}
    )
    assert order["attributes"]["deep"] == nested(9)
    assert orders_seen(client, market) == 1


def live_resource(client, market) -> str:
    order = place(client, market, market.owner)
    act(client, market.seller, order, "approve_by_provider")
    act(client, market.seller, order, "set_state_done")
    return order["marketplace_resource_uuid"]


def test_the_providers_reports_are_bounded(client, market):
    uuid = live_resource(client, market)
    base = f"{PROVIDER_RESOURCES}{uuid}"

    def post(action, payload):
        return call(client, "POST", f"{base}/{action}/", market.seller, payload)

    metadata = post("set_backend_metadata", {"backend_metadata": {"blob": "a" * 20_000}})
    assert metadata.status == 400 and list(metadata.json) == ["backend_metadata"]
    report = post("submit_report", {"report": [{"header": "h", "body": "a" * 40_000}]})
    assert report.status == 400 and list(report.json) == ["report"]
    unknown = post("set_limits", {"limits": {"ram": 1}})
    assert (unknown.status, unknown.json) == (400, {"limits": ["ram is not a component of this offering."]})
    erred = post("set_as_erred", {"error_message": "x", "error_traceback": "ж" * 90_000})
    assert erred.status == 400 and list(erred.json) == ["error_traceback"]

    resource = get(client, market.owner, f"/api/marketplace-resources/{uuid}/")
    assert (resource["backend_metadata"], resource["report"], resource["state"]) == ({}, [], "OK")
    assert post("set_backend_metadata", {"backend_metadata": {"ip": "10.0.0.1"}}).status == 200


def test_a_providers_error_text_is_bounded_so_failing_an_order_always_stores(client, market):
    order = place(client, market, market.owner)
    act(client, market.seller, order, "approve_by_provider")
    # 90,000 characters (under the 100,000-character limit) that take 540 KB escaped: before, the
    # order could not be stored and the request answered 500.
    huge = act(client, market.seller, order, "set_state_erred", {"error_traceback": "ж" * 90_000})
    assert huge.status == 400 and list(huge.json) == ["error_traceback"]
    assert get(client, market.owner, f"{ORDERS}{order['uuid']}/")["state"] == "executing"
    assert (
        act(client, market.seller, order, "set_state_erred", {"error_message": "no capacity"}).status == 200
    )
    assert get(client, market.owner, f"{ORDERS}{order['uuid']}/")["state"] == "erred"


def test_an_offerings_free_form_fields_are_bounded(client, market):
    base = f"{OFFERINGS}{market.offering.id}"
    blob = {"blob": "a" * 20_000}
    integration = call(client, "POST", f"{base}/update_integration/", market.seller, {"plugin_options": blob})
    assert integration.status == 400 and list(integration.json) == ["plugin_options"]
    attributes = call(client, "POST", f"{base}/update_attributes/", market.seller, nested(11))
    assert attributes.status == 400 and list(attributes.json) == ["non_field_errors"]
    overview = call(
        client, "POST", f"{base}/update_overview/", market.seller, {"full_description": "a" * 20_000}
    )
    assert overview.status == 400 and list(overview.json) == ["full_description"]
    assert (
        call(
            client, "POST", f"{base}/update_integration/", market.seller, {"plugin_options": {"a": 1}}
        ).status
        == 200
    )
