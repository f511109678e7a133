"""/api/marketplace-resources/ and /api/marketplace-provider-resources/: changing a resource by
ordering (terminate/, update_limits/, switch_plan/ → {"order_uuid"}), the state rules, the
provider's reports, team/ and plan_periods/, filters and the two views' sight."""

from __future__ import annotations

import pytest

from tests.helpers import call
from tests.integration.test_marketplace_orders_api import act, body, get, place, quota

RESOURCES = "/api/marketplace-resources/"
PROVIDER = "/api/marketplace-provider-resources/"


# Queues and state machines exist on moto (orders start workflows); nothing runs them.
pytestmark = [pytest.mark.stack, pytest.mark.fakes]  # on moto: queues and state machines; else the fakes


def live(client, market):
    """An OK resource: ordered by the owner, approved and finished by the provider."""
    order = place(client, market, market.owner)
    act(client, market.seller, order, "approve_by_provider")
    act(client, market.seller, order, "set_state_done")
    return order["marketplace_resource_uuid"]


def post(client, account, path, payload=None):
    return call(client, "POST", path, account, payload)


def order(client, account, uuid):
    return get(client, account, f"/api/marketplace-orders/{uuid}/")


def test_terminating_orders_the_termination_and_its_completion_frees_the_quota(client, market):
    resource = live(client, market)
    reply = post(client, market.owner, f"{RESOURCES}{resource}/terminate/")
    assert reply.status == 200 and set(reply.json) == {"order_uuid"}
    terminate = order(client, market.owner, reply.json["order_uuid"])
    assert (terminate["type"], terminate["state"]) == ("Terminate", "pending-provider")
    assert terminate["marketplace_resource_uuid"] == resource

    again = post(client, market.owner, f"{RESOURCES}{resource}/terminate/")
    assert (again.status, again.json) == (400, ["Pending order for resource already exists."])
    act(client, market.seller, terminate, "approve_by_provider")
    assert get(client, market.owner, f"{RESOURCES}{resource}/")["state"] == "Terminating"
    act(client, market.seller, terminate, "set_state_done")

    ended = get(client, market.owner, f"{RESOURCES}{resource}/")
    assert ended["state"] == "Terminated" and ended["end_date"]
    assert quota(client, market.owner, f"/api/projects/{market.project.id}/") == 0
    assert quota(client, market.owner, f"/api/customers/{market.consumer.id}/") == 0
    reply = post(client, market.owner, f"{RESOURCES}{resource}/terminate/")
    assert (reply.status, reply.json) == (409, {"detail": "Valid states for operation: OK, Erred."})


def test_a_resource_being_made_cannot_be_changed_yet(client, market):
    creating = place(client, market, market.owner)["marketplace_resource_uuid"]
    for action, payload in (("terminate", None), ("update_limits", {"limits": {"cpu": 3}})):
        reply = post(client, market.owner, f"{RESOURCES}{creating}/{action}/", payload)
        assert reply.status == 409, action
    assert reply.json == {"detail": "Valid states for operation: OK."}


def test_new_limits_and_another_plan_apply_when_their_orders_are_done(client, market):
    from chalicelib.services import plans
    from tests.marketplace_helpers import ctx_of

    resource = live(client, market)
    reply = post(client, market.owner, f"{RESOURCES}{resource}/update_limits/", {"limits": {"cpu": 6}})
    update = order(client, market.owner, reply.json["order_uuid"])
    assert (update["type"], update["limits"]) == ("Update", {"cpu": 6})
    act(client, market.seller, update, "approve_by_provider")
    act(client, market.seller, update, "set_state_done")
    assert get(client, market.owner, f"{RESOURCES}{resource}/")["limits"] == {"cpu": 6}

    large = plans.create_plan(
        ctx_of(market.staff), market.offering.id, {"name": "Large", "unit": "month"}
    ).plan
    plan_url = f"http://testserver/api/marketplace-public-offerings/{market.offering.id}/plans/{large.id}/"
    reply = post(client, market.owner, f"{RESOURCES}{resource}/switch_plan/", {"plan": plan_url})
    switch = order(client, market.owner, reply.json["order_uuid"])
    assert (switch["old_plan_uuid"], switch["new_plan_uuid"]) == (market.plan.id, large.id)
    act(client, market.seller, switch, "approve_by_provider")
    act(client, market.seller, switch, "set_state_done")
    switched = get(client, market.owner, f"{RESOURCES}{resource}/")
    assert (switched["plan_uuid"], switched["plan_name"], switched["state"]) == (large.id, "Large", "OK")
    same = post(client, market.owner, f"{RESOURCES}{resource}/switch_plan/", {"plan": plan_url})
    assert same.json == {"plan": ["Resource already uses this plan."]}


