"""Charts drawn on the server as SVG: horizontal bars for counts and amounts, a line for a trend.

Plain SVG text (escaped), sized by a viewBox so it scales with the page; nothing runs in the browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

Number = int | float | Decimal

BAR_HEIGHT = 22
LABEL_WIDTH = 170
WIDTH = 560


def bar_chart(title: str, bars: Sequence[tuple[str, Number]], unit: str = "") -> str:
    """One bar per (label, value), longest = the largest value."""
    if not bars:
        return _empty(title)
    largest = max(float(value) for _, value in bars) or 1.0
    span = WIDTH - LABEL_WIDTH - 70
    height = 28 + BAR_HEIGHT * len(bars)
    parts = [_open(title, height)]
    for index, (label, value) in enumerate(bars):
        y = 24 + index * BAR_HEIGHT
        length = max(1.0, span * float(value) / largest) if float(value) > 0 else 0.0
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end" class="label">{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" height="{BAR_HEIGHT - 6}" class="bar">'
            f"<title>{escape(label)}: {escape(_figure(value))}{escape(unit)}</title></rect>"
            f'<text x="{LABEL_WIDTH + length + 5:.1f}" y="{y + 14}" class="value">'
            f"{escape(_figure(value))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, points: Sequence[tuple[str, Number]], unit: str = "%") -> str:
    """A line through (label, value) points in order, with each value written above its point."""
    if not points:
        return _empty(title)
    height = 180
    top, bottom, left, right = 30, height - 28, 40, WIDTH - 20
    largest = max(float(value) for _, value in points) or 1.0
    step = (right - left) / max(1, len(points) - 1)

    def xy(index: int, value: Number) -> tuple[float, float]:
        return left + index * step, bottom - (bottom - top) * float(value) / largest

    coordinates = [xy(index, value) for index, (_, value) in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
    parts = [
        _open(title, height),
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" class="axis"/>',
    ]
    parts.append(f'<polyline points="{path}" class="line" fill="none"/>')
    for (label, value), (x, y) in zip(points, coordinates, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="point"><title>{escape(label)}: '
            f"{escape(_figure(value))}{escape(unit)}</title></circle>"
            f'<text x="{x:.1f}" y="{y - 7:.1f}" text-anchor="middle" class="value">'
            f"{escape(_figure(value))}{escape(unit)}</text>"
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" class="label">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _open(title: str, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart"><text x="0" y="14" class="title">{escape(title)}</text>'
    )


def _empty(title: str) -> str:
    return f'{_open(title, 40)}<text x="0" y="34" class="label">nothing to show yet</text></svg>'


def _figure(value: Number) -> str:
    if isinstance(value, int):
        return str(value)
    return f"{float(value):,.1f}" if abs(float(value)) < 1000 else f"{float(value):,.0f}"
