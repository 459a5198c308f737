"""The vision kinds of issue 15 through the command line, against the figures real frameworks gave:
tests/fixtures/keras_vision.json (Keras 3 and KerasHub: preprocessing layers, Permute, RepeatVector,
ConvNeXt's LayerScale and StochasticDepth, KerasHub's DropPath, layers of EfficientNetB0 and
ConvNeXtTiny) and tests/fixtures/torch_vision.json (PyTorch and fvcore: ChannelShuffle, PixelShuffle,
PixelUnshuffle, Unflatten, Hardtanh, Softplus, and torchvision's / timm's LayerNorm2d, Permute,
StochasticDepth and DropPath re-built from their documentation, as its provenance says)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.conventions import CONVENTIONS
from tests.conftest import FIXTURES, run_dict

KERAS, TORCH = "keras_vision.json", "torch_vision.json"
LOCATED = re.compile(r"^\S+\.yaml:\d+:\d+: error: ")


@cache
def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def cases(name: str, errors: bool) -> list[dict[str, Any]]:
    return [c for c in fixture(name)["cases"] if ("error" in c) == errors]


def invoke(tmp_path, spec: dict[str, Any] | str, *options: str):
    path = tmp_path / "spec.yaml"
    path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return CliRunner().invoke(cli, ["summary", "--format", "json", *options, str(path)])


def summary(tmp_path, spec: dict[str, Any] | str, *options: str) -> dict[str, Any]:
    result = invoke(tmp_path, spec, *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refusal(tmp_path, spec: dict[str, Any] | str) -> str:
    """The one located paragraph of a refused spec (exit 2, no traceback)."""
    result = invoke(tmp_path, spec)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and LOCATED.match(result.stderr), result.stderr
    return result.stderr


def rows(report: dict[str, Any]) -> list[tuple]:
    return [(r["name"], r["type"], r["output_shape"], r["params"], r["trainable_params"], r["non_trainable_params"])
            for r in report["layers"]]


def test_the_fixtures_say_where_they_come_from():
    keras = fixture(KERAS)["provenance"]
    assert keras["generator"] == "tests/fixtures/make_keras_vision_fixtures.py"
    assert keras["keras"].startswith("3.") and keras["keras_hub"] and keras["backend"] == "jax"
    torch = fixture(TORCH)["provenance"]
    assert torch["generator"] == "tests/fixtures/make_torch_vision_fixtures.py" and torch["fvcore"]
    # torchvision and timm are not installed: their modules were re-built by hand, and the cases say so.
    assert "torchvision" in torch["not_installed"] and "LayerNorm2d" in torch["hand_built"]
    assert all("built_as" in c for c in cases(TORCH, errors=False) if c["kind"] in ("LayerNorm2d", "Permute"))


@pytest.mark.parametrize("case", cases(KERAS, errors=False), ids=lambda c: c["id"])
def test_keras_figures_through_the_cli(case, tmp_path):
    report = summary(tmp_path, case["spec"])
    assert report["output_shape"] == case["output_shape"]
    assert (report["total_params"], report["trainable_params"], report["non_trainable_params"]) == (
        case["params"], case["trainable_params"], case["non_trainable_params"])
    assert rows(report) == [(k["name"], k["type"], k["output_shape"], k["params"], k["trainable_params"],
                             k["non_trainable_params"]) for k in case["layers"]]
    assert report["total_macs"] == 0  # none of these layers multiplies and accumulates


@pytest.mark.parametrize("case", cases(TORCH, errors=False), ids=lambda c: c["id"])
def test_pytorch_figures_through_the_cli(case, tmp_path):
    report = summary(tmp_path, case["spec"])
    assert report["output_shape"] == case["output_shape"]
    assert (report["total_params"], report["trainable_params"]) == (case["params"], case["trainable_params"])
    assert report["total_macs"] == case["macs"]
    assert [r["output_shape"] for r in report["layers"]] == [layer["output_shape"] for layer in case["layers"]]


@pytest.mark.parametrize("case", cases(TORCH, errors=False), ids=lambda c: c["id"])
def test_fvcore_convention_equals_fvcore(case, tmp_path):
    """fvcore counts LayerNorm2d's layer_norm (5 per value, 4 without affine) and nothing for the
    shuffles, permutations and element-wise kinds; the convention agrees, case by case."""
    counted = case.get("fvcore_stock_by_operator", case["fvcore_by_operator"])
    assert CONVENTIONS["fvcore"].total(run_dict(case["spec"])) == sum(counted.values())
    report = summary(tmp_path, case["spec"], "--convention", "fvcore")
    assert report["convention"]["total"] == sum(counted.values())


@pytest.mark.parametrize("case", cases(KERAS, errors=True) + cases(TORCH, errors=True), ids=lambda c: c["id"])
def test_what_the_framework_refuses_is_refused_with_a_located_error(case, tmp_path):
    message = refusal(tmp_path, case["spec"])
    assert "Fix:" in message and case["kind"] in message


def test_every_new_kind_has_framework_figures():
    new = {"Rescaling", "Normalization", "CenterCrop", "Resizing", "RandomCrop", "RandomFlip", "RandomRotation",
           "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness", "LayerScale", "Permute",
           "RepeatVector", "StochasticDepth", "DropPath", "ChannelShuffle", "LayerNorm2d", "Unflatten",
           "PixelShuffle", "PixelUnshuffle", "Hardtanh", "Softplus"}
    checked = {c["kind"] for name in (KERAS, TORCH) for c in cases(name, errors=False)}
    assert new <= checked, sorted(new - checked)
    keras_side = {c["kind"] for c in cases(KERAS, errors=False)}
    torch_side = {c["kind"] for c in cases(TORCH, errors=False)}
    assert {"Permute", "StochasticDepth", "DropPath"} <= keras_side & torch_side  # both frameworks' spellings


# -- Normalization: EfficientNetB0's 42,023 non-trainable params, 7 of them this layer's ---------------

def test_efficientnet_b0_normalization_is_seven_of_its_42023_non_trainable_params(tmp_path):
    model = next(a for a in fixture(KERAS)["applications"] if a["id"] == "application/EfficientNetB0")
    assert model["non_trainable_params"] == 42_023  # what Keras's EfficientNetB0(weights=None) reports
    layer = next(c for c in fixture(KERAS)["cases"] if c["id"] == "application/EfficientNetB0/normalization")
    report = summary(tmp_path, layer["spec"])
    assert report["non_trainable_params"] == layer["non_trainable_params"] == 7  # mean 3, variance 3, count 1
    assert report["trainable_params"] == 0


def test_normalization_explains_mean_variance_and_count(tmp_path):
    spec = "input: [224, 224, 3]\nlayers:\n  - Normalization: {axis: 3}\n  - Normalization: {axis: null}\n"
    path = tmp_path / "n.yaml"
    path.write_text(spec, encoding="utf-8")
    out = CliRunner().invoke(cli, ["explain", str(path)]).stdout
    assert "non-trainable params  2 x kept + 1 = 2 x 3 + 1 = 7" in out
    assert "non-trainable params  2 x 1 + 1 = 3" in out


def test_normalization_given_mean_and_variance_has_no_weights(tmp_path):
    case = next(c for c in fixture(KERAS)["cases"] if c["id"] == "application/ConvNeXtTiny/"
                "convnext_tiny_prestem_normalization")
    assert summary(tmp_path, case["spec"])["total_params"] == case["params"] == 0


# -- the same name in two frameworks: the arguments decide -------------------------------------------

def test_permute_dims_with_a_zero_count_the_batch_as_torchvision_does(tmp_path):
    keras = summary(tmp_path, "input: [3, 4, 5]\nlayers:\n  - Permute: [2, 3, 1]\n")
    torch = summary(tmp_path, "input: [3, 4, 5]\nlayers:\n  - Permute: [0, 2, 3, 1]\n")
    assert keras["output_shape"] == torch["output_shape"] == [None, 4, 5, 3]


def test_permute_that_moves_the_batch_is_refused(tmp_path):
    message = refusal(tmp_path, "input: [3, 4, 5]\nlayers:\n  - Permute: [1, 0, 2, 3]\n")
    assert "moves the batch axis" in message and "keep 0 first" in message


def test_permute_explains_its_rule_in_the_catalog():
    out = CliRunner().invoke(cli, ["layers", "Permute"]).stdout
    assert "counts the batch as 0" in out and "a list with a 0 is read the torchvision way" in out


@pytest.mark.parametrize("args, expected", [
    ("{p: 0.1, drop_path_rate: 0.1}", "one of the two forms"),
    ("{}", "one of the two forms"),
    ("{p: 0.1}", "`mode` is missing"),
    ("{mode: row}", "`p` is missing"),
])
def test_stochastic_depth_takes_one_framework_s_arguments(args, expected, tmp_path):
    assert expected in refusal(tmp_path, f"input: [8]\nlayers:\n  - StochasticDepth: {args}\n")


# -- shapes that only one form of the data shows ------------------------------------------------------

def test_random_crop_counts_the_shape_keras_declares(tmp_path):
    """Keras 3 declares height x width for RandomCrop (and builds the next layers on it) but returns its
    input unchanged at inference; the generator recorded both, and paramcalc reports the declared one."""
    case = next(c for c in fixture(KERAS)["cases"] if c["id"] == "RandomCrop/smaller")
    assert case["inference_output_shape"] == [None, 7, 9, 3] != case["output_shape"]
    spec = "input: [7, 9, 3]\nlayers:\n  - RandomCrop: {height: 5, width: 4}\n  - Flatten\n  - Dense: 2\n"
    report = summary(tmp_path, spec)
    assert report["layers"][0]["output_shape"] == case["output_shape"]
    assert report["layers"][2]["params"] == 5 * 4 * 3 * 2 + 2  # Keras builds Dense on the declared shape


@pytest.mark.parametrize("kind", ["CenterCrop", "Resizing", "RandomCrop"])
def test_a_crop_on_a_2d_input_is_refused(kind, tmp_path):
    """Keras reads a (batch, H, W) tensor as one image without a batch: the batch axis would be lost."""
    message = refusal(tmp_path, f"input: [7, 9]\nlayers:\n  - {kind}: {{height: 5, width: 4}}\n")
    assert "without a batch" in message


def test_pixel_shuffle_explains_channels_and_grid(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("input: [8, 3, 5]\nlayers:\n  - PixelShuffle: 2\n  - PixelUnshuffle: 2\n", encoding="utf-8")
    out = re.sub(" +", " ", CliRunner().invoke(cli, ["explain", str(path)]).stdout)
    assert "channels C/(r x r) = 8/(2 x 2) = 2" in out and "output height N x r = 3 x 2 = 6" in out
    assert "channels C x r x r = 2 x 2 x 2 = 8" in out and "output width N/r = 10/2 = 5" in out


def test_layer_norm_2d_and_layer_scale_explain_their_params(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("input: [96, 7, 7]\nlayers:\n  - LayerNorm2d: {normalized_shape: 96, eps: 0.000001}\n"
                    "  - Permute: [0, 2, 3, 1]\n  - LayerScale: {init_values: 0.000001, projection_dim: 96}\n",
                    encoding="utf-8")
    out = re.sub(" +", " ", CliRunner().invoke(cli, ["explain", str(path)]).stdout)
    assert "params 2 x C = 2 x 96 = 192" in out and "params C = 96" in out


def test_layer_scale_trainable_false_moves_gamma_to_non_trainable(tmp_path):
    case = next(c for c in fixture(KERAS)["cases"] if c["id"] == "LayerScale/trainable-false")
    report = summary(tmp_path, case["spec"])
    assert (report["trainable_params"], report["non_trainable_params"]) == (0, 8) == (
        case["trainable_params"], case["non_trainable_params"])


def test_preprocessing_symbolic_input(tmp_path):
    spec = "input: [H, W, 3]\nlayers:\n  - Rescaling: 0.5\n  - RandomFlip\n  - CenterCrop: {height: 5, width: 4}\n"
    assert summary(tmp_path, spec)["output_shape"] == [None, 5, 4, 3]


# -- Lambda ------------------------------------------------------------------------------------------

def test_lambda_is_refused_with_what_to_write_instead(tmp_path):
    message = refusal(tmp_path, "input: [8]\nlayers:\n  - Dense: 4\n  - Lambda: {function: x}\n")
    assert message.startswith(str(tmp_path / "spec.yaml") + ":4:5: error: Lambda runs Python code")
    assert "`Rescaling`" in message and "`Identity`" in message and "unknown layer kind" not in message
