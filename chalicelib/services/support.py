"""The built-in support desk's use cases (Waldur's `support-issues/`, `support-comments/`,
`support-users/`).

Who may do what (Waldur's IssueViewSet, CommentViewSet, SupportUserViewSet and serializers):
- **The desk** (staff and support) sees every issue and comment and works them: changes issues
  (PUT/PATCH, `set_status/`), deletes them, opens issues on behalf of anybody, assigns them and
  sets their priority.
- **Anybody signed in** opens issues as their own caller: about a customer where they are an owner,
  a project where they hold a role (or whose customer they own), or a resource of such a project;
  they see the issues they are the caller or the reporter of and the issues of customers they own
  (anything else is a 404).
- **Comments** (`comment/` on an issue): the desk, the caller of a personal issue (no customer or
  project), an owner of the issue's customer, an admin or manager of its project; anybody else who
  sees the issue gets a 403. Internal comments (`is_public` false) are seen by the desk and their
  author only. Only staff change or delete comments.
- **Support users**: the desk reads them, staff make, change and delete them; whoever reports an
  issue or writes a comment gets their own on first use (a fixed id per user).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain import support as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, PermissionDenied, ValidationError
from chalicelib.domain.ids import id_from_url, new_id
from chalicelib.domain.roles import PROJECT_ADMIN, PROJECT_MANAGER, ScopeType
from chalicelib.domain.support import Comment, Issue, SupportUser
from chalicelib.services import access, support_catalog
from chalicelib.services.paging import Ordering, Page, PageRequest, paginate
from chalicelib.services.ports import UnitOfWork, customers, projects, resources, unit_of_work, users
from chalicelib.services.ports import support as store

INVALID_HYPERLINK = "Invalid hyperlink - Object does not exist."
REQUIRED = "This field is required."
_UNSET: Any = object()
CUSTOMER_OWNER = "CUSTOMER.OWNER"


# --- who the caller is to the desk ---------------------------------------------------------------
@dataclass(frozen=True)
class Rights:
    """What a caller's grants say about support issues."""

    principal: Principal
    owned_customers: frozenset[str]
    managed_projects: frozenset[str]  # admin or manager: may comment
    member_projects: frozenset[str]  # any project role: may open issues there

    @property
    def desk(self) -> bool:
        return self.principal.reads_everything

    @property
    def user_id(self) -> str:
        return self.principal.user_id

    def sees(self, issue: Issue) -> bool:
        return (
            domain.sees_issue(
                issue, self.user_id, reads_everything=self.desk, owned_customers=self.owned_customers
            )
            is not None
        )

    def may_comment(self, issue: Issue) -> bool:
        return domain.may_comment(
            issue,
            self.user_id,
            reads_everything=self.desk,
            owned_customers=self.owned_customers,
            managed_projects=self.managed_projects,
        )


def rights(principal: Principal) -> Rights:
    """The caller's rights (their grants and the roles: read once per request; none for the desk)."""
    if principal.reads_everything:
        return Rights(principal, frozenset(), frozenset(), frozenset())
    known = access.access(principal)
    names = {g.id: known.roles[g.role_id].name for g in known.active_grants()}
    grants = known.active_grants()
    owned = {
        g.scope_id for g in grants if g.scope_type is ScopeType.CUSTOMER and names[g.id] == CUSTOMER_OWNER
    }
    projects_ = {g.scope_id for g in grants if g.scope_type is ScopeType.PROJECT}
    managed = {
        g.scope_id
        for g in grants
        if g.scope_type is ScopeType.PROJECT and names[g.id] in (PROJECT_ADMIN, PROJECT_MANAGER)
    }
    return Rights(principal, frozenset(owned), frozenset(managed), frozenset(projects_))


def _require_desk(principal: Principal) -> None:
    if not principal.reads_everything:
        raise PermissionDenied()


def _require_staff(principal: Principal) -> None:
    if not principal.is_staff:
        raise PermissionDenied()


