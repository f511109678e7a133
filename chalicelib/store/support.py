"""The support desk's issues, comments and users in the single table.

- Issue: `CUST#<c>` / `ISSUE#<id>` (its customer's partition; `SUPPORT` for one without a
  customer), gsi1 `ISSUES` / `<id>` (by id; the desk's list, newest first, totalled by the
  `support_issues` counter), gsi2 `ISSUEUSER#<caller>` / `<id>` (its caller's issues).
- Reporter pointer: `<issue pk>` / `ISSUE#<id>#REPORTER`, gsi2 `ISSUEUSER#<reporter's user>` /
  `<id>`, when the reporter is somebody else than the caller, so their list finds it too.
- Comment: `<issue pk>` / `ISSUECOMMENT#<issue>#<id>` (an issue's comments: one Query of a
  prefix, oldest first), gsi1 `ISSUECOMMENTS` / `<id>`.
- SupportUser: `SUPPORTUSER#<id>` / `#META`, gsi1 `SUPPORTUSERS` / `<id>`.
- `COUNTER#ISSUENUMBER` numbers the issues (their keys `SUP-<n>`), one UpdateItem.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.errors import Conflict
from chalicelib.domain.support import COUNTS, Comment, Issue, SupportUser
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.codec import Codec
from chalicelib.store.items import (
    BaseItem,
    CounterItem,
    IssueCommentItem,
    IssueItem,
    IssueReporterItem,
    SupportUserItem,
)
from chalicelib.store.pages import Listing, everything
from chalicelib.store.unit_of_work import LOST_RACE, transaction

ISSUES_NARROW = ("issues", "customer_uuid=, caller= or project_uuid=")
COMMENTS_NARROW = ("comments", "issue_uuid=")
USERS_NARROW = ("support users", "user=")

_ISSUE = Codec(Issue, keyed=frozenset({"id", "customer_id", "created", "version"}))
_COMMENT = Codec(Comment, keyed=frozenset({"id", "issue_id", "customer_id", "created", "version"}))
_USER = Codec(SupportUser, keyed=frozenset({"id", "version", *COUNTS}))


# --- issues --------------------------------------------------------------------------------------
def _issue(item: IssueItem) -> Issue:
    return _ISSUE.from_doc(
        item.fields or {},
        id=item.issue_id,
        customer_id=item.customer_id,
        created=item.created,
        version=int(item.version),
    )


def _issue_item(issue: Issue) -> IssueItem:
    return IssueItem(
        pk=keys.issue_pk(issue.customer_id),
        sk=keys.issue_sk(issue.id),
        gsi1pk=keys.ISSUES,
        gsi1sk=issue.id,
        gsi2pk=keys.issues_of_user(issue.caller_id) if issue.caller_id else None,
        gsi2sk=issue.id if issue.caller_id else None,
        issue_id=issue.id,
        customer_id=issue.customer_id,
        created=issue.created,
        fields=_ISSUE.to_doc(issue),
        version=issue.version,
    )


def _reporter_item(issue: Issue) -> IssueReporterItem | None:
    user = issue.reporter_user_id
    if user is None or user == issue.caller_id:
        return None
    return IssueReporterItem(
        pk=keys.issue_pk(issue.customer_id),
        sk=keys.issue_reporter_sk(issue.id),
        gsi2pk=keys.issues_of_user(user),
        gsi2sk=issue.id,
        issue_id=issue.id,
    )


def _load_issue(pk: str, issue_id: str) -> Issue | None:
    try:
        item = IssueItem.get(pk, keys.issue_sk(issue_id), consistent_read=True)
    except DoesNotExist:
        return None
    return _issue(item)


def get_issue(issue_id: str) -> Issue | None:
    """The issue as stored now: gsi1 names its partition, then a consistent read (two round trips)."""
    for found in BaseItem.gsi1.query(keys.ISSUES, BaseItem.gsi1sk == issue_id):
        if isinstance(found, IssueItem):
            return _load_issue(found.pk, issue_id)
    return None


def next_issue_number() -> int:
    """The next issue's number (1, 2, ...): one UpdateItem; a number taken by a failed creation is
    not given again (keys may skip, as Jira's do)."""
    response = BaseItem._get_connection().update_item(
        keys.counter_pk(keys.ISSUE_NUMBER),
        keys.META,
        actions=[CounterItem.value.add(1), CounterItem.type.set(CounterItem)],
        return_values="UPDATED_NEW",
    )
    return int(response["Attributes"]["value"]["N"])


def add_issue(uow: Work, issue: Issue) -> Issue:
    made = replace(issue, version=1)
    taken = Conflict(LOST_RACE)
    transaction(uow).put(_issue_item(made), condition=IssueItem.pk.does_not_exist(), on_conflict=taken)
    pointer = _reporter_item(made)
    if pointer is not None:
        transaction(uow).put(pointer)
    return made


def save_issue(uow: Work, before: Issue, after: Issue) -> Issue:
    """Write `after` if nobody changed `before` meanwhile (its partition and people are fixed)."""
    made = replace(after, version=before.version + 1)
    unchanged = IssueItem.version == before.version
    transaction(uow).put(_issue_item(made), condition=unchanged, on_conflict=Conflict(LOST_RACE))
    return made


def remove_issue(uow: Work, issue: Issue, comments: Iterable[Comment]) -> None:
    """Delete the issue, its reporter pointer and its comments (Waldur's cascade) in one unit."""
    condition = IssueItem.version == issue.version
    transaction(uow).delete(_issue_item(issue), condition=condition, on_conflict=Conflict(LOST_RACE))
    pointer = _reporter_item(issue)
    if pointer is not None:
        transaction(uow).delete(pointer)
    for comment in comments:
        transaction(uow).delete(_comment_item(comment, issue.customer_id))


def _issues_listing(partition: str, index: str | None, prefix: str | None) -> Listing:
    return Listing(
        partition=partition,
        prefix=prefix,
        index=index,
        item_type=BaseItem,
        what=ISSUES_NARROW[0],
        narrow_with=ISSUES_NARROW[1],
    )


def _resolve(items: Iterable[BaseItem]) -> list[Issue]:
    """Issues from issue items and reporter pointers (a pointer costs one consistent read)."""
    found: dict[str, Issue] = {}
    for item in items:
        if isinstance(item, IssueItem):
            found[item.issue_id] = _issue(item)
        elif isinstance(item, IssueReporterItem) and item.issue_id not in found:
            issue = _load_issue(item.pk, item.issue_id)
            if issue is not None:
                found[issue.id] = issue
    return [found[k] for k in sorted(found)]


def issues_of_customer(customer_id: str) -> list[Issue]:
    """A customer's issues, oldest first: one Query of its partition's prefix (bounded)."""
    listing = _issues_listing(keys.customer_pk(customer_id), None, keys.ISSUE_PREFIX)
    return _resolve(i for i in pages.read_filtered([listing]) if isinstance(i, IssueItem))


def issues_of_user(user_id: str) -> list[Issue]:
    """The issues a user is the caller or the reporter of, oldest first (one gsi2 Query, bounded)."""
    return _resolve(pages.read_filtered([_issues_listing(keys.issues_of_user(user_id), "gsi2", None)]))


def all_issues() -> list[Issue]:
    """Every issue, oldest first (the desk's filtered list): bounded by `filter_read_limit`."""
    listing = everything(keys.ISSUES, IssueItem, counters.SUPPORT_ISSUES, narrow=ISSUES_NARROW)
    return [_issue(i) for i in pages.read_filtered([listing])][::-1]


def issue_page(request: PageRequest, *, descending: bool = True) -> Page[Issue]:
    """Page `request` of every issue, newest first (the desk's unfiltered list): one Query."""
    listing = everything(
        keys.ISSUES, IssueItem, counters.SUPPORT_ISSUES, descending=descending, narrow=ISSUES_NARROW
    )
    return pages.rows_page(listing, _issue, request.page, request.page_size)


# --- comments ------------------------------------------------------------------------------------
def _comment(item: IssueCommentItem) -> Comment:
    return _COMMENT.from_doc(
        item.fields or {},
        id=item.comment_id,
        issue_id=item.issue_id,
        customer_id=item.customer_id,
        created=item.created,
        version=int(item.version),
    )


def _comment_item(comment: Comment, customer_id: str | None) -> IssueCommentItem:
    return IssueCommentItem(
        pk=keys.issue_pk(customer_id),
        sk=keys.issue_comment_sk(comment.issue_id, comment.id),
        gsi1pk=keys.ISSUE_COMMENTS,
        gsi1sk=comment.id,
        comment_id=comment.id,
        issue_id=comment.issue_id,
        customer_id=customer_id,
        created=comment.created,
        fields=_COMMENT.to_doc(comment),
        version=comment.version,
    )


def get_comment(comment_id: str) -> Comment | None:
    """The comment as stored now (gsi1, then a consistent read)."""
    for found in BaseItem.gsi1.query(keys.ISSUE_COMMENTS, BaseItem.gsi1sk == comment_id):
        if isinstance(found, IssueCommentItem):
            try:
                return _comment(IssueCommentItem.get(found.pk, found.sk, consistent_read=True))
            except DoesNotExist:
                return None
    return None


def comments_of(issue: Issue) -> list[Comment]:
    """An issue's comments, oldest first: one Query of its prefix (read consistently)."""
    found = BaseItem.query(
        keys.issue_pk(issue.customer_id),
        BaseItem.sk.startswith(keys.issue_comment_prefix(issue.id)),
        consistent_read=True,
    )
    return [_comment(i) for i in found if isinstance(i, IssueCommentItem)]


def add_comment(uow: Work, comment: Comment) -> Comment:
    made = replace(comment, version=1)
    item = _comment_item(made, comment.customer_id)
    transaction(uow).put(
        item, condition=IssueCommentItem.pk.does_not_exist(), on_conflict=Conflict(LOST_RACE)
    )
    return made


def save_comment(uow: Work, before: Comment, after: Comment) -> Comment:
    made = replace(after, version=before.version + 1)
    condition = IssueCommentItem.version == before.version
    transaction(uow).put(
        _comment_item(made, made.customer_id), condition=condition, on_conflict=Conflict(LOST_RACE)
    )
    return made


def remove_comment(uow: Work, comment: Comment) -> None:
    condition = IssueCommentItem.version == comment.version
    item = _comment_item(comment, comment.customer_id)
    transaction(uow).delete(item, condition=condition, on_conflict=Conflict(LOST_RACE))


def all_comments() -> list[Comment]:
    """Every comment, oldest first (the desk's filtered list): bounded by `filter_read_limit`."""
    listing = everything(
        keys.ISSUE_COMMENTS,
        IssueCommentItem,
        counters.SUPPORT_COMMENTS,
        descending=False,
        narrow=COMMENTS_NARROW,
    )
    return [_comment(i) for i in pages.read_filtered([listing])]


def comment_page(request: PageRequest, *, descending: bool = True) -> Page[Comment]:
    """Page `request` of every comment, newest first (the desk's unfiltered list): one Query."""
    listing = everything(
        keys.ISSUE_COMMENTS,
        IssueCommentItem,
        counters.SUPPORT_COMMENTS,
        descending=descending,
        narrow=COMMENTS_NARROW,
    )
    return pages.rows_page(listing, _comment, request.page, request.page_size)


# --- support users -------------------------------------------------------------------------------
def _user(item: SupportUserItem) -> SupportUser:
    counts = {name: int(getattr(item, name) or 0) for name in COUNTS}
    return _USER.from_doc(item.fields or {}, id=item.support_user_id, version=int(item.version), **counts)


def _user_item(user: SupportUser) -> SupportUserItem:
    return SupportUserItem(
        pk=keys.support_user_pk(user.id),
        sk=keys.META,
        gsi1pk=keys.SUPPORT_USERS,
        gsi1sk=user.id,
        support_user_id=user.id,
        fields=_USER.to_doc(user),
        version=user.version,
        reported_issues_count=user.reported_issues_count,
        assigned_issues_count=user.assigned_issues_count,
        comments_count=user.comments_count,
    )


def get_support_user(support_user_id: str) -> SupportUser | None:
    """One GetItem, consistent."""
    try:
        item = SupportUserItem.get(keys.support_user_pk(support_user_id), keys.META, consistent_read=True)
    except DoesNotExist:
        return None
    return _user(item)


def get_support_users(ids: Iterable[str]) -> dict[str, SupportUser]:
    """Several by id (one BatchGetItem)."""
    wanted = [(keys.support_user_pk(i), keys.META) for i in dict.fromkeys(ids)]
    if not wanted:
        return {}
    return {u.id: u for u in map(_user, SupportUserItem.batch_get(wanted)) if isinstance(u, SupportUser)}


def add_support_user(uow: Work, user: SupportUser) -> SupportUser:
    """Create it; an id taken (a race making the same user's account) is a Conflict."""
    made = replace(user, version=1)
    item = _user_item(made)
    transaction(uow).put(item, condition=SupportUserItem.pk.does_not_exist(), on_conflict=Conflict(LOST_RACE))
    return made


def count(uow: Work, support_user_id: str, deltas: dict[str, int]) -> None:
    """Move a support user's counts (one UpdateItem in the unit, which also moves its version, so a
    change read before it is refused), if the support user is still there."""
    moved = [getattr(SupportUserItem, name).add(delta) for name, delta in deltas.items() if delta]
    if not moved:
        return
    item = SupportUserItem(pk=keys.support_user_pk(support_user_id), sk=keys.META)
    actions = [*moved, SupportUserItem.version.add(1)]
    transaction(uow).update(
        item, actions, condition=SupportUserItem.pk.exists(), on_conflict=Conflict(LOST_RACE)
    )


def save_support_user(uow: Work, before: SupportUser, after: SupportUser) -> SupportUser:
    made = replace(after, version=before.version + 1)
    condition = SupportUserItem.version == before.version
    transaction(uow).put(_user_item(made), condition=condition, on_conflict=Conflict(LOST_RACE))
    return made


def remove_support_user(uow: Work, user: SupportUser) -> None:
    condition = SupportUserItem.version == user.version
    transaction(uow).delete(_user_item(user), condition=condition, on_conflict=Conflict(LOST_RACE))


def all_support_users() -> list[SupportUser]:
    """Every support user (bounded by `filter_read_limit`), in creation order."""
    listing = everything(
        keys.SUPPORT_USERS, SupportUserItem, counters.SUPPORT_USERS, descending=False, narrow=USERS_NARROW
    )
    return [_user(i) for i in pages.read_filtered([listing])]
