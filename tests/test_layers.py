"""Imports point one way (ARCHITECTURE.md): every module of simloop/ and
pytest_simloop/ belongs to a layer, and imports only from its own layer or
those below; nothing forms an import circle.

Read with `ast`, without importing anything. An import under ``if
TYPE_CHECKING:`` must respect the layers too; such type-only imports may
point both ways inside one package of the network (a host's port tables hold
sockets, a socket lives on a host), and nowhere else.

Covers simloop/ and pytest_simloop/ (the import layers).
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Layers, lowest first: a module may import from its own layer and the layers
#: before it. A module is in the first layer with a prefix that names it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("simloop._errors", "simloop._validate", "simloop._format")),
    ("strategies", ("simloop.strategies",)),
    (
        "core",
        (
            "simloop._trace",
            "simloop._choices",
            "simloop._tasks",
            "simloop._imports",
            "simloop._determinism",
            "simloop._threads",
            "simloop._batches",
            "simloop._reports",
            "simloop._outside",
            "simloop._core",
        ),
    ),
    # The network and the checks both stand on the core, and neither knows the other.
    ("net", ("simloop.net",)),
    ("checks", ("simloop._monitors", "simloop._probes", "simloop.check")),
    ("composition", ("simloop._loop",)),
    ("analysis", ("simloop._timeline", "simloop._depends", "simloop._shrink", "simloop._minimize")),
    ("entry points", ("simloop._run", "simloop._explain", "simloop.__main__", "simloop")),
    ("plugin", ("pytest_simloop",)),
]
#: Layers a layer may not import although they are lower (siblings).
SIBLINGS = {"checks": {"net"}}
#: What the plugin may use of the engine: its public face and entry points,
#: the strategies, and what renders a recorded run; never the core's or the
#: network's workings.
PLUGIN_USES = (
    "simloop",
    "simloop.strategies",
    "simloop._run",
    "simloop._explain",
    "simloop._minimize",
    "simloop._shrink",
    "simloop._depends",
    "simloop._timeline",
    "simloop._trace",
)
#: Packages inside which type-only imports may form circles.
TYPE_ONLY_CIRCLES_ALLOWED = ("simloop.net",)


def modules() -> dict[str, Path]:
    found = {}
    for package in ("simloop", "pytest_simloop"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def layer_of(module: str) -> int:
    best = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            named = module == prefix or module.startswith(prefix + ".")
            if named and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(module: str, path: Path, known: dict[str, Path]) -> list[tuple[str, bool]]:
    """(imported module, type-only) for every import of `module` of one of `known`."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((candidate if candidate in known else base, type_only))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, type_only) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(ast.parse(path.read_text()), False)
    resolved = []
    for name, type_only in found:
        while name not in known and "." in name:
            name = name.rpartition(".")[0]
        if name in known and name != module:
            resolved.append((name, type_only))
    return resolved


def _graph_here() -> dict[str, list[tuple[str, bool]]]:
    known = modules()
    return {module: imports(module, path, known) for module, path in known.items()}


@functools.cache
def _graph_text() -> str:
    # Parsed in a fresh interpreter: CPython 3.11.7's parser can trip over
    # recursion bookkeeping an earlier test left behind in this process
    # ("SystemError: AST constructor recursion depth mismatch").
    return subprocess.run(
        [sys.executable, __file__], capture_output=True, text=True, check=True
    ).stdout


def graph() -> dict[str, list[tuple[str, bool]]]:
    return {
        module: [(target, type_only) for target, type_only in targets]
        for module, targets in json.loads(_graph_text()).items()
    }


def test_every_import_points_down_the_layers() -> None:
    wrong = []
    for module, targets in graph().items():
        mine = layer_of(module)
        for target, type_only in targets:
            theirs = layer_of(target)
            name, their_name = LAYERS[mine][0], LAYERS[theirs][0]
            kind = "type-only import" if type_only else "import"
            if theirs > mine:
                wrong.append(
                    f"{module} ({name}) has an {kind} of {target} ({their_name}), above it"
                )
            elif their_name in SIBLINGS.get(name, set()):
                wrong.append(f"{module} ({name}) has an {kind} of {target} ({their_name})")
            elif (
                name == "plugin"
                and not target.startswith("pytest_simloop")
                and target not in PLUGIN_USES
            ):
                wrong.append(f"{module} uses {target}: the engine's workings, not its entry points")
    assert wrong == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def test_no_import_forms_a_circle() -> None:
    edges = graph()
    runtime = {
        module: {t for t, type_only in targets if not type_only}
        for module, targets in edges.items()
    }
    assert _cycles(runtime) == []
    every = {module: {t for t, _ in targets} for module, targets in edges.items()}
    circles = _cycles(every)
    outside = [
        circle
        for circle in circles
        if not all(
            any(member.startswith(package + ".") for package in TYPE_ONLY_CIRCLES_ALLOWED)
            for member in circle
        )
    ]
    assert outside == []


def test_the_check_sees_what_it_forbids() -> None:
    """The walker finds a module's imports, type-only ones marked, and the
    layers place the loop's parts where ARCHITECTURE.md says."""
    edges = dict(graph()["simloop._loop"])
    assert edges == {"simloop._core": False, "simloop.net._loop_api": False}
    assert ("simloop._core", True) in graph()["simloop.net._loop_api"]
    assert layer_of("simloop._core") < layer_of("simloop.net._tcp") < layer_of("simloop._loop")
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


if __name__ == "__main__":
    print(json.dumps(_graph_here()))
