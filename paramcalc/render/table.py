"""The Keras-style summary table, drawn with rich at the terminal's width without cutting a figure
(render/fit.py): names fold, `Connected to` wraps, and a column that cannot fit is left out with a note."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text

from paramcalc.render.costs import costs_part, layer_times
from paramcalc.render.fit import FitTable, Prose, Row
from paramcalc.render.layout import Fit, FitColumn
from paramcalc.render.numbers import readable_bytes, shape_text, shapes_text, short, thousands
from paramcalc.render.tabular import Column, Tabular
from paramcalc.render.warnings import WarningsShown, warning_lines
from paramcalc.report import BYTES_PER_VALUE, DisplayRow, Report, display_rows

if TYPE_CHECKING:
    from paramcalc.memory import Costs

NAME_MINIMUM = 20  # the layer column narrows to this before a column is left out
MORE = "--width {width} or --format csv shows {them}"


def batch_of(report: Report) -> int | None:
    """The batch size of a report made for a batch (`--batch`), None for one sample."""
    first = report.input_shape[0]
    return first if isinstance(first, int) else None


def render_table(report: Report, depth: int | None = None, counted_by: str = "", short_units: bool = False,
                 warnings: WarningsShown = WarningsShown.SHORT, costs: Costs | None = None,
                 bars: bool = False) -> RenderableType:
    """`counted_by`: the tool whose count a non-paper convention reproduces, named in the footer;
    `short_units`: counts in the table as 4.09 G, 25.6 M (the footer gives both); `bars`: a column
    with each layer's share of the MACs as a bar (render/bars.py)."""
    count: Callable[[int], str] = short if short_units else thousands
    graph = not report.is_chain
    counted = report.convention != "paper"
    shown = display_rows(report, depth)
    columns = [FitColumn("Layer (type)", Fit.NAME, minimum=NAME_MINIMUM), shapes_column(shown),
               FitColumn("Param #", right=True), FitColumn("MACs", right=True, drop=3)]
    if counted:  # the convention's own figure, beside the MACs rather than instead of them
        columns.append(FitColumn(report.convention_label, right=True, drop=2))
    times = layer_times(report, shown, costs)  # --device: each row's roofline time
    if times:
        columns.append(FitColumn("Time (roofline)", right=True, drop=2))
    shares: list[str] = []
    if bars:  # left out before the MACs, after `Connected to`, when the table cannot fit
        from paramcalc.render.bars import TITLE, bar_cells

        shares = bar_cells([row.macs for row in shown], report.total_macs)
        columns.append(FitColumn(TITLE, drop=1))
    if graph:  # Keras adds this column to functional models
        columns.append(FitColumn("Connected to", Fit.LIST, drop=1))
    rows = []
    for i, row in enumerate(shown):
        layer = Text("  " * row.depth + row.name)
        layer.append(f" ({row.type})", style="dim")
        outputs = shapes_text(row.output_shapes) if row.extra_outputs else shape_text(row.output_shape)
        cells: list[Text | str] = [layer, outputs, count(row.params), count(row.macs)]
        if counted:
            cells.append(count(row.convention_count))
        if times:
            cells.append(times[row.name])
        if bars:
            cells.append(Text(shares[i], style="dark_orange"))
        if graph:
            cells.append(", ".join(row.inputs))
        rows.append(Row(cells))
    table = FitTable(columns, rows, title=Text(f'Model: "{report.name}"', style="bold"), more=MORE)
    return Group(table, footer(report, counted_by, short_units), *costs_part(report, costs),
                 *warnings_part(report, warnings))


def shapes_column(shown: Sequence[DisplayRow]) -> FitColumn:
    """Output Shape: figures, never cut; a layer with several outputs (ShuffleNet's Chunk) may put
    them on several lines, between whole shapes, rather than crowd the MACs out of the table."""
    if not any(row.extra_outputs for row in shown):
        return FitColumn("Output Shape")
    widest = max(cell_len(shape_text(shape)) for row in shown for shape in row.output_shapes)
    return FitColumn("Output Shape", Fit.LIST, minimum=widest + 2)  # + 2: a "[" and a ","


