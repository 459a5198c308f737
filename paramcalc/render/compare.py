"""Tables for `paramcalc compare` and `summary --by-type`, built from the pure results in compare.py."""

from __future__ import annotations

from typing import Any

from paramcalc.compare import ATTENTION_PRODUCTS, ConvPair, SpecComparison, TypeShare, by_type
from paramcalc.render.tabular import Column, Tabular, signed
from paramcalc.report import BYTES_PER_VALUE, Report


def dims(values: tuple[int, ...]) -> int | list[int]:
    """A kernel or map size: one number when square, else one per dimension."""
    return values[0] if len(set(values)) == 1 else list(values)


def dims_text(value: Any) -> str:
    return "" if value is None else "x".join(str(v) for v in value) if isinstance(value, list) else str(value)


def text(value: Any) -> str:
    return "" if value is None else str(value)


def ratio(value: Any) -> str:
    return "" if value is None else f"{value:.4f}"


def times(value: Any) -> str:
    return "" if value is None else f"{value:.2f}x"


def percent(value: Any) -> str:
    return "" if value is None else f"{value:.2f}%"


# In a narrow terminal the closed form goes first (the ratio beside it says the same), then the
# weights, the saving (1 / ratio) and how the layer is written.
PAIR_COLUMNS = [
    Column("layer", "Layer", numeric=False), Column("form", "Written as", numeric=False, drop=5),
    Column("K", "K", show=dims_text), Column("N", "N", show=text), Column("M", "M", show=text),
    Column("D", "D", show=dims_text),
    Column("standard_macs", "Standard MACs"), Column("separable_macs", "Separable MACs"),
    Column("ratio", "Ratio", show=ratio), Column("closed_form", "1/M + 1/K^2", show=ratio, drop=1),
    Column("saving", "Saving", show=times, drop=4),
    Column("standard_params", "Standard weights", drop=3), Column("separable_params", "Separable weights", drop=2),
]


def pair_row(p: ConvPair) -> dict[str, Any]:
    return {
        "layer": p.layer, "form": p.written, "K": dims(p.kernel), "N": p.n, "M": p.m, "D": dims(p.out),
        "multiplier": p.multiplier, "standard_macs": p.standard_macs, "separable_macs": p.separable_macs,
        "ratio": round(float(p.ratio), 6), "closed_form": round(float(p.closed_form), 6),
        "saving": round(float(1 / p.ratio), 4), "standard_params": p.standard_weights,
        "separable_params": p.separable_weights,
    }


NOTE = ("Weights are kernel weights (no biases), as in the paper's formulas: standard D^2 K^2 N M MACs, "
        "separable D^2 K^2 N + D^2 N M; ratio = 1/M + 1/K^2 (x depth multiplier).")


TIME_COLUMNS = [Column("standard_seconds", "Standard time", show=lambda v: seconds(v)),
                Column("separable_seconds", "Separable time", show=lambda v: seconds(v)),
                Column("time_ratio", "Time ratio", show=ratio)]


def seconds(value: Any) -> str:
    from paramcalc.render.costs import seconds_text

    return "" if value is None else seconds_text(value)


def pairs_table(title: str, pairs: list[ConvPair], sort: str | None = None, descending: bool = False,
                times: list[tuple[float, float]] | None = None) -> Tabular:
    """`times`: each pair's (standard, separable) roofline seconds on a device (compare --device)."""
    rows = [pair_row(p) for p in pairs]
    for row, (standard, separable) in zip(rows, times or []):
        row.update(standard_seconds=standard, separable_seconds=separable,
                   time_ratio=round(separable / standard, 6) if standard else None)
    if sort:
        rows.sort(key=lambda r: r[sort] if not isinstance(r[sort], (int, list)) else
                  (r[sort],) if isinstance(r[sort], int) else tuple(r[sort]), reverse=descending)
    columns = [*PAIR_COLUMNS[:9], *TIME_COLUMNS, *PAIR_COLUMNS[9:]] if times is not None else PAIR_COLUMNS
    return Tabular(title, columns, rows, notes=[NOTE])


