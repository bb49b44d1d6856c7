#!/usr/bin/env python3
"""Modules over 400 lines and functions over 60 lines in src/footfall (the house rule:
rooms with one job). Migrations and the table listing in store/schema.py are aside: a
migration is read once, top to bottom, and the schema is one list of tables.

`python scripts/sizes.py` prints them; tests/repo/test_sizes.py runs it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MODULE_LINES = 400
FUNCTION_LINES = 60
ROOT = Path(__file__).resolve().parent.parent / "src" / "footfall"
ASIDE = ("store/migrations/", "store/schema.py")


def oversized(root: Path = ROOT) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(modules over MODULE_LINES, functions over FUNCTION_LINES), as (where, lines)."""
    modules: list[tuple[str, int]] = []
    functions: list[tuple[str, int]] = []
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name.startswith(ASIDE):
            continue
        text = path.read_text()
        lines = len(text.splitlines())
        if lines > MODULE_LINES:
            modules.append((name, lines))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES:
                    functions.append((f"{name}:{node.lineno} {node.name}", length))
    return modules, functions


def main() -> int:
    modules, functions = oversized()
    print(f"modules over {MODULE_LINES} lines:")
    for where, lines in modules:
        print(f"  {lines:5d}  {where}")
    print(f"functions over {FUNCTION_LINES} lines:")
    for where, lines in functions:
        print(f"  {lines:5d}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
