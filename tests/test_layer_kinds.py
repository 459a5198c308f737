"""Every registered layer kind: its example runs, and its explanation is the computation.

For each kind, every explained formula is re-evaluated here from its printed text by a tiny
independent evaluator, and must give the number the engine reports (the same code path renders
and computes, so they cannot disagree)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.layers import all_kinds
from paramcalc.layers.base import LayerKind
from paramcalc.layers.registry import FAMILIES
from tests.conftest import run_text

TOKEN = re.compile(r"\s*(\d+|ceil|max|[()+\-x/,])")


def evaluate(text: str) -> int:
    """Evaluate a rendered formula: integers, + - x, / (floor), ceil(a/b), max(a, b), parentheses."""
    tokens = TOKEN.findall(text)
    assert "".join(tokens) == text.replace(" ", ""), f"unexpected characters in {text!r}"
    pos = 0

    def take(expected: str | None = None) -> str:
        nonlocal pos
        token = tokens[pos]
        assert expected is None or token == expected, (text, token, expected)
        pos += 1
        return token

    def atom() -> int:
        token = take()
        if token == "(":
            value = expr()
            take(")")
            return value
        if token == "ceil":
            take("(")
            num = atom()
            take("/")
            den = atom()
            take(")")
            return -(-num // den)
        if token == "max":
            take("(")
            a = expr()
            take(",")
            b = expr()
            take(")")
            return max(a, b)
        if token == "-":
            return -atom()
        return int(token)

    def term() -> int:
        value = atom()
        while pos < len(tokens) and tokens[pos] in ("x", "/"):
            value = value * atom() if take() == "x" else value // atom()
        return value

    def expr() -> int:
        value = term()
        while pos < len(tokens) and tokens[pos] in ("+", "-"):
            value = value + term() if take() == "+" else value - term()
        return value

    result = expr()
    assert pos == len(tokens), text
    return result


def example(kind: type[LayerKind]):
    return run_text(kind.example_spec())


REGISTRY = all_kinds()
KINDS = sorted(REGISTRY.values(), key=lambda k: k.name)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_explanation_equals_computation(kind):
    row = example(kind).rows[-1]
    found = {d.label: d.q for d in row.derivations}
    for label, q in found.items():
        assert evaluate(q.render()) == q.value, (label, q.render())
    if "params" in found:
        assert found["params"].value == row.params
    elif "trainable params" in found:
        assert found["trainable params"].value + found["non-trainable params"].value == row.params
    else:
        assert row.params == 0
    assert found["MACs"].value == row.macs if "MACs" in found else row.macs == 0
    spatial = [q.value for label, q in found.items() if label.startswith("output ") and label != "output size"]
    if spatial:
        dims = row.output_shape[1:-1] if kind.framework == "keras" else row.output_shape[2:]
        assert list(dims) == spatial


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_every_kind_is_documented(kind):
    # Its formulas are not written by hand: `paramcalc layers` renders those of its example.
    assert kind.doc, f"{kind.name} needs a doc line for `paramcalc layers`"


def test_layers_command_lists_every_kind():
    result = CliRunner().invoke(cli, ["layers"])
    assert result.exit_code == 0
    for name in REGISTRY:
        assert f"\n{name}  [" in result.stdout
    assert "example: Conv2D: {filters: 8, kernel_size: 3, strides: 2, padding: same} on (None, 9, 9, 4) -> " \
           "(None, 5, 5, 8), 296 params, 7,200 MACs" in result.stdout


def test_layers_command_unknown_kind_suggests():
    result = CliRunner().invoke(cli, ["layers", "Conv2"])
    assert result.exit_code == 2
    assert "unknown layer kind `Conv2`" in result.stderr and "`Conv2D`" in result.stderr


def test_explain_lenet5_in_the_tutorial_notation():
    out = CliRunner().invoke(cli, ["explain", "specs/lenet5.yaml"]).stdout
    assert "output height  (N - F + 2P)/S + 1 = (32 - 5 + 0)/1 + 1 = 28" in out
    assert "params         (F x F x C + 1) x M = (5 x 5 x 1 + 1) x 6 = 156" in out
    assert "MACs           H' x W' x M x (F x F x C) = 28 x 28 x 6 x (5 x 5 x 1) = 117,600" in out
    assert "(5 x 5 x 6 + 1) x 16 = 2,416" in out
    assert "in x units + units = 400 x 120 + 120 = 48,120" in out


def test_explain_selected_layers_same_padding_and_floors():
    text = """input: [11, 11, 3]
layers:
  - Conv2D: {filters: 4, kernel_size: 3, strides: 2, padding: same, name: c1}
  - MaxPooling2D: {pool_size: 2, name: p1}
  - DepthwiseConv2D: {kernel_size: 3, depth_multiplier: 2, padding: same, name: dw}
  - SeparableConv2D: {filters: 8, kernel_size: 3, name: sep}
"""
    result = CliRunner().invoke(cli, ["explain", "-", "c1", "p1", "dw", "sep"], input=text)
    out = re.sub(" +", " ", result.stdout)
    assert result.exit_code == 0, result.output
    assert "output height ceil(N/S) = ceil(11/2) = 6" in out
    assert "padding height max((N' - 1) x S + F - N, 0) = max((6 - 1) x 2 + 3 - 11, 0) = 2 (1 before, 1 after)" in out
    assert "(N - F + 2P)/S + 1 = (6 - 2 + 0)/2 + 1 = 3" in out
    assert "(F x F + 1) x C x m = (3 x 3 + 1) x 4 x 2 = 80" in out
    assert "depthwise params" in out and "pointwise params" in out


def test_explain_says_what_a_floor_drops():
    out = CliRunner().invoke(cli, ["explain", "-"], input="input: [11, 11, 1]\nlayers: [{MaxPooling2D: 2}]").stdout
    assert "! (N - F + 2P)/S + 1 = (11 - 2 + 0)/2 + 1 = 5.5 in height and width is floored to 5, so the last 1 " \
           "input row and column are never used" in out


def test_explain_unknown_layer_name():
    result = CliRunner().invoke(cli, ["explain", "specs/lenet5.yaml", "conv3d"])
    assert result.exit_code == 2
    assert "no layer named `conv3d`" in result.stderr and "did you mean `conv2d`" in result.stderr


def test_the_family_index_names_every_kind_in_its_module():
    # `lookup` imports a kind's family module through FAMILIES: a kind missing there, or listed under
    # the wrong module, could not be found by a spec.
    listed = {kind: family for family, kinds in FAMILIES.items() for kind in kinds}
    actual = {name: kind.__module__.rsplit(".", 1)[1] for name, kind in REGISTRY.items()}
    assert listed == actual


def test_a_spec_imports_only_the_families_it_uses():
    import subprocess
    import sys

    code = ("import sys; from paramcalc.engine import analyze; from paramcalc.spec.loader import parse_spec; "
            "analyze(parse_spec('input: [8]\\nlayers:\\n  - Dense: 4\\n  - ReLU\\n')); "
            "print(sorted(m for m in sys.modules if m.startswith('paramcalc.layers.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "paramcalc.layers.dense" in loaded and "paramcalc.layers.activation" in loaded
    assert "paramcalc.layers.attention" not in loaded and "paramcalc.layers.merge" not in loaded
