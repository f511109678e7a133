"""The support catalogs' pure rules: the default priorities and their fixed ids, Waldur's name
filter, and the check of an operator's priority."""

from __future__ import annotations

import pytest

from chalicelib.domain import support_catalog as domain
from chalicelib.domain.errors import ValidationError


def test_the_default_priorities_are_jiras_scheme_with_ids_fixed_for_every_deployment() -> None:
    defaults = domain.default_priorities()
    assert [p.name for p in defaults] == ["Highest", "High", "Medium", "Low", "Lowest"]
    # Fixed forever: deployments, docs and clients may name a default by its uuid.
    assert domain.default_priority_id("Medium") == "c7191cb6bab75e648e53df3df20f189c"
    assert len({p.id for p in defaults}) == 5
    assert all(len(p.id) == 32 and p.description and p.icon_url == "" for p in defaults)


def test_the_name_filter_is_contains_in_any_case_and_exact_is_exact() -> None:
    assert domain.name_matches("Highest", "HIGH", None)
    assert not domain.name_matches("Low", "high", None)
    assert domain.name_matches("High", None, "High") and not domain.name_matches("High", None, "high")
    assert domain.name_matches("High", "hi", "High") and not domain.name_matches("Highest", "hi", "High")


def test_an_operators_priority_is_trimmed_and_checked() -> None:
    made = domain.clean_priority("a" * 32, "  Urgent  ", " Now.\n", " http://x.example/u.png ")
    assert (made.name, made.description, made.icon_url) == ("Urgent", "Now.", "http://x.example/u.png")
    with pytest.raises(ValidationError) as bad:
        domain.clean_priority("a" * 32, "ok", "", "i" * 501)
    assert bad.value.errors == {"icon_url": ["Ensure this field has no more than 500 characters."]}
    with pytest.raises(ValidationError) as bidi:
        domain.clean_priority("a" * 32, "a\u202eb")
    assert bidi.value.errors == {"name": ["Bidirectional override characters are not allowed."]}


def test_both_catalogs_list_by_name_then_id() -> None:
    a2, a1, b = (
        domain.Priority("2" * 32, "A"),
        domain.Priority("1" * 32, "A"),
        domain.Priority("0" * 32, "B"),
    )
    assert domain.by_name([b, a2, a1]) == [a1, a2, b]
