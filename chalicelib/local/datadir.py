"""The local stack's data directory: what `make run` keeps across restarts.

`CIRRUS_DATA_DIR` (default `.cirrus-data/` in the checkout; `none` keeps nothing) holds:

- `table.jsonl`: every item of the table at the last full save, one per line, in DynamoDB JSON;
- `journal.jsonl`: every change since, one line per stream record the local stream reader read
  (`Journal`); a restart replays it over the full save (`replay`);
- `queues.json`: the messages in every SQS queue (body, message attributes, delay left), by name;
- `manifest.json`: the format version, the moto release, when and at which stream position the full
  save was taken, how much it holds. Written last: a readable manifest means a complete full save.

Every file is written to a temporary file in the same directory, flushed and fsynced, then renamed
over the old one, so a crash mid-save leaves the last good copy. A full save reads the table from
moto's model under `moto_speedups.LOCK` (one consistent point in time: every DynamoDB request holds
it), encoding each item there; it happens when a directory is new, when the journal has grown as
long as the table, and at stop.

Restoring puts the items straight into moto's table with its stream set aside: a restored item makes
no stream record, so nothing is published again (no event re-sent to the bus, no web hook re-fired).
Step Functions executions are not kept; `workflows/order_sweep.resume` gives every waiting order its
execution back. Messages carrying a task token (a Task state waiting on a worker) are dropped on
restore: their execution is gone, and the resumed execution sends its own.

Local stack only: never imported by deployed code.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import gc
import json
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from chalicelib.local import moto_speedups
from chalicelib.store import schema

FORMAT_VERSION = 1
DIR_VAR = "CIRRUS_DATA_DIR"
FRESH_VAR = "CIRRUS_FRESH"
INTERVAL_VAR = "CIRRUS_SAVE_INTERVAL"
OFF = "none"  # CIRRUS_DATA_DIR=none: keep nothing
DEFAULT_INTERVAL = 5.0
ROOT = Path(__file__).resolve().parents[2]  # the checkout
DEFAULT_DIR = ROOT / ".cirrus-data"
TABLE_FILE = "table.jsonl"
QUEUES_FILE = "queues.json"
MANIFEST_FILE = "manifest.json"
JOURNAL_FILE = "journal.jsonl"
# A full save waits until the journal holds this many changes, or as many as the table holds items.
MIN_FULL_SAVE = 10_000
TOKEN_FILE = "staff-token"
LOCK_FILE = ".lock"
OURS = frozenset({TABLE_FILE, QUEUES_FILE, MANIFEST_FILE, JOURNAL_FILE, TOKEN_FILE, LOCK_FILE})
REGION = "us-east-1"
MAX_DELAY = 900  # SQS's longest DelaySeconds


class DataDirError(Exception):
    """The data directory cannot be used (unknown format, not ours, in use): `make run` stops."""


@dataclass(frozen=True)
class Snapshot:
    """The table's items (DynamoDB JSON) and each queue's messages, as plain data."""

    # The items in DynamoDB JSON: dicts when read back, their JSON lines when taken from the table
    # (encoded one by one under LOCK: the whole table as dicts would double the stack's memory).
    items: list[Any]
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    locked: float = 0.0  # seconds the table was held (LOCK) to take it
    position: int = 0  # the table's stream position it was taken at (its next record's number)

    @property
    def message_count(self) -> int:
        return sum(len(m) for m in self.messages.values())


@dataclass(frozen=True)
class Outcome:
    """How much a save or a restore moved, where, and how long it took."""

    items: int
    messages: int
    path: Path
    seconds: float
    locked: float = 0.0  # of which the table was held (every DynamoDB request waited)

    def resumed_line(self) -> str:
        return (
            f"data: resumed {self.items} items and {self.messages} queued messages from {self.path}"
            f" in {self.seconds:.2f} s"
        )

    def saved_line(self) -> str:
        return (
            f"data: saved {self.items} items and {self.messages} queued messages to {self.path}"
            f" in {self.seconds:.2f} s"
        )


def configured(env: Mapping[str, str]) -> Path | None:
    """The data directory `env` names (CIRRUS_DATA_DIR; default `.cirrus-data` in the checkout), or
    None for `CIRRUS_DATA_DIR=none`: nothing is kept."""
    value = env.get(DIR_VAR, "").strip()
    if value.lower() in (OFF, "off"):
        return None
    return Path(value).expanduser().resolve() if value else DEFAULT_DIR


def save_interval(env: Mapping[str, str]) -> float:
    """Seconds between periodic saves (CIRRUS_SAVE_INTERVAL, default 5; 0 turns them off)."""
    value = env.get(INTERVAL_VAR, "").strip()
    try:
        return max(0.0, float(value)) if value else DEFAULT_INTERVAL
    except ValueError as exc:
        raise DataDirError(f"{INTERVAL_VAR}={value!r} is not a number of seconds.") from exc


# --- reading moto's models ---------------------------------------------------------------------------
def _items_of(table: Any) -> Iterator[Any]:
    for by_range in table.items.values():
        if isinstance(by_range, dict):
            yield from by_range.values()
        else:  # a table without a range key keeps the item itself
            yield by_range


def _write_position(table: Any) -> int:
    """Where the table's next stream record goes: moves on every write. The stream is trimmed
    (moto_speedups.trim_stream), so its start moves too: start + length, not the length."""
    shard = table.stream_shard
    return 0 if shard is None else int(shard.starting_sequence_number + len(shard.items))


def _sqs_backend() -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends[moto_speedups.ACCOUNT_ID][REGION]


def _queue_messages(queue: Any) -> list[Any]:
    with queue._messages_lock:  # moto's own lock on a queue's list
        return list(queue._messages)


def _message(message: Any, now_ms: float) -> dict[str, Any]:
    left = (message.delayed_until - now_ms) / 1000  # a delayed message keeps the delay it had left
    return {
        "body": message.body,
        "attributes": message.message_attributes or {},
        "delay": min(MAX_DELAY, math.ceil(left)) if left > 0 else 0,
    }


def _snapshot_messages() -> dict[str, list[dict[str, Any]]]:
    now_ms = time.time() * 1000
    queues = dict(_sqs_backend().queues)
    return {name: [_message(m, now_ms) for m in _queue_messages(q)] for name, q in sorted(queues.items())}


def _queues_fingerprint() -> tuple[tuple[str, int, str], ...]:
    found = []
    for name, queue in sorted(dict(_sqs_backend().queues).items()):
        messages = _queue_messages(queue)
        found.append((name, len(messages), messages[-1].id if messages else ""))
    return tuple(found)


Fingerprint = tuple[int, int, tuple[tuple[str, int, str], ...]]


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """No garbage collection while many items are made at once (copied, read, restored): the
    collections their own allocations set off, each walking the whole heap, took two thirds of the
    time (and a save's copy is time every request spends waiting on LOCK)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def snapshot(table_name: str) -> tuple[Snapshot, Fingerprint]:
    """The table's items and the queues' messages now, as plain dicts, with their fingerprint. The
    items are read under LOCK (a consistent point in time) and encoded there, one at a time."""
    with moto_speedups.LOCK, _no_collection():
        started = time.perf_counter()
        table = moto_speedups.table_model(table_name)
        items = [_encode(item.to_json()["Attributes"]) for item in _items_of(table)]
        position = _write_position(table)
        locked = time.perf_counter() - started
    messages = _snapshot_messages()
    return Snapshot(items, messages, locked, position), (position, len(items), _queues_fingerprint())


def fingerprint(table_name: str) -> Fingerprint:
    """Cheap: changes whenever the table is written (its stream's write position, its item count)
    or a message is sent to or deleted from a queue."""
    with moto_speedups.LOCK:
        table = moto_speedups.table_model(table_name)
        count = sum(len(p) if isinstance(p, dict) else 1 for p in table.items.values())
        position = _write_position(table)
    return position, count, _queues_fingerprint()


# --- writing moto's models ---------------------------------------------------------------------------
@contextlib.contextmanager
def _unchecked_item_sizes() -> Iterator[None]:
    """moto adds up an item's whole size again for every attribute it sets (O(attributes²) per
    item): 80% of a restore's time. A restored item passed that check when it was written. Only
    under LOCK: every DynamoDB request waits meanwhile, and nothing else uses LimitedSizeDict."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    checked = LimitedSizeDict.__dict__["__setitem__"]
    LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign]
    try:
        yield
    finally:
        LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]


def restore_items(table_name: str, items: Iterable[dict[str, Any]]) -> int:
    """Put `items` into the table as they were, making no stream record (each would be published
    again: events re-sent to the bus, web hooks fired twice). Returns how many were put."""
    count = 0
    with moto_speedups.LOCK, _unchecked_item_sizes(), _no_collection():
        table = moto_speedups.table_model(table_name)
        shard, table.stream_shard = table.stream_shard, None
        try:
            for attrs in items:
                table.put_item(attrs, overwrite=True)  # through put_item: moto's indexes follow
                count += 1
        finally:
            table.stream_shard = shard
    return count


def carries_task_token(body: str) -> bool:
    """A message a Step Functions Task state sent with its task token (it waits for the answer)."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return False
    payload = envelope.get("payload") if isinstance(envelope, dict) else None
    return isinstance(payload, dict) and "token" in payload


def restore_messages(messages: Mapping[str, list[dict[str, Any]]]) -> tuple[int, int]:
    """Send the saved messages again to their queues (which must exist by now), each with the delay
    it had left; returns (sent, dropped). Dropped: a message carrying a task token (its execution
    did not survive the restart: the resumed one sends its own, and an old token stored over the
    new one would leave the new execution waiting forever), or one whose queue no longer exists."""
    backend = _sqs_backend()
    sent = dropped = 0
    for name, saved in messages.items():
        if name not in backend.queues:
            dropped += len(saved)
            continue
        for message in saved:
            if carries_task_token(message["body"]):
                dropped += 1
                continue
            backend.send_message(
                name,
                message["body"],
                message_attributes=message.get("attributes") or None,
                delay_seconds=int(message.get("delay", 0)),
            )
            sent += 1
    return sent, dropped


# --- files -------------------------------------------------------------------------------------------
def _binary(value: object) -> str:
    """moto hands nested binary values (B in a map or list) back as bytes: stored as DynamoDB JSON
    has them, base64."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot store {type(value).__name__} in the data directory")


def _encode(item: dict[str, Any]) -> str:
    return json.dumps(item, default=_binary, separators=(",", ":"))


def _stage(directory: Path, name: str, write: Callable[[IO[str]], None]) -> Path:
    """Write a temporary file next to `name` (flushed, fsynced); returns its path."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write(directory: Path, data: Snapshot, table_name: str) -> None:
    """Write `data` atomically: every file is staged first, then renamed into place, the manifest
    last. A failure before the renames leaves the previous copy untouched."""

    def table(out: IO[str]) -> None:
        for item in data.items:
            out.write(item if isinstance(item, str) else _encode(item))
            out.write("\n")

    def queues(out: IO[str]) -> None:
        json.dump(data.messages, out, default=_binary)

    manifest = {
        "format": FORMAT_VERSION,
        "moto": moto_speedups.MOTO_VERSION,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "table": table_name,
        "counts": {"items": len(data.items), "messages": data.message_count},
        "position": data.position,  # the journal's changes from here on are replayed over it
    }

    def manifest_file(out: IO[str]) -> None:
        json.dump(manifest, out, indent=2)

    staged: list[tuple[Path, str]] = []
    try:
        for name, writer in ((TABLE_FILE, table), (QUEUES_FILE, queues), (MANIFEST_FILE, manifest_file)):
            staged.append((_stage(directory, name, writer), name))
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    for tmp, name in staged:
        os.replace(tmp, directory / name)
    _fsync_dir(directory)


def write_queues(directory: Path, messages: dict[str, list[dict[str, Any]]]) -> None:
    """Replace the saved queue messages alone (atomically): they change between full saves."""
    os.replace(
        _stage(directory, QUEUES_FILE, lambda out: json.dump(messages, out, default=_binary)),
        directory / QUEUES_FILE,
    )


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The manifest, or None when nothing was ever saved here; DataDirError for one this Cirrus
    cannot read (the directory is then left exactly as it is)."""
    path = directory / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DataDirError(f"{path} is not readable JSON ({exc}); the directory was left as it is.") from exc
    version = manifest.get("format") if isinstance(manifest, dict) else None
    if version != FORMAT_VERSION:
        raise DataDirError(
            f"{directory} holds data in format version {version!r}; this Cirrus reads version"
            f" {FORMAT_VERSION}. It was left untouched: start with {FRESH_VAR}=1 to move it aside and"
            f" start empty, or point {DIR_VAR} elsewhere."
        )
    return dict(manifest)


def read(directory: Path) -> Snapshot | None:
    """The copy saved in `directory` (the last full save with the journal replayed over it), or
    None if there is none."""
    manifest = read_manifest(directory)
    if manifest is None:
        return None
    try:
        with (directory / TABLE_FILE).open(encoding="utf-8") as lines, _no_collection():
            items = [json.loads(line) for line in lines if line.strip()]
            items, position = replay(items, directory, int(manifest.get("position", 0)))
        queues = directory / QUEUES_FILE
        messages = json.loads(queues.read_text(encoding="utf-8")) if queues.exists() else {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataDirError(f"{directory} cannot be read ({exc}); the directory was left as it is.") from exc
    return Snapshot(items, messages, position=position)


# --- the journal: every change since the last full save ---------------------------------------------
class Journal:
    """Every change to the table since the last full save, one line per stream record, appended as
    the local stream reader reads them (`record`): `{"s": sequence number, "k": keys, "n": the new
    image, null for a delete}`. A restart replays it over the last full save, so a full save (the
    whole table, O(table)) is needed only once the journal is as long as the table, and a write
    costs one short line. Each append reaches the operating system at once (a killed process loses
    nothing appended); `sync` (every `CIRRUS_SAVE_INTERVAL` seconds) makes it durable on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.lines = _count_lines(path)
        self._out: IO[str] | None = _append(path)

    def record(self, records: list[dict[str, Any]]) -> None:
        lines = "".join(_change(r) for r in records)
        with self._lock:
            if self._out is None:
                return
            self._out.write(lines)
            self._out.flush()
            self.lines += len(records)

    def sync(self) -> None:
        with self._lock:
            if self._out is not None:
                os.fsync(self._out.fileno())

    def prune(self, position: int) -> None:
        """Drop what a full save taken at stream position `position` holds (records before it);
        atomically, so a crash leaves the journal whole."""
        with self._lock:
            if self._out is None:
                return
            self._out.close()
            kept = [line for line in _journal_lines(self.path) if json.loads(line)["s"] >= position]
            os.replace(_stage(self.path.parent, JOURNAL_FILE, lambda out: out.writelines(kept)), self.path)
            self.lines = len(kept)
            self._out = _append(self.path)

    def close(self) -> None:
        with self._lock:
            if self._out is not None:
                self._out.flush()
                os.fsync(self._out.fileno())
                self._out.close()
                self._out = None


def _append(path: Path) -> IO[str]:
    """The journal, opened for appending; owner-only, like every file here (it holds the table's
    items: password hashes and tokens among them)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8")


def _change(record: dict[str, Any]) -> str:
    change = record["dynamodb"]
    image = None if record.get("eventName") == "REMOVE" else change.get("NewImage")
    return _encode({"s": int(change["SequenceNumber"]), "k": change["Keys"], "n": image}) + "\n"


def _journal_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as lines:
        return [line if line.endswith("\n") else line + "\n" for line in lines if line.strip()]


def _count_lines(path: Path) -> int:
    return len(_journal_lines(path))


def _key(item: dict[str, Any]) -> str:
    return json.dumps([item[schema.PARTITION_KEY], item[schema.SORT_KEY]], sort_keys=True)


def replay(items: list[dict[str, Any]], directory: Path, position: int) -> tuple[list[dict[str, Any]], int]:
    """The saved items with the journal's changes from stream position `position` on applied, in
    order (each a whole new image or a delete: replaying one the full save already holds changes
    nothing), and the stream position after the last change."""
    by_key = {_key(item): item for item in items}
    last = position
    for line in _journal_lines(directory / JOURNAL_FILE):
        try:
            change = json.loads(line)
        except ValueError:
            break  # the last line of a killed process, cut short: nothing after it was written
        if change["s"] < position:
            continue
        key = json.dumps([change["k"][schema.PARTITION_KEY], change["k"][schema.SORT_KEY]], sort_keys=True)
        if change["n"] is None:
            by_key.pop(key, None)
        else:
            by_key[key] = change["n"]
        last = max(last, change["s"] + 1)
    return list(by_key.values()), last


def continue_sequence(table_name: str, position: int) -> None:
    """Number the new stream's records on from `position`: the journal orders changes by sequence
    number across restarts (moto starts every new stream at the same number)."""
    with moto_speedups.LOCK:
        shard = moto_speedups.table_model(table_name).stream_shard
        if shard is not None and not shard.items and shard.starting_sequence_number < position:
            shard.starting_sequence_number = position


# --- the directory -----------------------------------------------------------------------------------
class DataDir:
    """One data directory, held (an exclusive lock) by this process from `open` to `close`."""

    def __init__(self, path: Path, table_name: str) -> None:
        self.path = path
        self.table_name = table_name
        self.moved_aside: Path | None = None
        self._lock: IO[str] | None = None
        self._queues: tuple[tuple[str, int, str], ...] | None = None
        self._saving = threading.Lock()  # the periodic save and the final one never overlap
        self.journal: Journal | None = None  # open from `open` to `close`

    def open(self, fresh: bool = False, now: datetime | None = None) -> Snapshot | None:
        """Take the directory and return what it holds (None: nothing yet, and the table as it is
        now is saved). With `fresh`, a directory holding anything is first renamed
        `<dir>.previous-<time>` (never deleted). The table must exist."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = _lock(self.path)
        if fresh and any(p.name != LOCK_FILE for p in self.path.iterdir()):
            self.moved_aside = _aside(self.path, now or datetime.now())
            self.path.rename(self.moved_aside)
            self._lock.close()
            self.path.mkdir(mode=0o700, parents=True)
            self._lock = _lock(self.path)
        for leftover in self.path.glob(".*.tmp"):  # a save that crashed before its rename
            leftover.unlink()
        _refuse_foreign(self.path)
        saved = read(self.path)
        self.journal = Journal(self.path / JOURNAL_FILE)
        if saved is None:
            # A first full save at once (of what the table holds before the stack writes it): the
            # journal is replayed over a full save, so without one a killed stack kept nothing.
            self.save()
        return saved

    def restore(self, data: Snapshot) -> int:
        """Put the saved items into the table (before anything else writes it); returns how many."""
        count = restore_items(self.table_name, data.items)
        continue_sequence(self.table_name, data.position)
        return count

    def save(self) -> Outcome:
        """Save the whole table and the queues now (a full save); the journal keeps only what came
        after it."""
        with self._saving:
            started = time.perf_counter()
            data, printed = snapshot(self.table_name)
            write(self.path, data, self.table_name)
            if self.journal is not None:
                self.journal.prune(data.position)
            self._queues = printed[2]
            seconds = time.perf_counter() - started
            return Outcome(len(data.items), data.message_count, self.path, seconds, data.locked)

    def save_if_changed(self) -> Outcome | None:
        """The periodic save: the journal made durable; the queues' messages if they changed; the
        whole table only once the journal holds as many changes as the table holds items (so a
        write's share of full saves stays constant as the table grows). Returns the full save's
        outcome, or None."""
        if self.journal is not None:
            self.journal.sync()
            _, count, queues = fingerprint(self.table_name)
            if self.journal.lines >= max(MIN_FULL_SAVE, count):
                return self.save()
        else:
            _, _, queues = fingerprint(self.table_name)
        if queues != self._queues:
            with self._saving:
                write_queues(self.path, _snapshot_messages())
                self._queues = queues
        return None

    def recall_token(self) -> str | None:
        """The staff token printed by the previous start, if one was kept."""
        path = self.path / TOKEN_FILE
        if not path.exists():
            return None
        return path.read_text(encoding="ascii").strip() or None

    def remember_token(self, key: str) -> None:
        """Keep the printed staff token (owner-only file) so the next start prints the same one."""
        tmp = _stage(self.path, TOKEN_FILE, lambda out: print(key, file=out))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path / TOKEN_FILE)

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def _lock(directory: Path) -> IO[str]:
    handle = (directory / LOCK_FILE).open("a", encoding="ascii")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise DataDirError(
            f"{directory} is in use by another local stack; stop it, or point {DIR_VAR} elsewhere."
        ) from exc
    return handle


