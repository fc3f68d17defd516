"""The code's structure: no import cycle inside cms/ (an import anywhere in a module counts, not only at
its top), no module over 450 lines outside migrations, publishing never imports the importer, and the
page types' static-build methods have the signatures of the Protocol in cms/core/publishing_protocol.py."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 450
# Modules allowed past the limit while someone splits them (none since issue 18); nothing else may grow past it.
TOO_LONG_FOR_NOW: set[str] = set()


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "cms").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of cms/ that a module imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{alias.name}" for alias in node.names}  # `from package import module`
    return {target for target in out if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
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
    return found


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"} - {"e"}, "f": {"g"}, "g": {"f"}}
    assert sorted(cycles(graph)) == [["a", "b", "c"], ["f", "g"]]


def test_no_import_cycle_in_cms():
    assert cycles(import_graph()) == []


def test_no_module_over_450_lines_outside_migrations():
    too_long = {}
    for path in modules().values():
        rel = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and rel not in TOO_LONG_FOR_NOW:
            too_long[rel] = lines
    assert too_long == {}


def test_publishing_does_not_import_the_importer():
    graph = import_graph()
    wrong = {f"{name} -> {target}" for name in graph if name.startswith("cms.publishing") for target in graph[name]}
    assert {edge for edge in wrong if edge.split(" -> ")[1].startswith("cms.content_io")} == set()


PROTOCOL_METHODS = [
    "static_signatures",
    "static_signatures_bulk",
    "signatures_affected",
    "build_queryset",
    "prepare_build",
    "prepare_routes",
]


def declared(cls, name: str) -> tuple[bool, list[str], dict[str, object]]:
    """(a classmethod?, its parameters' names, their annotations) as the class declares the method."""
    attr = inspect.getattr_static(cls, name)
    func = attr.__func__ if isinstance(attr, classmethod) else attr
    parameters = inspect.signature(func).parameters
    return isinstance(attr, classmethod), list(parameters), {k: p.annotation for k, p in parameters.items()}


@pytest.mark.parametrize("method", PROTOCOL_METHODS)
def test_page_types_implement_the_publishing_protocol(method):
    """Each page type's method is what the Protocol declares: the same kind of method, the same parameters
    (the build calls them by position), and the build's state and versions typed as the Protocol's."""
    from wagtail.models import get_page_models

    from cms.core import publishing_protocol as protocol

    interface = {
        "static_signatures": protocol.HasStaticSignatures,
        "static_signatures_bulk": protocol.HasBulkSignatures,
        "signatures_affected": protocol.HasIncrementalSignatures,
        "build_queryset": protocol.HasBuildQueryset,
        "prepare_build": protocol.PreparesBuild,
        "prepare_routes": protocol.PreparesRoutes,
    }[method]
    is_classmethod, names, _annotations = declared(interface, method)
    # Declared by the page type or a mixin of its own (StoryPage's are in cms/stories/build.py).
    implementations = [model for model in get_page_models() if inspect.getattr_static(model, method, None) is not None]
    assert implementations, f"no page type implements {method}"
    for model in implementations:
        assert isinstance(model, interface), model
        kind, own_names, annotations = declared(model, method)
        assert (kind, own_names) == (is_classmethod, names), model
        typed = {"versions": ("Versions", protocol.Versions), "state": ("BuildState", protocol.BuildState)}
        for name, allowed in typed.items():
            if name in annotations:
                assert annotations[name] in allowed, (model, name, annotations[name])
