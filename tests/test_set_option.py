"""`--set` (issue 16, part 5): ranges as `compare` takes them, a bad value reported once with where
it came from, and help that offers sweeps only where they run."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import SPECS

MOBILENET = str(SPECS / "mobilenet_v1.yaml")


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_a_range_sweeps_like_a_list():
    ranged = json.loads(invoke("summary", MOBILENET, "--set", "alpha=0.25:1:0.25", "--set", "res=128:224:32",
                               "--format", "json").stdout)
    listed = json.loads(invoke("summary", MOBILENET, "--set", "alpha=0.25,0.5,0.75,1", "--set",
                               "res=128,160,192,224", "--format", "json").stdout)
    assert ranged == listed and len(ranged["rows"]) == 16
    assert [(row["alpha"], row["res"]) for row in ranged["rows"][:5]] == [
        (0.25, 128), (0.25, 160), (0.25, 192), (0.25, 224), (0.5, 128)]


def test_decimal_steps_do_not_drift():
    rows = json.loads(invoke("summary", MOBILENET, "--set", "alpha=0.1:0.3:0.1", "--format", "json").stdout)["rows"]
    assert [row["alpha"] for row in rows] == [0.1, 0.2, 0.3]


@pytest.mark.parametrize("value, message", [
    ("alpha=1:0.5", "--set alpha=1:0.5: error: a range needs start <= stop and a positive step."),
    ("alpha=0:1:0", "--set alpha=0:1:0: error: a range needs start <= stop and a positive step."),
    ("alpha=0:1:x", "--set alpha=0:1:x: error: `0:1:x` is not a range of numbers."),
    ("alpha=0:1:0.00001", "--set alpha=0:1:0.00001: error: the range gives 100,001 values; at most 10,000 are"),
])
def test_a_bad_range_is_refused(value, message):
    result = invoke("summary", MOBILENET, "--set", value)
    assert result.exit_code == 2 and result.stderr.startswith(message), result.stderr


def test_a_variable_given_twice_is_refused():
    result = invoke("summary", MOBILENET, "--set", "alpha=1", "--set", "alpha=0.5")
    assert result.exit_code == 2 and "--set alpha is given twice" in result.stderr


def test_a_bad_value_is_reported_once_per_line_with_its_origin():
    result = invoke("summary", MOBILENET, "--set", "alpha=-1")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines == [
        f"{MOBILENET}:32:27: error: Conv2D `filters` must be a positive integer; got -32 (the value comes from "
        "--set alpha=-1). Fix: make `filters` a positive integer.",
        f"{MOBILENET}:26:40: error: Conv2D `filters` must be a positive integer; got -64 (in layer `conv_pw_1` of "
        "block instance `separable`; the same line fails in 12 more instances: `separable_1`, `separable_2`, "
        "`separable_3`, ...; the value comes from --set alpha=-1). Fix: make `filters` a positive integer.",
    ]


def test_the_origin_follows_variables_block_arguments_and_input_dimensions():
    spec = """vars: {width: 8, wide: "2 * width"}
input: [res, res, 3]
blocks:
  unit:
    args: {channels: null}
    layers:
      - Conv2D: {filters: channels, kernel_size: 3}
layers:
  - unit: {channels: "wide - 16"}
  - Dense: width
"""
    text = "vars: {res: 8, " + spec[len("vars: {"):]
    result = invoke("summary", "-", "--set", "width=8", input=text)
    assert "(in layer `unit.conv2d` of block instance `unit`; the value comes from --set width=8)" in result.stderr
    result = invoke("summary", "-", "--set", "res=0", input=text)
    assert result.stderr.startswith("<stdin>:2:9: error: every input dimension must be at least 1; got 0 (the value "
                                    "comes from --set res=0)")


def test_a_mistake_the_values_did_not_cause_does_not_blame_them():
    text = "vars: {n: 4}\ninput: [8]\nlayers:\n  - Dense: 0\n  - Dense: n\n"
    assert "comes from" not in invoke("summary", "-", "--set", "n=2", input=text).stderr


def test_a_repeated_layer_that_fails_is_reported_once():
    text = "input: [8]\nlayers:\n  - Dense: {units: \"i - 2\", repeat: 5}\n"
    lines = invoke("summary", "-", input=text).stderr.splitlines()
    assert lines == ["<stdin>:3:13: error: Dense `units` must be a positive integer; got -2 (the same line fails in 2 "
                     "more layers: `dense_1`, `dense_2`). Fix: make `units` a positive integer."]


@pytest.mark.parametrize("command", ["explain", "compare"])
def test_commands_that_run_once_do_not_offer_sweeps(command):
    help_text = invoke(command, "--help").stdout
    assert "--set NAME=VALUE" in help_text and "sweep" not in help_text.lower()
    result = invoke(command, MOBILENET, "--set", "alpha=0.5,1")
    assert result.exit_code == 2 and "sweeps are for `paramcalc summary`" in result.stderr


def test_summary_offers_sweeps_and_ranges():
    assert "start:stop:step" in invoke("summary", "--help").stdout.replace("\n", " ").replace("  ", " ")


def test_help_lists_every_exit_code():
    text = " ".join(invoke("--help").stdout.split())
    assert "Exit codes: 0 success; 1 `paramcalc check` found a figure that differs" in text and "; 2 a spec" in text
