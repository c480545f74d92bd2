"""The house's shape, beyond what import-linter checks inside the package (pyproject.toml): pages
and app.py are thin (no SQL, no database units, no role checks), and the package's top holds only
the core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRY_FILES = sorted((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]
FORBIDDEN_IMPORTS = ("sqlalchemy", "empowerment.db", "empowerment.models.tables", "empowerment.models.lookups")


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", ENTRY_FILES, ids=lambda p: p.name)
def test_pages_hold_widgets_and_layout_only(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    bad = [name for name in _imports(path) if name.startswith(FORBIDDEN_IMPORTS)]
    assert not bad, f"{path.name} imports {bad}: reads go through queries, writes through services"
    assert ".read()" not in source and ".write()" not in source, f"{path.name} opens a database unit"
    assert "actor.role" not in source, f"{path.name} decides by role: ask empowerment.access"


def test_the_package_top_holds_only_the_core() -> None:
    modules = sorted(p.name for p in (ROOT / "empowerment").glob("*.py"))
    assert len(modules) <= 13, modules  # the core: see docs/ARCHITECTURE.md (issue 9: at most 13)
