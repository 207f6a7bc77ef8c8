"""Charts as server-rendered SVG: readable without JavaScript, no CDN, no library. Pure: no Django.

Every chart has a <title> and <desc> for screen readers, and the page beside it links the same
numbers as CSV. Colours are chosen to stay apart for the common colour-vision deficiencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

BLUE, ORANGE, RED, GREY, GREEN = "#2b6cb0", "#dd6b20", "#c53030", "#a0aec0", "#2f855a"
FONT = "font-family=\"'Noto Sans JP','Hiragino Sans',Meiryo,sans-serif\""


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float]
    colour: str = BLUE
    kind: str = "bar"  # "bar" or "line"
    dashed: bool = False


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _fmt(value: float) -> str:
    if value >= 10_000_000:
        return f"{value / 1_000_000:,.0f}M"
    if value >= 100_000:
        return f"{value / 1000:,.0f}k"
    return f"{value:,.0f}"


def _frame(width: int, height: int, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" class="insights-chart" {FONT} font-size="11">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>" + "".join(body) + "</svg>"
    )


def bar_line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    desc: str = "",
    flags: Sequence[bool] = (),
    width: int = 900,
    height: int = 260,
    label_every: int = 0,
    flag_label: str = "",
) -> str:
    """Bars and lines over the same categories (days, months); `flags` marks categories in red."""
    left, right, top, bottom = 56, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(labels), 1)
    top_value = _nice_max(max((v for s in series for v in s.values), default=0))
    step = plot_w / n
    y = lambda v: top + plot_h - (v / top_value) * plot_h  # noqa: E731
    body = [f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i in range(5):
        value = top_value * i / 4
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#e2e8f0"/>'
        )
        body.append(
            f'<text x="{left - 4}" y="{y(value) + 4:.1f}" text-anchor="end" fill="#4a5568">{_fmt(value)}</text>'
        )
    bars = [s for s in series if s.kind == "bar"]
    bar_w = max(step * 0.8 / max(len(bars), 1), 1)
    for b, s in enumerate(bars):
        for i, value in enumerate(s.values):
            colour = RED if i < len(flags) and flags[i] else s.colour
            x = left + i * step + step * 0.1 + b * bar_w
            body.append(
                f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{bar_w:.1f}" height="{top + plot_h - y(value):.1f}" '
                f'fill="{colour}"><title>{escape(labels[i])} {escape(s.name)}: {value:,.0f}</title></rect>'
            )
    for s in series:
        if s.kind != "line" or not s.values:
            continue
        points = " ".join(f"{left + (i + 0.5) * step:.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        body.append(f'<polyline points="{points}" fill="none" stroke="{s.colour}" stroke-width="2"{dash}/>')
    every = label_every or max(1, n // 15)
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(
                f'<text x="{left + (i + 0.5) * step:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                f'fill="#4a5568">{escape(label)}</text>'
            )
    body.extend(_legend(series, left, height - 10, flag_label=flag_label if any(flags) else ""))
    return _frame(width, height, title, desc, body)


def _legend(series: Sequence[Series], x: int, y: int, *, flag_label: str) -> list[str]:
    out = []
    entries = [(s.name, s.colour, s.kind, s.dashed) for s in series]
    if flag_label:
        entries.append((flag_label, RED, "bar", False))
    for name, colour, kind, dashed in entries:
        if kind == "bar":
            out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        else:
            dash = ' stroke-dasharray="5 3"' if dashed else ""
            out.append(
                f'<line x1="{x}" x2="{x + 14}" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" stroke-width="2"{dash}/>'
            )
        out.append(f'<text x="{x + 18}" y="{y}">{escape(name)}</text>')
        x += 28 + 12 * len(name)
    return out


def heat_map(
    *,
    title: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    cells: Sequence[Sequence[float | None]],
    desc: str = "",
    cell_w: int = 56,
    cell_h: int = 24,
) -> str:
    """A table of shares 0..1 as shaded cells with the percentage written in (None: blank)."""
    left, top = 90, 44
    width = left + cell_w * len(column_labels) + 10
    height = top + cell_h * len(row_labels) + 10
    body = [f'<text x="0" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for j, label in enumerate(column_labels):
        body.append(
            f'<text x="{left + j * cell_w + cell_w / 2}" y="{top - 8}" text-anchor="middle">{escape(label)}</text>'
        )
    for i, label in enumerate(row_labels):
        cy = top + i * cell_h
        body.append(
            f'<text x="{left - 6}" y="{cy + cell_h / 2 + 4}" text-anchor="end">{escape(label)}</text>'
        )
        for j, share in enumerate(cells[i]):
            if share is None:
                continue
            shade = int(235 - 180 * share)
            colour = f"rgb({shade},{int(shade * 0.9 + 20)},255)"
            text = "#fff" if share > 0.55 else "#1a202c"
            body.append(
                f'<rect x="{left + j * cell_w}" y="{cy}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{colour}">'
                f"<title>{escape(label)} {escape(column_labels[j])}: {share:.0%}</title></rect>"
                f'<text x="{left + j * cell_w + cell_w / 2 - 1}" y="{cy + cell_h / 2 + 4}" text-anchor="middle" '
                f'fill="{text}">{share * 100:.0f}%</text>'
            )
    return _frame(width, height, title, desc, body)


def timeline(
    *,
    title: str,
    rows: Sequence[tuple[str, int | None, int]],
    days: int,
    day_labels: Sequence[str],
    legend: tuple[str, str, str] = ("", "", ""),
    desc: str = "",
    width: int = 900,
) -> str:
    """One bar per row from day 0 to the day stock runs out (None: lasts the whole horizon).

    rows: (label, days until stock-out or None, days until the order must be placed (-1: none)).
    legend: the labels for "in stock all along", "runs out" and "order by".
    """
    left, top, row_h = 180, 40, 26
    plot_w = width - left - 16
    height = top + row_h * len(rows) + 30
    x = lambda d: left + plot_w * d / max(days, 1)  # noqa: E731
    body = [f'<text x="0" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i in range(0, days + 1, max(1, days // 9)):
        body.append(
            f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top - 6}" y2="{height - 24}" stroke="#e2e8f0"/>'
        )
        if i < len(day_labels):
            body.append(
                f'<text x="{x(i):.1f}" y="{top - 10}" text-anchor="middle" fill="#4a5568">{escape(day_labels[i])}</text>'
            )
    for r, (label, out_at, order_at) in enumerate(rows):
        cy = top + r * row_h
        end = days if out_at is None else out_at
        colour = GREEN if out_at is None else (RED if out_at < 14 else ORANGE)
        body.append(f'<text x="{left - 6}" y="{cy + 16}" text-anchor="end">{escape(label)}</text>')
        body.append(
            f'<rect x="{left}" y="{cy + 4}" width="{max(x(end) - left, 2):.1f}" height="16" fill="{colour}"/>'
        )
        if out_at is not None:
            body.append(
                f'<text x="{x(end) + 4:.1f}" y="{cy + 16}" fill="{RED}">✕ {escape(day_labels[end] if end < len(day_labels) else "")}</text>'
            )
        if order_at >= 0:
            body.append(
                f'<line x1="{x(order_at):.1f}" x2="{x(order_at):.1f}" y1="{cy + 1}" y2="{cy + 23}" stroke="#1a202c" stroke-width="2" stroke-dasharray="3 2"/>'
            )
    legend_y = height - 8
    body.append(
        f'<rect x="{left}" y="{legend_y - 9}" width="10" height="10" fill="{GREEN}"/><text x="{left + 14}" y="{legend_y}">{escape(legend[0])}</text>'
    )
    body.append(
        f'<rect x="{left + 130}" y="{legend_y - 9}" width="10" height="10" fill="{RED}"/><text x="{left + 144}" y="{legend_y}">{escape(legend[1])}</text>'
    )
    body.append(
        f'<line x1="{left + 250}" x2="{left + 264}" y1="{legend_y - 4}" y2="{legend_y - 4}" stroke="#1a202c" stroke-width="2" stroke-dasharray="3 2"/><text x="{left + 268}" y="{legend_y}">{escape(legend[2])}</text>'
    )
    return _frame(width, height, title, desc, body)
