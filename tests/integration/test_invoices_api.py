"""/api/invoices/ and /api/invoice-items/ over HTTP: Waldur's shapes (10-place invoice amounts, item
prices as numbers, no due date until issued), who sees (owners, staff, support; a project member
or another customer's owner gets 404), staff's writes (paid/ from created only, references, item
corrections and removals while pending, each with its event), stats/, items/, the filters, bad
input (400, never 500), the cost fields (plans' one-time and switch prices, order cost, the month's
estimate on customers and projects) and what the reads cost in DynamoDB round trips.

The clock stands at 2026-11-15 10:00 UTC; the offering bills a fixed Public IP (30 a month), a cpu
limit (2 per core), a one-time setup (50), a plan switch (5) and usage storage (0.5 per GB).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain import clock
from tests.helpers import call, feed
from tests.integration.test_billing import COMPONENTS, PLANS, at, made
from tests.marketplace_helpers import build_market, ctx_of, make_offering

INVOICES = "/api/invoices/"
ITEMS = "/api/invoice-items/"
GHOST = "0" * 32
NOW = at("2026-11-15T10:00:00")
IP = "vm-1 (Billed / Standard) / Public IP"


# Queues and state machines exist on moto (orders start workflows); nothing runs them.
pytestmark = [pytest.mark.stack, pytest.mark.fakes]  # on moto: queues and state machines; else the fakes


@pytest.fixture(autouse=True)
def now() -> Iterator[None]:
    clock.set_source(lambda: NOW)  # before any account signs in: tokens are made at this time
    yield
    clock.set_source(None)


@pytest.fixture
def market(aws: None, staff: Any) -> Any:
    from chalicelib.services import customers

    market = build_market(staff)
    customers.update_customer(ctx_of(staff), market.consumer.id, {"default_tax_percent": Decimal("20")})
    market.offering = make_offering(
        staff, market.provider.id, name="Billed", components=COMPONENTS, plans=PLANS
    )
    market.order = made(market, NOW, limits={"cpu": 4})
    clock.set_source(lambda: NOW)
    return market


def get(client: Any, account: Any, path: str) -> Any:
    reply = call(client, "GET", path, account)
    assert reply.status == 200, (path, reply.status, reply.json)
    return reply.json


def invoice_of(client: Any, market: Any, account: Any = None, query: str = "") -> Any:
    [found] = get(client, account or market.owner, f"{INVOICES}?customer_uuid={market.consumer.id}{query}")
    return found


def item_named(invoice: Any, name: str) -> Any:
    return next(i for i in invoice["items"] if i["name"] == name)


def month_run(market: Any) -> None:
    """December's run for both customers (the consumer's November issued, December opened; the
    provider's December opened, empty), then the clock back where the tokens are valid."""
    from chalicelib.services import billing

    clock.set_source(lambda: datetime(2026, 12, 1, tzinfo=UTC))
    billing.run_month(ctx_of(market.staff), 2026, 12, [market.consumer.id, market.provider.id])
    clock.set_source(lambda: NOW)


