"""chalicelib/api/errors.drf_errors: a 400's body nests as Django REST framework nests serializer
errors (DRF 3.15, the version Waldur pins): a dict field by its keys, a nested serializer by its
fields (its own errors under `non_field_errors`), a serializer with many=True as one entry per
item sent (`{}` for the valid ones), a ListField by index; pydantic's own location parts never
become keys."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, ValidationError, model_validator

import app  # noqa: F401 (registers every endpoint in ENDPOINTS)
from chalicelib.api.errors import FLAT, drf_errors, to_http
from chalicelib.api.marketplace_plans import PricesIn
from chalicelib.api.marketplace_usages import SetUsageIn
from chalicelib.api.rest import ENDPOINTS, BodyModel
from chalicelib.domain.errors import ValidationError as Refused

NUMBER = ["A valid number is required."]
REQUIRED = ["This field is required."]
NULL = ["This field may not be null."]


def shaped(model: type[BaseModel], data: dict[str, Any], *, with_input: bool = True) -> Any:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return drf_errors(caught.value, model, data) if with_input else drf_errors(caught.value)


def line(amount: Any = 1, **fields: Any) -> dict[str, Any]:
    return {"type": "storage", "amount": amount, **fields}


# --- a list of objects (a serializer with many=True) ---------------------------------------------
def test_a_list_of_objects_answers_one_entry_per_item_sent_with_empty_ones_for_valid_items():
    body = {"usages": [line(), line("lots"), line(), {"amount": -1}]}

    assert shaped(SetUsageIn, body) == {
        "usages": [
            {},
            {"amount": NUMBER},
            {},
            {"type": REQUIRED, "amount": ["Ensure this value is greater than or equal to 0."]},
        ]
    }


def test_without_the_input_the_list_runs_to_the_last_bad_item():
    body = {"usages": [line(), line("lots"), line()]}

    assert shaped(SetUsageIn, body, with_input=False) == {"usages": [{}, {"amount": NUMBER}]}


def test_a_list_of_objects_answers_its_own_errors_under_non_field_errors():
    # DRF's ListSerializer raises {"non_field_errors": [...]} for a non-list or a list too long
    assert shaped(SetUsageIn, {"usages": {"type": "storage"}}) == {
        "usages": {"non_field_errors": ['Expected a list of items but got type "dict".']}
    }
    assert shaped(SetUsageIn, {"usages": [line()] * 51}) == {
        "usages": {"non_field_errors": ["Ensure this field has no more than 50 elements."]}
    }


def test_required_and_null_are_plain_lists_at_any_depth():
    assert shaped(SetUsageIn, {}) == {"usages": REQUIRED}
    assert shaped(SetUsageIn, {"usages": None}) == {"usages": NULL}
    assert shaped(SetUsageIn, {"usages": [None, line()]}) == {"usages": [NULL, {}]}


def test_an_item_that_is_not_an_object_answers_non_field_errors_in_its_place():
    assert shaped(SetUsageIn, {"usages": [line(), "storage"]}) == {
        "usages": [{}, {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}]
    }


# --- a dict (DictField) ---------------------------------------------------------------------------
def test_a_dict_answers_by_its_keys():
    body = {"prices": {"cpu": "lots", "ram": "1", "gpu": "-1"}}

    assert shaped(PricesIn, body) == {
        "prices": {"cpu": NUMBER, "gpu": ["Ensure this value is greater than or equal to 0."]}
    }


@pytest.mark.parametrize("key", ["str", "int", "[key]", "function-after[check(), str]", "0", "a.b"])
def test_a_key_the_client_sent_is_kept_as_sent_even_when_it_looks_like_pydantics(key):
    assert shaped(PricesIn, {"prices": {key: "lots"}}) == {"prices": {key: NUMBER}}


def test_a_dict_that_is_not_one_answers_a_plain_list():
    assert shaped(PricesIn, {"prices": ["1"]}) == {
        "prices": ['Expected a dictionary of items but got type "list".']
    }


# --- a list of values (ListField), a flat list, a nested serializer --------------------------------
class Line(BaseModel):
    start: int
    end: int

    @model_validator(mode="after")
    def _ordered(self) -> Line:
        if self.end < self.start:
            raise ValueError("End must be after start.")
        return self


class Shapes(BodyModel):
    tags: list[int] = Field(default_factory=list, max_length=3)
    users: Annotated[list[str], FLAT] = Field(default_factory=list)
    period: Line | None = None
    limits: dict[str, Line] = Field(default_factory=dict)


def test_a_list_of_values_answers_a_dict_keyed_by_index():
    assert shaped(Shapes, {"tags": [1, "x", 3]}) == {"tags": {"1": ["A valid integer is required."]}}


def test_a_list_of_values_answers_its_own_errors_as_a_plain_list():
    too_long = ["Ensure this field has no more than 3 elements."]
    assert shaped(Shapes, {"tags": [1, 2, 3, 4]}) == {"tags": too_long}
    assert shaped(Shapes, {"tags": "1"}) == {"tags": ['Expected a list of items but got type "str".']}


def test_a_flat_list_answers_the_first_bad_items_messages_under_the_field():
    # Waldur's many-related and multiple-choice fields stop at the first bad item
    assert shaped(Shapes, {"users": ["a", 5, None]}) == {"users": ["Not a valid string."]}


def test_a_nested_object_answers_by_field_and_its_own_errors_under_non_field_errors():
    assert shaped(Shapes, {"period": {"start": "x"}}) == {
        "period": {"start": ["A valid integer is required."], "end": REQUIRED}
    }
    assert shaped(Shapes, {"period": {"start": 2, "end": 1}}) == {
        "period": {"non_field_errors": ["End must be after start."]}
    }
    assert shaped(Shapes, {"period": "soon"}) == {
        "period": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}
    }


def test_a_dict_of_objects_nests_by_key_then_by_field():
    assert shaped(Shapes, {"limits": {"cpu": {"start": 1, "end": "x"}}}) == {
        "limits": {"cpu": {"end": ["A valid integer is required."]}}
    }


def test_the_bodys_own_errors_stay_a_top_level_non_field_errors():
    class Body(BodyModel):
        a: int = 0
        b: int = 0

        @model_validator(mode="after")
        def _one(self) -> Body:
            if self.a and self.b:
                raise ValueError("Give a or b.")
            return self

    assert shaped(Body, {"a": 1, "b": 1}) == {"non_field_errors": ["Give a or b."]}


# --- every body of the API ------------------------------------------------------------------------
WRONG: list[Any] = [
    None, 5, "x", True, [], {}, [None], [5, "x"], [{"type": None}], {"str": None, "[key]": [1]}
]  # fmt: skip


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


def _allowed(model: type[BaseModel]) -> set[str]:
    names = {"non_field_errors", *(str(i) for i in range(3))}
    for name, field in model.model_fields.items():
        names.add(field.alias or name)
        for nested in _models_in(field.annotation):
            names |= _allowed(nested)
    return names


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]


BODIES = sorted({ep.body for ep in ENDPOINTS if ep.body is not None}, key=lambda m: m.__name__)


def test_every_body_model_is_checked():
    assert len(BODIES) >= 60, "the registry lost endpoints (a broken import?)"


@pytest.mark.parametrize("model", BODIES, ids=lambda m: m.__name__)
def test_no_location_part_of_pydantics_becomes_a_key_in_any_body(model):
    allowed = _allowed(model) | {"str", "[key]"}  # the keys WRONG's dict sends
    for name in model.model_fields:
        for value in WRONG:
            data = {name: value, "usages": [{"type": "x", "amount": Decimal(1)}, {"amount": value}]}
            try:
                model.model_validate(data)
            except ValidationError as exc:
                for body in (drf_errors(exc, model, data), drf_errors(exc)):
                    assert _keys(body) <= allowed, (model.__name__, data, body)


def test_a_domain_refusal_nests_a_dicts_errors_by_key():

    refused = Refused({"limits": {"cpu": ("A valid integer is required.",)}, "plan": ["Bad."]})
    body = {"limits": {"cpu": ["A valid integer is required."]}, "plan": ["Bad."]}
    assert to_http(refused) == (400, body, {})