# --- support users -------------------------------------------------------------------------------
class _Tally:
    """A unit's changes to support users: the ones it makes and the counts it moves (a transaction
    touches an item once, so a user made here is made with its counts)."""

    def __init__(self) -> None:
        self.new: dict[str, SupportUser] = {}
        self.deltas: dict[str, Counter[str]] = {}

    def move(self, support_user_id: str | None, name: str, delta: int) -> None:
        if support_user_id is not None:
            self.deltas.setdefault(support_user_id, Counter())[name] += delta

    def stage(self, uow: UnitOfWork) -> None:
        for made in self.new.values():
            store.add_support_user(uow, domain.counted(made, dict(self.deltas.pop(made.id, {}))))
        for support_user_id, deltas in self.deltas.items():
            store.count(uow, support_user_id, dict(deltas))


def own_support_user(principal: Principal, tally: _Tally) -> SupportUser:
    """The caller's own support user, made in the unit (`tally`) if they have none yet."""
    support_user_id = domain.support_user_id_of(principal.user_id)
    found = tally.new.get(support_user_id) or store.get_support_user(support_user_id)
    if found is None:
        name = principal.full_name or principal.username
        found = SupportUser(id=support_user_id, name=name, user_id=principal.user_id)
        tally.new[support_user_id] = found
    return found


# --- issues: reads -------------------------------------------------------------------------------
def get_visible(principal: Principal, issue_id: str) -> Issue:
    issue = store.get_issue(issue_id)
    if issue is None or not rights(principal).sees(issue):
        raise NotFound(domain.ISSUE)
    return issue


@dataclass(frozen=True)
class IssueFilters:
    """Waldur's IssueFilter: `summary`, `query`, the names (contains, any case), the others exact."""

    summary: str | None = None
    query: str | None = None
    key: str | None = None
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    customer_id: str | None = None
    project_id: str | None = None
    resource_id: str | None = None
    caller_id: str | None = None
    caller_full_name: str | None = None
    reporter_id: str | None = None
    reporter_name: str | None = None
    assignee_id: str | None = None
    assignee_name: str | None = None
    remote_id: str | None = None
    is_open: bool | None = None

    def keep(self, issue: Issue) -> bool:
        def contains(wanted: str | None, value: str | None) -> bool:
            return wanted is None or wanted.lower() in (value or "").lower()

        exact = (
            (self.key, issue.key),
            (self.customer_id, issue.customer_id),
            (self.project_id, issue.project_id),
            (self.resource_id, issue.resource_id),
            (self.caller_id, issue.caller_id),
            (self.reporter_id, issue.reporter_id),
            (self.assignee_id, issue.assignee_id),
        )
        return (
            all(wanted is None or wanted == value for wanted, value in exact)
            and (not self.types or issue.type in self.types)
            and (not self.statuses or issue.status in self.statuses)
            and contains(self.summary, issue.summary)
            and (self.query is None or contains(self.query, issue.summary) or contains(self.query, issue.key))
            and contains(self.caller_full_name, issue.caller_full_name)
            and contains(self.reporter_name, issue.reporter_name)
            and contains(self.assignee_name, issue.assignee_name)
            and contains(self.remote_id, issue.remote_id)
            and (self.is_open is None or (issue.resolved is None) == self.is_open)
        )

    @property
    def filtered(self) -> bool:
        return any(v not in (None, ()) for v in vars(self).values())


def _text(value: str | None) -> str:
    return (value or "").lower()


ISSUE_SORT: dict[str, Callable[[Issue], Any]] = {
    "created": lambda i: i.id,
    "modified": lambda i: i.modified,
    "type": lambda i: i.type,
    "status": lambda i: i.status,
    "priority": lambda i: i.priority,
    "summary": lambda i: i.summary.lower(),
    "customer_name": lambda i: _text(i.customer_name),
    "project_name": lambda i: _text(i.project_name),
    "caller_first_name": lambda i: _text(i.caller_full_name),
    "caller_last_name": lambda i: _text((i.caller_full_name or "").rsplit(" ", 1)[-1]),
    "reporter_name": lambda i: _text(i.reporter_name),
    "assignee_name": lambda i: _text(i.assignee_name),
    "remote_id": lambda i: _text(i.remote_id),
    "key": lambda i: domain.key_number(i.key),
}