# --- shapes -------------------------------------------------------------------------------------------
def test_an_owner_reads_the_months_invoice_in_waldurs_shape(client, market):
    reply = call(client, "GET", f"{INVOICES}?customer_uuid={market.consumer.id}", market.owner)
    assert reply.status == 200 and reply.headers["X-Result-Count"] == "1"
    [invoice] = reply.json
    assert invoice["url"] == f"http://localhost{INVOICES}{invoice['uuid']}/"
    assert invoice["customer"] == f"http://localhost/api/customers/{market.consumer.id}/"
    assert invoice["customer_uuid"] == market.consumer.id
    assert isinstance(invoice["number"], int) and invoice["number"] >= 100001
    assert (invoice["state"], invoice["year"], invoice["month"]) == ("pending", 2026, 11)
    # 16.20 (IP, 16 of 30 days) + 8.00 (4 cores) + 50.00 (setup); tax 20 %
    assert (invoice["price"], invoice["tax"], invoice["total"]) == (
        "74.2000000000",
        "14.8400000000",
        "89.0400000000",
    )
    assert invoice["invoice_date"] is None and "due_date" not in invoice
    assert invoice["issuer_details"] == {} and invoice["customer_details"]["name"] == "Acme"
    assert (invoice["backend_id"], invoice["payment_url"], invoice["reference_number"]) == ("", "", "")
    assert (invoice["compensations"], invoice["incurred_costs"]) == (0.0, 74.2)
    names = [i["name"] for i in invoice["items"]]
    assert names == sorted(names) and len(names) == 3  # by project, then name; usage waits for a report

    ip = item_named(invoice, IP)
    resource = market.order.resource_id
    assert ip == {
        "uuid": ip["uuid"],
        "url": f"http://localhost{ITEMS}{ip['uuid']}/",
        "name": IP,
        "price": 16.2,
        "tax": "3.24",
        "total": "19.44",
        "unit_price": "30.0000000000",
        "unit": "month",
        "measured_unit": "IPs",
        "start": "2026-11-15T10:00:00.000000Z",
        "end": "2026-11-30T23:59:59.999999Z",
        "article_code": "",
        "project_name": "Apollo",
        "project_uuid": market.project.id,
        "quantity": "0.5400000000",
        "details": ip["details"],
        "resource": f"http://localhost/api/marketplace-resources/{resource}/",
        "resource_uuid": resource,
        "resource_name": "vm-1",
        "billing_type": "fixed",
        "backend_uuid": None,
        "credit": False,
    }
    assert ip["details"]["offering_component_type"] == "ip" and ip["details"]["resource_uuid"] == resource
    assert get(client, market.owner, f"{INVOICES}{invoice['uuid']}/") == invoice
    assert get(client, market.owner, f"{INVOICES}{invoice['uuid']}/?field=uuid&field=total") == {
        "uuid": invoice["uuid"],
        "total": "89.0400000000",
    }


def test_an_issued_invoice_has_its_dates_and_the_next_month_opens(client, market):
    month_run(market)
    november = invoice_of(client, market, query="&year=2026&month=11")
    assert (november["state"], november["invoice_date"], november["due_date"]) == (
        "created",
        "2026-12-01",
        "2026-12-31",
    )
    december = invoice_of(client, market, query="&year=2026&month=12")
    assert december["state"] == "pending" and december["number"] != november["number"]
    assert {i["name"] for i in december["items"]} == {IP, "vm-1 (Billed / Standard) / CPU"}


# --- who sees --------------------------------------------------------------------------------------------
def test_owners_staff_and_support_see_the_invoice_and_nobody_else_does(client, market, support, alice):
    invoice = invoice_of(client, market)
    path = f"{INVOICES}{invoice['uuid']}/"
    for account in (market.staff, support):
        assert get(client, account, path)["uuid"] == invoice["uuid"]
        assert invoice["uuid"] in [i["uuid"] for i in get(client, account, INVOICES)]
    # a project member, the provider's owner, a user without roles: 404 and empty lists
    for account in (market.member, market.seller, alice):
        reply = call(client, "GET", path, account)
        assert (reply.status, reply.json) == (404, {"detail": "No Invoice matches the given query."})
        assert get(client, account, f"{INVOICES}?customer_uuid={market.consumer.id}") == []
        assert invoice["uuid"] not in [i["uuid"] for i in get(client, account, INVOICES)]
        assert call(client, "GET", f"{path}items/", account).status == 404
    assert call(client, "GET", INVOICES).status == 401


def test_the_list_filters_and_orders_as_waldurs(client, market):
    month_run(market)
    staff, consumer = market.staff, market.consumer.id

    def months(query: str, account: Any = None) -> list[tuple[int, int]]:
        found = get(client, account or market.owner, f"{INVOICES}?{query}")
        return [(i["year"], i["month"]) for i in found]

    assert months("") == [(2026, 12), (2026, 11)]  # -year, -month
    assert months("o=month") == [(2026, 11), (2026, 12)]
    assert months("o=-created") == [(2026, 12), (2026, 11)]
    assert months("state=created") == [(2026, 11)]
    assert months("state=created&state=pending") == [(2026, 12), (2026, 11)]
    assert months("year=2026&month=12") == [(2026, 12)]
    assert months("year=2025") == []
    assert months("month=11") == [(2026, 11)]
    assert months(f"customer=http://localhost/api/customers/{consumer}/", staff) == [(2026, 12), (2026, 11)]
    assert months(f"customer_uuid={consumer}&state=pending", staff) == [(2026, 12)]
    assert months(f"customer_uuid={market.provider.id}", staff) == [(2026, 12)]  # made by the run, empty
    assert months("start_date=2026-11-30") == [(2026, 12)]  # created after (exclusive)
    assert months("end_date=2026-11-30") == [(2026, 11)]
    assert months("page_size=1&page=2") == [(2026, 11)]
    staff_page = call(client, "GET", f"{INVOICES}?year=2026&month=12&page_size=1", staff)
    assert staff_page.headers["X-Result-Count"] == "2" and 'rel="next"' in staff_page.headers["Link"]


