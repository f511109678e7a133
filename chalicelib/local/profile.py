"""A sampling profiler for the local stack: where a request's time goes (our code, moto, the AWS client,
the local HTTP servers), for bench/local_scale.py. Local-only and off unless asked for:

    CIRRUS_LOCAL_PROFILE=/tmp/profile.json python -m chalicelib.local

Every `INTERVAL` seconds a thread samples every other thread's stack (`sys._current_frames`).

The requests: a thread of the Cirrus HTTP server that is answering a request (not waiting for the
next one on its kept-alive connection) is where that request's time goes, unless it is waiting for
moto's answer to one of its AWS calls: moto serves it in another thread of this process (over
loopback HTTP), found by the connection's port, and that thread is where the time goes (once it has
the request: before, the AWS client is still sending it). Each such
sample counts the wall time since the previous sample for the category of the innermost frame from a
known package (`CATEGORIES`) of the thread the time goes to; frames of the standard library and of
other libraries (json, copy, pydantic...) count for their nearest caller's package, so a
`copy.deepcopy` under moto is moto's and one under Cirrus is Cirrus's, and time in moto is moto's,
never the AWS client's of the thread waiting for it. A thread ready to run but waiting for the GIL
counts where it stands: that is where its request waits.

The other threads (the stream reader, queue workers, ticker, state machines, and moto's threads
answering them) are no request's latency, but they compete with the requests for the GIL: what is
counted for them is the CPU time each used since the previous sample (/proc/self/task/<tid>/
schedstat), half where it stood at the previous sample and half where it stands now (approximate: a
short burst of CPU between two samples counts where the thread waits after it). Idle threads use none.

The totals (ms by role and category, and by role and function: where the next bottleneck is) are
written as JSON, atomically, on SIGUSR1 (the bench's snapshot between its phases) and at stop.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import signal
import sys
import sysconfig
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

PROFILE_VAR = "CIRRUS_LOCAL_PROFILE"
INTERVAL = 0.005

CIRRUS = "Cirrus"
MOTO = "moto"
AWS_CLIENT = "AWS client"
HTTP_SERVERS = "HTTP servers"
OTHER = "other"
REQUEST = "request"
LOCK_WAIT = f"{MOTO}: waiting for moto_speedups.LOCK"
BACKGROUND = "background"

# Top-level packages (site-packages) and their category. `chalice` is the framework our handler runs
# on (in Lambda too), except chalice/local.py: its local API Gateway and HTTP server.
CATEGORIES = {
    "moto": MOTO,
    "botocore": AWS_CLIENT,
    "boto3": AWS_CLIENT,
    "urllib3": AWS_CLIENT,
    "pynamodb": AWS_CLIENT,
    "s3transfer": AWS_CLIENT,
    "werkzeug": HTTP_SERVERS,
    "chalice": CIRRUS,
}
_HTTP_STDLIB = ("/http/server.py", "/socketserver.py")
# Our modules that are moto's internals (the lead's patches) or the local HTTP server's.
_LOCAL_MOTO = ("chalicelib/local/moto_speedups.py", "chalicelib/local/_moto_store.py")
_LOCAL_HTTP = ("chalicelib/local/server.py", "chalice/local.py")


@dataclass(frozen=True)
class _Seen:
    """A thread at the previous sample: its CPU time then, and where that sample counted."""

    cpu_ns: int
    role: str
    label: str


class Profiler:
    def __init__(self, path: str, root: str, interval: float = INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self._root = root.rstrip("/") + "/"
        paths = sysconfig.get_paths()
        self._stdlib = paths["stdlib"].rstrip("/") + "/"
        self._site = tuple(p.rstrip("/") + "/" for p in {paths["purelib"], paths["platlib"]})
        self._category: dict[str, str | None] = {}
        self._seen: dict[tuple[int, int], _Seen] = {}
        self.ticks = 0
        self._last = 0.0
        self._own_cpu_ns = 0
        # CPU ns used by the threads answering requests (theirs and moto's), and by the others.
        self.cpu: Counter[str] = Counter()
        # Per role, ns by "<category>: <file>:<function>" (the frame a sample was counted in): the
        # requests' wall time, the other threads' CPU time.
        self.functions: dict[str, Counter[str]] = {REQUEST: Counter(), BACKGROUND: Counter()}
        self._snapshots = 0
        self._dump = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cirrus-profiler", daemon=True)

    def start(self) -> Profiler:
        self._thread.start()
        return self

    def request_snapshot(self) -> None:
        self._dump.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._write()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()
            self._own_cpu_ns = time.thread_time_ns()
            if self._dump.is_set():
                self._dump.clear()
                self._write()

    def sample(self) -> None:
        """Count the requests' wall time, and the other threads' CPU time, since the previous sample."""
        me = threading.get_ident()
        natives = {t.ident: t.native_id for t in threading.enumerate()}
        stacks = {i: _stack(f) for i, f in sys._current_frames().items() if i != me and i in natives}
        now = time.perf_counter()
        elapsed_ns = int((now - self._last) * 1e9) if self.ticks else 0
        self._last = now
        serving = _moto_serving(stacks)
        in_requests: set[int] = set()
        for ident, frames in stacks.items():
            if _answering_cirrus_request(frames):
                moto = serving.get(_client_port(frames) or -1)
                in_requests.update((ident,) if moto is None else (ident, moto))
                self._count_request(frames if moto is None else stacks[moto], elapsed_ns)
        self._count_cpu(stacks, natives, in_requests)
        self.ticks += 1

    def _count_request(self, frames: list[FrameType], elapsed_ns: int) -> None:
        category, frame = self.classify(frames)
        if frames and _is(frames[0], _LOCAL_MOTO[0], "call_action_locked"):
            label = LOCK_WAIT  # blocked on the lock while another thread's call runs in moto
        else:
            label = f"{category}: {self._short(frame)}"
        self.functions[REQUEST][label] += elapsed_ns

    def _count_cpu(
        self, stacks: dict[int, list[FrameType]], natives: dict[int | None, int | None], in_requests: set[int]
    ) -> None:
        seen: dict[tuple[int, int], _Seen] = {}
        for ident, frames in stacks.items():
            key = (ident, natives[ident] or 0)
            cpu = _cpu_ns(key[1])
            if cpu is None:
                continue
            category, frame = self.classify(frames)
            now = _Seen(
                cpu, REQUEST if ident in in_requests else BACKGROUND, f"{category}: {self._short(frame)}"
            )
            seen[key] = now
            before = self._seen.get(key)
            if before is None or before.cpu_ns > cpu:  # a thread started since the last sample
                before = now if self.ticks == 0 else _Seen(0, now.role, now.label)  # the first: a start
            used = cpu - before.cpu_ns
            self.cpu[now.role] += used
            if now.role == BACKGROUND:
                earlier = before.label if before.role == BACKGROUND else now.label
                self.functions[BACKGROUND][earlier] += used // 2
                self.functions[BACKGROUND][now.label] += used - used // 2
        self._seen = seen

    def classify(self, frames: list[FrameType]) -> tuple[str, FrameType | None]:
        """The category of the innermost frame from a known package (`frames`: innermost first), and
        that frame (the innermost one when none is)."""
        for frame in frames:
            found = self._category_of(frame.f_code)
            if found is not None:
                return found, frame
        return OTHER, frames[0] if frames else None

    def _category_of(self, code: CodeType) -> str | None:
        name = code.co_filename
        if name not in self._category:
            self._category[name] = self._file_category(name)
        return self._category[name]

    def _file_category(self, name: str) -> str | None:
        if name.endswith(_LOCAL_MOTO):
            return MOTO
        if name.endswith(_LOCAL_HTTP):
            return HTTP_SERVERS
        for site in self._site:
            if name.startswith(site):
                package = name[len(site) :].split("/", 1)[0].removesuffix(".py")
                return CATEGORIES.get(package)  # another library: its caller's
        if name.startswith(self._root):
            return CIRRUS  # chalicelib/, app.py: this checkout's code
        if name.startswith(self._stdlib) and name.endswith(_HTTP_STDLIB):
            return HTTP_SERVERS
        return None  # the standard library: its caller's

    def _short(self, frame: FrameType | None) -> str:
        if frame is None:
            return "?"
        name = frame.f_code.co_filename
        for prefix in (*self._site, self._root, self._stdlib):
            if name.startswith(prefix):
                name = name[len(prefix) :]
                break
        return f"{name}:{frame.f_code.co_name}"

    def snapshot(self) -> dict[str, Any]:
        """ms by role and category, and by role and function, since the start."""
        splits: dict[str, dict[str, float]] = {}
        for role, counts in self.functions.items():
            splits[role] = {}
            for label, ns in counts.items():
                category = label.split(":", 1)[0]
                splits[role][category] = splits[role].get(category, 0.0) + ns / 1e6
        return {
            "interval": self.interval,
            "ticks": self.ticks,
            "snapshot": self._snapshots,
            "profiler_cpu_ms": self._own_cpu_ns / 1e6,
            "splits": splits,
            "cpu_ms": {role: ns / 1e6 for role, ns in self.cpu.items()},
            "functions": {role: {k: v / 1e6 for k, v in c.items()} for role, c in self.functions.items()},
        }

    def _write(self) -> None:
        self._snapshots += 1
        temporary = f"{self.path}.tmp"
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(self.snapshot(), out)
        os.replace(temporary, self.path)


class _Off:
    def stop(self) -> None:
        pass


def start_profiler(env: Mapping[str, str]) -> Profiler | _Off:
    """A running Profiler writing to `CIRRUS_LOCAL_PROFILE` (snapshots on SIGUSR1; SIGUSR2 prints every
    thread's stack to stderr), or nothing to stop.
    Call it from the main thread (it installs the signal handler)."""
    path = env.get(PROFILE_VAR, "").strip()
    if not path:
        return _Off()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    profiler = Profiler(path, root).start()
    signal.signal(signal.SIGUSR1, lambda *_: profiler.request_snapshot())
    faulthandler.register(signal.SIGUSR2, all_threads=True)  # the bench's look into a stack that hangs
    return profiler


def _cpu_ns(native_id: int) -> int | None:
    """CPU time a thread of this process has used (None: it has ended)."""
    try:
        with open(f"/proc/self/task/{native_id}/schedstat", "rb") as stat:
            return int(stat.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stack(frame: FrameType | None) -> list[FrameType]:
    frames = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    return frames


def _is(frame: FrameType, suffix: str, function: str) -> bool:
    return frame.f_code.co_name == function and frame.f_code.co_filename.endswith("/" + suffix)


def _between_requests(frames: list[FrameType]) -> bool:
    """A server's thread waiting for the next request on its kept-alive connection."""
    return (
        len(frames) > 1
        and frames[0].f_code.co_filename.endswith("/socket.py")
        and _is(frames[1], "http/server.py", "handle_one_request")
    )


def _answering_cirrus_request(frames: list[FrameType]) -> bool:
    """A thread of the Cirrus HTTP server (chalice's handler is on its stack for the connection's
    life) answering a request."""
    cirrus = any(f.f_code.co_filename.endswith("/chalice/local.py") for f in frames)
    return cirrus and not _between_requests(frames)


def _moto_serving(stacks: dict[int, list[FrameType]]) -> dict[int, int]:
    """moto's threads reading or answering a request now, by the port of the client they answer."""
    serving = {}
    for ident, frames in stacks.items():
        handler = next((f for f in frames if _is(f, "werkzeug/serving.py", "handle")), None)
        if (
            handler is not None
            and not _between_requests(frames)
            and (peer := _peer_port(handler)) is not None
        ):
            serving[peer] = ident
    return serving


def _client_port(frames: list[FrameType]) -> int | None:
    """The local port of the connection an AWS call of this thread is on (moto's handler sees it as
    its peer's)."""
    call = next((f for f in frames if _is(f, "urllib3/connectionpool.py", "_make_request")), None)
    if call is None:
        return None
    with contextlib.suppress(Exception):  # another thread's socket: it may close under us
        return int(call.f_locals["conn"].sock.getsockname()[1])
    return None


def _peer_port(handler: FrameType) -> int | None:
    with contextlib.suppress(Exception):
        return int(handler.f_locals["self"].client_address[1])
    return None
