"""The Lambda code bundle (infra/cdk/cirrus_infra/bundle.py), built offline: without third-party
packages, or from a wheel made here (pip with `--no-index`), never from PyPI.

What Lambda would notice: the Chalice runtime, app.py and chalicelib/ are all there; every module has
bytecode Python 3.12 uses as it is (unchecked-hash pycs whose source hash matches the source: CDK
zips assets with fixed mtimes and /var/task is read-only), and no bytecode of another interpreter; the
bundle is rebuilt exactly when an input changes. That the synthesized functions run it is in
test_synth.py (`test_every_function_runs_the_bundle`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.infra.test_synth import CDK_DIR, REPO

pytestmark = pytest.mark.infra

# The header of a PEP 552 pyc: magic, flags (bit 0: hash-based, bit 1: check the source), hash.
UNCHECKED_HASH = 0b01

# Run by the bundle's Python 3.12: for each source, its pyc's magic, flags, whether the hash in it is
# the source's (as the import system computes it) and the file name compiled into the code object.
INSPECT_PYCS = """
import importlib.util, json, marshal, sys
from pathlib import Path
root = Path(sys.argv[1])
report = {}
for source in root.rglob("*.py"):
    pyc = Path(importlib.util.cache_from_source(str(source)))
    if not pyc.exists():
        report[str(source.relative_to(root))] = None
        continue
    data = pyc.read_bytes()
    report[str(source.relative_to(root))] = {
        "magic_ok": data[:4] == importlib.util.MAGIC_NUMBER,
        "flags": int.from_bytes(data[4:8], "little"),
        "hash_ok": data[8:16] == importlib.util.source_hash(source.read_bytes()),
        "filename": marshal.loads(data[16:]).co_filename,
    }
print(json.dumps(report))
"""


def _bundle_module(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    monkeypatch.syspath_prepend(str(CDK_DIR))
    from cirrus_infra import bundle

    return bundle


@pytest.fixture(scope="module")
def bundle_module() -> Any:
    with pytest.MonkeyPatch.context() as mp:
        yield _bundle_module(mp)


@pytest.fixture(scope="module")
def built(bundle_module: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The bundle as the synth tests build it: no third-party packages, bytecode by Python 3.12."""
    spec = bundle_module.BundleSpec(requirements=None, cache_dir=tmp_path_factory.mktemp("bundles"))
    return bundle_module.build_bundle(spec, log=False)


def _pycs(python: str, root: Path) -> dict[str, Any]:
    done = subprocess.run(
        [python, "-I", "-c", INSPECT_PYCS, str(root)], capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout))


def test_bundle_holds_the_chalice_runtime_the_app_and_chalicelib(built: Any) -> None:
    root = built.path
    assert (root / "app.py").read_bytes() == (REPO / "app.py").read_bytes()
    # Chalice's packager adds exactly these two files of Chalice (not its CLI, deployer, CDK, ...).
    chalice_files = {p.relative_to(root).as_posix() for p in (root / "chalice").rglob("*.py")}
    assert chalice_files == {"chalice/__init__.py", "chalice/app.py"}
    ours = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "chalicelib").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    bundled = {p.relative_to(root).as_posix() for p in (root / "chalicelib").rglob("*.py")}
    assert bundled == ours
    assert (root / "chalicelib" / "store" / "ACCESS_PATTERNS.md").exists()  # data files too, as Chalice
    # Nothing else at the top: no requirements, no .chalice, no tests.
    assert {p.name for p in root.iterdir()} == {"app.py", "chalice", "chalicelib", "__pycache__"}
    assert built.python_files == len(ours) + 3 and built.bytecode_files == built.python_files


def test_every_module_has_unchecked_hash_bytecode_of_python_3_12(built: Any, bundle_module: Any) -> None:
    python = bundle_module.find_python()
    report = _pycs(python, built.path)
    assert report and all(report.values()), [name for name, pyc in report.items() if pyc is None]
    assert {(p["magic_ok"], p["flags"], p["hash_ok"]) for p in report.values()} == {
        (True, UNCHECKED_HASH, True)
    }
    # Tracebacks on Lambda name /var/task paths, and the bytes don't depend on the build directory.
    assert report["app.py"]["filename"] == "/var/task/app.py"
    assert report["chalicelib/config.py"]["filename"] == "/var/task/chalicelib/config.py"
    # Only cpython-312 bytecode, only in __pycache__ beside its source.
    pycs = list(built.path.rglob("*.pyc"))
    assert len(pycs) == len(report)
    assert all(p.parent.name == "__pycache__" and p.name.endswith(".cpython-312.pyc") for p in pycs)


