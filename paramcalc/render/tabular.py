"""A table of plain values rendered four ways: rich (people), CSV, Markdown and JSON (programs).

Cells hold raw values (ints stay exact, numbers are numbers, a shape is a list); each column says how
to show its values to people. For programs, every command writes them the same way: JSON has a
`schema_version` and numbers as numbers; CSV writes a list (a shape) as `None x 28 x 28 x 6` and,
when the table has totals, marks their rows in an `is_total` column, so that summing the others
does not count them twice."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paramcalc.render.numbers import formula, thousands

TABLE_SCHEMA_VERSION = 1  # the JSON of every table (sweeps, compare, --by-type, --conventions)


def plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return thousands(value)
    if isinstance(value, float):
        return f"{value:.4f}"
    return value if isinstance(value, str) else formula(value)  # formulas of free dimensions


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    numeric: bool = True
    show: Callable[[Any], str] = plain


@dataclass
class Tabular:
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    footer: list[dict[str, Any]] = field(default_factory=list)  # totals, shown after a rule
    notes: list[str] = field(default_factory=list)

    def rich(self) -> Any:
        from rich import box
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(box=box.HEAVY_HEAD, header_style="bold", title=Text(self.title, style="bold"),
                      title_justify="left")
        for c in self.columns:
            table.add_column(c.title, justify="right" if c.numeric else "left", no_wrap=True)
        last = len(self.rows) - 1
        for i, row in enumerate(self.rows):
            table.add_row(*(c.show(row.get(c.key)) for c in self.columns), end_section=i == last and bool(self.footer))
        for row in self.footer:
            table.add_row(*(c.show(row.get(c.key)) for c in self.columns), style="bold")
        return Group(table, *(Text(note, style="dim") for note in self.notes))

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        marked = bool(self.footer)  # totals are marked, so that summing the other rows does not double
        writer.writerow([c.key for c in self.columns] + (["is_total"] if marked else []))
        for rows, total in ((self.rows, "false"), (self.footer, "true")):
            for row in rows:
                writer.writerow([csv_cell(row.get(c.key)) for c in self.columns] + ([total] if marked else []))
        return out.getvalue().rstrip("\n")

    def markdown(self) -> str:
        def line(cells: list[str]) -> str:
            return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

        lines = [f"**{self.title}**", "", line([c.title for c in self.columns]),
                 line(["---:" if c.numeric else "---" for c in self.columns])]
        lines += [line([c.show(row.get(c.key)) for c in self.columns]) for row in self.rows]
        lines += [line([f"**{c.show(row.get(c.key))}**" if row.get(c.key) not in (None, "") else ""
                        for c in self.columns]) for row in self.footer]
        lines += ["", *self.notes] if self.notes else []
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"schema_version": TABLE_SCHEMA_VERSION, "title": self.title, "columns": [c.key for c in self.columns],
                "rows": self.rows, "totals": self.footer, "notes": self.notes}

    def json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, default=formula)


def csv_cell(value: Any) -> Any:
    """A value as CSV writes it: numbers as they are, a list (a shape) as `None x 28 x 28 x 6`."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " x ".join("None" if v is None else str(csv_cell(v)) for v in value)
    if isinstance(value, (bool, int, float, str)):
        return value
    return formula(value)  # a formula of free dimensions
