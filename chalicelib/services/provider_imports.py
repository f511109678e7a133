"""Importable resources (Waldur's `importable_resources/` and `import_resource/` of
`marketplace-provider-offerings/`): what exists at a cloud offering's provider that Cirrus does not
have yet, and making a resource of one of them.

Who may: the offering must be visible on its provider side (else 404); staff import from any
offering; a shared offering's resources only staff (Waldur's "Import is limited to staff for
shared offerings."); a private offering's, its provider's team holding RESOURCE.SET_STATE on it
(Waldur's RESOURCE.LIST_IMPORTABLE, which Cirrus's roles do not have: the same holders, the
provider's owners and managers and the offering's managers). The project must be one the caller
sees (Waldur's serializer filters the projects for the user).

An offering whose type is not run by a cloud backend, or whose backend cannot list, is Waldur's
400 "Current offering plugin does not support resource import". A backend that fails to list
answers an empty list (and is logged), as in Waldur.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib import observability
from chalicelib.domain import resources as rules
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import PermissionDenied, ValidationError
from chalicelib.domain.ids import id_from_url, new_id
from chalicelib.domain.projects import Project
from chalicelib.domain.resources import Resource
from chalicelib.domain.roles import P
from chalicelib.domain.slugs import SlugKind
from chalicelib.domain.vocabulary import BillingType, Offering, Plan, ResourceState
from chalicelib.providers.cloud import CloudBackend, ProviderError, RemoteResource, RemoteState
from chalicelib.services import access as access_service
from chalicelib.services import billing, provider_sync, slugs
from chalicelib.services import customers as customer_service
from chalicelib.services import offerings as catalog
from chalicelib.services.ports import projects as project_store
from chalicelib.services.ports import resources as resource_store
from chalicelib.services.ports import unit_of_work
from chalicelib.services.provider_sync import BackendOf

NOT_SUPPORTED = "Current offering plugin does not support resource import"
SHARED_STAFF_ONLY = "Import is limited to staff for shared offerings."
ALREADY_IMPORTED = "Resource has been imported already."
NOT_AT_PROVIDER = "Resource {} does not exist at the provider."
DOES_NOT_EXIST = "Object with uuid={} does not exist."
NAME_MAX = 150  # the resource name's bound (orders' `name` attribute)

_GONE = frozenset({RemoteState.TERMINATED, RemoteState.TERMINATING})


def _importing(
    principal: Principal, offering_id: str, backend_of: BackendOf
) -> tuple[Offering, CloudBackend]:
    """The offering and its backend, after Waldur's checks in Waldur's order: the object (404), the
    permission (403), then whether its plugin imports (400)."""
    offering = catalog.get_visible(principal, offering_id)
    if not principal.is_staff:
        if offering.shared:
            raise PermissionDenied(SHARED_STAFF_ONLY)
        access_service.access(principal).require(P.SET_RESOURCE_STATE, catalog.scope(offering))
    cloud = provider_sync.plugin(offering)
    if cloud is None or not cloud.importable:
        raise ValidationError([NOT_SUPPORTED])
    try:
        return offering, backend_of(offering)
    except ProviderError as exc:  # e.g. a secret that cannot be read: the provider's words
        raise ValidationError([str(exc) or type(exc).__name__]) from None


def _known(offering: Offering) -> set[str]:
    return {r.backend_id for r in provider_sync.live_resources(offering) if r.backend_id}


def importable_resources(
    principal: Principal, offering_id: str, backend_of: BackendOf
) -> list[RemoteResource]:
    """What the provider has of this offering's kind minus what Cirrus already has (by backend_id)."""
    offering, backend = _importing(principal, offering_id, backend_of)
    try:
        remote = [r for r in backend.list() if r.state not in _GONE]
    except NotImplementedError:
        raise ValidationError([NOT_SUPPORTED]) from None
    except Exception as exc:  # Waldur: logged, and the list is empty
        observability.logger().error(
            "listing importable resources failed", extra={"offering_uuid": offering.id, "cause": str(exc)}
        )
        return []
    known = _known(offering)
    return [r for r in remote if r.backend_id and r.backend_id not in known]


