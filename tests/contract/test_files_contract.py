"""The stored files (chalicelib/files.py, S3) and their fake behave alike: what is put is what a
download URL gives back, as a download with its name and type; a deleted file is gone."""

from __future__ import annotations

import pytest

from chalicelib.services.ports import Ports


def _fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    """GET a download URL: moto's S3 answers the presigned URL in-process (it intercepts `requests`
    to AWS hosts); the fake's URL is not fetchable and is read back from the URL itself."""
    import requests

    reply = requests.get(url, timeout=5)
    return reply.status_code, reply.content, {k.lower(): v for k, v in reply.headers.items()}


def test_a_stored_file_downloads_as_an_attachment_with_its_type(ports: Ports) -> None:
    content = bytes(range(256)) * 4
    ports.files.put("support/issue-1/att-1", content, "application/pdf")
    url = ports.files.download_url("support/issue-1/att-1", "Résumé 1.pdf", "application/pdf")

    if url.startswith("https://files.invalid/"):
        assert "name=R%C3%A9sum%C3%A9%201.pdf" in url and "type=application/pdf" in url
        return
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    status, body, headers = _fetch(url)
    assert (status, body) == (200, content)
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"].startswith('attachment; filename="R_sum_ 1.pdf"')
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%201.pdf" in headers["content-disposition"]


def test_a_deleted_file_is_gone(ports: Ports) -> None:
    ports.files.put("support/issue-1/att-2", b"x", "text/plain")
    ports.files.delete("support/issue-1/att-2")
    try:
        url = ports.files.download_url("support/issue-1/att-2", "a.txt", "text/plain")
    except KeyError:
        return  # the fake refuses a URL for what it does not hold
    assert _fetch(url)[0] in (403, 404)  # S3 answers 403 to a reader who may not list the bucket
    ports.files.delete("support/issue-1/att-2")  # deleting again is no error


@pytest.mark.parametrize("ignored", [None])
def test_the_bucket_blocks_public_access(ports: Ports, ignored: None) -> None:
    if type(ports.files).__name__ == "FakeFiles":
        return
    from chalicelib.config import get_settings
    from chalicelib.workflows.aws import client

    block = client("s3").get_public_access_block(Bucket=get_settings().attachments_bucket_name)
    assert all(block["PublicAccessBlockConfiguration"].values())
