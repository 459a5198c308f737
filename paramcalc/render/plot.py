"""Plots of a sweep and of a `compare` grid, from the rows of their tables (so a plot cannot disagree
with the table beside it):

- a sweep: MACs against params, one point per combination of the --set values, labelled, the points
  that share the first variable's value joined (the MobileNet paper's width x resolution trade-off);
- a comparison: each convolution (or grid combination) standard and depthwise-separable, MACs
  against weights, joined; and the separable / standard ratio against M, a series per kernel K, with
  the closed form 1/M + 1/K^2 drawn through it.

SVG is written here, with no dependency (the charts are points, lines and text: a plotting library
would add tens of megabytes for them). PNG goes through matplotlib, an optional extra
(`pip install 'paramcalc[plot]'`), imported only then."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any, NamedTuple

from paramcalc.render.numbers import short

PALETTE = ("#1f77b4", "#e8701f", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
WIDTH, HEIGHT = 760.0, 500.0
MARGIN = (80.0, 24.0, 60.0, 56.0)  # left, right, bottom, top
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"


class Point(NamedTuple):
    x: float
    y: float
    label: str = ""


class Series(NamedTuple):
    name: str
    points: list[Point]
    joined: bool = True  # a line through the points
    marker: str = "circle"  # circle or triangle
    dashed: bool = False


class Chart(NamedTuple):
    title: str
    x_label: str
    y_label: str
    series: list[Series]
    log_x: bool = False
    log_y: bool = False
    key: tuple[tuple[str, str], ...] = ()  # (marker, text): a legend in place of the series' names


class PlotError(Exception):
    """A plot that cannot be drawn (PNG without matplotlib): one line for the user."""


# ---- the charts ----------------------------------------------------------------------------------------

def number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def spread(values: Sequence[float]) -> bool:
    """Worth a log axis: positive and spanning more than a factor of 10."""
    return bool(values) and min(values) > 0 and max(values) / min(values) > 10


def sweep_chart(title: str, names: Sequence[str], rows: Sequence[dict[str, Any]]) -> Chart:
    """MACs (x) against params (y); a series per value of the first variable, labelled by the others."""
    first, rest = names[0], list(names[1:])
    series: dict[str, list[Point]] = {}
    for row in rows:
        x, y = number(row.get("macs")), number(row.get("params"))
        if x is None or y is None:
            continue
        label = ", ".join(f"{name}={row[name]}" for name in rest) or f"{first}={row[first]}"
        series.setdefault(f"{first}={row[first]}", []).append(Point(x, y, label))
    lines = [Series(name, sorted(points)) for name, points in series.items()]
    xs = [p.x for s in lines for p in s.points]
    ys = [p.y for s in lines for p in s.points]
    return Chart(title, "MACs (multiply-accumulates)", "Params", lines, spread(xs), spread(ys))


def forms_chart(title: str, rows: Sequence[dict[str, Any]]) -> Chart:
    """Each convolution standard (circle) and separable (triangle): MACs (x) against weights (y), the
    two forms of one joined by a dashed line."""
    series = []
    for i, row in enumerate(rows):
        values = [number(row.get(k)) for k in ("standard_macs", "standard_params", "separable_macs",
                                               "separable_params")]
        if any(v is None for v in values):
            continue
        sx, sy, px, py = (float(v or 0) for v in values)
        series.append(Series(str(row.get("layer", i)), [Point(sx, sy, str(row.get("layer", ""))), Point(px, py)],
                             joined=True, dashed=True))
    xs = [p.x for s in series for p in s.points]
    ys = [p.y for s in series for p in s.points]
    key = (("circle", "standard convolution"), ("triangle", "depthwise-separable"))
    return Chart(title, "MACs (multiply-accumulates)", "Weights (no biases)", series, spread(xs), spread(ys), key)


def ratio_chart(title: str, rows: Sequence[dict[str, Any]]) -> Chart:
    """separable / standard MACs against M, a series per kernel K (the closed form 1/M + 1/K^2
    dashed through each)."""
    by_kernel: dict[str, list[Point]] = {}
    closed: dict[str, list[Point]] = {}
    for row in rows:
        m, r, c = number(row.get("M")), number(row.get("ratio")), number(row.get("closed_form"))
        if m is None or r is None:
            continue
        k = row.get("K")
        key = f"K={'x'.join(map(str, k)) if isinstance(k, list) else k}"
        by_kernel.setdefault(key, []).append(Point(m, r))
        if c is not None:
            closed.setdefault(key, []).append(Point(m, c))
    series = []
    for key, points in by_kernel.items():
        unique = sorted(set(points))
        series.append(Series(key, unique, joined=False))
        series.append(Series(f"1/M + 1/K^2, {key}", sorted(set(closed.get(key, []))), joined=True, marker="none",
                             dashed=True))
    ms = [p.x for s in series for p in s.points]
    return Chart(title, "M (output channels)", "Separable / standard MACs", series, spread(ms), False)


# ---- SVG --------------------------------------------------------------------------------------------------

class Axis(NamedTuple):
    low: float
    high: float
    log: bool
    start: float  # pixels
    end: float

    def at(self, value: float) -> float:
        if self.log:
            a, b, v = math.log10(self.low), math.log10(self.high), math.log10(max(value, self.low))
        else:
            a, b, v = self.low, self.high, value
        return self.start + (v - a) / (b - a) * (self.end - self.start) if b > a else (self.start + self.end) / 2


def axis(values: Sequence[float], log: bool, start: float, end: float) -> Axis:
    low, high = min(values), max(values)
    if log:
        return Axis(low / 1.25, high * 1.25, True, start, end)
    pad = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    low = 0.0 if low >= 0 and low - pad < 0 else low - pad
    return Axis(low, high + pad, False, start, end)


def ticks(a: Axis) -> list[float]:
    if a.log:
        found = []
        for exponent in range(math.floor(math.log10(a.low)), math.ceil(math.log10(a.high)) + 1):
            for mantissa in (1, 2, 5):
                value = mantissa * 10.0 ** exponent
                if a.low <= value <= a.high:
                    found.append(value)
        return found
    raw = (a.high - a.low) / 6
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(a.low / step) * step
    return [first + i * step for i in range(int((a.high - first) / step + 1e-9) + 1)]  # (no float drift)


def tick_text(value: float) -> str:
    if value >= 1000 and value == int(value):
        return short(int(value)).replace(" ", "")
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}"


def label_boxes_clash(box: tuple[float, float, float, float], placed: list[tuple[float, float, float, float]]) -> bool:
    return any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed)


def render_chart(chart: Chart, left: float = 0.0, top: float = 0.0) -> str:
    """One chart as an SVG group at (left, top), WIDTH x HEIGHT."""
    points = [p for s in chart.series for p in s.points]
    out = [f'<g class="chart" transform="translate({left:g},{top:g})">',
           f'<text x="{WIDTH / 2:g}" y="24" text-anchor="middle" font-size="15" font-weight="bold">'
           f"{escape(chart.title)}</text>"]
    if not points:
        out.append(f'<text x="{WIDTH / 2:g}" y="{HEIGHT / 2:g}" text-anchor="middle">nothing to plot</text></g>')
        return "\n".join(out)
    x0, y0 = MARGIN[0], HEIGHT - MARGIN[2]
    x1, y1 = WIDTH - MARGIN[1], MARGIN[3]
    ax = axis([p.x for p in points], chart.log_x, x0, x1)
    ay = axis([p.y for p in points], chart.log_y, y0, y1)
    out.append(f'<rect x="{x0:g}" y="{y1:g}" width="{x1 - x0:g}" height="{y0 - y1:g}" fill="#fcfcfd" '
               'stroke="#999"/>')
    for t in ticks(ax):
        x = ax.at(t)
        out.append(f'<line x1="{x:.1f}" y1="{y1:g}" x2="{x:.1f}" y2="{y0:g}" stroke="#e5e7eb"/>'
                   f'<text x="{x:.1f}" y="{y0 + 16:g}" text-anchor="middle" font-size="11">{tick_text(t)}</text>')
    for t in ticks(ay):
        y = ay.at(t)
        out.append(f'<line x1="{x0:g}" y1="{y:.1f}" x2="{x1:g}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                   f'<text x="{x0 - 6:g}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{tick_text(t)}</text>')
    scale = [" (log scale)" if chart.log_x else "", " (log scale)" if chart.log_y else ""]
    out.append(f'<text x="{(x0 + x1) / 2:g}" y="{HEIGHT - 16:g}" text-anchor="middle" font-size="12">'
               f"{escape(chart.x_label + scale[0])}</text>")
    out.append(f'<text transform="translate(18,{(y0 + y1) / 2:g}) rotate(-90)" text-anchor="middle" '
               f'font-size="12">{escape(chart.y_label + scale[1])}</text>')
    placed: list[tuple[float, float, float, float]] = []
    labels = []
    legend = []
    for i, s in enumerate(chart.series):
        colour = PALETTE[(i // 2 if s.marker == "none" or chart_pairs(chart) else i) % len(PALETTE)]
        xy = [(ax.at(p.x), ay.at(p.y)) for p in s.points]
        if s.joined and len(xy) > 1:
            dash = ' stroke-dasharray="5 4"' if s.dashed else ""
            path = " ".join(f"{'M' if j == 0 else 'L'} {x:.1f} {y:.1f}" for j, (x, y) in enumerate(xy))
            out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>')
        for j, ((x, y), p) in enumerate(zip(xy, s.points)):
            marker = "triangle" if s.marker == "triangle" or (s.dashed and s.marker != "none" and j == 1) else s.marker
            tip = f"<title>{escape(point_tip(chart, s, p))}</title>"
            if marker == "circle":
                out.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">{tip}</circle>')
            elif marker == "triangle":
                out.append(f'<path class="point" d="M {x:.1f} {y - 5:.1f} L {x + 5:.1f} {y + 4:.1f} L {x - 5:.1f} '
                           f'{y + 4:.1f} Z" fill="{colour}">{tip}</path>')
            placed.append((x - 5, y - 5, x + 5, y + 5))
            if p.label:
                labels.append((x, y, p.label))
        if s.marker != "none" or not chart_pairs(chart):
            legend.append((s.name, colour, s.marker, s.dashed))
    for x, y, text in labels:  # beside its point where it covers no other label or point; else only a tooltip
        width = len(text) * 6.2
        for dx, dy, anchor in ((6, -7, "start"), (6, 15, "start"), (-6, -7, "end"), (-6, 15, "end"), (8, 4, "start"),
                               (-8, 4, "end")):
            left_edge = x + dx if anchor == "start" else x + dx - width
            box = (left_edge, y + dy - 10, left_edge + width, y + dy + 2)
            if not label_boxes_clash(box, placed) and box[0] >= x0 and box[2] <= x1 and box[1] >= y1 and box[3] <= y0:
                placed.append(box)
                out.append(f'<text class="point-label" x="{x + dx:.1f}" y="{y + dy:.1f}" text-anchor="{anchor}" '
                           f'font-size="10.5" fill="#333">{escape(text)}</text>')
                break
    if chart.key:
        legend = [(text, "#555555", marker, False) for marker, text in chart.key]
    elif chart_pairs(chart):
        legend.append(("1/M + 1/K^2 (the closed form)", "#555555", "none", True))
    entries = legend[:12]
    size = legend_size(entries)
    corners = [(x0 + 10, y1 + 10), (x1 - 10 - size[0], y1 + 10), (x1 - 10 - size[0], y0 - 10 - size[1]),
               (x0 + 10, y0 - 10 - size[1])]
    # the corner that covers the fewest points and labels
    corner = min(corners, key=lambda c: sum(label_boxes_clash(b, [(c[0], c[1], c[0] + size[0], c[1] + size[1])])
                                            for b in placed))
    out += legend_svg(entries, *corner)
    out.append("</g>")
    return "\n".join(out)


def point_tip(chart: Chart, series: Series, point: Point) -> str:
    """A point's tooltip: what it is (its series, its label), and its figures."""
    def figure(value: float) -> str:
        return f"{int(value):,}" if value == int(value) else f"{value:.4g}"

    parts = [series.name] + ([point.label] if point.label and point.label != series.name else [])
    return f"{', '.join(p for p in parts if p)}: {chart.x_label} {figure(point.x)}, {chart.y_label} {figure(point.y)}"


