"""`/api/support-issues/`, `/api/support-comments/`, `/api/support-users/`: the built-in support
desk in Waldur's shapes (waldur-api-client 8.1.3's Issue, Comment and SupportUser and their
request models). Rules: chalicelib/services/support.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import AfterValidator, BaseModel, Field

from chalicelib.api.fields import (
    ReferenceFilter,
    UuidField,
    UuidFilter,
    changes,
    free_text,
    line_text,
    name_text,
    omitted,
    one_of,
)
from chalicelib.api.marketplace_orders import uuid_filter
from chalicelib.api.marketplace_user_usages import resource_filter
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    FieldsQuery,
    ListQuery,
    NoContent,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.api.support_feedbacks import nested_feedback
from chalicelib.domain import attachments
from chalicelib.domain import support as domain
from chalicelib.domain.ids import id_from_url
from chalicelib.domain.support import Comment, Issue, SupportUser
from chalicelib.domain.support_feedback import Feedback
from chalicelib.services import support as service
from chalicelib.services import support_feedbacks
from chalicelib.services.ports import users as user_store

bp = Blueprint(__name__)
ISSUES = "support-issues"
COMMENTS = "support-comments"
SUPPORT_USERS = "support-users"
Reference = Annotated[str, Field(max_length=2000)]
Line = line_text(domain.LINE_MAX)
Description = free_text(max_bytes=domain.DESCRIPTION_MAX_BYTES)


def _choice(allowed: tuple[str, ...]) -> Any:
    """One of `allowed` (DRF's ChoiceField message), stated as the schema's enum."""

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f'"{value}" is not a valid choice.')
        return value

    return Annotated[str, AfterValidator(check), Field(json_schema_extra=one_of(allowed))]


IssueType = _choice(domain.TYPES)
IssueStatus = _choice(domain.STATUSES)


# --- bodies --------------------------------------------------------------------------------------
class IssueIn(BodyModel):
    """Waldur's IssueRequest (`offering` and `template` are taken and not used by the built-in
    desk; `first_comment` is not served)."""

    type: IssueType  # type: ignore[valid-type]
    summary: name_text(domain.SUMMARY_MAX)  # type: ignore[valid-type]
    description: Description = ""  # type: ignore[valid-type]
    remote_id: Line | None = None  # type: ignore[valid-type]
    priority: Line = ""  # type: ignore[valid-type]
    caller: Reference | None = None
    assignee: Reference | None = None
    customer: Reference | None = None
    project: Reference | None = None
    resource: Reference = omitted()
    offering: UuidField | None = None
    is_reported_manually: bool = False
    template: Reference | None = None


class IssuePatch(BodyModel):
    """Waldur's PatchedIssueRequest (what the desk may change)."""

    summary: name_text(domain.SUMMARY_MAX) = omitted()  # type: ignore[valid-type]
    description: Description = omitted()  # type: ignore[valid-type]
    assignee: Reference | None = None
    offering: UuidField | None = None
    is_reported_manually: bool = omitted()


class StatusIn(BodyModel):
    """Waldur's SetIssueStatusRequest."""

    status: IssueStatus  # type: ignore[valid-type]


class CommentIn(BodyModel):
    """Waldur's CommentRequest; python-waldur-client also sends `remote_id`."""

    description: Description  # type: ignore[valid-type]
    is_public: bool = True
    remote_id: Line | None = None  # type: ignore[valid-type]


class CommentPatch(BodyModel):
    """Waldur's PatchedCommentRequest."""

    description: Description = omitted()  # type: ignore[valid-type]
    is_public: bool = omitted()


class SupportUserIn(BodyModel):
    """Waldur's SupportUserRequest."""

    name: name_text(domain.LINE_MAX)  # type: ignore[valid-type]
    backend_id: Line | None = None  # type: ignore[valid-type]
    backend_name: Line | None = None  # type: ignore[valid-type]
    is_active: bool = True
    user: Reference | None = None


class SupportUserPatch(BodyModel):
    """Waldur's PatchedSupportUserRequest."""

    name: name_text(domain.LINE_MAX) = omitted()  # type: ignore[valid-type]
    backend_id: Line | None = None  # type: ignore[valid-type]
    backend_name: Line | None = None  # type: ignore[valid-type]
    is_active: bool = omitted()
    user: Reference | None = None


