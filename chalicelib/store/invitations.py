"""Invitations in their scope's customer partition.

`CUST#<c>` / `INVITE#<id>`: a customer's invitations (its projects' included) are one Query.
gsi1 `INVITATIONS` / `<id>` finds one by id alone (the accept link carries only the id) and lists
every invitation for staff, newest first (ids are UUIDv7). While an invitation is pending it is
also listed on gsi2 in the expiry bucket of the hour its week ends (`EXPIRES#INVITE#<hour>` /
`<id>`), so the hourly expiry job reads a few small partitions instead of scanning; it leaves the
bucket when it stops being pending.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.expressions.update import Action

from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.invitations import (
    DETAIL_FIELDS,
    MODEL,
    ExecutionState,
    Invitation,
    InvitationState,
)
from chalicelib.domain.roles import ScopeType
from chalicelib.services.paging import Page, PageRequest
from chalicelib.services.ports import UnitOfWork as Work
from chalicelib.store import counters, keys, pages
from chalicelib.store.items import BaseItem, InvitationItem
from chalicelib.store.pages import Listing
from chalicelib.store.unit_of_work import LOST_RACE, UnitOfWork, transaction

COUNTER = counters.INVITATIONS  # the staff list's total, kept by the stream consumer


def _hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def expiry_bucket(when: datetime) -> str:
    return keys.expiry_bucket(keys.INVITATIONS_EXPIRY, _hour(when))


def _from_item(item: InvitationItem) -> Invitation:
    by = item.created_by or {}
    details = item.details or {}
    return Invitation(
        id=item.invitation_id,
        customer_id=item.customer_id,
        scope_type=ScopeType(item.scope_type),
        scope_id=item.scope_id,
        role_id=item.role_id,
        email=item.email,
        created=item.created,
        state=InvitationState(item.state),
        created_by_id=by.get("id"),
        created_by_username=by.get("username", ""),
        created_by_full_name=by.get("full_name", ""),
        execution_state=ExecutionState(item.execution_state),
        error_message=item.error_message or "",
        token_hash=item.token_hash or "",
        version=int(item.version),
        **{name: str(details.get(name, "")) for name in DETAIL_FIELDS},
    )


def _key(customer_id: str, invitation_id: str) -> InvitationItem:
    return InvitationItem(pk=keys.customer_pk(customer_id), sk=keys.invitation_sk(invitation_id))


def _item(invitation: Invitation) -> InvitationItem:
    pending = invitation.state is InvitationState.PENDING
    return InvitationItem(
        pk=keys.customer_pk(invitation.customer_id),
        sk=keys.invitation_sk(invitation.id),
        gsi1pk=keys.INVITATIONS,
        gsi1sk=invitation.id,
        gsi2pk=expiry_bucket(invitation.expires) if pending else None,
        gsi2sk=invitation.id if pending else None,
        invitation_id=invitation.id,
        customer_id=invitation.customer_id,
        scope_type=invitation.scope_type.value,
        scope_id=invitation.scope_id,
        role_id=invitation.role_id,
        email=invitation.email,
        state=invitation.state.value,
        created=invitation.created,
        created_by={
            "id": invitation.created_by_id,
            "username": invitation.created_by_username,
            "full_name": invitation.created_by_full_name,
        },
        details={name: getattr(invitation, name) for name in DETAIL_FIELDS},
        execution_state=invitation.execution_state.value,
        error_message=invitation.error_message,
        token_hash=invitation.token_hash or None,
        version=invitation.version,
    )


# --- reads ---------------------------------------------------------------------------------------
def get(customer_id: str, invitation_id: str) -> Invitation | None:
    """Read consistently from the customer's partition."""
    try:
        item = InvitationItem.get(
            keys.customer_pk(customer_id), keys.invitation_sk(invitation_id), consistent_read=True
        )
    except InvitationItem.DoesNotExist:
        return None
    return _from_item(item)


def load(invitation_id: str) -> Invitation | None:
    """By id alone: gsi1 says which customer holds it, then a consistent read of the item (so a
    state changed a moment ago is seen): two round trips."""
    for item in BaseItem.gsi1.query(keys.INVITATIONS, BaseItem.gsi1sk == invitation_id):
        if isinstance(item, InvitationItem):
            return get(item.customer_id, invitation_id)
    return None