def test_python_3_12_runs_the_bundles_bytecode_as_it_is(
    built: Any, bundle_module: Any, tmp_path: Path
) -> None:
    """Imported from the bundle alone (`-S`, cwd elsewhere), a module comes from its pyc without the
    source being checked: a line added to the source after the build is not seen, so Lambda never
    recompiles (nor could it write a pyc in /var/task). chalicelib's domain layer needs no
    third-party package, so this runs without the bundle's dependencies."""
    copy = tmp_path / "bundle"
    shutil.copytree(built.path, copy)
    roles = copy / "chalicelib" / "domain" / "roles.py"
    roles.write_text(roles.read_text() + "\nADDED_AFTER_THE_BUILD = True\n")
    code = (
        "import sys, chalicelib.domain.roles as r, chalice.app as c; "
        "print(r.__file__, c.__file__, hasattr(r, 'ADDED_AFTER_THE_BUILD'))"
    )
    done = subprocess.run(
        [bundle_module.find_python(), "-S", "-B", "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    roles_file, chalice_app, added_seen = done.stdout.split()
    assert (roles_file, chalice_app) == (str(roles), str(copy / "chalice" / "app.py"))
    assert added_seen == "False"


def test_same_inputs_same_bundle_and_a_changed_source_rebuilds(
    bundle_module: Any, built: Any, tmp_path: Path
) -> None:
    again = bundle_module.build_bundle(
        bundle_module.BundleSpec(requirements=None, cache_dir=built.path.parent), log=False
    )
    assert (again.hash, again.path) == (built.hash, built.path)
    # A copy of the app with one module changed: another hash, its own directory, the new source in it.
    source = bundle_module.stage_app(REPO, tmp_path / "app")
    assert (source / "requirements.txt").read_text() == ""  # what Chalice packages for the template
    module = source / "chalicelib" / "mail.py"
    module.write_text(module.read_text() + "\nCHANGED = True\n")
    changed = bundle_module.build_bundle(
        bundle_module.BundleSpec(source_dir=source, requirements=None, cache_dir=built.path.parent), log=False
    )
    assert changed.hash != built.hash and changed.path != built.path
    assert "CHANGED = True" in (changed.path / "chalicelib" / "mail.py").read_text()
    # The bytes of the compiled modules do not depend on where or when they were built.
    same = built.path / "chalicelib" / "__pycache__" / "config.cpython-312.pyc"
    assert (changed.path / same.relative_to(built.path)).read_bytes() == same.read_bytes()


def _wheel(dest: Path) -> Path:
    """A pure-Python wheel with a type stub and a console script, as a dependency may ship them."""
    dest.mkdir()
    path = dest / "cirrusprobe-1.0-py3-none-any.whl"
    files = {
        "cirrusprobe/__init__.py": "VALUE = 42\n",
        "cirrusprobe/__init__.pyi": "VALUE: int\n",
        "cirrusprobe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: cirrusprobe\nVersion: 1.0\n",
        "cirrusprobe-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        "cirrusprobe-1.0.dist-info/entry_points.txt": "[console_scripts]\ncirrusprobe = cirrusprobe:VALUE\n",
    }
    record = "".join(f"{name},,\n" for name in files) + "cirrusprobe-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
        wheel.writestr("cirrusprobe-1.0.dist-info/RECORD", record)
    return dest


def test_requirements_are_installed_for_lambda_compiled_and_trimmed(
    bundle_module: Any, tmp_path: Path
) -> None:
    """pip installs for the Lambda platform (here from a local wheel, offline); the package gets
    bytecode, its metadata stays (importlib.metadata reads versions), stubs and scripts go."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("cirrusprobe==1.0\n")
    spec = bundle_module.BundleSpec(
        requirements=requirements, wheel_dir=_wheel(tmp_path / "wheels"), cache_dir=tmp_path / "bundles"
    )
    bundle = bundle_module.build_bundle(spec, log=False)
    root = bundle.path
    assert (root / "cirrusprobe" / "__init__.py").exists()
    assert (root / "cirrusprobe" / "__pycache__" / "__init__.cpython-312.pyc").exists()
    assert (root / "cirrusprobe-1.0.dist-info" / "METADATA").exists()
    assert not (root / "cirrusprobe" / "__init__.pyi").exists()
    assert not (root / "bin").exists()
    # A new requirement is a new bundle.
    requirements.write_text("cirrusprobe\n")
    assert bundle_module.build_bundle(spec, log=False).hash != bundle.hash


def test_without_python_3_12_the_build_says_what_to_do(
    bundle_module: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle_module, "find_python", lambda: None)
    spec = bundle_module.BundleSpec(requirements=None, cache_dir=tmp_path)
    with pytest.raises(bundle_module.BundleError, match=r"CIRRUS_BUNDLE_PYTHON.*bundle_bytecode=false"):
        bundle_module.build_bundle(spec, log=False)
    monkeypatch.undo()
    monkeypatch.setenv("CIRRUS_BUNDLE_PYTHON", "/nonexistent/python3.12")
    with pytest.raises(bundle_module.BundleError, match=r"not a working Python 3\.12"):
        bundle_module.find_python()


def test_a_bundle_without_bytecode_is_allowed_when_asked_and_loud(
    bundle_module: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = bundle_module.BundleSpec(requirements=None, compile=False, cache_dir=tmp_path)
    bundle = bundle_module.build_bundle(spec)
    assert bundle.bytecode_files == 0 and not bundle.compiled
    assert "NO bytecode" in capsys.readouterr().err


def test_the_cache_keeps_the_newest_bundles(bundle_module: Any, tmp_path: Path) -> None:
    cache = tmp_path / "bundles"
    cache.mkdir()
    for i in range(bundle_module.KEEP + 2):
        old = cache / f"{i:064x}"
        old.mkdir()
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    bundle = bundle_module.build_bundle(
        bundle_module.BundleSpec(requirements=None, compile=False, cache_dir=cache), log=False
    )
    kept = sorted(p.name for p in cache.iterdir())
    newest_old = [f"{i:064x}" for i in range(bundle_module.KEEP + 2)][-(bundle_module.KEEP - 1) :]
    assert kept == sorted([bundle.hash, *newest_old])


def test_a_provider_plugin_distribution_is_installed_with_its_entry_point(
    bundle_module: Any, tmp_path: Path
) -> None:
    """`-c provider_plugins=...`: the plugin's wheel is built and installed for Lambda (offline here),
    its dist-info carries the `cirrus.providers` entry point the registry discovers in the bundle; its
    tests are not part of the bundle's inputs, its sources are."""
    plugin = tmp_path / "plugins" / "cirrus-probe"
    (plugin / "cirrus_probe").mkdir(parents=True)
    (plugin / "tests").mkdir()
    (plugin / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "cirrus-probe"\nversion = "1.0"\n'
        '[project.entry-points."cirrus.providers"]\nprobe = "cirrus_probe:register"\n'
        '[tool.setuptools]\npackages = ["cirrus_probe"]\n'
    )
    (plugin / "cirrus_probe" / "__init__.py").write_text("def register(registry):\n    pass\n")
    spec = bundle_module.BundleSpec(
        requirements=None,
        plugins=(plugin,),
        wheel_dir=tmp_path / "no-wheels",
        cache_dir=tmp_path / "bundles",
        compile=False,
    )
    (tmp_path / "no-wheels").mkdir()
    bundle = bundle_module.build_bundle(spec, log=False)
    root = bundle.path
    assert (root / "cirrus_probe" / "__init__.py").exists()
    entry_points = next(root.glob("cirrus_probe-1.0.dist-info/entry_points.txt")).read_text()
    assert "[cirrus.providers]" in entry_points and "probe = cirrus_probe:register" in entry_points
    (plugin / "tests" / "test_x.py").write_text("")
    assert bundle_module.build_bundle(spec, log=False).hash == bundle.hash
    (plugin / "cirrus_probe" / "__init__.py").write_text("def register(registry):\n    return None\n")
    assert bundle_module.build_bundle(spec, log=False).hash != bundle.hash
