"""Secrets from files (`NAME_FILE`, as Docker and Compose secrets give them) and start-up
errors in the JSON log format, through the real `footfall` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from footfall.config import ConfigError, read_secret_files
from tests.conftest import PG_SECRET_KEY

FOOTFALL = str(Path(sys.executable).parent / "footfall")


def run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    return subprocess.run(
        [FOOTFALL, *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_secret_file_sets_its_variable_without_the_final_newline(tmp_path: Path) -> None:
    token = tmp_path / "metrics_token"
    token.write_text("s3cret-token\n")
    env = {"FOOTFALL_METRICS_TOKEN_FILE": str(token), "OTHER": "x"}
    read_secret_files(env)
    assert env["FOOTFALL_METRICS_TOKEN"] == "s3cret-token"


@pytest.mark.parametrize(
    ("content", "both", "expected"),
    [
        (None, False, "cannot read it"),
        ("", False, "the file is empty"),
        ("\n", False, "the file is empty"),
        ("token", True, "both set"),
    ],
)
def test_a_secret_file_that_cannot_be_used_is_named(
    tmp_path: Path, content: str | None, both: bool, expected: str
) -> None:
    path = tmp_path / "admin_token"
    if content is not None:
        path.write_text(content)
    env = {"FOOTFALL_ADMIN_TOKEN_FILE": str(path)}
    if both:
        env["FOOTFALL_ADMIN_TOKEN"] = "also-set"
    with pytest.raises(ConfigError, match=expected) as raised:
        read_secret_files(env)
    assert "FOOTFALL_ADMIN_TOKEN" in str(raised.value)


def test_the_command_reads_its_secrets_from_files(tmp_path: Path, db_url: str) -> None:
    url_file = tmp_path / "database_url"
    url_file.write_text(db_url + "\n")
    key_file = tmp_path / "secret_key"
    key_file.write_text(PG_SECRET_KEY + "\n")
    env = {"FOOTFALL_DATABASE_URL_FILE": str(url_file), "FOOTFALL_SECRET_KEY_FILE": str(key_file)}
    done = run("init", "--json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["database"] == db_url


def test_start_up_errors_are_json_lines_with_json_logs(tmp_path: Path) -> None:
    env = {"FOOTFALL_LOG_FORMAT": "json", "FOOTFALL_RATE_LIMIT": "fast"}
    done = run("serve", "--port", "1", env=env, cwd=tmp_path)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    record = json.loads(line)
    assert record["level"] == "ERROR"
    assert "FOOTFALL_RATE_LIMIT='fast'" in record["message"]
    missing = run(
        "serve",
        env={"FOOTFALL_LOG_FORMAT": "json", "FOOTFALL_SECRET_KEY_FILE": "/nonexistent/key"},
        cwd=tmp_path,
    )
    assert missing.returncode == 1
    assert "FOOTFALL_SECRET_KEY_FILE" in json.loads(missing.stderr)["message"]
    # Text logs: the same error as one plain line.
    plain = run("serve", env={"FOOTFALL_RATE_LIMIT": "fast"}, cwd=tmp_path)
    assert plain.stderr.startswith("error: FOOTFALL_RATE_LIMIT='fast'")
    assert not any(tmp_path.iterdir()), "a failed start must leave no file behind"
