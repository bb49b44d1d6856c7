"""Server-side SVG charts: accessible (a title, and every bar's value in a <title> and in
`data-value`, so tests and screen readers read the same numbers the API gives).

A gap (no camera of the series was covered in that hour) is drawn as a hatched
column with its own title, and its bar says `data-gap="1"`: an offline hour must not look
like a quiet one. Its `data-value` stays the count the API gives (0)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart"]

COLOURS = ("#2563eb", "#94a3b8", "#16a34a", "#f59e0b")


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | int]]],
    *,
    chart_id: str,
    height: int = 180,
    gaps: Sequence[Sequence[bool]] | None = None,
) -> str:
    """Grouped bars: one group per label, one bar per series; `gaps[s][g]` marks the
    bar of series s at label g as a gap."""
    groups = max(1, len(labels))
    width = max(320, groups * (12 * max(1, len(series)) + 8) + 40)
    top = max((v for _, values in series for v in values), default=0) or 1
    plot = height - 36
    bar = max(3, (width - 40) // groups // max(1, len(series)) - 2)
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{escape(chart_id)}-title">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<defs><pattern id="{escape(chart_id)}-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#f87171" stroke-width="2"/></pattern></defs>',
        f'<line x1="30" y1="{plot + 4}" x2="{width}" y2="{plot + 4}" stroke="#cbd5e1"/>',
        f'<text x="0" y="12" class="axis">{top:g}</text>',
    ]
    for g, label in enumerate(labels):
        x0 = 34 + g * ((width - 40) / groups)
        for s, (name, values) in enumerate(series):
            value = values[g] if g < len(values) else 0
            h = 0 if not value else max(1.0, plot * value / top)
            x = x0 + s * (bar + 1)
            gap = bool(gaps and s < len(gaps) and g < len(gaps[s]) and gaps[s][g])
            if gap:
                parts.append(
                    f'<rect class="gap" x="{x:.1f}" y="4" width="{bar}" height="{plot}" '
                    f'fill="url(#{escape(chart_id)}-hatch)"><title>{escape(name)} '
                    f"{escape(label)}: no coverage (no camera was watching)</title></rect>"
                )
            marker, note = (' data-gap="1"', " (no coverage)") if gap else ("", "")
            parts.append(
                f'<rect class="bar s{s}" x="{x:.1f}" y="{plot + 4 - h:.1f}" width="{bar}" '
                f'height="{h:.1f}" fill="{COLOURS[s % len(COLOURS)]}" '
                f'data-series="{escape(name)}" data-label="{escape(label)}" '
                f'data-value="{value:g}"{marker}><title>{escape(name)} {escape(label)}: '
                f"{value:g}{note}</title></rect>"
            )
        if groups <= 24 or g % 2 == 0:
            parts.append(f'<text x="{x0:.1f}" y="{height - 6}" class="axis">{escape(label)}</text>')
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key"><i class="s{s % len(COLOURS)}"></i>{escape(name)}</span>'
        for s, (name, _) in enumerate(series)
    )
    if gaps and any(any(g) for g in gaps):
        legend += '<span class="key"><i class="gap"></i>no coverage</span>'

    return f'<figure class="figure">{"".join(parts)}<figcaption>{legend}</figcaption></figure>'
