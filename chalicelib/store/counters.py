"""Counters that give list totals without counting items (X-Result-Count in one GetItem).

Platform-wide totals (every customer, project, user, order, resource, offering, usage, invitation,
web/email hook, and the holders of each system role) are derived from the table's stream, not
moved in the request's transaction. A counter moved in every tenant's create transaction is one
item that unrelated tenants write at the same moment: DynamoDB cancels one of two transactions
holding the same item (TransactionConflict; the unit of work retries a few times, then answers
409), and one item's write rate caps the whole platform's. The stream consumer (`tally`, run by
`workflows/publisher.py` on AWS and `local/stream.py` locally) instead adds +1 per INSERT and -1
per REMOVE of a counted item (`counted_in`), so no request transaction writes a shared item.

Why not shards (N counter items, one chosen by a hash of the tenant): with more tenants than
shards two tenants share one (and with 50 tenants over 64 shards almost surely already: the
birthday bound gives 1 - e^(-50*49/128)), so they still contend, only less often, and a read takes
a BatchGetItem. The stream gives 0 shared items, at the price of totals that lag.

Redelivery: the stream delivers a record at least once (a failed batch is retried from its first
failed record, and the records after it are sent again). Each record moves its counter in a small
transaction with a marker item named by the record's `eventID` (`TALLY#<eventID>`, put only if
absent, expiring after `MARKER_DAYS`, longer than the stream keeps records): a record seen
again changes nothing.

Lag: a total counts a change once the stream consumer has read it, typically within a second on
AWS (the event source mapping polls each shard about four times a second; the publisher's iterator
age alarm fires beyond 5 minutes) and within the stream reader's interval (0.5 s) locally; a
record that keeps failing is retried for up to `MAX_RETRY_ATTEMPTS` batches before it is
dead-lettered, and its change is then never counted (the dead-letter alarm names it).

Readers: a list totalled by such a counter never trusts it to end a page early
(`pages.platform_total`). Writers: the consumers of the stream's shards run side by side and may
still contend on one counter among themselves; a cancelled tally is retried (by the unit of work,
then by the stream), which delays a total and never a request.

Custom roles keep a transactional holders counter (`add`): deleting a role is refused while its
counter is not zero, in the deleting transaction, and their grants already hold the role's item
(a ConditionCheck), so that counter adds no item shared with other tenants' grants of other roles.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import DomainError
from chalicelib.domain.hooks import HookKind
from chalicelib.domain.roles import SYSTEM_ROLES
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import keys
from chalicelib.store.items import (
    BaseItem,
    CounterItem,
    CustomerItem,
    EventItem,
    GrantItem,
    HookItem,
    InvitationItem,
    IssueAttachmentItem,
    IssueCommentItem,
    IssueFeedbackItem,
    IssueItem,
    OfferingItem,
    OrderItem,
    ProjectItem,
    ResourceItem,
    RobotAccountItem,
    SshKeyItem,
    SupportUserItem,
    TallyItem,
    UsageItem,
    UserItem,
    UserLimitItem,
    UserUsageItem,
)
from chalicelib.store.outbox import count_actions, shared_count_keys
from chalicelib.store.unit_of_work import UnitOfWork, transaction

CUSTOMERS = "customers"
PROJECTS = "projects"
USERS = "users"
ORDERS = "orders"  # every order ever made (orders are deleted only while pending)
RESOURCES = "resources"  # every resource ever made (none is deleted)
OFFERINGS = "offerings"
USAGES = "component_usages"
INVITATIONS = "invitations"  # every invitation ever made (none is deleted)
HOOKS = {HookKind.WEB: "webhooks", HookKind.EMAIL: "emailhooks"}
USER_USAGES = "component_user_usages"  # every per-user usage made (none is deleted)
USER_LIMITS = "component_user_usage_limits"  # live per-user usage limits (a deletion counts -1)
SSH_KEYS = "ssh_keys"
ROBOT_ACCOUNTS = "robot_accounts"  # live robot accounts (a deletion counts -1)
SUPPORT_ISSUES = "support_issues"  # live support issues (a deletion counts -1)
SUPPORT_COMMENTS = "support_comments"  # live comments on them
SUPPORT_USERS = "support_users"  # the support desk's users
SUPPORT_ATTACHMENTS = "support_attachments"  # live files attached to issues
SUPPORT_FEEDBACKS = "support_feedbacks"  # feedbacks on issues

# Longer than the stream keeps a record (24 hours): a record cannot come back once its marker is gone.
MARKER_DAYS = 2

_SYSTEM_ROLE_IDS = frozenset(role.id for role in SYSTEM_ROLES.values())


def role_users(role_id: str) -> str:
    """The counter of a role's holders (`users_count`)."""
    return f"role_users#{role_id}"


