"""Renderings of a `CheckRun`: plain lines, a rich table, JSON, JUnit XML, GitHub annotations, and
`render_check`, which picks one by `CheckFormat`."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

from paramcalc.check import CheckRun, FigureCheck, SpecCheck, Status
from paramcalc.render.formats import CheckFormat, unreachable
from paramcalc.render.numbers import shape_text, thousands

CHECK_SCHEMA_VERSION = 1

# How the tally names the specs of each status (also the keys of the JSON summary), in its order.
TALLY = {Status.PASS: "passed", Status.FAIL: "failed", Status.UNCHECKED: "unchecked", Status.ERROR: "unreadable"}


def render_check(run: CheckRun, fmt: CheckFormat, tty: bool) -> Any:
    """`run` in `fmt`: text, or (for text on a terminal) a rich renderable."""
    if fmt is CheckFormat.TEXT:
        return render_rich(run) if tty else render_lines(run)
    if fmt is CheckFormat.JSON:
        return render_json(run)
    if fmt is CheckFormat.JUNIT:
        return render_junit(run)
    if fmt is CheckFormat.GITHUB:
        return render_github(run)
    unreachable(fmt)


def value_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return shape_text(value)
    return thousands(value)


def expected_text(figure: FigureCheck) -> str:
    e = figure.expectation
    text = value_text(e.value)
    if e.rounded:
        text = f"{e.text} ({text})"
    if e.tolerance is not None:
        text += f" ± {e.tolerance.text}"
    return text


def difference_text(figure: FigureCheck) -> str:
    diff = figure.difference
    if diff is None:
        return figure.note or ("differs" if not figure.passed else "")
    if diff == 0:
        return "0"
    expected = figure.expectation.value
    percent = ""
    if isinstance(expected, int) and expected:
        share = 100 * diff / expected
        percent = f", {share:+.2f}%" if abs(share) >= 0.01 else f", {share:+.2g}%"
    return f"{diff:+,}{percent}"


def failure_line(spec: SpecCheck, figure: FigureCheck) -> str:
    where = figure.expectation.loc
    return f"{where}: {figure_message(figure)}"


def figure_message(figure: FigureCheck) -> str:
    return (f"{figure.expectation.label}: expected {expected_text(figure)}, got {value_text(figure.actual)} "
            f"({difference_text(figure)})")


def summary_line(run: CheckRun) -> str:
    parts = [f"{run.count(status)} {label}" for status, label in TALLY.items()]
    return f"{len(run.specs)} spec{'s' if len(run.specs) != 1 else ''}: " + ", ".join(parts)


def render_lines(run: CheckRun) -> str:
    """For pipes and logs: one line per failure or unreadable spec, then the tally."""
    lines = []
    for spec in run.specs:
        if spec.status is Status.ERROR and spec.error is not None:
            lines.append(spec.error.describe())
        elif spec.status is Status.UNCHECKED and run.strict:
            lines.append(f"{spec.path}: error: no `expect:` block (--strict)")
        lines += [failure_line(spec, f) for f in spec.failures]
    lines.append(summary_line(run))
    return "\n".join(lines)


def render_rich(run: CheckRun) -> Any:
    """The table of a terminal, laid out at its width (render/fit.py): each spec's path on a row of
    its own, its figures under it; figures whole, paths and labels folded when they must be."""
    from rich.console import Group
    from rich.text import Text

    from paramcalc.render.fit import FitTable, Prose, Row
    from paramcalc.render.layout import Fit, FitColumn

    columns = [FitColumn("Spec / figure", Fit.NAME, minimum=16), FitColumn("Expected", Fit.LIST, right=True, minimum=4),
               FitColumn("Actual", right=True), FitColumn("Difference", Fit.LIST, right=True, minimum=4),
               FitColumn("Verdict", Fit.LIST, minimum=4)]
    verdicts = {True: Text("ok", style="green"), False: Text("FAIL", style="bold red")}
    rows, errors = [], []
    for spec in run.specs:
        verdict: Text | str = ""
        if spec.status is Status.ERROR:
            verdict = Text("unreadable", style="bold red")
            errors.append([(spec.error.describe() if spec.error else "", "red")])
        elif spec.status is Status.UNCHECKED:
            verdict = Text("unchecked (no expect:)", style="bold red" if run.strict else "yellow")
        rows.append(Row([Text(spec.path, style="bold"), "", "", "", verdict]))
        for figure in spec.figures:
            rows.append(Row(["  " + figure.expectation.label, expected_text(figure), value_text(figure.actual),
                             difference_text(figure), verdicts[figure.passed]]))
    table = FitTable(columns, rows)
    return Group(table, Prose([*errors, [(summary_line(run), "bold")]], hang=""))


def run_dict(run: CheckRun) -> dict[str, Any]:
    return {
        "schema_version": CHECK_SCHEMA_VERSION,
        "exit_code": run.exit_code,
        "summary": {"specs": len(run.specs), **{label: run.count(status) for status, label in TALLY.items()}},
        "specs": [
            {
                "path": spec.path,
                "name": spec.name,
                "status": spec.status.value,
                "error": spec.error.describe() if spec.error else None,
                "checks": [
                    {
                        "figure": f.expectation.figure,
                        "layer": f.expectation.layer,
                        "expected": list(f.expectation.value) if isinstance(f.expectation.value, tuple)
                        else f.expectation.value,
                        "expected_text": f.expectation.text,
                        "tolerance": f.expectation.tolerance.text if f.expectation.tolerance else None,
                        "actual": list(f.actual) if isinstance(f.actual, tuple) else f.actual,
                        "difference": f.difference,
                        "passed": f.passed,
                        "line": f.expectation.loc.line,
                        "column": f.expectation.loc.column,
                    }
                    for f in spec.figures
                ],
            }
            for spec in run.specs
        ],
    }


def render_json(run: CheckRun) -> str:
    return json.dumps(run_dict(run), indent=2)


def render_junit(run: CheckRun) -> str:
    cases = []
    for spec in run.specs:
        if spec.status is Status.ERROR:
            case = ElementTree.Element("testcase", classname=spec.path, name="read spec")
            message = spec.error.describe() if spec.error else "unreadable"
            ElementTree.SubElement(case, "error", message=message, type="SpecError").text = message
            cases.append(case)
        elif spec.status is Status.UNCHECKED:
            case = ElementTree.Element("testcase", classname=spec.path, name="expect")
            tag = "failure" if run.strict else "skipped"
            ElementTree.SubElement(case, tag, message="no expect: block")
            cases.append(case)
        for figure in spec.figures:
            case = ElementTree.Element("testcase", classname=spec.path, name=figure.expectation.label)
            if not figure.passed:
                line = failure_line(spec, figure)
                ElementTree.SubElement(case, "failure", message=line, type="mismatch").text = line
            cases.append(case)
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    suite = ElementTree.Element("testsuite", name="paramcalc check", tests=str(len(cases)), failures=str(failures),
                                errors=str(errors), skipped=str(skipped))
    suite.extend(cases)
    root = ElementTree.Element("testsuites", name="paramcalc", tests=str(len(cases)), failures=str(failures),
                               errors=str(errors), skipped=str(skipped))
    root.append(suite)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(path: str, line: int | None, column: int | None, message: str) -> str:
    props = [f"file={_escape_property(path)}"]
    if line is not None:
        props.append(f"line={line}")
    if column is not None:
        props.append(f"col={column}")
    props.append("title=paramcalc check")
    return f"::error {','.join(props)}::{_escape_data(message)}"


def render_github(run: CheckRun) -> str:
    """GitHub Actions workflow commands, each pointing at the `expect:` line that failed."""
    lines = []
    for spec in run.specs:
        if spec.status is Status.ERROR and spec.error is not None:
            for error in spec.error.each():
                loc = error.loc
                lines.append(annotation(spec.path, loc.line if loc else None, loc.column if loc else None,
                                        error.message + (f" Fix: {error.hint}" if error.hint else "")))
        elif spec.status is Status.UNCHECKED and run.strict:
            lines.append(annotation(spec.path, 1, None, "no expect: block (--strict)"))
        for figure in spec.failures:
            loc = figure.expectation.loc
            lines.append(annotation(spec.path, loc.line, loc.column, figure_message(figure)))
    lines.append(summary_line(run))
    return "\n".join(lines)