def issue_request(body: BaseModel) -> service.IssueRequest:
    sent = changes(body)
    given = {k: sent[k] for k in ("remote_id", "caller", "assignee", "customer", "project") if k in sent}
    return service.IssueRequest(
        type=sent.get("type"),
        summary=sent.get("summary"),
        description=sent.get("description"),
        priority=sent.get("priority"),
        resource=sent.get("resource"),
        is_reported_manually=bool(sent.get("is_reported_manually", False)),
        **given,
    )


def support_user_request(body: BaseModel) -> service.SupportUserRequest:
    sent = changes(body)
    given = {k: sent[k] for k in ("backend_id", "backend_name", "user") if k in sent}
    return service.SupportUserRequest(name=sent.get("name"), is_active=sent.get("is_active"), **given)


# --- answers -------------------------------------------------------------------------------------
class IssueOut(ResponseModel):
    """Waldur's Issue (8.1.3): the desk's SLA, escalation, routing and order fields are rendered
    as a desk without them has them (no deadline, not escalated, not routed)."""

    omit_when_null = frozenset({"resource", "link", "description", "priority", "processing_log"})

    url: str
    uuid: str
    type: str
    key: str
    backend_id: str | None = None
    backend_name: str | None = None
    remote_id: str | None = None
    link: str | None = None
    summary: str
    description: str | None = None
    status: str
    resolution: str
    priority: str | None = None
    caller: str | None = None
    caller_uuid: str | None = None
    caller_full_name: str | None = None
    reporter: str
    reporter_uuid: str | None = None
    reporter_name: str | None = None
    assignee: str | None = None
    assignee_uuid: str | None = None
    assignee_name: str | None = None
    customer: str | None = None
    customer_uuid: str | None = None
    customer_name: str | None = None
    project: str | None = None
    project_uuid: str | None = None
    project_name: str | None = None
    resource: str | None = None
    resource_type: str
    resource_name: str
    offering: str | None = None
    template: str | None = None
    created: datetime
    modified: datetime
    feedback: dict[str, Any] | None = None
    resolved: bool | None = None
    update_is_available: bool
    destroy_is_available: bool
    available_statuses: list[str]
    add_comment_is_available: bool
    add_attachment_is_available: bool
    order_uuid: str | None = None
    order_project_uuid: str | None = None
    order_customer_uuid: str | None = None
    order_resource_name: str | None = None
    first_response_deadline: datetime | None = None
    resolution_deadline: datetime | None = None
    first_response_at: datetime | None = None
    sla_breached: bool
    sla_status: str
    parent_issue: str
    provider_helpdesk: str
    is_escalated: bool
    escalated_at: datetime | None = None
    escalation_reason: str
    is_routed: bool
    provider_ticket_info: dict[str, Any] | None = None
    processing_log: dict[str, Any] | None = None


def issue_data(
    call: Call, issue: Issue, who: service.Rights, feedback: Feedback | None = None
) -> dict[str, Any]:
    def link(collection: str, object_id: str | None) -> str | None:
        return call.url(collection, object_id) if object_id else None

    return {
        "url": call.url(ISSUES, issue.id),
        "uuid": issue.id,
        "type": issue.type,
        "key": issue.key,
        "backend_id": issue.backend_id,
        "backend_name": domain.BACKEND_NAME,
        "remote_id": issue.remote_id,
        "link": issue.link,
        "summary": issue.summary,
        "description": issue.description,
        "status": issue.status,
        "resolution": issue.resolution,
        "priority": issue.priority,
        "caller": link("users", issue.caller_id),
        "caller_uuid": issue.caller_id,
        "caller_full_name": issue.caller_full_name,
        "reporter": link(SUPPORT_USERS, issue.reporter_id) or "",
        "reporter_uuid": issue.reporter_id,
        "reporter_name": issue.reporter_name,
        "assignee": link(SUPPORT_USERS, issue.assignee_id),
        "assignee_uuid": issue.assignee_id,
        "assignee_name": issue.assignee_name,
        "customer": link("customers", issue.customer_id),
        "customer_uuid": issue.customer_id,
        "customer_name": issue.customer_name,
        "project": link("projects", issue.project_id),
        "project_uuid": issue.project_id,
        "project_name": issue.project_name,
        "resource": link("marketplace-resources", issue.resource_id),
        "resource_type": "Marketplace.Resource" if issue.resource_id else "",
        "resource_name": issue.resource_name,
        "created": issue.created,
        "modified": issue.modified,
        "resolved": issue.resolved,
        "feedback": nested_feedback(feedback),
        "update_is_available": who.desk,
        "destroy_is_available": who.desk,
        "available_statuses": list(domain.STATUSES),
        "add_comment_is_available": who.may_comment(issue),
        "add_attachment_is_available": attachments.may_attach(
            issue, who.user_id, is_staff=who.principal.is_staff, owned_customers=who.owned_customers
        ),
        "first_response_at": issue.first_response_at,
        **_order_fields(issue),
        "sla_breached": False,
        "sla_status": "",
        "parent_issue": "",
        "provider_helpdesk": "",
        "is_escalated": False,
        "escalation_reason": "",
        "is_routed": False,
    }