def test_a_refused_change_leaves_the_resource_as_it_was(client, market):
    resource = live(client, market)
    reply = post(client, market.owner, f"{RESOURCES}{resource}/update_limits/", {"limits": {"cpu": 9}})
    act(client, market.seller, order(client, market.owner, reply.json["order_uuid"]), "reject_by_provider")
    kept = get(client, market.owner, f"{RESOURCES}{resource}/")
    assert (kept["state"], kept["limits"]) == ("OK", {"cpu": 2})
    assert post(client, market.owner, f"{RESOURCES}{resource}/terminate/").status == 200  # none open now


def test_changes_need_the_consumers_permissions(client, market):
    resource = live(client, market)
    assert post(client, market.member, f"{RESOURCES}{resource}/terminate/").status == 403
    assert (
        post(client, market.seller, f"{RESOURCES}{resource}/update_limits/", {"limits": {"cpu": 1}}).status
        == 403
    )
    assert (
        post(client, market.seller, f"{PROVIDER}{resource}/terminate/").status == 200
    )  # the provider may end it


def test_the_provider_reports_on_its_resource(client, market):
    resource = live(client, market)
    base = f"{PROVIDER}{resource}"
    assert post(client, market.seller, f"{base}/set_backend_id/", {"backend_id": "vm-1"}).json == {
        "status": "Resource backend_id has been changed."
    }
    assert post(client, market.seller, f"{base}/set_backend_id/", {"backend_id": "vm-1"}).json == {
        "status": "Resource backend_id is not changed."
    }
    assert (
        post(
            client, market.seller, f"{base}/set_backend_metadata/", {"backend_metadata": {"ip": "10.0.0.1"}}
        ).status
        == 200
    )
    report = [{"header": "Access", "body": "ssh user@vm-1"}]
    assert post(client, market.seller, f"{base}/submit_report/", {"report": report}).status == 200
    assert post(client, market.seller, f"{base}/set_limits/", {"limits": {"cpu": 5}}).status == 200
    assert post(client, market.seller, f"{base}/set_as_erred/", {"error_message": "disk"}).status == 200
    erred = get(client, market.member, f"{RESOURCES}{resource}/")
    assert (erred["state"], erred["error_message"], erred["limits"]) == ("Erred", "disk", {"cpu": 5})
    assert (erred["backend_metadata"], erred["report"]) == ({"ip": "10.0.0.1"}, report)
    assert post(client, market.seller, f"{base}/set_as_ok/").status == 200
    assert get(client, market.member, f"{RESOURCES}{resource}/")["state"] == "OK"
    assert (
        post(client, market.owner, f"{base}/set_backend_id/", {"backend_id": "x"}).status == 404
    )  # no provider sight
    assert post(client, market.seller, f"{base}/submit_report/", {"report": "text"}).status == 400


def test_team_and_plan_periods(client, market):
    resource = live(client, market)
    team = get(client, market.seller, f"{PROVIDER}{resource}/team/")
    assert [(m["username"], m["role"]) for m in team] == [("member", "PROJECT.MEMBER")]
    assert team[0]["expiration_time"] is None and team[0]["offering_user_username"] is None
    periods = get(client, market.owner, f"{RESOURCES}{resource}/plan_periods/")
    assert [(p["plan_uuid"], p["end"]) for p in periods] == [(market.plan.id, None)]


