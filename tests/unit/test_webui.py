"""The local stack serving a HomePort build beside the API (chalicelib/local/webui.py, server.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local import webui


@pytest.fixture
def build(tmp_path: Path) -> Path:
    root = tmp_path / "build"
    (root / "scripts" / "configs").mkdir(parents=True)
    (root / "index.html").write_text("<html>HomePort</html>")
    (root / "scripts" / "app.js").write_text("console.log(1)")
    (root / "scripts" / "configs" / "config.json").write_text(
        json.dumps({"apiEndpoint": "http://elsewhere:8080/", "accountingMode": "billing"})
    )
    (tmp_path / "secret.txt").write_text("not served")
    return root


def test_settings_point_at_this_server_and_keep_the_builds_other_settings(build: Path) -> None:
    asset = webui.HomePort(build, "http://127.0.0.1:9000").answer("/scripts/configs/config.json")
    assert asset.status == 200 and asset.cache == "no-store"
    assert json.loads(asset.body) == {"apiEndpoint": "http://127.0.0.1:9000/", "accountingMode": "billing"}


def test_files_are_served_and_app_routes_fall_back_to_the_page(build: Path) -> None:
    site = webui.HomePort(build, "http://h")
    script = site.answer("/scripts/app.js?v=1")
    assert script.status == 200 and script.content_type.startswith("text/javascript")
    for route in ("/", "/organizations/abc/dashboard/", "/login/?next=x"):
        page = site.answer(route)
        assert page.status == 200 and page.body == b"<html>HomePort</html>"
    assert site.answer("/scripts/missing.js").status == 404  # not the page, which would not parse


def test_nothing_outside_the_build_is_served(build: Path) -> None:
    site = webui.HomePort(build, "http://h")
    for sneaky in ("/../secret.txt", "/%2e%2e/secret.txt", "/scripts/../../secret.txt", "/a%00b.js"):
        assert b"not served" not in site.answer(sneaky).body


def test_the_api_paths_are_never_the_uis() -> None:
    assert (
        webui.is_api_path("/api/customers/")
        and webui.is_api_path("/api")
        and webui.is_api_path("/api-auth/x")
    )
    assert not webui.is_api_path("/apis/") and not webui.is_api_path("/organizations/")


def test_a_folder_without_index_html_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(webui.HomePortMissing, match=r"no index\.html"):
        webui.configured({"CIRRUS_HOMEPORT_DIR": str(tmp_path)})
    assert webui.configured({}) is None and webui.configured({"CIRRUS_HOMEPORT_DIR": " "}) is None


@pytest.fixture
def served(aws: None, build: Path) -> Iterator[str]:
    from app import app
    from chalicelib.local.server import AppServer

    server = AppServer(app, port=0, homeport_dir=build).start()
    try:
        yield server.url
    finally:
        server.stop()


def _get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


def test_the_local_server_serves_the_ui_beside_the_api(served: Any) -> None:
    status, headers, body = _get(f"{served}/projects/x/")
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"HomePort" in body
    status, _, body = _get(f"{served}/scripts/configs/config.json")
    assert json.loads(body)["apiEndpoint"] == f"{served}/"
    status, headers, body = _get(f"{served}/api/version/")
    assert status == 200 and headers["Content-Type"] == "application/json" and b"version" in body
    assert _get(f"{served}/api/no-such-thing/")[0] == 404  # the API's 404, not the page
    status, _, body = _get(f"{served}/organizations/", method="HEAD")
    assert status == 200 and body == b""
