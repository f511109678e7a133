"""What a support attachment may be: its size, type, extension and name, and how a multipart upload
(waldur-api-client's `support_attachments_create`) is read."""

from __future__ import annotations

import pytest

from chalicelib.domain import attachments as a
from chalicelib.domain.errors import ValidationError

LIMIT = 1000


def _errors(excinfo: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    errors = excinfo.value.errors
    assert isinstance(errors, dict)
    return list(errors["file"])


def test_a_pdf_within_the_limit_is_accepted() -> None:
    assert a.check("report.PDF", "application/pdf", 10, LIMIT) == ("report.PDF", "application/pdf")
    assert a.check("x.txt", "text/plain; charset=utf-8", LIMIT, LIMIT) == ("x.txt", "text/plain")


@pytest.mark.parametrize(
    ("name", "mime", "size", "message"),
    [
        ("big.pdf", "application/pdf", LIMIT + 1, a.TOO_LARGE.format(limit=LIMIT)),
        ("empty.pdf", "application/pdf", 0, a.EMPTY),
        ("page.html", "text/html", 10, a.TYPE_REFUSED.format(mime="text/html")),
        ("logo.svg", "image/svg+xml", 10, a.TYPE_REFUSED.format(mime="image/svg+xml")),
        ("run.exe", "application/octet-stream", 10, a.TYPE_REFUSED.format(mime="application/octet-stream")),
        ("page.html", "text/plain", 10, a.EXTENSION_MISMATCH.format(mime="text/plain")),
        ("noext", "text/plain", 10, a.EXTENSION_MISMATCH.format(mime="text/plain")),
        ("", "text/plain", 10, a.BAD_NAME),
        ("../..", "text/plain", 10, a.BAD_NAME),
    ],
)
def test_what_cannot_be_attached_is_refused_on_the_file_field(
    name: str, mime: str, size: int, message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        a.check(name, mime, size, LIMIT)
    assert _errors(excinfo) == [message]


def test_a_name_loses_its_directories_and_control_characters_and_is_bounded() -> None:
    assert a.clean_name("C:\\Users\\me\\notes.txt") == "notes.txt"
    assert a.clean_name("/etc/../passwd\x00.txt") == "passwd.txt"
    long = "x" * 400 + ".pdf"
    cleaned = a.clean_name(long)
    assert len(cleaned) == a.MAX_NAME and cleaned.endswith(".pdf")


def _multipart(parts: list[tuple[str, str | None, str, bytes]]) -> tuple[str, bytes]:
    boundary = "----cirrus-boundary"
    body = b""
    for name, filename, mime, content in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            body += f"Content-Type: {mime}\r\n".encode()
        body += b"\r\n" + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def test_a_multipart_upload_gives_its_fields_and_its_file_byte_for_byte() -> None:
    content = bytes(range(256)) * 3  # binary, CRLFs included
    content_type, body = _multipart(
        [
            ("issue", None, "", b"http://localhost/api/support-issues/abc/"),
            ("file", "dump.gz", "application/gzip", content),
        ]
    )
    fields, upload = a.parse_multipart(content_type, body, LIMIT)
    assert fields == {"issue": "http://localhost/api/support-issues/abc/"}
    assert upload is not None
    assert (upload.name, upload.mime_type, upload.content) == ("dump.gz", "application/gzip", content)


def test_a_body_without_a_file_or_not_multipart_is_told_apart() -> None:
    content_type, body = _multipart([("issue", None, "", b"x")])
    assert a.parse_multipart(content_type, body, LIMIT) == ({"issue": "x"}, None)
    with pytest.raises(ValidationError):
        a.parse_multipart("application/json", b"{}", LIMIT)


def test_an_oversized_body_is_refused_before_it_is_parsed() -> None:
    content_type, body = _multipart([("file", "a.txt", "text/plain", b"x" * (LIMIT + 70 * 1024))])
    with pytest.raises(ValidationError) as excinfo:
        a.parse_multipart(content_type, body, LIMIT)
    assert _errors(excinfo) == [a.TOO_LARGE.format(limit=LIMIT)]