def _aside(directory: Path, now: datetime) -> Path:
    base = f"{directory}.previous-{now:%Y%m%d-%H%M%S}"
    candidate, n = Path(base), 1
    while candidate.exists():
        n += 1
        candidate = Path(f"{base}-{n}")
    return candidate


def _refuse_foreign(directory: Path) -> None:
    """A directory that was never ours (no manifest, other files in it) is not written into."""
    if (directory / MANIFEST_FILE).exists():
        return
    foreign = sorted(p.name for p in directory.iterdir() if p.name not in OURS)
    if foreign:
        raise DataDirError(
            f"{directory} is not a Cirrus data directory (it holds {', '.join(foreign[:3])}...);"
            f" point {DIR_VAR} at an empty or new directory."
        )


class PeriodicSaver:
    """Every `interval` seconds, `DataDir.save_if_changed`: the journal fsynced, the queues written
    if they changed, and a full save once the journal is as long as the table. Quiet unless a full
    save takes over a second (then `announce` gets one line). A full save holds the table (LOCK),
    so the wait after one is at least `LOCK_SHARE` times that hold."""

    LOCK_SHARE = 10

    def __init__(self, data: DataDir, interval: float, announce: Callable[[str], None] | None = None) -> None:
        self.data = data
        self.interval = interval
        self._announce = announce or (lambda line: None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cirrus-datadir", daemon=True)

    def next_wait(self, last: Outcome | None) -> float:
        """Seconds until the next save (a kill -9 loses at most this, plus the save itself)."""
        return max(self.interval, self.LOCK_SHARE * last.locked) if last else self.interval

    def _run(self) -> None:
        from chalicelib import observability

        wait = self.interval
        while not self._stop.wait(wait):
            try:
                saved = self.data.save_if_changed()
            except Exception:  # a full disk: keep serving, try again next time
                where = {"path": str(self.data.path)}
                observability.logger().exception("data directory not saved", extra=where)
                continue
            if saved is None:
                continue
            wait = self.next_wait(saved)
            if saved.seconds > 1:
                self._announce(
                    f"data: periodic save took {saved.seconds:.2f} s ({saved.items} items, table held"
                    f" {saved.locked:.2f} s); next in {wait:.0f} s"
                )

    def start(self) -> PeriodicSaver:
        if self.interval > 0:
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
