"""The Lambda code bundle: what every function runs, built here rather than by `chalice package`.

Chalice's packager pip-installs requirements.txt for x86_64 (its wheels for pydantic-core and
cryptography would not load on arm64) and ships no bytecode, so every cold start compiled the ~580
modules the app imports (`/var/task` is read-only: nothing is cached between cold starts). The
bundle is a directory, turned into a CDK asset by the stack:

- third-party dependencies of requirements.txt, installed by pip for the Lambda platform
  (`--platform manylinux…_<arch> --implementation cp --python-version 3.12 --only-binary=:all:`);
- the Chalice runtime Chalice's packager puts in (chalice/__init__.py and chalice/app.py only);
- app.py and chalicelib/ (sources only: no __pycache__, no tests);
- provider plugins packaged as their own distributions (`plugins/<name>/`, `-c provider_plugins=...`):
  each built into a wheel and pip-installed for the Lambda platform with its SDK, so its dist-info
  (and its `cirrus.providers` entry point) is in the bundle and the registry discovers it;
- `.pyc` for every `.py`, compiled by a Python 3.12 interpreter with `--invalidation-mode
  unchecked-hash`: CDK zips assets with fixed mtimes, so timestamp-based pycs would look stale and be
  ignored; unchecked ones are used as they are (the bundle is immutable once deployed).

It is built once per set of inputs (the requirements, the platform, the sources, the interpreter's
version, this module) into `infra/cdk/.bundle/<hash>/` (gitignored) and reused while they stay the
same; the hash is also the asset's hash, so an unchanged bundle is not uploaded again.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import AssetHashType
from aws_cdk import aws_s3_assets as s3_assets
from chalice.cdk import Chalice
from constructs import Construct

# What Lambda runs: the functions' runtime and architecture (stack.py sets both on every function).
PYTHON_VERSION = "3.12"
ARCHITECTURES = ("arm64", "x86_64")
# Wheels a Lambda python3.12 function can load (Amazon Linux 2023, glibc 2.34), best first: pip takes
# the platform tags as given (it does not expand manylinux_2_34 to older glibc versions itself).
PLATFORMS = {
    "arm64": ("manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux2014_aarch64"),
    "x86_64": (
        "manylinux_2_34_x86_64",
        "manylinux_2_28_x86_64",
        "manylinux2014_x86_64",
        "manylinux2010_x86_64",
        "manylinux1_x86_64",
    ),
}

CDK_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = CDK_DIR.parents[1]
DEFAULT_CACHE_DIR = CDK_DIR / ".bundle"
# Where to look for a Python 3.12 interpreter to compile with (after $CIRRUS_BUNDLE_PYTHON and PATH).
PYENV_GLOB = "versions/3.12.*/bin/python3.12"

# Never needed at run time: type stubs and the console scripts pip installs into bin/.
TRIM_SUFFIXES = (".pyi",)
TRIM_TOP_LEVEL = ("bin",)
# Bumped when the layout of a bundle changes without its inputs changing.
FORMAT = "1"
# Bundles kept in the cache (each ~60 MiB): the newest ones; older ones are removed after a build.
KEEP = 5


class BundleError(RuntimeError):
    """The bundle cannot be built (no Python 3.12, pip failed, ...); the message says what to do."""


@dataclass(frozen=True)
class Bundle:
    """A built bundle: its directory and what is in it."""

    path: Path
    hash: str
    architecture: str
    files: int
    bytes: int
    python_files: int
    bytecode_files: int
    compiled: bool

    def describe(self) -> str:
        compiled = "" if self.compiled else " WITHOUT BYTECODE"
        return (
            f"Lambda bundle {self.hash[:12]} ({self.architecture}{compiled}): {self.files} files, "
            f"{self.bytes / 2**20:.1f} MiB unzipped, {self.python_files} .py, {self.bytecode_files} .pyc "
            f"at {self.path}"
        )


@dataclass(frozen=True)
class BundleSpec:
    """What goes into a bundle.

    `requirements`: the requirements file pip installs (None: no third-party dependencies, as the
    offline tests build it; `wheel_dir` makes pip install only from local wheels, never an index).
    `compile`: False builds without bytecode (only when no Python 3.12 is available, said loudly).
    """

    source_dir: Path = REPO_ROOT
    requirements: Path | None = REPO_ROOT / "requirements.txt"
    architecture: str = "arm64"
    wheel_dir: Path | None = None
    compile: bool = True
    python: str | None = None  # the 3.12 interpreter; None: found by find_python()
    cache_dir: Path = DEFAULT_CACHE_DIR
    extra_pip_args: tuple[str, ...] = field(default=())
    # Provider plugin distributions (directories with a pyproject.toml) installed into the bundle.
    plugins: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise BundleError(f"architecture must be one of {ARCHITECTURES}, not {self.architecture!r}")


def _python_version(executable: str) -> str | None:
    """`major.minor` of an interpreter, or None if it does not run (a pyenv shim with no version)."""
    try:
        done = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def find_python() -> str | None:
    """A Python 3.12 interpreter: $CIRRUS_BUNDLE_PYTHON, this one, `python3.12` on PATH, pyenv's."""
    explicit = os.environ.get("CIRRUS_BUNDLE_PYTHON")
    if explicit:
        if _python_version(explicit) != PYTHON_VERSION:
            raise BundleError(f"CIRRUS_BUNDLE_PYTHON={explicit} is not a working Python {PYTHON_VERSION}")
        return explicit
    candidates = [sys.executable, shutil.which(f"python{PYTHON_VERSION}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted(pyenv_root.glob(PYENV_GLOB), reverse=True)]
    for candidate in candidates:
        if candidate and _python_version(candidate) == PYTHON_VERSION:
            return candidate
    return None


def _chalice_runtime() -> list[tuple[Path, str]]:
    """The files Chalice's packager adds for the runtime (`_iter_app_filenames`): only these two."""
    import chalice
    import chalice.app

    files = []
    for module, name in ((chalice.app, "chalice/app.py"), (chalice, "chalice/__init__.py")):
        path = inspect.getfile(module)
        files.append((Path(path[:-1] if path.endswith(".pyc") else path), name))
    return files


def _app_sources(source_dir: Path) -> Iterator[tuple[Path, str]]:
    """app.py and chalicelib/ as Chalice packages them, minus bytecode and tests."""
    yield source_dir / "app.py", "app.py"
    lib = source_dir / "chalicelib"
    for path in sorted(lib.rglob("*")):
        rel = path.relative_to(source_dir)
        if not path.is_file() or "__pycache__" in rel.parts or path.suffix in (".pyc", ".pyo"):
            continue
        if any(part in ("tests", "test") for part in rel.parts):
            continue
        yield path, rel.as_posix()


def _hash_inputs(spec: BundleSpec, python_version: str | None) -> str:
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(f"{label}\0{len(data)}\0".encode())
        h.update(data)

    add("format", FORMAT.encode())
    add("builder", Path(__file__).read_bytes())
    add("architecture", spec.architecture.encode())
    add("python", (python_version or "no bytecode").encode())
    add("pip-args", json.dumps(spec.extra_pip_args).encode())
    add("requirements", spec.requirements.read_bytes() if spec.requirements else b"")
    if spec.wheel_dir:
        for wheel in sorted(spec.wheel_dir.glob("*.whl")):
            add(f"wheel:{wheel.name}", hashlib.sha256(wheel.read_bytes()).digest())
    for path, name in [*_chalice_runtime(), *_app_sources(spec.source_dir)]:
        add(f"file:{name}", path.read_bytes())
    for plugin in spec.plugins:
        for path, name in _plugin_sources(plugin):
            add(f"plugin:{name}", path.read_bytes())
    return h.hexdigest()


def _plugin_sources(plugin: Path) -> Iterator[tuple[Path, str]]:
    """A plugin distribution's files that make its wheel (no bytecode, build output or tests)."""
    if not (plugin / "pyproject.toml").is_file():
        raise BundleError(f"{plugin} is not a provider plugin distribution (no pyproject.toml)")
    for path in sorted(plugin.rglob("*")):
        rel = path.relative_to(plugin)
        skipped = {"__pycache__", "build", "dist", "tests"}
        if not path.is_file() or skipped & set(rel.parts) or rel.parts[0].endswith(".egg-info"):
            continue
        if path.suffix in (".pyc", ".pyo"):
            continue
        yield path, f"{plugin.name}/{rel.as_posix()}"


def _install_plugins(spec: BundleSpec, target: Path) -> None:
    """Each plugin distribution as a wheel (built here, pure Python), then pip-installed for the
    Lambda platform with its dependencies, like requirements.txt's."""
    if not spec.plugins:
        return
    with tempfile.TemporaryDirectory(prefix="cirrus-plugin-wheels-") as wheels:
        for plugin in spec.plugins:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
                 "--no-deps", "--no-build-isolation", "--wheel-dir", wheels, str(plugin)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise BundleError(f"could not build a wheel of {plugin}: {done.stderr.strip()[-3000:]}")
        built = sorted(Path(wheels).glob("*.whl"))
        _pip_for_lambda(spec, target, [str(w) for w in built], "the provider plugins")


def _pip_install(spec: BundleSpec, target: Path) -> None:
    if spec.requirements is None or not spec.requirements.read_text().strip():
        return
    _pip_for_lambda(spec, target, ["-r", str(spec.requirements)], str(spec.requirements))


def _pip_for_lambda(spec: BundleSpec, target: Path, what: list[str], described: str) -> None:
    """pip-install `what` (requirements or wheels) into `target` for the Lambda platform: binary
    wheels only, for the architecture's platforms and Python PYTHON_VERSION (from `wheel_dir` only,
    when given)."""
    platforms = [arg for p in PLATFORMS[spec.architecture] for arg in ("--platform", p)]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        *what,
    ]
    if spec.wheel_dir:
        command += ["--no-index", "--find-links", str(spec.wheel_dir)]
    command += list(spec.extra_pip_args)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BundleError(
            f"pip could not install {described} for Lambda ({spec.architecture}, Python "
            f"{PYTHON_VERSION}): {done.stderr.strip()[-3000:]}"
        )


def _trim(root: Path) -> None:
    """Drop what Lambda never loads: type stubs, console scripts, a `chalice` a dependency pulled in
    (the runtime's two files are copied afterwards), stray bytecode of another interpreter."""
    for name in (*TRIM_TOP_LEVEL, "chalice"):
        if (root / name).is_dir():
            shutil.rmtree(root / name)
    for path in list(root.rglob("*")):
        if path.is_dir() and path.name == "__pycache__":
            shutil.rmtree(path)
        elif path.is_file() and path.suffix in (*TRIM_SUFFIXES, ".pyc", ".pyo"):
            path.unlink()
    # Directories left empty (a `*-stubs` package held only stubs), deepest first.
    for path in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(path.iterdir()):
            path.rmdir()


def _copy(files: Iterable[tuple[Path, str]], root: Path) -> None:
    for source, name in files:
        dest = root / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)


