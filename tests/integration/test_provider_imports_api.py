"""`importable_resources/` and `import_resource/` of `marketplace-provider-offerings/` over HTTP, for
the fake cloud type: what the provider has minus what Cirrus has, an import making an OK resource
with its event, and Waldur's refusals (unknown or imported backend id, a type that does not import,
a shared offering's import by anybody but staff, another tenant's offering, an unseen project)."""

from __future__ import annotations

import pytest

from tests.cloud_helpers import cloud_offering, imported
from tests.fakes.cloud import FakeCloud, registered
from tests.helpers import call, feed

BASE = "/api/marketplace-provider-offerings"


@pytest.fixture
def cloud():
    with registered(FakeCloud()) as fake:
        yield fake


@pytest.fixture
def offering(market, cloud):
    return cloud_offering(market)


def importable(client, account, offering):
    return call(client, "GET", f"{BASE}/{offering.id}/importable_resources/", account)


def import_(client, account, offering, backend_id, project=None, **more):
    body = {"backend_id": backend_id, "project": project or "", **more}
    return call(client, "POST", f"{BASE}/{offering.id}/import_resource/", account, body)


def test_importable_resources_are_what_the_provider_has_minus_what_cirrus_has(
    client, market, cloud, offering
):
    cloud.add("i-1", "web-1", type="instance", description="t3.micro in eu-west-1")
    cloud.add("i-2", "db-1", type="instance")
    imported(market, offering, cloud, "i-1")

    reply = importable(client, market.staff, offering)

    assert reply.status == 200
    assert reply.json == [{"backend_id": "i-2", "name": "db-1", "type": "instance", "description": ""}]
    assert reply.headers.get("X-Result-Count") == "1"


def test_an_import_makes_an_ok_resource_of_the_projects_customer_with_its_event(
    client, market, cloud, offering
):
    cloud.add("i-7", "legacy-vm", metadata={"ip": "192.0.2.7"}, limits={"cores": 2})

    reply = import_(client, market.staff, offering, "i-7", market.project.id, plan=offering.plans[0].id)

    assert reply.status == 201, reply.json
    body = reply.json
    assert (body["state"], body["backend_id"], body["name"]) == ("OK", "i-7", "legacy-vm")
    assert body["backend_metadata"] == {"ip": "192.0.2.7"}
    assert (body["customer_uuid"], body["project_uuid"]) == (market.consumer.id, market.project.id)
    assert body["limits"] == {"cores": 2} and body["plan_uuid"] == offering.plans[0].id
    events = [(e.event_type, e.message) for e in feed("resource", body["uuid"])]
    assert events == [("resource_import_succeeded", "Resource legacy-vm has been imported.")]
    listed = call(client, "GET", "/api/marketplace-resources/?backend_id=i-7", market.owner)
    assert [r["uuid"] for r in listed.json] == [body["uuid"]]
    # billed on its plan from now on, as a created resource
    from chalicelib.domain.clock import utcnow
    from chalicelib.store import invoices

    now = utcnow()
    items = invoices.items_of_resource(
        market.consumer.id, now.year, now.month, market.project.id, body["uuid"]
    )
    assert [i.is_open for i in items] == [True] * len(items) and items


def test_an_unknown_or_already_imported_backend_id_is_refused(client, market, cloud, offering):
    cloud.add("i-1")
    assert import_(client, market.staff, offering, "i-1", market.project.id).status == 201

    again = import_(client, market.staff, offering, "i-1", market.project.id)
    unknown = import_(client, market.staff, offering, "i-404", market.project.id)

    assert (again.status, again.json) == (400, ["Resource has been imported already."])
    assert (unknown.status, unknown.json) == (400, ["Resource i-404 does not exist at the provider."])


def test_a_type_without_a_cloud_backend_does_not_import(client, market):
    reply = importable(client, market.staff, market.offering)  # Marketplace.Basic
    posted = import_(client, market.staff, market.offering, "x", market.project.id)

    assert (reply.status, reply.json) == (400, ["Current offering plugin does not support resource import"])
    assert (posted.status, posted.json) == (400, ["Current offering plugin does not support resource import"])


def test_a_shared_offerings_resources_are_imported_by_staff_only(client, market, cloud, offering):
    cloud.add("i-1")

    listed = importable(client, market.seller, offering)
    posted = import_(client, market.seller, offering, "i-1", market.project.id)

    assert (listed.status, listed.json) == (
        403,
        {"detail": "Import is limited to staff for shared offerings."},
    )
    assert posted.status == 403


def test_the_provider_team_imports_from_its_private_offering_into_a_project_it_sees(client, market, cloud):
    private = cloud_offering(market, name="Private", shared=False)
    cloud.add("i-1")
    customer = f"http://testserver/api/customers/{market.provider.id}/"
    project = call(
        client, "POST", "/api/projects/", market.staff, {"name": "Provider's", "customer": customer}
    )
    assert project.status == 201, project.json

    assert importable(client, market.seller, private).json == [
        {"backend_id": "i-1", "name": "i-1", "type": "", "description": ""}
    ]
    unseen = import_(client, market.seller, private, "i-1", market.project.id)  # the consumer's project
    made = import_(client, market.seller, private, "i-1", project.json["uuid"])

    assert (unseen.status, unseen.json) == (
        400,
        {"project": [f"Object with uuid={market.project.id} does not exist."]},
    )
    assert made.status == 201 and made.json["customer_uuid"] == market.provider.id


def test_another_customers_offering_is_not_found(client, market, cloud, offering):
    reply = importable(client, market.owner, offering)  # the consumer's owner: no role at the provider

    assert reply.status == 404


def test_a_backend_that_fails_to_list_answers_an_empty_list(client, market, cloud, offering):
    cloud.add("i-1")
    cloud.fail_next(RuntimeError("boom"))

    assert importable(client, market.staff, offering).json == []
