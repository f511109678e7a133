"""The audit log through waldur-api-client over HTTP: strict parsing of Event lists (paged by Link),
the count endpoints, event groups and scope types; python-waldur-client's changes show up in it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import pytest
from waldur_api_client.api.events import (
    events_count,
    events_count_retrieve,
    events_event_groups_retrieve,
    events_list,
    events_scope_types_retrieve,
)
from waldur_api_client.models.event import Event
from waldur_api_client.models.event_count import EventCount

pytestmark = pytest.mark.compat


def test_a_project_made_through_python_waldur_client_shows_in_its_feed(waldur, api, server):
    customer = waldur.create_customer(name="Compat Events Org")
    project = waldur.create_project(customer_uuid=customer["uuid"], name="Compat Events Project")
    (event,) = events_list.sync(client=api, scope=project["url"])
    assert isinstance(event, Event)
    assert isinstance(event.uuid, UUID) and isinstance(event.created, datetime)
    assert event.event_type == "project_creation_succeeded"
    assert event.context["project_uuid"] == project["uuid"]
    assert event.context["customer_name"] == "Compat Events Org"

    by_uuid = events_list.sync(client=api, project_uuid=UUID(project["uuid"]))
    assert [e.uuid for e in by_uuid] == [event.uuid]


def test_sync_all_collects_the_feed_and_the_counts_agree(waldur, api, settle):
    customer = waldur.create_customer(name="Compat Paged Org")
    for i in range(3):
        waldur.create_project(customer_uuid=customer["uuid"], name=f"Paged {i}")
    everything = events_list.sync_all(client=api, customer_uuid=UUID(customer["uuid"]))
    assert [e.event_type for e in everything] == ["project_creation_succeeded"] * 3 + [
        "customer_creation_succeeded"
    ]
    assert events_count.sync(client=api, customer_uuid=UUID(customer["uuid"])) == 4
    settle()  # the staff log's count is kept from the stream (it lags by the stream's delay)
    total = events_count_retrieve.sync(client=api)
    assert isinstance(total, EventCount) and total.count >= 4


def test_event_groups_and_scope_types_parse(api):
    groups = events_event_groups_retrieve.sync(client=api)
    assert "project_creation_succeeded" in groups.additional_properties["projects"]
    assert "customer" in events_scope_types_retrieve.sync(client=api)
