"""A table of plain values rendered four ways: rich (people), CSV, Markdown and JSON (programs).

Cells hold raw values (ints stay exact); each column says how to show its values to people."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paramcalc.render.numbers import formula, thousands


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
        writer.writerow([c.key for c in self.columns])
        for row in self.rows + self.footer:
            writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in self.columns])
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
        return {"title": self.title, "columns": [c.key for c in self.columns], "rows": self.rows,
                "totals": self.footer, "notes": self.notes}

    def json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)