def footer(report: Report, counted_by: str = "", short_units: bool = False) -> Prose:
    """The totals, one per line; a line too long for the terminal wraps between words, never inside
    a number or a shape."""
    def both(n: int) -> str:  # --units short: the short figure and the exact one
        text = thousands(n)
        return f"{short(n)} = {text}" if short_units and isinstance(n, int) and short(n) != text else text

    def params(label: str, n: int, style: str = "") -> list[tuple[str, str]]:
        return [(f" {label}: {both(n)} ({readable_bytes(n * BYTES_PER_VALUE)})", style)]

    batch = batch_of(report)
    per = "per sample" if batch is None else f"for a batch of {batch:,}"
    macs = [(f" Total MACs: {both(report.total_macs)}", "bold")]
    if batch is not None:
        macs.append((f" {per} ({thousands(report.total_macs // batch)} per sample)", "bold"))
    lines = [params("Total params", report.total_params, "bold"),
             params("Trainable params", report.trainable_params),
             params("Non-trainable params", report.non_trainable_params),
             *active_line(report),
             [*macs, ("  (multiply-accumulates of conv, dense and attention products)", "dim")],
             [(f" Total FLOPs: {both(report.total_flops)}", ""), ("  (= 2 x MACs)", "dim")]]
    if report.convention != "paper":
        lines.append([(f" Total {report.convention_label}: {both(report.convention_total)}", "bold"),
                      (f"  (as {counted_by} counts)" if counted_by else "", "dim")])
    from paramcalc.render.sequence import footer_lines

    lines += footer_lines(report)  # attention products and params by component, for a model with attention
    inputs = ", ".join(shape_text(shape) for shape in report.inputs.values())
    lines.append([(f" Activations: {both(report.activations)} values {per} "
                   f"({readable_bytes(report.activations * BYTES_PER_VALUE)} at float32)", ""),
                  (f"  (all layer outputs; input {inputs} = {thousands(report.input_values)} "
                   "values)", "dim")])
    return Prose(lines)


def active_line(report: Report) -> list[list[tuple[str, str]]]:
    """With a mixture of experts: the params one token uses (router + top_k experts of each)."""
    if not report.has_experts:
        return []
    return [[(f" Active params per token: {thousands(report.active_params)} "
              f"({readable_bytes(report.active_params * BYTES_PER_VALUE)})", ""),
             ("  (a mixture of experts' router and top_k experts, and every other layer)", "dim")]]


def warnings_part(report: Report, shown: WarningsShown) -> list[Prose]:
    lines = warning_lines(report.warnings, shown)
    if not lines:
        return []
    paragraphs: list[list[tuple[str, str]]] = [[], [(f" Warnings ({len(report.warnings)}):", "bold yellow")]]
    for w in lines:
        if len(w.layers) > 1:
            paragraphs.append([(" ! ", "yellow"), (f"{len(w.layers)} layers: ", "bold"), (f"{w.message}: ", ""),
                               (", ".join(w.layers), "bold"), (" (`--warnings full` shows each)", "dim")])
            continue
        paragraph = [(" ! ", "yellow"), (f"{w.layers[0]}: " if w.layers else "", "bold"), (w.message, "")]
        if w.line is not None:
            paragraph.append((f" (line {w.line})", "dim"))
        paragraphs.append(paragraph)
    return [Prose(paragraphs)]


def _outputs_cell(value: tuple[int | None, ...] | list[tuple[int | None, ...]]) -> str:
    return shapes_text(tuple(value)) if isinstance(value, list) else shape_text(value)


def experts_skipped(report: Report, depth: int | None) -> dict[str, int]:
    """The params a token leaves unused, by shown row (a mixture of experts, or a block folded at `depth`
    that holds some): the `Active` column is the row's params less these."""
    skipped: dict[str, int] = {}
    for row in report.rows:
        if row.active_params is not None:
            shown = row.path[depth][0] if depth is not None and len(row.path) > depth else row.name
            skipped[shown] = skipped.get(shown, 0) + row.params - row.active_params
    return skipped


def rows_table(report: Report, depth: int | None = None) -> Tabular:
    """The layer rows as a plain table, for CSV and Markdown (folded as --depth asks). A graph's rows
    say what each layer reads (`inputs`, the table's `Connected to`)."""
    columns = [Column("name", "Layer", numeric=False), Column("type", "Type", numeric=False),
               Column("output_shape", "Output Shape", numeric=False, show=_outputs_cell),
               Column("params", "Param #"), Column("trainable_params", "Trainable"),
               Column("non_trainable_params", "Non-trainable"), Column("macs", "MACs")]
    if report.convention != "paper":
        columns.append(Column("convention_count", report.convention_label))
    skipped = experts_skipped(report, depth) if report.has_experts else None
    if skipped is not None:
        columns.append(Column("active_params", "Active"))
    graph = not report.is_chain
    if graph:
        columns.append(Column("inputs", "Connected to", numeric=False))
    by_name = {r.name: r for r in report.rows}
    rows = []
    for shown in display_rows(report, depth):
        layer = None if shown.is_block else by_name.get(shown.name)
        # Several outputs as a list of shapes (as Keras prints them), in CSV too.
        outputs = list(shown.output_shapes) if shown.extra_outputs else shown.output_shape
        rows.append({"name": shown.name, "type": shown.type, "output_shape": outputs,
                     "params": shown.params, "macs": shown.macs, "convention_count": shown.convention_count,
                     "trainable_params": layer.trainable_params if layer else None,
                     "non_trainable_params": layer.non_trainable_params if layer else None,
                     "inputs": " ".join(shown.inputs),
                     "active_params": shown.params - skipped.get(shown.name, 0) if skipped is not None else None})
    footer = [{"name": "total", "params": report.total_params, "trainable_params": report.trainable_params,
               "non_trainable_params": report.non_trainable_params, "macs": report.total_macs,
               "convention_count": report.convention_total, "active_params": report.active_params}]
    return Tabular(f'Model "{report.name}"', columns, rows, footer)
