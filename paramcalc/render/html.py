"""The summary as an HTML table, for Jupyter (`Report._repr_html_`): the columns of the text table
and its footer, without styling beyond alignment, so that a notebook's own theme applies."""

from __future__ import annotations

from html import escape

from paramcalc.render.numbers import readable_bytes, shape_text, thousands
from paramcalc.report import BYTES_PER_VALUE, Report, display_rows

_RIGHT = ' style="text-align: right"'


def render_html(report: Report, depth: int | None = None) -> str:
    graph = not report.is_chain
    counted = report.convention != "paper"
    titles = ["Layer (type)", "Output Shape", "Param #", "MACs"]
    titles += [report.convention_label] if counted else []
    titles += ["Connected to"] if graph else []
    head = "".join(f"<th{_RIGHT if title in ('Param #', 'MACs', report.convention_label) else ''}>"
                   f"{escape(title)}</th>" for title in titles)
    body = []
    for row in display_rows(report, depth):
        cells = [f"<td>{'&nbsp;&nbsp;' * row.depth}{escape(row.name)} <small>({escape(row.type)})</small></td>",
                 f"<td>{escape(shape_text(row.output_shape))}</td>",
                 f"<td{_RIGHT}>{thousands(row.params)}</td>", f"<td{_RIGHT}>{thousands(row.macs)}</td>"]
        if counted:
            cells.append(f"<td{_RIGHT}>{escape(thousands(row.convention_count))}</td>")
        if graph:
            cells.append(f"<td>{escape(', '.join(row.inputs))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f"<div><b>Model: &quot;{escape(report.name)}&quot;</b>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"{footer(report)}</div>")


def footer(report: Report) -> str:
    def params(n: int) -> str:
        return f"{thousands(n)} ({readable_bytes(n * BYTES_PER_VALUE)})"

    lines = [f"<b>Total params: {params(report.total_params)}</b>",
             f"Trainable params: {params(report.trainable_params)}",
             f"Non-trainable params: {params(report.non_trainable_params)}",
             f"<b>Total MACs: {escape(thousands(report.total_macs))}</b> (multiply-accumulates of conv, dense and "
             "attention products)",
             f"Total FLOPs: {escape(thousands(report.total_flops))} (= 2 x MACs)"]
    if report.convention != "paper":
        lines.append(f"<b>Total {escape(report.convention_label)}: {escape(thousands(report.convention_total))}</b>")
    lines.append(f"Activations: {escape(thousands(report.activations))} values per sample "
                 f"({escape(readable_bytes(report.activations * BYTES_PER_VALUE))} at float32)")
    lines += [f"&#9888; {escape(str(warning))}" for warning in report.warnings]
    return "<p>" + "<br>".join(lines) + "</p>"