def list_issues(
    principal: Principal, filters: IssueFilters, ordering: Ordering, request: PageRequest
) -> Page[Issue]:
    """Newest first (Waldur's default), or by `o=`. The desk's unfiltered list reads one page of
    the issues' index; other lists read the caller's issues and their owned customers' partitions
    (or one customer's) and filter them in memory, bounded by `filter_read_limit`."""
    who = rights(principal)
    default = ordering.field is None or (ordering.field == "created")
    descending = ordering.descending if ordering.field else True
    if who.desk and not filters.filtered and default:
        return store.issue_page(request, descending=descending)
    found = [i for i in _candidates(who, filters) if filters.keep(i) and who.sees(i)]
    sort = ISSUE_SORT.get(ordering.field or "created", ISSUE_SORT["created"])
    found.sort(key=lambda i: (sort(i), i.id), reverse=descending)
    return paginate(found, request)


def _candidates(who: Rights, filters: IssueFilters) -> list[Issue]:
    if filters.customer_id is not None and (who.desk or filters.customer_id in who.owned_customers):
        return store.issues_of_customer(filters.customer_id)
    if who.desk:
        if filters.caller_id is not None:
            return store.issues_of_user(filters.caller_id)
        return store.all_issues()
    found = {i.id: i for i in store.issues_of_user(who.user_id)}
    for customer_id in sorted(who.owned_customers):
        if filters.customer_id is None or filters.customer_id == customer_id:
            found.update((i.id, i) for i in store.issues_of_customer(customer_id))
    return list(found.values())


# --- issues: changes -----------------------------------------------------------------------------
@dataclass(frozen=True)
class IssueRequest:
    """A create's or an update's fields (None: not given; `caller` and `assignee` may be given as
    None, hence their own marker; references as hyperlinks or uuids)."""

    type: str | None = None
    summary: str | None = None
    description: str | None = None
    remote_id: Any = _UNSET
    priority: str | None = None
    caller: Any = _UNSET
    assignee: Any = _UNSET
    customer: Any = _UNSET
    project: Any = _UNSET
    resource: str | None = None
    is_reported_manually: bool = False


def _reference(value: Any) -> str | None:
    """The id a given reference names (None: given as null or blank)."""
    if value is None or value == "":
        return None
    return id_from_url(str(value))


def _invalid(field: str) -> ValidationError:
    return ValidationError.field(field, INVALID_HYPERLINK)


def _caller(who: Rights, request: IssueRequest) -> tuple[str, str]:
    """(id, full name) of the issue's caller: the requester unless the desk names somebody else."""
    wanted = None if request.is_reported_manually else _reference(request.caller)
    if request.caller is not _UNSET and request.caller not in (None, "") and wanted is None:
        raise _invalid("caller")
    if wanted is None or wanted == who.user_id:
        return who.user_id, who.principal.full_name
    if not who.desk:
        raise ValidationError.field("caller", domain.CALLER_STAFF_ONLY)
    found = users.get(wanted)
    if found is None:
        raise _invalid("caller")
    return found.id, found.full_name


def _assignee(who: Rights, value: Any, manual: bool = False) -> SupportUser | None:
    wanted = _reference(value) if value is not _UNSET else None
    if value is _UNSET or value in (None, ""):
        return None
    if manual:
        raise ValidationError.field("assignee", domain.ASSIGNEE_MANUAL)
    if not who.desk:
        raise ValidationError.field("assignee", domain.ASSIGNEE_STAFF_ONLY)
    found = store.get_support_user(wanted) if wanted else None
    if found is None:
        raise _invalid("assignee")
    return found


@dataclass(frozen=True)
class _Scope:
    customer_id: str | None = None
    customer_name: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    resource_id: str | None = None
    resource_name: str = ""


def _project_scope(who: Rights, project_id: str, field: str) -> _Scope:
    project = projects.get(project_id)
    if project is None or not (
        who.desk or access.access(who.principal).sees_project(project.id, project.customer_id)
    ):
        raise _invalid(field)
    allowed = who.desk or project.customer_id in who.owned_customers or project.id in who.member_projects
    if not allowed:
        raise ValidationError.field(field, domain.NOT_IN_PROJECT)
    return _Scope(project.customer_id, project.customer_name, project.id, project.name)