# --- staff's writes ---------------------------------------------------------------------------------------
def test_staff_mark_an_issued_invoice_paid_and_nobody_else_may(client, market):
    pending = invoice_of(client, market)
    path = f"{INVOICES}{pending['uuid']}/paid/"
    refused = call(client, "POST", path, market.staff)
    assert (refused.status, refused.json) == (409, {"detail": "Invoice must be in created state."})

    month_run(market)
    assert call(client, "POST", path, market.owner).json == {
        "detail": "You do not have permission to perform this action."
    }
    assert call(client, "POST", path, market.owner).status == 403
    assert call(client, "POST", path, market.member).status == 404
    paid = call(client, "POST", path, market.staff, {"date": "2026-12-05"})
    assert paid.status == 200 and paid.json["state"] == "paid" and paid.json["uuid"] == pending["uuid"]
    assert invoice_of(client, market, query="&state=paid")["uuid"] == pending["uuid"]
    events = [e for e in feed("customer", market.consumer.id) if e.event_type == "invoice_paid"]
    assert [e.message for e in events] == ["Invoice for customer Acme has been paid."]
    assert (
        events[0].context["invoice_uuid"] == pending["uuid"] and events[0].context["user_username"] == "staff"
    )
    assert call(client, "POST", path, market.staff).status == 409  # paid already


def test_staff_set_an_invoices_references(client, market):
    invoice = invoice_of(client, market)
    base = f"{INVOICES}{invoice['uuid']}"
    for action, value in (
        ("backend_id", "SAP-17"),
        ("payment_url", "https://pay.example/17"),
        ("reference_number", "RF18 5390 0754 7034"),
    ):
        assert call(client, "POST", f"{base}/set_{action}/", market.owner, {action: value}).status == 403
        reply = call(client, "POST", f"{base}/set_{action}/", market.staff, {action: value})
        assert (reply.status, reply.raw) == (200, b"")
        assert get(client, market.owner, f"{base}/")[action] == value
    bad = call(client, "POST", f"{base}/set_payment_url/", market.staff, {"payment_url": "not a url"})
    assert (bad.status, bad.json) == (400, {"payment_url": ["Enter a valid URL."]})
    missing = call(client, "POST", f"{base}/set_backend_id/", market.staff, {})
    assert (missing.status, missing.json) == (400, {"backend_id": ["This field is required."]})


