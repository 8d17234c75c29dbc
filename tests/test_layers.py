"""Imports flow one way: each package imports only from the layers below it.

The layers, top to bottom (a package may import its own layer's packages only where the
table below allows it, and never in a cycle):

    __main__, launcher, cli       the `wabox` command
    app, ui, http_protocol        the ASGI app, its route table, the inbox
    api                           HTTP handlers: decode, call one domain function, encode
    runtime, assets               wiring of one process's services; the assets tools
    delivery                      the domain: a message's life, which uses the three below
    links, webhooks               fetching media links; delivering webhooks
    media                         media rules and the object store
    store                         SQLAlchemy Core: tables, queries, writers, caches
    errors, clock, identities     the ground: the Graph error catalogue, the platform's time,
                                  how a customer is named (phone number, BSUID)
    schema, config, samples       ... and what they stand on: data only

``client`` stands alone: httpx and ``schema`` at most.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "wabox"

LAYERS: list[set[str]] = [
    {"__main__"},
    {"launcher"},
    {"cli"},
    {"app", "ui", "http_protocol"},
    {"api"},
    {"runtime", "assets"},
    {"delivery"},
    {"links", "webhooks"},
    {"media"},
    {"store"},
    {"errors", "clock", "client", "identities"},
    {"schema", "config", "samples", "wabox"},
]
# Same-layer imports that are part of the design (the route table lists the inbox's pages).
SIDEWAYS = {("app", "ui"), ("app", "http_protocol")}
# Foreign libraries that only some packages may know (STYLE: "only store/ knows SQLAlchemy").
OWNERS = {
    "sqlalchemy": {"store"},
    "alembic": {"store"},
    "aiohttp": {"links", "webhooks"},
    "obstore": {"media"},
}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "wabox"


def _imports() -> list[tuple[str, str]]:
    """(importing module, imported module) for every import in src/wabox, lazy ones too."""
    found = []
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        module = ".".join(parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(module, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = parts if is_package else parts[:-1]
                    base = base[: len(base) - node.level + 1]
                    target = ".".join([*base, node.module] if node.module else base)
                else:
                    target = node.module or ""
                found.append((module, target))
                if target == "wabox":  # `from wabox import errors`: a module, not a name
                    found += [
                        (module, f"wabox.{alias.name}")
                        for alias in node.names
                        if (SRC / alias.name).is_dir() or (SRC / f"{alias.name}.py").exists()
                    ]
    return found


def _level(package: str) -> int:
    for level, members in enumerate(LAYERS):
        if package in members:
            return level
    raise AssertionError(f"package {package} is in no layer: add it to LAYERS")


def _package_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for importer, imported in _imports():
        if imported.split(".")[0] != "wabox" or importer.startswith("wabox.client"):
            continue
        if imported == "wabox" and importer != "wabox":
            edges[_package(importer)].add("wabox")
            continue
        source, target = _package(importer), _package(imported)
        if source != target:
            edges[source].add(target)
    return edges


def test_every_package_has_a_layer() -> None:
    for path in SRC.iterdir():
        name = path.stem if path.suffix == ".py" else path.name
        if name in ("client", "__init__", "__pycache__") or name.startswith("."):
            continue
        if path.is_dir() or path.suffix == ".py":
            _level(name)


def test_imports_flow_down() -> None:
    wrong = []
    for source, targets in _package_edges().items():
        for target in targets:
            if _level(target) < _level(source):
                wrong.append(f"{source} -> {target} (upwards)")
            elif _level(target) == _level(source) and (source, target) not in SIDEWAYS:
                wrong.append(f"{source} -> {target} (same layer)")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_package_cycles() -> None:
    edges = _package_edges()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, node, nxt]))
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in list(edges):
        if node not in state:
            visit(node, [])


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_foreign_libraries_stay_with_their_owners(library: str) -> None:
    users = {
        _package(importer) for importer, imported in _imports() if imported.split(".")[0] == library
    }
    assert users <= OWNERS[library], f"{library} imported by {sorted(users - OWNERS[library])}"


def test_the_client_stands_alone() -> None:
    for importer, imported in _imports():
        if importer.startswith("wabox.client") and imported.startswith("wabox"):
            assert imported.startswith(("wabox.client", "wabox.schema")), (importer, imported)
