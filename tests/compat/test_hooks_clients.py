"""Hooks through waldur-api-client over HTTP: its strict WebHook and EmailHook parsers on create,
list, retrieve, update and partial update, its filters, HEAD counts, delete, and `hooks/` (which the
client leaves unparsed: each item is parsed here by its `hook_type`). python-waldur-client has no
hook methods."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from waldur_api_client.api.hooks import hooks_list
from waldur_api_client.api.hooks_email import (
    hooks_email_create,
    hooks_email_destroy,
    hooks_email_list,
    hooks_email_partial_update,
    hooks_email_retrieve,
)
from waldur_api_client.api.hooks_web import (
    hooks_web_count,
    hooks_web_create,
    hooks_web_destroy,
    hooks_web_list,
    hooks_web_partial_update,
    hooks_web_retrieve,
    hooks_web_update,
)
from waldur_api_client.models.email_hook import EmailHook
from waldur_api_client.models.email_hook_request import EmailHookRequest
from waldur_api_client.models.event_groups_enum import EventGroupsEnum
from waldur_api_client.models.event_types_enum import EventTypesEnum
from waldur_api_client.models.patched_email_hook_request import PatchedEmailHookRequest
from waldur_api_client.models.patched_web_hook_request import PatchedWebHookRequest
from waldur_api_client.models.web_hook import WebHook
from waldur_api_client.models.web_hook_content_type_enum import WebHookContentTypeEnum
from waldur_api_client.models.web_hook_content_type_enum_1 import WebHookContentTypeEnum1
from waldur_api_client.models.web_hook_request import WebHookRequest

from chalicelib.domain.events import EVENT_GROUPS

pytestmark = pytest.mark.compat


def test_web_hooks_through_the_generated_client(api, admin):
    body = WebHookRequest(
        destination_url="https://receiver.example/cirrus",
        event_types=[EventTypesEnum.CUSTOMER_UPDATE_SUCCEEDED],
        event_groups=[EventGroupsEnum.PROJECTS],
    )
    created = hooks_web_create.sync_detailed(client=api, body=body)
    assert created.status_code == HTTPStatus.CREATED, created.content
    hook = created.parsed
    assert isinstance(hook, WebHook)
    assert (hook.hook_type, hook.content_type, hook.author_username) == (
        "webhook",
        WebHookContentTypeEnum.JSON,
        "admin",
    )
    assert {t.value for t in hook.event_types} == {*EVENT_GROUPS["projects"], "customer_update_succeeded"}
    assert hook.event_groups == [EventGroupsEnum.PROJECTS]
    assert hook["failure_count"] == 0 and len(hook["secret"]) >= 40  # Cirrus's own keys, kept aside

    (listed,) = hooks_web_list.sync(client=api, is_active=True, content_type=WebHookContentTypeEnum1.VALUE_1)
    assert listed.uuid == hook.uuid and "secret" not in listed.additional_properties
    assert hooks_web_list.sync(client=api, content_type=WebHookContentTypeEnum1.VALUE_2) == []
    assert hooks_web_count.sync(client=api) == 1

    patched = hooks_web_partial_update.sync(
        uuid=hook.uuid, client=api, body=PatchedWebHookRequest(is_active=False)
    )
    assert isinstance(patched, WebHook) and patched.is_active is False
    replaced = hooks_web_update.sync(
        uuid=hook.uuid,
        client=api,
        body=WebHookRequest(
            destination_url="http://other.example/",
            content_type=WebHookContentTypeEnum.FORM,
            event_types=[EventTypesEnum.PROJECT_CREATION_SUCCEEDED],
        ),
    )
    assert isinstance(replaced, WebHook)
    assert (replaced.destination_url, replaced.content_type) == (
        "http://other.example/",
        WebHookContentTypeEnum.FORM,
    )
    assert replaced.event_types == [EventTypesEnum.PROJECT_CREATION_SUCCEEDED]
    assert hooks_web_retrieve.sync(uuid=hook.uuid, client=api) == replaced

    assert hooks_web_destroy.sync_detailed(uuid=hook.uuid, client=api).status_code == HTTPStatus.NO_CONTENT
    assert hooks_web_list.sync(client=api) == []


def test_email_hooks_and_the_summary_through_the_generated_client(api, admin):
    body = EmailHookRequest(email="ops@example.org", event_groups=[EventGroupsEnum.CUSTOMERS])
    email = hooks_email_create.sync(client=api, body=body)
    assert isinstance(email, EmailHook)
    assert (email.email, email.hook_type, email.author_email) == (
        "ops@example.org",
        "email",
        "admin@example.org",
    )
    web = hooks_web_create.sync(
        client=api,
        body=WebHookRequest(destination_url="https://r.example/", event_types=[EventTypesEnum.ROLE_GRANTED]),
    )
    assert isinstance(web, WebHook)

    (listed,) = hooks_email_list.sync(client=api, email="ops@example.org", author_username="admin")
    assert listed == email
    patched = hooks_email_partial_update.sync(
        uuid=email.uuid, client=api, body=PatchedEmailHookRequest(email="ops2@example.org")
    )
    assert isinstance(patched, EmailHook) and patched.email == "ops2@example.org"
    assert hooks_email_retrieve.sync(uuid=email.uuid, client=api) == patched

    summary = hooks_list.sync_detailed(client=api, author_uuid=email.author_uuid)
    assert summary.status_code == HTTPStatus.OK
    parsers = {"webhook": WebHook.from_dict, "email": EmailHook.from_dict}
    parsed = [parsers[item["hook_type"]](item) for item in json.loads(summary.content)]
    shown_web = {k: v for k, v in web.to_dict().items() if k != "secret"}  # the secret is shown once
    assert [p.to_dict() for p in parsed] == [shown_web, patched.to_dict()]  # newest first, each its kind

    assert hooks_email_destroy.sync_detailed(uuid=email.uuid, client=api).status_code == HTTPStatus.NO_CONTENT


def test_hooks_on_every_waldur_group_parse_in_the_generated_client(api, admin):
    """Each of Waldur's groups Cirrus has expands to event types waldur-api-client knows."""
    from chalicelib.domain.events import EVENT_GROUPS

    waldur_groups = [g for g in EventGroupsEnum if g.value in EVENT_GROUPS]
    expected = {"auth", "customers", "invoices", "permissions", "projects", "providers", "resources", "users"}
    expected |= {"ssh"}  # SSH keys' events (domain/ssh_keys.py)
    expected |= {"support"}  # the support desk: issue and attachment events (domain/support.py)
    assert {g.value for g in waldur_groups} == expected
    body = WebHookRequest(destination_url="https://r.example/", event_groups=waldur_groups)
    hook = hooks_web_create.sync(client=api, body=body)
    assert hook is not None and set(hook.event_groups) == set(waldur_groups)
