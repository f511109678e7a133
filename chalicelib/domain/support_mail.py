"""The support desk's mail to an issue's caller, in plain text (Waldur's
templates/support/notification_{comment_added,issue_updated,issue_feedback}{,_subject}.txt), all
in this one place. Each names the issue by key and summary and links to it in HomePort
(`support/issue/<uuid>/`); a comment is quoted, cut at `QUOTE_MAX` characters.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.support import Comment, Issue
from chalicelib.domain.support_feedback import EVALUATIONS, feedback_link

QUOTE_MAX = 2000  # characters of a comment quoted in its mail
SUBJECT_MAX = 300


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def _line(text: str) -> str:
    """One line (a subject never carries a line break), bounded."""
    flat = " ".join(text.split())
    return flat if len(flat) <= SUBJECT_MAX else flat[: SUBJECT_MAX - 1] + "…"


def issue_link(homeport: str, issue_id: str) -> str:
    """Waldur's `support/issue/{uuid}/` HomePort link (`homeport`: its base URL, "" for a path)."""
    return f"{homeport}/support/issue/{issue_id}/"


def quoted(text: str, limit: int = QUOTE_MAX) -> str:
    """The text quoted mail-style, cut at `limit` characters (the rest is in HomePort)."""
    cut = text if len(text) <= limit else text[:limit].rstrip() + " […]"
    return "\n".join(f"> {line}".rstrip() for line in cut.splitlines() or [""])


def comment_added(issue: Issue, comment: Comment, homeport: str) -> Mail:
    url = issue_link(homeport, issue.id)
    body = "\n".join(
        [
            "Hello!",
            "",
            f"The issue you have created ({issue.key}: {_line(issue.summary)}) has a new comment "
            f"by {_line(comment.author_name)}:",
            "",
            quoted(comment.description),
            "",
            f"Please go to {url} to see it.",
        ]
    )
    return Mail(_line(f"The issue ({issue.key}) you have created has a new comment"), body)


def status_changed(issue: Issue, previous: str, status: str, homeport: str) -> Mail:
    url = issue_link(homeport, issue.id)
    body = "\n".join(
        [
            "Hello!",
            "",
            f"The issue you have ({issue.key}: {_line(issue.summary)}) has been updated.",
            "",
            f"Status has been changed from {previous} to {status}.",
            "",
            f"Please go to {url} to see it.",
        ]
    )
    return Mail(_line(f"Updated issue: {issue.key} {issue.summary}"), body)


def feedback_request(issue: Issue, token: str, homeport: str) -> Mail:
    url = issue_link(homeport, issue.id)
    links = [f"    {n}: {feedback_link(homeport, token, n)}" for n in EVALUATIONS]
    body = "\n".join(
        [
            f"Hello, {_line(issue.caller_full_name or '')}!".replace(", !", "!"),
            "",
            f"We would like to hear your feedback regarding your recent experience with support for {url}",
            f"({issue.key}: {_line(issue.summary)}).",
            "",
            "Click on the evaluations below to provide the feedback (1 is the lowest, 10 the highest;",
            "the links work for 7 days, once).",
            "",
            *links,
        ]
    )
    return Mail(_line(f"Please share your feedback: {issue.key} {issue.summary}"), body)
