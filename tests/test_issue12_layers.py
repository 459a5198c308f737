"""Issue 12 (convolutions, normalisation, merges, attention) through the command line.

Every figure compared here is a framework's, read from the fixtures (Keras 3 for the Keras
spellings, PyTorch + fvcore for the PyTorch spellings and for attention MACs); a fixture case with
"error" is a configuration the framework refuses, which paramcalc must refuse with a located,
one-paragraph error that says why (exit code 2)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import FIXTURES, located_text, refusal

MERGES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
MHA = "MultiHeadAttention"

KERAS_ACCEPTED = [
    *(f"{kind}/strides2-dilation2-{pad}" for kind in ("DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
                                                       "SeparableConv2D") for pad in ("valid", "same")),
    "DepthwiseConv2D/strides-dilation-per-axis-valid", "DepthwiseConv2D/strides-dilation-per-axis-same",
    "SeparableConv2D/strides3-dilation2-channels-first-same",
    *(f"{kind}/broadcast-{desc}" for kind in MERGES
      for desc in ("lower-rank-second", "lower-rank-first", "ones-both-ways", "rank3-rank2")),
    *(f"{kind}/broadcast-three-ranks" for kind in MERGES if kind != "Subtract"),
    *(f"{MHA}/{desc}" for desc in (
        "axes-2-of-2x3x4", "axes-int-2", "axes-minus-2", "axes-1", "axes-1-2-all", "axes-rank2-input",
        "axes-1-3-of-rank4", "axes-negative-of-rank4-no-bias", "axes-2-output-shape-list", "output-shape-list",
        "output-shape-two-dims", "cross-axes-2-key", "cross-axes-2-value-broadcasts", "cross-default-axes")),
]

TORCH_ACCEPTED = [
    "DepthwiseConv1D/strides2-dilation2", "DepthwiseConv2D/strides2-dilation2",
    "DepthwiseConv2D/strides-dilation-per-axis", "SeparableConv1D/strides2-dilation2",
    "SeparableConv2D/strides2-dilation2-no-bias", "LocalResponseNorm/sequence",
    "Conv1d/reflect-padding-below-input", "Conv2d/reflect-same-even-kernel", "Conv1d/replicate-padding-above-input",
    "Conv2d/replicate-same-kernel9", "Conv1d/circular-padding-equals-input", "Conv2d/circular-same-kernel9",
]

# The MultiHeadAttention cases of torch_attention.json added for issue 12 (same ids as in Keras's).
ATTENTION = [case_id for case_id in KERAS_ACCEPTED if case_id.startswith(MHA)]

# (fixture, case id, the argument or layer the error is located at, fragments that say why)
REFUSED = [
    ("keras_layers.json", "DepthwiseConv2D/error-strides2-dilation3-kernel-bigger-than-input", "kernel_size",
     ["output height would be", "kernel spans 7"]),
    ("keras_layers.json", "DepthwiseConv1D/error-causal", "padding",
     ["only Conv1D pads causally", "ZeroPadding1D"]),
    ("keras_layers.json", "SeparableConv1D/error-causal", "padding", ["only Conv1D pads causally", "[2, 0]"]),
    ("keras_layers.json", "BatchNormalization/error-axis-list", "axis", ["takes a single axis, not a list"]),
    ("keras_layers.json", "BatchNormalization/error-axis-list-of-one", "axis", ["takes a single axis, not a list"]),
    *(("keras_layers.json", f"{kind}/error-lower-rank-mismatch", kind,
       ["cannot merge `a` (4, 5) and `b` (4,)", "lined up from the last dimension"]) for kind in MERGES),
    ("keras_layers.json", f"{MHA}/error-cross-other-axis-differs", MHA,
     ["differ on axis 1, which is not an attention axis"]),
    ("keras_layers.json", f"{MHA}/error-cross-value-rank-higher", MHA, ["same rank", "value `v` (2, 5, 6)"]),
    ("keras_layers.json", f"{MHA}/error-cross-value-rank-lower", MHA, ["same rank", "query `q` (2, 3, 4)"]),
    ("keras_layers.json", f"{MHA}/error-key-value-positions-differ", MHA,
     ["value and key equal", "key `k` (4, 3)"]),
    ("keras_layers.json", f"{MHA}/error-axes-repeated", "attention_axes", ["names axis 2 twice"]),
    ("keras_layers.json", f"{MHA}/error-axes-beyond-features", "attention_axes",
     ["has 4, which is outside the input's axes"]),
    ("keras_layers.json", f"{MHA}/error-axes-out-of-range", "attention_axes", ["has 5, which is outside"]),
    ("keras_layers.json", f"{MHA}/error-axes-negative-out-of-range", "attention_axes", ["has -5, which is outside"]),
    ("keras_layers.json", f"{MHA}/error-rank1-input", MHA, ["expects inputs of shape (positions, features)"]),
    ("torch_layers.json", "LocalResponseNorm/error-flat-input", "LocalResponseNorm",
     ["at least one more dimension", "3-D or larger"]),
    ("torch_layers.json", "Conv1d/error-reflect-padding-equals-input", "padding",
     ["adds 4 on one side of the input length of 4", "'reflect'", "smaller than the input size"]),
    ("torch_layers.json", "Conv2d/error-reflect-padding-list-width", "padding", ["input width of 4", "'reflect'"]),
    ("torch_layers.json", "Conv2d/error-reflect-same-even-kernel-right-side", "padding",
     ["adds 4", "input width of 4"]),
    ("torch_layers.json", "Conv3d/error-reflect-padding", "padding", ["adds 2 on one side of the input height of 2"]),
    ("torch_layers.json", "Conv1d/error-circular-padding-above-input", "padding",
     ["adds 5 on one side of the input length of 4", "'circular'", "at most the input size"]),
    ("torch_layers.json", "Conv2d/error-circular-same-kernel10", "padding",
     ["adds 5", "input width of 4", "only once"]),
]


@cache
def fixture_cases(name: str) -> dict[str, dict[str, Any]]:
    return {case["id"]: case for case in json.loads((FIXTURES / name).read_text())["cases"]}


def write_spec(tmp_path: Path, spec: dict[str, Any]) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, default_flow_style=None), encoding="utf-8")
    return path


def summary(tmp_path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["summary", "--format", "json", str(write_spec(tmp_path, spec))])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def totals(data: dict[str, Any]) -> tuple:
    return (data["output_shape"], data["total_params"], data["trainable_params"], data["non_trainable_params"])


@pytest.mark.parametrize("case_id", KERAS_ACCEPTED)
def test_keras_case_through_the_cli(case_id, tmp_path):
    keras = fixture_cases("keras_layers.json")[case_id]
    assert "error" not in keras
    data = summary(tmp_path, keras["spec"])
    assert totals(data) == (keras["output_shape"], keras["params"], keras["trainable_params"],
                            keras["non_trainable_params"])
    assert [(r["name"], r["type"], r["output_shape"], r["params"]) for r in data["layers"]] == [
        (k["name"], k["type"], k["output_shape"], k["params"]) for k in keras["layers"]]


@pytest.mark.parametrize("case_id", TORCH_ACCEPTED)
def test_pytorch_case_through_the_cli(case_id, tmp_path):
    torch = fixture_cases("torch_layers.json")[case_id]
    assert "error" not in torch
    data = summary(tmp_path, torch["spec"])
    assert totals(data) == (torch["output_shape"], torch["params"], torch["trainable_params"],
                            torch["non_trainable_params"])
    assert data["total_macs"] == torch["macs"]


@pytest.mark.parametrize("case_id", ATTENTION)
def test_attention_macs_match_fvcore_through_the_cli(case_id, tmp_path):
    """Keras's MultiHeadAttention rebuilt in PyTorch with the same einsums over attention_axes:
    parameters as Keras counts them, MACs as fvcore counts the projections and the two products."""
    torch = fixture_cases("torch_attention.json")[case_id]
    keras = fixture_cases("keras_layers.json")[case_id]
    assert (torch["params"], torch["output_shape"]) == (keras["params"], keras["output_shape"])
    data = summary(tmp_path, torch["spec"])
    assert (data["output_shape"], data["total_params"], data["total_macs"]) == (
        torch["output_shape"], torch["params"], torch["macs"])


def test_issue_example_attention_within_each_row(tmp_path):
    """The issue's case: attention over axis 2 of a (2, 3, 4) input attends within each of the 2
    rows (fvcore: 264 MACs); counting it as attention over all 6 positions gave 336."""
    expected = fixture_cases("torch_attention.json")[f"{MHA}/axes-2-of-2x3x4"]
    assert expected["fvcore_by_operator"]["matmul"] == 2 * (2 * 3 * 3 * 1 * 2)  # QK^T and AV, per row
    text = "input: [2, 3, 4]\nlayers:\n  - MultiHeadAttention: {num_heads: 1, key_dim: 2, attention_axes: [2]}\n"
    path = tmp_path / "issue.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["summary", "--format", "json", str(path)])
    assert json.loads(result.stdout)["total_macs"] == expected["macs"]


@pytest.mark.parametrize("fixture, case_id, located, fragments", REFUSED, ids=[c[1] for c in REFUSED])
def test_refused_case_through_the_cli(fixture, case_id, located, fragments, tmp_path):
    case = fixture_cases(fixture)[case_id]
    assert "error" in case  # the framework refuses it
    path = write_spec(tmp_path, case["spec"])
    message = refusal(path)
    assert located_text(path, message).startswith(located), message
    for fragment in fragments:
        assert fragment in message, message


# Accepted by Keras but refused by paramcalc, on purpose (no framework figure to compare): attention
# across the batch cannot be counted per sample; on the feature axis Keras attends over the heads
# with its einsums but ignores the setting in its fused path (2-D inputs, no dropout); a query of
# size 1 against a larger key on a non-attention axis makes Keras's computed output disagree with
# its declared output shape.
PARAMCALC_REFUSES = [
    ("batch axis", "input: [2, 3, 4]\nlayers:\n  - MultiHeadAttention: {num_heads: 2, key_dim: 2, "
     "attention_axes: [0]}\n", "attention_axes", ["has 0, which is the batch axis", "position axes 1..2 (or -2..-3)"]),
    ("batch axis negative", "input: [2, 3, 4]\nlayers:\n  - MultiHeadAttention: {num_heads: 2, key_dim: 2, "
     "attention_axes: [-4]}\n", "attention_axes", ["has -4, which is the batch axis"]),
    ("feature axis", "input: [2, 3, 4]\nlayers:\n  - MultiHeadAttention: {num_heads: 2, key_dim: 2, "
     "attention_axes: -1}\n", "attention_axes", ["has -1, which is the feature axis"]),
    ("feature axis of a sequence", "input: [5, 8]\nlayers:\n  - MultiHeadAttention: {num_heads: 2, key_dim: 4, "
     "attention_axes: [2]}\n", "attention_axes", ["the feature axis", "position axis 1 (or -2)"]),
    ("query of one against a longer key", "inputs: {q: [1, 3, 4], v: [2, 5, 6]}\nlayers:\n  - MultiHeadAttention: "
     "{num_heads: 2, key_dim: 2, attention_axes: [2], inputs: [q, v]}\n", MHA,
     ["differ on axis 1, which is not an attention axis"]),
    ("empty axes list", "input: [2, 3, 4]\nlayers:\n  - MultiHeadAttention: {num_heads: 2, key_dim: 2, "
     "attention_axes: []}\n", "attention_axes", ["non-empty list"]),
]


@pytest.mark.parametrize("text, located, fragments", [c[1:] for c in PARAMCALC_REFUSES],
                         ids=[c[0] for c in PARAMCALC_REFUSES])
def test_attention_axes_paramcalc_refuses(text, located, fragments, tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    message = refusal(path)
    assert located_text(path, message).startswith(located), message
    for fragment in fragments:
        assert fragment in message, message


def test_merge_broadcast_with_a_free_dimension(tmp_path):
    """A missing leading dimension broadcasts against a symbolic one too."""
    text = "inputs: {a: [T, 5], b: [5]}\nlayers:\n  - Add: {inputs: [a, b]}\n"
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["summary", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output_shape"] == [None, "T", 5]
