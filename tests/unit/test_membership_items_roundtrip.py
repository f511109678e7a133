"""Grants and invitations survive the store's item mapping field for field: every field of the
domain dataclass is drawn (a field added later is drawn too), written to the item's DynamoDB form
and read back. A field the hand mapping forgets fails here instead of being dropped silently."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import UTC, datetime
from typing import Any, TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.invitations import Invitation
from chalicelib.domain.rbac import Grant
from chalicelib.store import grants, invitations
from chalicelib.store.items import GrantItem, InvitationItem

T = TypeVar("T")
_ID = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
_WHEN = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def _strategy(annotation: Any, name: str) -> st.SearchStrategy[Any]:
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return st.one_of(*(_strategy(a, name) for a in args))
    if annotation is type(None):
        return st.none()
    if annotation is datetime:
        return _WHEN
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return st.sampled_from(list(annotation))
    if annotation is int:
        return st.integers(min_value=0, max_value=2**53)
    if annotation is str:
        return _ID if name == "id" or name.endswith("_id") else st.text(max_size=20)
    raise AssertionError(f"no strategy for {name}: {annotation!r}")  # a new kind of field: add one


def every_field(cls: type[T]) -> st.SearchStrategy[T]:
    hints = typing.get_type_hints(cls)
    drawn = {f.name: _strategy(hints[f.name], f.name) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return st.fixed_dictionaries(drawn).map(lambda values: cls(**values))


@settings(max_examples=60, deadline=None)
@given(every_field(Grant))
def test_a_grant_reads_back_as_written(grant: Grant) -> None:
    raw = grants._item(grant).serialize()
    assert grants._from_item(GrantItem.from_raw_data(raw)) == grant


@settings(max_examples=60, deadline=None)
@given(every_field(Invitation))
def test_an_invitation_reads_back_as_written(invitation: Invitation) -> None:
    raw = invitations._item(invitation).serialize()
    assert invitations._from_item(InvitationItem.from_raw_data(raw)) == invitation
