"""/api/marketplace-component-usages/: the provider's `set_usage/` (one usage per resource, component
and billing period, a new report replacing the amount; the resource's current_usages in the same
transaction), Waldur's 400s (nothing stored), who may report and who sees, and the list filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import clock
from tests.helpers import call
from tests.integration.test_marketplace_orders_api import act, get, place
from tests.marketplace_helpers import CPU, build_market, ctx_of, make_offering

USAGES = "/api/marketplace-component-usages/"
SET_USAGE = f"{USAGES}set_usage/"

COMPONENTS = [
    CPU,  # limit-based: reportable, never checked against a limit
    {"type": "cpu_hours", "name": "CPU hours", "measured_unit": "h", "billing_type": "usage",
     "limit_period": "month", "limit_amount": 100},
    {"type": "gpu_hours", "name": "GPU hours", "measured_unit": "h", "billing_type": "usage",
     "limit_period": "total", "limit_amount": 50},
    {"type": "storage", "name": "Storage", "measured_unit": "GB", "billing_type": "usage"},
    {"type": "license", "name": "License", "billing_type": "fixed"},
]  # fmt: skip


# Queues and state machines exist on moto (orders start workflows); nothing runs them.
pytestmark = [pytest.mark.stack, pytest.mark.fakes]  # on moto: queues and state machines; else the fakes


@pytest.fixture
def market(aws, staff):
    market = build_market(staff)
    market.offering = make_offering(staff, market.provider.id, name="HPC", components=COMPONENTS)
    return market


def live(client, market):
    order = place(client, market, market.owner)
    act(client, market.seller, order, "approve_by_provider")
    act(client, market.seller, order, "set_state_done")
    return order["marketplace_resource_uuid"]


@pytest.fixture
def resource(client, market):
    return live(client, market)


def report(client, account, resource, *usages, **extra):
    payload = {"resource": resource, "usages": [dict(u) for u in usages], **extra}
    return call(client, "POST", SET_USAGE, account, payload)


def usages(client, account, query=""):
    return get(client, account, f"{USAGES}?{query}")


def this_month():
    return datetime.now(UTC).date().replace(day=1)


def current_usages(client, market, resource):
    return get(client, market.staff, f"/api/marketplace-resources/{resource}/")["current_usages"]


# --- reporting ------------------------------------------------------------------------------------
def test_the_provider_reports_and_a_new_report_of_the_period_replaces_the_amount(client, market, resource):
    first = report(
        client, market.seller, resource, {"type": "cpu_hours", "amount": "10.5", "description": "a"}
    )
    assert (first.status, first.raw) == (201, b"")

    [usage] = usages(client, market.owner, f"resource_uuid={resource}")
    assert usage["usage"] == "10.50" and usage["billing_period"] == this_month().isoformat()
    assert (usage["type"], usage["name"], usage["measured_unit"]) == ("cpu_hours", "CPU hours", "h")
    assert (usage["description"], usage["recurring"], usage["missing_usage_policy"]) == ("a", False, "none")
    assert usage["resource_uuid"] == resource and usage["resource_name"] == "vm-1"
    assert usage["offering_uuid"] == market.offering.id and usage["offering_name"] == "HPC"
    assert (usage["project_uuid"], usage["project_name"]) == (market.project.id, "Apollo")
    assert (usage["customer_uuid"], usage["customer_name"]) == (market.consumer.id, "Acme")
    assert usage["modified_by_username"] == "seller"
    assert usage["url"] == f"http://localhost{USAGES}{usage['uuid']}/"
    assert current_usages(client, market, resource) == {"cpu_hours": "10.50"}

    again = report(client, market.seller, resource, {"type": "cpu_hours", "amount": 20, "recurring": True},
                   {"type": "storage", "amount": "3"})  # fmt: skip
    assert again.status == 201
    rows = {u["type"]: u for u in usages(client, market.owner, f"resource_uuid={resource}")}
    assert set(rows) == {"cpu_hours", "storage"}
    replaced = rows["cpu_hours"]
    assert (replaced["uuid"], replaced["created"]) == (usage["uuid"], usage["created"])
    assert (replaced["usage"], replaced["description"], replaced["recurring"]) == ("20.00", "", True)
    assert replaced["missing_usage_policy"] == "reuse"
    assert current_usages(client, market, resource) == {"cpu_hours": "20.00", "storage": "3.00"}
    retrieved = get(client, market.member, f"{USAGES}{replaced['uuid']}/")
    assert retrieved == replaced


def test_a_report_may_name_the_resources_plan_period_or_a_hyperlink(client, market, resource):
    [period] = get(client, market.seller, f"/api/marketplace-provider-resources/{resource}/plan_periods/")
    reply = call(client, "POST", SET_USAGE, market.seller,
                 {"plan_period": period["uuid"], "usages": [{"type": "storage", "amount": 1}]})  # fmt: skip
    assert reply.status == 201, reply.json
    link = f"http://testserver/api/marketplace-resources/{resource}/"
    assert report(client, market.seller, link, {"type": "storage", "amount": 2}).status == 201
    assert [u["usage"] for u in usages(client, market.seller)] == ["2.00"]


def test_limit_based_components_are_reported_without_a_limit_check(client, market, resource):
    assert report(client, market.seller, resource, {"type": "cpu", "amount": 1_000_000}).status == 201
    assert current_usages(client, market, resource) == {"cpu": "1000000.00"}


def test_a_monthly_limit_counts_the_replaced_report_once(client, market, resource):
    assert report(client, market.seller, resource, {"type": "cpu_hours", "amount": 60}).status == 201
    assert report(client, market.seller, resource, {"type": "cpu_hours", "amount": 100}).status == 201
    over = report(client, market.seller, resource, {"type": "cpu_hours", "amount": "100.01"})
    assert (over.status, over.json) == (
        400,
        ["Total amount exceeds limit. Total amount: 100.01, limit: 100."],
    )
    assert [u["usage"] for u in usages(client, market.seller)] == ["100.00"]


def made_last_month(client, market):
    """A resource made on the last day of last month (the clock moved there and back)."""
    last_month = datetime.combine(this_month() - timedelta(days=1), datetime.min.time(), UTC)
    clock.set_source(lambda: last_month + timedelta(hours=12))
    try:
        return live(client, market), last_month
    finally:
        clock.set_source(None)


def test_a_total_limit_counts_every_earlier_period(client, market):
    resource, last_month = made_last_month(client, market)
    earlier = report(client, market.seller, resource, {"type": "gpu_hours", "amount": 30},
                     date=last_month.isoformat())  # fmt: skip
    assert earlier.status == 201, earlier.json
    assert current_usages(client, market, resource) == {}  # a past period is not the current usage

    over = report(client, market.seller, resource, {"type": "gpu_hours", "amount": 21})
    assert (over.status, over.json) == (400, ["Total amount exceeds limit. Total amount: 51.00, limit: 50."])
    assert report(client, market.seller, resource, {"type": "gpu_hours", "amount": 20}).status == 201
    periods = sorted(u["billing_period"] for u in usages(client, market.seller, "type=gpu_hours"))
    assert periods == [last_month.date().replace(day=1).isoformat(), this_month().isoformat()]


# --- refusals -------------------------------------------------------------------------------------
REFUSED = [
    ("unknown component", {"usages": [{"type": "ram", "amount": 1}]},
     {"non_field_errors": ["These components are invalid: ram."]}),
    ("non-usage component", {"usages": [{"type": "license", "amount": 1}, {"type": "zz", "amount": 1}]},
     {"non_field_errors": ["These components are invalid: license, zz."]}),
    ("negative amount", {"usages": [{"type": "storage", "amount": -1}]},
     {"usages": [{"amount": ["Ensure this value is greater than or equal to 0."]}]}),
    ("three decimal places", {"usages": [{"type": "storage", "amount": "1.005"}]},
     {"usages": [{"amount": ["Ensure that there are no more than 2 decimal places."]}]}),
    ("not a number", {"usages": [{"type": "storage", "amount": "lots"}]},
     {"usages": [{"amount": ["A valid number is required."]}]}),
    ("missing amount", {"usages": [{"type": "storage"}]},
     {"usages": [{"amount": ["This field is required."]}]}),
    ("missing usages", {}, {"usages": ["This field is required."]}),
    ("too many lines", {"usages": [{"type": "storage", "amount": 1}] * 51},
     {"usages": {"non_field_errors": ["Ensure this field has no more than 50 elements."]}}),
    ("a bad second line", {"usages": [{"type": "storage", "amount": 1}, {"type": "storage", "amount": "x"},
                                      {"type": "cpu_hours", "amount": 1}]},
     {"usages": [{}, {"amount": ["A valid number is required."]}, {}]}),
    ("a line that is no object", {"usages": [{"type": "storage", "amount": 1}, "storage"]},
     {"usages": [{}, {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}]}),
    ("over the monthly limit", {"usages": [{"type": "cpu_hours", "amount": 101}]},
     ["Total amount exceeds limit. Total amount: 101.00, limit: 100."]),
    ("over the limit in a later line", {"usages": [{"type": "storage", "amount": 1},
                                                   {"type": "gpu_hours", "amount": 51}]},
     ["Total amount exceeds limit. Total amount: 51.00, limit: 50."]),
    ("unknown policy", {"usages": [{"type": "storage", "amount": 1, "missing_usage_policy": "maybe"}]},
     {"usages": [{"missing_usage_policy": ['"maybe" is not a valid choice.']}]}),
    ("a future date", {"usages": [{"type": "storage", "amount": 1}], "date": "2999-01-01T00:00:00Z"},
     {"date": ["Usage cannot be reported for a future date."]}),
    ("no resource", {"resource": None, "usages": []}, {"resource": ["This field is required."]}),
    ("no such resource", {"resource": "0" * 32, "usages": []},
     {"resource": [f"Object with uuid={'0' * 32} does not exist."]}),
    ("not a uuid", {"resource": "vm-1", "usages": []},
     {"resource": ["Object with uuid=vm-1 does not exist."]}),
]  # fmt: skip


def test_bad_reports_are_refused_with_waldurs_400_and_store_nothing(client, market, resource):
    # One market for the whole table (each market costs seconds under moto).
    for label, payload, error in REFUSED:
        reply = call(client, "POST", SET_USAGE, market.seller, {"resource": resource, **payload})
        assert (reply.status, reply.json) == (400, error), label
    assert usages(client, market.staff) == []
    assert current_usages(client, market, resource) == {}


def test_a_period_before_the_resource_was_made_is_refused_and_stores_nothing(client, market, resource):
    last_month = datetime.combine(this_month() - timedelta(days=1), datetime.min.time(), UTC)
    for when in (last_month, datetime(2001, 1, 1, tzinfo=UTC)):
        line = {"type": "storage", "amount": 5}
        reply = report(client, market.seller, resource, line, date=when.isoformat())
        assert (reply.status, reply.json) == (
            400,
            {"date": ["Usage cannot be reported for a billing period before the resource was created."]},
        )
    assert usages(client, market.staff) == []
    start = datetime.combine(this_month(), datetime.min.time(), UTC)  # before the resource, same month
    assert report(client, market.seller, resource, {"type": "storage", "amount": 5},
                  date=start.isoformat()).status == 201  # fmt: skip
    [usage] = usages(client, market.staff)
    assert (usage["usage"], usage["billing_period"]) == ("5.00", this_month().isoformat())


def test_only_a_live_resource_takes_reports(client, market):
    creating = place(client, market, market.owner)["marketplace_resource_uuid"]
    reply = report(client, market.seller, creating, {"type": "storage", "amount": 1})
    assert (reply.status, reply.json) == (400, {"resource": ["Resource is not in valid state."]})

    resource = live(client, market)
    terminate = call(client, "POST", f"/api/marketplace-resources/{resource}/terminate/", market.owner)
    order = {"uuid": terminate.json["order_uuid"]}
    act(client, market.seller, order, "approve_by_provider")
    terminating = report(client, market.seller, resource, {"type": "storage", "amount": 1})
    assert terminating.status == 201  # Waldur takes reports until the resource is gone
    act(client, market.seller, order, "set_state_done")
    reply = report(client, market.seller, resource, {"type": "storage", "amount": 2})
    assert (reply.status, reply.json) == (400, {"resource": ["Resource is not in valid state."]})
    assert [u["usage"] for u in usages(client, market.staff)] == ["1.00"]


# --- who reports, who sees ------------------------------------------------------------------------------
def test_only_the_provider_side_reports(client, market, resource, staff):
    from chalicelib.services import memberships, offerings
    from tests.conftest import make_account

    manager = make_account("offering-manager")
    scope = offerings.scope(offerings.get_offering(market.offering.id))
    memberships.add_user(ctx_of(staff), scope, manager.id, "OFFERING.MANAGER", None)
    stranger = make_account("stranger")

    for consumer in (market.owner, market.member):  # they see the resource, may not report on it
        reply = report(client, consumer, resource, {"type": "storage", "amount": 1})
        assert (reply.status, reply.json) == (
            403,
            {"detail": "You do not have permission to perform this action."},
        )
    hidden = report(client, stranger, resource, {"type": "storage", "amount": 1})
    assert (hidden.status, hidden.json) == (
        400,
        {"resource": [f"Object with uuid={resource} does not exist."]},
    )
    assert usages(client, staff) == []

    for amount, reporter in enumerate((market.seller, manager, staff), start=1):
        assert report(client, reporter, resource, {"type": "storage", "amount": amount}).status == 201
    [usage] = usages(client, staff)
    assert (usage["usage"], usage["modified_by_username"]) == ("3.00", "staff")


def test_both_sides_see_the_usages_and_nobody_else(client, market, resource, support):
    from tests.conftest import make_account

    assert report(client, market.seller, resource, {"type": "storage", "amount": 1}).status == 201
    [usage] = usages(client, market.seller)
    for account in (market.owner, market.member, market.seller, market.staff, support):
        assert [u["uuid"] for u in usages(client, account)] == [usage["uuid"]]
        assert get(client, account, f"{USAGES}{usage['uuid']}/")["uuid"] == usage["uuid"]
    stranger = make_account("stranger")
    assert usages(client, stranger) == []
    hidden = call(client, "GET", f"{USAGES}{usage['uuid']}/", stranger)
    assert (hidden.status, hidden.json) == (404, {"detail": "No ComponentUsage matches the given query."})
    assert call(client, "GET", f"{USAGES}not-a-uuid/", market.owner).status == 404
    assert call(client, "GET", SET_USAGE, market.seller).status == 405


# --- filters ------------------------------------------------------------------------------------------
def test_filters_and_ordering(client, market, settle):
    resource, last_month = made_last_month(client, market)
    report(client, market.seller, resource, {"type": "storage", "amount": 5}, date=last_month.isoformat())
    report(
        client, market.seller, resource, {"type": "storage", "amount": 7}, {"type": "cpu_hours", "amount": 2}
    )
    other = live(client, market)
    report(client, market.seller, other, {"type": "storage", "amount": 9})

    def amounts(query):
        return [u["usage"] for u in usages(client, market.owner, query)]

    assert sorted(amounts("")) == ["2.00", "5.00", "7.00", "9.00"]
    assert amounts("o=usage") == ["2.00", "5.00", "7.00", "9.00"]
    assert amounts("o=-usage") == ["9.00", "7.00", "5.00", "2.00"]
    assert amounts("o=billing_period")[0] == "5.00"
    assert sorted(amounts(f"resource_uuid={resource}")) == ["2.00", "5.00", "7.00"]
    assert amounts(f"resource=http://testserver/api/marketplace-resources/{other}/") == ["9.00"]
    assert sorted(amounts(f"resource_uuid={resource}&type=storage")) == ["5.00", "7.00"]
    assert amounts(f"billing_period={last_month.date().replace(day=1).isoformat()}") == ["5.00"]
    assert amounts(f"billing_period_month={last_month.month}&billing_period_year={last_month.year}") == [
        "5.00"
    ]
    assert amounts(f"date_before={last_month.date().isoformat()}") == ["5.00"]
    assert sorted(amounts(f"date_after={this_month().isoformat()}")) == ["2.00", "7.00", "9.00"]
    for name, value in (("offering_uuid", market.offering.id), ("project_uuid", market.project.id),
                        ("customer_uuid", market.consumer.id)):  # fmt: skip
        assert len(amounts(f"{name}={value}")) == 4, name
    assert amounts(f"customer_uuid={market.provider.id}") == []
    assert amounts("missing_usage_policy=reuse") == []

    page = call(client, "GET", f"{USAGES}?page_size=3&o=usage", market.owner)
    assert page.headers["X-Result-Count"] == "4" and len(page.json) == 3
    settle()  # staff's total is the counter the stream consumer keeps
    newest = call(client, "GET", f"{USAGES}?page_size=1&page=2", market.staff)
    assert newest.headers["X-Result-Count"] == "4" and len(newest.json) == 1
    for query, field in (("o=name", "o"), ("resource_uuid=nope", "resource_uuid"),
                         ("billing_period=May", "billing_period")):  # fmt: skip
        reply = call(client, "GET", f"{USAGES}?{query}", market.owner)
        assert reply.status == 400 and field in reply.json, query
    # A parameter Waldur does not know is ignored, as its filter backends ignore it.
    assert len(amounts("unknown=1")) == 4
