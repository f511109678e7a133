"""What the platform does with a cloud backend (`providers/cloud.py`): build it for an offering
(secrets resolved), turn an order into a `Job`, and run create / update / terminate as the order
workflow's processors (`workflows/order_workflow.py` calls `fn(order, offering, heartbeat, attempt)`
for the type's registered processor, else this driver's for a cloud type: `processor_for`).

A backend's `TransientError` becomes the workflow's retried `Cirrus.Transient`, any other failure
its error branch (the order and resource Erred with the message).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.domain.orders import Order
from chalicelib.domain.vocabulary import Offering
from chalicelib.providers import registry
from chalicelib.providers.cloud import (
    SECRETS_MANAGER_PREFIX,
    CloudBackend,
    CloudPlugin,
    Heartbeat,
    Job,
    ProviderError,
    Settings,
    TransientError,
    secret_reference_problem,
)
from chalicelib.providers.types import ProcessorKind
from chalicelib.store import resources
from chalicelib.workflows import steps

# A secret option whose value is a Secrets Manager ARN is read from Secrets Manager when a backend is
# built; under the key `secret_arn` a JSON object's members become secret options themselves.
SECRET_ARN = "secret_arn"


def plugin_of(offering: Offering) -> CloudPlugin | None:
    found = registry.get_type(offering.type)
    return found.cloud if found is not None else None


def resolve_secrets(secrets: Mapping[str, Any], read: Callable[[str], str] | None = None) -> dict[str, Any]:
    """The offering's secret options with Secrets Manager references replaced by their values."""
    read = read or _read_secret
    resolved: dict[str, Any] = {}
    for name, value in secrets.items():
        if not (isinstance(value, str) and value.startswith(SECRETS_MANAGER_PREFIX)):
            resolved[name] = value
            continue
        problem = secret_reference_problem(name, value)
        if problem:  # stored before the rule, or written past the API: never read
            raise ProviderError(problem)
        text = read(value)
        if name == SECRET_ARN:
            try:
                members = json.loads(text)
            except ValueError:
                members = None
            if not isinstance(members, dict):
                raise ProviderError(f"The secret {value} is not a JSON object of settings.")
            resolved.update(members)
        else:
            resolved[name] = text
    for name, value in secrets.items():  # explicit options win over the referenced secret's members
        if name != SECRET_ARN and not (isinstance(value, str) and value.startswith(SECRETS_MANAGER_PREFIX)):
            resolved[name] = value
    return resolved


def _read_secret(arn: str) -> str:
    from chalicelib.workflows.aws import client

    try:
        return str(client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    except Exception as exc:
        raise ProviderError(f"The secret {arn} could not be read ({type(exc).__name__}).") from None


def settings_of(offering: Offering) -> Settings:
    found = registry.get_type(offering.type)
    options = found.plugin_options(offering.plugin_options) if found else dict(offering.plugin_options)
    return Settings(
        offering_uuid=offering.id,
        offering_name=offering.name,
        options=options,
        secrets=resolve_secrets(offering.secret_options),
        customer_uuid=offering.customer_id,
    )


def backend_for(offering: Offering) -> CloudBackend:
    plugin = plugin_of(offering)
    if plugin is None:
        raise ProviderError(f"Offering type {offering.type} is not provisioned by a cloud backend.")
    return plugin.factory(settings_of(offering))


def job_of(order: Order, offering: Offering, backend_id: str = "") -> Job:
    plan = offering.plan(order.plan_id) if order.plan_id else None
    old_plan = offering.plan(order.old_plan_id) if order.old_plan_id else None
    return Job(
        resource_uuid=order.resource_id,
        resource_name=order.resource_name,
        project_uuid=order.project_id,
        customer_uuid=order.customer_id,
        order_uuid=order.id,
        backend_id=backend_id,
        attributes=dict(order.attributes),
        limits=dict(order.limits),
        old_limits=dict(order.old_limits),
        plan_name=plan.name if plan else order.plan_name,
        plan_code=plan.article_code if plan else "",
        old_plan_code=old_plan.article_code if old_plan else "",
        project_name=order.project_name,
        customer_name=order.customer_name,
    )


def _resource_backend_id(order: Order) -> str:
    resource = resources.get(order.resource_id)
    return resource.backend_id if resource is not None else ""


def processor_for(type_name: str, kind: ProcessorKind) -> Callable[..., dict[str, Any]] | None:
    """The driver's processor of `kind` if `type_name` is run by a cloud backend, else None."""
    found = registry.get_type(type_name)
    return processor(kind) if found is not None and found.cloud is not None else None


def processor(kind: ProcessorKind) -> Callable[..., dict[str, Any]]:
    """The order workflow's processor of `kind` for every cloud type."""

    def run(
        order: Order, offering: Offering, heartbeat: Heartbeat, attempt: int = 0, **_: Any
    ) -> dict[str, Any]:
        try:
            backend = backend_for(offering)
            if kind is ProcessorKind.CREATE:
                made = backend.create(job_of(order, offering), heartbeat)
                return {"backend_id": made.backend_id, "backend_metadata": dict(made.metadata)}
            backend_id = _resource_backend_id(order)
            if kind is ProcessorKind.UPDATE:
                changed = backend.update(job_of(order, offering, backend_id), heartbeat)
                return {
                    "backend_id": changed.backend_id or backend_id,
                    "backend_metadata": dict(changed.metadata),
                }
            if backend_id:  # a resource never made at the provider has nothing to delete
                backend.terminate(job_of(order, offering, backend_id), heartbeat)
            return {"backend_id": backend_id}
        except TransientError as exc:
            raise steps.TransientStepError(str(exc) or type(exc).__name__) from exc
        except ProviderError as exc:
            raise steps.PermanentStepError(str(exc) or type(exc).__name__) from exc

    run.__name__ = f"cloud_{kind.value}"
    return run
