"""Feedback on resolved support issues (Waldur's `support-feedbacks/`).

When an issue moves into a resolved status (not from one resolved status to another: Waldur's
create_feedback_if_issue_has_been_resolved), its caller is mailed ten links, one per evaluation
1..10, each carrying the same random token (Waldur's `support/feedback/?token=...&evaluation=N`
HomePort links). Whoever holds the token rates the issue once, without signing in (Waldur's
FeedbackViewSet: `create_permissions = ()`): the token names the issue and lapses after
`TOKEN_PERIOD` (Waldur's ISSUE_FEEDBACK_TOKEN_PERIOD, 7 days). Only its SHA-256 is kept, never the
token. One feedback per issue (Waldur's OneToOneField); staff and support read them.

Waldur signs the issue's uuid with Django's TimestampSigner; Cirrus keeps a random token's hash
instead (nothing to forge, and a token can be checked without a shared secret).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from chalicelib.domain.tokens import hash_key

FEEDBACK = "Feedback"
EVALUATIONS = tuple(range(1, 11))  # Waldur's Feedback.Evaluation.CHOICES: 1..10
TOKEN_PERIOD = timedelta(days=7)  # Waldur's ISSUE_FEEDBACK_TOKEN_PERIOD
COMMENT_MAX_BYTES = 8 * 1024  # Cirrus's bound on a feedback's comment as stored (Waldur: a TextField)
TOKEN_MAX = 200  # a presented token longer than this is no token of ours
STATE_OK = "OK"  # Waldur's StateMixin state of a feedback its (built-in) backend took

# Waldur's messages.
TOKEN_WRONG = "Token is wrong."
ALREADY_GIVEN = "Feedback for this issue already exists."
ISSUE_GONE = "An issue is not found."


@dataclass(frozen=True)
class Feedback:
    """A caller's rating of an issue, kept beside it (one per issue), with what the answer shows
    of the issue as it was when rated."""

    id: str
    issue_id: str
    customer_id: str | None
    evaluation: int
    comment: str
    created: datetime
    modified: datetime
    issue_key: str = ""
    issue_summary: str = ""
    caller_id: str | None = None
    user_full_name: str = ""
    state: str = STATE_OK
    version: int = 0


@dataclass(frozen=True)
class FeedbackToken:
    """What a mailed token opens: the issue it rates, until `expires`. Kept by the token's hash."""

    token_hash: str
    issue_id: str
    customer_id: str | None
    expires: datetime

    def opened_by(self, token: str, now: datetime) -> bool:
        return hmac.compare_digest(hash_key(token), self.token_hash) and now < self.expires


def new_token(issue_id: str, customer_id: str | None, now: datetime) -> tuple[str, FeedbackToken]:
    """A fresh token (mailed, never stored) and what is kept of it."""
    token = secrets.token_urlsafe(32)
    return token, FeedbackToken(hash_key(token), issue_id, customer_id, now + TOKEN_PERIOD)


def token_hash(token: str) -> str:
    return hash_key(token)


def feedback_link(homeport: str, token: str, evaluation: int) -> str:
    """Waldur's get_feedback_link: HomePort's feedback page with the token and an evaluation."""
    return f"{homeport}/support/feedback/?{urlencode({'token': token, 'evaluation': evaluation})}"
