"""The built-in support desk (Waldur's `support` app): issues, their comments and the desk's users.

- An **issue** (Waldur's Issue) is opened by or for a *caller* (a user), recorded by a *reporter*
  and worked by an *assignee* (both SupportUsers, the desk's own accounts), optionally about a
  customer, a project or a resource (the narrower scope fixes the wider ones).
- Its `status` is one of the built-in desk's statuses below; Waldur's IssueStatus types RESOLVED
  and CANCELED become `resolved` True / False, anything else None (Waldur's check_success_status).
- A **comment** is public or internal (`is_public` false): only staff and support read internal
  ones (and their author).
- A **support user** is the desk's account of a person (Waldur's SupportUser); in the built-in desk
  everybody who reports an issue or writes a comment gets one on first use, with a fixed id, so
  two requests racing make the same one.

Who sees an issue (Waldur's IssueCallerOrRoleFilterBackend as the issue states it): staff and
support see all; anybody else the issues they are the caller or the reporter of, and the issues of
customers where they are an owner.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from chalicelib.domain import events
from chalicelib.domain.context import EventContext
from chalicelib.domain.errors import ValidationError

ISSUE = "Issue"
COMMENT = "Comment"
SUPPORT_USER = "SupportUser"

SUMMARY_MAX = 255  # Waldur's Issue.summary column
DESCRIPTION_MAX_BYTES = 32 * 1024  # Cirrus's bound on a description as stored (Waldur: a TextField)
LINE_MAX = 255  # key, remote_id, backend_id, priority, resolution: Waldur's CharField(255)

# Waldur's ATLASSIAN_ISSUE_TYPES default: what `type` takes.
TYPES = ("Informational", "Service Request", "Change Request", "Incident")
DEFAULT_TYPE = "Informational"

# The built-in desk's statuses (Waldur keeps them as IssueStatus rows of its backend).
NEW = "New"
IN_PROGRESS = "In Progress"
WAITING = "Waiting for customer"
RESOLVED = "Resolved"
CANCELED = "Canceled"
STATUSES = (NEW, IN_PROGRESS, WAITING, RESOLVED, CANCELED)
RESOLVED_STATUSES = frozenset({RESOLVED})  # Waldur's IssueStatus.Types.RESOLVED
CANCELED_STATUSES = frozenset({CANCELED})  # Waldur's IssueStatus.Types.CANCELED

BACKEND_NAME = "basic"  # Waldur's name of a desk without an external system
KEY_PREFIX = "SUP"
_SUPPORT_USER_NAMESPACE = uuid.UUID("0d4b8f6e-1c2a-4f5e-9b7d-3a6c2e1f4d58")

# Waldur's messages.
NOT_OWNER = "Only customer owner, staff or support can report customer issues."
NOT_IN_PROJECT = (
    "Only customer owner, project manager, project admin, project support, staff or support can "
    "report such issue."
)
PRIORITY_STAFF_ONLY = "Only staff or support can specify issue priority."
PRIORITY_UNKNOWN = "Priority with requested name does not exist."
CALLER_STAFF_ONLY = "Only staff or support can report an issue on behalf of another user."
ASSIGNEE_STAFF_ONLY = "Only staff or support can assign an issue."
ASSIGNEE_MANUAL = "Assignee cannot be defined if issue is reported manually."
UNKNOWN_STATUS = "Status {} is not one of the support desk's statuses."

ISSUE_CREATED = "issue_creation_succeeded"
ISSUE_UPDATED = "issue_update_succeeded"
ISSUE_DELETED = "issue_deletion_succeeded"
ISSUE_EVENT_TYPES = (ISSUE_CREATED, ISSUE_UPDATED, ISSUE_DELETED)
# Cirrus's own (Waldur logs no comment events): a group of their own, out of Waldur's `support`
# group, whose expansion waldur-api-client parses against Waldur's event types.
COMMENT_CREATED = "issue_comment_created"
COMMENT_UPDATED = "issue_comment_updated"
COMMENT_DELETED = "issue_comment_deleted"
COMMENT_EVENT_TYPES = (COMMENT_CREATED, COMMENT_UPDATED, COMMENT_DELETED)


@dataclass(frozen=True)
class SupportUser:
    """The desk's account of a person (Waldur's SupportUser)."""

    id: str
    name: str
    user_id: str | None = None
    backend_id: str | None = None
    backend_name: str | None = BACKEND_NAME
    is_active: bool = True
    # Kept by the issues' and comments' own transactions (Waldur counts its rows).
    reported_issues_count: int = 0
    assigned_issues_count: int = 0
    comments_count: int = 0
    version: int = 0


COUNTS = ("reported_issues_count", "assigned_issues_count", "comments_count")


def counted(user: SupportUser, deltas: dict[str, int]) -> SupportUser:
    """The support user with its counts moved by `deltas` (count name -> change)."""
    return replace(user, **{name: getattr(user, name) + deltas.get(name, 0) for name in COUNTS})


@dataclass(frozen=True)
class Issue:
    """A support ticket, placed in its customer's partition (or the desk's, with no customer)."""

    id: str
    key: str
    type: str
    summary: str
    created: datetime
    modified: datetime
    description: str = ""
    status: str = NEW
    resolution: str = ""
    priority: str = ""
    backend_id: str | None = None
    remote_id: str | None = None
    link: str = ""
    caller_id: str | None = None
    caller_full_name: str | None = None
    reporter_id: str | None = None  # a SupportUser
    reporter_name: str | None = None
    reporter_user_id: str | None = None  # the reporter's user, who sees the issue
    assignee_id: str | None = None  # a SupportUser
    assignee_name: str | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    resource_id: str | None = None
    resource_name: str = ""
    resolution_date: datetime | None = None
    first_response_at: datetime | None = None
    # The marketplace order the issue carries (a request-based offering's, domain/marketplace_support.py).
    order_id: str | None = None
    version: int = 0

    @property
    def resolved(self) -> bool | None:
        return is_resolved(self.status)

    @property
    def personal(self) -> bool:
        """No customer and no project: only its caller (and the desk) deal with it."""
        return self.customer_id is None and self.project_id is None


@dataclass(frozen=True)
class Comment:
    """A comment on an issue, stored beside it; `author` is a SupportUser."""

    id: str
    issue_id: str
    issue_key: str
    customer_id: str | None
    description: str
    author_id: str
    author_name: str
    author_user_id: str | None
    created: datetime
    modified: datetime
    is_public: bool = True
    backend_id: str | None = None
    remote_id: str | None = None
    version: int = 0


# --- rules ---------------------------------------------------------------------------------------
def is_resolved(status: str) -> bool | None:
    """Waldur's IssueStatus.check_success_status: True for a resolved status, False for a canceled
    one, None while the issue is open."""
    if status in RESOLVED_STATUSES:
        return True
    if status in CANCELED_STATUSES:
        return False
    return None


def check_type(value: str) -> str:
    if value not in TYPES:
        raise ValidationError.field("type", f'"{value}" is not a valid choice.')
    return value


def check_status(value: str) -> str:
    if value not in STATUSES:
        raise ValidationError.field("status", UNKNOWN_STATUS.format(value))
    return value


def issue_key(number: int) -> str:
    """The built-in desk's key of its n-th issue (Jira-like, as Waldur's backends name them)."""
    return f"{KEY_PREFIX}-{number}"


def key_number(key: str) -> int:
    """The number in a key, for Waldur's `o=key` (numeric, not text order); 0 without one."""
    digits = "".join(ch for ch in key if ch.isdigit())
    return int(digits) if digits else 0


