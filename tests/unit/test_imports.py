"""The structure has no import cycle: among the modules of ``service``, ``devices`` and
``web`` no module imports, directly or through others, a module that imports it back.

The graph comes from grimp (the library under import-linter), which reads every
``import`` statement, also those inside functions and under ``TYPE_CHECKING``. It
cannot see ``importlib.import_module("...")``, so a test below refuses those for
our own modules: every dependency between them is a statement the graph sees.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("service", "devices", "web")


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """One shortest cycle per import that closes one: ``[a, b, ..., a]``."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is None:
                continue
            cycle = [module, *back]
            key = frozenset(cycle)
            if key not in seen:
                seen.add(key)
                found.append(cycle)
    return found


def describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    steps = []
    for importer, imported in itertools.pairwise(cycle):
        lines = graph.get_import_details(importer=importer, imported=imported)
        where = f" (line {lines[0]['line_number']})" if lines else ""
        steps.append(f"{importer} -> {imported}{where}")
    return "; ".join(steps)


def project_graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def test_no_import_cycle_among_service_devices_and_web() -> None:
    graph = project_graph()
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(describe(graph, c) for c in found)


def test_the_api_never_imports_the_pages() -> None:
    graph = project_graph()
    chain = graph.find_shortest_chain(importer="service.api", imported="web", as_packages=True)
    assert chain is None, f"service.api reaches web: {' -> '.join(chain or ())}"


def test_adapters_do_not_import_the_registry() -> None:
    graph = project_graph()
    adapters = {"nfc", "pcsc", "osdp", "serial_line", "mqtt", "simulated", "relay", "strike"}
    importers = {m.split(".")[-1] for m in graph.find_downstream_modules("devices.registry")}
    assert not adapters & importers


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The finder itself can fail: two modules importing each other, through a third."""
    graph = grimp.ImportGraph()
    for importer, imported in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.a", "p.d")):
        graph.add_import(importer=importer, imported=imported)
    assert cycles(graph) == [["p.a", "p.b", "p.c", "p.a"]]


def _dynamic_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in ("import_module", "__import__"):
            continue
        arg = node.args[0]
        literal = arg.value if isinstance(arg, ast.Constant) else None
        if not isinstance(literal, str) or literal.split(".")[0] in PACKAGES:
            out.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return out


def test_our_modules_are_imported_by_statements_the_graph_sees() -> None:
    hidden = [
        where
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for where in _dynamic_imports(path)
    ]
    assert not hidden, f"import our modules with import statements, not by name: {hidden}"
