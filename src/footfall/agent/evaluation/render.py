"""An evaluation as a plain-text table: each count beside the truth, then the detector's
recall and precision and the frames of video handled per CPU second beside the video's
own rate."""

from __future__ import annotations

from footfall.agent.evaluation.result import Evaluation

__all__ = ["render"]


def render(results: list[Evaluation]) -> str:
    header = ("sequence", "trigger", "count", "agent", "truth", "")
    rows = [
        (r.sequence, c.trigger, c.kind, str(c.agent), str(c.truth), "ok" if c.ok else "OFF")
        for r in results
        for c in r.counts
    ]
    for r in results:
        rows.append((r.sequence, "(boxes)", "recall", f"{r.boxes.recall:.3f}", "", ""))
        rows.append((r.sequence, "(boxes)", "precision", f"{r.boxes.precision:.3f}", "", ""))
        ok = "ok" if r.fps >= r.rate else "SLOW"
        speed = f"{r.fps:.1f}"
        rows.append((r.sequence, "(speed)", "fps/CPU s", speed, f"{r.rate:g}", ok))
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    for row in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(out)
