"""A fake of the `Mailer` port: what was sent is kept in `world.mail`, in order; an address made to
refuse (`refuse`) raises as a mailer failing would (SES refusing a recipient, say)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.fakes.world import World


@dataclass(frozen=True)
class SentMail:
    to: str
    subject: str
    body: str


class MailRefused(Exception):
    pass


class FakeMailer:
    def __init__(self, world: World) -> None:
        self._world = world
        self._refused = world.table("mail_refused")  # address -> reason

    def refuse(self, address: str, reason: str = "address blocked") -> None:
        self._refused[address] = reason

    def send_email(self, to: str, subject: str, body: str) -> None:
        if to in self._refused:
            raise MailRefused(self._refused[to])
        self._world.mail.append(SentMail(to, subject, body))
