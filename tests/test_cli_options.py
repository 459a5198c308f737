"""The CLI's shared machinery: output formats as enums converted at the edge, one output-options
decorator, one dispatcher per format family, check statuses, streams, and --traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

import paramcalc.cli as cli_module
from paramcalc.check import CheckRun, SpecCheck, Status
from paramcalc.cli import cli
from paramcalc.render.check_report import TALLY, render_check
from paramcalc.render.formats import CheckFormat, ReportFormat, render_report, unreachable
from paramcalc.render.tabular import Column, Tabular
from tests.conftest import ROOT, SPECS
from tests.test_startup import modules_after

LENET = str(SPECS / "lenet5.yaml")
MOBILENET = str(SPECS / "mobilenet_v1.yaml")
GRID = ("--in", "3", "--out", "4", "--kernel", "3", "--size", "8")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def format_choices(command: str) -> list[str] | None:
    options = {p.name: p for p in cli.commands[command].params}
    fmt = options.get("fmt")
    return None if fmt is None else list(fmt.type.choices)  # type: ignore[attr-defined]


# ---- formats: one enum per family, the --format choices are its members ------------------------------

@pytest.mark.parametrize(("command", "family"), [("summary", ReportFormat), ("compare", ReportFormat),
                                                 ("check", CheckFormat)])
def test_format_choices_are_the_family_members_and_the_first_is_the_default(command, family):
    assert format_choices(command) == [member.value for member in family]
    fmt = next(p for p in cli.commands[command].params if p.name == "fmt")
    assert fmt.default == list(family)[0].value


def test_commands_without_output_take_no_format():
    assert format_choices("explain") is None and format_choices("layers") is None


def test_width_only_where_a_table_has_one():
    def names(command: str) -> set[str | None]:
        return {p.name for p in cli.commands[command].params}

    assert {"width", "no_color"} <= names("summary") and {"width", "no_color"} <= names("compare")
    assert "no_color" in names("check") and "width" not in names("check")


@pytest.mark.parametrize("fmt", list(ReportFormat))
@pytest.mark.parametrize("args", [("summary", LENET), ("summary", "--by-type", LENET), ("compare", LENET),
                                  ("compare", *GRID), ("summary", "--set", "alpha=1,0.5", MOBILENET)],
                         ids=["summary", "by-type", "compare-spec", "compare-grid", "sweep"])
def test_every_report_format_renders_every_report_command(fmt, args):
    result = invoke(*args, "--format", fmt.value, "--width", "120")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() and not result.stderr
    if fmt is ReportFormat.JSON:
        json.loads(result.stdout)


@pytest.mark.parametrize("fmt", list(CheckFormat))
def test_every_check_format_renders(fmt):
    result = invoke("check", "--format", fmt.value, LENET)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(("1 spec: 1 passed, 0 failed, 0 unchecked, 0 unreadable", "}",
                                           "</testsuites>", "</html>"))


def test_an_unknown_format_is_a_usage_error_on_stderr():
    result = invoke("summary", "--format", "xml", LENET)
    assert result.exit_code == 2 and not result.stdout
    assert "'xml' is not one of 'table', 'json', 'csv', 'markdown'" in result.stderr


def test_render_report_dispatches_each_member_to_its_renderer():
    table = Tabular("T", [Column("a", "A")], [{"a": 1234}])
    assert render_report(table, ReportFormat.JSON) == table.json()
    assert render_report(table, ReportFormat.CSV) == "a\n1234"
    assert render_report(table, ReportFormat.MARKDOWN) == table.markdown()
    assert not isinstance(render_report(table, ReportFormat.TABLE), str)  # a rich renderable
    with pytest.raises(AssertionError, match="unhandled"):
        render_report(table, "xml")  # type: ignore[arg-type]  # not a member: never silently empty


def test_unreachable_names_the_value():
    with pytest.raises(AssertionError, match="str: 'x'"):
        unreachable("x")  # type: ignore[arg-type]


def test_the_format_reaches_the_command_as_its_enum_member(monkeypatch):
    seen = []

    def fake_render(run, fmt, tty):
        seen.append(fmt)
        return "rendered"

    monkeypatch.setattr("paramcalc.render.check_report.render_check", fake_render)
    result = invoke("check", "--format", "junit", LENET)
    assert result.stdout == "rendered\n" and seen == [CheckFormat.JUNIT] and seen[0] is CheckFormat.JUNIT


@pytest.mark.parametrize("args", [("check", "--format", "json", LENET), ("compare", "--format", "json", LENET),
                                  ("compare", "--format", "csv", *GRID)])
def test_machine_formats_do_not_load_rich(args):
    loaded = modules_after(*args)
    assert "rich.console" not in loaded and "rich.table" not in loaded


# ---- check statuses ------------------------------------------------------------------------------------

def test_the_tally_names_every_status_once():
    assert list(TALLY) == list(Status)
    run = CheckRun(tuple(SpecCheck(f"{s.value}.yaml", None, s) for s in Status))
    assert render_check(run, CheckFormat.TEXT, tty=False).endswith(
        "5 specs: 1 passed, 1 updated, 1 failed, 1 unchecked, 1 unreadable")
    data = json.loads(render_check(run, CheckFormat.JSON, tty=False))
    assert [spec["status"] for spec in data["specs"]] == ["pass", "updated", "fail", "unchecked", "error"]
    assert data["summary"] == {"specs": 5, "passed": 1, "updated": 1, "failed": 1, "unchecked": 1, "unreadable": 1,
                               "skipped": 0}


@pytest.mark.parametrize(("statuses", "strict", "code"), [
    ((Status.PASS,), False, 0), ((Status.UNCHECKED,), False, 0), ((Status.UNCHECKED,), True, 1),
    ((Status.PASS, Status.FAIL), False, 1), ((Status.FAIL, Status.ERROR), False, 2),
])
def test_exit_code_from_statuses(statuses, strict, code):
    run = CheckRun(tuple(SpecCheck("s.yaml", None, s) for s in statuses), strict)
    assert run.exit_code == code


# ---- streams: data on stdout, diagnostics on stderr ---------------------------------------------------

def test_update_reports_its_changes_with_the_result_on_stdout(tmp_path):
    spec = tmp_path / "lenet.yaml"
    spec.write_text(open(LENET).read().split("expect:")[0] + "expect:\n  params: 1\n")
    result = invoke("check", "--update", "--format", "json", str(spec))
    assert result.exit_code == 0 and result.stderr == ""
    data = json.loads(result.stdout)  # the changes are data: part of the report, in its format
    assert data["summary"]["updated"] == 1
    assert [(c["figure"], c["old"], c["new"]) for c in data["specs"][0]["changes"]] == [("params", "1", "61706")]


def test_compare_modes_refuse_mixed_or_missing_inputs_on_stderr():
    for args in [(LENET, *GRID), (), (LENET, LENET, LENET), ("--in", "3")]:
        result = invoke("compare", *args)
        assert result.exit_code == 2 and not result.stdout and "Error: " in result.stderr


# ---- --traceback --------------------------------------------------------------------------------------

def boom(*args, **kwargs):
    raise RuntimeError("boom")


def test_a_bug_is_one_paragraph_and_exit_2(monkeypatch):
    monkeypatch.delenv("PARAMCALC_TRACEBACK", raising=False)
    monkeypatch.setattr(cli_module, "show", boom)
    result = invoke("summary", LENET)
    assert result.exit_code == 2 and not result.stdout
    assert result.stderr.startswith("error: paramcalc failed unexpectedly (RuntimeError: boom). This is a bug")
    assert "`paramcalc --traceback" in result.stderr and result.stderr.count("\n") == 1


def test_traceback_option_lets_the_original_exception_through(monkeypatch):
    monkeypatch.delenv("PARAMCALC_TRACEBACK", raising=False)
    monkeypatch.setattr(cli_module, "show", boom)
    result = invoke("--traceback", "summary", LENET)
    assert isinstance(result.exception, RuntimeError) and str(result.exception) == "boom"
    assert result.exit_code == 1  # CliRunner's code for an exception that escaped


@pytest.mark.parametrize(("value", "shown"), [("1", True), ("0", False), ("", False)])
def test_traceback_environment_variable(monkeypatch, value, shown):
    monkeypatch.setenv("PARAMCALC_TRACEBACK", value)
    monkeypatch.setattr(cli_module, "show", boom)
    result = invoke("summary", LENET)
    assert isinstance(result.exception, RuntimeError) is shown


def test_traceback_does_not_change_spec_errors_or_usage_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [8, 8, 1]\nlayers: [{Conv2D: {filters: 4, kernel_size: 9}}]\n")
    spec_error = invoke("--traceback", "summary", str(bad))
    assert spec_error.exit_code == 2 and spec_error.stderr.startswith(f"{bad}:2:32: error: Conv2D")
    usage = invoke("--traceback", "compare")
    assert usage.exit_code == 2 and "give one SPEC" in usage.stderr


def test_check_exit_codes_pass_through_the_bug_handler(tmp_path):
    spec = tmp_path / "lenet.yaml"
    spec.write_text(open(LENET).read().split("expect:")[0] + "expect:\n  params: 1\n")
    assert invoke("check", str(spec)).exit_code == 1  # ctx.exit(1) is not a bug


# The real entry point in a fresh interpreter, with a bug planted in the rendering.
_PLANTED_BUG = """
import sys
import paramcalc.cli as cli
def boom(*args, **kwargs):
    raise RuntimeError("planted")