def _scope(who: Rights, request: IssueRequest) -> _Scope:
    """The issue's customer, project and resource: the narrowest given fixes the others (Waldur's
    create), each checked as Waldur's validate_customer / validate_project / validate_resource."""
    if request.resource not in (None, ""):
        resource_id = _reference(request.resource)  # None: no id of ours in what was given
        resource = resources.get(resource_id) if resource_id else None
        if resource is None:
            raise _invalid("resource")
        scope = _project_scope(who, resource.project_id, "resource")
        return replace(scope, resource_id=resource.id, resource_name=resource.name)
    if request.project is not _UNSET and request.project not in (None, ""):
        project_id = _reference(request.project)
        if project_id is None:
            raise _invalid("project")
        return _project_scope(who, project_id, "project")
    if request.customer is not _UNSET and request.customer not in (None, ""):
        customer_id = _reference(request.customer)
        customer = customers.get(customer_id) if customer_id else None
        if customer is None or not (who.desk or access.access(who.principal).sees_customer(customer.id)):
            raise _invalid("customer")
        if not (who.desk or customer.id in who.owned_customers):
            raise ValidationError.field("customer", domain.NOT_OWNER)
        return _Scope(customer.id, customer.name)
    return _Scope()


def _check_priority(who: Rights, priority: str | None) -> None:
    """Waldur's validate_priority: the desk's only, and the name of a priority (support-priorities/)."""
    if not priority:
        return
    if not who.desk:
        raise ValidationError.field("priority", domain.PRIORITY_STAFF_ONLY)
    if not support_catalog.list_priorities(name_exact=priority):
        raise ValidationError.field("priority", domain.PRIORITY_UNKNOWN)


def create_issue(ctx: EventContext, request: IssueRequest) -> Issue:
    """Open an issue (Waldur's required: type, summary); the requester's support user reports it."""
    who = rights(ctx.actor)
    if request.summary is None:
        raise ValidationError({"summary": [REQUIRED]})
    issue_type = domain.check_type(request.type or domain.DEFAULT_TYPE)
    _check_priority(who, request.priority)
    caller_id, caller_name = _caller(who, request)
    assignee = _assignee(who, request.assignee, request.is_reported_manually)
    scope = _scope(who, request)
    tally = _Tally()
    reporter = own_support_user(ctx.actor, tally)
    now = utcnow()
    issue = Issue(
        id=new_id(),
        key=domain.issue_key(store.next_issue_number()),
        type=issue_type,
        summary=request.summary,
        description=request.description or "",
        created=now,
        modified=now,
        priority=request.priority or "",
        remote_id=None if request.remote_id is _UNSET else request.remote_id,
        caller_id=caller_id,
        caller_full_name=caller_name,
        reporter_id=reporter.id,
        reporter_name=reporter.name,
        reporter_user_id=reporter.user_id,
        assignee_id=assignee.id if assignee else None,
        assignee_name=assignee.name if assignee else None,
        **vars(scope),
    )
    tally.move(reporter.id, "reported_issues_count", 1)
    tally.move(issue.assignee_id, "assigned_issues_count", 1)
    uow = unit_of_work()
    tally.stage(uow)
    made = store.add_issue(uow, issue)
    uow.record(domain.issue_event(made, domain.ISSUE_CREATED, ctx))
    uow.commit()
    return made


def _for_desk(principal: Principal, issue_id: str) -> Issue:
    """The issue for a change only the desk makes: 404 if unseen, 403 if seen but not the desk's."""
    issue = get_visible(principal, issue_id)
    _require_desk(principal)
    return issue


def update_issue(ctx: EventContext, issue_id: str, request: IssueRequest) -> Issue:
    """PUT/PATCH by the desk: summary, description and assignee change; Waldur's protected fields
    (customer, project, resource, type, caller, priority, remote_id) are ignored, as DRF ignores them."""
    current = _for_desk(ctx.actor, issue_id)
    after = current
    if request.summary is not None:
        after = replace(after, summary=request.summary)
    if request.description is not None:
        after = replace(after, description=request.description)
    tally = _Tally()
    if request.assignee is not _UNSET:
        assignee = _assignee(rights(ctx.actor), request.assignee)
        new_id_ = assignee.id if assignee else None
        if new_id_ != current.assignee_id:
            tally.move(current.assignee_id, "assigned_issues_count", -1)
            tally.move(new_id_, "assigned_issues_count", 1)
        after = replace(after, assignee_id=new_id_, assignee_name=assignee.name if assignee else None)
    return _save(ctx, current, replace(after, modified=utcnow()), tally)


