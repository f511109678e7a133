"""Support attachments through waldur-api-client 8.1.3 over HTTP, strictly parsed: its multipart
`support_attachments_create`, then list, count, retrieve and destroy; the file comes back through
the answer's `file` URL byte for byte."""

from __future__ import annotations

from io import BytesIO
from uuid import UUID

import requests

from tests.compat.test_support_clients import people, strict  # noqa: F401  (fixture)

CONTENT = b"job 42 failed\r\n" + bytes(range(256))


def test_waldur_api_clients_support_attachment_functions(server, admin, people):  # noqa: F811
    from waldur_api_client.api.support_attachments import (
        support_attachments_count,
        support_attachments_create,
        support_attachments_destroy,
        support_attachments_list,
        support_attachments_retrieve,
    )
    from waldur_api_client.api.support_issues import support_issues_create
    from waldur_api_client.models import Attachment, AttachmentRequestMultipart, IssueRequest
    from waldur_api_client.types import File

    _, user = people
    with strict(server, user) as mine:
        issue = support_issues_create.sync(
            client=mine, body=IssueRequest(type_="Incident", summary="Job failed")
        )
        upload = AttachmentRequestMultipart(
            issue=issue.url, file=File(payload=BytesIO(CONTENT), file_name="job.log", mime_type="text/plain")
        )
        made = support_attachments_create.sync(client=mine, body=upload)
        assert isinstance(made, Attachment) and not made.additional_properties
        assert (made.issue, made.issue_key, made.file_name, made.mime_type, made.file_size) == (
            issue.url,
            issue.key,
            "job.log",
            "text/plain",
            len(CONTENT),
        )
        assert requests.get(made.file, timeout=5).content == CONTENT

        listed = support_attachments_list.sync_all(client=mine, issue_uuid=issue.uuid)
        assert [a.uuid for a in listed] == [made.uuid] and not listed[0].additional_properties
        assert (
            support_attachments_count.sync_detailed(client=mine, issue=issue.url).headers["X-Result-Count"]
            == "1"
        )
        again = support_attachments_retrieve.sync(client=mine, uuid=made.uuid)
        assert isinstance(again, Attachment) and again.uuid == UUID(str(made.uuid))
        support_attachments_destroy.sync_detailed(client=mine, uuid=made.uuid)
        assert support_attachments_list.sync_all(client=mine, issue_uuid=issue.uuid) == []