cli.show = boom
sys.argv[0] = "paramcalc"
cli.main()
"""


@pytest.mark.parametrize(("args", "env", "traceback"), [
    ((), {}, False), (("--traceback",), {}, True), ((), {"PARAMCALC_TRACEBACK": "1"}, True),
])
def test_traceback_through_the_entry_point(args, env, traceback):
    environ = {k: v for k, v in os.environ.items() if k != "PARAMCALC_TRACEBACK"} | env
    done = subprocess.run([sys.executable, "-c", _PLANTED_BUG, *args, "summary", LENET], capture_output=True,
                          text=True, cwd=ROOT, env=environ)
    assert not done.stdout
    if traceback:
        assert done.returncode == 1
        assert done.stderr.startswith("Traceback (most recent call last):")
        assert "in summary" in done.stderr and done.stderr.rstrip().endswith("RuntimeError: planted")
    else:
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr.startswith("error: paramcalc failed unexpectedly (RuntimeError: planted)")


def test_traceback_is_documented_in_the_main_help():
    help_text = invoke("--help").stdout
    assert "--traceback" in help_text and "PARAMCALC_TRACEBACK" in help_text


def test_output_options_decorator_builds_the_options_in_order():
    @click.command()
    @cli_module.output_options(CheckFormat, help="how")
    def command(fmt, terminal):
        click.echo(f"{fmt!r} {terminal}")

    params = [p.name for p in command.params]
    assert params == ["fmt", "width", "no_color"]
    out = CliRunner().invoke(command, ["--format", "github", "--width", "50", "--no-color"]).stdout
    assert out == "<CheckFormat.GITHUB: 'github'> Terminal(width=50, no_color=True)\n"