def spec_table(comparison: SpecComparison, timing: Any = None, device: str = "") -> Tabular:
    """`timing`: roofline.CompareTimes on `device` (compare --device), else MACs and weights only."""
    report = comparison.report
    table = pairs_table(f'Model "{report.name}": each convolution, standard vs depthwise-separable',
                        list(comparison.pairs), times=timing.pairs if timing is not None else None)
    table.footer = [
        {"layer": "whole network as written", "standard_macs": comparison.macs_as_written,
         "standard_params": comparison.conv_dense_params},
        {"layer": "all standard convolutions", "standard_macs": comparison.macs_standard,
         "standard_params": comparison.params_standard},
        {"layer": "all depthwise-separable", "separable_macs": comparison.macs_separable,
         "separable_params": comparison.params_separable,
         "ratio": round(comparison.macs_separable / comparison.macs_standard, 6) if comparison.macs_standard else None},
    ]
    if timing is not None:
        for row, value in zip(table.footer, (timing.as_written, timing.all_standard, timing.all_separable)):
            row["standard_seconds" if row is not table.footer[2] else "separable_seconds"] = value
        table.footer[2]["time_ratio"] = round(timing.all_separable / timing.all_standard, 6)
        table.notes.append(f"Time: roofline lower bounds on {device}, each convolution a kernel of its own reading "
                           "its weights and input and writing its output (separable: two kernels). Depthwise layers "
                           f"as written: {100 * timing.depthwise_macs_share:.1f}% of the MACs, "
                           f"{100 * timing.depthwise_time_share:.1f}% of the time.")
    table.notes.append("Network totals: MACs of every layer; params of conv and dense layers with their biases "
                       "(normalisation excluded, as papers count them). Layers without a separable counterpart "
                       "(1x1, grouped, transposed, dense) cost the same in every form.")
    return table


TYPE_COLUMNS = [
    Column("type", "Type", numeric=False), Column("layers", "Layers", show=text),
    Column("macs", "MACs"), Column("macs_share", "MACs %", show=percent),
    Column("params", "Params"), Column("params_share", "Params %", show=percent),
    Column("weights_share", "Weights %", show=percent),
]


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 4) if whole else None


def type_rows(report: Report) -> tuple[list[TypeShare], int]:
    shares = by_type(report)
    return shares, sum(t.weights for t in shares)


def by_type_table(report: Report) -> Tabular:
    shares, weights = type_rows(report)
    rows = [{"type": t.category, "layers": t.layers, "macs": t.macs, "macs_share": share(t.macs, report.total_macs),
             "params": t.params, "params_share": share(t.params, report.total_params), "weights": t.weights,
             "weights_share": share(t.weights, weights) if t.weights else None,
             "convention_count": t.convention_count} for t in shares]
    footer = [{"type": "total", "layers": len(report.rows), "macs": report.total_macs, "params": report.total_params,
               "weights": weights, "convention_count": report.convention_total}]
    columns = TYPE_COLUMNS
    if report.convention != "paper":  # the convention's own figures beside the MACs
        columns = [*TYPE_COLUMNS[:4], Column("convention_count", report.convention_label),
                   *TYPE_COLUMNS[4:]]
    return Tabular(f'Model "{report.name}": MACs and params by layer type', columns, rows, footer,
                   notes=["Weights % counts kernel weights only (no biases, no normalisation), as the MobileNet "
                          "paper's Table 2 does. A 1x1 convolution on a 1x1 map counts as FC."
                          + (f" {ATTENTION_PRODUCTS}: the attention layers' products, quadratic in the length, apart "
                             "from the rest of those layers (their own row)." if any(
                                 t.category == ATTENTION_PRODUCTS for t in shares) else "")])


def two_specs_table(a: Report, b: Report) -> Tabular:
    def line(label: str, x: int, y: int) -> dict[str, Any]:
        return {"figure": label, "a": x, "b": y, "difference": y - x, "ratio": round(y / x, 6) if x else None}

    rows = [line("params", a.total_params, b.total_params),
            line("trainable params", a.trainable_params, b.trainable_params),
            line("non-trainable params", a.non_trainable_params, b.non_trainable_params),
            line("MACs", a.total_macs, b.total_macs),
            line("FLOPs (2 x MACs)", a.total_flops, b.total_flops),
            *([line(a.convention_label, a.convention_total, b.convention_total)]
              if a.convention != "paper" else []),
            line("activations (values per sample)", a.activations, b.activations),
            line("activation bytes (float32)", a.activations * BYTES_PER_VALUE, b.activations * BYTES_PER_VALUE)]
    a_types = {t.category: t for t in by_type(a)}
    b_types = {t.category: t for t in by_type(b)}
    for name in list(a_types) + [n for n in b_types if n not in a_types]:
        ta, tb = a_types.get(name), b_types.get(name)
        if (ta and (ta.macs or ta.params)) or (tb and (tb.macs or tb.params)):
            rows.append(line(f"{name}: MACs", ta.macs if ta else 0, tb.macs if tb else 0))
            rows.append(line(f"{name}: params", ta.params if ta else 0, tb.params if tb else 0))
    columns = [Column("figure", "Figure", numeric=False), Column("a", a.name), Column("b", b.name),
               Column("difference", "B - A", show=signed),
               Column("ratio", "B / A", show=lambda v: "" if v is None else f"{v:.4f}")]
    return Tabular(f'"{a.name}" (A) vs "{b.name}" (B)', columns, rows)
