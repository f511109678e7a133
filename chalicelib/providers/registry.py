"""The provider plugin registry: what each offering type is and does (Waldur's marketplace plugin
manager, `plugins.manager.register(...)`).

An offering type declares its built-in components, the attribute names that are secret, whether a
provider must review orders (`needs_provider_review`), whether the platform provisions it itself
(`automatic`: the order workflow runs its processors) or an agent finishes each order through the
provider API (`set_state_done`), a limits check, and defaults for its `plugin_options`.

Processors (create / update / terminate / pull) are callables the order workflow runs for automatic
types; they are registered with `register_processor(type, kind, fn)` by the code that owns them
(the order workflow registers Cirrus.Demo's), so the catalog does not depend on the workflows.

Discovery happens on first use, not at import: the built-ins, then every entry point of the group
`cirrus.providers` (`importlib.metadata.entry_points`). An entry point names an `OfferingType`, a
list of them, or a function taking the registry (to register types and processors itself). A
separately installed package adds a type by declaring, in its pyproject.toml:

    [project.entry-points."cirrus.providers"]
    acme = "acme_cirrus:OFFERING_TYPE"
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from typing import Any

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.vocabulary import Offering
from chalicelib.providers import builtin

# What a type is lives in `types.py` (the built-ins build on it, and the registry loads them); a
# plugin imports these names from here, the registry's public face.
from chalicelib.providers.cloud import SECRETS_MANAGER_PREFIX as SECRETS_MANAGER_PREFIX
from chalicelib.providers.cloud import secret_reference_problem as secret_reference_problem
from chalicelib.providers.types import LimitsCheck as LimitsCheck
from chalicelib.providers.types import OfferingType as OfferingType
from chalicelib.providers.types import OptionsCheck as OptionsCheck
from chalicelib.providers.types import Processor as Processor
from chalicelib.providers.types import ProcessorKind as ProcessorKind
from chalicelib.providers.types import check_limits as check_limits

ENTRY_POINT_GROUP = "cirrus.providers"
UNKNOWN_TYPE = '"{}" is not a valid choice.'

_log = logging.getLogger(__name__)


Registration = OfferingType | Iterable[OfferingType] | Callable[["Registry"], Any]


class Registry:
    """Offering types by name, and the processors registered for them. Discovers on first use."""

    def __init__(self, entry_points: Callable[[], Iterable[Any]] | None = None) -> None:
        self._types: dict[str, OfferingType] = {}
        self._processors: dict[tuple[str, ProcessorKind], Processor] = {}
        self._entry_points = entry_points or _installed_entry_points
        self._discovered = False
        self._lock = threading.RLock()

    # --- registration ------------------------------------------------------------------------
    def register(self, offering_type: OfferingType) -> None:
        """Add a type; a later registration of a name replaces the earlier one (the built-ins and
        installed plugins are discovered first, so an explicit registration wins)."""
        with self._lock:
            self.discover()
            self._types[offering_type.name] = offering_type

    def register_processor(self, type_name: str, kind: ProcessorKind | str, fn: Processor) -> None:
        """Attach a processor to a type (no discovery: owners may register at import)."""
        with self._lock:
            self._processors[(type_name, ProcessorKind(kind))] = fn

    def discover(self) -> None:
        """Load the built-ins and every `cirrus.providers` entry point (once)."""
        with self._lock:
            if self._discovered:
                return
            self._discovered = True
            for offering_type in builtin.TYPES:
                self.register(offering_type)
            for register_cloud_type in builtin.CLOUD_TYPES:
                register_cloud_type(self)
            for entry_point in self._entry_points():
                self._load(entry_point)

    def _load(self, entry_point: Any) -> None:
        try:
            loaded = entry_point.load()
        except Exception:  # a broken plugin must not take the catalog down
            _log.exception("provider plugin %s failed to load", getattr(entry_point, "name", "?"))
            return
        self.add(loaded)

    def add(self, loaded: Registration) -> None:
        """Register what an entry point named: a type, a list of types, or a function(registry)."""
        if isinstance(loaded, OfferingType):
            self.register(loaded)
        elif callable(loaded):
            loaded(self)
        else:
            for offering_type in loaded:
                self.register(offering_type)

    # --- lookups -----------------------------------------------------------------------------
    def get(self, name: str) -> OfferingType | None:
        self.discover()
        return self._types.get(name)

    def require(self, name: str, field_name: str = "type") -> OfferingType:
        """The type, or Waldur's 400 for an unknown choice."""
        found = self.get(name)
        if found is None:
            raise ValidationError({field_name: [UNKNOWN_TYPE.format(name)]})
        return found

    def names(self) -> list[str]:
        self.discover()
        return sorted(self._types)

    def processor(self, type_name: str, kind: ProcessorKind | str) -> Processor | None:
        self.discover()
        return self._processors.get((type_name, ProcessorKind(kind)))


def _installed_entry_points() -> Iterable[Any]:
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


REGISTRY = Registry()


def done_on_approval(offering: Offering) -> bool:
    """Whether the provider's approval of an order is all its provider does (a Basic offering with
    `plugin_options.done_on_approval`): the order is done at once."""
    return builtin.done_on_approval(offering)


def get_type(name: str) -> OfferingType | None:
    return REGISTRY.get(name)


def require_type(name: str, field_name: str = "type") -> OfferingType:
    return REGISTRY.require(name, field_name)


def offering_types() -> list[str]:
    return REGISTRY.names()


def register(offering_type: OfferingType) -> None:
    REGISTRY.register(offering_type)


def register_processor(type_name: str, kind: ProcessorKind | str, fn: Processor) -> None:
    REGISTRY.register_processor(type_name, kind, fn)


def processor(type_name: str, kind: ProcessorKind | str) -> Processor | None:
    return REGISTRY.processor(type_name, kind)


def validate_limits(offering: Offering, limits: Mapping[str, int]) -> None:
    """Run the offering type's limits check (the default for unknown types)."""
    found = REGISTRY.get(offering.type)
    (found.validate_limits if found else check_limits)(offering, limits)
