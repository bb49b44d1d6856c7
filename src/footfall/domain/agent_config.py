"""The agent's declaration of its channels and triggers (`PUT /ingest/v1/config`).

`decode_config` returns the declaration or every problem found, each naming the field by
its path in the body (`channels[0].triggers[1].type`).

Invariant: what one location may declare is bounded (`ConfigLimits`, docs/operations.md):
the body's size is checked before it is decoded, the number of channels and of triggers
per channel before any of them is looked at, so an oversized declaration costs at most
one bounded decode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import msgspec

from footfall.domain import vocabulary as v
from footfall.domain.times import zone_name_problem

__all__ = [
    "ChannelIn",
    "ConfigBodyError",
    "ConfigIn",
    "ConfigLimits",
    "ConfigProblem",
    "TriggerIn",
    "decode_config",
]

_NAME_MAX: Final = 200


class TriggerIn(msgspec.Struct):
    id: str
    type: str
    name: str | None = None


class ChannelIn(msgspec.Struct):
    id: str
    name: str | None = None
    paid: int = 0
    triggers: list[TriggerIn] = msgspec.field(default_factory=list)


class ConfigIn(msgspec.Struct):
    version: str = ""
    timezone: str | None = None
    channels: list[ChannelIn] = msgspec.field(default_factory=list)


class ConfigProblem(msgspec.Struct):
    field: str
    message: str


class ConfigBodyError(ValueError):
    """The body is not JSON at all."""


@dataclass(frozen=True)
class ConfigLimits:
    """What one location's agent may declare (docs/operations.md, Limits): far above any
    real site, so only a broken or hostile agent meets them."""

    max_channels: int = 1000
    max_triggers_per_channel: int = 100
    max_body_bytes: int = 2 * 1024 * 1024

    def body_problem(self, size: int, *, at_least: bool = False) -> ConfigProblem | None:
        """The problem of a body of `size` bytes (`at_least`: more were not read), checked
        before it is read further."""
        if size <= self.max_body_bytes:
            return None
        size_text = f"more than {self.max_body_bytes}" if at_least else str(size)
        return ConfigProblem(
            "(body)",
            f"the config is {size_text} bytes; at most {self.max_body_bytes} are accepted "
            "(FOOTFALL_MAX_CONFIG_BYTES)",
        )

    def count_problems(self, config: ConfigIn) -> list[ConfigProblem]:
        """Channels beyond `max_channels`, and each channel with too many triggers."""
        problems: list[ConfigProblem] = []
        if len(config.channels) > self.max_channels:
            problems.append(
                ConfigProblem(
                    "channels",
                    f"{len(config.channels)} channels declared; at most {self.max_channels} "
                    "per location (FOOTFALL_MAX_CHANNELS)",
                )
            )
        for ci, channel in enumerate(config.channels):
            if len(channel.triggers) > self.max_triggers_per_channel:
                problems.append(
                    ConfigProblem(
                        f"channels[{ci}].triggers",
                        f"{len(channel.triggers)} triggers declared on channel {channel.id!r:.80}; "
                        f"at most {self.max_triggers_per_channel} per channel "
                        "(FOOTFALL_MAX_TRIGGERS_PER_CHANNEL)",
                    )
                )
                if len(problems) >= _MAX_PROBLEMS:
                    break
        return problems

    def known_problems(
        self, known_channels: int, busiest: tuple[str, int] | None
    ) -> list[ConfigProblem]:
        """The limits applied to what the location knows once a config is applied:
        channels and triggers no longer declared count until they are purged, so an
        agent cannot pass a limit by declaring new ids config after config."""
        problems: list[ConfigProblem] = []
        if known_channels > self.max_channels:
            problems.append(
                ConfigProblem(
                    "channels",
                    f"the location would know {known_channels} channels, those no longer "
                    f"declared included; at most {self.max_channels} per location "
                    "(FOOTFALL_MAX_CHANNELS): `footfall locations prune` removes undeclared ones",
                )
            )
        if busiest is not None and busiest[1] > self.max_triggers_per_channel:
            problems.append(
                ConfigProblem(
                    "channels",
                    f"channel {busiest[0]!r:.80} would have {busiest[1]} triggers, those no "
                    f"longer declared included; at most {self.max_triggers_per_channel} per "
                    "channel (FOOTFALL_MAX_TRIGGERS_PER_CHANNEL): `footfall locations prune` "
                    "removes undeclared ones",
                )
            )
        return problems


_MAX_PROBLEMS: Final = 100


_DECODER: Final = msgspec.json.Decoder(ConfigIn)


def _name_problem(name: str | None) -> str | None:
    if name is None:
        return None
    if len(name) > _NAME_MAX or "\x00" in name:
        return f"expected at most {_NAME_MAX} characters without NUL"
    return None


def decode_config(
    body: bytes, limits: ConfigLimits | None = None
) -> tuple[ConfigIn | None, list[ConfigProblem]]:
    """Decode and check a declaration; raises ConfigBodyError for a body that is not JSON."""
    limits = ConfigLimits() if limits is None else limits
    if (too_large := limits.body_problem(len(body))) is not None:
        return None, [too_large]
    try:
        config = _DECODER.decode(body)
    except RecursionError:
        raise ConfigBodyError("the body nests JSON arrays or objects too deeply") from None
    except msgspec.ValidationError as exc:
        try:  # msgspec may see the wrong shape before it reaches bad syntax
            msgspec.json.decode(body)
        except msgspec.DecodeError as syntax:
            raise ConfigBodyError(f"the body is not valid JSON ({syntax})") from None
        except RecursionError:
            raise ConfigBodyError("the body nests JSON arrays or objects too deeply") from None
        # msgspec names the first misplaced value by its JSON path: "... - at `$.a[0].b`".
        message, _, path = str(exc).partition(" - at `$")
        field = path.rstrip("`").lstrip(".") or "(body)"
        return None, [ConfigProblem(field, message)]
    except msgspec.DecodeError as exc:
        raise ConfigBodyError(f"the body is not valid JSON ({exc})") from None
    if problems := limits.count_problems(config):
        return None, problems
    return _checked(config)


def _checked(config: ConfigIn) -> tuple[ConfigIn | None, list[ConfigProblem]]:
    """Every problem of a declaration within the limits (at most `_MAX_PROBLEMS`)."""
    problems: list[ConfigProblem] = []

    def add(field: str, message: str) -> None:
        if len(problems) < _MAX_PROBLEMS:
            problems.append(ConfigProblem(field, message))

    if len(config.version) > 64 or v.has_control(config.version):
        add("version", "expected at most 64 characters without control characters")
    if config.timezone is not None and (why := zone_name_problem(config.timezone)) is not None:
        add("timezone", why)
    seen_channels: set[str] = set()
    seen_triggers: dict[str, str] = {}
    for ci, channel in enumerate(config.channels):
        where = f"channels[{ci}]"
        if (why := v.id_problem(channel.id)) is not None or v.has_control(channel.id):
            add(f"{where}.id", why or "expected no control characters")
        elif channel.id in seen_channels:
            add(f"{where}.id", f"channel {channel.id!r} is declared twice")
        seen_channels.add(channel.id)
        if (why := _name_problem(channel.name)) is not None:
            add(f"{where}.name", why)
        if channel.paid not in (0, 1):
            add(f"{where}.paid", f"expected 0 or 1, got {channel.paid}")
        for ti, trigger in enumerate(channel.triggers):
            at = f"{where}.triggers[{ti}]"
            if (why := v.id_problem(trigger.id)) is not None or v.has_control(trigger.id):
                add(f"{at}.id", why or "expected no control characters")
            elif trigger.id in seen_triggers:
                add(
                    f"{at}.id",
                    f"trigger {trigger.id!r} is declared twice (also on channel "
                    f"{seen_triggers[trigger.id]!r}); trigger ids are unique per location",
                )
            seen_triggers.setdefault(trigger.id, channel.id)
            if trigger.type not in v.TRIGGER_TYPES:
                add(f"{at}.type", f"{trigger.type!r} is not one of Line, Zone, Scene")
            if (why := _name_problem(trigger.name)) is not None:
                add(f"{at}.name", why)
    return (None, problems) if problems else (config, [])
