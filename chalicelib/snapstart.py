"""Lambda SnapStart runtime hooks for the API function.

With SnapStart, Lambda runs the function's init (importing app.py) once per published version,
snapshots the memory, and starts every execution environment from a copy of it. Whatever init left
in memory is then shared by all of them: a botocore client's connections and credentials, a
pynamodb connection, the state of `random` (every copy would draw the same jitter). After a restore,
`after_restore` drops the AWS clients (each is rebuilt on first use, in this environment) and
reseeds `random` from the OS. Before the snapshot, `before_snapshot` builds what every request needs
and costs no I/O (the route table) and imports what requests import lazily (chalicelib's modules,
the AWS SDK), so restored environments do neither again.

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
from collections.abc import Iterator
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


# What a request imports lazily and a snapshot can hold instead: every module of chalicelib but the
# local stack's (moto, the dev server) and the operator's CLI, and the AWS SDK. About 130 ms of CPU
# at full speed (~450 ms at 512 MB) that the first request after each restore would otherwise pay.
WARM_PACKAGE = "chalicelib"
WARM_SKIP = ("chalicelib.local", "chalicelib.ops")
WARM_EXTRA = ("boto3", "botocore.client", "pynamodb.connection")


def before_snapshot(app: Any) -> None:
    """Build the route table into the snapshot (chalicelib/api/gateway.py builds it lazily) and
    import what requests would import on first use. No client is built: none can go stale."""
    from chalicelib.api import gateway

    gateway.route_table(app)
    warm_imports()


def warm_imports() -> list[str]:
    """Import the modules a request may import lazily (WARM_PACKAGE's, WARM_EXTRA); returns the ones
    that failed to import (logged, never fatal: a failure here must not fail the version's init)."""
    import importlib

    names = list(_submodules(WARM_PACKAGE))
    failed = []
    for name in (*names, *WARM_EXTRA):
        try:
            importlib.import_module(name)
        except Exception:  # one odd module must not cost the snapshot
            failed.append(name)
    if failed:
        from chalicelib import observability

        observability.logger().warning("snapshot warm-up skipped modules", extra={"modules": failed})
    return failed


def after_restore() -> None:
    """Forget every AWS client and connection made before the snapshot, and reseed `random`."""
    drop_clients()
    random.seed()  # from os.urandom: each restored environment draws its own jitter


def drop_clients() -> None:
    """The boto3 clients (workflows/aws.py, files.py) and the pynamodb connections of every model
    (store/items.py) are made again on next use. A module not imported yet holds none (and is not
    imported here: that would only move its import into the restore)."""
    aws = sys.modules.get("chalicelib.workflows.aws")
    if aws is not None:
        aws._client.cache_clear()
    files = sys.modules.get("chalicelib.files")
    if files is not None:
        files._client.cache_clear()
    items = sys.modules.get("chalicelib.store.items")
    if items is not None:
        for model in (items.BaseItem, *items.ALL_MODELS):
            model._connection = None


def _submodules(package_name: str) -> Iterator[str]:
    """The modules under a package, WARM_SKIP's excluded before anything of theirs is imported (a
    package is imported to walk into it)."""
    import importlib
    import pkgutil

    package = importlib.import_module(package_name)
    for found in pkgutil.iter_modules(package.__path__, f"{package_name}."):
        if found.name.startswith(WARM_SKIP):
            continue
        yield found.name
        if found.ispkg:
            yield from _submodules(found.name)
