"""bench/client_mix.py's arithmetic: requests counted by method and path template, the agent's calls
split into its cycles, and the combined write share of UI sessions and agent-polled offerings.
(Driving the clients themselves is the script's run: a browser and the stock agent, minutes.)"""

from __future__ import annotations

import pytest

from tests.scripts import load_bench

mix = load_bench("client_mix")


def test_requests_are_counted_by_method_and_path_template() -> None:
    calls = [
        ("GET", "/api/marketplace-orders/0f1e2d3c4b5a69788796a5b4c3d2e1f0/?o=-created"),
        ("GET", "/api/marketplace-orders/11111111-2222-3333-4444-555555555555/"),
        ("POST", "/api/marketplace-orders/0f1e2d3c4b5a69788796a5b4c3d2e1f0/approve_by_provider/"),
        ("PATCH", "/api/invoices/42/"),
    ]
    counted = mix.tally(calls)
    assert counted["by_method"] == {"GET": 2, "PATCH": 1, "POST": 1}
    assert counted["write_share"] == 0.5
    assert counted["by_path"] == {
        "GET /api/marketplace-orders/{id}/": 2,
        "PATCH /api/invoices/{id}/": 1,
        "POST /api/marketplace-orders/{id}/approve_by_provider/": 1,
    }


def test_the_agents_calls_split_into_cycles_at_its_sleeps() -> None:
    times = [0.0, 0.5, 1.0, 61.0, 61.2, 121.0]
    assert mix.cycles_of(times) == [(0, 3), (3, 5), (5, 6)]
    assert mix.cycles_of([]) == []


def test_the_combined_write_share_weighs_sessions_against_polled_offerings() -> None:
    result = {
        "clients": {
            "homeport": {"per_session": {"by_method": {"GET": 90, "POST": 10}}},
            "site_agent": {
                "per_offering_day": {"by_method": {"GET": 800, "POST": 200}},
                "per_order": {"by_method": {"GET": 5, "POST": 5}},
            },
        }
    }
    combined = mix.combine(result, sessions=10, offerings=2, orders=1)
    # 1000 UI requests (100 writes) + 2 x (1000 + 10) agent requests (2 x 205 writes)
    assert combined["requests_per_day"] == {"homeport": 1000, "site_agent": 2020}
    assert combined["write_share_by_client"] == {
        "homeport": 0.1,
        "site_agent": pytest.approx(410 / 2020, abs=1e-4),
    }
    assert combined["write_share"] == pytest.approx(510 / 3020, abs=1e-4)
    assert (
        "site_agent"
        not in mix.combine({"clients": {"homeport": result["clients"]["homeport"]}}, 10, 2, 1)[
            "requests_per_day"
        ]
    )