def for_customer(customer_id: str) -> list[Invitation]:
    """The invitations to a customer and its projects, oldest first (one Query of its partition)."""
    found = BaseItem.query(
        keys.customer_pk(customer_id),
        BaseItem.sk.startswith(keys.INVITATION_PREFIX),
        consistent_read=True,
    )
    return [_from_item(i) for i in found if isinstance(i, InvitationItem)]


def _listing_all(newest_first: bool = True) -> Listing:
    """Every invitation by creation, for staff (gsi1 `INVITATIONS`)."""
    return Listing(
        partition=keys.INVITATIONS, index="gsi1", forward=not newest_first, item_type=InvitationItem
    )


def page_all(request: PageRequest, newest_first: bool = True) -> Page[Invitation]:
    """One page of every invitation by creation, with the platform-wide total (kept by the stream
    consumer: it lags the table by the stream's delay)."""
    listing = pages.platform_total(_listing_all(newest_first), COUNTER)
    found = pages.fetch_page(listing, request.page, request.page_size)
    return Page([_from_item(i) for i in found.items], found.total)


def read_all() -> list[Invitation]:
    """Every invitation (staff's filtered list: a documented slow path)."""
    return [_from_item(i) for i in pages.read_all(_listing_all())]


def pending_in(hour: datetime) -> list[Invitation]:
    """The invitations still listed as pending whose week ends within `hour` (one Query of its
    bucket; eventually consistent, so callers re-read an item before changing it)."""
    found = BaseItem.gsi2.query(keys.expiry_bucket(keys.INVITATIONS_EXPIRY, _hour(hour)))
    return [_from_item(i) for i in found if isinstance(i, InvitationItem)]


# --- writes --------------------------------------------------------------------------------------
def add(uow: Work, invitation: Invitation) -> None:
    transaction(uow).put(_item(invitation), condition=InvitationItem.pk.does_not_exist())


def save_transition(uow: Work, before: Invitation, after: Invitation) -> None:
    """Write a state change, if nobody changed the invitation meanwhile (a second accept, or an
    accept racing a cancel, loses with 409). A pending invitation is (re)listed in the expiry
    bucket of its new week; any other state leaves the buckets."""
    actions: list[Action] = [
        InvitationItem.state.set(after.state.value),
        InvitationItem.version.add(1),
        InvitationItem.execution_state.set(after.execution_state.value),
        InvitationItem.error_message.set(after.error_message),
    ]
    if after.created != before.created:
        actions.append(InvitationItem.created.set(after.created))
    if after.state is InvitationState.PENDING:
        actions += [
            InvitationItem.gsi2pk.set(expiry_bucket(after.expires)),
            InvitationItem.gsi2sk.set(after.id),
        ]
    elif before.state is InvitationState.PENDING:
        actions += [InvitationItem.gsi2pk.remove(), InvitationItem.gsi2sk.remove()]
    transaction(uow).update(
        _key(before.customer_id, before.id),
        actions,
        condition=(InvitationItem.version == before.version) & (InvitationItem.state == before.state.value),
        on_conflict=Conflict(LOST_RACE),
    )


def set_execution_state(invitation: Invitation, state: ExecutionState, error_message: str = "") -> None:
    """Record how sending its email went (no version bump: it is not an edit of the invitation)."""
    uow = UnitOfWork()
    transaction(uow).update(
        _key(invitation.customer_id, invitation.id),
        [InvitationItem.execution_state.set(state.value), InvitationItem.error_message.set(error_message)],
        condition=InvitationItem.pk.exists(),
        on_conflict=NotFound(MODEL),
    )
    uow.commit()


def set_token_hash(invitation: Invitation, token_hash: str) -> None:
    """Keep the hash of the token a mail is about to carry (it replaces the previous mail's: the
    newest mail's token is the one that accepts). Bookkeeping of the mail, like its state."""
    uow = UnitOfWork()
    transaction(uow).update(
        _key(invitation.customer_id, invitation.id),
        [InvitationItem.token_hash.set(token_hash)],
        condition=InvitationItem.pk.exists(),
        on_conflict=NotFound(MODEL),
    )
    uow.commit()