def chart_pairs(chart: Chart) -> bool:
    """A ratio chart: each kernel's points and its closed-form line share a colour."""
    return any(s.marker == "none" for s in chart.series)


def legend_size(entries: list[tuple[str, str, str, bool]]) -> tuple[float, float]:
    if not entries:
        return (0.0, 0.0)
    return (max(len(name) for name, *_ in entries) * 6.4 + 36, len(entries) * 16 + 8.0)


def legend_svg(entries: list[tuple[str, str, str, bool]], left: float, top: float) -> list[str]:
    if not entries:
        return []
    width, height = legend_size(entries)
    out = [f'<rect class="legend" x="{left:g}" y="{top:g}" width="{width:.0f}" height="{height:.0f}" fill="#ffffff" '
           'fill-opacity="0.85" stroke="#ccc"/>']
    for i, (name, colour, marker, _) in enumerate(entries):
        y = top + 14 + i * 16
        if marker == "none":
            out.append(f'<line x1="{left + 6:g}" y1="{y - 4:g}" x2="{left + 22:g}" y2="{y - 4:g}" stroke="{colour}" '
                       'stroke-dasharray="4 3" stroke-width="1.5"/>')
        elif marker == "triangle":
            out.append(f'<path d="M {left + 14:g} {y - 9:g} L {left + 19:g} {y:g} L {left + 9:g} {y:g} Z" '
                       f'fill="{colour}"/>')
        else:
            out.append(f'<circle cx="{left + 14:g}" cy="{y - 4:g}" r="4" fill="{colour}"/>')
        out.append(f'<text x="{left + 28:g}" y="{y:g}" font-size="11">{escape(name)}</text>')
    return out