def _order_fields(issue: Issue) -> dict[str, Any]:
    """The order a request-based offering's issue carries (Waldur's order_* fields)."""
    if issue.order_id is None:
        return {}
    return {
        "order_uuid": issue.order_id,
        "order_project_uuid": issue.project_id,
        "order_customer_uuid": issue.customer_id,
        "order_resource_name": issue.resource_name,
    }


class CommentOut(ResponseModel):
    """Waldur's Comment."""

    omit_when_null = frozenset({"is_public"})

    url: str
    uuid: str
    issue: str
    issue_key: str
    description: str
    is_public: bool | None = None
    author_name: str
    author_uuid: str
    author_user: str
    author_email: str
    author_image: str
    backend_id: str | None = None
    remote_id: str | None = None
    created: datetime
    update_is_available: bool
    destroy_is_available: bool


def _emails(comments: list[Comment]) -> dict[str, str]:
    wanted = sorted({c.author_user_id for c in comments if c.author_user_id})
    return {u.id: u.email for u in user_store.get_many(wanted).values()} if wanted else {}


def comment_data(call: Call, comment: Comment, emails: dict[str, str], staff: bool) -> dict[str, Any]:
    user_id = comment.author_user_id
    return {
        "url": call.url(COMMENTS, comment.id),
        "uuid": comment.id,
        "issue": call.url(ISSUES, comment.issue_id),
        "issue_key": comment.issue_key,
        "description": comment.description,
        "is_public": comment.is_public,
        "author_name": comment.author_name,
        # The built-in desk's authors are users; one a staff member made without a user shows its own.
        "author_uuid": user_id or comment.author_id,
        "author_user": call.url("users", user_id) if user_id else "",
        "author_email": emails.get(user_id or "", ""),
        "author_image": "",
        "backend_id": comment.backend_id,
        "remote_id": comment.remote_id,
        "created": comment.created,
        "update_is_available": staff,
        "destroy_is_available": staff,
    }


class SupportUserOut(ResponseModel):
    """Waldur's SupportUser."""

    omit_when_null = frozenset({"is_active"})

    url: str
    uuid: str
    name: str
    backend_id: str | None = None
    backend_name: str | None = None
    is_active: bool | None = None
    user: str | None = None
    user_full_name: str | None = None
    user_email: str | None = None
    reported_issues_count: int
    assigned_issues_count: int
    comments_count: int
    attachments_count: int


def support_user_data(call: Call, user: SupportUser, people: dict[str, Any]) -> dict[str, Any]:
    person = people.get(user.user_id or "")
    return {
        "url": call.url(SUPPORT_USERS, user.id),
        "uuid": user.id,
        "name": user.name,
        "backend_id": user.backend_id,
        "backend_name": user.backend_name,
        "is_active": user.is_active,
        "user": call.url("users", user.user_id) if user.user_id else None,
        "user_full_name": person.full_name if person else None,
        "user_email": person.email if person else None,
        "reported_issues_count": user.reported_issues_count,
        "assigned_issues_count": user.assigned_issues_count,
        "comments_count": user.comments_count,
        "attachments_count": 0,
    }


def _people(found: list[SupportUser]) -> dict[str, Any]:
    wanted = sorted({u.user_id for u in found if u.user_id})
    return user_store.get_many(wanted) if wanted else {}


# --- queries -------------------------------------------------------------------------------------
def _user_ref(name: str, value: str | None) -> str | None:
    """A filter naming an object by URL or uuid (django-filter's URLFilter takes the URL's uuid)."""
    if value is None:
        return None
    return id_from_url(value) or uuid_filter(name, value)


