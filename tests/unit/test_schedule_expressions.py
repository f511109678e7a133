"""EventBridge schedule expressions (pure): next fire times, refusals, the registry's entries, and
the local ticker's firing rules with a fake clock and queue."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.local.ticker import Ticker
from chalicelib.workflows import expressions, registry
from chalicelib.workflows.expressions import Cron, ExpressionError, Rate, parse
from chalicelib.workflows.schedules import SCHEDULES, Schedule


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(15 minutes)", timedelta(minutes=15)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(6 hours)", timedelta(hours=6)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(7 days)", timedelta(days=7)),
    ],
)
def test_a_rate_fires_every_interval_from_the_previous_fire(expression, interval):
    parsed = parse(expression)
    assert parsed == Rate(interval)
    assert parsed.next_after(at("2024-02-28T23:59:00")) == at("2024-02-28T23:59:00") + interval


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # daily at 03:30
        ("cron(30 3 * * ? *)", "2024-01-01T04:00:00", "2024-01-02T03:30:00"),
        ("cron(30 3 * * ? *)", "2024-01-01T03:29:59", "2024-01-01T03:30:00"),
        ("cron(30 3 * * ? *)", "2024-01-01T03:30:00", "2024-01-02T03:30:00"),  # strictly after
        # every 15 minutes
        ("cron(0/15 * * * ? *)", "2024-01-01T10:07:12", "2024-01-01T10:15:00"),
        ("cron(*/15 * * * ? *)", "2024-01-01T23:50:00", "2024-01-02T00:00:00"),
        # weekdays at 08:00 (Friday 2024-01-05 after 8 -> Monday 2024-01-08)
        ("cron(0 8 ? * MON-FRI *)", "2024-01-05T09:00:00", "2024-01-08T08:00:00"),
        ("cron(0 8 ? * 2-6 *)", "2024-01-05T09:00:00", "2024-01-08T08:00:00"),
        # Sundays (1 = SUN) at 10:15 and 22:45
        ("cron(15,45 10,22 ? * 1 *)", "2024-01-07T10:20:00", "2024-01-07T10:45:00"),
        ("cron(15 22 ? * SUN *)", "2024-01-02T00:00:00", "2024-01-07T22:15:00"),
        # first of the month; the year rolls over
        ("cron(0 0 1 * ? *)", "2024-12-15T00:00:00", "2025-01-01T00:00:00"),
        # 29 February only in leap years
        ("cron(0 12 29 2 ? *)", "2025-03-01T00:00:00", "2028-02-29T12:00:00"),
        # quarters, by name, business hours every 30 minutes
        ("cron(0/30 9-17 1 JAN,APR,JUL,OCT ? *)", "2024-01-01T17:30:00", "2024-04-01T09:00:00"),
        # a year range
        ("cron(0 0 1 1 ? 2030-2031)", "2024-06-01T00:00:00", "2030-01-01T00:00:00"),
    ],
)
def test_a_cron_fires_at_the_next_matching_minute(expression, after, expected):
    assert parse(expression).next_after(at(after)) == at(expected)


def test_a_cron_whose_years_are_over_never_fires_again():
    assert parse("cron(0 0 1 1 ? 2020)").next_after(at("2024-01-01T00:00:00")) is None


def test_a_cron_keeps_the_fields_it_was_given():
    parsed = parse("cron(0 8 ? * MON-FRI *)")
    assert isinstance(parsed, Cron)
    assert parsed.weekdays == (2, 3, 4, 5, 6) and parsed.days is None
    assert parsed.minutes == (0,) and parsed.hours == (8,)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 0 L * ? *)", "not supported"),  # last day of the month
        ("cron(0 0 15W * ? *)", "not supported"),  # nearest weekday
        ("cron(0 10 ? * 6#3 *)", "not supported"),  # third Friday
        ("cron(0 10 ? * 6L *)", "not supported"),  # last Friday
        ("cron(0 0 1 * MON *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 0 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 0 * * ?)", "6 fields"),
        ("cron(60 * * * ? *)", "outside 0-59"),
        ("cron(0 ? * * ? *)", "'?' is only allowed"),
        ("cron(0 0 ? * 8 *)", "outside 1-7"),
        ("cron(0 0 ? FOO * *)", "not a valid month"),
        ("cron(0 0 ? * FRI-MON *)", "backwards"),
        ("cron(0/0 * * * ? *)", "bad step"),
        ("rate(1 minutes)", "'minute'"),
        ("rate(5 minute)", "'minutes'"),
        ("rate(0 minutes)", "positive"),
        ("rate(30 seconds)", "minute(s), hour(s) or day(s)"),
        ("rate(hourly)", "rate(<value> <unit>)"),
        ("at(2024-01-01T00:00:00)", "rate(...) or cron(...)"),
    ],
)
def test_an_expression_eventbridge_refuses_or_cirrus_does_not_support_is_refused(expression, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")) as raised:
        parse(expression)
    assert expression in str(raised.value)  # the error names the expression it refuses


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: s.name)
def test_every_registered_schedule_parses_and_names_a_registered_task(schedule):
    assert isinstance(expressions.parse(schedule.expression), Rate | Cron)
    assert schedule.task in registry.load_all()


def test_schedule_names_are_unique():
    names = [s.name for s in SCHEDULES]
    assert len(names) == len(set(names))


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict, str]] = []
        self.broken = False

    def __call__(self, task: str, payload: dict, *, idempotency_key: str) -> str:
        if self.broken:
            raise ConnectionError("endpoint down")
        self.sent.append((task, payload, idempotency_key))
        return idempotency_key


TICKER_SCHEDULES = (
    Schedule("hourly", "rate(1 hour)", "t.hourly", {"kind": "h"}),
    Schedule("nightly", "cron(30 3 * * ? *)", "t.nightly"),
)


def test_the_ticker_fires_rates_at_once_and_crons_at_their_time():
    queue = FakeQueue()
    ticker = Ticker(TICKER_SCHEDULES, enqueue=queue)
    start = at("2024-01-01T02:00:00")
    assert ticker.tick(start) == [("hourly", start)]
    assert queue.sent == [("t.hourly", {"kind": "h"}, "hourly:2024-01-01T02:00:00+00:00")]
    assert ticker.tick(start + timedelta(minutes=59)) == []
    assert ticker.tick(start + timedelta(hours=1, seconds=3)) == [("hourly", start + timedelta(hours=1))]
    fired = ticker.tick(at("2024-01-01T03:30:04"))
    assert fired == [("nightly", at("2024-01-01T03:30:00"))]
    assert queue.sent[-1] == ("t.nightly", {}, "nightly:2024-01-01T03:30:00+00:00")
    assert ticker.next_fires()["nightly"] == at("2024-01-02T03:30:00")


def test_the_ticker_does_not_replay_missed_fires_and_retries_a_failed_send():
    queue = FakeQueue()
    ticker = Ticker(TICKER_SCHEDULES[:1], enqueue=queue)
    start = at("2024-01-01T00:00:00")
    ticker.tick(start)
    assert len(ticker.tick(start + timedelta(hours=5, minutes=10))) == 1  # one fire, not five
    assert ticker.next_fires()["hourly"] == start + timedelta(hours=6, minutes=10)
    queue.broken = True
    assert ticker.tick(start + timedelta(hours=7)) == []  # logged, still due
    queue.broken = False
    assert [key for *_, key in queue.sent][-1] == "hourly:2024-01-01T01:00:00+00:00"
    assert ticker.tick(start + timedelta(hours=7)) == [("hourly", start + timedelta(hours=6, minutes=10))]


def test_the_ticker_thread_starts_and_stops():
    queue = FakeQueue()
    ticker = Ticker(TICKER_SCHEDULES, enqueue=queue, interval=0.05).start()
    deadline = time.monotonic() + 5
    while not queue.sent and time.monotonic() < deadline:
        time.sleep(0.01)
    ticker.stop(timeout=2)
    assert not ticker.running
    assert [task for task, *_ in queue.sent] == ["t.hourly"]  # once: not again within the hour


def test_a_cron_made_by_hand_without_day_fields_is_refused_even_under_python_O():
    cron = Cron((0,), (0,), None, (1,), None, (2030,))
    with pytest.raises(ExpressionError):
        cron.matches_day(datetime(2030, 1, 1).date())