def _save(ctx: EventContext, current: Issue, after: Issue, tally: _Tally | None = None) -> Issue:
    uow = unit_of_work()
    if tally is not None:
        tally.stage(uow)
    saved = store.save_issue(uow, current, after)
    uow.record(domain.issue_event(saved, domain.ISSUE_UPDATED, ctx, previous_status=current.status))
    uow.commit()
    return saved


def set_status(ctx: EventContext, issue_id: str, status: str) -> Issue:
    """The desk moves the issue to one of the built-in desk's statuses."""
    current = _for_desk(ctx.actor, issue_id)
    return _save(ctx, current, domain.with_status(current, status, utcnow()))


# A transaction holds at most 100 writes: the issue's own deletion takes its last comments with it,
# and any before those go first, a few per transaction, each with its own event.
COMMENTS_WITH_ISSUE = 30
COMMENTS_PER_UNIT = 8


def delete_issue(ctx: EventContext, issue_id: str) -> None:
    """The desk deletes the issue and its comments (Waldur's cascade)."""
    current = _for_desk(ctx.actor, issue_id)
    comments = store.comments_of(current)
    earlier, last = comments[:-COMMENTS_WITH_ISSUE], comments[-COMMENTS_WITH_ISSUE:]
    for start in range(0, len(earlier), COMMENTS_PER_UNIT):
        _delete_comments(ctx, current, earlier[start : start + COMMENTS_PER_UNIT])
    tally = _Tally()
    tally.move(current.reporter_id, "reported_issues_count", -1)
    tally.move(current.assignee_id, "assigned_issues_count", -1)
    for comment in last:
        tally.move(comment.author_id, "comments_count", -1)
    uow = unit_of_work()
    _stage_existing(uow, tally)
    store.remove_issue(uow, current, last)
    uow.record(domain.issue_event(current, domain.ISSUE_DELETED, ctx))
    uow.commit()


def _delete_comments(ctx: EventContext, issue: Issue, comments: list[Comment]) -> None:
    tally = _Tally()
    uow = unit_of_work()
    for comment in comments:
        tally.move(comment.author_id, "comments_count", -1)
        store.remove_comment(uow, comment)
        uow.record(domain.comment_event(comment, issue, domain.COMMENT_DELETED, ctx))
    _stage_existing(uow, tally)
    uow.commit()


def _stage_existing(uow: UnitOfWork, tally: _Tally) -> None:
    """Move the counts of the support users that are still there (one deleted since is skipped)."""
    present = store.get_support_users(tally.deltas)
    tally.deltas = {k: v for k, v in tally.deltas.items() if k in present}
    tally.stage(uow)


# --- comments ------------------------------------------------------------------------------------
def add_comment(
    ctx: EventContext, issue_id: str, description: str, is_public: bool = True, remote_id: str | None = None
) -> Comment:
    """`comment/` on an issue (Waldur's _comment_permission); the writer's support user is its author.
    The desk's first public answer to somebody else's issue is its first response."""
    who = rights(ctx.actor)
    issue = get_visible(ctx.actor, issue_id)
    if not who.may_comment(issue):
        raise PermissionDenied()
    tally = _Tally()
    author = own_support_user(ctx.actor, tally)
    now = utcnow()
    comment = Comment(
        id=new_id(),
        issue_id=issue.id,
        issue_key=issue.key,
        customer_id=issue.customer_id,
        description=description,
        author_id=author.id,
        author_name=author.name,
        author_user_id=author.user_id,
        created=now,
        modified=now,
        is_public=is_public,
        remote_id=remote_id,
    )
    tally.move(author.id, "comments_count", 1)
    uow = unit_of_work()
    tally.stage(uow)
    made = store.add_comment(uow, comment)
    if who.desk and is_public and issue.first_response_at is None and issue.caller_id != who.user_id:
        store.save_issue(uow, issue, replace(issue, first_response_at=now))  # bookkeeping: no event
    uow.record(domain.comment_event(made, issue, domain.COMMENT_CREATED, ctx))
    uow.commit()
    return made