def _project(principal: Principal, reference: str) -> Project:
    project_id = id_from_url(reference)
    project = project_store.get(project_id) if project_id else None
    if project is None or not access_service.access(principal).sees_project(project.id, project.customer_id):
        raise ValidationError.field("project", DOES_NOT_EXIST.format(reference))
    return project


def _plan(offering: Offering, reference: str | None) -> Plan | None:
    if not reference:
        return None
    plan_id = id_from_url(reference)
    plan = offering.plan(plan_id) if plan_id else None
    if plan is None or plan.archived:
        raise ValidationError.field("plan", DOES_NOT_EXIST.format(reference))
    return plan


def _remote(backend: CloudBackend, backend_id: str) -> RemoteResource:
    try:
        found = backend.get(backend_id)
    except ProviderError as exc:  # Waldur: the backend's error is a 400 with its message
        raise ValidationError([str(exc) or type(exc).__name__]) from None
    if found is None or found.state in _GONE:
        raise ValidationError([NOT_AT_PROVIDER.format(backend_id)])
    return found


def _limits(offering: Offering, remote: RemoteResource) -> dict[str, int]:
    limit_types = {c.type for c in offering.components if c.billing_type is BillingType.LIMIT}
    return {k: int(v) for k, v in remote.limits.items() if k in limit_types}


def imported(offering: Offering, project: Project, plan: Plan | None, remote: RemoteResource) -> Resource:
    """The resource an import makes: OK at once, with the provider's id and metadata, consumed by
    the project's customer (no order: it was never ordered through Cirrus)."""
    now = utcnow()
    name = (remote.name or remote.backend_id)[:NAME_MAX]
    return Resource(
        id=new_id(),
        name=name,
        state=ResourceState.OK,
        customer_id=project.customer_id,
        project_id=project.id,
        offering_id=offering.id,
        provider_id=offering.customer_id,
        created=now,
        modified=now,
        plan_id=plan.id if plan else None,
        description=remote.description[: NAME_MAX * 4],
        limits=_limits(offering, remote),
        backend_id=remote.backend_id,
        backend_metadata=dict(remote.metadata),
        customer_name=project.customer_name,
        project_name=project.name,
        offering_name=offering.name,
        offering_type=offering.type,
        provider_name=catalog.provider_name(offering.customer_id),
        plan_name=plan.name if plan else "",
        offering_plugin_options=dict(offering.plugin_options),
        project_slug=project.slug,
        customer_slug=project.customer_slug,
    )


def import_resource(
    ctx: EventContext,
    offering_id: str,
    backend_of: BackendOf,
    backend_id: str,
    project: str,
    plan: str | None = None,
) -> Resource:
    """Make a resource of what the provider has under `backend_id` (400 if the provider does not
    have it, or if Cirrus already has it for this offering), with Waldur's import event."""
    principal = ctx.actor
    offering, backend = _importing(principal, offering_id, backend_of)
    target = _project(principal, project)
    chosen = _plan(offering, plan)
    customer_service.require_available(target.customer_id)
    if backend_id in _known(offering):
        raise ValidationError([ALREADY_IMPORTED])
    resource = imported(offering, target, chosen, _remote(backend, backend_id))
    resource = replace(resource, slug=slugs.generate(SlugKind.RESOURCE, resource.name))
    uow = unit_of_work()
    stored = resource_store.add(uow, resource)
    slugs.claim(uow, SlugKind.RESOURCE, stored.slug, stored.id)
    billing.on_imported(uow, stored, offering, stored.created)
    uow.record(rules.event(stored, rules.IMPORT_SUCCEEDED, ctx))
    uow.commit()
    return stored


def importable_data(remote: RemoteResource) -> Mapping[str, Any]:
    """Waldur's ImportableResource."""
    return {
        "backend_id": remote.backend_id,
        "name": remote.name,
        "type": remote.type,
        "description": remote.description,
    }
