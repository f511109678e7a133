"""The catalog's domain rules without AWS: Waldur's offering transitions (every action from every
state), activation needs a live plan, archived offerings stay as they are, and components and plans
built from input refuse what Waldur refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.domain import offerings as rules
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.vocabulary import (
    OFFERING_TRANSITIONS,
    BillingType,
    Offering,
    OfferingState,
    Plan,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)
PLAN = Plan(id="p", offering_id="o", name="Monthly")


def offering(state: OfferingState, *plans: Plan) -> Offering:
    return Offering(id="o", customer_id="c", name="VMs", type="Marketplace.Basic", state=state, plans=plans)


@pytest.mark.parametrize("state", list(OfferingState))
@pytest.mark.parametrize("action", list(OFFERING_TRANSITIONS))
def test_each_action_moves_only_from_its_source_states(action, state):
    sources, target = OFFERING_TRANSITIONS[action]
    if state in sources:
        assert rules.next_state(offering(state, PLAN), action) is target
    else:
        with pytest.raises(ValidationError) as refused:
            rules.next_state(offering(state, PLAN), action)
        assert refused.value.errors == ["Offering state is invalid."]


@pytest.mark.parametrize("action", ["activate", "unpause"])
def test_going_active_needs_a_plan_that_is_not_archived(action):
    start = OfferingState.DRAFT if action == "activate" else OfferingState.PAUSED
    archived = Plan(id="p", offering_id="o", name="Old", archived=True)
    with pytest.raises(ValidationError) as refused:
        rules.next_state(offering(start, archived), action)
    assert refused.value.errors == ["Offering does not have any billing plans."]


def test_an_archived_offering_is_not_updated():
    rules.check_updatable(offering(OfferingState.PAUSED))
    with pytest.raises(ValidationError):
        rules.check_updatable(offering(OfferingState.ARCHIVED))


def test_components_need_unique_types_and_the_types_built_ins_fill_in():
    cpu = {"type": "cpu", "name": "Cores", "billing_type": "limit"}
    built_in = (rules.ComponentTemplate("cpu", "CPU"), rules.ComponentTemplate("ram", "RAM"))
    made = rules.components_from([cpu], built_in)
    assert [(c.type, c.name, c.billing_type) for c in made] == [
        ("cpu", "Cores", BillingType.LIMIT),  # the offering's own wins over the built-in
        ("ram", "RAM", BillingType.USAGE),
    ]
    with pytest.raises(ValidationError):
        rules.components_from([cpu, cpu])
    with pytest.raises(ValidationError) as refused:
        rules.component_from({"type": "x", "name": "X", "billing_type": "hourly"})
    assert refused.value.errors == {"billing_type": ['"hourly" is not a valid choice.']}


def test_plans_name_components_of_their_offering_and_keep_inline_prices():
    components = rules.components_from([{"type": "cpu", "name": "CPU", "billing_type": "limit"}])
    plan = rules.plan_from("o", {"name": "M", "unit_price": "9.5", "prices": {"cpu": 2}}, components, NOW)
    assert (plan.unit_price, plan.prices, plan.created) == (Decimal("9.5"), {"cpu": Decimal(2)}, NOW)
    with pytest.raises(ValidationError) as refused:
        rules.plan_from("o", {"name": "M", "quotas": {"gpu": 1}}, components, NOW)
    assert refused.value.errors == {"quotas": ["Invalid components: gpu."]}
    changed = rules.plan_from("o", {"archived": True}, components, NOW, existing=plan)
    assert (changed.id, changed.archived, changed.prices) == (plan.id, True, plan.prices)


def test_options_are_objects():
    assert rules.check_object(None, "plugin_options") == {}
    with pytest.raises(ValidationError) as refused:
        rules.check_object(["a"], "plugin_options")
    assert refused.value.errors == {"plugin_options": ["Dictionary is expected."]}
