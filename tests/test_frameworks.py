"""paramcalc against real frameworks: figures stored in tests/fixtures/*.json by the scripts beside
them (Keras 3 `count_params()` and output shapes; PyTorch `sum(p.numel())` and shapes; fvcore MACs)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from paramcalc.errors import ParamcalcError
from tests.conftest import FIXTURES, run_dict, run_file


@cache
def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def cases(name: str) -> list[dict[str, Any]]:
    return [case for case in fixture(name)["cases"] if case.get("spec")]


def shape(value: list[int | None]) -> tuple[int | None, ...]:
    return tuple(value)


def test_fixtures_record_their_provenance():
    keras = fixture("keras_layers.json")["provenance"]
    assert keras["keras"] and keras["backend"] and keras["generator"].startswith("tests/fixtures/")
    assert fixture("keras_applications.json")["provenance"]["keras"] == keras["keras"]


def our_rows(report) -> list[tuple]:
    return [(r.name, r.type, r.output_shape, r.params, r.trainable_params, r.non_trainable_params) for r in report.rows]


def keras_rows(layers: list[dict[str, Any]]) -> list[tuple]:
    return [(k["name"], k["type"], shape(k["output_shape"]), k["params"], k["trainable_params"],
             k["non_trainable_params"]) for k in layers]


def report_or_refusal(case: dict[str, Any]):
    """The report of a fixture case, or None when the framework refused the configuration, in
    which case paramcalc must refuse it too, with its own located error."""
    if "error" in case:
        with pytest.raises(ParamcalcError):
            run_dict(case["spec"])
        return None
    report = run_dict(case["spec"])
    assert report.output_shape == shape(case["output_shape"])
    assert (report.total_params, report.trainable_params, report.non_trainable_params) == (
        case["params"], case["trainable_params"], case["non_trainable_params"])
    return report


@pytest.mark.parametrize("case", cases("keras_layers.json"), ids=lambda c: c["id"])
def test_keras_layer_case(case):
    report = report_or_refusal(case)
    if report is not None:
        assert our_rows(report) == keras_rows(case["layers"])


def application(case_id: str) -> dict[str, Any]:
    return next(c for c in fixture("keras_applications.json")["cases"] if c["id"] == case_id)


def test_mobilenet_v1_spec_matches_keras_layer_by_layer():
    keras = application("application/MobileNet_1.0_224")
    report = run_file("mobilenet_v1.yaml")
    assert our_rows(report) == keras_rows(keras["layers"])  # in Keras's order too
    assert (report.total_params, report.trainable_params, report.non_trainable_params) == (
        keras["params"], keras["trainable_params"], keras["non_trainable_params"]) == (4_253_864, 4_231_976, 21_888)


@pytest.mark.parametrize("case", cases("torch_layers.json"), ids=lambda c: c["id"])
def test_pytorch_case(case):
    """PyTorch shapes, `sum(p.numel())` and fvcore's conv/linear multiply-accumulates."""
    report = report_or_refusal(case)
    if report is not None:
        assert report.total_macs == case["macs"]


@pytest.mark.parametrize("case", cases("torch_attention.json"), ids=lambda c: c["id"])
def test_attention_against_pytorch_and_fvcore(case):
    """Self-attention: numel of PyTorch's projections, fvcore's linear + matmul (QK^T, AV) counts."""
    report = run_dict(case["spec"])
    assert (report.output_shape, report.total_params, report.total_macs) == (
        shape(case["output_shape"]), case["params"], case["macs"])


def test_pytorch_fixture_provenance_and_seed_alexnet():
    torch = fixture("torch_layers.json")
    assert torch["provenance"]["torch"].startswith("2.") and torch["provenance"]["fvcore"]
    alexnet = next(c for c in torch["cases"] if c["id"] == "model/alexnet_seed227")
    report = run_file("alexnet.yaml")
    assert (report.total_params, report.total_macs) == (alexnet["params"], alexnet["macs"]) == (60_965_224,
                                                                                                724_406_816)
    assert [r.output_shape for r in report.rows] == [shape(layer["output_shape"]) for layer in alexnet["layers"]]
    assert [r.macs for r in report.rows] == [layer["macs"] for layer in alexnet["layers"]]


def test_mobilenet_v1_macs_match_fvcore():
    torch = next(c for c in fixture("torch_layers.json")["cases"] if c["id"] == "model/mobilenet_v1_torch")
    report = run_file("mobilenet_v1.yaml")
    assert report.total_macs == torch["macs"] == 568_740_352
    # PyTorch keeps BatchNorm's moving statistics as buffers, not parameters.
    assert report.trainable_params == torch["params"]


KERAS_ZOO = [("vgg16.yaml", "application/VGG16"), ("resnet50.yaml", "application/ResNet50"),
             ("mobilenet_v2.yaml", "application/MobileNetV2_1.0_224"), ("densenet121.yaml", "application/DenseNet121"),
             ("mobilenet_v1.yaml", "application/MobileNet_1.0_224")]


@pytest.mark.parametrize("spec, case_id", KERAS_ZOO, ids=[s for s, _ in KERAS_ZOO])
def test_zoo_spec_matches_keras_application_layer_by_layer(spec, case_id):
    """Every layer of the spec is a layer of the Keras application with the same name, type, output
    shape and params, and the other way round; the totals agree."""
    keras = application(case_id)
    report = run_file(spec)
    assert sorted(our_rows(report)) == sorted(keras_rows(keras["layers"]))
    # Graph edges too: each layer reads the same layers as in Keras (the model input is named differently).
    inbound = {k["name"]: [("input" if n == "input_layer" else n) for n in k["inbound"]] for k in keras["layers"]}
    assert {r.name: list(r.inputs) for r in report.rows} == inbound
    assert (report.total_params, report.trainable_params, report.non_trainable_params) == (
        keras["params"], keras["trainable_params"], keras["non_trainable_params"])


@pytest.mark.parametrize("case", [c for c in cases("torch_layers.json") if "error" not in c], ids=lambda c: c["id"])
def test_fvcore_convention_equals_fvcore_total(case):
    """Everything fvcore counts (BatchNorm, pooling, upsampling included), layer kind by layer kind.
    A PyTorch-spelled case is the model fvcore ran: stock fvcore's figures, quirks included (a
    convolution with padding written as a word counts 0). A Keras-spelled case ran as a torch
    equivalent (`torch_equivalent`) whose padding spelling is the generator's: the patched count."""
    from paramcalc.conventions import CONVENTIONS

    report = run_dict(case["spec"])
    as_written = not any("torch_equivalent" in layer for layer in case["layers"])
    counted = case.get("fvcore_stock_by_operator", case["fvcore_by_operator"]) if as_written else (
        case["fvcore_by_operator"])
    assert CONVENTIONS["fvcore"].total(report) == sum(counted.values())
