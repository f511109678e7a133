"""`python -m chalicelib.ops support-priorities` under moto: operators list, add and remove the
support desk's priorities (the API only reads them), and what they do is what the API answers."""

from __future__ import annotations

import io

from chalicelib import ops
from tests.helpers import call


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = ops.main(["support-priorities", *argv], out=out)
    return code, out.getvalue()


def test_operators_keep_the_priorities_the_api_serves(aws, client, alice, capsys):
    # GIVEN a fresh deployment: listing writes the defaults first
    code, listed = run("list")
    assert code == 0
    assert [line.split()[1] for line in listed.splitlines()[1:]] == [
        "High",
        "Highest",
        "Low",
        "Lowest",
        "Medium",
    ]

    # WHEN an operator adds one and removes another
    code, said = run("add", "Urgent", "--description", "Drop everything.")
    assert code == 0 and said.startswith("added priority Urgent (")
    assert run("remove", "Lowest")[0] == 0

    # THEN the API serves exactly that
    served = call(client, "GET", "/api/support-priorities/", alice).json
    assert [p["name"] for p in served] == ["High", "Highest", "Low", "Medium", "Urgent"]
    assert served[-1]["description"] == "Drop everything."

    # A name in use and an unknown priority are refused, changing nothing
    assert run("add", "Urgent")[0] == 2
    assert run("remove", "Nonesuch")[0] == 1
    errors = capsys.readouterr().err
    assert "A priority with this name already exists." in errors and "No Priority matches" in errors
    assert len(call(client, "GET", "/api/support-priorities/", alice).json) == 5
