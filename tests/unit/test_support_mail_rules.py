"""The support desk's mail texts (domain/support_mail.py) and feedback tokens' rules
(domain/support_feedback.py): bounded quotes, one-line subjects, HomePort links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from chalicelib.domain import support_mail as texts
from chalicelib.domain.support import Comment, Issue
from chalicelib.domain.support_feedback import TOKEN_PERIOD, new_token

T0 = datetime(2026, 12, 1, tzinfo=UTC)
HOMEPORT = "https://portal.example.org"


def _issue(summary: str = "VM down") -> Issue:
    return Issue(id="a" * 32, key="SUP-7", type="Incident", summary=summary, created=T0, modified=T0,
                 caller_id="u1", caller_full_name="Uma User")  # fmt: skip


def _comment(text: str) -> Comment:
    return Comment(id="c" * 32, issue_id="a" * 32, issue_key="SUP-7", customer_id=None, description=text,
                   author_id="s1", author_name="Dee Desk", author_user_id="u2", created=T0,
                   modified=T0)  # fmt: skip


def test_a_comment_is_quoted_line_by_line_and_cut_at_the_bound() -> None:
    short = texts.comment_added(_issue(), _comment("Rebooted.\n\nLooks fine."), HOMEPORT)
    assert "> Rebooted.\n>\n> Looks fine." in short.body
    assert f"{HOMEPORT}/support/issue/{'a' * 32}/" in short.body and "SUP-7: VM down" in short.body
    long = texts.comment_added(_issue(), _comment("q" * 10_000), HOMEPORT)
    assert len(long.body) < texts.QUOTE_MAX + 500 and long.body.count("q") == texts.QUOTE_MAX
    assert "[…]" in long.body


def test_a_subject_is_one_bounded_line_whatever_the_summary() -> None:
    remote = _issue("Disk full\r\nBcc: someone@example.org" + "z" * 400)  # as a remote desk might send
    for mail in (
        texts.status_changed(remote, "New", "Resolved", HOMEPORT),
        texts.feedback_request(remote, "tok", HOMEPORT),
        texts.comment_added(remote, _comment("x"), HOMEPORT),
    ):
        assert "\n" not in mail.subject and "\r" not in mail.subject
        assert len(mail.subject) <= texts.SUBJECT_MAX


def test_the_feedback_mail_carries_one_homeport_link_per_evaluation() -> None:
    token, kept = new_token("a" * 32, None, T0)
    mail = texts.feedback_request(_issue(), token, HOMEPORT)
    links = [line.split(": ", 1)[1] for line in mail.body.splitlines() if line.startswith("    ")]
    assert len(links) == 10
    for n, link in enumerate(links, start=1):
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{HOMEPORT}/support/feedback/"
        assert parse_qs(parts.query) == {"token": [token], "evaluation": [str(n)]}
    assert token not in kept.token_hash and kept.expires == T0 + TOKEN_PERIOD == T0 + timedelta(days=7)
    assert mail.body.startswith("Hello, Uma User!")
    # Without a configured HomePort the links are paths, never a host taken from a request.
    assert "    1: /support/feedback/?token=" in texts.feedback_request(_issue(), token, "").body
