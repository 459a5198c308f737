"""The Keras-style summary table, drawn with rich."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from paramcalc.render.numbers import readable_bytes, shape_text, shapes_text, thousands
from paramcalc.render.tabular import Column, Tabular
from paramcalc.report import BYTES_PER_VALUE, Report, display_rows


def render_table(report: Report, depth: int | None = None, counted_by: str = "") -> RenderableType:
    """`counted_by`: the tool whose count a non-paper convention reproduces, named in the footer."""
    table = Table(box=box.HEAVY_HEAD, show_lines=False, header_style="bold", title_justify="left",
                  title=Text(f'Model: "{report.name}"', style="bold"))
    graph = not report.is_chain
    table.add_column("Layer (type)", no_wrap=True)
    table.add_column("Output Shape", no_wrap=True)
    table.add_column("Param #", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    counted = report.convention != "paper"
    if counted:  # the convention's own figure, beside the MACs rather than instead of them
        table.add_column(report.convention_label, justify="right", no_wrap=True)
    if graph:  # Keras adds this column to functional models
        table.add_column("Connected to", no_wrap=True)
    for row in display_rows(report, depth):
        layer = Text("  " * row.depth + row.name)
        layer.append(f" ({row.type})", style="dim")
        shown = shapes_text(row.output_shapes) if row.extra_outputs else shape_text(row.output_shape)
        cells: list[Text | str] = [layer, shown, thousands(row.params), thousands(row.macs)]
        if counted:
            cells.append(thousands(row.convention_count))
        if graph:
            cells.append(", ".join(row.inputs))
        table.add_row(*cells)
    return Group(table, footer(report, counted_by), *warnings(report))


def footer(report: Report, counted_by: str = "") -> Text:
    def params(label: str, n: int) -> str:
        return f" {label}: {thousands(n)} ({readable_bytes(n * BYTES_PER_VALUE)})\n"

    text = Text()
    text.append(params("Total params", report.total_params), style="bold")
    text.append(params("Trainable params", report.trainable_params))
    text.append(params("Non-trainable params", report.non_trainable_params))
    text.append(f" Total MACs: {thousands(report.total_macs)}", style="bold")
    text.append("  (multiply-accumulates of conv, dense and attention products)\n", style="dim")
    text.append(f" Total FLOPs: {thousands(report.total_flops)}")
    text.append("  (= 2 x MACs)\n", style="dim")
    if report.convention != "paper":
        text.append(f" Total {report.convention_label}: {thousands(report.convention_total)}", style="bold")
        text.append(f"  (as {counted_by} counts)\n" if counted_by else "\n", style="dim")
    return _activations(report, text)


def _activations(report: Report, text: Text) -> Text:
    text.append(f" Activations: {thousands(report.activations)} values per sample "
                f"({readable_bytes(report.activations * BYTES_PER_VALUE)} at float32)")
    inputs = ", ".join(shape_text(shape) for shape in report.inputs.values())
    text.append(f"  (all layer outputs; input {inputs} = {thousands(report.input_values)} values)", style="dim")
    return text


def warnings(report: Report) -> list[Text]:
    if not report.warnings:
        return []
    lines = [Text(f"\n Warnings ({len(report.warnings)}):", style="bold yellow")]
    for w in report.warnings:
        line = Text(" ! ", style="yellow")
        line.append(f"{w.layer}: " if w.layer else "", style="bold")
        line.append(w.message)
        if w.loc is not None and w.loc.line is not None:
            line.append(f" (line {w.loc.line})", style="dim")
        lines.append(line)
    return lines


def _outputs_cell(value: tuple[int | None, ...] | list[tuple[int | None, ...]]) -> str:
    return shapes_text(tuple(value)) if isinstance(value, list) else shape_text(value)


def rows_table(report: Report, depth: int | None = None) -> Tabular:
    """The layer rows as a plain table, for CSV and Markdown (folded as --depth asks)."""
    columns = [Column("name", "Layer", numeric=False), Column("type", "Type", numeric=False),
               Column("output_shape", "Output Shape", numeric=False, show=_outputs_cell),
               Column("params", "Param #"), Column("trainable_params", "Trainable"),
               Column("non_trainable_params", "Non-trainable"), Column("macs", "MACs")]
    if report.convention != "paper":
        columns.append(Column("convention_count", report.convention_label))
    by_name = {r.name: r for r in report.rows}
    rows = []
    for shown in display_rows(report, depth):
        layer = None if shown.is_block else by_name.get(shown.name)
        # Several outputs as a list of shapes (as Keras prints them), in CSV too.
        outputs = list(shown.output_shapes) if shown.extra_outputs else shown.output_shape
        rows.append({"name": shown.name, "type": shown.type, "output_shape": outputs,
                     "params": shown.params, "macs": shown.macs, "convention_count": shown.convention_count,
                     "trainable_params": layer.trainable_params if layer else None,
                     "non_trainable_params": layer.non_trainable_params if layer else None})
    footer = [{"name": "total", "params": report.total_params, "trainable_params": report.trainable_params,
               "non_trainable_params": report.non_trainable_params, "macs": report.total_macs,
               "convention_count": report.convention_total}]
    return Tabular(f'Model "{report.name}"', columns, rows, footer)
