"""Issue 15's vision families, one spec each with vars, every member equal to its framework:
torchvision's ResNet (18-152, ResNeXt, Wide ResNet), RegNet X and Y, VGG with and without BatchNorm,
DenseNet, ConvNeXt, EfficientNet B0-B7 and EfficientNetV2, and two hand-built PyTorch references (the
CIFAR ResNets with option-A shortcuts, ShuffleNet v1) (tests/fixtures/vision_families.json, made by
make_vision_family_fixtures.py):
params (all trainable, as PyTorch counts), BatchNorm buffers, output shape, forward-hook conv/linear
MACs, torchvision's own GFLOPS and parameter figures, and the parameterised layers in forward order."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.spec.expr import ExpressionError, index_of, pick
from tests.conftest import FIXTURES, SPECS, located_text, refusal

REGNETS = [f"{kind}_{size}" for kind in ("y", "x") for size in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf",
                                                                   "32gf")] + ["y_128gf"]
# fixture id -> (spec file, {var: value})
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    **{f"resnet{d}": ("resnet_family.yaml", {"depth": d}) for d in (18, 34, 50, 101, 152)},
    "resnext50_32x4d": ("resnet_family.yaml", {"groups": 32, "width_per_group": 4}),
    "resnext101_32x8d": ("resnet_family.yaml", {"depth": 101, "groups": 32, "width_per_group": 8}),
    "resnext101_64x4d": ("resnet_family.yaml", {"depth": 101, "groups": 64, "width_per_group": 4}),
    "wide_resnet50_2": ("resnet_family.yaml", {"width_per_group": 128}),
    "wide_resnet101_2": ("resnet_family.yaml", {"depth": 101, "width_per_group": 128}),
    **{f"regnet_{m}": ("regnet_family.yaml", {"model": m}) for m in REGNETS},
    **{f"vgg{d}{bn}": ("vgg_family.yaml", {"depth": d, "batch_norm": bool(bn)})
       for d in (11, 13, 16, 19) for bn in ("", "_bn")},
    **{f"densenet{d}": ("densenet_family.yaml", {"depth": d}) for d in (121, 161, 169, 201)},
    **{f"convnext_{m}": ("convnext_family.yaml", {"model": m}) for m in ("tiny", "small", "base", "large")},
    **{f"efficientnet_v2_{m}": ("efficientnet_v2.yaml", {"model": m}) for m in ("s", "m", "l")},
    **{f"efficientnet_b{b}": ("efficientnet_torchvision.yaml", {"model": f"b{b}"}) for b in range(8)},
}
# The hand-built PyTorch references of the generator (torchvision has neither): the CIFAR ResNets with
# option-A shortcuts (and option B at two depths) and ShuffleNet v1 at its five group counts.
HAND_BUILT: dict[str, tuple[str, dict[str, Any]]] = {
    **{f"cifar_resnet{d}": ("resnet_cifar.yaml", {"depth": d}) for d in (20, 32, 44, 56, 110)},
    **{f"cifar_resnet{d}_b": ("resnet_cifar.yaml", {"depth": d, "shortcut": "B"}) for d in (20, 56)},
    **{f"shufflenet_v1_g{g}": ("shufflenet_v1.yaml", {"groups": g}) for g in (1, 2, 3, 4, 8)},
}


@cache
def models() -> dict[str, dict[str, Any]]:
    data = json.loads((FIXTURES / "vision_families.json").read_text())
    return {m["id"]: m for m in data["models"]}


def options(variables: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for name, value in variables.items():
        out += ["--set", f"{name}={str(value).lower() if isinstance(value, bool) else value}"]
    return out


@cache
def summary(model_id: str) -> dict[str, Any]:
    spec, variables = {**CASES, **HAND_BUILT}[model_id]
    result = CliRunner().invoke(cli, ["summary", "--format", "json", *options(variables), str(SPECS / spec)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_fixture_model_has_a_case():
    torchvision = {m for m, entry in models().items() if "torchvision_meta" in entry}
    assert torchvision == set(CASES)
    assert set(models()) - torchvision == set(HAND_BUILT)


@pytest.mark.parametrize("model_id", [*CASES, *HAND_BUILT])
def test_params_shape_and_macs_equal_pytorch(model_id):
    report, model = summary(model_id), models()[model_id]
    assert report["total_params"] == model["params"]
    assert (report["trainable_params"], report["non_trainable_params"]) == (model["params"], 0)
    assert report["output_shape"] == model["output_shape"]
    assert report["total_macs"] == model["conv_linear_macs"]
    batchnorm = sum(row["params"] for row in report["layers"] if row["type"] == "BatchNorm2d")
    assert batchnorm == model["buffers"]  # running mean and variance: as many as weight and bias


@pytest.mark.parametrize("model_id", list(CASES))
def test_torchvision_own_table_agrees(model_id):
    """torchvision's weights metadata: num_params, and _ops = GMACs rounded to 3 decimals (its
    "GFLOPS" column). RegNetY-128GF has no IMAGENET1K_V1 weights, so no figure at 224."""
    report, meta = summary(model_id), models()[model_id]["torchvision_meta"]
    if meta["weights"] is None:
        assert model_id == "regnet_y_128gf"
        return
    assert report["total_params"] == meta["num_params"]
    assert round(report["total_macs"] / 1e9, 3) == meta["_ops"]


@pytest.mark.parametrize("model_id", [*CASES, *HAND_BUILT])
def test_parameterised_layers_in_forward_order(model_id):
    """Layer by layer: the spec's layers with weights, in order, own what torchvision's leaf modules
    own, in forward execution order (ConvNeXt's layer scales are parameters of the non-leaf CNBlock)."""
    report, model = summary(model_id), models()[model_id]
    ours = [row["params"] for row in report["layers"] if row["params"] and row["type"] != "Parameter"]
    assert ours == model["layer_params"]
    scales = sum(row["params"] for row in report["layers"] if row["type"] == "Parameter")
    assert scales == sum(model.get("non_leaf_params", {}).values())


@pytest.mark.parametrize("spec", ["resnet_family.yaml", "regnet_family.yaml", "vgg_family.yaml",
                                  "densenet_family.yaml", "convnext_family.yaml", "resnet_cifar.yaml",
                                  "efficientnet_v2.yaml", "efficientnet_torchvision.yaml",
                                  "shufflenet_v1.yaml"])
def test_family_specs_pass_check_at_their_defaults(spec):
    result = CliRunner().invoke(cli, ["check", "--strict", str(SPECS / spec)])
    assert result.exit_code == 0, result.output


def test_index_of_and_pick_make_a_lookup_table():
    assert index_of("b", "a", "b", "c") == 1
    assert index_of(161, 121, 161) == 1
    assert pick(2, 10, 20, 30) == 30
    assert pick(1, "a", "b") == "b"
    with pytest.raises(ExpressionError) as error:
        index_of("z", "a", "b")
    assert "'a', 'b'" in error.value.hint
    for bad in (3, -1, "a"):
        with pytest.raises(ExpressionError):
            pick(bad, 10, 20, 30)


def test_an_unknown_family_member_is_refused_with_the_members(tmp_path):
    text = (SPECS / "regnet_family.yaml").read_text().replace("model: y_400mf", "model: y_400")
    path = tmp_path / "regnet.yaml"
    path.write_text(text)
    message = refusal(path)
    assert "'y_400'" in message and "'x_32gf'" in message and "'y_128gf'" in message
    assert located_text(path, message).startswith('"index_of(model,')


def test_option_a_shortcuts_have_no_weights_and_option_b_has_its_projections():
    """ResNet-20: option B adds two 1x1 projections with their BatchNorms (16x32 + 2x32 and 32x64 +
    2x64 weights) and nothing else; the difference is PyTorch's too."""
    a, b = summary("cifar_resnet20"), summary("cifar_resnet20_b")
    assert b["total_params"] - a["total_params"] == 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64 == 2_752
    assert models()["cifar_resnet20_b"]["params"] - models()["cifar_resnet20"]["params"] == 2_752
    shortcut = [row for row in a["layers"] if row["type"] in ("Slice", "Pad")]
    assert len(shortcut) == 4 and not any(row["params"] for row in shortcut)
    assert [row["output_shape"] for row in shortcut if row["type"] == "Pad"] == [[None, 32, 16, 16], [None, 64, 8, 8]]
