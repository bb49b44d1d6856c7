"""The agent's declaration of its channels and triggers (`PUT /ingest/v1/config`).

`decode_config` returns the declaration or every problem found, each naming the field by
its path in the body (`channels[0].triggers[1].type`).
"""

from __future__ import annotations

from typing import Final

import msgspec

from footfall.domain import vocabulary as v
from footfall.domain.times import ZoneError, parse_zone

__all__ = [
    "ChannelIn",
    "ConfigBodyError",
    "ConfigIn",
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


_DECODER: Final = msgspec.json.Decoder(ConfigIn)


def _name_problem(name: str | None) -> str | None:
    if name is None:
        return None
    if len(name) > _NAME_MAX or "\x00" in name:
        return f"expected at most {_NAME_MAX} characters without NUL"
    return None


def decode_config(body: bytes) -> tuple[ConfigIn | None, list[ConfigProblem]]:
    """Decode and check a declaration; raises ConfigBodyError for a body that is not JSON."""
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
    problems: list[ConfigProblem] = []

    def add(field: str, message: str) -> None:
        problems.append(ConfigProblem(field, message))

    if len(config.version) > 64 or v.has_control(config.version):
        add("version", "expected at most 64 characters without control characters")
    if config.timezone is not None:
        try:
            parse_zone(config.timezone)
        except ZoneError as exc:
            add("timezone", str(exc))
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
