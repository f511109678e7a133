"""The input budgets (chalicelib/domain/bounds.py): how free-form JSON is measured, and that the
largest item carrying it still fits DynamoDB's item limit when moto counts a replaced value twice."""

from __future__ import annotations

import pytest

from chalicelib.domain import bounds
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.numbers import MAX_INTEGER
from chalicelib.domain.orders import check_limits


def test_values_are_measured_as_the_store_writes_them():
    assert bounds.stored_size({"a": "é"}) == len('{"a": "\\u00e9"}')
    assert bounds.shape({"a": [{"b": 1}, 2]}) == bounds.Shape(depth=3, keys=2, longest_key=1)
    assert bounds.shape("text") == bounds.Shape(0, 0, 0)


def test_a_very_deep_value_is_refused_without_recursing():
    value: object = 1
    for _ in range(100_000):
        value = [value]
    assert (
        bounds.problem(value, bounds.ATTRIBUTES) == "Ensure this value is nested no more than 10 levels deep."
    )


def test_the_largest_resource_fits_an_item_even_when_moto_counts_its_document_twice():
    names = 6 * bounds.stored_size("ж" * 150)  # customer, project, offering, provider, plan, resource
    description = bounds.ATTRIBUTES.max_bytes  # copied out of the attributes
    document = (
        bounds.ATTRIBUTES.max_bytes
        + description
        + bounds.PLUGIN_OPTIONS.max_bytes
        + bounds.BACKEND_METADATA.max_bytes
        + bounds.REPORT.max_bytes
        + bounds.ERROR_MESSAGE_BYTES
        + bounds.ERROR_TRACEBACK_BYTES
        + bounds.AMOUNTS.max_bytes  # limits
        + names
    )
    current_usages = bounds.AMOUNTS.max_bytes  # an attribute of its own, not replaced with the document
    keys_and_small_fields = 4_000
    # moto refuses an update when the item's old and new values together pass 405,000 bytes
    assert 2 * document + current_usages + keys_and_small_fields < 405_000
    assert document + current_usages + keys_and_small_fields < bounds.ITEM_LIMIT


def test_limits_are_whole_numbers_up_to_the_largest_amount():
    assert check_limits({"cpu": MAX_INTEGER}) == {"cpu": MAX_INTEGER}
    with pytest.raises(ValidationError):
        check_limits({"cpu": MAX_INTEGER + 1})
    with pytest.raises(ValidationError):
        check_limits({"cpu": 10**30})