def support_user_id_of(user_id: str) -> str:
    """The fixed id of a user's own SupportUser in the built-in desk."""
    return uuid.uuid5(_SUPPORT_USER_NAMESPACE, user_id).hex


def with_status(issue: Issue, status: str, now: datetime) -> Issue:
    """The issue in `status`; a resolved or canceled one gets its resolution date."""
    check_status(status)
    closed = is_resolved(status) is not None
    return replace(issue, status=status, resolution_date=now if closed else None, modified=now)


Who = Literal["desk", "caller", "reporter", "owner"]


def sees_issue(
    issue: Issue, user_id: str, *, reads_everything: bool, owned_customers: frozenset[str]
) -> Who | None:
    """Why a person sees the issue (None: they do not)."""
    if reads_everything:
        return "desk"
    if issue.caller_id == user_id:
        return "caller"
    if issue.reporter_user_id is not None and issue.reporter_user_id == user_id:
        return "reporter"
    if issue.customer_id is not None and issue.customer_id in owned_customers:
        return "owner"
    return None


def may_comment(
    issue: Issue,
    user_id: str,
    *,
    reads_everything: bool,
    owned_customers: frozenset[str],
    managed_projects: frozenset[str],
) -> bool:
    """Waldur's comment permission: the desk; the caller of a personal issue; an owner of the
    issue's customer; an admin or manager of its project."""
    if reads_everything:
        return True
    if issue.personal and issue.caller_id == user_id:
        return True
    if issue.customer_id is not None and issue.customer_id in owned_customers:
        return True
    return issue.project_id is not None and issue.project_id in managed_projects


def sees_comment(comment: Comment, user_id: str, *, reads_everything: bool) -> bool:
    """Of a visible issue's comments: internal ones only for the desk and their author."""
    return reads_everything or comment.is_public or comment.author_user_id == user_id


# --- events --------------------------------------------------------------------------------------
def issue_fields(issue: Issue) -> dict[str, str]:
    """The issue and its scopes, so their feeds show it (Waldur's get_issue_scopes)."""
    found = {"issue_uuid": issue.id, "issue_key": issue.key, "issue_summary": issue.summary}
    if issue.customer_id:
        found.update(customer_uuid=issue.customer_id, customer_name=issue.customer_name or "")
    if issue.project_id:
        found.update(project_uuid=issue.project_id, project_name=issue.project_name or "")
    if issue.resource_id:
        found.update(resource_uuid=issue.resource_id, resource_name=issue.resource_name)
    if issue.caller_id:
        found["caller_uuid"] = issue.caller_id
    return found


def issue_event(
    issue: Issue, event_type: str, ctx: EventContext, previous_status: str | None = None
) -> events.Event:
    """Waldur's issue event ("Issue SUP-1 has been created."), with the issue's status and, when a
    change moved it, the status before (`issue_previous_status`: what the caller's mail follows)."""
    action = {ISSUE_CREATED: "creation", ISSUE_UPDATED: "update", ISSUE_DELETED: "deletion"}[event_type]
    fields = {**issue_fields(issue), "issue_status": issue.status}
    if previous_status is not None and previous_status != issue.status:
        fields["issue_previous_status"] = previous_status
    return events.lifecycle_event("issue", action, issue.key, ctx, fields, issue.customer_id)


def comment_event(comment: Comment, issue: Issue, event_type: str, ctx: EventContext) -> events.Event:
    verb = {COMMENT_CREATED: "added to", COMMENT_UPDATED: "updated on", COMMENT_DELETED: "deleted from"}
    message = f"Comment has been {verb[event_type]} issue {issue.key}."
    fields = {**issue_fields(issue), "comment_uuid": comment.id, "comment_is_public": str(comment.is_public)}
    return events.make_event(event_type, message, ctx, fields, issue.customer_id)
