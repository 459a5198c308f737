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

from paramcalc.render.layout import Fit
from paramcalc.render.numbers import formula, short, thousands

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


def signed(value: Any) -> str:
    """+10,135,552: a difference."""
    return "" if value is None else f"{value:+,}" if value else "0"


@dataclass(frozen=True)
class Column:
    """`fit`: how the column gives way in a narrow terminal (render/layout.py; by default numbers
    are figures, never cut, and text wraps as names do); `drop`: 0 to be always shown, else the
    order in which it is left out when the table cannot fit."""

    key: str
    title: str
    numeric: bool = True
    show: Callable[[Any], str] = plain
    fit: Fit | None = None
    drop: int = 0

    @property
    def gives_way(self) -> Fit:
        return self.fit or (Fit.FIGURE if self.numeric else Fit.NAME)

    def text(self, value: Any, short_units: bool = False) -> str:
        """The value as people read it (nothing for None); with `short_units`, a count as 4.09 G (`plain`
        and `signed` columns)."""
        if value is None:
            return ""
        if short_units and isinstance(value, int) and not isinstance(value, bool) and self.numeric:
            if self.show is plain:
                return short(value)
            if self.show is signed:
                return f"{'+' if value > 0 else ''}{short(value)}"
        return self.show(value)


@dataclass
class Tabular:
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    footer: list[dict[str, Any]] = field(default_factory=list)  # totals, shown after a rule
    notes: list[str] = field(default_factory=list)
    short_units: bool = False  # --units short: counts as 4.09 G in the table and Markdown (never CSV, JSON)
    more: str = "--width {width} or --format csv shows {them}"  # how to see a column left out
    pictures: list[str] = field(default_factory=list)  # inline SVG shown under the table (HTML only)

    def rich(self) -> Any:
        from paramcalc.render.fit import FitTable, Row
        from paramcalc.render.layout import FitColumn

        columns = [FitColumn(c.title, c.gives_way, right=c.numeric, drop=c.drop) for c in self.columns]
        last = len(self.rows) - 1
        rows = [Row(self.cells(row), end_section=i == last and bool(self.footer)) for i, row in enumerate(self.rows)]
        rows += [Row(self.cells(row), style="bold") for row in self.footer]
        return FitTable(columns, rows, title=self.title, notes=self.notes, more=self.more)

    def cells(self, row: dict[str, Any]) -> list[str]:
        return [c.text(row.get(c.key), self.short_units) for c in self.columns]

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
        lines += [line(self.cells(row)) for row in self.rows]
        lines += [line([f"**{text}**" if row.get(c.key) not in (None, "") else ""
                        for c, text in zip(self.columns, self.cells(row))]) for row in self.footer]
        lines += ["", *self.notes] if self.notes else []
        return "\n".join(lines)

    def html(self) -> str:
        from paramcalc.render.html_report import tabular_page

        return tabular_page(self, self.pictures)

    def as_dict(self) -> dict[str, Any]:
        return {"schema_version": TABLE_SCHEMA_VERSION, "title": self.title, "columns": [c.key for c in self.columns],
                "rows": self.rows, "totals": self.footer, "notes": self.notes}

    def json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, default=formula)

    def jsonl(self) -> str:
        """JSON Lines: one object a row, keyed by column; totals marked `"is_total": true`, as CSV does."""
        marked = bool(self.footer)
        lines = [json.dumps({**{c.key: row.get(c.key) for c in self.columns},
                             **({"is_total": total} if marked else {})}, default=formula)
                 for rows, total in ((self.rows, False), (self.footer, True)) for row in rows]
        return "\n".join(lines)


def csv_cell(value: Any) -> Any:
    """A value as CSV writes it: numbers as they are, a list (a shape) as `None x 28 x 28 x 6`, and the
    shapes of a layer with several outputs one after the other: `None x 2 x 6 x 6; None x 6 x 6 x 6`."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (list, tuple)) for v in value):
        return "; ".join(str(csv_cell(v)) for v in value)
    if isinstance(value, (list, tuple)):
        return " x ".join("None" if v is None else str(csv_cell(v)) for v in value)
    if isinstance(value, (bool, int, float, str)):
        return value
    return formula(value)  # a formula of free dimensions