def render_svg(charts: Sequence[Chart], standalone: bool = True) -> str:
    """Charts one under the other, as one SVG."""
    height = HEIGHT * len(charts)
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    body = "\n".join(render_chart(chart, 0, i * HEIGHT) for i, chart in enumerate(charts))
    return (f'<svg{ns} class="paramcalc-plot" width="{WIDTH:g}" height="{height:g}" viewBox="0 0 {WIDTH:g} '
            f'{height:g}" font-family="{FONT}"><rect width="100%" height="100%" fill="#ffffff"/>\n{body}\n</svg>\n')


# ---- PNG (matplotlib, optional) -----------------------------------------------------------------------

MISSING = ("error: a PNG plot needs matplotlib: pip install 'paramcalc[plot]' (an SVG plot, e.g. --plot out.svg, "
           "needs nothing).")


MAX_PNG_LABELS = 30  # more would cover each other: a PNG has no tooltips, so the SVG is the one to read then


def write_png(charts: Sequence[Chart], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotError(MISSING) from None
    figure, axes = plt.subplots(len(charts), 1, figsize=(WIDTH / 96, HEIGHT / 96 * len(charts)), dpi=144,
                                squeeze=False)
    from matplotlib.ticker import NullFormatter

    for chart, ax in zip(charts, axes[:, 0]):
        labelled = sum(1 for s in chart.series for p in s.points if p.label) <= MAX_PNG_LABELS
        for i, s in enumerate(chart.series):
            colour = PALETTE[(i // 2 if chart_pairs(chart) else i) % len(PALETTE)]
            xs, ys = [p.x for p in s.points], [p.y for p in s.points]
            style = ("--" if s.dashed else "-") if s.joined else ""
            marker = {"circle": "o", "triangle": "^", "none": ""}[s.marker]
            ax.plot(xs, ys, linestyle=style or "none", marker=marker or None, color=colour, label=s.name)
            if s.dashed and s.marker == "circle" and len(xs) == 2:  # a convolution's separable form
                ax.plot(xs[1:], ys[1:], linestyle="none", marker="^", color=colour)
            for p in s.points:
                if p.label and labelled:
                    ax.annotate(p.label, (p.x, p.y), textcoords="offset points", xytext=(6, 4), fontsize=7)
        ax.set_xscale("log" if chart.log_x else "linear")
        ax.set_yscale("log" if chart.log_y else "linear")
        ax.xaxis.set_minor_formatter(NullFormatter())
        xs = sorted({p.x for s in chart.series for p in s.points})
        if len(xs) <= 12:  # few values (M of a grid): a tick at each, written as the table writes it
            ax.set_xticks(xs, [tick_text(x) for x in xs])
        ax.set_title(chart.title)
        ax.set_xlabel(chart.x_label)
        ax.set_ylabel(chart.y_label)
        ax.grid(True, alpha=0.3)
        if chart.key:
            from matplotlib.lines import Line2D

            shapes = {"circle": "o", "triangle": "^"}
            ax.legend([Line2D([], [], marker=shapes[m], color="#555555", linestyle="none") for m, _ in chart.key],
                      [text for _, text in chart.key], fontsize=7)
        else:
            ax.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def write_plot(charts: Sequence[Chart], path: str) -> str | None:
    """The charts as SVG text (returned, for the caller to write), or, for a .png path, written there."""
    if path.lower().endswith(".png"):
        write_png(charts, path)
        return None
    return render_svg(charts)
