"""An in-process remote desk implementing the `SupportBackend` port with no HTTP, for tests that
check what the sync's commands write (tests/outbox_support_sync.py) rather than the adapters (the
HTTP fakes beside this module and tests/integration/test_support_sync.py do that)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from chalicelib.support_backends.base import (
    NewIssue,
    RemoteComment,
    RemoteIssue,
    WebhookEvent,
    verify_hub_signature,
)


@dataclass
class MemoryDesk:
    secret: str = "memory-secret"
    issues: dict[str, RemoteIssue] = field(default_factory=dict)
    notes: dict[str, list[RemoteComment]] = field(default_factory=dict)
    clock: datetime = field(default_factory=lambda: datetime.now(UTC))

    def _tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def create_issue(self, issue: NewIssue) -> RemoteIssue:
        number = str(len(self.issues) + 1)
        made = RemoteIssue(
            backend_id=f"10{number}",
            key=f"MEM-{number}",
            summary=issue.summary,
            description=issue.description,
            status="Waiting for support",
            resolution=None,
            priority="Medium",
            link=f"https://desk.example.org/browse/MEM-{number}",
            updated=self._tick(),
            caller_email=issue.caller_email,
        )
        self.issues[made.backend_id] = made
        self.notes[made.backend_id] = []
        return made

    def update_issue(
        self,
        backend_id: str,
        *,
        summary: str | None = None,
        description: str | None = None,
        status: str | None = None,
        priority: str | None = None,
    ) -> RemoteIssue:
        issue = self.issues[backend_id]
        changed = replace(
            issue,
            summary=summary if summary is not None else issue.summary,
            description=description if description is not None else issue.description,
            status=status if status is not None else issue.status,
            priority=priority if priority is not None else issue.priority,
            updated=self._tick(),
        )
        self.issues[backend_id] = changed
        return changed

    def add_comment(
        self, issue_backend_id: str, body: str, *, is_public: bool, author_email: str | None = None
    ) -> RemoteComment:
        comment = RemoteComment(
            backend_id=f"c{sum(map(len, self.notes.values())) + 1}",
            issue_backend_id=issue_backend_id,
            body=body,
            is_public=is_public,
            author_name="Integration",
            author_email="integration@example.org",
            created=self._tick(),
        )
        self.notes[issue_backend_id].append(comment)
        return comment

    def agent_comment(self, issue_backend_id: str, body: str, *, public: bool) -> RemoteComment:
        comment = replace(
            self.add_comment(issue_backend_id, body, is_public=public),
            author_name="Agent Smith",
            author_email="agent@example.org",
        )
        self.notes[issue_backend_id][-1] = comment
        self.issues[issue_backend_id] = replace(self.issues[issue_backend_id], updated=comment.created)
        return comment

    def get_issue(self, backend_id: str) -> RemoteIssue:
        return self.issues[backend_id]

    def comments(self, issue_backend_id: str) -> list[RemoteComment]:
        return list(self.notes[issue_backend_id])

    def changed_since(self, when: datetime) -> list[RemoteIssue]:
        return sorted((i for i in self.issues.values() if i.updated >= when), key=lambda i: i.updated)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        payload = verify_hub_signature(headers, body, self.secret, "sha256")
        return WebhookEvent(event="memory", issue_backend_id=str(payload["issue"]), issue_key=None)

    def webhook_body(self, backend_id: str) -> bytes:
        return json.dumps({"issue": backend_id}).encode()