def test_staff_correct_an_item_of_a_pending_invoice_with_an_event(client, market):
    ip = item_named(invoice_of(client, market), IP)
    path = f"{ITEMS}{ip['uuid']}/"
    assert call(client, "PATCH", path, market.owner, {"unit_price": "40"}).status == 403
    assert call(client, "PATCH", path, market.member, {"unit_price": "40"}).status == 404

    # a fixed item's quantity follows its span; the quantity given is ignored (Waldur's rule)
    reply = call(
        client, "PATCH", path, market.staff, {"unit_price": "40", "quantity": "9", "article_code": "IP-1"}
    )
    assert reply.status == 200, reply.json
    assert (reply.json["unit_price"], reply.json["quantity"], reply.json["price"]) == (
        "40.0000000000",
        "0.5400000000",
        21.6,
    )
    assert reply.json["article_code"] == "IP-1"
    assert invoice_of(client, market)["price"] == "79.6000000000"
    [event] = [e for e in feed("customer", market.consumer.id) if e.event_type == "invoice_item_updated"]
    assert (
        event.message
        == f"Invoice item {IP} has been updated. Details: article_code:  -> IP-1, unit_price: 30 -> 40"
    )
    assert (
        event.context["invoice_item_uuid"] == ip["uuid"]
        and event.context["resource_uuid"] == ip["resource_uuid"]
    )

    moved = call(client, "PUT", path, market.staff, {"start": "2026-11-01T00:00:00Z"})
    assert (moved.status, moved.json["quantity"], moved.json["start"]) == (
        200,
        "1.0000000000",
        "2026-11-01T00:00:00.000000Z",
    )
    same = call(client, "PATCH", path, market.staff, {"article_code": "IP-1"})
    assert same.status == 200
    assert (
        len([e for e in feed("customer", market.consumer.id) if e.event_type == "invoice_item_updated"]) == 2
    )

    for body, errors in (
        ({"quantity": "abc"}, {"quantity": ["A valid number is required."]}),
        ({"unit_price": "-1"}, {"unit_price": ["Ensure this value is greater than or equal to 0."]}),
        ({"end": "2026-10-01T00:00:00Z"}, {"end": ["End must be after start."]}),
        ({"start": None}, {"start": ["This field may not be null."]}),
        ({"start": "yesterday"}, None),
    ):
        bad = call(client, "PATCH", path, market.staff, body)
        assert bad.status == 400, (body, bad.json)
        assert errors is None or bad.json == errors

    month_run(market)  # November is issued: its items are final
    late = call(client, "PATCH", path, market.staff, {"unit_price": "1"})
    assert (late.status, late.json) == (400, ["Invoice must be in pending state."])
    assert call(client, "DELETE", path, market.staff).json == ["Invoice must be in pending state."]


def test_staff_remove_an_item_with_an_event(client, market):
    setup = item_named(invoice_of(client, market), "vm-1 (Billed / Standard) / Setup")
    path = f"{ITEMS}{setup['uuid']}/"
    assert call(client, "DELETE", path, market.owner).status == 403
    reply = call(client, "DELETE", path, market.staff)
    assert (reply.status, reply.raw) == (204, b"")
    assert call(client, "GET", path, market.staff).status == 404
    assert invoice_of(client, market)["price"] == "24.2000000000"
    [event] = [e for e in feed("customer", market.consumer.id) if e.event_type == "invoice_item_deleted"]
    assert event.message == "Invoice item vm-1 (Billed / Standard) / Setup has been deleted."


# --- stats, items/, invoice-items/ -----------------------------------------------------------------------
def test_stats_sum_the_invoice_per_offering(client, market):
    invoice = invoice_of(client, market)
    reply = call(client, "GET", f"{INVOICES}{invoice['uuid']}/stats/", market.owner)
    assert reply.status == 200 and reply.headers["X-Result-Count"] == "1"
    assert reply.json == [
        {
            "uuid": market.offering.id,
            "offering_name": "Billed",
            "aggregated_price": 74.2,
            "aggregated_tax": 14.84,
            "aggregated_total": 89.04,
            "service_category_title": "",
            "service_provider_name": "Cloud Provider",
            "service_provider_uuid": market.provider.id,
        }
    ]
    other = get(
        client, market.owner, f"{INVOICES}{invoice['uuid']}/stats/?provider_uuid={market.consumer.id}"
    )
    assert other == []


def test_the_items_action_is_a_plain_filtered_list(client, market):
    invoice = invoice_of(client, market)
    path = f"{INVOICES}{invoice['uuid']}/items/"
    reply = call(client, "GET", path, market.owner)
    assert reply.status == 200 and "X-Result-Count" not in reply.headers
    assert reply.json == invoice["items"]
    newest_name_first = get(client, market.owner, f"{path}?o=-name")
    assert [i["name"] for i in newest_name_first] == sorted(
        (i["name"] for i in invoice["items"]), reverse=True
    )
    assert (
        get(client, market.owner, f"{path}?query=VM-1&project_uuid={market.project.id}") == invoice["items"]
    )
    assert get(client, market.owner, f"{path}?provider_uuid={market.consumer.id}") == []
    assert call(client, "GET", f"{path}?o=price", market.owner).status == 400


