"""`--format html`: one self-contained page (inline CSS and SVG, no script, nothing fetched at view
time; its Content-Security-Policy forbids any fetch) for `summary`, `compare` and `check`.

A summary page has the totals, the layer table with a bar per layer for its share of the MACs and
of the params, the diagram (render/diagram.py), the model under every counting convention and the
warnings. A check page lists each spec's figures, expected against got, with the spec's line."""

from __future__ import annotations

import os
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING, Any

from paramcalc import __version__
from paramcalc.render.numbers import readable_bytes, shape_text, thousands
from paramcalc.report import BYTES_PER_VALUE, Report, display_rows

if TYPE_CHECKING:
    from paramcalc.check import CheckRun, FigureCheck, SpecCheck
    from paramcalc.render.tabular import Tabular

CSS = """
:root { --ink: #1a1a1a; --muted: #5b6475; --rule: #d9dde5; --macs: #e86b1f; --params: #3f7cc4;
        --pass: #23863a; --fail: #c62828; --warn: #a86400; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink);
       margin: 0; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 32px 0 8px; border-bottom: 1px solid var(--rule);
padding-bottom: 4px; } h3 { font-size: 15px; margin: 20px 0 6px; }
.muted { color: var(--muted); } code, .mono, td.num, td.shape { font-family: "DejaVu Sans Mono", Menlo, Consolas,
monospace; font-size: 12.5px; }
.totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 8px; margin: 16px 0; }
.totals div { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 12px; }
.totals b { display: block; font-size: 18px; } .totals span { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eef0f4; text-align: left; vertical-align: top; }
th { background: #f4f6fa; position: sticky; top: 0; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; } td.shape { white-space: nowrap; }
tr.total td { font-weight: 600; border-top: 2px solid var(--rule); }
td.bar { min-width: 110px; white-space: nowrap; } .scroll { overflow-x: auto; }
table.layers { font-size: 13px; } td.inputs { white-space: nowrap; font-size: 12.5px; }
.bar .track { display: inline-block; width: 60px; height: 10px; background: #eef0f4; border-radius: 2px;
              vertical-align: middle; margin-right: 6px; }
.bar .fill { display: block; height: 10px; border-radius: 2px; }
.bar.macs .fill { background: var(--macs); } .bar.params .fill { background: var(--params); }
.bar .pct { font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 12px; color: var(--muted); }
tr.block td:nth-child(2) { font-weight: 600; }
.diagram { overflow: auto; border: 1px solid var(--rule); border-radius: 6px; max-height: 90vh; }
.warnings li { color: var(--warn); } .notes { color: var(--muted); font-size: 12.5px; }
.status { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
          color: #fff; vertical-align: middle; }
.status.pass, .status.updated { background: var(--pass); } .status.fail, .status.error { background: var(--fail); }
.status.unchecked { background: var(--warn); }
td.ok { color: var(--pass); font-weight: 600; } td.bad { color: var(--fail); font-weight: 600; }
pre { background: #f7f7f9; border: 1px solid var(--rule); border-radius: 6px; padding: 8px 12px;
      white-space: pre-wrap; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""

# Nothing may be fetched when the page is viewed: styles and pictures are inline, there is no script.
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def page(title: str, body: Iterable[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<meta name=\"generator\" content=\"paramcalc {__version__}\">\n"
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body)
            + f"\n<footer>Written by paramcalc {escape(__version__)}.</footer>\n</body>\n</html>\n")


def share(part: Any, whole: Any) -> float | None:
    """part / whole, or None when either is not a number (free input dimensions) or the whole is 0."""
    if isinstance(part, int) and isinstance(whole, int) and whole:
        return part / whole
    return None


def bar(fraction: float | None, heaviest: float, kind: str) -> str:
    """A cell with the share as a bar (as long as the heaviest layer's share allows, so that small
    differences show) and as a percentage."""
    if fraction is None:
        return '<td class="bar"></td>'
    length = fraction / heaviest if heaviest else 0.0
    return (f'<td class="bar {kind}"><span class="track"><span class="fill" style="width:{length * 100:.2f}%">'
            f'</span></span><span class="pct">{fraction:.1%}</span></td>')


# ---- summary ------------------------------------------------------------------------------------------

def summary_page(report: Report, depth: int | None = None, counted_by: str = "", warnings: str = "short") -> str:
    body = [f"<h1>Model: {escape(report.name)}</h1>",
            f'<p class="muted">{escape(report.source)} · {len(report.rows):,} layers · '
            f"{escape(report.data_format)}</p>", totals(report, counted_by)]
    body += ["<h2>Layers</h2>", layer_table(report, depth)]
    body += ["<h2>Diagram</h2>", diagram(report, depth)]
    body += ["<h2>Counting conventions</h2>", conventions(report)]
    if warnings != "off" and report.warnings:
        body += ["<h2>Warnings</h2>", '<ul class="warnings">']
        body += [f"<li>{escape(str(w))}</li>" for w in report.warnings]
        body.append("</ul>")
    return page(f"paramcalc: {report.name}", body)


def totals(report: Report, counted_by: str = "") -> str:
    def cell(label: str, value: str, note: str = "") -> str:
        return f"<div><span>{escape(label)}</span><b>{escape(value)}</b><span>{escape(note)}</span></div>"

    cells = [cell("Total params", thousands(report.total_params),
                  readable_bytes(report.total_params * BYTES_PER_VALUE) + " at float32"),
             cell("Trainable params", thousands(report.trainable_params)),
             cell("Non-trainable params", thousands(report.non_trainable_params)),
             cell("MACs", thousands(report.total_macs), "multiply-accumulates of conv, dense and attention"),
             cell("FLOPs", thousands(report.total_flops), "= 2 x MACs"),
             cell("Activations", thousands(report.activations),
                  "values per sample (" + readable_bytes(report.activations * BYTES_PER_VALUE) + ")")]
    if report.convention != "paper":
        cells.append(cell(report.convention_label, thousands(report.convention_total),
                          f"as {counted_by} counts" if counted_by else ""))
    return f'<div class="totals">{"".join(cells)}</div>'


def layer_table(report: Report, depth: int | None) -> str:
    graph = not report.is_chain
    counted = report.convention != "paper"
    head = ['<th class="num">#</th>', "<th>Layer</th>", "<th>Type</th>", "<th>Output shape</th>",
            '<th class="num">Param #</th>', '<th class="num">MACs</th>']
    head += [f'<th class="num">{escape(report.convention_label)}</th>'] if counted else []
    head += ["<th>Share of MACs</th>", "<th>Share of params</th>"]
    head += ["<th>Connected to</th>"] if graph else []
    shown = display_rows(report, depth)
    mac_shares = [share(row.macs, report.total_macs) for row in shown]
    param_shares = [share(row.params, report.total_params) for row in shown]
    top_macs = max((s for s in mac_shares if s is not None), default=0.0)
    top_params = max((s for s in param_shares if s is not None), default=0.0)
    rows = []
    for i, row in enumerate(shown, 1):
        shapes = "<br>".join(escape(shape_text(s)) for s in row.output_shapes)
        cells = [f'<td class="num">{i}</td>', f"<td>{'&nbsp;&nbsp;' * row.depth}{escape(row.name)}</td>",
                 f"<td>{escape(row.type)}</td>", f'<td class="shape">{shapes}</td>',
                 f'<td class="num">{escape(thousands(row.params))}</td>',
                 f'<td class="num">{escape(thousands(row.macs))}</td>']
        if counted:
            cells.append(f'<td class="num">{escape(thousands(row.convention_count))}</td>')
        cells += [bar(mac_shares[i - 1], top_macs, "macs"), bar(param_shares[i - 1], top_params, "params")]
        if graph:
            cells.append(f'<td class="inputs">{"<br>".join(escape(name) for name in row.inputs)}</td>')
        rows.append(f'<tr class="{"block" if row.is_block else "layer"}" data-name="{escape(row.name)}">'
                    f'{"".join(cells)}</tr>')
    total = ['<td></td>', "<td>Total</td>", "<td></td>", "<td></td>",
             f'<td class="num">{escape(thousands(report.total_params))}</td>',
             f'<td class="num">{escape(thousands(report.total_macs))}</td>']
    total += [f'<td class="num">{escape(thousands(report.convention_total))}</td>'] if counted else []
    total += ["<td></td>", "<td></td>"] + (["<td></td>"] if graph else [])
    return (f'<div class="scroll"><table class="layers"><thead><tr>{"".join(head)}</tr></thead>'
            f'<tbody>{"".join(rows)}'
            f'<tr class="total">{"".join(total)}</tr></tbody></table></div>'
            '<p class="notes">Param #: weights + biases (trainable and non-trainable as Keras counts them). MACs: '
            "multiply-accumulates of conv, dense and attention products only; FLOPs = 2 x MACs. Shares are of the "
            "model's totals; each bar is drawn against the heaviest layer's share.</p>")


def diagram(report: Report, depth: int | None) -> str:
    from paramcalc.render.diagram import build_diagram, render_svg

    return f'<div class="diagram">{render_svg(build_diagram(report, depth), standalone=False)}</div>'


def conventions(report: Report) -> str:
    if report.free_dimensions:
        return ('<p class="muted">The other tools\' counts need numbers: the input has free dimensions '
                f"({escape(', '.join(report.free_dimensions))}).</p>")
    from paramcalc.render.conventions import conventions_table

    return tabular_html(conventions_table(report))


# ---- any table (compare, sweeps, --by-type, zoo) ----------------------------------------------------

def tabular_html(table: Tabular) -> str:
    head = "".join(f'<th class="{"num" if c.numeric else ""}">{escape(c.title)}</th>' for c in table.columns)
    body = []
    for rows, css in ((table.rows, ""), (table.footer, "total")):
        for row in rows:
            cells = "".join(f'<td class="{"num" if c.numeric else ""}">{escape(text)}</td>'
                            for c, text in zip(table.columns, table.cells(row)))
            body.append(f'<tr class="{css}">{cells}</tr>')
    notes = "".join(f'<p class="notes">{escape(note)}</p>' for note in table.notes)
    return f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{notes}'


def tabular_page(table: Tabular, pictures: Iterable[str] = ()) -> str:
    shown = [f'<div class="plot">{svg}</div>' for svg in pictures]
    return page(f"paramcalc: {table.title}", [f"<h1>{escape(table.title)}</h1>", tabular_html(table), *shown])


# ---- check ----------------------------------------------------------------------------------------------

def check_page(run: CheckRun) -> str:
    from paramcalc.check import Status
    from paramcalc.render.check_report import accept_note, summary_line

    verdict = "pass" if run.exit_code == 0 else "fail"
    body = [f'<h1>paramcalc check <span class="status {verdict}">{"passed" if verdict == "pass" else "failed"}'
            f"</span></h1>", f'<p class="muted">{escape(summary_line(run))}</p>']
    for spec in run.specs:
        body.append(f'<section class="spec" data-status="{spec.status.value}"><h3>'
                    f'<span class="status {spec.status.value}">{escape(spec.status.value)}</span> '
                    f"<code>{escape(spec.path)}</code>{' · ' + escape(spec.name) if spec.name else ''}</h3>")
        if spec.status is Status.ERROR and spec.error is not None:
            body.append(f"<pre>{escape(spec.error.describe())}</pre>")
        if spec.status is Status.UNCHECKED:
            body.append(f'<p class="muted">No expect: block{" (--strict: a failure)" if run.strict else ""}.</p>')
        if spec.figures or spec.changes:
            body.append(figures_table(spec))
        note = accept_note(spec, run)
        if note:
            body.append(f'<p class="notes">{escape(note)}</p>')
        body.append("</section>")
    if run.skipped:
        body += ["<h2>Skipped (not specs)</h2>", "<ul>"] + [f"<li><code>{escape(p)}</code></li>" for p in run.skipped]
        body.append("</ul>")
    return page("paramcalc check", body)


def figures_table(spec: SpecCheck) -> str:
    from paramcalc.render.check_report import difference_text, expected_text, value_text

    lines = source_lines(spec.path)
    rows = []
    for change in spec.changes:
        rows.append(f'<tr class="updated"><td>{escape(change.label)}</td><td class="num">{escape(change.old)}</td>'
                    f'<td class="num">{escape(change.new)}</td><td></td><td class="ok">updated</td>'
                    f"<td>{spec_line(change.loc.line, lines)}</td></tr>")
    changed = {change.label for change in spec.changes}
    for figure in spec.figures:
        if figure.expectation.label in changed:
            continue
        verdict = '<td class="ok">ok</td>' if figure.passed else '<td class="bad">FAIL</td>'
        rows.append(f'<tr class="{"pass" if figure.passed else "fail"}"><td>{escape(figure.expectation.label)}</td>'
                    f'<td class="num">{escape(expected_text(figure))}</td>'
                    f'<td class="num">{escape(value_text(figure.actual))}</td>'
                    f'<td class="num">{escape(difference_text(figure))}</td>{verdict}'
                    f"<td>{spec_line(line_of(figure), lines)}</td></tr>")
    return ('<table class="figures"><thead><tr><th>Figure</th><th class="num">Expected</th><th class="num">Got</th>'
            '<th class="num">Difference</th><th>Verdict</th><th>Spec line</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def line_of(figure: FigureCheck) -> int | None:
    return figure.expectation.loc.line


def source_lines(path: str) -> list[str]:
    """The spec's lines, to quote the one an expectation is written on (none for standard input)."""
    if not os.path.isfile(path):
        return []
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def spec_line(number: int | None, lines: list[str]) -> str:
    if number is None:
        return ""
    text = lines[number - 1].strip() if 0 < number <= len(lines) else ""
    return f'<span class="muted">line {number}:</span> <code>{escape(text)}</code>'
