"""Charts drawn on the server as inline SVG: no JavaScript, no third party; they print, zoom and scale.

Each chart is an image for screen readers (role="img", named by its title and description), and the page shows
its data table beneath, which is what a screen reader reads. Colours come from the stylesheet's classes: the
strict CSP allows no style attribute. Labels sit above their bars, so a phone's width leaves them legible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH = 360  # the viewBox is a phone's width: on a phone the chart is drawn at about its own size
ROW = 46
LABEL_Y = 15
BAR_Y = 22
BAR_HEIGHT = 16
VALUE_ROOM = 92  # to the right of the longest bar, for its value


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as the reader reads it (a count, an amount in euros)


def bar_chart(chart_id: str, title: str, description: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, one row each: its label, then the bar and its value."""
    top = max((bar.value for bar in bars), default=0) or 1
    height = max(ROW * len(bars), ROW)
    parts = [_open(chart_id, title, description, height)]
    for index, bar in enumerate(bars):
        y = index * ROW
        length = round((WIDTH - VALUE_ROOM) * bar.value / top, 1) if bar.value > 0 else 0
        parts.append(
            f'<text class="label" x="0" y="{y + LABEL_Y}">{escape(bar.label)}</text>'
            f'<rect class="bar" x="0" y="{y + BAR_Y}" width="{max(length, 1)}" height="{BAR_HEIGHT}"/>'
            f'<text class="value" x="{length + 6}" y="{y + BAR_Y + BAR_HEIGHT - 3}">{escape(bar.shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text inside is escaped above)


@dataclass(frozen=True, slots=True)
class Point:
    day: date
    value: float


def progress_chart(
    chart_id: str,
    title: str,
    description: str,
    done: Sequence[Point],
    projected: Sequence[Point],
    target: float,
    labels: tuple[str, str, str],
) -> Markup:
    """A line of what was reached over time, a dashed line of where the current rate leads, and the target.

    `labels`: the target's words, and the first and last day's, shown at the ends of the time axis.
    """
    width, height, left, bottom = WIDTH, 200, 4, 170
    days = [p.day for p in (*done, *projected)] or [date.min]
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    top = max(target, *(p.value for p in (*done, *projected)), 1)

    def at(point: Point) -> str:
        x = left + (width - 2 * left) * (point.day - first).days / span
        y = bottom - (bottom - 24) * point.value / top
        return f"{x:.1f},{y:.1f}"

    goal_y = bottom - (bottom - 24) * target / top
    parts = [
        _open(chart_id, title, description, height),
        f'<line class="axis" x1="{left}" y1="{bottom}" x2="{width - left}" y2="{bottom}"/>',
        f'<line class="goal" x1="{left}" y1="{goal_y:.1f}" x2="{width - left}" y2="{goal_y:.1f}"/>',
        f'<text class="label" x="{left}" y="{goal_y - 6:.1f}">{escape(labels[0])}</text>',
    ]
    if done:
        parts.append(f'<polyline class="line" points="{" ".join(at(p) for p in done)}"/>')
    if projected:
        parts.append(f'<polyline class="projection" points="{" ".join(at(p) for p in projected)}"/>')
    parts.append(f'<text class="label" x="{left}" y="{bottom + 20}">{escape(labels[1])}</text>')
    parts.append(f'<text class="label end" x="{width - left}" y="{bottom + 20}">{escape(labels[2])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text inside is escaped above)


def _open(chart_id: str, title: str, description: str, height: int) -> str:
    ids = f"{chart_id}-title {chart_id}-desc"
    return (
        f'<svg class="chart" role="img" aria-labelledby="{ids}" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
    )
