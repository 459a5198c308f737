"""Counting conventions: each reproduces what that tool printed for the same PyTorch model
(tests/fixtures/torchvision_models.json: fvcore, torchinfo, ptflops, thop, FlopCounterMode, with
their versions), and the torchvision-flavoured zoo specs match torchvision exactly."""

from __future__ import annotations

import json
from functools import cache

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.conventions import CONVENTIONS, apply
from tests.conftest import FIXTURES, SPECS, run_file, run_text

LENET_TORCH = """data_format: channels_first
input: [1, 32, 32]
layers:
  - Conv2d: {out_channels: 6, kernel_size: 5}
  - Tanh
  - AvgPool2d: {kernel_size: 2}
  - Conv2d: {out_channels: 16, kernel_size: 5}
  - Tanh
  - AvgPool2d: {kernel_size: 2}
  - Flatten
  - Linear: 120
  - Tanh
  - Linear: 84
  - Tanh
  - Linear: 10
"""


@cache
def models() -> dict:
    data = json.loads((FIXTURES / "torchvision_models.json").read_text())
    return {m["id"]: m for m in data["models"]}


def reports() -> dict:
    mobilenet = (SPECS / "mobilenet_v1.yaml").read_text()
    found = {f"mobilenet_v1_{a}": run_text(mobilenet.replace("alpha: 1.0 ", f"alpha: {a} "))
             for a in ("1.0", "0.75", "0.5", "0.25")}
    found["alexnet_seed"] = run_file("alexnet.yaml")
    found["lenet5"] = run_text(LENET_TORCH)
    for name in ("resnet18", "squeezenet1_1", "unet", "googlenet"):
        found[name] = run_file(f"{name}.yaml")
    found["resnet50"] = run_file("resnet50_torchvision.yaml")
    found["vgg16"] = run_file("vgg16_torchvision.yaml")
    found["mobilenet_v2"] = run_file("mobilenet_v2.yaml")  # Keras layout: the same convolutions
    return found


REPORTS = reports()


def tool_figure(model: dict, convention: str) -> int:
    return {"paper": model["conv_linear_macs"], "fvcore": model["fvcore"]["total"],
            "torchinfo": model["torchinfo"]["total_mult_adds"], "ptflops": model["ptflops_pytorch"]["macs"],
            "ptflops-aten": model["ptflops_aten"]["macs"], "thop": model["thop"]["macs_int"],
            "flop-counter": model["flop_counter_mode"]}[convention]


CASES = [(name, convention) for name in REPORTS for convention in
         ("paper", "fvcore", "torchinfo", "ptflops", "ptflops-aten", "thop", "flop-counter")]


@pytest.mark.parametrize("name, convention", CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_convention_reproduces_the_tool(name, convention):
    ours = CONVENTIONS[convention].total(REPORTS[name])
    if name == "mobilenet_v2" and convention in ("ptflops", "thop"):
        # torchvision pools with the function F.adaptive_avg_pool2d, not a module: ptflops counts it
        # once instead of twice (1280 x 7 x 7 values) and thop, which only hooks modules, not at all
        # ((49 + 1) x 1280). A spec cannot say how the PyTorch code spells its pooling.
        pool = next(row for row in REPORTS[name].rows if row.type == "GlobalAveragePooling2D")
        skipped = pool.ops["pool_input"] if convention == "ptflops" else pool.ops["pool_input"] + pool.activations
        assert ours - skipped == tool_figure(models()[name], convention)
        return
    if (name, convention) == ("googlenet", "ptflops"):
        # torchvision's BasicConv2d calls F.relu rather than an nn.ReLU module, which ptflops counts
        # once, not twice; a spec cannot say how the PyTorch code spells its ReLU. The difference is
        # exactly those ReLUs' values.
        relu = sum(row.activations for row in REPORTS[name].rows if row.type == "ReLU")
        assert ours - relu == tool_figure(models()[name], convention)
        return
    assert ours == tool_figure(models()[name], convention)


@pytest.mark.parametrize("name", list(REPORTS))
def test_params_are_the_same_under_every_convention_and_equal_pytorch(name):
    report = REPORTS[name]
    # PyTorch keeps BatchNorm statistics as buffers: compare trainable params (Keras-spelled specs).
    assert report.trainable_params == models()[name]["params"]
    for convention in CONVENTIONS:  # conventions change what is counted as operations, never params
        assert apply(report, convention).total_params == report.total_params


def test_torchvision_zoo_macs_equal_the_hook_count_and_torchvision_table():
    for name in ("resnet18", "resnet50", "squeezenet1_1", "googlenet", "vgg16", "mobilenet_v2"):
        model = models()[name]
        assert REPORTS[name].total_macs == model["conv_linear_macs"]
        assert round(REPORTS[name].total_macs / 1e9, 3) == model["torchvision_meta"]["_ops"]
        assert REPORTS[name].output_shape == tuple(model["output_shape"])


def test_convention_option_and_side_by_side_table():
    result = CliRunner().invoke(cli, ["summary", "--conventions", "--format", "json",
                                      str(SPECS / "mobilenet_v1.yaml")])
    assert result.exit_code == 0, result.output
    rows = {row["convention"]: row for row in json.loads(result.stdout)["rows"]}
    assert rows["fvcore"]["total"] == models()["mobilenet_v1_1.0"]["fvcore"]["total"]
    assert rows["paper"]["total"] == 568_740_352
    assert "BatchNormalization" in rows["fvcore"]["explained"]
    table = CliRunner().invoke(cli, ["summary", "--convention", "thop", str(SPECS / "mobilenet_v1.yaml")]).stdout
    assert "MACs (thop)" in table


@pytest.mark.parametrize("spec, model", [("vgg16.yaml", "vgg16"), ("densenet121.yaml", "densenet121"),
                                         ("mobilenet_v2.yaml", "mobilenet_v2")])
def test_keras_flavoured_zoo_macs_equal_torchvision_for_the_same_convolutions(spec, model):
    """The Keras-layout specs (checked layer by layer against Keras) have the same convolutions as
    torchvision's models: their MACs equal torchvision's forward-hook count and its table."""
    report = run_file(spec)
    assert report.total_macs == models()[model]["conv_linear_macs"]
    assert round(report.total_macs / 1e9, 3) == models()[model]["torchvision_meta"]["_ops"]


def test_the_cli_offers_every_convention():
    from paramcalc.cli import CONVENTION_NAMES

    assert CONVENTION_NAMES == list(CONVENTIONS)