def test_invoice_items_are_listed_and_read_by_whoever_sees_their_invoice(client, market, support):
    invoice = invoice_of(client, market)
    ip = item_named(invoice, IP)
    resource, project, offering = market.order.resource_id, market.project.id, market.offering.id
    for query in (
        "",
        f"resource_uuid={resource}",
        f"project_uuid={project}",
        f"customer_uuid={market.consumer.id}",
        f"offering_uuid={offering}",
        "year=2026&month=11",
        f"resource_uuid={resource}&year=2026&month=11",
        "start_year=2026&start_month=11",
    ):
        for account in (market.owner, market.staff, support):
            found = get(client, account, f"{ITEMS}?{query}")
            assert len(found) == 3, (query, account.username)
    assert get(client, market.owner, f"{ITEMS}?year=2026&month=10") == []
    assert get(client, market.owner, f"{ITEMS}?credit_uuid={GHOST}") == []
    assert get(client, market.member, ITEMS) == []
    assert get(client, market.seller, f"{ITEMS}?customer_uuid={market.consumer.id}") == []

    detail = get(client, market.owner, f"{ITEMS}{ip['uuid']}/")
    assert {k: detail[k] for k in ("uuid", "name", "price", "unit_price", "quantity", "start", "end")} == {
        k: ip[k] for k in ("uuid", "name", "price", "unit_price", "quantity", "start", "end")
    }
    assert detail["invoice"] == invoice["url"]
    assert (detail["offering_uuid"], detail["offering_name"], detail["offering_component_type"]) == (
        offering,
        "Billed",
        "ip",
    )
    assert (detail["customer_uuid"], detail["customer_name"]) == (market.consumer.id, "Acme")
    assert "tax" not in detail and "total" not in detail
    assert call(client, "GET", f"{ITEMS}{ip['uuid']}/", market.member).status == 404


def test_bad_input_is_a_400_or_404_never_a_500(client, market):
    invoice = invoice_of(client, market)
    for path, status in (
        (f"{INVOICES}?state=lost", 400),
        (f"{INVOICES}?month=13", 400),
        (f"{INVOICES}?year=nineteen", 400),
        (f"{INVOICES}?customer_uuid=nope", 400),
        (f"{INVOICES}?customer=http://localhost/api/customers/nope/", 400),
        (f"{INVOICES}?o=total", 400),
        (f"{INVOICES}?min_sum=1", 200),  # not a filter Cirrus knows: ignored, as Waldur ignores it
        (f"{INVOICES}?created=yesterday", 400),
        (f"{INVOICES}?page=9", 404),
        (f"{INVOICES}{GHOST}/", 404),
        (f"{INVOICES}not-a-uuid/", 404),
        (f"{INVOICES}{GHOST}/stats/", 404),
        (f"{INVOICES}{invoice['uuid']}/stats/?provider_uuid=x", 400),
        (f"{ITEMS}?resource_uuid=x", 400),
        (f"{ITEMS}?start_month=0", 400),
        (f"{ITEMS}{GHOST}/", 404),
    ):
        reply = call(client, "GET", path, market.staff)
        assert reply.status == status, (path, reply.status, reply.json)
    for method, path in (("POST", f"{INVOICES}{GHOST}/paid/"), ("DELETE", f"{ITEMS}{GHOST}/")):
        assert call(client, method, path, market.staff).status == 404
    raw = call(client, "POST", f"{INVOICES}{invoice['uuid']}/paid/", market.staff, raw_body=b"{")
    assert raw.status == 400
    bad_date = call(client, "POST", f"{INVOICES}{invoice['uuid']}/paid/", market.staff, {"date": "soon"})
    assert bad_date.status == 400
    assert call(client, "PUT", INVOICES, market.staff).status == 405


# --- cost fields -----------------------------------------------------------------------------------------
def test_plans_and_orders_carry_their_costs(client, market):
    from chalicelib.services import resources

    public = get(client, market.owner, f"/api/marketplace-public-offerings/{market.offering.id}/")
    plan = next(p for p in public["plans"] if p["name"] == "Standard")
    assert (plan["init_price"], plan["switch_price"]) == (50.0, 5.0)
    order = get(client, market.owner, f"/api/marketplace-orders/{market.order.id}/")
    assert order["cost"] == "58.00"  # 2 x 4 cores + the one-time 50 (the fixed IP is not counted)
    large = market.offering.plans[1]
    switch = resources.switch_plan(ctx_of(market.staff), market.order.resource_id, large.id)
    assert get(client, market.owner, f"/api/marketplace-orders/{switch.id}/")["cost"] == "13.00"  # 8 + 5