def get_visible_comment(principal: Principal, comment_id: str) -> Comment:
    comment = store.get_comment(comment_id)
    if comment is None:
        raise NotFound(domain.COMMENT)
    issue = store.get_issue(comment.issue_id)
    who = rights(principal)
    if issue is None or not who.sees(issue):
        raise NotFound(domain.COMMENT)
    if not domain.sees_comment(comment, who.user_id, reads_everything=who.desk):
        raise NotFound(domain.COMMENT)
    return comment


@dataclass(frozen=True)
class CommentFilters:
    """Waldur's CommentFilter."""

    issue_id: str | None = None
    description: str | None = None
    author_name: str | None = None
    author_user_id: str | None = None
    is_public: bool | None = None
    remote_id_is_set: bool | None = None
    resource_id: str | None = None

    def keep(self, comment: Comment) -> bool:
        return (
            (self.issue_id is None or comment.issue_id == self.issue_id)
            and (self.description is None or self.description.lower() in comment.description.lower())
            and (self.author_name is None or self.author_name.lower() in comment.author_name.lower())
            and (self.author_user_id is None or comment.author_user_id == self.author_user_id)
            and (self.is_public is None or comment.is_public is self.is_public)
            and (self.remote_id_is_set is None or bool(comment.remote_id) is self.remote_id_is_set)
        )

    @property
    def filtered(self) -> bool:
        return any(v is not None for v in vars(self).values())


COMMENT_SORT: dict[str, Callable[[Comment], Any]] = {
    "created": lambda c: c.id,
    "modified": lambda c: c.modified,
}


def list_comments(
    principal: Principal, filters: CommentFilters, ordering: Ordering, request: PageRequest
) -> Page[Comment]:
    """Newest first (Waldur's default). The desk's unfiltered list reads one page of the comments'
    index; an issue's comments are one Query; anybody else's are those of the issues they see."""
    who = rights(principal)
    descending = ordering.descending if ordering.field else True
    if who.desk and not filters.filtered and ordering.field in (None, "created"):
        return store.comment_page(request, descending=descending)
    found = [
        c
        for c in _comment_candidates(who, filters)
        if filters.keep(c) and domain.sees_comment(c, who.user_id, reads_everything=who.desk)
    ]
    sort = COMMENT_SORT.get(ordering.field or "created", COMMENT_SORT["created"])
    found.sort(key=lambda c: (sort(c), c.id), reverse=descending)
    return paginate(found, request)


def _comment_candidates(who: Rights, filters: CommentFilters) -> list[Comment]:
    if filters.issue_id is not None:
        issue = store.get_issue(filters.issue_id)
        return store.comments_of(issue) if issue is not None and who.sees(issue) else []
    if who.desk and filters.resource_id is None:
        return store.all_comments()
    issues = _candidates(who, IssueFilters(resource_id=filters.resource_id))
    return [
        c
        for i in issues
        if who.sees(i) and (filters.resource_id in (None, i.resource_id))
        for c in store.comments_of(i)
    ]


def update_comment(
    ctx: EventContext, comment_id: str, description: str | None = None, is_public: bool | None = None
) -> Comment:
    """Staff change a comment (Waldur's CommentViewSet: is_staff)."""
    current = get_visible_comment(ctx.actor, comment_id)
    _require_staff(ctx.actor)
    issue = store.get_issue(current.issue_id)
    if issue is None:
        raise NotFound(domain.COMMENT)
    after = current
    if description is not None:
        after = replace(after, description=description)
    if is_public is not None:
        after = replace(after, is_public=is_public)
    uow = unit_of_work()
    saved = store.save_comment(uow, current, replace(after, modified=utcnow()))
    uow.record(domain.comment_event(saved, issue, domain.COMMENT_UPDATED, ctx))
    uow.commit()
    return saved


def delete_comment(ctx: EventContext, comment_id: str) -> None:
    """Staff delete a comment (Waldur's CommentViewSet: is_staff)."""
    current = get_visible_comment(ctx.actor, comment_id)
    _require_staff(ctx.actor)
    issue = store.get_issue(current.issue_id)
    if issue is None:
        raise NotFound(domain.COMMENT)
    tally = _Tally()
    tally.move(current.author_id, "comments_count", -1)
    uow = unit_of_work()
    _stage_existing(uow, tally)
    store.remove_comment(uow, current)
    uow.record(domain.comment_event(current, issue, domain.COMMENT_DELETED, ctx))
    uow.commit()