def _compile(python: str, root: Path) -> None:
    """`.pyc` beside every source, as Lambda's Python 3.12 would write them (if it could). Paths in
    the code objects are those Lambda sees (`/var/task/...`), so the bytes do not depend on where the
    bundle was built."""
    command = [
        python,
        "-m",
        "compileall",
        "-q",
        "-j0",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(root),
        "-p",
        "/var/task",
        str(root),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BundleError(f"compileall failed: {(done.stdout + done.stderr).strip()[-3000:]}")


def _describe(path: Path, digest: str, spec: BundleSpec, compiled: bool) -> Bundle:
    files = [p for p in path.rglob("*") if p.is_file()]
    return Bundle(
        path=path,
        hash=digest,
        architecture=spec.architecture,
        files=len(files),
        bytes=sum(p.stat().st_size for p in files),
        python_files=sum(1 for p in files if p.suffix == ".py"),
        bytecode_files=sum(1 for p in files if p.suffix == ".pyc"),
        compiled=compiled,
    )


def _compiler(spec: BundleSpec, log: bool) -> str | None:
    """The Python 3.12 the bundle's bytecode is compiled by (None: no bytecode, as asked)."""
    if not spec.compile:
        if log:
            print(
                "WARNING: the Lambda bundle has NO bytecode (-c bundle_bytecode=false): every cold start "
                "compiles each module the app imports",
                file=sys.stderr,
            )
        return None
    python = spec.python or find_python()
    if python is None:
        raise BundleError(
            f"no Python {PYTHON_VERSION} interpreter to compile the Lambda bundle's bytecode with: "
            f"set CIRRUS_BUNDLE_PYTHON=/path/to/python{PYTHON_VERSION}, put python{PYTHON_VERSION} "
            f"on PATH or install it with pyenv; or synth without bytecode (slower cold starts) "
            f"with `-c bundle_bytecode=false`"
        )
    version = _python_version(python)
    if version != PYTHON_VERSION:
        raise BundleError(f"{python} is Python {version}, not {PYTHON_VERSION}")
    return python


def _build(spec: BundleSpec, python: str | None, final: Path) -> None:
    spec.cache_dir.mkdir(parents=True, exist_ok=True)
    staging = spec.cache_dir / f".{final.name}.{os.getpid()}.tmp"
    if staging.exists():
        shutil.rmtree(staging)
    try:
        staging.mkdir()
        _pip_install(spec, staging)
        _install_plugins(spec, staging)
        _trim(staging)
        _copy([*_chalice_runtime(), *_app_sources(spec.source_dir)], staging)
        if python:
            _compile(python, staging)
        try:
            staging.rename(final)
        except OSError:  # built meanwhile by another process: theirs is the same
            if not final.is_dir():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    _prune(spec.cache_dir, keep=final)


def _prune(cache_dir: Path, keep: Path) -> None:
    """Remove all but the KEEP newest bundles (never `keep`, the one just built)."""
    bundles = sorted(
        (p for p in cache_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in bundles[KEEP - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def build_bundle(spec: BundleSpec | None = None, *, log: bool = True) -> Bundle:
    """The bundle for `spec`, built unless one with the same inputs is in the cache."""
    spec = spec or BundleSpec()
    python = _compiler(spec, log)
    digest = _hash_inputs(spec, PYTHON_VERSION if python else None)
    final = spec.cache_dir / digest
    cached = final.is_dir()
    if not cached:
        _build(spec, python, final)
    bundle = _describe(final, digest, spec, compiled=python is not None)
    if log:
        print(bundle.describe() + (" (cached)" if cached else ""), file=sys.stderr)
    return bundle


def stage_app(source_dir: Path, dest: Path) -> Path:
    """The Chalice project as `chalice package` needs it to write the SAM template, with an empty
    requirements.txt: its own deployment package (pip for x86_64, no bytecode) is never deployed,
    since every function's CodeUri is the bundle, so it is built without pip, fast and offline."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy2(source_dir / "app.py", dest / "app.py")
    shutil.copytree(
        source_dir / "chalicelib", dest / "chalicelib", ignore=shutil.ignore_patterns("__pycache__")
    )
    (dest / ".chalice").mkdir()
    shutil.copy2(source_dir / ".chalice" / "config.json", dest / ".chalice" / "config.json")
    (dest / "requirements.txt").write_text("")
    return dest


class BundledChalice(Chalice):
    """Chalice's CDK construct with every function's code the bundle: it runs `chalice package` on a
    staging copy of the app with an empty requirements.txt (template only: no pip, offline, fast,
    removed afterwards) and points each `AWS::Serverless::Function`'s CodeUri at the bundle's asset
    instead of Chalice's deployment.zip, which is never made an asset (nothing unused is uploaded)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_dir: Path,
        stage_config: dict[str, Any],
        bundle: Bundle,
    ) -> None:
        self._bundle = bundle
        staging = Path(tempfile.mkdtemp(prefix="cirrus-chalice-app-"))
        try:
            super().__init__(
                scope,
                construct_id,
                source_dir=str(stage_app(source_dir, staging / "app")),
                stage_config=stage_config,
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _generate_sam_template_with_assets(self, chalice_out_dir: str, package_id: str) -> str:
        self.code = s3_assets.Asset(
            self,
            "Code",
            path=str(self._bundle.path),
            asset_hash=self._bundle.hash,
            asset_hash_type=AssetHashType.CUSTOM,
        )
        sam_dir = Path(self._sam_package_dir)
        template = json.loads((sam_dir / "sam.json").read_text())
        resources = template["Resources"].values()
        if any(r["Type"] == "AWS::Serverless::LayerVersion" for r in resources):
            raise BundleError("Chalice's managed layer (automatic_layer) is not supported with the bundle")
        for resource in resources:
            if resource["Type"] == "AWS::Serverless::Function":
                resource["Properties"]["CodeUri"] = {
                    "Bucket": self.code.s3_bucket_name,
                    "Key": self.code.s3_object_key,
                }
        # Chalice's own package (app code only, x86_64, no bytecode) is not deployed.
        (sam_dir / "deployment.zip").unlink(missing_ok=True)
        path = Path(chalice_out_dir) / f"{package_id}.sam_with_assets.json"
        path.write_text(json.dumps(template, indent=2))
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """`python -m cirrus_infra.bundle [--architecture x86_64] [--no-bytecode]`: build and describe."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--architecture", default="arm64", choices=ARCHITECTURES)
    parser.add_argument("--no-bytecode", action="store_true")
    parser.add_argument("--no-deps", action="store_true", help="no third-party dependencies")
    args = parser.parse_args(argv)
    spec = BundleSpec(
        architecture=args.architecture,
        compile=not args.no_bytecode,
        requirements=None if args.no_deps else BundleSpec.requirements,
    )
    try:
        bundle = build_bundle(spec, log=False)
    except BundleError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(bundle.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
