"""One table format for every benchmark: figure, baseline, ratio, target, verdict.

A row's `check` is the target `footfall bench --check` enforces: a bound on a ratio, never
on an absolute time. The ratio is the figure to its baseline, both measured in the same
run (a loaded machine slows both alike; docs/benchmarks.md), unless the row names a
`Pace`: a rate its figure must keep up with that no machine changes (a video's frames per
second), for a figure measured in CPU time, which a loaded machine slows far less than
wall time. The table's ratio column is always figure to baseline. A row without a check
is reported only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Pace", "Ratio", "Row", "render"]


@dataclass(frozen=True)
class Ratio:
    """figure / baseline must be at least `least` and at most `most` (either may be None)."""

    least: float | None = None
    most: float | None = None

    def met(self, ratio: float) -> bool:
        if math.isnan(ratio):
            return False
        if self.least is not None and ratio < self.least:
            return False
        return self.most is None or ratio <= self.most

    def __str__(self) -> str:
        parts = []
        if self.least is not None:
            parts.append(f">= {self.least:.2f}x")
        if self.most is not None:
            parts.append(f"<= {self.most:.2f}x")
        return " and ".join(parts)


@dataclass(frozen=True)
class Pace:
    """A fixed rate, in the row's unit, that a row's `check` judges its figure against
    instead of its baseline: what the figure must keep up with, not a path to compare."""

    name: str  # e.g. "the video's 30 fps"
    rate: float


@dataclass(frozen=True)
class Row:
    name: str
    figure: float
    unit: str
    baseline_name: str
    baseline: float
    target: str
    ok: bool
    # The ratio target `footfall bench --check` enforces (None: reported, not enforced).
    check: Ratio | None = None
    # What `check` divides the figure by instead of the baseline (None: the baseline).
    pace: Pace | None = None

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else float("nan")

    @property
    def checked_ratio(self) -> float:
        """The ratio `check` judges: to the pace when the row has one, else `ratio`."""
        if self.pace is None:
            return self.ratio
        return self.figure / self.pace.rate if self.pace.rate else float("nan")

    @property
    def checked_against(self) -> str:
        return self.baseline_name if self.pace is None else self.pace.name

    @property
    def missed(self) -> bool:
        """True when the row's enforced ratio target is missed."""
        return self.check is not None and not self.check.met(self.checked_ratio)


def render(rows: list[Row]) -> str:
    header = ("measure", "figure", "baseline", "ratio", "target", "")
    lines = [
        (
            r.name,
            f"{r.figure:,.1f} {r.unit}",
            f"{r.baseline:,.1f} {r.unit} ({r.baseline_name})",
            f"{r.ratio:.2f}",
            r.target,
            "ok" if r.ok and not r.missed else "MISSED",
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)
