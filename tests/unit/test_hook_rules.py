"""The rules of hooks without any AWS: subscriptions (Waldur's expansion of groups), what a delivery
sends and how it is signed, the retry schedule, and where a web hook may post."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import socket
from urllib.parse import parse_qs

import pytest

from chalicelib.domain import hooks
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.events import EVENT_GROUPS

DOCUMENT = {
    "uuid": "0190a1b2c3d4e5f60718293a4b5c6d7e",
    "created": "2025-03-04T05:06:07.123456+00:00",
    "event_type": "project_creation_succeeded",
    "message": "Project Apollo has been created.",
    "context": {"project_name": "Apollo", "user_username": "staff"},
    "customer_uuid": "c1",
    "scopes": [["customer", "c1"], ["project", "p1"]],
}


def test_a_signature_is_hmac_sha256_of_the_timestamp_and_the_body():
    body = b'{"a": 1}'
    expected = hmac.new(b"k" * 16, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert hooks.signature("k" * 16, 1700000000, body) == f"t=1700000000,v1={expected}"
    header = hooks.signature("k" * 16, 1700000000, body)
    assert hooks.verify("k" * 16, header, body)
    assert not hooks.verify("k" * 16, header, body + b"\n")
    assert not hooks.verify("x" * 16, header, body)
    assert not hooks.verify("k" * 16, header.replace("t=1700000000", "t=1700000001"), body)
    assert not hooks.verify("k" * 16, "garbage", body)


def test_the_payload_is_waldurs_four_fields():
    assert hooks.payload(DOCUMENT) == {
        "created": "2025-03-04T05:06:07.123456Z",
        "message": "Project Apollo has been created.",
        "context": {"project_name": "Apollo", "user_username": "staff"},
        "event_type": "project_creation_succeeded",
    }


def test_json_and_form_bodies():
    payload = hooks.payload(DOCUMENT)
    raw, media = hooks.encode(hooks.ContentType.JSON, payload)
    assert (json.loads(raw), media) == (payload, "application/json")
    raw, media = hooks.encode(hooks.ContentType.FORM, payload)
    assert media == "application/x-www-form-urlencoded"
    fields = {k: v for k, [v] in parse_qs(raw.decode()).items()}
    assert json.loads(fields.pop("context")) == payload["context"]
    assert fields == {k: payload[k] for k in ("created", "message", "event_type")}


def test_retries_double_from_the_base_up_to_sqs_longest_delay():
    assert [hooks.retry_delay(attempt, 30) for attempt in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]
    assert [hooks.retry_delay(attempt, 0) for attempt in range(1, 4)] == [0, 0, 0]


def test_a_new_hook_names_types_or_groups_and_groups_are_expanded():
    with pytest.raises(ValidationError) as refused:
        hooks.subscription_changes({"destination_url": "x"}, creating=True)
    assert refused.value.errors == {"non_field_errors": [hooks.SPECIFY_EVENTS]}
    assert hooks.subscription_changes({"event_types": []}, creating=True)["event_types"] == ()
    assert hooks.subscription_changes({"is_active": False}, creating=False) == {"is_active": False}

    both = hooks.subscription_changes(
        {"event_types": ["role_granted", "user_creation_succeeded"], "event_groups": ["projects"]},
        creating=True,
    )
    assert both["event_groups"] == ("projects",)
    wanted = {*EVENT_GROUPS["projects"], "role_granted", "user_creation_succeeded"}
    assert both["event_types"] == tuple(sorted(wanted))


def test_choices_are_drfs_multiple_choice_field():
    assert hooks.event_type_choices(["role_granted", "role_granted"]) == ["role_granted"]
    with pytest.raises(ValueError, match=re.escape('"nope" is not a valid choice.')):
        hooks.event_type_choices(["role_granted", "nope"])
    with pytest.raises(ValueError, match=re.escape('Expected a list of items but got type "str".')):
        hooks.event_group_choices("projects")
    with pytest.raises(ValueError, match=re.escape('"xml" is not a valid choice.')):
        hooks.content_type_choice("xml")


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://receiver.example/in?x=1", True),
        ("http://127.0.0.1:8080/", True),
        ("ftp://files.example/", False),
        ("receiver.example/in", False),
        ("http://", False),
        ("http://host:port/", False),
        ("https://has space.example/", False),
    ],
)
def test_destination_urls_are_absolute_http_or_https(url, valid):
    if valid:
        assert hooks.destination_url(url) == url
    else:
        with pytest.raises(ValueError, match=re.escape("Enter a valid URL.")):
            hooks.destination_url(url)


def test_an_email_hook_mails_the_message_with_its_context():
    subject, body = hooks.email_message(DOCUMENT)
    assert subject == "Project Apollo has been created."
    assert body.splitlines()[0] == subject
    assert "  project_name: Apollo" in body.splitlines()
    assert "Event type: project_creation_succeeded" in body


def test_the_readmes_verification_snippet_accepts_cirrus_signatures_only():
    import time
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    (snippet,) = [block for block in readme.split("```python\n")[1:] if "def verified(" in block]
    namespace: dict = {}
    exec(snippet.split("```")[0], namespace)  # the receiver's code, as the README prints it
    body = b'{"event_type": "role_granted"}'
    now = int(time.time())
    header = hooks.signature("a-secret-of-16+chars", now, body)
    assert namespace["verified"]("a-secret-of-16+chars", header, body)
    assert not namespace["verified"]("a-secret-of-16+chars", header, body + b" ")
    assert not namespace["verified"]("another-secret-16chars", header, body)
    stale = hooks.signature("a-secret-of-16+chars", now - 3600, body)
    assert not namespace["verified"]("a-secret-of-16+chars", stale, body)


# --- where a web hook may post -------------------------------------------------------------------
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))

# Every way a URL names an internal address by itself; each is refused at creation and update.
INTERNAL_URLS = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8000/api/",  # the API itself
    "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",  # Lambda's runtime API
    "https://127.0.0.1/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost:8000/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    "http://[::1]/",
    "http://[::1]:6379/",
    "http://2130706433/",  # decimal
    "http://0x7f000001/",  # hex
    "http://0X7F000001/",
    "http://127.1/",  # short
    "http://0177.0.0.1/",  # octal
    "http://0x7f.1/",
    "http://127.0.0.1./",  # trailing dot
    "http://\uff11\uff12\uff17\u3002\uff10\u3002\uff10\u3002\uff11/",  # full-width, IDNA folds it
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",  # the metadata service over IPv6
    "http://10.0.0.1/",
    "http://012.0.0.1/",  # 10.0.0.1 in octal
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # shared address space (carrier NAT)
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",
    "http://[fc00::1]/",  # unique local
    "http://[fe80::1]/",  # link-local
    "http://[fe80::1%25eth0]/",
    "http://[fec0::1]/",  # site-local
    "http://[ff02::1]/",  # multicast
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[2002:a9fe:a9fe::]/",  # 6to4 of 169.254.169.254
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
]

PUBLIC_URLS = [
    "https://hooks.example.com/in",
    "http://receiver.example:8080/x?y=1",
    "http://1.example/",  # a name that starts with a digit is a name
    "http://bücher.example/",
    "https://8.8.8.8/anything",
    "http://134744072/",  # 8.8.8.8 in decimal
    "http://[2606:4700:4700::1111]/",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_a_url_naming_an_internal_address_is_refused(url):
    with pytest.raises(ValidationError) as refused:
        hooks.check_destination(url)
    assert refused.value.errors == {"destination_url": [hooks.DESTINATION_NOT_ALLOWED]}
    assert hooks.destination_url(url) == url  # a well-formed URL: only its address is refused


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_addresses_and_names_are_accepted(url):
    assert hooks.destination_url(url) == url
    hooks.check_destination(url)


@pytest.mark.parametrize(
    "form", ["2130706433", "0x7f000001", "127.1", "0177.0.0.1", "0x7f.1", "012.0.0.1", "1.2.3"]
)
def test_numeric_hosts_are_read_as_inet_aton_reads_them(form):
    (address,) = hooks.literal_addresses(form) or ()
    assert address == ipaddress.IPv4Address(socket.inet_aton(form))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://files.example/", hooks.INVALID_URL),
        ("file:///etc/passwd", hooks.INVALID_URL),
        ("gopher://localhost:6379/_", hooks.INVALID_URL),
        ("javascript://example.com/%0aalert(1)", hooks.INVALID_URL),
        ("http://user:password@example.com/", hooks.URL_WITH_CREDENTIALS),
        ("http://example.com@127.0.0.1/", hooks.URL_WITH_CREDENTIALS),
        ("http://example.com\\@127.0.0.1/", hooks.INVALID_URL),
        ("http://example.com /", hooks.INVALID_URL),
        ("http://exam\tple.com/", hooks.INVALID_URL),
        ("http://exa_mple.com/", hooks.INVALID_URL),
        ("http://999.1.1.1/", hooks.INVALID_URL),  # numeric but no address: not a name either
        ("http://1.2.3.4.5/", hooks.INVALID_URL),
        ("http://0x100000000/", hooks.INVALID_URL),
        ("http://08.0.0.1/", hooks.INVALID_URL),  # 8 is no octal digit
        ("http://foo.1/", hooks.INVALID_URL),
        ("http://example.com:99999/", hooks.INVALID_URL),
        ("http://[::1/", hooks.INVALID_URL),
        ("http:///path", hooks.INVALID_URL),
    ],
)
def test_malformed_urls_and_credentials_are_refused(url, message):
    with pytest.raises(ValueError) as refused:
        hooks.destination_url(url)
    assert str(refused.value) == message


def test_the_operators_networks_are_allowed_and_nothing_else():
    assert hooks.address_allowed(ipaddress.ip_address("127.0.0.1"), LOOPBACK)
    assert hooks.address_allowed(ipaddress.ip_address("::1"), LOOPBACK)
    assert hooks.address_allowed(ipaddress.ip_address("::ffff:127.0.0.1"), LOOPBACK)  # loopback still
    assert not hooks.address_allowed(ipaddress.ip_address("10.0.0.1"), LOOPBACK)
    assert not hooks.address_allowed(ipaddress.ip_address("169.254.169.254"), LOOPBACK)
    # An IPv6 network says nothing of IPv4 addresses (ipaddress compares their integers alone).
    assert not hooks.address_allowed(ipaddress.ip_address("127.0.0.1"), (ipaddress.ip_network("::/0"),))
    assert hooks.address_allowed(ipaddress.ip_address("8.8.8.8"))
    hooks.check_destination("http://localhost:9911/", LOOPBACK)
    hooks.check_destination("http://2130706433:9911/", LOOPBACK)
    with pytest.raises(ValidationError):
        hooks.check_destination("http://10.0.0.1/", LOOPBACK)


def test_a_destination_is_taken_apart_for_the_connection():
    assert hooks.destination("https://Bücher.Example./in?a=1#frag") == hooks.Destination(
        "https", "xn--bcher-kva.example", 443, "/in?a=1"
    )
    assert hooks.destination("http://[::1]:8080").target == "/"
    assert hooks.destination("http://[::1]:8080").port == 8080


def test_delivery_errors_are_coarse():
    assert [hooks.http_error(s) for s in (301, 404, 418, 500, 503)] == [
        "HTTP 3xx", "HTTP 4xx", "HTTP 4xx", "HTTP 5xx", "HTTP 5xx"
    ]  # fmt: skip
