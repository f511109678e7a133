"""bench/analytics_chart.py: fetches the charts from a served Cirrus (found by make run's banner)
and saves them as SVG files, as the README embeds them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import create_customer, create_project
from tests.scripts import load_bench


@pytest.fixture
def served(aws: None) -> Iterator[Any]:
    from app import app
    from chalicelib.local.server import AppServer

    running = AppServer(app, port=0).start()
    try:
        yield running
    finally:
        running.stop()


def test_the_script_saves_each_chart_found_through_the_banner(client, staff, settle, served, tmp_path: Path):
    script = load_bench("analytics_chart")
    acme = create_customer(client, staff, "Acme")
    create_project(client, staff, acme, "Apollo")
    settle()
    banner = tmp_path / "run.log"
    banner.write_text(
        f"Cirrus is running on {served.url}/api/\n"
        f"  token:      {staff.token}\n"
        f"  demo:       customer {acme['uuid']}, project 0123\n"
    )

    assert script.main(["--banner", str(banner), "--out", str(tmp_path / "images")]) == 0

    quotas = ET.parse(tmp_path / "images" / "analytics-daily-quotas.svg").getroot()
    assert "".join(quotas.find("{http://www.w3.org/2000/svg}title").itertext()) == "Acme: quota usage per day"
    users = ET.parse(tmp_path / "images" / "analytics-users-registration.svg").getroot()
    bars = [r for r in users.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "bar"]
    assert len(bars) == 1  # staff, registered by default


def test_the_script_refuses_what_is_not_a_chart(staff, served, tmp_path: Path, monkeypatch):
    script = load_bench("analytics_chart")
    monkeypatch.setenv("CIRRUS_URL", served.url)
    monkeypatch.setenv("CIRRUS_TOKEN", "0" * 40)
    with pytest.raises(SystemExit, match="HTTP 401"):
        script.main(["--chart", "users-registration", "--out", str(tmp_path)])
    monkeypatch.setenv("CIRRUS_TOKEN", staff.token)
    with pytest.raises(SystemExit, match="needs a customer"):
        script.main(["--chart", "daily-quotas", "--out", str(tmp_path)])
    assert not list(tmp_path.iterdir())
