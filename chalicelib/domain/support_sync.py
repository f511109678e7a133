"""Keeping a support issue in step with its copy on an external service desk (Jira Service
Management, Zammad): pure rules, no I/O.

An issue the desk pushed out has a **link** (`Link`): which remote issue it is, and what both sides
last agreed on (summary, description, status, priority). That agreement is the base of a three-way
comparison, so neither direction echoes the other:

- **out** (`outgoing`): a field whose local value differs from the agreed one changed here and is
  pushed; a change that came from the remote was written to both the issue and the link, so it is
  never pushed back.
- **in** (`incoming`): a field whose remote value differs from the agreed one changed there and is
  applied here (the remote desk wins a field both sides changed, as Waldur's pull does).

Statuses: the built-in desk's statuses (`domain.support.STATUSES`) on our side, the remote's own
names on the other, mapped by `STATUS_IN` / `STATUS_OUT` per kind of desk. The link keeps both the
agreed local status and the remote name it came from, so a mapping that is not one-to-one (Zammad's
`closed` for both Resolved and Canceled) never flips an issue back. A remote status with no mapping
leaves the issue's status alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain import support as desk

LINK = "SupportLink"
JIRA, ZAMMAD = "jira", "zammad"

# remote status name (case-insensitive) -> the built-in desk's status
STATUS_IN: dict[str, dict[str, str]] = {
    JIRA: {
        "waiting for support": desk.NEW,
        "open": desk.NEW,
        "to do": desk.NEW,
        "reopened": desk.NEW,
        "in progress": desk.IN_PROGRESS,
        "work in progress": desk.IN_PROGRESS,
        "escalated": desk.IN_PROGRESS,
        "waiting for customer": desk.WAITING,
        "pending": desk.WAITING,
        "resolved": desk.RESOLVED,
        "done": desk.RESOLVED,
        "closed": desk.RESOLVED,
        "canceled": desk.CANCELED,
        "cancelled": desk.CANCELED,
        "declined": desk.CANCELED,
    },
    ZAMMAD: {
        "new": desk.NEW,
        "open": desk.IN_PROGRESS,
        "pending reminder": desk.WAITING,
        "pending close": desk.RESOLVED,
        "closed": desk.RESOLVED,
        "merged": desk.CANCELED,
        "removed": desk.CANCELED,
    },
}
# the built-in desk's status -> the remote status name pushed for it
STATUS_OUT: dict[str, dict[str, str]] = {
    JIRA: {
        desk.NEW: "Waiting for support",
        desk.IN_PROGRESS: "In Progress",
        desk.WAITING: "Waiting for customer",
        desk.RESOLVED: "Resolved",
        desk.CANCELED: "Canceled",
    },
    ZAMMAD: {
        desk.NEW: "new",
        desk.IN_PROGRESS: "open",
        desk.WAITING: "pending reminder",
        desk.RESOLVED: "closed",
        desk.CANCELED: "closed",
    },
}
# Zammad has no description of its own (the first article); a change would be a new internal
# article, which the next pull would read back as a comment: descriptions are not pushed there
# (Waldur's Zammad backend pushes the title only).
PUSHES_DESCRIPTION = {JIRA: True, ZAMMAD: False}

_REMOTE_USER_NAMESPACE = uuid.UUID("6f1d2c3b-8a4e-4b7f-9c2d-1e5a7b3c9d40")


@dataclass(frozen=True)
class Link:
    """An issue's copy on a remote desk and what both sides last agreed on."""

    backend: str  # jira | zammad
    backend_id: str  # the remote's stable id
    issue_id: str
    customer_id: str | None
    key: str  # the remote's key ("SD-12", a Zammad ticket number)
    summary: str = ""
    description: str = ""
    status: str = ""  # the agreed status, as the built-in desk names it
    remote_status: str = ""  # the agreed status, as the remote names it
    priority: str = ""
    version: int = 0


@dataclass(frozen=True)
class Remote:
    """What a remote issue says (the port's RemoteIssue, as far as the sync reads it)."""

    summary: str
    description: str | None  # None: this read does not carry it (Zammad's search)
    status: str
    resolution: str | None
    priority: str | None


