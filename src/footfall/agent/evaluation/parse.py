"""Lines and zones given on the command line: `NAME=ax,ay,bx,by` and
`NAME=x1,y1,x2,y2,x3,y3[,...]`, in the video's pixels. Errors name the option and what
was expected."""

from __future__ import annotations

from dataclasses import replace

from footfall.agent.evaluation.data import Line, Polygon, Sequence

__all__ = ["parse_line", "parse_zone", "with_geometry"]


def _numbers(spec: str, what: str) -> tuple[str, list[int]]:
    name, sep, values = spec.partition("=")
    if not sep or not name:
        raise ValueError(f"{what} {spec!r}: expected NAME=x1,y1,x2,y2...")
    try:
        return name, [round(float(v)) for v in values.split(",")]
    except ValueError:
        raise ValueError(f"{what} {spec!r}: coordinates must be numbers") from None


def parse_line(spec: str) -> tuple[str, Line]:
    """`NAME=ax,ay,bx,by` (pixels)."""
    name, v = _numbers(spec, "--line")
    if len(v) != 4:
        raise ValueError(f"--line {spec!r}: expected NAME=ax,ay,bx,by")
    return name, (v[0], v[1], v[2], v[3])


def parse_zone(spec: str) -> tuple[str, Polygon]:
    """`NAME=x1,y1,x2,y2,x3,y3[,...]` (pixels)."""
    name, v = _numbers(spec, "--zone")
    if len(v) < 6 or len(v) % 2:
        raise ValueError(f"--zone {spec!r}: expected NAME=x1,y1,x2,y2,x3,y3[,...]")
    return name, tuple((v[i], v[i + 1]) for i in range(0, len(v), 2))


def with_geometry(sequence: Sequence, lines: list[str], zones: list[str]) -> Sequence:
    """The sequence with these lines and zones instead of its documented ones."""
    return replace(
        sequence,
        lines=dict(parse_line(spec) for spec in lines),
        zones=dict(parse_zone(spec) for spec in zones),
    )
