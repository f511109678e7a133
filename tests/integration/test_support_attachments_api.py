"""Support attachments over HTTP (moto's DynamoDB and S3): a multipart upload as waldur-api-client
sends it, the file downloaded byte for byte from the answer's presigned URL as an attachment, the
limits, who may attach, see and delete, the events, and the files leaving with their attachment or
their issue (the follow-up tasks run by the publisher and the workers)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import make_account
from tests.helpers import all_events, call
from tests.integration.test_support_api import ISSUES, grant, open_issue, org  # noqa: F401  (fixture)

ATTACHMENTS = "/api/support-attachments/"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\r\n--not-a-boundary\r\n%%EOF"


@pytest.fixture
def aws(stack):  # the publisher and the workers: deletions are followed by their files' removal
    yield


def upload(client, account, issue_url: str | None, name: str = "report.pdf", mime: str = "application/pdf",
           content: bytes = PDF) -> Any:  # fmt: skip
    boundary = "cirrus-test-7d9f"
    parts = []
    if issue_url is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="issue"\r\n\r\n{issue_url}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {mime}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return call(client, "POST", ATTACHMENTS, account, headers=headers, raw_body=body)


def fetch(url: str) -> requests.Response:
    return requests.get(url, timeout=5)  # moto answers S3's presigned URL in-process


_readers: list[Any] = []


def settle() -> None:
    """Publish what is new on the table's stream and run the background tasks it queues."""
    from chalicelib.local.stream import StreamReader, create_event_bus
    from chalicelib.workflows.registry import BACKGROUND_QUEUE
    from tests.workflow_helpers import deliver_once

    if not _readers:
        create_event_bus()
        _readers.append(StreamReader())
    for _ in range(10):
        published = _readers[0].poll_once()
        received, failed = deliver_once(BACKGROUND_QUEUE)
        assert failed == []
        if not published and not received:
            return


@pytest.fixture(autouse=True)
def _fresh_reader():
    _readers.clear()
    yield
    _readers.clear()


def test_a_caller_attaches_a_file_and_downloads_it_byte_for_byte(client, alice):
    issue = open_issue(client, alice)
    assert issue["add_attachment_is_available"] is True
    reply = upload(client, alice, issue["url"], name="Résumé report.pdf")
    assert reply.status == 201, reply.json
    made = reply.json
    assert made["issue"] == issue["url"] and made["issue_key"] == issue["key"]
    assert (made["file_name"], made["mime_type"], made["file_size"]) == (
        "Résumé report.pdf",
        "application/pdf",
        len(PDF),
    )
    assert made["destroy_is_available"] is True and made["backend_id"] == ""
    downloaded = fetch(made["file"])
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert downloaded.headers["Content-Type"] == "application/pdf"
    assert downloaded.headers["Content-Disposition"].startswith("attachment;")
    assert "X-Amz-Expires=300" in made["file"]

    assert [a["uuid"] for a in call(client, "GET", f"{ATTACHMENTS}?issue={issue['url']}", alice).json] == [
        made["uuid"]
    ]
    assert [
        a["uuid"] for a in call(client, "GET", f"{ATTACHMENTS}?issue_uuid={issue['uuid']}", alice).json
    ] == [made["uuid"]]
    again = call(client, "GET", made["url"], alice).json
    assert {k: v for k, v in again.items() if k != "file"} == {k: v for k, v in made.items() if k != "file"}
    [event] = [e for e in all_events() if e.event_type == "attachment_created"]
    assert event.context["issue_uuid"] == issue["uuid"] and event.context["attachment_uuid"] == made["uuid"]


@pytest.mark.parametrize(
    ("name", "mime", "content", "message"),
    [
        (
            "big.txt",
            "text/plain",
            b"x" * (4 * 1024 * 1024 + 1),
            "The file is too large: at most 4194304 bytes.",
        ),
        ("empty.txt", "text/plain", b"", "The submitted file is empty."),
        (
            "page.html",
            "text/html",
            b"<script>alert(1)</script>",
            "Files of type text/html cannot be attached.",
        ),
        ("logo.svg", "image/svg+xml", b"<svg/>", "Files of type image/svg+xml cannot be attached."),
        (
            "page.html",
            "text/plain",
            b"<script>",
            "The file name's extension does not match its type text/plain.",
        ),
    ],
)
def test_what_may_not_be_attached_is_refused_and_nothing_is_stored(
    client, alice, name, mime, content, message
):
    issue = open_issue(client, alice)
    reply = upload(client, alice, issue["url"], name=name, mime=mime, content=content)
    assert (reply.status, reply.json) == (400, {"file": [message]})
    assert call(client, "GET", ATTACHMENTS, alice).json == []
    from chalicelib.config import get_settings
    from chalicelib.workflows.aws import client as aws_client

    listed = aws_client("s3").list_objects_v2(Bucket=get_settings().attachments_bucket_name)
    assert listed.get("KeyCount", 0) == 0


