"""The support desk's commands for the outbox table (tests/outbox_commands.py merges
SUPPORT_COMMANDS into COMMANDS): each scenario, and the events it must write.

Staff open an issue in Acme's project Apollo (their own support user is made in the same
transaction); comments and changes follow on it.
"""

from __future__ import annotations

from typing import Any

from tests.outbox_commands import Case, Command, Fields, S, World, emits, no_event

CREATED = "issue_creation_succeeded"
UPDATED = "issue_update_succeeded"
DELETED = "issue_deletion_succeeded"
COMMENTED = "issue_comment_created"
COMMENT_UPDATED = "issue_comment_updated"
COMMENT_DELETED = "issue_comment_deleted"
NUMBER = {"counter": "the next issue number, taken before the creating transaction (as a slug's)"}
DESK_USERS = {"SUPPORTUSER/": "a desk account made or changed by staff (Waldur logs none)"}


def _fields(w: World, issue: Any) -> dict[str, str]:
    return {
        "issue_uuid": issue.id,
        "issue_key": issue.key,
        "customer_uuid": w.customer.id,
        "project_uuid": w.project.id,
    }


def _request(w: World, summary: str = "VM down") -> Any:
    from chalicelib.services import support

    return support.IssueRequest(type="Incident", summary=summary, project=w.project.id)


def _issue(w: World) -> Any:
    from chalicelib.services import support

    return support.create_issue(w.ctx, _request(w))


def _commented(w: World) -> tuple[Any, Any]:
    from chalicelib.services import support

    issue = _issue(w)
    return issue, support.add_comment(w.ctx, issue.id, "Looking.")


def _support_user(w: World) -> Any:
    from chalicelib.services import support

    return support.create_support_user(w.ctx, support.SupportUserRequest(name="Agent"))


def _create(w: World, _: Any) -> Fields:
    from chalicelib.services import support

    made = support.create_issue(w.ctx, _request(w))
    return {CREATED: _fields(w, made)}


def _update(w: World, issue: Any) -> Fields:
    from chalicelib.services import support

    support.update_issue(w.ctx, issue.id, support.IssueRequest(summary="VM up"))
    return {UPDATED: _fields(w, issue)}


def _set_status(w: World, issue: Any) -> Fields:
    from chalicelib.services import support

    support.set_status(w.ctx, issue.id, "Resolved")
    return {UPDATED: _fields(w, issue)}


def _delete(w: World, issue: Any) -> Fields:
    from chalicelib.services import support

    support.delete_issue(w.ctx, issue.id)
    return {DELETED: _fields(w, issue)}


def _comment(w: World, issue: Any) -> Fields:
    from chalicelib.services import support

    made = support.add_comment(w.ctx, issue.id, "Rebooting.", is_public=False)
    return {COMMENTED: {**_fields(w, issue), "comment_uuid": made.id}}


def _update_comment(w: World, prepared: Any) -> Fields:
    from chalicelib.services import support

    issue, comment = prepared
    support.update_comment(w.ctx, comment.id, description="Rebooted.")
    return {COMMENT_UPDATED: {**_fields(w, issue), "comment_uuid": comment.id}}


def _delete_comment(w: World, prepared: Any) -> Fields:
    from chalicelib.services import support

    issue, comment = prepared
    support.delete_comment(w.ctx, comment.id)
    return {COMMENT_DELETED: {**_fields(w, issue), "comment_uuid": comment.id}}


def _create_support_user(w: World, _: Any) -> None:
    _support_user(w)


def _update_support_user(w: World, user: Any) -> None:
    from chalicelib.services import support

    support.update_support_user(w.ctx, user.id, support.SupportUserRequest(name="Agent Smith"))


ATTACHED = "attachment_created"
DETACHED = "attachment_deleted"


def _attach(w: World, issue: Any) -> Any:
    from chalicelib.domain.attachments import Upload
    from chalicelib.services import support_attachments

    upload = Upload(name="log.txt", mime_type="text/plain", content=b"boot failed")
    return support_attachments.create(w.ctx, f"http://localhost/api/support-issues/{issue.id}/", upload)


def _attached(w: World, issue: Any) -> Fields:
    made = _attach(w, issue).attachment
    return {ATTACHED: {**_fields(w, issue), "attachment_uuid": made.id}}


