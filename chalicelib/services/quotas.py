"""Quota limits of customers and projects (`nc_project_count`, `nc_user_count`, `nc_resource_count`;
a project's `nc_resource_count`): staff set them. Usage moves only with the things counted, each in
its own transaction (projects, members, resources), and is refused atomically at the limit.

Waldur's API has no endpoint for this any more (its admin sets limits); Cirrus offers staff
`set_quotas/` on customers and projects. A limit is a change of its customer or project, logged as
`customer_update_succeeded` / `project_update_succeeded`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from chalicelib.domain import customers as customer_rules
from chalicelib.domain import events
from chalicelib.domain import projects as project_rules
from chalicelib.domain.context import EventContext
from chalicelib.domain.customers import Customer
from chalicelib.domain.projects import Project
from chalicelib.domain.quotas import CUSTOMER_QUOTAS, PROJECT_QUOTAS, check_limits
from chalicelib.domain.rbac import require_staff
from chalicelib.services import customers, projects
from chalicelib.services.ports import customers as customer_store
from chalicelib.services.ports import projects as project_store
from chalicelib.services.ports import unit_of_work


def set_customer_limits(ctx: EventContext, customer_id: str, limits: Mapping[str, object]) -> Customer:
    customer = customers.for_change(ctx.actor, customer_id)
    require_staff(ctx.actor)
    checked = check_limits(CUSTOMER_QUOTAS, limits)
    uow = unit_of_work()
    customer_store.set_quota_limits(uow, customer, checked)
    uow.record(customer_rules.event(customer, events.UPDATE, ctx))
    uow.commit()
    return replace(customer, quota_limits={**customer.quota_limits, **checked}, version=customer.version + 1)


def set_project_limits(ctx: EventContext, project_id: str, limits: Mapping[str, object]) -> Project:
    project = projects.for_change(ctx.actor, project_id)
    require_staff(ctx.actor)
    checked = check_limits(PROJECT_QUOTAS, limits)
    uow = unit_of_work()
    project_store.set_quota_limits(uow, project, checked)
    uow.record(project_rules.event(project, events.UPDATE, ctx))
    uow.commit()
    return replace(project, quota_limits={**project.quota_limits, **checked}, version=project.version + 1)
