"""Server-side SVG charts: accessible (a title, and every bar's value in a <title> and in
`data-value`, so tests and screen readers read the same numbers the API gives)."""

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
) -> str:
    """Grouped bars: one group per label, one bar per series."""
    groups = max(1, len(labels))
    width = max(320, groups * (12 * max(1, len(series)) + 8) + 40)
    top = max((v for _, values in series for v in values), default=0) or 1
    plot = height - 36
    bar = max(3, (width - 40) // groups // max(1, len(series)) - 2)
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{escape(chart_id)}-title">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<line x1="30" y1="{plot + 4}" x2="{width}" y2="{plot + 4}" stroke="#cbd5e1"/>',
        f'<text x="0" y="12" class="axis">{top:g}</text>',
    ]
    for g, label in enumerate(labels):
        x0 = 34 + g * ((width - 40) / groups)
        for s, (name, values) in enumerate(series):
            value = values[g] if g < len(values) else 0
            h = 0 if not value else max(1.0, plot * value / top)
            x = x0 + s * (bar + 1)
            parts.append(
                f'<rect class="bar s{s}" x="{x:.1f}" y="{plot + 4 - h:.1f}" width="{bar}" '
                f'height="{h:.1f}" fill="{COLOURS[s % len(COLOURS)]}" '
                f'data-series="{escape(name)}" data-label="{escape(label)}" '
                f'data-value="{value:g}"><title>{escape(name)} {escape(label)}: {value:g}'
                "</title></rect>"
            )
        if groups <= 24 or g % 2 == 0:
            parts.append(f'<text x="{x0:.1f}" y="{height - 6}" class="axis">{escape(label)}</text>')
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key"><i class="s{s % len(COLOURS)}"></i>{escape(name)}</span>'
        for s, (name, _) in enumerate(series)
    )
    return f'<figure class="figure">{"".join(parts)}<figcaption>{legend}</figcaption></figure>'
