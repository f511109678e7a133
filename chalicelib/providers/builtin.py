"""The offering types Cirrus ships with.

- `Marketplace.Basic`: a provider (or its agent) does the work by hand through the provider API:
  orders wait in `pending-provider`, are approved, then set done. With `plugin_options`
  `{"done_on_approval": true}` the provider's approval sets the order done at once (Waldur's own
  Basic behaviour: nothing to provision), for a provider who works in HomePort, which has an
  approve button but none to set an order done.
- `Marketplace.Slurm`: the same agent-driven flow (waldur-site-agent), with Slurm's usage
  components cpu, gpu and ram.
- `Cirrus.Demo`: a simulated provider that the platform runs itself (no review): its processors
  (registered by the order workflow, `workflows/marketplace.py`) wait `delay_seconds` and fail
  with probability `failure_rate`, both read from the offering's `plugin_options`.
- `Support.OfferingTemplate` (Waldur's marketplace_support, a request-based offering): no provider
  review and no built-in components (the provider defines them); once an order executes, the order
  workflow runs the type's request processor (registered by `workflows/marketplace_support.py`),
  which opens a support ticket for the provider's people, and the order waits until the desk
  resolves the ticket (done) or cancels it (domain/marketplace_support.py).
- `AWS.Instance`: EC2 instances (providers/aws, a cloud backend): `CLOUD_TYPES` registers it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.domain.offerings import ComponentTemplate
from chalicelib.domain.vocabulary import BillingType, Offering
from chalicelib.providers.types import OfferingType, ProcessorKind

BASIC = "Marketplace.Basic"
SLURM = "Marketplace.Slurm"
DEMO = "Cirrus.Demo"
SUPPORT = "Support.OfferingTemplate"  # domain/marketplace_support.PLUGIN_NAME

DEMO_DEFAULTS: Mapping[str, Any] = {"delay_seconds": 2, "failure_rate": 0.0}
DONE_ON_APPROVAL = "done_on_approval"


def _check_basic_options(options: Mapping[str, Any]) -> None:
    """`done_on_approval`: true or false."""
    if not isinstance(options.get(DONE_ON_APPROVAL, False), bool):
        raise ValueError(f"{DONE_ON_APPROVAL} must be true or false.")


def done_on_approval(offering: Offering) -> bool:
    """Whether the provider's approval of an order for `offering` also sets it done."""
    return offering.type == BASIC and offering.plugin_options.get(DONE_ON_APPROVAL) is True


def _check_demo_options(options: Mapping[str, Any]) -> None:
    """`delay_seconds`: a number of seconds from 0 to 900; `failure_rate`: from 0 to 1."""
    delay = options.get("delay_seconds", DEMO_DEFAULTS["delay_seconds"])
    rate = options.get("failure_rate", DEMO_DEFAULTS["failure_rate"])
    for name, value, high in (("delay_seconds", delay, 900), ("failure_rate", rate, 1)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
            raise ValueError(f"{name} must be a number from 0 to {high}.")


TYPES: tuple[OfferingType, ...] = (
    OfferingType(
        name=BASIC,
        label="Basic (manual or agent-driven provider)",
        validate_plugin_options=_check_basic_options,
    ),
    OfferingType(
        name=SLURM,
        label="SLURM allocation (waldur-site-agent)",
        components=(
            ComponentTemplate("cpu", "CPU", "hours", BillingType.USAGE),
            ComponentTemplate("gpu", "GPU", "hours", BillingType.USAGE),
            ComponentTemplate("ram", "RAM", "GB-hours", BillingType.USAGE),
        ),
    ),
    OfferingType(
        name=DEMO,
        label="Cirrus demo provider (simulated, automatic)",
        needs_provider_review=False,
        automatic=True,
        plugin_option_defaults=DEMO_DEFAULTS,
        validate_plugin_options=_check_demo_options,
        processor_kinds=frozenset({ProcessorKind.CREATE, ProcessorKind.UPDATE, ProcessorKind.TERMINATE}),
    ),
    OfferingType(
        name=SUPPORT,
        label="Request-based item (a support ticket for the provider)",
        needs_provider_review=False,
        processor_kinds=frozenset({ProcessorKind.CREATE, ProcessorKind.UPDATE, ProcessorKind.TERMINATE}),
    ),
)


def _aws(registry: Any) -> None:
    from chalicelib.providers import aws

    aws.register(registry)


# Built-in types run by a cloud backend (providers/cloud.py): registration functions, as an entry
# point would name them, that Registry.discover() runs after TYPES (importing each on first use).
CLOUD_TYPES: tuple[Callable[[Any], None], ...] = (_aws,)
