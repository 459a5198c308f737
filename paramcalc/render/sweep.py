"""The sweep's rows, one per combination of --set values, written as they are computed.

CSV, JSON Lines and Markdown write each row when it comes; JSON writes its document (the shape of
every table's JSON) with the rows array streamed, one row a line. A table for people is drawn once
all its rows are known (its column widths depend on them): it keeps at most TABLE_ROWS of them and
says how many more there were, so memory stays flat in every format."""

from __future__ import annotations

import csv
import json
from typing import IO, Any

from paramcalc.render.layout import Fit
from paramcalc.render.numbers import formula, shape_text
from paramcalc.render.tabular import TABLE_SCHEMA_VERSION, Column, Tabular, csv_cell
from paramcalc.sweep import number

__all__ = ["number", "sweep_columns", "sweep_table", "SweepWriter", "TABLE_ROWS"]

TABLE_ROWS = 1_000  # rows a table for people shows; the others are counted (CSV and JSON Lines have them all)
NOTE = ("MACs: multiply-accumulates of conv, dense and attention products; FLOPs = 2 x MACs; "
        "activations: values output by all layers for one sample (float32 bytes).")


def sweep_columns(names: list[str], extra: list[str] | None = None) -> list[Column]:
    # In a narrow terminal the figures that follow from others go first: bytes, FLOPs, trainable.
    return [Column(name, name, numeric=True, show=str) for name in names] + [
        Column("params", "Params"), Column("trainable_params", "Trainable", drop=3), Column("macs", "MACs"),
        Column("flops", "FLOPs", drop=2), Column("activations", "Activations", drop=4),
        Column("activation_bytes", "Activation bytes", drop=1),
        Column("output_shape", "Output shape", numeric=False, show=lambda shape: shape_text(tuple(shape)),
               fit=Fit.FIGURE),
    ] + [Column(key, key.replace("_", " ").capitalize()) for key in extra or []]


def sweep_title(model: str, total: int, names: list[str], row_filter: str | None = None) -> str:
    combinations = f"{total} combination{'s' if total != 1 else ''}"
    title = f'Model "{model}": {combinations}' + (f" of {', '.join(names)}" if names else "")
    return title + (f', filtered by "{row_filter}"' if row_filter else "")


def sweep_table(rows: list[dict[str, Any]], names: list[str], title: str, notes: list[str] | None = None,
                extra: list[str] | None = None) -> Tabular:
    return Tabular(title, sweep_columns(names, extra), rows, notes=[NOTE, *(notes or [])])


class SweepWriter:
    """Writes a sweep's rows to `out` in one format (csv, jsonl, json, markdown) as they come;
    for the table it keeps the first TABLE_ROWS and `finish` returns the Tabular to draw."""

    def __init__(self, fmt: str, out: IO[str], title: str, columns: list[Column], short_units: bool = False) -> None:
        self.fmt, self.out, self.title, self.columns = fmt, out, title, columns
        self.keys = [c.key for c in columns]
        self.table = Tabular(title, columns, short_units=short_units)
        self.count = 0
        self.csv = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
        self.start()

    def start(self) -> None:
        if self.csv is not None:
            self.csv.writerow(self.keys)
        elif self.fmt == "json":
            head = json.dumps({"schema_version": TABLE_SCHEMA_VERSION, "title": self.title, "columns": self.keys},
                              indent=2)
            self.out.write(head[:-2] + ',\n  "rows": [')
        elif self.fmt == "markdown":
            self.out.write(self.table.markdown() + "\n")  # the title and the header: no rows, no notes yet

    def write(self, row: dict[str, Any]) -> None:
        self.count += 1
        if self.csv is not None:
            self.csv.writerow([csv_cell(row.get(key)) for key in self.keys])
        elif self.fmt == "jsonl":
            self.out.write(json.dumps({key: row.get(key) for key in self.keys}, default=formula) + "\n")
        elif self.fmt == "json":
            text = json.dumps({key: row.get(key) for key in self.keys}, default=formula)
            self.out.write(("\n    " if self.count == 1 else ",\n    ") + text)
        elif self.fmt == "markdown":
            cells = self.table.cells(row)
            self.out.write("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |\n")
        elif self.count <= TABLE_ROWS:
            self.table.rows.append(row)

    def finish(self, notes: list[str]) -> Tabular | None:
        """End the output (its notes last); the table to draw, for the table format."""
        notes = [NOTE, *notes]
        if self.fmt == "json":
            self.out.write(("\n  " if self.count else "") + "],\n  \"totals\": [],\n  \"notes\": "
                           + json.dumps(notes, indent=2).replace("\n", "\n  ") + "\n}\n")
        elif self.fmt == "markdown":
            self.out.write("\n" + "\n".join(notes) + "\n")
        elif self.fmt == "table":
            if self.count > TABLE_ROWS:
                notes.append(f"The table shows the first {TABLE_ROWS:,} of {self.count:,} rows: --format csv or "
                             "jsonl writes them all, --top N keeps the N first (with --sort, the N best).")
            self.table.notes = notes
            return self.table
        return None
