"""Provider plan use cases (`marketplace-plans/`): create, change, archive, set prices and quotas.

A plan lives inside its offering (store/offerings.py), so each change rewrites the offering with a
version condition and writes its event in the same transaction. Permissions are Waldur's, on the
offering's path (the offering, then its provider customer): OFFERING.CREATE_PLAN,
OFFERING.UPDATE_PLAN (changes, prices, quotas), OFFERING.ARCHIVE_PLAN. Plans are archived, never
deleted (an order may name one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain import offerings as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.roles import P
from chalicelib.domain.vocabulary import Offering, Plan
from chalicelib.services import access as access_service
from chalicelib.services import offerings, request_keys
from chalicelib.services.ports import offerings as store
from chalicelib.services.ports import unit_of_work


@dataclass(frozen=True)
class PlanView:
    offering: Offering
    plan: Plan


def get_visible(principal: Principal, plan_id: str) -> PlanView:
    """A plan of an offering the caller manages (provider side), or NotFound."""
    owner = store.plan_owner(plan_id)
    offering = store.load(*owner) if owner else None
    plan = offering.plan(plan_id) if offering else None
    if offering is None or plan is None or not offerings.manages(access_service.access(principal), offering):
        raise NotFound(domain.PLAN_MODEL)
    return PlanView(offering, plan)


@dataclass(frozen=True)
class PlanFilters:
    offering_id: str | None = None
    customer_id: str | None = None  # the provider's

    def matches(self, offering: Offering) -> bool:
        if self.offering_id is not None and offering.id != self.offering_id:
            return False
        return self.customer_id is None or offering.customer_id == self.customer_id


def list_plans(principal: Principal, filters: PlanFilters) -> list[PlanView]:
    """Plans of the offerings the caller manages, newest offering first, plans in their order."""
    rights = access_service.access(principal)
    if filters.offering_id is not None:
        found = store.get(filters.offering_id)
        candidates = [found] if found else []
    elif filters.customer_id is not None:
        candidates = store.for_customer(filters.customer_id)[::-1]
    else:
        candidates = store.read_all()
    return [
        PlanView(o, p)
        for o in candidates
        if filters.matches(o) and offerings.manages(rights, o)
        for p in o.plans
    ]


def _change(ctx: EventContext, offering: Offering, plan: Plan, event_type: str) -> PlanView:
    """Write `plan` into `offering` (new or changed) with its event."""
    plans = offering.plans if offering.plan(plan.id) else (*offering.plans, plan)
    after = replace(offering, plans=tuple(plan if p.id == plan.id else p for p in plans))
    name = offerings.provider_name(offering.customer_id)
    uow = unit_of_work()
    store.save(uow, offering, after)
    if event_type == domain.PLAN_CREATED:
        request_keys.remember(uow, ctx, plan.id)
    uow.record(domain.plan_event(event_type, after, plan, name, ctx))
    uow.commit()
    return PlanView(replace(after, version=offering.version + 1), plan)


def _for_change(ctx: EventContext, plan_id: str, permission: str) -> PlanView:
    view = get_visible(ctx.actor, plan_id)
    access_service.access(ctx.actor).require(permission, offerings.scope(view.offering))
    return view


def create_plan(ctx: EventContext, offering_id: str | None, data: Mapping[str, Any]) -> PlanView:
    """Add a plan to an offering the caller may change (`offering_id` from its URL); a retry with
    the request's `Idempotency-Key` answers with the plan it added (services/request_keys.py)."""
    return request_keys.once(
        ctx,
        lambda: _create_plan(ctx, offering_id, data),
        lambda used: get_visible(ctx.actor, used.object_id),
    )


def _create_plan(ctx: EventContext, offering_id: str | None, data: Mapping[str, Any]) -> PlanView:
    rights = access_service.access(ctx.actor)
    found = store.get(offering_id) if offering_id else None
    if found is None or not offerings.manages(rights, found):
        raise ValidationError.field("offering", offerings.INVALID_HYPERLINK)
    rights.require(P.CREATE_OFFERING_PLAN, offerings.scope(found))
    offering = store.load(found.customer_id, found.id) or found
    plan = domain.plan_from(offering.id, data, offering.components, utcnow())
    return _change(ctx, offering, plan, domain.PLAN_CREATED)


def update_plan(ctx: EventContext, plan_id: str, data: Mapping[str, Any]) -> PlanView:
    """Change the fields given (PUT and PATCH alike)."""
    view = _for_change(ctx, plan_id, P.UPDATE_OFFERING_PLAN)
    changed = domain.plan_from(view.offering.id, data, view.offering.components, utcnow(), view.plan)
    if changed == view.plan:
        return view
    return _change(ctx, view.offering, changed, domain.PLAN_UPDATED)


def update_prices(ctx: EventContext, plan_id: str, prices: Any) -> PlanView:
    """Set the price per unit of each component named (the others keep theirs)."""
    view = _for_change(ctx, plan_id, P.UPDATE_OFFERING_PLAN)
    given = domain.plan_from(
        view.offering.id, {"name": "-", "prices": prices}, view.offering.components, utcnow()
    )
    changed = replace(view.plan, prices={**view.plan.prices, **given.prices})
    if changed == view.plan:
        return view
    return _change(ctx, view.offering, changed, domain.PLAN_UPDATED)


def update_quotas(ctx: EventContext, plan_id: str, quotas: Any) -> PlanView:
    view = _for_change(ctx, plan_id, P.UPDATE_OFFERING_PLAN)
    given = domain.plan_from(
        view.offering.id, {"name": "-", "quotas": quotas}, view.offering.components, utcnow()
    )
    changed = replace(view.plan, quotas={**view.plan.quotas, **given.quotas})
    if changed == view.plan:
        return view
    return _change(ctx, view.offering, changed, domain.PLAN_UPDATED)


def archive_plan(ctx: EventContext, plan_id: str) -> PlanView:
    view = _for_change(ctx, plan_id, P.ARCHIVE_OFFERING_PLAN)
    if view.plan.archived:
        raise ValidationError([domain.PLAN_ARCHIVED])
    return _change(ctx, view.offering, replace(view.plan, archived=True), domain.PLAN_ARCHIVED_EVENT)