def counted_by_stream(role_id: str) -> bool:
    """A system role's holders are counted from the stream; a custom role's in the grant's own
    transaction (see the module's docstring)."""
    return role_id in _SYSTEM_ROLE_IDS


def _type(item: type[BaseItem]) -> str:
    return str(BaseItem.type.get_discriminator(item))


# Item type → its counter, for the kinds where every item of the type counts.
_EVERY_ITEM = {
    _type(CustomerItem): CUSTOMERS,
    _type(UserItem): USERS,
    _type(OrderItem): ORDERS,
    _type(ResourceItem): RESOURCES,
    _type(OfferingItem): OFFERINGS,
    _type(UsageItem): USAGES,
    _type(InvitationItem): INVITATIONS,
    _type(UserUsageItem): USER_USAGES,
    _type(UserLimitItem): USER_LIMITS,
    _type(SshKeyItem): SSH_KEYS,
    _type(RobotAccountItem): ROBOT_ACCOUNTS,
    _type(IssueItem): SUPPORT_ISSUES,
    _type(IssueCommentItem): SUPPORT_COMMENTS,
    _type(SupportUserItem): SUPPORT_USERS,
    _type(IssueAttachmentItem): SUPPORT_ATTACHMENTS,
    _type(IssueFeedbackItem): SUPPORT_FEEDBACKS,
}


# Every item type that may count in a total: the stream trigger's filter (infra) lets their INSERTs
# and REMOVEs through. An update never changes what an item counts in (its type, keys, role and kind
# are fixed), so no MODIFY needs reading.
COUNTED_TYPES = (*_EVERY_ITEM, _type(ProjectItem), _type(HookItem), _type(GrantItem))


def _key(name: str) -> CounterItem:
    return CounterItem(pk=keys.counter_pk(name), sk=keys.META)


def add(uow: Work, name: str, delta: int) -> None:
    """Move counter `name` by `delta` as part of `uow` (created at zero on first use). A request
    moves only counters no other tenant's request moves (a custom role's holders); the stream
    consumer moves the platform-wide ones."""
    transaction(uow).update(_key(name), [CounterItem.value.add(delta), CounterItem.type.set(CounterItem)])


def value(name: str) -> int:
    """The counter's value (0 if never moved). A platform-wide total lags the table by the stream
    consumer's delay (module docstring)."""
    try:
        return int(CounterItem.get(keys.counter_pk(name), keys.META).value)
    except CounterItem.DoesNotExist:
        return 0


# --- from the stream ------------------------------------------------------------------------------
def _s(image: Mapping[str, Any], name: str) -> str:
    """A string attribute of a stream image (DynamoDB attribute-value form)."""
    return str((image.get(name) or {}).get("S", ""))


