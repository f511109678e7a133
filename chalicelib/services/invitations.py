"""Invitation use cases (Waldur's `user-invitations/`): invite someone by email to a role on a
customer or project, send the invitation again, cancel it, accept it, and let it expire.

Who may do what:
- Create, send, cancel: whoever may grant that role on that scope: the scope type's
  `*.CREATE_PERMISSION` there (a customer's grant covers its projects) and `may_assign(role)`
  (owners do not make owners); staff always.
- List and retrieve: staff and support see every invitation; others those of the scopes where they
  hold the scope type's CREATE_PERMISSION. Anything else is a 404.
- Accept: while the invitation is pending, the user signed in with the invited address, or one
  presenting the token from its latest mail (not if they already hold a role in that customer or its
  projects: 400); a civil number on it must be theirs. Anyone else gets a 404 (see
  chalicelib/domain/invitations.py): holding the uuid is not enough.

The mail's link is built from the configured public URL only (CIRRUS_PUBLIC_URL), never from the
request that created the invitation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from chalicelib import observability
from chalicelib.config import get_settings
from chalicelib.domain import clock
from chalicelib.domain import invitations as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from chalicelib.domain.events import Event
from chalicelib.domain.ids import new_id, parse_id
from chalicelib.domain.invitations import Acceptor, ExecutionState, Invitation, InvitationState
from chalicelib.domain.rbac import Grant, Scope
from chalicelib.domain.roles import CREATE_PERMISSION, Role, ScopeType
from chalicelib.services import access as access_service
from chalicelib.services import effects, memberships, request_keys
from chalicelib.services.effects import Enqueue
from chalicelib.services.paging import Ordering, Page, PageRequest, order_rows, paginate
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import grants as grant_store
from chalicelib.services.ports import invitations as store
from chalicelib.services.ports import mailer as mail
from chalicelib.services.ports import projects as project_store
from chalicelib.services.ports import unit_of_work
from chalicelib.services.ports import users as user_store

MODEL = domain.MODEL
SEND_EMAIL_TASK = "invitations.send_email"
EXPIRE_TASK = "invitations.expire_invitations"

# Waldur's wording (its GenericRelatedField, SlugRelatedField and InvitationSerializer.validate).
SCOPE_NOT_FOUND = "Can't restore object from url: {}"
ROLE_SCOPE_MISMATCH = "Role and scope should belong to the same content type."
ALREADY_GRANTED = memberships.ALREADY_GRANTED  # "User has already the same role in this scope."
NOT_SCHEDULED = "The invitation email could not be scheduled; send the invitation again."

# The collections a scope URL may name (Waldur: a customer or a project).
SCOPE_COLLECTIONS = {"customers": ScopeType.CUSTOMER, "projects": ScopeType.PROJECT}
# The scope URLs `_scope_reference` reads (the schema's pattern): anything, then a collection above
# and a uuid (hex or dashed) as the last path segment, then a query or fragment. Whether the object
# is there, and visible, is not a shape.
_UUID = "([0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})"
SCOPE_PATTERN = f"^([^?#]*/)?({'|'.join(SCOPE_COLLECTIONS)})/{_UUID}/*([?#].*)?$"


# --- what a response shows -------------------------------------------------------------------------
@dataclass(frozen=True)
class InvitationView:
    """An invitation with its state as of now and the names a client shows next to it."""

    invitation: Invitation
    state: InvitationState
    role: Role | None
    scope_name: str
    scope_description: str
    customer_name: str


def describe(invitations: list[Invitation], now: datetime | None = None) -> list[InvitationView]:
    """Join invitations with their roles and scopes: one BatchGetItem of customers and one of
    projects per 100 keys (roles are read once per request)."""
    now = now or utcnow()
    roles = access_service.all_roles()
    customers = {c.id: c for c in customer_store.get_many([i.customer_id for i in invitations])}
    projects = {
        p.id: p
        for p in project_store.get_many(
            {i.scope_id: i.customer_id for i in invitations if i.scope_type is ScopeType.PROJECT}
        )
    }
    views = []
    for i in invitations:
        customer = customers.get(i.customer_id)
        customer_name = customer.name if customer else ""
        if i.scope_type is ScopeType.PROJECT:
            project = projects.get(i.scope_id)
            name, description = (project.name, project.description) if project else ("", "")
        else:
            name, description = customer_name, customer.description if customer else ""
        views.append(
            InvitationView(i, i.state_at(now), roles.get(i.role_id), name, description, customer_name)
        )
    return views


def _scope_of(invitation: Invitation) -> Scope:
    return Scope(invitation.scope_type, invitation.scope_id, invitation.customer_id)


def _event(event_type: str, view: InvitationView, ctx: EventContext, accepted_by: str = "") -> Event:
    return domain.event(
        event_type,
        view.invitation,
        ctx,
        scope_name=view.scope_name,
        customer_name=view.customer_name,
        role_name=view.role.name if view.role else view.invitation.role_id,
        accepted_by=accepted_by,
    )


# --- permission and visibility ---------------------------------------------------------------------
def _may_see(principal: Principal, invitation: Invitation) -> bool:
    if principal.reads_everything:
        return True
    return access_service.access(principal).has(
        CREATE_PERMISSION[invitation.scope_type], _scope_of(invitation)
    )


def _require_manage(principal: Principal, scope: Scope, role: Role | None) -> None:
    rights = access_service.access(principal)
    if not rights.has(CREATE_PERMISSION[scope.type], scope):
        raise PermissionDenied()
    if role is not None and not rights.may_assign(role, scope):
        raise PermissionDenied()
    if role is None and not principal.is_staff:  # a deleted role: only staff deal with it
        raise PermissionDenied()


def get_visible(principal: Principal, invitation_id: str) -> Invitation:
    invitation = store.load(invitation_id)
    if invitation is None or not _may_see(principal, invitation):
        raise NotFound(MODEL)
    return invitation


def retrieve(principal: Principal, invitation_id: str) -> InvitationView:
    return describe([get_visible(principal, invitation_id)])[0]


# --- input -----------------------------------------------------------------------------------------
def _scope_reference(value: str) -> tuple[ScopeType, str] | None:
    """`https://host/api/customers/<uuid>/` → (customer, id); None when it names no scope."""
    parts = [p for p in value.split("?")[0].split("#")[0].split("/") if p]
    for index in range(len(parts) - 1, 0, -1):
        found = parse_id(parts[index])
        if found is not None:
            scope_type = SCOPE_COLLECTIONS.get(parts[index - 1])
            return (scope_type, found) if scope_type is not None else None
    return None


def resolve_scope(principal: Principal, value: str) -> Scope:
    """The customer or project a scope URL names, if the caller may see it; else a field error
    (an invisible scope reads as a missing one, as Waldur's hyperlinks do)."""
    reference = _scope_reference(value)
    if reference is not None:
        try:
            return memberships.visible_scope(principal, *reference)
        except NotFound:
            pass
    raise ValidationError.field("scope", SCOPE_NOT_FOUND.format(value))


def _resolve_role(reference: str) -> Role:
    role = memberships.resolve_role(reference)
    if not role.is_active:  # Waldur offers active roles only
        key = "uuid" if parse_id(reference) is not None else "name"
        raise ValidationError.field("role", f"Object with {key}={reference} does not exist.")
    return role


# --- commands --------------------------------------------------------------------------------------
def create_invitation(
    ctx: EventContext, scope_ref: str, role_ref: str, email: str, details: Mapping[str, str]
) -> InvitationView:
    """Invite someone to a scope by email; a retry with the request's `Idempotency-Key` answers
    with the invitation it made, and mails nothing again (services/request_keys.py)."""
    return request_keys.once(
        ctx,
        lambda: _create_invitation(ctx, scope_ref, role_ref, email, details),
        lambda used: retrieve(ctx.actor, used.object_id),
    )


def _create_invitation(
    ctx: EventContext, scope_ref: str, role_ref: str, email: str, details: Mapping[str, str]
) -> InvitationView:
    principal = ctx.actor
    errors: dict[str, list[str]] = {}
    scope: Scope | None = None
    role: Role | None = None
    try:
        scope = resolve_scope(principal, scope_ref)
    except ValidationError as exc:
        errors.update(exc.errors if isinstance(exc.errors, dict) else {})
    try:
        role = _resolve_role(role_ref)
    except ValidationError as exc:
        errors.update(exc.errors if isinstance(exc.errors, dict) else {})
    if errors or scope is None or role is None:
        raise ValidationError(errors)
    if role.content_type is not scope.type:
        raise ValidationError({"non_field_errors": [ROLE_SCOPE_MISMATCH]})
    _require_manage(principal, scope, role)
    invitation = Invitation(
        id=new_id(),
        customer_id=scope.customer_id,
        scope_type=scope.type,
        scope_id=scope.id,
        role_id=role.id,
        email=email,
        created=utcnow(),
        created_by_id=principal.user_id,
        created_by_username=principal.username,
        created_by_full_name=principal.full_name,
        version=1,
        full_name=details.get("full_name") or "",
        native_name=details.get("native_name") or "",
        phone_number=details.get("phone_number") or "",
        organization=details.get("organization") or "",
        job_title=details.get("job_title") or "",
        civil_number=details.get("civil_number") or "",
        extra_invitation_text=details.get("extra_invitation_text") or "",
    )
    view = describe([invitation])[0]
    uow = unit_of_work()
    store.add(uow, invitation)
    request_keys.remember(uow, ctx, invitation.id)
    uow.record(_event(domain.INVITATION_CREATED, view, ctx))
    uow.commit()
    return _schedule_email(ctx, view)


def send(ctx: EventContext, invitation_id: str) -> InvitationView:
    """Send the invitation's email again (in the background). An expired or canceled invitation
    becomes pending again, with a new week from now."""
    principal = ctx.actor
    before = get_visible(principal, invitation_id)
    view = describe([before])[0]
    _require_manage(principal, _scope_of(before), view.role)
    now = utcnow()
    after = before.resend(now)
    if after.version != before.version:  # expired or canceled: pending again, a new week
        uow = unit_of_work()
        store.save_transition(uow, before, after)
        uow.record(_event(domain.INVITATION_UPDATED, replace(view, invitation=after), ctx))
        uow.commit()
    else:
        store.set_execution_state(after, ExecutionState.SCHEDULED)
    return _schedule_email(ctx, replace(view, invitation=after, state=after.state_at(now)))


def cancel(ctx: EventContext, invitation_id: str) -> InvitationView:
    principal = ctx.actor
    before = get_visible(principal, invitation_id)
    view = describe([before])[0]
    _require_manage(principal, _scope_of(before), view.role)
    after = before.cancel(utcnow())
    uow = unit_of_work()
    store.save_transition(uow, before, after)
    uow.record(_event(domain.INVITATION_CANCELED, replace(view, invitation=after), ctx))
    uow.commit()
    return replace(view, invitation=after, state=after.state)


def accept(ctx: EventContext, invitation_id: str, token: str = "") -> InvitationView:
    """Grant the invitation's role to the caller and mark the invitation accepted, if it is theirs:
    sent to their email, or opened with `token`, the one its latest mail carried.

    The grant (with its bookkeeping and its `role_granted` event) and the invitation's change,
    conditioned on its version, commit in one transaction: if another request accepted or canceled
    the invitation in between, nothing is written and the caller gets 409."""
    principal = ctx.actor
    now = utcnow()
    invitation = store.load(invitation_id)
    user = user_store.get(principal.user_id)
    if invitation is None or user is None:
        raise NotFound(MODEL)
    after = invitation.accept(_acceptor(principal, user.email, user.civil_number, invitation, token), now)
    scope = memberships.find_scope(invitation.scope_type, invitation.scope_id)
    if scope is None:
        raise NotFound(MODEL)
    role = access_service.all_roles().get(invitation.role_id)
    if role is None or not role.is_active or role.content_type is not scope.type:
        raise ValidationError([memberships.NOT_VALID_FOR_SCOPE])
    existing = grant_store.get(scope.customer_id, scope.type, scope.id, user.id, role.id)
    if existing is not None:
        if existing.active(now):
            raise ValidationError([ALREADY_GRANTED])
        # Lapsed but not yet revoked by the hourly job: revoke it as the job would.
        memberships.revoke(EventContext(correlation_id=ctx.correlation_id), existing, role, scope, user)
    grant = Grant(
        id=new_id(),
        user_id=user.id,
        role_id=role.id,
        scope_type=scope.type,
        scope_id=scope.id,
        customer_id=scope.customer_id,
        created=now,
        created_by_id=invitation.created_by_id,
        created_by_username=invitation.created_by_username,
        created_by_full_name=invitation.created_by_full_name,
        version=1,
    )
    view = replace(describe([invitation], now)[0], invitation=after, state=after.state)
    uow = unit_of_work()
    memberships.grant_role(ctx, grant, role, scope, user, uow)
    store.save_transition(uow, invitation, after)
    uow.record(_event(domain.INVITATION_ACCEPTED, view, ctx, accepted_by=user.username))
    uow.commit()  # the grant and the invitation's change land together, or neither does
    memberships.after_granted(ctx, grant)
    return view


def _acceptor(
    principal: Principal, email: str, civil_number: str, invitation: Invitation, token: str
) -> Acceptor:
    # Whether they are in the tenant matters only to someone holding another address's token.
    in_tenant = not invitation.addressed_to(email) and invitation.customer_id in (
        access_service.access(principal).customer_ids()
    )
    return Acceptor(email=email, civil_number=civil_number, token=token, in_tenant=in_tenant)


# --- background work -------------------------------------------------------------------------------
def _schedule_email(ctx: EventContext, view: InvitationView) -> InvitationView:
    """Queue the email on `background`; if the queue refuses, say so on the invitation (the
    invitation itself stands, and `send/` tries again)."""
    invitation = view.invitation
    payload = {
        "customer_uuid": invitation.customer_id,
        "invitation_uuid": invitation.id,
        "sender": (ctx.principal.full_name or ctx.principal.username) if ctx.principal else "",
    }
    try:
        effects.execute(Enqueue(SEND_EMAIL_TASK, payload, ctx))
    except Exception:
        observability.logger().exception(
            "invitation email not scheduled", extra={"invitation": invitation.id}
        )
        store.set_execution_state(invitation, ExecutionState.ERRED, NOT_SCHEDULED)
        failed = replace(invitation, execution_state=ExecutionState.ERRED, error_message=NOT_SCHEDULED)
        return replace(view, invitation=failed)
    return view


def accept_url(invitation_id: str) -> str:
    """The accept action's URL under the configured public URL (its path alone when none is set:
    a mail never carries a host taken from a request)."""
    return f"{get_settings().public_url or ''}/api/user-invitations/{invitation_id}/accept/"


def compose_email(view: InvitationView, sender: str, token: str) -> tuple[str, str]:
    invitation = view.invitation
    role = view.role.name if view.role else ""
    kind = "organization" if invitation.scope_type is ScopeType.CUSTOMER else invitation.scope_type.value
    url = accept_url(invitation.id)
    subject = f"Invitation to {view.scope_name}"
    lines = [
        "Hello!",
        "",
        f"{sender or 'Cirrus'} has invited you to join {kind} {view.scope_name} in the role of {role}.",
    ]
    if invitation.extra_invitation_text:
        lines += ["", invitation.extra_invitation_text]
    lines += [
        "",
        f"To accept, sign in to Cirrus with the account whose email is {invitation.email} and POST to {url}",
        f"  curl -X POST -H 'Authorization: Token <your token>' {url}",
        "",
        "If you sign in with another address, send this invitation's token with the request (keep it",
        "to yourself; a newer mail about this invitation replaces it):",
        "  curl -X POST -H 'Authorization: Token <your token>' -H 'Content-Type: application/json' \\",
        f'    -d \'{{"token": "{token}"}}\' {url}',
        "",
        f"The invitation expires at {clock.isoformat(invitation.expires)}.",
    ]
    return subject, "\n".join(lines)


def deliver_email(customer_id: str, invitation_id: str, sender: str) -> bool:
    """Send a pending invitation's email, with a new accept token (its hash is kept first, so the
    mail never carries a token that does not work), and record the outcome on it; False when there
    is nothing to send any more (canceled, accepted, expired or gone meanwhile)."""
    invitation = store.get(customer_id, invitation_id)
    if invitation is None or not invitation.is_pending(utcnow()):
        observability.logger().info("invitation email skipped", extra={"invitation": invitation_id})
        return False
    token, token_hash = domain.new_token()
    store.set_token_hash(invitation, token_hash)
    subject, body = compose_email(describe([invitation])[0], sender, token)
    try:
        mail.send_email(invitation.email, subject, body)
    except Exception as exc:
        store.set_execution_state(invitation, ExecutionState.ERRED, str(exc)[:500])
        raise
    store.set_execution_state(invitation, ExecutionState.OK)
    return True


def expire_due(now: datetime, hours: list[datetime]) -> int:
    """The hourly job: mark `expired` (with its event) each invitation listed as pending in these
    expiry buckets whose week has ended. An invitation changed meanwhile is left alone."""
    due: list[Invitation] = []
    for hour in hours:
        for listed in store.pending_in(hour):
            current = store.get(listed.customer_id, listed.id)  # the index may lag
            if current is not None and current.state is InvitationState.PENDING and now >= current.expires:
                due.append(current)
    expired = 0
    system = EventContext()
    for view in describe(due, now):
        after = view.invitation.expire(now)
        uow = unit_of_work()
        store.save_transition(uow, view.invitation, after)
        uow.record(_event(domain.INVITATION_EXPIRED, replace(view, invitation=after), system))
        try:
            uow.commit()
        except Conflict:
            continue  # accepted, canceled or sent again meanwhile
        expired += 1
    observability.logger().info("expired invitations", extra={"expired": expired})
    return expired


# --- listing ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvitationFilters:
    customer_uuid: str | None = None
    email: str | None = None
    email_exact: str | None = None
    role_name: str | None = None
    role_uuid: str | None = None
    scope: str | None = None  # a scope's URL or uuid
    scope_type: str | None = None
    scope_name: str | None = None
    civil_number: str | None = None
    state: tuple[str, ...] = ()

    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def matches(self, invitation: Invitation, roles: Mapping[str, Role], now: datetime) -> bool:
        """Everything but `scope_name`, which needs the scope (see `matches_view`)."""
        i = invitation
        if self.customer_uuid is not None and i.customer_id != parse_id(self.customer_uuid):
            return False
        if self.email is not None and self.email.lower() not in i.email.lower():
            return False
        if self.email_exact is not None and i.email != self.email_exact:
            return False
        role = roles.get(i.role_id)
        if self.role_name is not None and (role is None or role.name != self.role_name):
            return False
        if self.role_uuid is not None and i.role_id != parse_id(self.role_uuid):
            return False
        if self.scope is not None:
            reference = _scope_reference(self.scope)
            wanted = reference[1] if reference else parse_id(self.scope)
            if i.scope_id != wanted:
                return False
        if self.scope_type is not None and i.scope_type.value != self.scope_type:
            return False
        if self.civil_number is not None and i.civil_number != self.civil_number:
            return False
        return not self.state or i.state_at(now).value in self.state

    def matches_view(self, view: InvitationView) -> bool:
        return self.scope_name is None or self.scope_name.lower() in view.scope_name.lower()


ORDERING_FIELDS = ("created", "email", "state", "created_by")
_ORDER_BY: dict[str, Callable[[Invitation, datetime], Any]] = {
    "created": lambda i, now: i.id,  # UUIDv7: creation order (a re-sent one keeps its place)
    "email": lambda i, now: (i.email.lower(), i.id),
    "state": lambda i, now: (i.state_at(now).value, i.id),
    "created_by": lambda i, now: (i.created_by_username, i.id),
}


def _candidates(principal: Principal, filters: InvitationFilters) -> list[Invitation]:
    """What the caller may see, before filtering: staff and support everything (one customer's
    partition when `customer_uuid` names it), others the invitations of the customers they have a
    role in where they hold the CREATE_PERMISSION (one Query per such customer)."""
    wanted = parse_id(filters.customer_uuid) if filters.customer_uuid else None
    if filters.customer_uuid is not None and wanted is None:
        return []
    if principal.reads_everything:
        return store.for_customer(wanted) if wanted else store.read_all()
    customer_ids = sorted(access_service.access(principal).customer_ids())
    if wanted is not None:
        customer_ids = [c for c in customer_ids if c == wanted]
    found = [i for c in customer_ids for i in store.for_customer(c)]
    return [i for i in found if _may_see(principal, i)]


def list_invitations(
    principal: Principal, filters: InvitationFilters, ordering: Ordering, request: PageRequest
) -> Page[InvitationView]:
    now = utcnow()
    field = ordering.field or "created"
    descending = ordering.descending if ordering.field else True  # Waldur: newest first
    if principal.reads_everything and not filters.any() and field == "created":
        found = store.page_all(request, newest_first=descending)
        return Page(describe(found.items, now), found.total)
    roles = access_service.all_roles()
    rows = [i for i in _candidates(principal, filters) if filters.matches(i, roles, now)]
    if filters.scope_name is not None:
        rows = [v.invitation for v in describe(rows, now) if filters.matches_view(v)]
    sort_keys = {name: _sort_key(name, now) for name in ORDERING_FIELDS}
    ordered = order_rows(rows, Ordering(field, descending), sort_keys)
    page = paginate(ordered, request)
    return Page(describe(page.items, now), page.total)


def _sort_key(field: str, now: datetime) -> Callable[[Invitation], Any]:
    order_by = _ORDER_BY[field]
    return lambda invitation: order_by(invitation, now)
