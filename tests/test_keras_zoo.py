"""Issue 15's zoo specs (EfficientNet, MobileNetV3, ConvNeXt) against keras.applications, layer by layer:
names, types, output shapes, params and the trainable split, graph edges, and conv/dense MACs against
an independent textbook count from Keras's own kernels (tests/fixtures/make_keras_zoo_fixtures.py)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.engine import analyze
from paramcalc.spec.loader import load_spec
from tests.conftest import FIXTURES, SPECS


@cache
def zoo_case(case_id: str) -> dict[str, Any]:
    cases = json.loads((FIXTURES / "keras_zoo.json").read_text())["cases"]
    return next(c for c in cases if c["id"] == case_id)


ZOO = [("efficientnet_b0.yaml", {}, "zoo/EfficientNetB0"), ("mobilenet_v3_large.yaml", {}, "zoo/MobileNetV3Large"),
       ("mobilenet_v3_small.yaml", {}, "zoo/MobileNetV3Small"),
       ("mobilenet_v3_small.yaml", {"alpha": 0.75}, "zoo/MobileNetV3Small_alpha=0.75"),
       ("convnext_tiny.yaml", {}, "zoo/ConvNeXtTiny")]


def run(spec: str, variables: dict[str, Any]):
    return analyze(load_spec(str(SPECS / spec), variables))


def rows(report) -> list[tuple]:
    return [(r.name, r.type, r.output_shape, r.params, r.trainable_params, r.non_trainable_params) for r in report.rows]


def keras_rows(layers: list[dict[str, Any]]) -> list[tuple]:
    return [(k["name"], k["type"], tuple(k["output_shape"]), k["params"], k["trainable_params"],
             k["non_trainable_params"]) for k in layers]


@pytest.mark.parametrize("spec, variables, case_id", ZOO, ids=[i for _, _, i in ZOO])
def test_zoo_spec_matches_keras_layer_by_layer(spec, variables, case_id):
    keras = zoo_case(case_id)
    report = run(spec, variables)
    assert rows(report) == keras_rows(keras["layers"])  # in Keras's order too
    inbound = {k["name"]: [("input" if n == "input_layer" else n) for n in k["inbound"]] for k in keras["layers"]}
    assert {r.name: list(r.inputs) for r in report.rows} == inbound
    assert (report.output_shape, report.total_params, report.trainable_params, report.non_trainable_params) == (
        tuple(keras["output_shape"]), keras["params"], keras["trainable_params"], keras["non_trainable_params"])


@pytest.mark.parametrize("spec, variables, case_id", ZOO, ids=[i for _, _, i in ZOO])
def test_zoo_spec_macs_match_textbook_count_of_keras_kernels(spec, variables, case_id):
    keras = zoo_case(case_id)
    report = run(spec, variables)
    counted = {k["name"]: k["macs"] for k in keras["layers"] if "macs" in k}
    assert {r.name: r.macs for r in report.rows if r.name in counted} == counted
    assert report.total_macs == keras["conv_dense_macs"]


def test_efficientnet_b0_figures_and_check_through_the_cli():
    result = CliRunner().invoke(cli, ["check", "--strict", str(SPECS / "efficientnet_b0.yaml")])
    assert result.exit_code == 0, result.output
    keras = zoo_case("zoo/EfficientNetB0")
    assert (keras["params"], keras["non_trainable_params"], keras["conv_dense_macs"]) == (5_330_571, 42_023,
                                                                                          385_814_752)