def _with_attachment(w: World) -> Any:
    issue = _issue(w)
    return issue, _attach(w, issue).attachment


def _detached(w: World, prepared: Any) -> Fields:
    from chalicelib.services import support_attachments

    issue, attachment = prepared
    support_attachments.delete(w.ctx, attachment.id)
    return {DETACHED: {**_fields(w, issue), "attachment_uuid": attachment.id}}


FEEDBACK = {"CUST/ISSUEFEEDBACK": "a caller's rating of a resolved issue (Waldur logs none)"}


def _resolved_with_token(w: World) -> str:
    """A resolved issue and the token its feedback mail would carry (kept by the mail's task)."""
    from chalicelib.services import support, support_feedbacks

    issue = _issue(w)
    resolved = support.set_status(w.ctx, issue.id, "Resolved")
    return support_feedbacks.request_token(resolved)


def _give_feedback(w: World, token: str) -> None:
    from chalicelib.services import support_feedbacks

    support_feedbacks.create(w.ctx, token, 9, "Quick.")


TEMPLATES = {"SUPPORT/TEMPLATE": "an issue template written by staff (Waldur logs none)"}


def _template(w: World) -> Any:
    from chalicelib.services import support_catalog

    return support_catalog.create_template(w.ctx, {"name": "VM request", "description": "Which VM?"})


def _create_template(w: World, _: Any) -> None:
    _template(w)


def _update_template(w: World, template: Any) -> None:
    from chalicelib.services import support_catalog

    support_catalog.update_template(w.ctx, template.id, {"name": "VM order"})


def _delete_template(w: World, template: Any) -> None:
    from chalicelib.services import support_catalog

    support_catalog.delete_template(w.ctx, template.id)


def _delete_support_user(w: World, user: Any) -> None:
    from chalicelib.services import support

    support.delete_support_user(w.ctx, user.id)


SUPPORT_COMMANDS: dict[str, Command] = {
    f"{S}support.create_issue": emits(Case(_create, (CREATED,), outside=NUMBER)),
    f"{S}support.update_issue": emits(Case(_update, (UPDATED,), setup=_issue)),
    f"{S}support.set_status": emits(Case(_set_status, (UPDATED,), setup=_issue)),
    f"{S}support.delete_issue": emits(Case(_delete, (DELETED,), setup=_issue)),
    f"{S}support.add_comment": emits(Case(_comment, (COMMENTED,), setup=_issue)),
    f"{S}support.update_comment": emits(Case(_update_comment, (COMMENT_UPDATED,), setup=_commented)),
    f"{S}support.delete_comment": emits(Case(_delete_comment, (COMMENT_DELETED,), setup=_commented)),
    f"{S}support.create_support_user": no_event(
        DESK_USERS["SUPPORTUSER/"], Case(_create_support_user, (), outside=DESK_USERS)
    ),
    f"{S}support.update_support_user": no_event(
        DESK_USERS["SUPPORTUSER/"], Case(_update_support_user, (), setup=_support_user, outside=DESK_USERS)
    ),
    f"{S}support_attachments.create": emits(Case(_attached, (ATTACHED,), setup=_issue)),
    f"{S}support_attachments.delete": emits(Case(_detached, (DETACHED,), setup=_with_attachment)),
    f"{S}support_feedbacks.create": no_event(
        FEEDBACK["CUST/ISSUEFEEDBACK"],
        Case(_give_feedback, (), setup=_resolved_with_token, outside=FEEDBACK),
    ),
    f"{S}support_catalog.create_template": no_event(
        TEMPLATES["SUPPORT/TEMPLATE"], Case(_create_template, (), outside=TEMPLATES)
    ),
    f"{S}support_catalog.update_template": no_event(
        TEMPLATES["SUPPORT/TEMPLATE"], Case(_update_template, (), setup=_template, outside=TEMPLATES)
    ),
    f"{S}support_catalog.delete_template": no_event(
        TEMPLATES["SUPPORT/TEMPLATE"], Case(_delete_template, (), setup=_template, outside=TEMPLATES)
    ),
    f"{S}support.delete_support_user": no_event(
        DESK_USERS["SUPPORTUSER/"], Case(_delete_support_user, (), setup=_support_user, outside=DESK_USERS)
    ),
}
