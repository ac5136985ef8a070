"""Dependencies point one way: engine never imports the service, database or API layers."""

from __future__ import annotations

import ast
from pathlib import Path

import engine

FORBIDDEN = {"sqlalchemy", "strawberry", "starlette", "uvicorn", "api", "db", "services", "alembic", "fastapi"}
ENGINE_DIR = Path(engine.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_engine_module_imports_a_higher_layer() -> None:
    modules = sorted(ENGINE_DIR.rglob("*.py"))
    assert len(modules) >= 10
    offenders = {p.name: imported_roots(p) & FORBIDDEN for p in modules if imported_roots(p) & FORBIDDEN}
    assert offenders == {}


def test_only_policies_module_imports_mabwiser() -> None:
    importers = {p.name for p in ENGINE_DIR.rglob("*.py") if "mabwiser" in imported_roots(p)}
    assert importers == {"policies.py"}
