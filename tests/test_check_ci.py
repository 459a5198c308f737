"""`paramcalc check` in CI (issue 16): folders searched for specs rather than YAML, the pre-commit
hook, JUnit XML valid under Jenkins xunit's junit-10.xsd, GitHub annotations that attach to the file,
the note that says how to accept new figures, and --update keeping the way a figure is written.

tests/schemas/junit-10.xsd is the schema CI servers validate JUnit files with (provenance in
tests/schemas/README.md)."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import ROOT, SPECS

xmlschema = pytest.importorskip("xmlschema")  # a test dependency (pyproject.toml's `test` extra)

SCHEMA = ROOT / "tests" / "schemas" / "junit-10.xsd"
LENET = (SPECS / "lenet5.yaml").read_text(encoding="utf-8").split("expect:")[0]  # 15 lines, no expect block
WORKFLOW = """\
name: ci
on:
  workflow_dispatch:
    inputs:
      level: {type: string}
jobs:
  test: {runs-on: ubuntu-latest, steps: [{run: make}]}
"""
CONFIG = "debug: true\nlevels: [1, 2]\n"  # `levels:`, not `layers:`


def check(*args: str, env: dict[str, str | None] | None = None):
    return CliRunner(env=env).invoke(cli, ["check", *args])


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def lenet(path: Path, expect: str) -> str:
    return write(path, LENET + "expect:\n" + expect)


# -- which files a folder search takes -----------------------------------------------------------------

def test_a_folder_search_skips_hidden_folders_and_counts_the_yaml_that_is_not_a_spec(tmp_path):
    lenet(tmp_path / "specs" / "lenet.yaml", "  params: 61706\n")
    write(tmp_path / "specs" / "flow.yml", "{input: [4], layers: [{Dense: 2}], expect: {params: 10}}\n")
    write(tmp_path / ".github" / "workflows" / "ci.yml", WORKFLOW)  # hidden folder: not searched at all
    write(tmp_path / ".venv" / "lib" / "broken.yaml", "input: [4\n")
    write(tmp_path / ".hidden.yaml", "input: [4\n")
    write(tmp_path / "config" / "settings.yaml", CONFIG)
    write(tmp_path / "docker-compose.yml", "services:\n  web:\n    image: nginx\n")
    write(tmp_path / "notes.txt", "layers: not YAML")
    result = check(str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == \
        "2 specs: 2 passed, 0 failed, 0 unchecked, 0 unreadable; 2 YAML files skipped: not specs"

    data = json.loads(check("--format", "json", str(tmp_path)).stdout)
    assert [Path(s["path"]).relative_to(tmp_path).as_posix() for s in data["specs"]] == \
        ["specs/flow.yml", "specs/lenet.yaml"]
    assert [Path(p).relative_to(tmp_path).as_posix() for p in data["skipped"]] == \
        ["config/settings.yaml", "docker-compose.yml"]
    assert data["summary"]["skipped"] == 2


def test_a_broken_spec_in_a_folder_is_still_checked(tmp_path):
    write(tmp_path / "no_input.yaml", "layers:\n  - Dense: 10\n")  # a spec (it has layers:) with a mistake
    write(tmp_path / "unclosed.yaml", "input: [4\nlayers: [Flatten]\n")
    result = check(str(tmp_path))
    assert result.exit_code == 2
    assert "no_input.yaml:1:1: error: the spec has no `input:`" in result.stdout
    assert "unclosed.yaml:" in result.stdout and result.stdout.splitlines()[-1].endswith("2 unreadable")


def test_a_file_named_on_the_command_line_is_checked_even_when_it_is_not_a_spec(tmp_path):
    settings = write(tmp_path / "settings.yaml", CONFIG)
    result = check(settings)
    assert result.exit_code == 2
    assert result.stdout.startswith(f"{settings}:1:1: error: unknown top-level key `debug`")


def test_skip_non_specs_passes_over_named_yaml_files_that_are_not_specs(tmp_path):
    workflow = write(tmp_path / "ci.yml", WORKFLOW)
    settings = write(tmp_path / "settings.yaml", CONFIG)
    spec = lenet(tmp_path / "lenet.yaml", "  params: 61706\n")
    result = check("--skip-non-specs", workflow, settings, spec)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == \
        "1 spec: 1 passed, 0 failed, 0 unchecked, 0 unreadable; 2 YAML files skipped: not specs"
    only = check("--skip-non-specs", workflow)
    assert only.exit_code == 0
    assert only.stdout == "0 specs: 0 passed, 0 failed, 0 unchecked, 0 unreadable; 1 YAML file skipped: not specs\n"
    broken = write(tmp_path / "broken.yaml", "input: [4\n")  # a spec all the same: it is checked
    assert check("--skip-non-specs", workflow, broken).exit_code == 2


def test_a_folder_without_specs_is_an_error_that_says_what_it_holds(tmp_path):
    write(tmp_path / "settings.yaml", CONFIG)
    result = check(str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{tmp_path}: error: the folder `{tmp_path}` holds no spec (1 YAML file, none "
                                    "of them a spec). Fix: point paramcalc check at spec files")


def test_the_pre_commit_hook_takes_every_yaml_file_and_skips_those_that_are_not_specs(tmp_path):
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "paramcalc-check" and hook["types"] == ["yaml"] and "files" not in hook
    program, *args = shlex.split(hook["entry"])
    assert program == "paramcalc" and args == ["check", "--skip-non-specs"]
    # What pre-commit runs when a commit touches a workflow, a config file and a spec:
    files = [write(tmp_path / ".github" / "workflows" / "ci.yml", WORKFLOW), write(tmp_path / "settings.yaml", CONFIG),
             lenet(tmp_path / "specs" / "lenet.yaml", "  params: 61706\n")]
    result = CliRunner().invoke(cli, [*args, *files])
    assert result.exit_code == 0, result.output
    drifted = lenet(tmp_path / "specs" / "lenet.yaml", "  params: 61000\n")
    assert CliRunner().invoke(cli, [*args, *files[:2], drifted]).exit_code == 1


# -- JUnit XML -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema10(str(SCHEMA))


def mixed_folder(tmp_path: Path) -> Path:
    """A pass, a failure, an unreadable spec and one without an expect: block."""
    lenet(tmp_path / "good.yaml", "  params: 61706\n  output_shape: [null, 10]\n")
    lenet(tmp_path / "drifted.yaml", "  params: 61700\n  macs: {value: 400K, tolerance: 1%}\n  layers:\n"
          "    conv2d: {params: 156}\n")
    write(tmp_path / "broken.yaml", "input: [28, 28, 1]\nlayers: [Conv2DD]\n")
    write(tmp_path / "plain.yaml", LENET)
    return tmp_path


@pytest.mark.parametrize("options", [[], ["--strict"], ["--update"], ["--strict", "--update"]])
def test_junit_is_valid_under_jenkins_junit_10_xsd(tmp_path, schema, options):
    folder = mixed_folder(tmp_path)
    result = check("--format", "junit", *options, str(folder))
    assert result.exit_code == 2  # the unreadable spec
    schema.validate(result.stdout)  # raises, naming the element and the rule, if anything is refused
    root = ElementTree.fromstring(result.stdout)
    assert root.tag == "testsuites" and root.get("skipped") is None


def test_junit_counts_a_failure_an_error_and_a_skipped_spec(tmp_path, schema):
    root = ElementTree.fromstring(check("--format", "junit", str(mixed_folder(tmp_path))).stdout)
    assert {key: root.get(key) for key in ("tests", "failures", "errors")} == {"tests": "7", "failures": "2",
                                                                             "errors": "1"}
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    prefix = ".".join(part.replace(".", "_") for part in tmp_path.parts[1:])  # outside any repository: as given
    assert list(suites) == [f"{prefix}.{name}" for name in ("broken", "drifted", "good", "plain")]
    counts = {name.rsplit(".", 1)[1]: [suite.get(k) for k in ("tests", "failures", "errors", "skipped")]
              for name, suite in suites.items()}
    assert counts == {"broken": ["1", "0", "1", "0"], "drifted": ["3", "2", "0", "0"], "good": ["2", "0", "0", "0"],
                      "plain": ["1", "0", "0", "1"]}


def test_junit_names_each_spec_like_a_class_with_its_file_and_times(monkeypatch, schema):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    for given in ("specs/resnet50.yaml", str(SPECS / "resnet50.yaml")):  # relative or absolute: the same names
        text = check("--format", "junit", given, "zoo:lenet5").stdout
        schema.validate(text)
        root = ElementTree.fromstring(text)
        resnet, zoo = root.findall("testsuite")
        assert (resnet.get("name"), resnet.get("file")) == ("specs.resnet50", "specs/resnet50.yaml")
        assert (zoo.get("name"), zoo.get("file")) == ("zoo.lenet5", "zoo:lenet5")
        cases = resnet.findall("testcase")
        assert [(c.get("classname"), c.get("name")) for c in cases] == [
            ("specs.resnet50", "params"), ("specs.resnet50", "non_trainable_params")]
        times = [float(element.get("time", "")) for element in (root, resnet, *cases)]
        assert all(re.fullmatch(r"\d+\.\d{3}", element.get("time", "")) for element in root.iter()
                   if element.tag in ("testsuites", "testsuite", "testcase"))
        assert times[1] > 0 and abs(sum(times[2:]) - times[1]) <= 0.001 * len(cases)


def test_junit_failures_locate_the_figure_and_say_once_how_to_accept(tmp_path):
    path = lenet(tmp_path / "drifted.yaml", "  params: 61700\n  macs: 416000\n")
    root = ElementTree.fromstring(check("--format", "junit", path).stdout)
    first, second = root.iter("failure")
    assert first.get("message") == f"{path}:16:11: params: expected 61,700, got 61,706 (+6, +0.0097%)"
    assert first.text == f"{first.get('message')}\nto accept the computed figures, run: paramcalc check --update {path}"
    assert second.text == second.get("message") and second.get("message", "").startswith(f"{path}:17:9: macs:")


def test_the_schema_refuses_what_paramcalc_no_longer_writes(schema):
    """Why the output looks the way it does: junit-10.xsd refuses `skipped` on <testsuites> (what
    paramcalc wrote before) and `file` or `line` on a <testcase>; <testsuite> takes a `file`."""
    case = '<testcase classname="specs.x" name="params" {}/>'
    suite = '<testsuites><testsuite name="specs.x" tests="1" failures="0" errors="0" {}>{}</testsuite></testsuites>'
    assert schema.is_valid(suite.format('file="specs/x.yaml"', case.format('time="0.001" ')))
    assert not schema.is_valid(suite.format("", case.format('file="specs/x.yaml" ')))
    assert not schema.is_valid(suite.format("", case.format('line="16" ')))
    assert not schema.is_valid('<testsuites skipped="0"/>')
    assert not schema.is_valid(suite.format('time="0.0001"', case.format("")))  # three decimals at most


# -- GitHub annotations ------------------------------------------------------------------------------------

def test_github_paths_are_relative_to_the_repository_root(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    lenet(repo / "models" / "a.yaml", "  params: 1\n")
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.chdir(repo / "models")
    assert check("--format", "github", "a.yaml").stdout.startswith("::error file=models/a.yaml,line=16,col=11,")
    monkeypatch.chdir(tmp_path)
    assert check("--format", "github", "repo/models/a.yaml").stdout.startswith("::error file=models/a.yaml,")
    # In GitHub Actions the workspace is the root, whatever the folder or the path given.
    outside = check("--format", "github", str(repo / "models" / "a.yaml"), env={"GITHUB_WORKSPACE": str(repo)})
    assert outside.stdout.startswith("::error file=models/a.yaml,")


def test_one_annotation_per_failing_spec_lists_its_figures(tmp_path):
    one = lenet(tmp_path / "one.yaml", "  params: 61700\n  macs: 416520\n  flops: 1\n  output_shape: [null, 9]\n")
    two = lenet(tmp_path / "two.yaml", "  layers:\n    conv2d: {params: 150}\n")
    good = lenet(tmp_path / "good.yaml", "  params: 61706\n")
    result = check("--format", "github", one, good, two)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3  # two annotations, then the tally
    assert lines[0] == (
        f"::error file={one},line=16,col=11,title=paramcalc check%3A 3 figures differ::"
        "line 16: params: expected 61,700, got 61,706 (+6, +0.0097%25)%0A"
        "line 18: flops: expected 1, got 833,040 (+833,039, +83303900.00%25)%0A"
        "line 19: output_shape: expected (None, 9), got (None, 10) (differs)%0A"
        f"to accept the computed figures, run: paramcalc check --update {one}")
    assert lines[1].startswith(f"::error file={two},line=17,col=22,title=paramcalc check%3A 1 figure differs::"
                               "line 17: layers.conv2d.params: expected 150, got 156")
    assert lines[2] == "3 specs: 1 passed, 2 failed, 0 unchecked, 0 unreadable"


def test_an_unreadable_spec_is_one_annotation_with_every_mistake():
    result = check("--format", "github", str(ROOT / "tests" / "bad_specs" / "several_mistakes.yaml"))
    assert result.exit_code == 2
    annotation, tally = result.stdout.splitlines()
    assert annotation.startswith("::error file=tests/bad_specs/several_mistakes.yaml,line=11,col=26,"
                                 "title=paramcalc check%3A 4 errors::line 11: Conv2D has no argument `kernal_size`. "
                                 "Fix: did you mean `kernel_size`")
    assert [int(n) for n in re.findall(r"(?:::|%0A)line (\d+): ", annotation)] == [11, 12, 14, 15]
    assert tally == "1 spec: 0 passed, 0 failed, 0 unchecked, 1 unreadable"


# -- saying how to accept new figures --------------------------------------------------------------------

def test_every_failing_spec_says_once_how_to_accept_its_figures(tmp_path):
    spaced = lenet(tmp_path / "my specs" / "a.yaml", "  params: 1\n  macs: 2\n")
    gone = lenet(tmp_path / "gone.yaml", "  layers:\n    conv9: {params: 1}\n")  # --update cannot fix this
    plain = write(tmp_path / "plain.yaml", LENET)
    notes = [line for line in check(spaced, gone, plain).stdout.splitlines() if ": note: " in line]
    assert notes == [f"{spaced}: note: to accept the computed figures, run: paramcalc check --update "
                     f"'{spaced}'"]
    strict = [line for line in check("--strict", plain).stdout.splitlines() if ": note: " in line]
    assert strict == [f"{plain}: note: to write an expect: block, run: paramcalc check --update {plain}"]
    fvcore = check("--convention", "fvcore", "--format", "json", spaced)
    assert json.loads(fvcore.stdout)["specs"][0]["accept"] == \
        f"paramcalc check --update --convention fvcore '{spaced}'"


def test_the_table_on_a_terminal_says_it_too(tmp_path):
    from rich.console import Console

    from paramcalc.check import check_paths
    from paramcalc.render.check_report import render_check
    from paramcalc.render.formats import CheckFormat

    path = lenet(tmp_path / "a.yaml", "  params: 1\n")
    out = io.StringIO()
    Console(file=out, width=300, no_color=True).print(render_check(check_paths([path]), CheckFormat.TEXT, tty=True))
    text = out.getvalue()
    assert text.count("paramcalc check --update") == 1
    assert f"{path}: to accept the computed figures, run: paramcalc check --update {path}" in text


# -- --update ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("written, rewritten", [
    ("61700", "61706"),
    ("61_700", "61_706"),
    ("6_1700", "61706"),  # not grouped by thousands: written plainly
    ('"61,700"', '"61,706"'),
    ("'61,700'", "'61,706'"),
    ("61700.0", "61706.0"),
    ("617e2", "61706"),  # no trailing zeros to write as a power of ten
    ("{value: 60K, tolerance: 1%}", "{value: 62K, tolerance: 1%}"),
    ("{value: 50.0K, tolerance: 0.01%}", "{value: 61.7K, tolerance: 0.01%}"),
    ("{value: 0.07M, tolerance: 1%}", "{value: 0.062M, tolerance: 1%}"),  # 0.06M would be 2.8% off: one more decimal
])
def test_update_writes_a_figure_the_way_it_was_written(tmp_path, written, rewritten):
    path = lenet(tmp_path / "a.yaml", f"  params: {written}  # from the paper\n  macs: 416e3\n")
    result = check("--update", path)
    assert result.exit_code == 0, result.output
    assert Path(path).read_text(encoding="utf-8").endswith(
        f"expect:\n  params: {rewritten}  # from the paper\n  macs: 41652e1\n")
    assert check(path).exit_code == 0


def test_update_keeps_a_rounded_billion_rounded(tmp_path):
    text = (SPECS / "gpt3.yaml").read_text(encoding="utf-8")
    assert "params: {value: 175.0B, tolerance: 0.5%}" in text
    path = write(tmp_path / "gpt3.yaml", text.replace("{value: 175.0B", "{value: 180.0B").replace(
        "[null, 2048, 12288]", "[null, 2048, 1]"))
    result = check("--update", path)
    assert result.exit_code == 0, result.output
    assert Path(path).read_text(encoding="utf-8") == text.replace("{value: 175.0B", "{value: 174.6B")
    line = text[:text.index("{value: 175.0B")].count("\n") + 1
    assert result.stdout.splitlines()[0] == f"{path}:{line}:19: params: 180.0B -> 174.6B (updated)"


def test_update_keeps_the_readmes_example_rounded(tmp_path):
    text = (SPECS / "mobilenet_v2.yaml").read_text(encoding="utf-8")
    expect = re.search(r"^expect:\n(  .*\n)*", text, re.MULTILINE)
    assert expect is not None
    path = write(tmp_path / "mobilenet_v2.yaml", text[:expect.start()] + "expect:\n  params: {value: 4.2M, "
                 "tolerance: 5%}\n" + text[expect.end():])
    assert check("--update", path).exit_code == 0
    assert "expect:\n  params: {value: 3.5M, tolerance: 5%}\n" in Path(path).read_text(encoding="utf-8")


def test_update_reports_updated_not_passed(tmp_path):
    drifted = lenet(tmp_path / "drifted.yaml", "  params: 61_000\n")
    good = lenet(tmp_path / "good.yaml", "  params: 61706\n")
    plain = write(tmp_path / "plain.yaml", LENET)
    result = check("--update", drifted, good, plain)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{drifted}:16:11: params: 61_000 -> 61_706 (updated)",
        f"{plain}:15:1: expect: block written (params, macs, output_shape)",
        "3 specs: 1 passed, 2 updated, 0 failed, 0 unchecked, 0 unreadable"]
    data = json.loads(check("--format", "json", "--update", drifted).stdout)  # now it holds: nothing to write
    assert data["specs"][0]["status"] == "pass" and data["summary"]["updated"] == 0
    lenet(Path(drifted), "  params: 1\n")
    data = json.loads(check("--format", "json", "--update", drifted).stdout)
    assert (data["specs"][0]["status"], data["specs"][0]["changes"], data["summary"]["updated"]) == (
        "updated", [{"figure": "params", "old": "1", "new": "61706", "line": 16, "column": 11}], 1)


def test_update_shows_as_a_notice_and_system_out_in_ci_formats(tmp_path, schema):
    path = lenet(tmp_path / "a.yaml", "  params: 1\n")
    assert check("--format", "github", "--update", path).stdout.splitlines()[0] == (
        f"::notice file={path},line=16,title=paramcalc check --update::line 16: params: 1 -> 61706 (updated)")
    lenet(Path(path), "  params: 1\n")
    junit = check("--format", "junit", "--update", path).stdout
    schema.validate(junit)
    updated = ElementTree.fromstring(junit).findtext("testsuite/system-out")
    assert updated == f"{path}:16:11: params: 1 -> 61706 (updated)"


def test_update_counts_macs_under_the_convention_check_compares_them_with(tmp_path):
    path = lenet(tmp_path / "a.yaml", "  macs: 1\n")
    assert check("--update", "--convention", "thop", path).exit_code == 0
    summary = CliRunner().invoke(cli, ["summary", "--format", "json", "--convention", "thop", path])
    thop = json.loads(summary.stdout)["convention"]["total"]
    assert Path(path).read_text(encoding="utf-8").endswith(f"  macs: {thop}\n") and thop != 416520  # pooling too
    assert check("--convention", "thop", path).exit_code == 0


def test_update_leaves_a_figure_of_a_layer_that_is_gone_to_a_person(tmp_path):
    path = lenet(tmp_path / "a.yaml", "  params: 1\n  layers:\n    conv9: {params: 1}\n")
    result = check("--update", path)
    assert result.exit_code == 1
    assert "params: 1 -> 61706 (updated)" in result.stdout and "the model has no layer named `conv9`" in result.stdout
    assert "1 spec: 0 passed, 1 failed" in result.stdout


def test_update_refuses_a_bundled_spec():
    from paramcalc.errors import SpecError
    from paramcalc.update import update_file

    with pytest.raises(SpecError, match=re.escape("copy it first (`paramcalc zoo lenet5 > lenet5.yaml`)")):
        update_file("zoo:lenet5")


def test_check_help_states_the_search_rules():
    text = CliRunner().invoke(cli, ["check", "--help"]).stdout
    assert "hidden folders are" in text and "--skip-non-specs" in text and "junit-10.xsd" in text
    assert os.linesep not in text.replace("\n", "")
