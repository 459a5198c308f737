"""`summary --conventions`: one model under every counting convention, side by side."""

from __future__ import annotations

from paramcalc.conventions import CONVENTIONS, explain_difference
from paramcalc.render.layout import Fit
from paramcalc.render.tabular import Column, Tabular, signed
from paramcalc.report import Report


def conventions_table(report: Report) -> Tabular:
    report.require_numbers("a comparison of conventions")
    paper = report.total_macs
    rows = []
    for name, convention in CONVENTIONS.items():
        total = convention.total(report)
        rows.append({"convention": name, "tool": convention.tool, "total": total, "difference": total - paper,
                     "ratio": round(total / paper, 6) if paper else None,
                     "explained": "" if name == "paper" else explain_difference(report, name)})
    columns = [Column("convention", "Convention", numeric=False),
               Column("tool", "As counted by", numeric=False, fit=Fit.LIST, drop=1),
               Column("total", "Total"), Column("difference", "vs paper", show=signed),
               Column("explained", "What it adds, by layer type", numeric=False, fit=Fit.LIST)]
    notes = [f"{name}: {c.description}" for name, c in CONVENTIONS.items()]
    return Tabular(f'Model "{report.name}": the same network under every counting convention', columns, rows,
                   notes=notes)
