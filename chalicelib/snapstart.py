"""Lambda SnapStart runtime hooks for the API function.

With SnapStart, Lambda runs the function's init (importing app.py) once per published version,
snapshots the memory, and starts every execution environment from a copy of it. Whatever init left
in memory is then shared by all of them: a botocore client's connections and credentials, a
pynamodb connection, the state of `random` (every copy would draw the same jitter). After a restore,
`after_restore` drops the AWS clients (each is rebuilt on first use, in this environment) and
reseeds `random` from the OS. Before the snapshot, `before_snapshot` builds what every request needs
and costs no I/O (the route table), so restored environments do not build it again.

Checked for what init captures (issue 19): importing app.py builds no client and no connection,
reads no settings, and draws no random or time value (ids are UUIDv7 from `os.urandom` and the clock
when made; `domain/ids.py` keeps only the last millisecond used, zero at init). The hooks hold even
if that changes.

The hooks come from Lambda's Python runtime (3.12 and later: `snapshot_restore_py`, the runtime's
copy of aws/snapshot-restore-py); anywhere else (tests, the local stack, older runtimes) there is
nothing to register with, and `register` does nothing.
"""

from __future__ import annotations

import random
import sys
from typing import Any

HOOKS_MODULE = "snapshot_restore_py"


def register(app: Any) -> bool:
    """Register the hooks with Lambda's runtime, if it has them; True when registered. Cheap: one
    import attempt, no I/O (app.py calls it at import, which is Lambda's init)."""
    try:
        hooks = __import__(HOOKS_MODULE)
    except ImportError:
        return False
    hooks.register_before_snapshot(before_snapshot, app)
    hooks.register_after_restore(after_restore)
    return True


def before_snapshot(app: Any) -> None:
    """Build the route table into the snapshot (chalicelib/api/gateway.py builds it lazily)."""
    from chalicelib.api import gateway

    gateway.route_table(app)


def after_restore() -> None:
    """Forget every AWS client and connection made before the snapshot, and reseed `random`."""
    drop_clients()
    random.seed()  # from os.urandom: each restored environment draws its own jitter


def drop_clients() -> None:
    """The boto3 clients (workflows/aws.py) and the pynamodb connections of every model
    (store/items.py) are made again on next use. A module not imported yet holds none (and is not
    imported here: that would only move its import into the restore)."""
    aws = sys.modules.get("chalicelib.workflows.aws")
    if aws is not None:
        aws._client.cache_clear()
    items = sys.modules.get("chalicelib.store.items")
    if items is not None:
        for model in (items.BaseItem, *items.ALL_MODELS):
            model._connection = None
