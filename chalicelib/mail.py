"""Outgoing email: the adapters of the services' `Mailer` port (`services/ports.py`). The
composition root binds `ConfiguredMailer`, which sends through the backend the settings name:

- On AWS: Amazon SES (v2 `SendEmail`) from `CIRRUS_EMAIL_FROM`, which SES must have verified.
- Locally (`make run`, tests): an outbox kept in memory, each message also printed to the terminal,
  so whoever runs the stack sees the mail (and the links in it) go out. Chosen when
  `CIRRUS_EMAIL_BACKEND=local`, or by default when `CIRRUS_AWS_ENDPOINT_URL` is set (a local
  endpoint); `CIRRUS_EMAIL_BACKEND=ses` forces SES (moto's, under the tests).

Services send through the port (`ports.mailer`), from background tasks, never while a request waits.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass

from chalicelib import observability
from chalicelib.config import get_settings
from chalicelib.services.ports import Mailer

LOCAL, SES = "local", "ses"


@dataclass(frozen=True)
class Message:
    sender: str
    to: str
    subject: str
    body: str


class LocalOutbox:
    """Keeps what was sent (tests read `OUTBOX`) and prints it, like Django's console backend."""

    def __init__(self, sender: str) -> None:
        self.sender = sender

    def send_email(self, to: str, subject: str, body: str) -> None:
        message = Message(self.sender, to, subject, body)
        with _lock:
            OUTBOX.append(message)
        observability.logger().info("email kept in the local outbox", extra={"to": to, "subject": subject})
        print(
            f"----- email (local outbox) -----\nFrom: {self.sender}\nTo: {to}\nSubject: {subject}\n\n"
            f"{body}\n--------------------------------",
            file=sys.stdout,
            flush=True,
        )


class SesMailer:
    def __init__(self, sender: str) -> None:
        self.sender = sender

    def send_email(self, to: str, subject: str, body: str) -> None:
        from chalicelib.workflows.aws import client

        client("sesv2").send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [to]},
            Content={
                "Simple": {
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
                }
            },
        )


OUTBOX: list[Message] = []
_lock = threading.Lock()


def backend() -> str:
    settings = get_settings()
    if settings.email_backend in (LOCAL, SES):
        return settings.email_backend
    if settings.email_backend:
        raise ValueError(f"CIRRUS_EMAIL_BACKEND must be {LOCAL!r} or {SES!r}, not {settings.email_backend!r}")
    return LOCAL if settings.aws_endpoint_url else SES


def mailer() -> Mailer:
    """The configured backend, sending from `CIRRUS_EMAIL_FROM` (settings read now, not at import)."""
    sender = get_settings().email_from
    return LocalOutbox(sender) if backend() == LOCAL else SesMailer(sender)


class ConfiguredMailer:
    """The `Mailer` bound by the composition root: each message goes through the backend configured
    when it is sent (settings are read then, never at import; the same all along on Lambda)."""

    def send_email(self, to: str, subject: str, body: str) -> None:
        mailer().send_email(to, subject, body)