def test_bad_uploads_are_400s_in_drfs_shape(client, alice):
    issue = open_issue(client, alice)
    assert upload(client, alice, None).json == {"issue": ["This field is required."]}
    reply = call(client, "POST", ATTACHMENTS, alice, {"issue": issue["url"]})
    assert reply.status == 400
    assert reply.json == {"file": ["The submitted data was not a file. Check the encoding type on the form."]}
    boundary = "b"
    no_file = f'--{boundary}\r\nContent-Disposition: form-data; name="issue"\r\n\r\n{issue["url"]}\r\n'
    no_file += f"--{boundary}--\r\n"
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    reply = call(client, "POST", ATTACHMENTS, alice, headers=headers, raw_body=no_file.encode())
    assert (reply.status, reply.json) == (400, {"file": ["No file was submitted."]})


def test_who_may_attach_see_and_delete(client, staff, alice, org):  # noqa: F811
    desk = make_account("desk", is_support=True, full_name="Dee Desk")
    stranger = make_account("stranger", full_name="Sam Stranger")
    owner, member, admin = org["owner"], org["member"], org["admin"]
    issue = open_issue(client, member, project=org["project"]["url"])  # the member is its caller
    made = upload(client, member, issue["url"]).json

    # Waldur's rule: staff, the customer's owner and the caller attach; a project admin sees nothing.
    assert upload(client, owner, issue["url"]).status == 201
    assert upload(client, staff, issue["url"]).status == 201
    assert upload(client, admin, issue["url"]).json == {
        "issue": ["Invalid hyperlink - Object does not exist."]
    }
    assert upload(client, stranger, issue["url"]).json == {
        "issue": ["Invalid hyperlink - Object does not exist."]
    }
    # Support sees every issue but is not among Waldur's attachers.
    assert upload(client, desk, issue["url"]).status == 403

    def seen(account) -> int:
        return len(call(client, "GET", ATTACHMENTS, account).json)

    assert (seen(member), seen(owner), seen(staff), seen(desk), seen(admin), seen(stranger)) == (
        3,
        3,
        3,
        3,
        0,
        0,
    )
    assert call(client, "GET", made["url"], stranger).status == 404
    assert call(client, "HEAD", ATTACHMENTS, desk).headers["X-Result-Count"] == "3"

    assert call(client, "DELETE", made["url"], desk).status == 403
    assert call(client, "DELETE", made["url"], stranger).status == 404
    assert call(client, "DELETE", made["url"], member).status == 204
    assert call(client, "GET", made["url"], member).status == 404
    [deleted] = [e for e in all_events() if e.event_type == "attachment_deleted"]
    assert deleted.context["attachment_uuid"] == made["uuid"]


def test_a_deleted_attachment_and_a_deleted_issues_files_leave_the_bucket(client, staff, alice):
    from chalicelib.config import get_settings
    from chalicelib.workflows.aws import client as aws_client

    def keys() -> set[str]:
        listed = aws_client("s3").list_objects_v2(Bucket=get_settings().attachments_bucket_name)
        return {o["Key"] for o in listed.get("Contents", [])}

    issue = open_issue(client, alice)
    first = upload(client, alice, issue["url"]).json
    second = upload(client, alice, issue["url"], name="notes.txt", mime="text/plain", content=b"hello").json
    assert keys() == {f"support/{issue['uuid']}/{first['uuid']}", f"support/{issue['uuid']}/{second['uuid']}"}

    assert call(client, "DELETE", first["url"], alice).status == 204
    settle()
    assert keys() == {f"support/{issue['uuid']}/{second['uuid']}"}
    assert fetch(first["file"]).status_code in (403, 404)  # a URL given out earlier finds nothing

    assert call(client, "DELETE", issue["url"], staff).status == 204
    settle()
    assert keys() == set()
    assert call(client, "GET", ATTACHMENTS, staff).json == []
    settle()  # redelivered or not, nothing more happens
    assert keys() == set()


def test_the_desks_list_looks_each_issue_up_once(client, staff, alice, monkeypatch):
    """A page of attachments reads each of their issues once, not once per attachment (each lookup is
    two DynamoDB round trips)."""
    from chalicelib.store import support as issue_store

    issue = open_issue(client, alice)
    for n in range(3):
        assert (
            upload(client, alice, issue["url"], name=f"log-{n}.txt", mime="text/plain", content=b"x").status
            == 201
        )
    looked_up: list[str] = []
    real = issue_store.get_issue
    monkeypatch.setattr(
        issue_store, "get_issue", lambda issue_id: looked_up.append(issue_id) or real(issue_id)
    )
    listed = call(client, "GET", ATTACHMENTS, staff).json
    assert len(listed) == 3 and looked_up == [issue["uuid"]]
