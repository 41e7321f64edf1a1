"""The package's layers: every import goes down or sideways, never up, and never round.

The layers, bottom to top, are ``core`` (errors, CRS, atomic writes), ``data``
(readers, schema, graphs, synthetic data), ``analysis``, ``maps``, ``exchange``
(exports, QGIS), then ``config``, ``pipeline`` and ``cli``. The test reads every
module's imports from its source (including imports inside functions, which
are still dependencies), so a module cannot reach a layer above it by
importing lazily.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gongshu_geo"
LAYERS = ["core", "data", "analysis", "maps", "exchange", "config", "pipeline", "cli"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """The gongshu_geo modules a file imports, as dotted names."""
    return imports_of(
        path.read_text(encoding="utf-8"), _module_name(path), path.name == "__init__.py"
    )


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """The gongshu_geo modules (and names in them) that ``source`` of ``module`` imports."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("gongshu_geo")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("gongshu_geo"):
                found.add(target)
                found |= {f"{target}.{a.name}" for a in node.names}  # submodules imported by name
    return found


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: {m for m in _imports(p) if m in MODULES} for name, p in MODULES.items()}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_belongs_to_a_layer():
    """Nothing lives beside the layers but the package's front door."""
    stray = [m for m in MODULES if m != "gongshu_geo" and _layer(m) is None]
    assert stray == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "gongshu_geo"))
def test_imports_go_down_only(module):
    """A module imports its own layer or the ones below, never one above."""
    upward = sorted(t for t in GRAPH[module] if t != "gongshu_geo" and _layer(t) > _layer(module))
    assert upward == [], f"{module} imports a higher layer: {upward}"


def test_no_module_imports_the_front_door():
    """Only the package's ``__init__`` gathers the public names; modules import their sources."""
    offenders = sorted(
        m for m, deps in GRAPH.items() if m != "gongshu_geo" and "gongshu_geo" in deps
    )
    assert offenders == []


def test_no_import_cycles():
    """No module reaches itself through the imports of others (depth-first search)."""
    graph = {m: deps - {"gongshu_geo"} for m, deps in GRAPH.items() if m != "gongshu_geo"}
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(nxt_ := node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[nxt_] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_checker_sees_lazy_and_relative_imports():
    """A data module importing maps in a function, relatively or not, is seen as upward."""
    source = (
        "def f():\n"
        "    from ..maps import web\n"
        "    from gongshu_geo.exchange.export import export_layers\n"
        "    import gongshu_geo.analysis.grid\n"
    )
    found = imports_of(source, "gongshu_geo.data.io")
    assert {
        "gongshu_geo.maps.web",
        "gongshu_geo.exchange.export",
        "gongshu_geo.analysis.grid",
    } <= found
    assert [_layer(m) for m in ("gongshu_geo.data.io", "gongshu_geo.maps.web")] == [1, 3]
