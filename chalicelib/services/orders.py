"""Order use cases (Waldur's `marketplace-orders/`): create, approve and reject on either side,
cancel or delete while pending, and the provider's `set_state_*` actions.

Every change is one unit of work: the order, its resource (state, limits, plan; nc_resource_count of
its project and customer when it is made or ends) and the events, Waldur's types. After the commit
the order's workflow hears of it (`order_lifecycle` says how, as effects the unit of work hands to
the workflow layer): it is started when the order is made, and a workflow waiting for this order's
approval or completion is answered.

A blocked or archived consumer customer orders nothing and has nothing approved (400, Waldur's
validate_order and approve_* validators); rejecting, canceling and the provider finishing what
already executes stay open, so a lock winds its pending work down instead of freezing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from chalicelib import metrics
from chalicelib.domain import orders as domain
from chalicelib.domain import resources as resource_rules
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.ids import id_from_url, new_id
from chalicelib.domain.marketplace_support import Outcome, Settlement
from chalicelib.domain.orders import Actor, Order, Placing
from chalicelib.domain.projects import Project
from chalicelib.domain.request_keys import RequestKey
from chalicelib.domain.resources import Resource
from chalicelib.domain.roles import P
from chalicelib.domain.slugs import SlugKind
from chalicelib.domain.text import text_problem
from chalicelib.domain.vocabulary import (
    ORDER_TRANSITIONS,
    Component,
    Offering,
    OfferingState,
    OrderState,
    OrderType,
    Plan,
    ResourceState,
)
from chalicelib.providers import registry
from chalicelib.services import billing, offering_users, request_keys, slugs
from chalicelib.services import customers as customer_service
from chalicelib.services import offerings as catalog
from chalicelib.services import order_lifecycle as lifecycle
from chalicelib.services import order_sides as sides
from chalicelib.services.ports import UnitOfWork, unit_of_work
from chalicelib.services.ports import orders as store
from chalicelib.services.ports import projects as project_store
from chalicelib.services.ports import resources as resource_store
from chalicelib.services.ports import users as user_store
from chalicelib.services.projects import scope as project_scope

MODEL = domain.MODEL
INVALID_HYPERLINK = "Invalid hyperlink - Object does not exist."
ONLY_CREATE = (
    "Only Create orders are placed here; use the resource's terminate/, update_limits/ or switch_plan/."
)


@dataclass(frozen=True)
class OrderRequest:
    """What `POST marketplace-orders/` asks for (references as hyperlinks or uuids)."""

    project: str
    offering: str
    plan: str | None = None
    attributes: Mapping[str, Any] | None = None
    limits: Mapping[str, Any] | None = None
    type: str = OrderType.CREATE.value
    accepting_terms_of_service: bool = False


# --- reads -------------------------------------------------------------------------------------------
def get_visible(principal: Principal, order_id: str) -> Order:
    """The order, if the caller sees it on either side; else NotFound."""
    order = store.get(order_id)
    if order is None or not sides.sees(sides.rights(principal), order):
        raise NotFound(MODEL)
    return order


def get_offering_order(principal: Principal, offering_id: str, order_id: str) -> Order:
    """An order of the offering, as its provider sees it (Waldur's provider order detail): an order
    of another offering, or one the caller does not see from the provider side, is NotFound."""
    order = store.get(order_id)
    rights = sides.rights(principal)
    if order is None or order.offering_id != offering_id or not sides.sees_as_provider(rights, order):
        raise NotFound(MODEL)
    return order


def _for_change(principal: Principal, order_id: str) -> Order:
    """The visible order, read again consistently (its state decides the transition)."""
    seen = get_visible(principal, order_id)
    order = store.load(seen.customer_id, seen.id)
    if order is None:
        raise NotFound(MODEL)
    return order


def _require_consumer(principal: Principal, order: Order, permission: str) -> None:
    sides.rights(principal).require(permission, sides.consumer_scope(order))


def _require_provider(principal: Principal, order: Order) -> None:
    sides.rights(principal).require(P.SET_RESOURCE_STATE, sides.provider_scope(order))


def _actor(principal: Principal) -> Actor:
    user = user_store.get(principal.user_id)
    return Actor.of(principal, user.email if user else "")


def needs_provider_review(offering_type: str) -> bool:
    found = registry.get_type(offering_type)
    return True if found is None else found.needs_provider_review


def _placing(principal: Principal, consumer_ok: bool, offering_type: str) -> Placing:
    """The caller placing an order now: their placing approves it on the consumer's side when
    `consumer_ok` (staff, or ORDER.APPROVE on the project)."""
    return Placing(_actor(principal), consumer_ok, needs_provider_review(offering_type), utcnow())


# --- creation ------------------------------------------------------------------------------------
def _project(principal: Principal, reference: str) -> Project:
    project_id = id_from_url(reference)
    project = project_store.get(project_id) if project_id else None
    if project is None or not sides.rights(principal).sees_project(project.id, project.customer_id):
        raise ValidationError.field("project", INVALID_HYPERLINK)
    return project


def _offering(reference: str, project: Project) -> Offering:
    offering_id = id_from_url(reference)
    try:
        offering = catalog.get_offering(offering_id) if offering_id else None
    except NotFound:
        offering = None
    if offering is None or (not offering.shared and offering.customer_id != project.customer_id):
        raise ValidationError.field("offering", INVALID_HYPERLINK)
    if offering.state is not OfferingState.ACTIVE:
        raise ValidationError.field("offering", domain.OFFERING_UNAVAILABLE)
    return offering


def _plan(reference: str | None, offering: Offering) -> Plan | None:
    if not reference:
        return None
    plan_id = id_from_url(reference)
    try:
        owner, plan = catalog.find_plan(plan_id) if plan_id else (None, None)
    except NotFound:
        owner, plan = None, None
    if plan is None:
        raise ValidationError.field("plan", INVALID_HYPERLINK)
    if owner is None or owner.id != offering.id:
        raise ValidationError.field("plan", domain.PLAN_NOT_OF_OFFERING)
    return plan


def _limits(offering: Offering, given: Mapping[str, Any] | None) -> dict[str, int]:
    limits = domain.check_limits(given or {})
    if limits:
        registry.validate_limits(offering, limits)
    return limits


def _resource_name(attributes: Mapping[str, Any], offering: Offering) -> str:
    name = attributes.get("name")
    if name is not None and not isinstance(name, str):
        raise ValidationError({"attributes": ["name must be a string."]})
    problem = text_problem(name or "")
    if problem:  # the resource's name, under the rules of every name
        raise ValidationError({"attributes": [f"name: {problem}"]})
    return (name or "").strip()[:150] or offering.name


def create_order(ctx: EventContext, request: OrderRequest) -> Order:
    """Place a Create order: its resource is made at once (`Creating`, counted in the project's and
    customer's nc_resource_count) in the order's transaction, and its workflow starts.

    Anybody who sees the project may order; the order skips the consumer's approval when its
    creator is staff or holds ORDER.APPROVE there, and the provider's when the offering's type
    needs no review. A request sent with an `Idempotency-Key` the same user used before (within a
    day) answers with that first order instead of placing another (services/request_keys.py).
    """
    return request_keys.once(ctx, lambda: _create_order(ctx, request), _replayed)


def _create_order(ctx: EventContext, request: OrderRequest) -> Order:
    principal = ctx.actor
    if request.type != OrderType.CREATE.value:
        raise ValidationError.field("type", ONLY_CREATE)
    project = _project(principal, request.project)
    customer_service.require_available(project.customer_id)
    offering = _offering(request.offering, project)
    plan = _plan(request.plan, offering)
    domain.check_offering_plan(offering, plan)
    domain.check_terms(offering, request.accepting_terms_of_service)
    attributes = dict(request.attributes or {})
    limits = _limits(offering, request.limits)
    consumer_ok = sides.rights(principal).has(P.APPROVE_ORDER, project_scope(project))
    placing = _placing(principal, consumer_ok, offering.type)
    order = domain.create_order(
        placing,
        ids=(new_id(), new_id()),
        project=project,
        offering=offering,
        plan=plan,
        attributes=attributes,
        limits=limits,
        provider_name=catalog.provider_name(offering.customer_id),
        resource_name=_resource_name(attributes, offering),
    )
    resource = resource_rules.made_by(order, slugs.generate(SlugKind.RESOURCE, order.resource_name))
    uow = unit_of_work()
    resource_store.add(uow, resource)
    slugs.claim(uow, SlugKind.RESOURCE, resource.slug, resource.id)
    stored = store.add(uow, order)
    request_keys.remember(uow, ctx, order.id, order.customer_id)
    uow.record(domain.event(order, domain.ORDER_CREATED, ctx))
    uow.record(resource_rules.event(resource, resource_rules.CREATE_REQUESTED, ctx))
    uow.after_commit(lifecycle.start(ctx, stored))
    uow.commit()
    metrics.order_placed(stored.id)
    return stored


def _replayed(used: RequestKey) -> Order:
    """The order a key made, for a retry of its request."""
    order = store.load(used.scope_id, used.object_id)
    if order is None:  # deleted since (it was pending): the key names nothing any more
        raise NotFound(MODEL)
    return order


def place_resource_order(
    ctx: EventContext,
    resource: Resource,
    order_type: OrderType,
    *,
    plan: Plan | None = None,
    limits: Mapping[str, int] | None = None,
    attributes: Mapping[str, Any] | None = None,
    components: Sequence[Component] = (),
) -> Order:
    """An Update or Terminate order of an existing resource (the resource actions make these; the
    caller checked the permission and the resource's state). The resource remembers its open order
    in the same transaction, so a second action while it is open is refused. An order with a plan
    is priced with the offering's `components` (a plan switch adds its plan-switch charge)."""
    principal = ctx.actor
    customer_service.require_available(resource.customer_id)
    consumer_ok = sides.rights(principal).has(P.APPROVE_ORDER, sides.consumer_scope(resource))
    placing = _placing(principal, consumer_ok, resource.offering_type)
    order = resource_rules.change_order(
        resource,
        order_type,
        placing,
        order_id=new_id(),
        plan=plan,
        limits=limits,
        attributes=attributes,
        components=components,
    )
    now = placing.now
    after = resource_rules.order_opened(resource, order, now)
    if order.state is OrderState.EXECUTING:
        after = resource_rules.order_executing(after, order, now)
    uow = unit_of_work()
    resource_store.save_changes(uow, resource, after)
    stored = store.add(uow, order)
    uow.record(domain.event(order, domain.ORDER_CREATED, ctx))
    uow.record(resource_rules.event(after, resource_rules.requested_event(order), ctx))
    uow.after_commit(lifecycle.start(ctx, stored))
    uow.commit()
    metrics.order_placed(stored.id)
    return stored


# --- the consumer's and the provider's decisions ----------------------------------------------------
def approve_by_consumer(ctx: EventContext, order_id: str) -> Order:
    principal = ctx.actor
    order = _for_change(principal, order_id)
    _require_consumer(principal, order, P.APPROVE_ORDER)
    customer_service.require_available(order.customer_id)
    after = domain.approve_by_consumer(
        order, _actor(principal), utcnow(), needs_provider_review(order.offering_type)
    )
    return _transition(ctx, order, after, domain.ORDER_APPROVED)


def approve_by_provider(ctx: EventContext, order_id: str) -> Order:
    """The provider approves: the order executes, or is done at once for an offering whose
    approval is all its provider does (registry.done_on_approval)."""
    principal = ctx.actor
    order = _for_change(principal, order_id)
    _require_provider(principal, order)
    customer_service.require_available(order.customer_id)
    approved = _transition(
        ctx, order, domain.approve_by_provider(order, _actor(principal), utcnow()), domain.ORDER_APPROVED
    )
    if registry.done_on_approval(catalog.get_offering(order.offering_id)):
        return _complete(ctx, approved)
    return approved


def reject_by_consumer(ctx: EventContext, order_id: str) -> Order:
    principal = ctx.actor
    order = _for_change(principal, order_id)
    _require_consumer(principal, order, P.REJECT_ORDER)
    return _refuse(ctx, order, domain.reject(order, "consumer", _actor(principal), utcnow()))


def reject_by_provider(ctx: EventContext, order_id: str) -> Order:
    principal = ctx.actor
    order = _for_change(principal, order_id)
    _require_provider(principal, order)
    return _refuse(ctx, order, domain.reject(order, "provider", _actor(principal), utcnow()))


def cancel_order(ctx: EventContext, order_id: str) -> Order:
    """Cancel a pending order: its creator, or ORDER.CANCEL on the project."""
    principal = ctx.actor
    order = _for_change(principal, order_id)
    _require_own_or(principal, order, P.CANCEL_ORDER)
    return _refuse(ctx, order, domain.cancel(order, utcnow()))


def delete_order(ctx: EventContext, order_id: str) -> None:
    """Delete a pending order (its creator, or ORDER.DESTROY on the project): as a cancellation,
    and the order itself is gone."""
    principal = ctx.actor
    order = _for_change(principal, order_id)
    _require_own_or(principal, order, P.DESTROY_ORDER)
    domain.require(order, "destroy")
    now = utcnow()
    canceled = domain.cancel(order, now)
    uow = unit_of_work()
    store.remove(uow, order)
    _refused_resource(uow, ctx, canceled, now)
    uow.record(domain.event(canceled, domain.ORDER_TERMINATED, ctx))
    uow.after_commit(*lifecycle.answer(order, canceled))
    uow.commit()


def _require_own_or(principal: Principal, order: Order, permission: str) -> None:
    if order.created_by is not None and order.created_by.id == principal.user_id:
        return
    _require_consumer(principal, order, permission)


def expire_order(ctx: EventContext, customer_id: str, order_id: str) -> Order | None:
    """The workflow's approval wait ended: a still pending order is canceled (with why); None when
    it had moved on meanwhile."""
    order = store.load(customer_id, order_id)
    if order is None or order.state not in ORDER_TRANSITIONS["cancel"]:
        return None
    return _refuse(ctx, order, domain.cancel(order, utcnow(), domain.NOT_APPROVED_IN_TIME))


# --- the provider carries the order out -------------------------------------------------------------
def set_state_executing(ctx: EventContext, order_id: str) -> Order:
    """The provider takes a pending order, or retries an erred one (a new workflow execution)."""
    principal = ctx.actor
    order = _for_change(principal, order_id)
    _require_provider(principal, order)
    now = utcnow()
    after = domain.set_executing(order, now)
    if order.state is not OrderState.ERRED:
        return _transition(ctx, order, after, domain.ORDER_APPROVED)
    resource = _resource(order)
    uow = unit_of_work()
    stored = store.save_transition(uow, order, after)
    resource_store.save_changes(uow, resource, resource_rules.order_retried(resource, after, now))
    uow.record(domain.event(stored, domain.ORDER_APPROVED, ctx))
    uow.after_commit(lifecycle.start(ctx, stored))
    uow.commit()
    return stored


def set_state_done(ctx: EventContext, order_id: str) -> Order:
    principal = ctx.actor
    order = _for_change(principal, order_id)
    _require_provider(principal, order)
    return _complete(ctx, order)


def set_state_erred(ctx: EventContext, order_id: str, message: str = "", traceback: str = "") -> Order:
    principal = ctx.actor
    order = _for_change(principal, order_id)
    _require_provider(principal, order)
    return _fail(ctx, order, message, traceback)


def set_backend_id(ctx: EventContext, order_id: str, backend_id: str) -> bool:
    """The provider records its own id for the order (Waldur's order `set_backend_id/`: RESOURCE.
    SET_BACKEND_ID on the offering, its customer). True if it changed. Like the resource's, a
    bookkeeping change: Waldur logs no event for it, so none is written."""
    principal = ctx.actor
    order = _for_change(principal, order_id)
    sides.rights(principal).require(P.SET_RESOURCE_BACKEND_ID, sides.provider_scope(order))
    if backend_id == order.backend_id:
        return False
    uow = unit_of_work()
    store.save_transition(uow, order, replace(order, backend_id=backend_id, modified=utcnow()))
    uow.commit()
    return True


def complete_processed(
    ctx: EventContext,
    customer_id: str,
    order_id: str,
    backend_id: str = "",
    backend_metadata: Mapping[str, Any] | None = None,
) -> Order | None:
    """The platform's processor finished an executing order: done (None if it is not executing
    any more, e.g. the provider set it meanwhile). `backend_id` and `backend_metadata` (what the
    cloud says of the resource: addresses, size) are recorded on the resource."""
    order = store.load(customer_id, order_id)
    if order is None or order.state is not OrderState.EXECUTING:
        return None
    return _complete(ctx, order, backend_id, backend_metadata)


def fail_executing(ctx: EventContext, customer_id: str, order_id: str, message: str) -> Order | None:
    """The workflow gave up on an executing order (the processor failed or timed out, the agent
    never finished): erred with `message`. None if the order is not executing any more."""
    order = store.load(customer_id, order_id)
    if order is None or order.state is not OrderState.EXECUTING:
        return None
    return _fail(ctx, order, message, "")


def finish_request(ctx: EventContext, order: Order, outcome: Outcome) -> Order | None:
    """A request-based order's ticket ended (services/marketplace_support.py): the order is done,
    canceled (its new resource Terminated) or erred, as `outcome` says. None if it is not executing
    any more."""
    current = store.load(order.customer_id, order.id)
    if current is None or current.state is not OrderState.EXECUTING:
        return None
    if outcome.settlement is Settlement.DONE:
        return _complete(ctx, current)
    if outcome.settlement is Settlement.CANCELED:
        return _refuse(ctx, current, domain.withdraw(current, utcnow(), outcome.error_message))
    return _fail(ctx, current, outcome.error_message, "", outcome.resource_state)


# --- units of work -----------------------------------------------------------------------------------
def _resource(order: Order) -> Resource:
    resource = resource_store.load(order.customer_id, order.project_id, order.resource_id)
    if resource is None:
        raise NotFound(resource_rules.MODEL)
    return resource


def _transition(ctx: EventContext, order: Order, after: Order, event_type: str) -> Order:
    """An approval: the order moves on; if it now executes, its resource shows it."""
    uow = unit_of_work()
    stored = store.save_transition(uow, order, after)
    if after.state is OrderState.EXECUTING and order.type is not OrderType.CREATE:
        resource = _resource(order)
        resource_store.save_changes(
            uow, resource, resource_rules.order_executing(resource, after, after.modified)
        )
    uow.record(domain.event(stored, event_type, ctx))
    uow.after_commit(*lifecycle.answer(order, stored))
    uow.commit()
    return stored


def _refused_resource(uow: UnitOfWork, ctx: EventContext, order: Order, now: Any) -> None:
    resource = _resource(order)
    after = resource_rules.order_refused(resource, order, now)
    resource_store.save_changes(uow, resource, after)
    if resource.counted and not after.counted:
        resource_store.release_count(uow, after)
    uow.record(resource_rules.event(after, resource_rules.canceled_event(order), ctx))


def _refuse(ctx: EventContext, order: Order, after: Order) -> Order:
    """Rejected or canceled: a resource never made is Terminated (and stops counting); an existing
    one is as it was."""
    uow = unit_of_work()
    stored = store.save_transition(uow, order, after)
    _refused_resource(uow, ctx, stored, after.modified)
    event_type = domain.ORDER_REJECTED if after.state is OrderState.REJECTED else domain.ORDER_TERMINATED
    uow.record(domain.event(stored, event_type, ctx))
    uow.after_commit(*lifecycle.answer(order, stored))
    uow.commit()
    return stored


def _complete(
    ctx: EventContext, order: Order, backend_id: str = "", backend_metadata: Mapping[str, Any] | None = None
) -> Order:
    now = utcnow()
    after = domain.complete(order, now)
    resource = _resource(order)
    done = resource_rules.order_done(resource, after, now)
    if backend_id:
        done = replace(done, backend_id=backend_id)
    if backend_metadata is not None:
        done = replace(done, backend_metadata=dict(backend_metadata))
    uow = unit_of_work()
    stored = store.save_transition(uow, order, after)
    resource_store.save_changes(uow, resource, done)
    if resource.counted and not done.counted:
        resource_store.release_count(uow, done)
    billing.on_order_done(uow, order, resource, done, catalog.get_offering(order.offering_id), now)
    uow.record(domain.event(stored, domain.ORDER_COMPLETED, ctx))
    uow.record(resource_rules.event(done, resource_rules.succeeded_event(order), ctx))
    uow.after_commit(*lifecycle.answer(order, stored))
    uow.commit()
    metrics.order_done(stored.id, stored.created, now)
    if order.type is OrderType.CREATE:
        offering_users.provision_for_resource(ctx, done)  # Waldur: on resource_creation_succeeded
    return stored


def _fail(
    ctx: EventContext, order: Order, message: str, traceback: str, resource_state: ResourceState | None = None
) -> Order:
    """Erred, its resource Erred, or left in `resource_state` (OK: nothing changed, no error shown)."""
    now = utcnow()
    after = domain.fail(order, now, message, traceback)
    uow = unit_of_work()
    stored = store.save_transition(uow, order, after)
    resource = _resource(order)
    failed = resource_rules.order_failed(resource, after, now)
    if resource_state is ResourceState.OK:
        failed = replace(failed, state=resource_state, error_message="", error_traceback="")
    elif resource_state is not None:
        failed = replace(failed, state=resource_state)
    resource_store.save_changes(uow, resource, failed)
    uow.record(resource_rules.event(failed, resource_rules.failed_event(order), ctx))
    uow.record(domain.event(stored, domain.ORDER_FAILED, ctx))
    uow.after_commit(*lifecycle.answer(order, stored))
    uow.commit()
    metrics.order_erred(stored.id)
    return stored
