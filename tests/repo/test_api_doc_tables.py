"""docs/api.md's endpoint and parameter tables say what the generated OpenAPI document
says: every read endpoint with its answer item and parameters, every parameter with the
document's own description."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from footfall.api.app import create_app
from footfall.config import Settings
from footfall.store.db import Database

DOC = Path(__file__).parent.parent.parent / "docs" / "api.md"
PREFIX = "/service/api/v1"


@pytest.fixture
def document(db_url: str, db: Database) -> dict[str, Any]:
    app = create_app(Settings(database_url=db_url), db=db, background=False)
    spec: dict[str, Any] = app.openapi()
    return spec


def _rows(first_header: str) -> list[list[str]]:
    """The rows of the docs/api.md table whose first header cell is `first_header`."""
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_endpoint_table_is_the_document(document: dict[str, Any]) -> None:
    documented = {}
    for path, item in document["paths"].items():
        if path.startswith(PREFIX):
            operation = item["get"]
            ref = operation["responses"]["200"]["content"]["application/json"]["schema"]
            documented[path.removeprefix(PREFIX)] = (
                ref["properties"]["result"]["items"]["$ref"].rsplit("/", 1)[1],
                [p["name"] for p in operation["parameters"] if p["name"] != "nonce"],
            )
    table = {
        re.sub(r"^`GET (\S+)`$", r"\1", row[0]): (row[1], re.findall(r"`(\w+)`", row[2]))
        for row in _rows("endpoint")
        if row[0].startswith("`GET ")
    }
    assert table == documented


def test_the_parameter_table_is_the_document(document: dict[str, Any]) -> None:
    documented = {
        p["name"]: p["description"]
        for item in document["paths"].values()
        for operation in item.values()
        for p in operation.get("parameters", [])
        if p["in"] == "query"
    }
    read = {k: v for k, v in documented.items() if k not in ("token",)}
    table = {row[0].strip("`"): row[1] for row in _rows("parameter")}
    assert table == read
