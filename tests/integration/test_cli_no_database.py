"""A command that finds no database creates none: it fails with one clear line and leaves
no file behind. Only `footfall init` (and the demo) create a database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from footfall.cli.main import app

runner = CliRunner()

READERS = [
    ["webhooks", "list"],
    ["accounts", "list"],
    ["keys", "list"],
    ["locations", "list"],
    ["occupancy", "list"],
    ["queues", "list"],
    ["feeds", "list"],
    ["secrets", "rotate"],
    ["copy-database", "--to", "sqlite:///elsewhere.db"],
]


@pytest.mark.parametrize("command", READERS, ids=lambda c: " ".join(c))
def test_no_database_no_file(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FOOTFALL_DATABASE_URL", raising=False)
    monkeypatch.delenv("FOOTFALL_SECRET_KEY", raising=False)
    result = runner.invoke(app, command)  # the default database: ./footfall.db
    assert result.exit_code == 1, result.output
    assert "error: no database at footfall.db: run `footfall init` first" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_no_database_named_by_db(tmp_path: Path) -> None:
    missing = tmp_path / "sub" / "missing.db"
    result = runner.invoke(app, ["webhooks", "list", "--db", f"sqlite:///{missing}"])
    assert result.exit_code == 1
    assert f"no database at {missing}" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_init_creates_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FOOTFALL_DATABASE_URL", raising=False)
    monkeypatch.delenv("FOOTFALL_SECRET_KEY", raising=False)
    assert runner.invoke(app, ["init"]).exit_code == 0
    listed = runner.invoke(app, ["webhooks", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert (tmp_path / "footfall.db").exists()
