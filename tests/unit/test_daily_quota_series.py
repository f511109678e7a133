"""A quota's usage per day from its points (domain/daily_quotas.py), and the moves of a fact whose
label changed (domain/analytics.py): values worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from chalicelib.domain.analytics import Add, Move, moves
from chalicelib.domain.daily_quotas import usage_per_day

D1, D2, D3, D4, D5 = (date(2026, 11, d) for d in range(1, 6))


def test_each_day_takes_the_last_point_on_or_before_it() -> None:
    points = {D2: Decimal(3), D4: Decimal(1)}
    assert usage_per_day(points, None, D1, D5) == [0, 3, 3, 1, 1]


def test_the_last_point_before_the_period_is_carried_in() -> None:
    assert usage_per_day({D4: Decimal(1)}, Decimal(7), D1, D5) == [7, 7, 7, 1, 1]
    assert usage_per_day({}, Decimal(2), D1, D3) == [2, 2, 2]


def test_days_before_the_first_point_take_what_is_known_of_them() -> None:
    assert usage_per_day({D3: Decimal(5)}, None, D1, D4, before_history=[1, 2, 9, 9]) == [1, 2, 5, 5]
    # with a value carried in there is no day before the history
    assert usage_per_day({}, Decimal(4), D1, D2, before_history=[1, 1]) == [4, 4]


def test_a_renamed_object_moves_its_label_and_nothing_else() -> None:
    old = [Add("s", "NOW", "x", 1, label="Old name")]
    new = [Add("s", "NOW", "x", 1, label="New name")]
    assert moves(old, new) == [Move("s", "NOW", "x", Decimal(0), "New name")]
    assert moves(new, new) == []  # nothing changed: nothing written
    # a label dropped keeps the stored one (the last move's label wins): no move
    assert moves(old, [Add("s", "NOW", "x", 1)]) == []