class IssueQuery(ListQuery):
    summary: str | None = Field(None, max_length=255)
    query: str | None = Field(None, max_length=255)
    key: str | None = Field(None, max_length=255)
    type: list[Annotated[str, Field(max_length=255)]] = []
    status: list[Annotated[str, Field(max_length=255)]] = []
    customer: ReferenceFilter | None = None
    customer_uuid: UuidFilter | None = None
    project: ReferenceFilter | None = None
    project_uuid: UuidFilter | None = None
    resource: ReferenceFilter | None = None
    resource_uuid: UuidFilter | None = None
    caller: ReferenceFilter | None = None
    caller_full_name: str | None = Field(None, max_length=255)
    reporter: ReferenceFilter | None = None
    reporter_name: str | None = Field(None, max_length=255)
    assignee: ReferenceFilter | None = None
    assignee_name: str | None = Field(None, max_length=255)
    remote_id: str | None = Field(None, max_length=255)
    is_open: bool | None = None

    ordering_fields = tuple(service.ISSUE_SORT)

    def filters(self) -> service.IssueFilters:
        return service.IssueFilters(
            summary=self.summary,
            query=self.query,
            key=self.key,
            types=tuple(self.type),
            statuses=tuple(self.status),
            customer_id=_user_ref("customer", self.customer)
            or uuid_filter("customer_uuid", self.customer_uuid),
            project_id=_user_ref("project", self.project) or uuid_filter("project_uuid", self.project_uuid),
            resource_id=resource_filter(self.resource, self.resource_uuid),
            caller_id=_user_ref("caller", self.caller),
            caller_full_name=self.caller_full_name,
            reporter_id=_user_ref("reporter", self.reporter),
            reporter_name=self.reporter_name,
            assignee_id=_user_ref("assignee", self.assignee),
            assignee_name=self.assignee_name,
            remote_id=self.remote_id,
            is_open=self.is_open,
        )


class CommentQuery(ListQuery):
    issue: ReferenceFilter | None = None
    issue_uuid: UuidFilter | None = None
    description: str | None = Field(None, max_length=255)
    author_name: str | None = Field(None, max_length=255)
    author_user: ReferenceFilter | None = None
    is_public: bool | None = None
    remote_id_is_set: bool | None = None
    resource: ReferenceFilter | None = None

    ordering_fields = tuple(service.COMMENT_SORT)

    def filters(self) -> service.CommentFilters:
        return service.CommentFilters(
            issue_id=_user_ref("issue", self.issue) or uuid_filter("issue_uuid", self.issue_uuid),
            description=self.description,
            author_name=self.author_name,
            author_user_id=_user_ref("author_user", self.author_user),
            is_public=self.is_public,
            remote_id_is_set=self.remote_id_is_set,
            resource_id=_user_ref("resource", self.resource),
        )


class SupportUserQuery(ListQuery):
    name: str | None = Field(None, max_length=255)
    query: str | None = Field(None, max_length=255)
    backend_id: str | None = Field(None, max_length=255)
    backend_name: str | None = Field(None, max_length=255)
    is_active: bool | None = None
    # Waldur's is its user's database id (an integer); Cirrus's users have uuids: a user's URL or
    # uuid here, anything else matches nobody.
    user: str | None = Field(None, max_length=2000)

    ordering_fields = tuple(service.SUPPORT_USER_SORT)

    def filters(self) -> service.SupportUserFilters:
        user_id = id_from_url(self.user) if self.user else None
        return service.SupportUserFilters(
            name=self.name or self.query,
            user_id=user_id or ("-" if self.user else None),
            backend_id=self.backend_id,
            backend_name=self.backend_name,
            is_active=self.is_active,
        )


# --- support-issues ------------------------------------------------------------------------------
def _issue(call: Call, issue: Issue, status: int = 200) -> Any:
    feedback = None if status == 201 else support_feedbacks.of_issue(issue)  # a new issue has none
    data = render(
        IssueOut,
        issue_data(call, issue, service.rights(call.user), feedback),
        getattr(call.query, "field", ()),
    )
    return Created(data) if status == 201 else data


@endpoint(bp, f"/api/{ISSUES}", "GET", name="support_issues_list", tag=ISSUES, query=IssueQuery,
          response=IssueOut, many=True, summary="The issues the caller sees")  # fmt: skip
def list_issues(call: Call) -> Any:
    q: IssueQuery = call.query
    page = service.list_issues(call.user, q.filters(), q.ordering(), q.page_request())
    who = service.rights(call.user)
    feedbacks = support_feedbacks.of_issues(page.items)
    return listed(call, page, IssueOut, lambda issue: issue_data(call, issue, who, feedbacks.get(issue.id)))