def counted_in(image: Mapping[str, Any] | None) -> str | None:
    """The platform-wide counter an item (a stream image) counts in, if any."""
    if not image:
        return None
    kind = _s(image, "type")
    if kind == _type(ProjectItem):  # live projects only: removing one makes a new `RMPROJ#` item
        return PROJECTS if _s(image, "sk").startswith(keys.PROJECT_PREFIX) else None
    if kind == _type(HookItem):
        return {k.value: name for k, name in HOOKS.items()}.get(_s(image, "kind"))
    if kind == _type(GrantItem):
        role_id = _s(image, "role_id")
        return role_users(role_id) if counted_by_stream(role_id) else None
    return _EVERY_ITEM.get(kind)


def feedback_evaluation(evaluation: int) -> str:
    """The counter of the support feedbacks rated `evaluation` (1 to 10)."""
    return f"{SUPPORT_FEEDBACKS}#{evaluation}"


def also_counted_in(image: Mapping[str, Any] | None) -> str | None:
    """A second platform-wide counter an item counts in: a support feedback's evaluation's (the
    desk's feedback reports read the ten of them, never the feedbacks)."""
    if not image or _s(image, "type") != _type(IssueFeedbackItem):
        return None
    try:
        evaluation = json.loads(_s(image, "fields") or "{}").get("evaluation")
    except ValueError:
        return None
    return feedback_evaluation(int(evaluation)) if isinstance(evaluation, int) else None


def moves(record: Mapping[str, Any]) -> dict[str, int]:
    """Counter → delta for one stream record: +1 for a counted item that appears, -1 for one that
    goes (an update that changes what an item counts in moves both)."""
    change = record.get("dynamodb") or {}
    out: dict[str, int] = {}
    for counted in (counted_in, also_counted_in):
        before = counted(change.get("OldImage")) if record.get("eventName") != "INSERT" else None
        after = counted(change.get("NewImage")) if record.get("eventName") != "REMOVE" else None
        if before == after:
            continue
        if before is not None:
            out[before] = out.get(before, 0) - 1
        if after is not None:
            out[after] = out.get(after, 0) + 1
    return out


def values(names: list[str]) -> dict[str, int]:
    """Several counters' values in one BatchGetItem (0 for one never moved)."""
    found = {
        item.pk: int(item.value)
        for item in CounterItem.batch_get([(keys.counter_pk(n), keys.META) for n in names])
    }
    return {name: found.get(keys.counter_pk(name), 0) for name in names}


class _AlreadyCounted(DomainError):
    """The record's marker exists: an earlier delivery moved its counters (never reaches a user)."""


def event_counts(record: Mapping[str, Any]) -> list[tuple[tuple[str, str], datetime]]:
    """The audit log's counts shared between tenants (its staff index shard's, an offering's or a
    user's feed's, of the event's month: `outbox.shared_count_keys`) that an event record's INSERT
    moves, each with its expiry."""
    image = (record.get("dynamodb") or {}).get("NewImage")
    if record.get("eventName") != "INSERT" or not image or _s(image, "type") != _type(EventItem):
        return []
    event = EventItem.from_raw_data(dict(image))
    expires_at = event.expires_at or utcnow() + timedelta(days=MARKER_DAYS)
    return [(key, expires_at) for key in shared_count_keys(event.event_id, event.created, event.scopes)]


def tally(record: Mapping[str, Any]) -> bool:
    """Move the platform-wide counters (and the audit log's shared counts) by one stream record, at
    most once whatever the number of deliveries; True if this call moved them."""
    deltas = moves(record)
    counts = event_counts(record)
    if not deltas and not counts:
        return False
    uow = UnitOfWork()
    uow.put(
        TallyItem(
            pk=keys.tally_pk(str(record["eventID"])),
            sk=keys.META,
            expires_at=utcnow() + timedelta(days=MARKER_DAYS),
        ),
        condition=TallyItem.pk.does_not_exist(),
        on_conflict=_AlreadyCounted,
    )
    for name, delta in sorted(deltas.items()):
        add(uow, name, delta)
    for (pk, sk), expires_at in counts:
        uow.update(CounterItem(pk=pk, sk=sk), count_actions(1, expires_at))
    try:
        uow.commit()
    except _AlreadyCounted:
        return False
    return True