def test_a_customers_and_a_projects_retrieve_carry_the_months_estimate(client, market):
    customer = get(client, market.owner, f"/api/customers/{market.consumer.id}/")
    assert customer["billing_price_estimate"] == {
        "total": "74.2000000000",
        "current": "74.2000000000",
        "tax": "14.8400000000",
        "tax_current": "14.8400000000",
    }
    project = get(client, market.member, f"/api/projects/{market.project.id}/")
    assert project["billing_price_estimate"] == customer["billing_price_estimate"]
    listed = get(client, market.staff, "/api/projects/") + get(client, market.staff, "/api/customers/")
    assert listed and all("billing_price_estimate" not in p for p in listed)  # lists leave it out
    only = get(client, market.owner, f"/api/customers/{market.consumer.id}/?field=name")
    assert only == {"name": "Acme"}  # not asked for: not read
    empty = get(client, market.staff, f"/api/customers/{market.provider.id}/")["billing_price_estimate"]
    assert empty == {"total": "0.0000000000", "current": "0.0000000000", "tax": "0.0000000000",
                     "tax_current": "0.0000000000"}  # fmt: skip


def test_the_customers_estimate_is_for_who_sees_its_invoices(client, market, support):
    """Issue 13 finding 6: a project-only member does not see the whole customer's spend (its
    invoices are a 404 to them), only their project's, as on Waldur's project."""
    acme = f"/api/customers/{market.consumer.id}/"
    spend = get(client, market.owner, acme)["billing_price_estimate"]
    assert spend["total"] == "74.2000000000"
    for sees_invoices in (market.staff, support):
        assert get(client, sees_invoices, acme)["billing_price_estimate"] == spend
    seen = get(client, market.member, acme)
    assert seen["name"] == "Acme" and "billing_price_estimate" not in seen
    assert get(client, market.member, f"{acme}?field=billing_price_estimate&field=name") == {"name": "Acme"}
    assert call(client, "GET", f"{INVOICES}?customer_uuid={market.consumer.id}", market.member).json == []
    assert "billing_price_estimate" in get(client, market.member, f"/api/projects/{market.project.id}/")


# --- what reads cost -------------------------------------------------------------------------------------
@pytest.mark.moto
def test_invoice_reads_cost_a_constant_number_of_round_trips(client, market, dynamodb_calls):
    month_run(market)
    invoice = invoice_of(client, market, query="&month=11")

    def cost(account: Any, path: str) -> int:
        dynamodb_calls.clear()
        assert call(client, "GET", path, account).status == 200
        return len(dynamodb_calls)

    consumer = market.consumer.id
    # Every request reads its token first (one GetItem); an owner then reads their rights (grants,
    # roles: two Queries). Staff: the month's invoice is one Query (header and items), the
    # customer for customer_details one BatchGetItem.
    assert cost(market.staff, f"{INVOICES}?customer_uuid={consumer}&year=2026&month=11") == 1 + 2
    assert cost(market.owner, f"{INVOICES}?customer_uuid={consumer}&year=2026&month=11") == 1 + 2 + 2
    # one customer's invoices: its headers (gsi2), the page's invoices with their items, the customer
    assert cost(market.staff, f"{INVOICES}?customer_uuid={consumer}") == 1 + 3
    assert cost(market.owner, INVOICES) == 1 + 2 + 3
    # retrieve: the id's invoice (gsi1), its header and items, the customer
    assert cost(market.staff, f"{INVOICES}{invoice['uuid']}/") == 1 + 3
    assert cost(market.owner, f"{INVOICES}{invoice['uuid']}/") == 1 + 2 + 3
    # staff's list of every invoice: a COUNT, the page, one Query per customer on it (two here)
    # for their items, the customers
    assert cost(market.staff, INVOICES) == 1 + 2 + 2 + 1


@pytest.fixture
def dynamodb_calls() -> Iterator[list[str]]:
    from chalicelib.store.table import connection

    calls: list[str] = []

    def count(model: Any, params: Any, **kwargs: Any) -> None:
        calls.append(model.name)

    events = connection().client.meta.events
    events.register("before-call.dynamodb", count)
    yield calls
    events.unregister("before-call.dynamodb", count)
