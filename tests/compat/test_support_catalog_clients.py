"""The support desk's catalogs through waldur-api-client 8.1.3 over HTTP: its `support_priorities_*`
and `support_templates_*` functions with their strict Priority and Template parsers (no key missing,
none unknown), filters, HEAD counts and success codes; anonymous template reads; and the two
attachment actions Cirrus does not serve yet answering Waldur's 404."""

from __future__ import annotations

import json
from http import HTTPStatus
from uuid import UUID

import pytest
from waldur_api_client import AuthenticatedClient, Client
from waldur_api_client.api.support_priorities import (
    support_priorities_count,
    support_priorities_list,
    support_priorities_retrieve,
)
from waldur_api_client.api.support_templates import (
    support_templates_count,
    support_templates_create,
    support_templates_delete_attachments,
    support_templates_destroy,
    support_templates_list,
    support_templates_partial_update,
    support_templates_retrieve,
    support_templates_update,
)
from waldur_api_client.errors import UnexpectedStatus
from waldur_api_client.models.delete_attachments_request import DeleteAttachmentsRequest
from waldur_api_client.models.issue_type_enum import IssueTypeEnum
from waldur_api_client.models.patched_template_request import PatchedTemplateRequest
from waldur_api_client.models.priority import Priority
from waldur_api_client.models.template import Template
from waldur_api_client.models.template_request import TemplateRequest

from chalicelib.domain import support_catalog as domain
from tests.conftest import make_account

pytestmark = pytest.mark.compat

DEFAULT_NAMES = ["High", "Highest", "Low", "Lowest", "Medium"]


def _strict(parsed: object, kind: type) -> None:
    assert isinstance(parsed, kind) and not parsed.additional_properties, parsed


def test_a_user_reads_priorities_through_the_generated_client(server):
    alice = make_account("alice")
    with AuthenticatedClient(base_url=server.url, token=alice.token, timeout=10.0) as api:
        found = support_priorities_list.sync_all(client=api)
        for priority in found:
            _strict(priority, Priority)
        assert [p.name for p in found] == DEFAULT_NAMES
        assert support_priorities_count.sync(client=api) == 5
        (high,) = support_priorities_list.sync(client=api, name_exact="High")
        assert high.uuid == UUID(domain.default_priority_id("High"))
        assert (high.description, high.icon_url) == ("Serious problem that could block progress.", "")
        assert [p.name for p in support_priorities_list.sync(client=api, name="low")] == ["Low", "Lowest"]
        assert support_priorities_count.sync(client=api, name="high") == 2
        last = support_priorities_list.sync(client=api, page=3, page_size=2)
        assert [p.name for p in last] == ["Medium"]
        assert support_priorities_retrieve.sync(uuid=high.uuid, client=api) == high
        with pytest.raises(UnexpectedStatus) as missing:
            support_priorities_retrieve.sync(uuid=UUID(int=1), client=api)
        assert missing.value.status_code == HTTPStatus.NOT_FOUND


def test_priorities_are_not_for_anonymous_callers(server):
    with Client(base_url=server.url, timeout=10.0) as anonymous, pytest.raises(UnexpectedStatus) as refused:
        support_priorities_list.sync(client=anonymous)  # type: ignore[arg-type]
    assert refused.value.status_code == HTTPStatus.UNAUTHORIZED


def test_staff_keep_templates_through_the_generated_client(api):
    created = support_templates_create.sync_detailed(
        client=api,
        body=TemplateRequest(
            name="Disk quota", description="Please raise my quota.", issue_type=IssueTypeEnum.SERVICE_REQUEST
        ),
    )
    assert created.status_code == HTTPStatus.CREATED, created.content
    template = created.parsed
    _strict(template, Template)
    assert (template.name, template.issue_type, template.attachments) == (
        "Disk quota",
        IssueTypeEnum.SERVICE_REQUEST,
        [],
    )
    plain = support_templates_create.sync(
        client=api, body=TemplateRequest(name="Account", description="Open one.")
    )
    _strict(plain, Template)
    assert plain.issue_type == IssueTypeEnum.INFORMATIONAL

    assert [t.name for t in support_templates_list.sync_all(client=api)] == ["Account", "Disk quota"]
    assert support_templates_count.sync(client=api) == 2
    assert support_templates_retrieve.sync(uuid=template.uuid, client=api) == template

    put = support_templates_update.sync(
        uuid=template.uuid, client=api, body=TemplateRequest(name="Quota", description="More, please.")
    )
    _strict(put, Template)
    assert (put.name, put.description, put.issue_type) == (
        "Quota",
        "More, please.",
        IssueTypeEnum.SERVICE_REQUEST,
    )
    patched = support_templates_partial_update.sync(
        uuid=template.uuid, client=api, body=PatchedTemplateRequest(issue_type=IssueTypeEnum.INCIDENT)
    )
    _strict(patched, Template)
    assert (patched.name, patched.issue_type) == ("Quota", IssueTypeEnum.INCIDENT)

    gone = support_templates_destroy.sync_detailed(uuid=template.uuid, client=api)
    assert gone.status_code == HTTPStatus.NO_CONTENT
    with pytest.raises(UnexpectedStatus) as missing:
        support_templates_retrieve.sync(uuid=template.uuid, client=api)
    assert missing.value.status_code == HTTPStatus.NOT_FOUND
    assert support_templates_count.sync(client=api) == 1


def test_anybody_reads_templates_and_only_staff_write_them(api, server):
    made = support_templates_create.sync(
        client=api, body=TemplateRequest(name="VPN", description="Grant VPN.")
    )
    with Client(base_url=server.url, timeout=10.0) as anonymous:
        (listed,) = support_templates_list.sync(client=anonymous)  # type: ignore[arg-type]
        assert listed == made
    alice = make_account("alice")
    with AuthenticatedClient(base_url=server.url, token=alice.token, timeout=10.0) as as_alice:
        assert support_templates_retrieve.sync(uuid=made.uuid, client=as_alice) == made
        with pytest.raises(UnexpectedStatus) as refused:
            support_templates_create.sync(client=as_alice, body=TemplateRequest(name="x", description="y"))
        assert refused.value.status_code == HTTPStatus.FORBIDDEN
        assert json.loads(refused.value.content) == {
            "detail": "You do not have permission to perform this action."
        }


def test_bad_template_input_is_a_400_the_client_reports(api):
    with pytest.raises(UnexpectedStatus) as refused:
        support_templates_create.sync(client=api, body=TemplateRequest(name="x" * 151, description=" "))
    assert refused.value.status_code == HTTPStatus.BAD_REQUEST
    assert json.loads(refused.value.content) == {
        "name": ["Ensure this field has no more than 150 characters."],
        "description": ["This field may not be blank."],
    }


def test_the_attachment_actions_are_not_served_yet(api):
    made = support_templates_create.sync(
        client=api, body=TemplateRequest(name="VPN", description="Grant VPN.")
    )
    with pytest.raises(UnexpectedStatus) as absent:
        support_templates_delete_attachments.sync_detailed(
            uuid=made.uuid, client=api, body=DeleteAttachmentsRequest(attachment_ids=[UUID(int=1)])
        )
    assert absent.value.status_code == HTTPStatus.NOT_FOUND
    answer = api.get_httpx_client().post(f"/api/support-templates/{made.uuid.hex}/create_attachments/")
    assert (answer.status_code, answer.json()) == (404, {"detail": "Not found."})
