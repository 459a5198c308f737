"""`paramcalc check`: expectations, tolerances, human numbers, output formats, --update, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import SPECS

LENET = (SPECS / "lenet5.yaml").read_text().split("expect:")[0]  # LeNet-5 without its expect block


def check(*args: str):
    return CliRunner().invoke(cli, ["check", *args])


def lenet_with(tmp_path: Path, expect: str, name: str = "lenet.yaml") -> str:
    path = tmp_path / name
    path.write_text(LENET + "expect:\n" + expect)
    return str(path)


# Computed by paramcalc for LeNet-5 and checked against Keras in test_frameworks / test_seed_cases.
TRUE_FIGURES = {
    "params": "61706", "trainable_params": "61706", "non_trainable_params": "0", "macs": "416520",
    "flops": "833040", "activations": "8494", "output_shape": "[null, 10]",
}
WRONG_FIGURES = {
    "params": "61707", "trainable_params": "61705", "non_trainable_params": "1", "macs": "416521",
    "flops": "833041", "activations": "8495", "output_shape": "[null, 11]",
}


@pytest.mark.parametrize("figure", list(TRUE_FIGURES))
def test_each_model_figure_passes_and_fails(tmp_path, figure):
    good = check(lenet_with(tmp_path, f"  {figure}: {TRUE_FIGURES[figure]}\n", "good.yaml"))
    assert good.exit_code == 0, good.output
    bad = check(lenet_with(tmp_path, f"  {figure}: {WRONG_FIGURES[figure]}\n", "bad.yaml"))
    assert bad.exit_code == 1
    assert f"bad.yaml:16:{len(figure) + 5}: {figure}: expected" in bad.stdout


@pytest.mark.parametrize("figures, code", [
    ("{params: 2416, output_shape: [null, 10, 10, 16], macs: 240000}", 0),
    ("{params: 2416, output_shape: [10, 10, 16]}", 0),  # written without the batch dimension
    ("{trainable_params: 2416, non_trainable_params: 0, flops: 480000}", 0),
    ("{params: 2415}", 1),
    ("{output_shape: [null, 10, 10, 15]}", 1),
    ("{macs: 1}", 1),
])
def test_per_layer_expectations(tmp_path, figures, code):
    result = check(lenet_with(tmp_path, f"  layers:\n    conv2d_1: {figures}\n"))
    assert result.exit_code == code, result.output


def test_expectation_for_a_missing_layer_fails_and_says_so(tmp_path):
    result = check(lenet_with(tmp_path, "  layers:\n    conv9: {params: 1}\n"))
    assert result.exit_code == 1
    assert "the model has no layer named `conv9`" in result.stdout


@pytest.mark.parametrize("expect, code", [
    # LeNet-5 has 61,706 params: 1% of 61,000 is 610, so 61,096..61,610 is just outside / inside.
    ("  params: 61100\n  tolerance: 1%\n", 0),     # |61706 - 61100| = 606 <= 611
    ("  params: 61000\n  tolerance: 1%\n", 1),     # 706 > 610
    ("  params: 61096\n  tolerance: 1%\n", 0),     # 610 <= 610.96: the edge passes
    ("  params: 61095\n  tolerance: 1%\n", 1),     # 611 > 610.95
    ("  params: 61700\n  tolerance: 6\n", 0),      # absolute: a difference equal to the tolerance passes
    ("  params: 61699\n  tolerance: 6\n", 1),
    ("  params: {value: 61699, tolerance: 7}\n", 0),
    ("  params: {value: 61699, tolerance: 0.01%}\n", 1),
])
def test_tolerance_edges(tmp_path, expect, code):
    result = check(lenet_with(tmp_path, expect))
    assert result.exit_code == code, result.output


@pytest.mark.parametrize("written, code", [
    ('"61,706"', 0), ("61_706", 0), ('"61,707"', 1), ("6.1706e4", 0), ("61706.0", 0),
    ("{value: 62K, tolerance: 1%}", 0), ("{value: 0.0617M, tolerance: 0.1%}", 0), ("{value: 60K, tolerance: 1%}", 1),
])
def test_human_friendly_numbers(tmp_path, written, code):
    assert check(lenet_with(tmp_path, f"  params: {written}\n")).exit_code == code


def test_scientific_notation_is_exact(tmp_path):
    result = check(lenet_with(tmp_path, "  macs: 41652e1\n"))
    assert result.exit_code == 0
    assert check(lenet_with(tmp_path, "  macs: 4.1652e5\n")).exit_code == 0
    assert check(lenet_with(tmp_path, "  macs: 4165e2\n")).exit_code == 1


@pytest.mark.parametrize("written, message", [
    ("62K", "is a rounded figure, so it needs a tolerance"),
    ("sixty", "cannot read `sixty` as a count"),
    ("6.17065e4", "is not a whole number"),
    ('"61,70"', "cannot read"),
    ("true", "expected a count"),
])
def test_unreadable_expectations_exit_2_with_location(tmp_path, written, message):
    result = check(lenet_with(tmp_path, f"  params: {written}\n"))
    assert result.exit_code == 2
    assert ":16:11: error: " in result.stdout and message in result.stdout


def test_unknown_expect_key_is_an_error_with_suggestion(tmp_path):
    result = check(lenet_with(tmp_path, "  parms: 61706\n"))
    assert result.exit_code == 2
    assert "`expect` has no figure `parms`" in result.stdout and "did you mean `params`" in result.stdout


def test_unchecked_spec_is_not_a_failure_unless_strict(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text(LENET)
    result = check(str(path))
    assert result.exit_code == 0
    assert "1 unchecked" in result.stdout
    assert check("--strict", str(path)).exit_code == 1


def test_folders_are_searched_recursively(tmp_path):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    lenet_with(tmp_path, "  params: 61706\n", "top.yaml")
    shutil.copy(SPECS / "basic_cnn.yaml", nested / "deep.yml")
    (nested / "notes.txt").write_text("not a spec")
    data = json.loads(check("--format", "json", str(tmp_path)).stdout)
    assert [Path(s["path"]).name for s in data["specs"]] == ["deep.yml", "top.yaml"]
    assert data["summary"] == {"specs": 2, "passed": 2, "updated": 0, "failed": 0, "unchecked": 0, "unreadable": 0,
                               "skipped": 0}


def test_unreadable_wins_over_failing(tmp_path):
    lenet_with(tmp_path, "  params: 61706\n", "good.yaml")
    lenet_with(tmp_path, "  params: 1\n", "failing.yaml")
    (tmp_path / "broken.yaml").write_text("input: [4\n")
    result = check("--format", "json", str(tmp_path))
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert {Path(s["path"]).name: s["status"] for s in data["specs"]} == {
        "broken.yaml": "error", "failing.yaml": "fail", "good.yaml": "pass"}
    assert data["exit_code"] == 2


def test_json_output_schema(tmp_path):
    data = json.loads(check("--format", "json", lenet_with(tmp_path, "  params: 61700\n  macs: 416520\n")).stdout)
    (spec,) = data["specs"]
    assert spec["status"] == "fail" and spec["name"] == "lenet5"
    assert spec["checks"][0] == {
        "figure": "params", "layer": None, "expected": 61700, "expected_text": "61700", "tolerance": None,
        "actual": 61706, "difference": 6, "passed": False, "line": 16, "column": 11}
    assert spec["checks"][1]["passed"] is True


def test_junit_output_parses(tmp_path):
    lenet_with(tmp_path, "  params: 61706\n  macs: 1\n", "one.yaml")
    (tmp_path / "broken.yaml").write_text("layers: []\n")
    (tmp_path / "plain.yaml").write_text(LENET)
    root = ElementTree.fromstring(check("--format", "junit", str(tmp_path)).stdout)
    assert [root.get(key) for key in ("tests", "failures", "errors")] == ["4", "1", "1"]
    assert [suite.get("skipped") for suite in root.iter("testsuite")] == ["0", "0", "1"]  # broken, one, plain
    failure = root.find("testsuite/testcase[@name='macs']/failure")
    assert failure is not None and "expected 1, got 416,520" in failure.get("message", "")


def test_github_annotations_point_at_the_expect_line(tmp_path):
    path = lenet_with(tmp_path, "  params: 61706\n  macs: 1\n")
    lines = check("--format", "github", path).stdout.splitlines()
    assert lines[0].startswith(f"::error file={path},line=17,col=9,title=paramcalc check%3A 1 figure differs::"
                               "line 17: macs: expected 1")
    assert lines[-1].startswith("1 spec: 0 passed, 1 failed")


def test_piped_text_is_one_line_per_failure(tmp_path):
    out = check(lenet_with(tmp_path, "  params: 1\n  macs: 2\n  flops: 833040\n")).stdout.splitlines()
    assert len(out) == 4
    assert out[0].endswith("params: expected 1, got 61,706 (+61,705, +6170500.00%)")
    assert out[1].endswith("macs: expected 2, got 416,520 (+416,518, +20825900.00%)")
    assert out[2].endswith("lenet.yaml: note: to accept the computed figures, run: paramcalc check --update "
                           f"{tmp_path / 'lenet.yaml'}")
    assert out[3] == "1 spec: 0 passed, 1 failed, 0 unchecked, 0 unreadable"


COMMENTED = """\
# A commented spec: every byte outside the expect block must survive --update.
name: lenet5   # trailing comment
input: [32, 32, 1]  # H, W, C

