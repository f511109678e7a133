"""Platform-wide totals (staff's unfiltered X-Result-Count, system roles' users_count) are kept from
the table's stream (store/counters.py): they follow creations and removals once the stream consumer
has read them, and meanwhile a list still shows every row and its Link still reaches every page."""

from __future__ import annotations

from chalicelib.domain.roles import SYSTEM_ROLES
from tests.helpers import call, create_customer, create_project

OWNER = SYSTEM_ROLES["CUSTOMER.OWNER"]


def test_totals_follow_creations_and_removals_once_the_stream_is_read(client, staff, settle):
    acme = create_customer(client, staff, "Acme")
    create_customer(client, staff, "Umbrella")
    apollo = create_project(client, staff, acme, "Apollo")
    create_project(client, staff, acme, "Gemini")
    assert call(client, "DELETE", f"/api/projects/{apollo['uuid']}/", staff).status == 204
    settle()

    def total(path: str) -> str:
        return call(client, "HEAD", path, staff).headers["X-Result-Count"]

    assert (total("/api/customers/"), total("/api/projects/"), total("/api/users/")) == ("2", "1", "1")


def test_a_list_read_before_the_stream_shows_every_row_and_links_to_every_page(client, staff, settle):
    for name in ("Alpha", "Bravo", "Charlie"):
        create_customer(client, staff, name)

    seen, page = [], 1
    while True:  # as Waldur's clients walk a list: by rel="next"
        reply = call(client, "GET", f"/api/customers/?page_size=2&page={page}", staff)
        assert reply.status == 200
        seen += [c["name"] for c in reply.json]
        if 'rel="next"' not in reply.headers["Link"]:
            break
        page += 1
    assert sorted(seen) == ["Alpha", "Bravo", "Charlie"]

    settle()
    assert call(client, "GET", "/api/customers/?page_size=2", staff).headers["X-Result-Count"] == "3"


def test_system_role_holders_are_counted_from_the_stream(client, staff, alice, settle):
    from tests.integration.test_roles_api import grant

    def users_count() -> int:
        return int(call(client, "GET", f"/api/roles/{OWNER.id}/", staff).json["users_count"])

    first, second = create_customer(client, staff, "Acme"), create_customer(client, staff, "Umbrella")
    grant(alice.id, first["uuid"], OWNER.id)
    grant(alice.id, second["uuid"], OWNER.id)
    settle()
    assert users_count() == 2

    reply = call(
        client, "POST", f"/api/customers/{first['uuid']}/delete_user/", staff,
        {"user": alice.id, "role": OWNER.name},
    )  # fmt: skip
    assert reply.status in (200, 204), reply.json
    settle()
    assert users_count() == 1


def test_a_stream_record_delivered_again_is_counted_once(client, staff, settle):
    from chalicelib.local.stream import StreamReader
    from chalicelib.store import counters

    settle()  # the staff user's registration
    create_customer(client, staff, "Acme")
    create_customer(client, staff, "Umbrella")
    applied = []

    def deliver_twice(batch: dict) -> dict:
        for record in batch["Records"] * 2:  # a redelivery: the same records, the same eventIDs
            applied.append(counters.tally(record))
        return {"batchItemFailures": []}

    StreamReader(handler=deliver_twice).poll_once()  # reads the stream from its start again

    # The two new customers and their creation events (the staff index's counts); every other
    # record moved nothing, and no second delivery did.
    assert applied.count(True) == 4
    assert counters.value(counters.CUSTOMERS) == 2
    assert counters.value(counters.USERS) == 1
