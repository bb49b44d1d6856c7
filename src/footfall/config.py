"""Settings from the environment (docs/operations.md, Configuration), read once into one frozen
dataclass.

Every knob has the default the specification gives; a malformed value is an error that
names the variable and the expected form, raised before anything starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any

from footfall.domain.agent_config import ConfigLimits
from footfall.domain.webhooks import SCHEDULE
from footfall.forwarded import NO_PROXIES, TrustedProxies, parse_forwarded_allow_ips

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "MIN_ADMIN_TOKEN_LENGTH",
    "MIN_RETENTION_DAYS",
    "SECRET_VARIABLES",
    "ConfigError",
    "Settings",
    "read_secret_files",
]

DEFAULT_DATABASE_URL = "sqlite:///footfall.db"
DEFAULT_RETENTION_DAYS = 90.0
# Less would refuse yesterday's events from an agent that was offline overnight, and the
# histogram job needs the previous day's raw events to finish it.
MIN_RETENTION_DAYS = 2.0
# A shorter operator token could be guessed despite the sign-in throttle: the dashboard
# stays off (and says why) rather than run with one.
MIN_ADMIN_TOKEN_LENGTH = 24
LOG_FORMATS = ("text", "json")
# The settings that carry a secret: each can also be given as `NAME_FILE`, the path of a
# file holding it (Docker and Compose secrets, Kubernetes secret volumes), so that it need
# not sit in the environment, where `docker inspect` and /proc/PID/environ show it.
SECRET_VARIABLES = (
    "FOOTFALL_DATABASE_URL",
    "FOOTFALL_SECRET_KEY",
    "FOOTFALL_ADMIN_TOKEN",
    "FOOTFALL_METRICS_TOKEN",
    "FOOTFALL_MQTT_URL",
)


class ConfigError(ValueError):
    """A setting has a value Footfall cannot use."""


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number") from None
    if value < minimum or value != value:  # NaN fails every comparison
        raise ConfigError(f"{name}={raw!r}: expected a number >= {minimum:g}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ConfigError(f"{name}={env.get(name)!r}: expected 1 (on) or 0 (off)")


def read_secret_files(env: MutableMapping[str, str]) -> None:
    """Set each secret variable from its `NAME_FILE` (the file's text, without the final
    newline editors add). Called once when a process starts, before anything reads the
    environment, so every part of Footfall (and every worker process) sees the value."""
    for name in SECRET_VARIABLES:
        path = env.get(f"{name}_FILE")
        if not path:
            continue
        if env.get(name):
            raise ConfigError(f"{name} and {name}_FILE are both set: keep one of them")
        try:
            with open(path, encoding="utf-8") as file:
                value = file.read().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(f"{name}_FILE={path!r}: cannot read it ({reason})") from None
        if not value.strip():
            raise ConfigError(f"{name}_FILE={path!r}: the file is empty")
        env[name] = value


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    rate_limit: float = 1.0  # read-API requests per second per key; 0 = no throttle
    retention_days: float = DEFAULT_RETENTION_DAYS
    webhook_timeout: float = 10.0
    # Let webhooks reach loopback, private and link-local addresses (docs/api.md, Webhooks;
    # docs/operations.md, Configuration).
    webhook_allow_private: bool = False
    public_url: str = "http://127.0.0.1:8000"
    admin_token: str | None = None
    # Bytes of request bodies one process holds at once (api/body_budget.py); 4 batches of
    # the largest size: beyond it a new body waits `body_wait` seconds, then gets 503.
    body_bytes_in_flight: int = 64 * 1024 * 1024
    body_wait: float = 2.0
    # Peers whose X-Forwarded-For names the client (footfall.forwarded); default: none.
    forwarded_allow_ips: TrustedProxies = NO_PROXIES
    # How often the retention purge runs inside `footfall serve` (seconds).
    purge_interval: float = 3600.0
    # Seconds between webhook retries (docs/api.md, Webhooks); tests shorten it.
    webhook_schedule: tuple[float, ...] = SCHEDULE
    # Observability and the MQTT publisher (docs/operations.md).
    log_format: str = "text"  # text | json (one JSON object per line)
    metrics_token: str | None = None  # set: GET /metrics wants `Authorization: Bearer <it>`
    mqtt_url: str | None = None  # mqtt://user:pass@host:1883 or mqtts://; unset: no MQTT
    mqtt_topic_prefix: str = "footfall"
    mqtt_discovery_prefix: str = "homeassistant"  # Home Assistant's; "" turns discovery off
    # What one location's agent may declare (docs/operations.md, Limits).
    config_limits: ConfigLimits = field(default_factory=ConfigLimits)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("FOOTFALL_DATABASE_URL") or DEFAULT_DATABASE_URL,
            rate_limit=_number(env, "FOOTFALL_RATE_LIMIT", 1.0, minimum=0),
            retention_days=_number(
                env, "FOOTFALL_RETENTION_DAYS", DEFAULT_RETENTION_DAYS, minimum=MIN_RETENTION_DAYS
            ),
            webhook_timeout=_number(env, "FOOTFALL_WEBHOOK_TIMEOUT", 10.0, minimum=0.001),
            webhook_allow_private=_flag(env, "FOOTFALL_WEBHOOK_ALLOW_PRIVATE"),
            public_url=(env.get("FOOTFALL_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
            admin_token=env.get("FOOTFALL_ADMIN_TOKEN") or None,
            config_limits=_config_limits(env),
            forwarded_allow_ips=_proxies(env),
            body_bytes_in_flight=int(
                _number(env, "FOOTFALL_BODY_BYTES_IN_FLIGHT", 64 * 1024 * 1024, minimum=1)
            ),
            **_observability(env),
        )

    def __post_init__(self) -> None:
        if not self.retention_days >= MIN_RETENTION_DAYS:  # NaN included
            raise ConfigError(
                f"FOOTFALL_RETENTION_DAYS={self.retention_days:g}: expected a number of days "
                f">= {MIN_RETENTION_DAYS:g}"
            )

    @property
    def dashboard_token(self) -> str | None:
        """The operator token when it is long enough to enable the dashboard."""
        token = self.admin_token
        return token if token is not None and len(token) >= MIN_ADMIN_TOKEN_LENGTH else None

    @property
    def admin_token_problem(self) -> str | None:
        """Why a token that is set does not enable the dashboard."""
        if self.admin_token is None or self.dashboard_token is not None:
            return None
        return (
            f"FOOTFALL_ADMIN_TOKEN has {len(self.admin_token)} characters: it needs at least "
            f"{MIN_ADMIN_TOKEN_LENGTH}, so the dashboard stays off"
        )

    @property
    def secure_cookies(self) -> bool:
        """Users reach the server over https (perhaps through a TLS proxy)."""
        return self.public_url.lower().startswith("https://")

    def with_database(self, url: str | None) -> Settings:
        return self if not url else replace(self, database_url=url)


def _config_limits(env: Mapping[str, str]) -> ConfigLimits:
    default = ConfigLimits()

    def whole(name: str, fallback: int) -> int:
        value = float(_number(env, name, fallback, minimum=1))
        if not value.is_integer():  # inf and NaN included
            raise ConfigError(f"{name}={env.get(name)!r}: expected a whole number >= 1")
        return int(value)

    return ConfigLimits(
        max_channels=whole("FOOTFALL_MAX_CHANNELS", default.max_channels),
        max_triggers_per_channel=whole(
            "FOOTFALL_MAX_TRIGGERS_PER_CHANNEL", default.max_triggers_per_channel
        ),
        max_body_bytes=whole("FOOTFALL_MAX_CONFIG_BYTES", default.max_body_bytes),
    )


def _proxies(env: Mapping[str, str]) -> TrustedProxies:
    try:
        return parse_forwarded_allow_ips(env.get("FOOTFALL_FORWARDED_ALLOW_IPS"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _observability(env: Mapping[str, str]) -> dict[str, Any]:
    from footfall.domain.broker_url import BrokerURLError, parse_broker_url, topic_prefix_problem

    log_format = (env.get("FOOTFALL_LOG_FORMAT") or "text").strip().lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"FOOTFALL_LOG_FORMAT={log_format!r}: expected text or json")
    mqtt_url = env.get("FOOTFALL_MQTT_URL") or None
    if mqtt_url is not None:
        try:
            parse_broker_url(mqtt_url)
        except BrokerURLError as exc:
            raise ConfigError(f"FOOTFALL_MQTT_URL: {exc}") from None
    prefixes = {
        "FOOTFALL_MQTT_TOPIC_PREFIX": env.get("FOOTFALL_MQTT_TOPIC_PREFIX") or "footfall",
        "FOOTFALL_MQTT_DISCOVERY_PREFIX": env.get(
            "FOOTFALL_MQTT_DISCOVERY_PREFIX", "homeassistant"
        ),
    }
    for name, value in prefixes.items():
        problem = topic_prefix_problem(value)
        if problem and not (name == "FOOTFALL_MQTT_DISCOVERY_PREFIX" and value == ""):
            raise ConfigError(f"{name}={value!r}: {problem}")
    return {
        "log_format": log_format,
        "metrics_token": env.get("FOOTFALL_METRICS_TOKEN") or None,
        "mqtt_url": mqtt_url,
        "mqtt_topic_prefix": prefixes["FOOTFALL_MQTT_TOPIC_PREFIX"],
        "mqtt_discovery_prefix": prefixes["FOOTFALL_MQTT_DISCOVERY_PREFIX"],
    }
