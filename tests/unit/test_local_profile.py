"""The local stack's profiler (bench/local_scale.py's split of a request's time) counts a sample for
the package whose code the thread is in: the standard library and other libraries count for their
caller, so a deep copy made by moto is moto's time and one made by Cirrus is Cirrus's."""

from __future__ import annotations

import copy
import json
import os
import sys
import sysconfig
from types import FrameType
from typing import Any

import pytest

from chalicelib.local.profile import Profiler, _stack

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITE = sysconfig.get_paths()["purelib"].rstrip("/") + "/"


@pytest.fixture
def profiler(tmp_path: Any) -> Profiler:
    return Profiler(str(tmp_path / "profile.json"), ROOT)


class Capture:
    """Records the stack of whoever deep-copies or serialises it."""

    frames: list[FrameType] = []

    def __deepcopy__(self, memo: dict[int, Any]) -> Capture:
        Capture.frames = _stack(sys._getframe())
        return self


def _capture(default: Any) -> str:
    Capture.frames = _stack(sys._getframe())
    return "captured"


def _run_as(filename: str, source: str) -> list[FrameType]:
    """Run `source` as code of `filename` (as if that module called it) and return the captured stack."""
    code = compile(source, filename, "exec")
    exec(code, {"copy": copy, "json": json, "Capture": Capture, "capture": _capture})
    return Capture.frames


@pytest.mark.parametrize(
    ("filename", "category"),
    [
        (f"{SITE}moto/dynamodb/models/__init__.py", "moto"),
        (f"{SITE}botocore/endpoint.py", "AWS client"),
        (f"{SITE}urllib3/connectionpool.py", "AWS client"),
        (f"{SITE}pynamodb/connection/base.py", "AWS client"),
        (f"{SITE}werkzeug/serving.py", "HTTP servers"),
        (f"{SITE}chalice/local.py", "HTTP servers"),
        (f"{SITE}chalice/app.py", "Cirrus"),
        (f"{ROOT}/chalicelib/services/projects.py", "Cirrus"),
        (f"{ROOT}/app.py", "Cirrus"),
        (f"{ROOT}/chalicelib/local/moto_speedups.py", "moto"),
        (f"{ROOT}/chalicelib/local/server.py", "HTTP servers"),
        (f"{sysconfig.get_paths()['stdlib']}/http/server.py", "HTTP servers"),
        (f"{sysconfig.get_paths()['stdlib']}/socketserver.py", "HTTP servers"),
    ],
)
def test_each_known_package_has_its_category(profiler: Profiler, filename: str, category: str) -> None:
    frames = _run_as(filename, "copy.deepcopy(Capture())")
    assert profiler.classify(frames[1:])[0] == category  # from copy.py outwards


def test_a_deep_copy_made_by_moto_is_moto_time(profiler: Profiler) -> None:
    frames = _run_as(f"{SITE}moto/dynamodb/models/__init__.py", "copy.deepcopy(Capture())")
    # The innermost frames are copy.py's and this test's (its caller's package decides).
    assert frames[0].f_code.co_name == "__deepcopy__"
    category, frame = profiler.classify(frames[1:])  # from copy.py outwards
    assert category == "moto"
    assert frame is not None and frame.f_code.co_filename.endswith("moto/dynamodb/models/__init__.py")


def test_json_serialised_by_cirrus_is_cirrus_time(profiler: Profiler) -> None:
    frames = _run_as(f"{ROOT}/chalicelib/api/rest.py", "json.dumps(object(), default=capture)")
    assert profiler.classify(frames[1:])[0] == "Cirrus"


def test_other_libraries_count_for_their_caller(profiler: Profiler) -> None:
    library: dict[str, Any] = {"copy": copy}
    exec(
        compile("def validate(x):\n    return copy.deepcopy(x)\n", f"{SITE}pydantic/main.py", "exec"), library
    )
    caller = compile("validate(Capture())", f"{SITE}botocore/parsers.py", "exec")
    exec(caller, {"validate": library["validate"], "Capture": Capture})
    assert profiler.classify(Capture.frames[1:])[0] == "AWS client"