@endpoint(bp, f"/api/{ISSUES}", "POST", name="support_issues_create", tag=ISSUES, body=IssueIn,
          response=IssueOut, status=201, summary="Open an issue")  # fmt: skip
def create_issue(call: Call) -> Any:
    return _issue(call, service.create_issue(call.ctx, issue_request(call.body)), 201)


@endpoint(bp, f"/api/{ISSUES}/{{uuid}}", "GET", name="support_issues_retrieve", tag=ISSUES, query=FieldsQuery,
          response=IssueOut)  # fmt: skip
def retrieve_issue(call: Call, uuid: str) -> Any:
    return _issue(call, service.get_visible(call.user, object_id(uuid, domain.ISSUE)))


@endpoint(bp, f"/api/{ISSUES}/{{uuid}}", "PUT", name="support_issues_update", tag=ISSUES, body=IssueIn,
          response=IssueOut, summary="Change an issue (the desk)")  # fmt: skip
def update_issue(call: Call, uuid: str) -> Any:
    return _issue(
        call, service.update_issue(call.ctx, object_id(uuid, domain.ISSUE), issue_request(call.body))
    )


@endpoint(bp, f"/api/{ISSUES}/{{uuid}}", "PATCH", name="support_issues_partial_update", tag=ISSUES,
          body=IssuePatch, response=IssueOut, summary="Change some fields of an issue")  # fmt: skip
def partial_update_issue(call: Call, uuid: str) -> Any:
    return _issue(
        call, service.update_issue(call.ctx, object_id(uuid, domain.ISSUE), issue_request(call.body))
    )


@endpoint(bp, f"/api/{ISSUES}/{{uuid}}", "DELETE", name="support_issues_destroy", tag=ISSUES, status=204,
          summary="Delete an issue and its comments (the desk)")  # fmt: skip
def delete_issue(call: Call, uuid: str) -> Any:
    service.delete_issue(call.ctx, object_id(uuid, domain.ISSUE))
    return NoContent()


@endpoint(bp, f"/api/{ISSUES}/{{uuid}}/set_status", "POST", name="support_issues_set_status", tag=ISSUES,
          body=StatusIn, response=IssueOut, summary="Move an issue to a status (the desk)")  # fmt: skip
def set_status(call: Call, uuid: str) -> Any:
    body: StatusIn = call.body
    return _issue(call, service.set_status(call.ctx, object_id(uuid, domain.ISSUE), body.status))


@endpoint(bp, f"/api/{ISSUES}/{{uuid}}/comment", "POST", name="support_issues_comment", tag=ISSUES,
          body=CommentIn, response=CommentOut, status=201, summary="Comment on an issue")  # fmt: skip
def comment_issue(call: Call, uuid: str) -> Any:
    body: CommentIn = call.body
    made = service.add_comment(
        call.ctx, object_id(uuid, domain.ISSUE), body.description, body.is_public, body.remote_id
    )
    return Created(render(CommentOut, comment_data(call, made, _emails([made]), call.user.is_staff)))


# --- support-comments ----------------------------------------------------------------------------
@endpoint(bp, f"/api/{COMMENTS}", "GET", name="support_comments_list", tag=COMMENTS, query=CommentQuery,
          response=CommentOut, many=True, summary="Comments of the issues the caller sees")  # fmt: skip
def list_comments(call: Call) -> Any:
    q: CommentQuery = call.query
    page = service.list_comments(call.user, q.filters(), q.ordering(), q.page_request())
    emails = _emails(page.items)
    return listed(call, page, CommentOut, lambda c: comment_data(call, c, emails, call.user.is_staff))


def _comment(call: Call, comment: Comment) -> Any:
    data = comment_data(call, comment, _emails([comment]), call.user.is_staff)
    return render(CommentOut, data, getattr(call.query, "field", ()))


@endpoint(bp, f"/api/{COMMENTS}/{{uuid}}", "GET", name="support_comments_retrieve", tag=COMMENTS,
          query=FieldsQuery, response=CommentOut)  # fmt: skip
def retrieve_comment(call: Call, uuid: str) -> Any:
    return _comment(call, service.get_visible_comment(call.user, object_id(uuid, domain.COMMENT)))


def _update_comment(call: Call, uuid: str) -> Any:
    sent = changes(call.body)
    changed = service.update_comment(
        call.ctx, object_id(uuid, domain.COMMENT), sent.get("description"), sent.get("is_public")
    )
    return _comment(call, changed)


