"""The sweep table: one row per combination of --set values."""

from __future__ import annotations

from paramcalc.render.layout import Fit
from paramcalc.render.numbers import shape_text
from paramcalc.render.tabular import Column, Tabular
from paramcalc.report import BYTES_PER_VALUE
from paramcalc.sweep import SweepRow


def number(text: str) -> int | float | str:
    """A --set value as the number it is (JSON and CSV then hold 0.25, not "0.25"); other text as written."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def sweep_table(rows: list[SweepRow], names: list[str]) -> Tabular:
    # In a narrow terminal the figures that follow from others go first: bytes, FLOPs, trainable.
    columns = [Column(name, name, numeric=True, show=str) for name in names] + [
        Column("params", "Params"), Column("trainable_params", "Trainable", drop=3), Column("macs", "MACs"),
        Column("flops", "FLOPs", drop=2), Column("activations", "Activations", drop=4),
        Column("activation_bytes", "Activation bytes", drop=1),
        Column("output_shape", "Output shape", numeric=False, show=lambda shape: shape_text(tuple(shape)),
               fit=Fit.FIGURE),
    ]
    table_rows = []
    for row in rows:
        r = row.report
        values = {name: number(text) for name, text in row.values.items()}
        table_rows.append({**values, "params": r.total_params, "trainable_params": r.trainable_params,
                           "macs": r.total_macs, "flops": r.total_flops, "activations": r.activations,
                           "activation_bytes": r.activations * BYTES_PER_VALUE, "output_shape": list(r.output_shape)})
    name = rows[0].report.name if rows else ""
    return Tabular(f'Model "{name}": {len(rows)} combinations of {", ".join(names)}', columns, table_rows,
                   notes=["MACs: multiply-accumulates of conv, dense and attention products; FLOPs = 2 x MACs; "
                          "activations: values output by all layers for one sample (float32 bytes)."])
