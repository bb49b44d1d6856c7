"""The limits' settings and the time-zone rule, as pure functions (docs/operations.md,
Limits; docs/api.md, PUT /ingest/v1/config)."""

from __future__ import annotations

import pytest

from footfall.config import ConfigError, Settings
from footfall.domain.agent_config import ConfigLimits, decode_config
from footfall.domain.times import zone_name_problem


def test_the_limits_default_and_read_their_variables() -> None:
    assert Settings.from_env({}).config_limits == ConfigLimits(1000, 100, 2 * 1024 * 1024)
    limits = Settings.from_env(
        {
            "FOOTFALL_MAX_CHANNELS": "50",
            "FOOTFALL_MAX_TRIGGERS_PER_CHANNEL": "8",
            "FOOTFALL_MAX_CONFIG_BYTES": "65536",
        }
    ).config_limits
    assert limits == ConfigLimits(50, 8, 65536)


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5", "inf", "nan"])
def test_a_malformed_limit_names_its_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="FOOTFALL_MAX_CHANNELS"):
        Settings.from_env({"FOOTFALL_MAX_CHANNELS": value})


def test_the_body_size_is_checked_before_decoding() -> None:
    limits = ConfigLimits(max_body_bytes=10)
    config, problems = decode_config(b"not even json, and long", limits)
    assert config is None
    assert [(p.field, "23 bytes" in p.message) for p in problems] == [("(body)", True)]


@pytest.mark.parametrize(
    "name", ["UTC", "Z", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "+05:30"]
)
def test_tz_database_names_and_offsets_pass(name: str) -> None:
    assert zone_name_problem(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "localtime",
        "posixrules",
        "Factory",
        "/usr/share/zoneinfo/UTC",
        "Europe/./Paris",
        "Europe/../Europe/Paris",
        "Europe\\Paris",
        "Europe/Paris\x00",
        "A" * 65,
        "A" * 100_000,
        "Europe",
        "",
        "+15:00",
    ],
)
def test_anything_else_is_named_a_problem(name: str) -> None:
    problem = zone_name_problem(name)
    assert problem is not None
    assert len(problem) < 300  # a long value is not echoed back whole