class CommentPut(BodyModel):
    """Waldur's CommentRequest (PUT)."""

    description: Description  # type: ignore[valid-type]
    is_public: bool = True


@endpoint(bp, f"/api/{COMMENTS}/{{uuid}}", "PUT", name="support_comments_update", tag=COMMENTS,
          body=CommentPut, response=CommentOut, summary="Change a comment (staff)")  # fmt: skip
def update_comment(call: Call, uuid: str) -> Any:
    return _update_comment(call, uuid)


@endpoint(bp, f"/api/{COMMENTS}/{{uuid}}", "PATCH", name="support_comments_partial_update", tag=COMMENTS,
          body=CommentPatch, response=CommentOut, summary="Change a comment's fields")  # fmt: skip
def partial_update_comment(call: Call, uuid: str) -> Any:
    return _update_comment(call, uuid)


@endpoint(bp, f"/api/{COMMENTS}/{{uuid}}", "DELETE", name="support_comments_destroy", tag=COMMENTS,
          status=204, summary="Delete a comment (staff)")  # fmt: skip
def delete_comment(call: Call, uuid: str) -> Any:
    service.delete_comment(call.ctx, object_id(uuid, domain.COMMENT))
    return NoContent()


# --- support-users -------------------------------------------------------------------------------
def _support_user(call: Call, user: SupportUser, status: int = 200) -> Any:
    data = render(
        SupportUserOut, support_user_data(call, user, _people([user])), getattr(call.query, "field", ())
    )
    return Created(data) if status == 201 else data


@endpoint(bp, f"/api/{SUPPORT_USERS}", "GET", name="support_users_list", tag=SUPPORT_USERS,
          query=SupportUserQuery, response=SupportUserOut, many=True,
          summary="The desk's users (staff and support)")  # fmt: skip
def list_support_users(call: Call) -> Any:
    q: SupportUserQuery = call.query
    page = service.list_support_users(call.user, q.filters(), q.ordering(), q.page_request())
    people = _people(page.items)
    return listed(call, page, SupportUserOut, lambda u: support_user_data(call, u, people))


@endpoint(bp, f"/api/{SUPPORT_USERS}/{{uuid}}", "GET", name="support_users_retrieve", tag=SUPPORT_USERS,
          query=FieldsQuery, response=SupportUserOut)  # fmt: skip
def retrieve_support_user(call: Call, uuid: str) -> Any:
    return _support_user(call, service.get_support_user(call.user, object_id(uuid, domain.SUPPORT_USER)))


@endpoint(bp, f"/api/{SUPPORT_USERS}", "POST", name="support_users_create", tag=SUPPORT_USERS,
          body=SupportUserIn, response=SupportUserOut, status=201, summary="Add a desk user")  # fmt: skip
def create_support_user(call: Call) -> Any:
    return _support_user(call, service.create_support_user(call.ctx, support_user_request(call.body)), 201)


def _update_support_user(call: Call, uuid: str) -> Any:
    changed = service.update_support_user(
        call.ctx, object_id(uuid, domain.SUPPORT_USER), support_user_request(call.body)
    )
    return _support_user(call, changed)


@endpoint(bp, f"/api/{SUPPORT_USERS}/{{uuid}}", "PUT", name="support_users_update", tag=SUPPORT_USERS,
          body=SupportUserIn, response=SupportUserOut, summary="Change a desk user (staff)")  # fmt: skip
def update_support_user(call: Call, uuid: str) -> Any:
    return _update_support_user(call, uuid)


@endpoint(bp, f"/api/{SUPPORT_USERS}/{{uuid}}", "PATCH", name="support_users_partial_update",
          tag=SUPPORT_USERS, body=SupportUserPatch, response=SupportUserOut,
          summary="Change some fields of a desk user (staff)")  # fmt: skip
def partial_update_support_user(call: Call, uuid: str) -> Any:
    return _update_support_user(call, uuid)


@endpoint(bp, f"/api/{SUPPORT_USERS}/{{uuid}}", "DELETE", name="support_users_destroy", tag=SUPPORT_USERS,
          status=204, summary="Delete a desk user (staff)")  # fmt: skip
def delete_support_user(call: Call, uuid: str) -> Any:
    service.delete_support_user(call.ctx, object_id(uuid, domain.SUPPORT_USER))
    return NoContent()