def status_in(kind: str, remote_status: str) -> str | None:
    return STATUS_IN.get(kind, {}).get(remote_status.strip().casefold())


def status_out(kind: str, status: str) -> str | None:
    return STATUS_OUT.get(kind, {}).get(status)


def new_link(kind: str, issue: desk.Issue, backend_id: str, key: str, remote: Remote) -> Link:
    """The link of an issue just created remotely: agreed on what was sent, and on the remote's
    status and priority as it answered (the next push sends whatever differs from them)."""
    return Link(
        backend=kind,
        backend_id=backend_id,
        issue_id=issue.id,
        customer_id=issue.customer_id,
        key=key,
        summary=issue.summary,
        description=issue.description,
        status=status_in(kind, remote.status) or issue.status,
        remote_status=remote.status,
        priority=remote.priority or "",
    )


def outgoing(kind: str, issue: desk.Issue, link: Link) -> dict[str, str]:
    """The fields to push (the adapter's `update_issue` arguments): what changed here since the
    last agreement."""
    changes: dict[str, str] = {}
    if issue.summary != link.summary:
        changes["summary"] = issue.summary
    if PUSHES_DESCRIPTION.get(kind, False) and issue.description != link.description:
        changes["description"] = issue.description
    if issue.status != link.status:
        remote = status_out(kind, issue.status)
        if remote is not None and remote.casefold() != link.remote_status.casefold():
            changes["status"] = remote
    if issue.priority and issue.priority != link.priority:
        changes["priority"] = issue.priority
    return changes


def pushed(link: Link, issue: desk.Issue, changes: dict[str, str], remote: Remote) -> Link:
    """The link after `changes` reached the remote, which now answers `remote`."""
    return replace(
        link,
        summary=issue.summary,
        description=issue.description if "description" in changes else link.description,
        status=issue.status,
        remote_status=remote.status,
        priority=issue.priority if "priority" in changes else link.priority,
    )


def incoming(kind: str, issue: desk.Issue, link: Link, remote: Remote) -> tuple[dict[str, Any], Link]:
    """(the issue's fields to change, the new link) for what changed on the remote since the last
    agreement. An empty change still returns a link that agrees with the remote."""
    changes: dict[str, Any] = {}
    agreed = link
    if remote.summary and remote.summary != link.summary:
        agreed = replace(agreed, summary=remote.summary)
        if remote.summary != issue.summary:
            changes["summary"] = remote.summary[: desk.SUMMARY_MAX]
    if remote.description is not None and remote.description != link.description:
        agreed = replace(agreed, description=remote.description)
        if remote.description != issue.description:
            changes["description"] = remote.description
    if remote.status.casefold() != link.remote_status.casefold():
        mapped = status_in(kind, remote.status)
        agreed = replace(agreed, remote_status=remote.status, status=mapped or link.status)
        if mapped is not None and mapped != issue.status:
            changes["status"] = mapped
    if remote.priority and remote.priority != link.priority:
        agreed = replace(agreed, priority=remote.priority)
        if remote.priority != issue.priority:
            changes["priority"] = remote.priority[: desk.LINE_MAX]
    resolution = (remote.resolution or "")[: desk.LINE_MAX]
    if resolution != issue.resolution:
        changes["resolution"] = resolution
    return changes, agreed


def remote_author_id(kind: str, email: str | None, name: str | None) -> str:
    """The fixed id of the support user that stands for a remote desk's person (Waldur makes a
    SupportUser per backend user): the same person, the same support user, however often seen."""
    who = (email or name or "unknown").strip().casefold()
    return uuid.uuid5(_REMOTE_USER_NAMESPACE, f"{kind}:{who}").hex


def comment_text(body: str) -> str:
    """A remote comment's body as a comment's description, within the desk's bound."""
    encoded = body.encode()
    if len(encoded) <= desk.DESCRIPTION_MAX_BYTES:
        return body
    return encoded[: desk.DESCRIPTION_MAX_BYTES - 3].decode(errors="ignore") + "…"