layers:
  # feature extractor
  - Conv2D: {filters: 6, kernel_size: 5, activation: tanh}    # C1
  - AveragePooling2D: 2                                       # S2
  - Conv2D: {filters: 16, kernel_size: 5, activation: tanh}   # C3
  - AveragePooling2D: 2
  - Flatten
  # classifier
  - Dense: {units: 120, activation: tanh}
  - Dense: {units: 84, activation: tanh}
  - Dense: {units: 10, activation: softmax}

expect:
  # from the slides
  params: 60000        # wrong on purpose
  macs: {value: 400K, tolerance: 10%}   # holds: kept as written
  output_shape: [null, 12]
  layers:
    conv2d: {params: 150, output_shape: [null, 28, 28, 6]}

# a comment after the block
"""


def test_update_rewrites_only_the_differing_values(tmp_path):
    path = tmp_path / "commented.yaml"
    path.write_text(COMMENTED)
    result = check("--update", str(path))
    assert result.exit_code == 0, result.output
    new = path.read_text()
    start = COMMENTED.index("expect:")
    assert new[:start] == COMMENTED[:start]  # byte-identical before the block
    tail = "\n# a comment after the block\n"
    assert new.endswith(tail) and COMMENTED.endswith(tail)
    assert new[start:] == COMMENTED[start:].replace("params: 60000", "params: 61706").replace(
        "[null, 12]", "[null, 10]").replace("params: 150,", "params: 156,")
    assert "params: 60000 -> 61706 (updated)" in result.stdout
    assert check(str(path)).exit_code == 0


def test_update_adds_a_block_to_a_spec_without_one(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text(LENET.rstrip("\n"))  # no final newline either
    assert check("--update", str(path)).exit_code == 0
    text = path.read_text()
    assert text.startswith(LENET.rstrip("\n") + "\n")
    assert text.endswith("expect:  # written by paramcalc check --update\n  params: 61706\n  macs: 416520\n"
                         "  output_shape: [null, 10]\n")
    assert check("--strict", str(path)).exit_code == 0


def test_update_keeps_a_byte_order_mark_and_crlf(tmp_path):
    path = tmp_path / "crlf.yaml"
    original = (LENET + "expect:\n  params: 5\n").replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + original.encode())
    assert check("--update", str(path)).exit_code == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + original.replace("params: 5", "params: 61706").encode()


def test_bundled_specs_all_pass():
    result = check("--strict", str(SPECS))
    assert result.exit_code == 0, result.output


def console_script() -> str:
    script = Path(sys.executable).parent / "paramcalc"
    assert script.exists(), "install the package first (pip install '.[test]'): the console script is missing"
    return str(script)


def test_exit_codes_through_the_installed_console_script(tmp_path):
    good = lenet_with(tmp_path, "  params: 61706\n", "good.yaml")
    bad = lenet_with(tmp_path, "  params: 1\n", "bad.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("input: [4]\nlayers: [Conv2DD]\n")
    for paths, code in (([good], 0), ([good, bad], 1), ([good, bad, str(broken)], 2)):
        done = subprocess.run([console_script(), "check", *paths], capture_output=True, text=True)
        assert done.returncode == code, done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
