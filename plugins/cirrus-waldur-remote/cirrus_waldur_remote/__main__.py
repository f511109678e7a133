"""`python -m cirrus_waldur_remote reconcile OFFERING_UUID YYYY-MM [--tolerance 0.01]`: see
reconcile.py. Exit 0 when the month is balanced, 1 with the differences, 2 on bad input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TextIO


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    from chalicelib.providers.cloud import ProviderError
    from cirrus_waldur_remote.reconcile import reconcile_offering, report_lines

    parser = argparse.ArgumentParser(prog="python -m cirrus_waldur_remote")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("reconcile", help="compare the remote's invoice items with Cirrus's")
    command.add_argument("offering")
    command.add_argument("month", help="YYYY-MM")
    command.add_argument("--tolerance", default="0.01")
    args = parser.parse_args(argv)
    try:
        year, month = (int(part) for part in args.month.split("-"))
        tolerance = Decimal(args.tolerance)
        if not 1 <= month <= 12:
            raise ValueError(args.month)
    except (ValueError, InvalidOperation):
        print("month must be YYYY-MM and tolerance a number", file=sys.stderr)
        return 2
    try:
        result = reconcile_offering(args.offering.replace("-", ""), year, month, tolerance)
    except (ValueError, ProviderError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    for line in report_lines(result):
        print(line, file=out)
    return 0 if result.balanced else 1


if __name__ == "__main__":
    raise SystemExit(main())
