"""What a customer and a project add to `customer-quotas/` and `project-quotas/`
(domain/analytics_quota_lists.py), and how the rows are read back: values by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from chalicelib.domain import analytics_quota_lists as lists
from chalicelib.domain.analytics import NOW, Aggregate, totals
from chalicelib.domain.customers import Customer
from chalicelib.domain.projects import Project

WHEN = datetime(2026, 11, 1, tzinfo=UTC)
ACME = Customer(id="c1", name="Acme", created=WHEN, abbreviation="AC", quota_usage={"nc_project_count": 2})
APOLLO = Project(id="p1", customer_id="c1", name="Apollo", created=WHEN, customer_name="Acme",
                 quota_usage={"nc_resource_count": 3})  # fmt: skip
GEMINI = Project(id="p2", customer_id="c1", name="Gemini", created=WHEN, customer_name="Acme")


def test_a_customer_is_in_the_directory_and_counts_only_the_quotas_it_uses() -> None:
    sums = totals([lists.customer_facts(ACME)])
    assert {key: value for key, (value, _) in sums.items()} == {
        (lists.CUSTOMERS, NOW, "c1"): Decimal(1),
        (lists.usage_series("customer", "nc_project_count"), NOW, "c1"): Decimal(2),
    }


def test_a_removed_project_is_in_no_list() -> None:
    assert lists.project_facts(replace(GEMINI, removed=WHEN)) == []


def test_rows_take_zero_for_no_usage_and_order_most_first_then_by_name() -> None:
    facts = [lists.project_facts(APOLLO), lists.project_facts(GEMINI)]
    sums = totals(facts)
    directory = [
        Aggregate(s, p, f, v, label) for (s, p, f), (v, label) in sums.items() if s == lists.PROJECTS
    ]
    usage = [
        Aggregate(s, p, f, v, label)
        for (s, p, f), (v, label) in sums.items()
        if s == lists.usage_series("project", "nc_resource_count")
    ]
    rows = lists.ordered(lists.rows("project", directory, usage), "value")
    assert [(r.name, r.customer_id, r.customer_name, r.value) for r in rows] == [
        ("Apollo", "c1", "Acme", 3),
        ("Gemini", "c1", "Acme", 0),
    ]
    assert [r.name for r in lists.ordered(rows, "name")] == ["Gemini", "Apollo"]
    assert [r.name for r in lists.ordered(rows, "value", ascending=True)] == ["Gemini", "Apollo"]
