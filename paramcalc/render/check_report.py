"""Renderings of a `CheckRun`: plain lines, a rich table, JSON, JUnit XML, GitHub annotations, and
`render_check`, which picks one by `CheckFormat`."""

from __future__ import annotations

import json
import shlex
from typing import Any
from xml.etree import ElementTree

from paramcalc.check import Change, CheckRun, FigureCheck, SpecCheck, Status, class_name, plural, repository_path
from paramcalc.errors import ParamcalcError
from paramcalc.render.formats import CheckFormat, unreachable
from paramcalc.render.numbers import shape_text, thousands

CHECK_SCHEMA_VERSION = 2  # 2: the `updated` status with `changes`, `accept`, and the skipped YAML files

# How the tally names the specs of each status (also the keys of the JSON summary), in its order.
TALLY = {Status.PASS: "passed", Status.UPDATED: "updated", Status.FAIL: "failed", Status.UNCHECKED: "unchecked",
         Status.ERROR: "unreadable"}


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
    if fmt is CheckFormat.HTML:
        from paramcalc.render.html_report import check_page

        return check_page(run)
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
    return f"{figure.expectation.loc}: {figure_message(figure)}"


def figure_message(figure: FigureCheck) -> str:
    return (f"{figure.expectation.label}: expected {expected_text(figure)}, got {value_text(figure.actual)} "
            f"({difference_text(figure)})")


def change_message(change: Change) -> str:
    if change.label == "expect":
        return f"expect: block written ({change.new})"
    return f"{change.label}: {change.old} -> {change.new} (updated)"


def accept_command(spec: SpecCheck, run: CheckRun) -> str | None:
    """How to accept the computed figures of a failing spec, or None if --update would not help (a
    figure names a layer that is gone) or the spec does not fail."""
    unchecked = spec.status is Status.UNCHECKED and run.strict
    if not (unchecked or (spec.status is Status.FAIL and spec.updatable)):
        return None
    convention = f" --convention {run.convention}" if run.convention != "paper" else ""
    return f"paramcalc check --update{convention} {shlex.quote(spec.path)}"


def accept_note(spec: SpecCheck, run: CheckRun) -> str | None:
    command = accept_command(spec, run)
    if command is None:
        return None
    what = "write an expect: block" if spec.status is Status.UNCHECKED else "accept the computed figures"
    return f"to {what}, run: {command}"


def summary_line(run: CheckRun) -> str:
    parts = [f"{run.count(status)} {label}" for status, label in TALLY.items()
             if status is not Status.UPDATED or run.count(status)]
    line = f"{plural(len(run.specs), 'spec')}: " + ", ".join(parts)
    if run.skipped:
        line += f"; {plural(len(run.skipped), 'YAML file')} skipped: not specs"
    return line


def render_lines(run: CheckRun) -> str:
    """For pipes and logs: one line per failure, update or unreadable spec, a note per failing spec
    on how to accept its figures, then the tally."""
    lines = []
    for spec in run.specs:
        if spec.status is Status.ERROR and spec.error is not None:
            lines.append(spec.error.describe())
        elif spec.status is Status.UNCHECKED and run.strict:
            lines.append(f"{spec.path}: error: no `expect:` block (--strict)")
        lines += [failure_line(spec, f) for f in spec.failures]
        lines += [f"{change.loc}: {change_message(change)}" for change in spec.changes]
        note = accept_note(spec, run)
        if note:
            lines.append(f"{spec.path}: note: {note}")
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
        changed = {change.label for change in spec.changes}
        for change in spec.changes:
            rows.append(Row(["  " + change.label, change.old, change.new, "", Text("updated", style="cyan")]))
        for figure in spec.figures:
            if figure.expectation.label not in changed:
                rows.append(Row(["  " + figure.expectation.label, expected_text(figure), value_text(figure.actual),
                                 difference_text(figure), verdicts[figure.passed]]))
        note = accept_note(spec, run)
        if note:
            errors.append([(f"{spec.path}: {note}", "")])
    table = FitTable(columns, rows)
    return Group(table, Prose([*errors, [(summary_line(run), "bold")]], hang=""))


def value_json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def run_dict(run: CheckRun) -> dict[str, Any]:
    return {
        "schema_version": CHECK_SCHEMA_VERSION,
        "exit_code": run.exit_code,
        "summary": {"specs": len(run.specs), **{label: run.count(status) for status, label in TALLY.items()},
                    "skipped": len(run.skipped)},
        "skipped": list(run.skipped),  # YAML files in the folders searched that are plainly not specs
        "specs": [
            {
                "path": spec.path,
                "name": spec.name,
                "status": spec.status.value,
                "error": spec.error.describe() if spec.error else None,
                "accept": accept_command(spec, run),
                "checks": [
                    {
                        "figure": f.expectation.figure,
                        "layer": f.expectation.layer,
                        "expected": value_json(f.expectation.value),
                        "expected_text": f.expectation.text,
                        "tolerance": f.expectation.tolerance.text if f.expectation.tolerance else None,
                        "actual": value_json(f.actual),
                        "difference": f.difference,
                        "passed": f.passed,
                        "line": f.expectation.loc.line,
                        "column": f.expectation.loc.column,
                    }
                    for f in spec.figures
                ],
                "changes": [{"figure": c.label, "old": c.old, "new": c.new, "line": c.loc.line,
                             "column": c.loc.column} for c in spec.changes],
            }
            for spec in run.specs
        ],
    }