def test_each_view_shows_what_its_side_sees(client, market, alice):
    resource = live(client, market)
    assert [r["uuid"] for r in get(client, market.member, RESOURCES)] == [resource]
    assert [r["uuid"] for r in get(client, market.seller, RESOURCES)] == [resource]  # the provider too
    assert get(client, market.member, PROVIDER) == []  # a consumer is no provider
    assert call(client, "GET", f"{PROVIDER}{resource}/", market.member).status == 404
    assert (
        get(client, alice, RESOURCES) == []
        and call(client, "GET", f"{RESOURCES}{resource}/", alice).status == 404
    )
    provider_row = get(client, market.seller, f"{PROVIDER}{resource}/")
    assert provider_row["url"].endswith(f"/api/marketplace-provider-resources/{resource}/")
    assert provider_row["offering_plugin_options"] == {}


def test_filters_and_sparse_fields(client, market):
    resource = live(client, market)
    other = place(client, market, market.owner, attributes={"name": "db-1"})["marketplace_resource_uuid"]

    def names(query, path=RESOURCES, account=market.staff):
        return [r["name"] for r in get(client, account, f"{path}?{query}")]

    assert names("") == ["db-1", "vm-1"]
    assert names("o=name") == ["db-1", "vm-1"] and names("o=-name") == ["vm-1", "db-1"]
    assert names("state=OK") == ["vm-1"] and names("state=OK&state=Creating") == ["db-1", "vm-1"]
    assert names("name_exact=db-1") == ["db-1"] and names("name=vm") == ["vm-1"]
    assert names(f"offering_uuid={market.offering.id}&state=Creating", PROVIDER, market.seller) == ["db-1"]
    assert names(f"provider_uuid={market.provider.id}", PROVIDER, market.seller) == ["db-1", "vm-1"]
    assert names(f"project_uuid={market.project.id}") == ["db-1", "vm-1"]
    assert names(f"customer_uuid={market.provider.id}") == []
    sparse = get(client, market.staff, f"{RESOURCES}{other}/?field=uuid&field=state")
    assert sparse == {"uuid": other, "state": "Creating"}
    assert call(client, "GET", f"{RESOURCES}?state=Gone", market.staff).status == 400
    assert resource in [r["uuid"] for r in get(client, market.staff, f"{RESOURCES}?page_size=1&page=2")]


def test_no_post_or_delete(client, market):
    resource = live(client, market)
    assert call(client, "POST", RESOURCES, market.staff, body(market)).status == 405
    assert call(client, "DELETE", f"{RESOURCES}{resource}/", market.staff).status == 405


def test_a_resource_is_renamed_and_ended_by_those_who_may_and_hidden_from_other_tenants(client, market):
    from datetime import date, timedelta

    from tests.conftest import make_account

    uuid = live(client, market)
    stranger = make_account("stranger")
    rename = {"name": "vm-renamed"}
    end = {"end_date": (date.today() + timedelta(days=30)).isoformat()}
    # GIVEN a member of the project (reads it), the provider, and a user of another tenant
    assert call(client, "PATCH", f"{RESOURCES}{uuid}/", market.member, rename).status == 403
    assert post(client, market.member, f"{RESOURCES}{uuid}/set_end_date/", end).status == 403
    assert call(client, "PATCH", f"{RESOURCES}{uuid}/", stranger, rename).status == 404
    assert post(client, stranger, f"{RESOURCES}{uuid}/set_end_date/", end).status == 404
    assert post(client, stranger, f"{PROVIDER}{uuid}/set_end_date/", end).status == 404
    assert post(client, market.owner, f"{PROVIDER}{uuid}/set_end_date/", end).status == 404  # not its view
    assert post(client, market.owner, f"{RESOURCES}{uuid}/set_slug/", {"slug": "mine"}).status == 403
    assert get(client, market.owner, f"{RESOURCES}{uuid}/")["name"] == "vm-1"
    # WHEN the owner renames it and sets its end date
    renamed = call(client, "PATCH", f"{RESOURCES}{uuid}/", market.owner, {**rename, **end})
    # THEN both views show it
    assert (renamed.status, renamed.json) == (
        200,
        {"name": "vm-renamed", "description": "a test machine", **end},
    )
    seen = get(client, market.seller, f"{PROVIDER}{uuid}/")
    assert (seen["name"], seen["end_date"], seen["slug"]) == ("vm-renamed", end["end_date"], "vm-1-1")
