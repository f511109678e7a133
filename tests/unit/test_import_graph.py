"""Dependencies point one way: api → services → store → domain, with workflows beside the api (an
entry point of its own) and the provider plugins beside the domain.

The graph is read from the source with `ast`, module-level and function-level imports alike (a
function-level import is a dependency all the same; it only hides a cycle from the import system).
`from package import name` where `name` is a module is an edge to `package.name`.

Where each layer sits:
- `domain`: pure rules; imports no other layer and no AWS library.
- `providers`: offering-type plugins (extensions of the marketplace vocabulary); they see the domain
  only. Services consult the registry of offering types (`providers.registry`); the processors that
  do the work are registered with it by the workflow layer and run on its workers.
- `store`: the DynamoDB adapter; knows the domain, never who calls it. It may implement the
  services' ports (`services/ports.py`, Protocols: the adapter depends on the port it plugs into,
  as in any ports-and-adapters layout) and return the services' `Page` (`services/paging.py`), and
  nothing else of the services.
- `services`: use cases; they decide what must happen after a commit and record it as data
  (`services/effects.py`), so they import no workflow, no AWS client and no web framework.
- `workflows`, `api`, `local`, `bootstrap`: the outer ring (entry points and the composition root).
"""

from __future__ import annotations

import ast
import pathlib
from collections.abc import Iterable, Iterator

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = "chalicelib"
AWS_PACKAGES = frozenset(
    {"boto3", "botocore", "pynamodb", "chalice", "moto", "aws_lambda_powertools", "aws_xray_sdk"}
)
Graph = dict[str, set[str]]


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, pathlib.Path]:
    return {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def imported(source: str, name: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """Every module `source` (module `name`) imports, wherever the import statement is. A package
    whose modules alone are named (`from chalicelib.store import keys`) is left out: its
    `__init__` holds nothing another module could depend on."""
    known = set(known)
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, name, is_package)
            submodules = {f"{base}.{a.name}" for a in node.names} & known
            found.update(submodules)
            if len(submodules) < len(node.names):  # names defined in `base` itself
                found.add(base)
    return found


def _absolute(node: ast.ImportFrom, name: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = name.split(".") if is_package else name.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


def imports_of_every_module() -> Graph:
    """Module → every module it imports (chalicelib's and third parties')."""
    found = modules()
    return {
        name: imported(path.read_text(), name, path.name == "__init__.py", found)
        for name, path in found.items()
    }


def internal(graph: Graph) -> Graph:
    return {name: {m for m in targets if m in graph and m != name} for name, targets in graph.items()}


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle as a path (first module repeated at its end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def layer(module: str) -> str:
    """`chalicelib.services.orders` → `services`; a third party → its top-level package."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return parts[0]
    return parts[1] if len(parts) > 1 else PACKAGE


def _edges(graph: Graph, of_layer: str) -> Iterator[tuple[str, str]]:
    for name in sorted(graph):
        if layer(name) == of_layer:
            yield from ((name, target) for target in sorted(graph[name]))


def offenders(graph: Graph, of_layer: str, forbidden: Iterable[str]) -> list[str]:
    banned = set(forbidden)
    return [f"{name} -> {target}" for name, target in _edges(graph, of_layer) if layer(target) in banned]


def outside(graph: Graph, of_layer: str, allowed: Iterable[str]) -> list[str]:
    """Imports of `of_layer` into chalicelib's other layers, or AWS code, not in `allowed`."""
    ok = set(allowed) | {of_layer}
    return [
        f"{name} -> {target}"
        for name, target in _edges(graph, of_layer)
        if (target.startswith(f"{PACKAGE}.") and layer(target) not in ok) or layer(target) in AWS_PACKAGES
    ]


# --- the walker itself ------------------------------------------------------------------------------
def test_the_walk_sees_imports_inside_functions_and_modules_named_in_from_imports():
    source = (
        "from chalicelib.store import keys\n"
        "import chalicelib.domain.ids\n"
        "def f():\n"
        "    from chalicelib.store.events import event_items\n"
        "    from . import pages\n"
    )
    known = ["chalicelib.store.keys", "chalicelib.store.pages", "chalicelib.store.events"]
    found = imported(source, "chalicelib.store.unit_of_work", False, known)
    assert {"chalicelib.store.keys", "chalicelib.domain.ids", "chalicelib.store.events"} <= found
    assert "chalicelib.store.pages" in found


def test_a_cycle_is_reported_as_its_path():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


# --- the code ---------------------------------------------------------------------------------------
def test_chalicelib_has_no_import_cycle():
    cycle = find_cycle(internal(imports_of_every_module()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_services_import_no_workflow_no_entry_point_and_no_aws_code():
    graph = imports_of_every_module()
    bad = offenders(graph, "services", {"workflows", "local", "api", "bootstrap", "store", *AWS_PACKAGES})
    assert bad == []  # the store too: services reach it through their ports (services/ports.py)


def test_services_use_the_provider_registry_and_not_the_plugins_themselves():
    graph = imports_of_every_module()
    bad = [
        edge
        for edge in offenders(graph, "services", {"providers"})
        # the registry, and the cloud backends' contract (providers/cloud.py: its types and errors;
        # a backend is built by workflows/cloud_driver.py, which the workflows and the API pass in)
        if not edge.endswith((" -> chalicelib.providers.registry", " -> chalicelib.providers.cloud"))
    ]
    assert bad == []


def test_domain_imports_no_other_layer_and_no_aws_code():
    assert outside(imports_of_every_module(), "domain", allowed=()) == []


# The built-in AWS plugin (providers/aws) is a cloud backend: it calls EC2 and STS with boto3, on the
# endpoint (moto locally), timeouts and retries of every client Cirrus builds.
AWS_PLUGIN = "chalicelib.providers.aws"
AWS_PLUGIN_REACHES = frozenset(
    {"boto3", "botocore.exceptions", "chalicelib.config", "chalicelib.workflows.aws"}
)


def test_provider_plugins_see_only_the_domain():
    found = outside(imports_of_every_module(), "providers", allowed={"domain"})
    assert [
        edge
        for edge in found
        if not (edge.startswith(f"{AWS_PLUGIN}.") and edge.split(" -> ")[1] in AWS_PLUGIN_REACHES)
    ] == []


def test_the_store_does_not_know_its_callers():
    graph = imports_of_every_module()
    bad = offenders(graph, "store", {"services", "workflows", "api", "local", "bootstrap"})
    allowed = (" -> chalicelib.services.ports", " -> chalicelib.services.paging")
    assert [edge for edge in bad if not edge.endswith(allowed)] == []


def test_services_send_mail_through_the_mailer_port_not_the_adapter():
    """`chalicelib.mail` is an adapter (SES, the local outbox) bound by the composition root."""
    graph = imports_of_every_module()
    assert offenders(graph, "services", {"mail"}) == []