# --- support users -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SupportUserFilters:
    """Waldur's SupportUserFilter (name contains; the others exact)."""

    name: str | None = None
    user_id: str | None = None
    backend_id: str | None = None
    backend_name: str | None = None
    is_active: bool | None = None

    def keep(self, user: SupportUser) -> bool:
        return (
            (self.name is None or self.name.lower() in user.name.lower())
            and (self.user_id is None or user.user_id == self.user_id)
            and (self.backend_id is None or user.backend_id == self.backend_id)
            and (self.backend_name is None or user.backend_name == self.backend_name)
            and (self.is_active is None or user.is_active is self.is_active)
        )


SUPPORT_USER_SORT: dict[str, Callable[[SupportUser], Any]] = {
    "name": lambda u: u.name.lower(),
    "backend_id": lambda u: u.backend_id or "",
    "backend_name": lambda u: u.backend_name or "",
    "is_active": lambda u: u.is_active,
}


def list_support_users(
    principal: Principal, filters: SupportUserFilters, ordering: Ordering, request: PageRequest
) -> Page[SupportUser]:
    """The desk's list, by name (Waldur's ordering)."""
    _require_desk(principal)
    found = [u for u in store.all_support_users() if filters.keep(u)]
    sort = SUPPORT_USER_SORT.get(ordering.field or "name", SUPPORT_USER_SORT["name"])
    found.sort(key=lambda u: (sort(u), u.id), reverse=ordering.descending)
    return paginate(found, request)


def get_support_user(principal: Principal, support_user_id: str) -> SupportUser:
    """The desk reads one; anybody else gets a 403 (Waldur's IsStaffOrSupportUser), an unknown id a 404."""
    _require_desk(principal)
    found = store.get_support_user(support_user_id)
    if found is None:
        raise NotFound(domain.SUPPORT_USER)
    return found


@dataclass(frozen=True)
class SupportUserRequest:
    name: str | None = None
    backend_id: Any = _UNSET
    backend_name: Any = _UNSET
    is_active: bool | None = None
    user: Any = _UNSET


def _linked_user(value: Any) -> str | None:
    if value in (None, ""):
        return None
    wanted = _reference(value)
    if wanted is None or users.get(wanted) is None:
        raise _invalid("user")
    return wanted


def _apply_support_user(user: SupportUser, request: SupportUserRequest) -> SupportUser:
    changed = user
    if request.name is not None:
        changed = replace(changed, name=request.name)
    if request.backend_id is not _UNSET:
        changed = replace(changed, backend_id=request.backend_id)
    if request.backend_name is not _UNSET:
        changed = replace(changed, backend_name=request.backend_name)
    if request.is_active is not None:
        changed = replace(changed, is_active=request.is_active)
    if request.user is not _UNSET:
        changed = replace(changed, user_id=_linked_user(request.user))
    return changed


def create_support_user(ctx: EventContext, request: SupportUserRequest) -> SupportUser:
    """Staff add a desk account (Waldur's required: name). No audit event: Waldur logs none."""
    _require_staff(ctx.actor)
    if request.name is None:
        raise ValidationError({"name": [REQUIRED]})
    made = _apply_support_user(SupportUser(id=new_id(), name=request.name), request)
    uow = unit_of_work()
    made = store.add_support_user(uow, made)
    uow.commit()
    return made


def update_support_user(ctx: EventContext, support_user_id: str, request: SupportUserRequest) -> SupportUser:
    current = get_support_user(ctx.actor, support_user_id)
    _require_staff(ctx.actor)
    uow = unit_of_work()
    saved = store.save_support_user(uow, current, _apply_support_user(current, request))
    uow.commit()
    return saved


def delete_support_user(ctx: EventContext, support_user_id: str) -> None:
    """Staff delete a desk account. Issues and comments keep its name (their links to it dangle)."""
    current = get_support_user(ctx.actor, support_user_id)
    _require_staff(ctx.actor)
    uow = unit_of_work()
    store.remove_support_user(uow, current)
    uow.commit()
