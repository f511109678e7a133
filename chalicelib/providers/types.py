"""What an offering type is (`OfferingType`) and the contracts of its hooks: processors (run by the
order workflow for automatic types) and the limits and plugin-options checks. The built-in types
(`builtin.py`) and installed plugins build on these; `registry.py` collects them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.offerings import ComponentTemplate
from chalicelib.domain.vocabulary import BillingType, Offering


class ProcessorKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    TERMINATE = "terminate"
    PULL = "pull"


# The order workflow's contract: `fn(order, offering, heartbeat, attempt)`. For an automatic type it
# provisions the order, which is then done (workflows/marketplace.py); for a type that is not
# automatic it is the type's *request*: run once the order executes, before the order waits for its
# provider to finish it, also given `ctx=` (the workflow's EventContext), and idempotent (it may run
# again for the same order); Support.OfferingTemplate's opens a support ticket.
Processor = Callable[..., Any]
LimitsCheck = Callable[[Offering, Mapping[str, int]], None]
OptionsCheck = Callable[[Mapping[str, Any]], None]


def check_limits(offering: Offering, limits: Mapping[str, int]) -> None:
    """The default limits check: each limit names a `limit` component of the offering and stays
    within its min/max (Waldur's messages)."""
    errors: list[str] = []
    for name, value in limits.items():
        component = offering.component(name)
        if component is None or component.billing_type is not BillingType.LIMIT:
            errors.append(f"{name} is not a limit-based component of this offering.")
            continue
        if component.min_value is not None and value < component.min_value:
            errors.append(f"The limit {value} of {name} is below its minimum {component.min_value}.")
        if component.max_value is not None and value > component.max_value:
            errors.append(f"The limit {value} of {name} is above its maximum {component.max_value}.")
    if errors:
        raise ValidationError({"limits": errors})


@dataclass(frozen=True)
class OfferingType:
    """One kind of offering and what the platform does with its orders."""

    name: str
    label: str = ""
    components: tuple[ComponentTemplate, ...] = ()
    secret_attributes: frozenset[str] = frozenset()
    needs_provider_review: bool = True
    automatic: bool = False  # the platform runs the processors; else an agent sets orders done
    plugin_option_defaults: Mapping[str, Any] = field(default_factory=dict)
    validate_limits: LimitsCheck = check_limits
    validate_plugin_options: OptionsCheck | None = None
    # Checks the offering's secret_options when they are set (ValueError -> 400 on secret_options;
    # its message must not repeat a secret). Skipped when a value is a Secrets Manager reference:
    # those are read, and so checked, when the backend is built.
    validate_secret_options: OptionsCheck | None = None
    # Processor names the owner registers (documentation; the callables come by register_processor).
    processor_kinds: frozenset[ProcessorKind] = frozenset()
    # A type run by a cloud backend (`providers/cloud.py` CloudPlugin): how to build it. None else.
    cloud: Any = None

    def plugin_options(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The type's defaults overlaid with what the provider set."""
        return {**self.plugin_option_defaults, **given}
