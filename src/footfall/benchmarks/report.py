"""One table format for every benchmark: figure, baseline, ratio, target, verdict."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Row", "render"]


@dataclass(frozen=True)
class Row:
    name: str
    figure: float
    unit: str
    baseline_name: str
    baseline: float
    target: str
    ok: bool

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else float("nan")


def render(rows: list[Row]) -> str:
    header = ("measure", "figure", "baseline", "ratio", "target", "")
    lines = [
        (
            r.name,
            f"{r.figure:,.1f} {r.unit}",
            f"{r.baseline:,.1f} {r.unit} ({r.baseline_name})",
            f"{r.ratio:.2f}",
            r.target,
            "ok" if r.ok else "MISSED",
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)
