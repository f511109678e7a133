"""Fetch analytics charts from a running Cirrus and save them as SVG files for the README.

Against `make run` (start it first, in another terminal, and let it run a minute so the stream has
folded the demo data into the aggregates):

    .venv/bin/python bench/analytics_chart.py --banner run.log        # a saved copy of the banner
    .venv/bin/python bench/analytics_chart.py --url http://127.0.0.1:8000 --token <staff token> \\
        --scope <customer uuid>

The URL, the staff token and the demo customer come from the options, else from the environment
(CIRRUS_URL, CIRRUS_TOKEN, CIRRUS_CHART_SCOPE), else from the banner `make run` prints
(`--banner FILE`, or `-` for stdin: `make run | tee run.log`). Each chart (`--chart NAME`, repeatable;
default: every chart below) is fetched from `/api/analytics-charts/<name>/`, checked to be an SVG
document, and written to `docs/images/analytics-<name>.svg` (`--out DIR` to change the directory).
Extra query parameters: `--param start=2026-11-01` (repeatable, for every chart).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"
SVG_ROOT = "{http://www.w3.org/2000/svg}svg"
# What `make run` prints (chalicelib/local/__main__.py; bench/local_scale.py reads the same lines).
_BANNER = re.compile(r"Cirrus is running on (\S+)/api/")
_TOKEN = re.compile(r"^\s+token:\s+(\S+)")
_DEMO = re.compile(r"^\s+demo:\s+customer (\S+), project (\S+)")


@dataclass(frozen=True)
class Target:
    url: str
    token: str
    scope: str | None  # the customer the quota chart draws


def from_banner(lines: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        if m := _BANNER.search(line):
            found["url"] = m.group(1)
        elif m := _TOKEN.match(line):
            found["token"] = m.group(1)
        elif m := _DEMO.match(line):
            found["scope"] = m.group(1)
    return found


def target(args: argparse.Namespace) -> Target:
    banner: dict[str, str] = {}
    if args.banner:
        text = sys.stdin.read() if args.banner == "-" else Path(args.banner).read_text(encoding="utf-8")
        banner = from_banner(text.splitlines())
    url = args.url or os.environ.get("CIRRUS_URL") or banner.get("url")
    token = args.token or os.environ.get("CIRRUS_TOKEN") or banner.get("token")
    scope = args.scope or os.environ.get("CIRRUS_CHART_SCOPE") or banner.get("scope")
    if not url or not token:
        raise SystemExit("no URL or token: give --url and --token, CIRRUS_URL and CIRRUS_TOKEN, or --banner")
    return Target(url.rstrip("/"), token, scope)


def chart_params(name: str, to: Target, extra: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    params = list(extra)
    if name == "daily-quotas":
        if not to.scope:
            raise SystemExit(
                "the daily-quotas chart needs a customer: --scope, CIRRUS_CHART_SCOPE or --banner"
            )
        params.insert(0, ("scope", to.scope))
    return params


def fetch(to: Target, name: str, params: Sequence[tuple[str, str]]) -> bytes:
    query = f"?{urlencode(params)}" if params else ""
    request = urllib.request.Request(
        f"{to.url}/api/analytics-charts/{name}/{query}", headers={"Authorization": f"Token {to.token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body: bytes = response.read()
            kind = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{name}: HTTP {exc.code} {exc.read()[:300]!r}") from None
    if kind != "image/svg+xml":
        raise SystemExit(f"{name}: expected image/svg+xml, got {kind!r}")
    if ET.fromstring(body).tag != SVG_ROOT:
        raise SystemExit(f"{name}: the answer is not an SVG document")
    return body


CHARTS = ("daily-quotas", "users-registration")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="the API's base URL (without /api/)")
    parser.add_argument("--token", help="a staff user's token")
    parser.add_argument("--scope", help="the customer (uuid or URL) of the quota chart")
    parser.add_argument("--banner", help="a file holding make run's banner, or - for stdin")
    parser.add_argument("--chart", action="append", choices=CHARTS, help="a chart to fetch (default: all)")
    parser.add_argument("--param", action="append", default=[], help="an extra query parameter, k=v")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default {OUT})")
    args = parser.parse_args(argv)
    to = target(args)
    extra = [(key, value) for key, _, value in (p.partition("=") for p in args.param) if key]
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.chart or CHARTS:
        body = fetch(to, name, chart_params(name, to, extra))
        path = args.out / f"analytics-{name}.svg"
        path.write_bytes(body if body.endswith(b"\n") else body + b"\n")
        print(f"{name}: {len(body):,} bytes -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
