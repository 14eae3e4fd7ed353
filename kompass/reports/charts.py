"""Small server-side SVG charts for the PDF report (WeasyPrint draws SVG; no browser, no JavaScript).

Each function returns an SVG document as a string with a ``<title>`` (its text alternative) and every value
printed as a label, so the chart still reads when it is not seen. Colours are Punkt's (dark blue, warm
yellow, red).
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

__all__ = ["bar_chart", "line_chart"]

BLUE, YELLOW, RED, GREY = "#2a2859", "#f9c66b", "#ff8274", "#d0d0d0"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" font-family="Oslo Sans, DejaVu Sans, sans-serif" font-size="9">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _scale(values: Sequence[float | None], floor: float | None, ceiling: float | None) -> tuple[float, float]:
    present = [v for v in values if v is not None]
    lo = floor if floor is not None else (min(present) if present else 0.0)
    hi = ceiling if ceiling is not None else (max(present) if present else 1.0)
    if hi <= lo:
        hi = lo + 1.0
    return lo, hi


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    target: float | None = None,
    floor: float | None = None,
    ceiling: float | None = None,
    width: int = 480,
    height: int = 180,
    unit: str = "",
) -> str:
    """Vertical bars, one per label; a bar under ``target`` is red, a missing value is an empty slot."""
    pad_left, pad_bottom, pad_top = 34, 28, 14
    plot_w, plot_h = width - pad_left - 6, height - pad_bottom - pad_top
    lo, hi = _scale(list(values) + ([target] if target is not None else []), floor, ceiling)
    n = max(len(labels), 1)
    slot = plot_w / n
    body = [f'<line x1="{pad_left}" y1="{pad_top + plot_h}" x2="{width - 6}" y2="{pad_top + plot_h}" stroke="{GREY}"/>']
    body.append(f'<text x="2" y="{pad_top + 4}">{hi:g}{escape(unit)}</text>')
    body.append(f'<text x="2" y="{pad_top + plot_h}">{lo:g}{escape(unit)}</text>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = pad_left + i * slot + slot * 0.15
        if value is not None:
            h = max(0.0, min(1.0, (value - lo) / (hi - lo))) * plot_h
            colour = RED if target is not None and value < target else BLUE
            body.append(
                f'<rect x="{x:.1f}" y="{pad_top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                f'fill="{colour}"/>'
            )
            body.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{pad_top + plot_h - h - 2:.1f}" text-anchor="middle">'
                f"{value:g}</text>"
            )
        body.append(f'<text x="{x + slot * 0.35:.1f}" y="{height - 14}" text-anchor="middle">{escape(label)}</text>')
    if target is not None:
        y = pad_top + plot_h - max(0.0, min(1.0, (target - lo) / (hi - lo))) * plot_h
        body.append(
            f'<line x1="{pad_left}" y1="{y:.1f}" x2="{width - 6}" y2="{y:.1f}" stroke="{YELLOW}" stroke-width="2" '
            'stroke-dasharray="5,3"/>'
        )
    return _svg(width, height, title, body)


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    floor: float | None = None,
    ceiling: float | None = None,
    width: int = 480,
    height: int = 180,
) -> str:
    """One polyline per series (gaps where a value is missing), with a legend."""
    pad_left, pad_bottom, pad_top = 34, 40, 14
    plot_w, plot_h = width - pad_left - 6, height - pad_bottom - pad_top
    everything = [v for _name, values in series for v in values]
    lo, hi = _scale(everything, floor, ceiling)
    n = max(len(labels) - 1, 1)
    colours = [BLUE, RED, YELLOW]
    body = [f'<line x1="{pad_left}" y1="{pad_top + plot_h}" x2="{width - 6}" y2="{pad_top + plot_h}" stroke="{GREY}"/>']
    body.append(f'<text x="2" y="{pad_top + 4}">{hi:g}</text><text x="2" y="{pad_top + plot_h}">{lo:g}</text>')
    for i, label in enumerate(labels):
        body.append(
            f'<text x="{pad_left + i * plot_w / n:.1f}" y="{pad_top + plot_h + 12}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    for index, (name, values) in enumerate(series):
        colour = colours[index % len(colours)]
        run: list[str] = []
        for i, value in enumerate(values):
            if value is None:
                if len(run) > 1:
                    body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>')
                run = []
                continue
            x = pad_left + i * plot_w / n
            y = pad_top + plot_h - max(0.0, min(1.0, (value - lo) / (hi - lo))) * plot_h
            run.append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{colour}"/>')
        if len(run) > 1:
            body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>')
        legend_x = pad_left + index * 160
        body.append(f'<rect x="{legend_x}" y="{height - 12}" width="10" height="4" fill="{colour}"/>')
        body.append(f'<text x="{legend_x + 14}" y="{height - 8}">{escape(name)}</text>')
    return _svg(width, height, title, body)