def render_json(run: CheckRun) -> str:
    return json.dumps(run_dict(run), indent=2)


# ---- JUnit XML, valid under Jenkins xunit's junit-10.xsd (tests/schemas/junit-10.xsd) ------------------

def seconds(value: float) -> str:
    return f"{value:.3f}"  # the schema's SUREFIRE_TIME: digits, at most three decimals


def junit_cases(spec: SpecCheck, run: CheckRun) -> list[ElementTree.Element]:
    """One test case per expected figure (or one for a spec that cannot be read or has no block)."""
    classname = class_name(spec.path)
    cases = []
    if spec.status is Status.ERROR:
        case = ElementTree.Element("testcase", classname=classname, name="read spec")
        message = spec.error.describe() if spec.error else "unreadable"
        ElementTree.SubElement(case, "error", message=message, type="SpecError").text = message
        cases.append(case)
    elif spec.status is Status.UNCHECKED:
        case = ElementTree.Element("testcase", classname=classname, name="expect")
        if run.strict:
            message = f"{spec.path}: no expect: block (--strict)"
            ElementTree.SubElement(case, "failure", message=message, type="unchecked").text = \
                f"{message}\n{accept_note(spec, run)}"
        else:
            ElementTree.SubElement(case, "skipped", message="no expect: block")
        cases.append(case)
    note = accept_note(spec, run) if spec.status is Status.FAIL else None
    for figure in spec.figures:
        case = ElementTree.Element("testcase", classname=classname, name=figure.expectation.label)
        if not figure.passed:
            line = failure_line(spec, figure)
            failure = ElementTree.SubElement(case, "failure", message=line, type="mismatch")
            failure.text = f"{line}\n{note}" if note else line
            note = None  # said once per spec
        cases.append(case)
    share = spec.seconds / len(cases) if cases else 0.0  # one computation checks every figure
    for case in cases:
        case.set("time", seconds(share))
    return cases


def render_junit(run: CheckRun) -> str:
    """A <testsuite> per spec (its dotted name, `file`, and a test case per figure) in <testsuites>."""
    root = ElementTree.Element("testsuites", name="paramcalc check")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for spec in run.specs:
        cases = junit_cases(spec, run)
        counts = {"tests": len(cases), "failures": sum(1 for c in cases if c.find("failure") is not None),
                  "errors": sum(1 for c in cases if c.find("error") is not None)}
        attributes = {"name": class_name(spec.path), **{key: str(value) for key, value in counts.items()},
                      "skipped": str(sum(1 for c in cases if c.find("skipped") is not None)),
                      "time": seconds(spec.seconds), "file": repository_path(spec.path)}
        suite = ElementTree.SubElement(root, "testsuite", attributes)
        suite.extend(cases)
        if spec.changes:
            ElementTree.SubElement(suite, "system-out").text = "\n".join(
                f"{change.loc}: {change_message(change)}" for change in spec.changes)
        for key, value in counts.items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", seconds(sum(spec.seconds for spec in run.specs)))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode")


# ---- GitHub Actions workflow commands ---------------------------------------------------------------------

def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(path: str, line: int | None, column: int | None, title: str, message: str,
               level: str = "error") -> str:
    props = [f"file={_escape_property(path)}"]
    if line is not None:
        props.append(f"line={line}")
    if column is not None:
        props.append(f"col={column}")
    props.append(f"title={_escape_property(title)}")
    return f"::{level} {','.join(props)}::{_escape_data(message)}"


def error_text(error: ParamcalcError) -> str:
    """An error's message and fix without its place (the annotation gives the place)."""
    text = error.describe()
    prefix = f"{error.loc}: error: " if error.loc else "error: "
    return text.removeprefix(prefix)


def github_annotation(spec: SpecCheck, run: CheckRun) -> str | None:
    """One annotation per spec that fails, cannot be read or was updated (GitHub shows about ten
    per step), on the line of its first problem, listing them all."""
    path = repository_path(spec.path)
    note = accept_note(spec, run)
    if spec.status is Status.ERROR and spec.error is not None:
        errors = spec.error.each()
        first = errors[0].loc
        lines = [(f"line {e.loc.line}: " if e.loc and e.loc.line else "") + error_text(e) for e in errors]
        return annotation(path, first.line if first else None, first.column if first else None,
                          f"paramcalc check: {plural(len(errors), 'error')}", "\n".join(lines))
    if spec.status is Status.UNCHECKED and run.strict:
        return annotation(path, 1, None, "paramcalc check: no expect: block",
                          f"no expect: block (--strict)\n{note}")
    if spec.status is Status.FAIL:
        failures = spec.failures
        first = failures[0].expectation.loc
        lines = [f"line {f.expectation.loc.line}: {figure_message(f)}" for f in failures] + ([note] if note else [])
        verb = "differs" if len(failures) == 1 else "differ"
        return annotation(path, first.line, first.column, f"paramcalc check: {plural(len(failures), 'figure')} {verb}",
                          "\n".join(lines))
    if spec.status is Status.UPDATED:
        first = spec.changes[0].loc
        lines = [f"line {c.loc.line}: {change_message(c)}" for c in spec.changes]
        return annotation(path, first.line, None, "paramcalc check --update", "\n".join(lines), level="notice")
    return None


def render_github(run: CheckRun) -> str:
    """GitHub Actions workflow commands: one annotation per spec that needs attention, then the tally."""
    lines = [text for text in (github_annotation(spec, run) for spec in run.specs) if text]
    lines.append(summary_line(run))
    return "\n".join(lines)
