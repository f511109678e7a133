"""Which Host a request may name and which scheme its absolute URLs get (Django's ALLOWED_HOSTS)."""

from __future__ import annotations

import pytest

from chalicelib.api import hosts
from chalicelib.config import DEFAULT_ALLOWED_HOSTS

LOOPBACK = list(DEFAULT_ALLOWED_HOSTS)


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST:8000", "127.0.0.1", "127.0.0.1:8000", "[::1]", "[::1]:8000", "localhost."],
)
def test_loopback_is_allowed_by_default(host):
    assert hosts.is_allowed(host, LOOPBACK)


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "localhost.evil.example",
        "127.0.0.1.nip.io",
        "[::2]",
        "localhost:80:80",
        "localhost/x",
        "user@localhost",
        "",
        "localhost\r\nX-Injected: 1",
        "javascript:alert(1)",
    ],
)
def test_other_or_malformed_hosts_are_refused(host):
    assert not hosts.is_allowed(host, LOOPBACK)


def test_patterns_and_the_public_urls_own_host():
    patterns = hosts.allowed_patterns([".execute-api.eu-west-1.amazonaws.com"], "https://cirrus.example.org/")
    assert hosts.is_allowed("abc123.execute-api.eu-west-1.amazonaws.com", patterns)
    assert hosts.is_allowed("cirrus.example.org", patterns)
    assert hosts.is_allowed("Cirrus.Example.org:443", patterns)
    assert not hosts.is_allowed("evil.example", patterns)
    assert not hosts.is_allowed("abc.execute-api.us-east-1.amazonaws.com", patterns)
    assert not hosts.is_allowed("localhost", patterns)  # a deployment names its own hosts
    assert hosts.is_allowed("anything.example", ["*"])
    assert hosts.allowed_patterns([], "http://[::1]:8000") == ["[::1]"]


@pytest.mark.parametrize(
    ("forwarded", "scheme"),
    [
        (None, "http"),
        ("", "http"),
        ("https", "https"),
        ("HTTPS, http", "https"),
        ("javascript", "http"),
        ("data", "http"),
        ("http://evil", "http"),
    ],
)
def test_the_scheme_is_http_or_https_only(forwarded, scheme):
    assert hosts.scheme(forwarded) == scheme
