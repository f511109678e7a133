"""The provider plugin registry: the built-in offering types, processors registered by their owners,
the default limits check, and discovery of types a separately installed package declares under the
`cirrus.providers` entry-point group (a real dist-info on sys.path, found by importlib.metadata)."""

from __future__ import annotations

import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.vocabulary import BillingType, Component, Offering
from chalicelib.providers import builtin
from chalicelib.providers.registry import (
    ENTRY_POINT_GROUP,
    REGISTRY,
    OfferingType,
    ProcessorKind,
    Registry,
    check_limits,
)


def no_plugins() -> list[metadata.EntryPoint]:
    return []


def test_the_built_in_types_say_who_does_the_work():
    registry = Registry(entry_points=no_plugins)
    basic, slurm, demo = (registry.get(n) for n in (builtin.BASIC, builtin.SLURM, builtin.DEMO))
    assert basic and slurm and demo
    # Basic and Slurm: a provider reviews each order and its agent finishes it.
    assert (basic.needs_provider_review, basic.automatic, basic.components) == (True, False, ())
    assert (slurm.needs_provider_review, slurm.automatic) == (True, False)
    assert [(c.type, c.billing_type) for c in slurm.components] == [
        ("cpu", BillingType.USAGE),
        ("gpu", BillingType.USAGE),
        ("ram", BillingType.USAGE),
    ]
    # The demo provider runs by itself, configured by the offering's plugin options.
    assert (demo.needs_provider_review, demo.automatic) == (False, True)
    assert demo.plugin_options({"delay_seconds": 0}) == {"delay_seconds": 0, "failure_rate": 0.0}
    # Request-based offerings (Waldur's Support.OfferingTemplate): no review, no built-in components,
    # not provisioned by the platform (the desk's ticket finishes the order).
    support = registry.get(builtin.SUPPORT)
    assert support and (support.needs_provider_review, support.automatic, support.components) == (
        False,
        False,
        (),
    )
    assert registry.names() == sorted(
        [builtin.BASIC, builtin.SLURM, builtin.DEMO, builtin.SUPPORT, "AWS.Instance"]
    )
    assert registry.get("OpenStack.Tenant") is None


def test_an_unknown_type_is_waldurs_invalid_choice():
    with pytest.raises(ValidationError) as refused:
        Registry(entry_points=no_plugins).require("OpenStack.Tenant")
    assert refused.value.errors == {"type": ['"OpenStack.Tenant" is not a valid choice.']}


@pytest.mark.parametrize(
    "options",
    [{"delay_seconds": -1}, {"delay_seconds": "soon"}, {"failure_rate": 1.5}, {"failure_rate": True}],
)
def test_the_demo_type_checks_its_plugin_options(options):
    demo = Registry(entry_points=no_plugins).require(builtin.DEMO)
    assert demo.validate_plugin_options is not None
    with pytest.raises(ValueError):
        demo.validate_plugin_options(demo.plugin_options(options))


def test_processors_are_registered_by_their_owner_and_looked_up_by_type_and_kind():
    registry = Registry(entry_points=no_plugins)

    def create(*args: object) -> str:
        return "created"

    registry.register_processor(builtin.DEMO, "create", create)
    assert registry.processor(builtin.DEMO, ProcessorKind.CREATE) is create
    assert registry.processor(builtin.DEMO, "terminate") is None
    assert registry.processor(builtin.BASIC, "create") is None  # agent-driven: nothing to run
    with pytest.raises(ValueError):
        registry.register_processor(builtin.DEMO, "reboot", create)


def offering(*components: Component) -> Offering:
    return Offering(id="o", customer_id="c", name="Compute", type=builtin.BASIC, components=components)


def test_the_default_limits_check_wants_limit_components_within_their_bounds():
    cores = Component(
        id="1", type="cores", name="Cores", billing_type=BillingType.LIMIT, min_value=1, max_value=8
    )
    hours = Component(id="2", type="hours", name="Hours", billing_type=BillingType.USAGE)
    check_limits(offering(cores, hours), {"cores": 4})
    with pytest.raises(ValidationError) as refused:
        check_limits(offering(cores, hours), {"cores": 9, "hours": 1, "ram": 2})
    assert refused.value.errors == {
        "limits": [
            "The limit 9 of cores is above its maximum 8.",
            "hours is not a limit-based component of this offering.",
            "ram is not a limit-based component of this offering.",
        ]
    }


# --- discovery of installed plugins ----------------------------------------------------------------
PLUGIN = """
from chalicelib.domain.vocabulary import BillingType
from chalicelib.domain.offerings import ComponentTemplate
from chalicelib.providers.registry import OfferingType

OFFERING_TYPE = OfferingType(
    name="Acme.Storage",
    components=(ComponentTemplate("storage", "Storage", "GB", BillingType.LIMIT),),
    secret_attributes=frozenset({"api_key"}),
    needs_provider_review=False,
    automatic=True,
)


def register(registry):
    registry.register(OfferingType(name="Acme.Backup"))
    registry.register_processor("Acme.Storage", "create", lambda *args: "made")
"""


def install_plugin(root: Path, entry_points: str) -> None:
    """A tiny installed distribution: its module and its dist-info with entry points."""
    (root / "acme_cirrus.py").write_text(PLUGIN)
    dist = root / "acme_cirrus-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-cirrus\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture
def installed(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("acme_cirrus", None)


def test_a_separately_installed_package_adds_offering_types_through_its_entry_points(installed):
    install_plugin(
        installed,
        f"""
        [{ENTRY_POINT_GROUP}]
        acme = acme_cirrus:OFFERING_TYPE
        acme-more = acme_cirrus:register
        """,
    )
    assert {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)} >= {"acme", "acme-more"}

    registry = Registry()  # the default: importlib.metadata's entry points
    storage = registry.require("Acme.Storage")
    assert (storage.automatic, storage.needs_provider_review) == (True, False)
    assert [c.type for c in storage.components] == ["storage"] and storage.secret_attributes == {"api_key"}
    assert registry.get("Acme.Backup") is not None
    processor = registry.processor("Acme.Storage", "create")
    assert processor is not None and processor() == "made"
    # The built-ins are there too.
    assert {builtin.BASIC, builtin.SLURM, builtin.DEMO} <= set(registry.names())


def test_a_broken_plugin_is_skipped_and_the_rest_still_load(installed, caplog):
    install_plugin(
        installed,
        f"""
        [{ENTRY_POINT_GROUP}]
        broken = acme_cirrus_missing:OFFERING_TYPE
        acme = acme_cirrus:OFFERING_TYPE
        """,
    )
    registry = Registry()
    assert registry.get("Acme.Storage") is not None
    assert "broken" in caplog.text


def test_a_later_registration_of_a_name_replaces_the_earlier_one():
    registry = Registry(entry_points=no_plugins)
    registry.register(OfferingType(name=builtin.BASIC, needs_provider_review=False))
    assert registry.require(builtin.BASIC).needs_provider_review is False
    assert builtin.SLURM in registry.names()  # the built-ins came first


def test_the_process_wide_registry_knows_the_built_ins():
    assert REGISTRY.get(builtin.DEMO) is not None
