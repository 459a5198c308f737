"""Issue 15's Keras vision specs against keras.applications (tests/fixtures/keras_vision_families.json,
made by make_keras_vision_family_fixtures.py): ResNetV2 at depths 50 / 101 / 152, Xception, the
EfficientNet family B0-B7 and ConvNeXt T/S/B/L layer by layer (names, types, output shapes, params and the trainable
split, graph edges, Keras's own layer order) with conv/dense MACs against an independent textbook count
of Keras's kernels; InceptionV3 the same by name (Keras's own order interleaves its branches); MobileNetV3
with alpha and minimalistic in totals, the trainable split, MACs and the multiset of layers."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from paramcalc.engine import analyze
from paramcalc.spec.loader import load_spec
from tests.conftest import FIXTURES, SPECS


@cache
def keras_case(case_id: str) -> dict[str, Any]:
    cases = json.loads((FIXTURES / "keras_vision_families.json").read_text())["cases"]
    return next(c for c in cases if c["id"] == case_id)


@cache
def run(spec: str, variables: tuple[tuple[str, Any], ...]):
    return analyze(load_spec(str(SPECS / spec), dict(variables)))


LAYER_BY_LAYER = [
    ("resnet_v2.yaml", (), "families/ResNet50V2"),
    ("resnet_v2.yaml", (("depth", 101),), "families/ResNet101V2"),
    ("resnet_v2.yaml", (("depth", 152),), "families/ResNet152V2"),
    ("xception.yaml", (), "families/Xception"),
    *[("efficientnet.yaml", (("model", f"b{b}"),), f"families/EfficientNetB{b}") for b in range(8)],
    *[("convnext.yaml", (("model", m.lower()),), f"families/ConvNeXt{m}") for m in ("Tiny", "Small", "Base", "Large")],
]
IDS = [case_id for _, _, case_id in LAYER_BY_LAYER]


def rows(report) -> list[tuple]:
    return [(r.name, r.type, r.output_shape, r.params, r.trainable_params, r.non_trainable_params) for r in report.rows]


def keras_rows(layers: list[dict[str, Any]]) -> list[tuple]:
    return [(k["name"], k["type"], tuple(k["output_shape"]), k["params"], k["trainable_params"],
             k["non_trainable_params"]) for k in layers]


@pytest.mark.parametrize("spec, variables, case_id", LAYER_BY_LAYER, ids=IDS)
def test_spec_matches_keras_layer_by_layer(spec, variables, case_id):
    keras, report = keras_case(case_id), run(spec, variables)
    assert rows(report) == keras_rows(keras["layers"])  # in Keras's order too
    inbound = {k["name"]: [("input" if n == "input_layer" else n) for n in k["inbound"]] for k in keras["layers"]}
    assert {r.name: list(r.inputs) for r in report.rows} == inbound
    assert (report.output_shape, report.total_params, report.trainable_params, report.non_trainable_params) == (
        tuple(keras["output_shape"]), keras["params"], keras["trainable_params"], keras["non_trainable_params"])


@pytest.mark.parametrize("spec, variables, case_id", LAYER_BY_LAYER, ids=IDS)
def test_macs_match_the_textbook_count_of_keras_kernels(spec, variables, case_id):
    keras, report = keras_case(case_id), run(spec, variables)
    counted = {k["name"]: k["macs"] for k in keras["layers"] if "macs" in k}
    assert {r.name: r.macs for r in report.rows if r.name in counted} == counted
    assert report.total_macs == keras["conv_dense_macs"]


@pytest.mark.parametrize("spec", ["resnet_v2.yaml", "xception.yaml", "efficientnet.yaml", "inception_v3.yaml",
                                  "convnext.yaml"])
def test_specs_pass_check_at_their_defaults(spec):
    from click.testing import CliRunner

    from paramcalc.cli import cli

    result = CliRunner().invoke(cli, ["check", "--strict", str(SPECS / spec)])
    assert result.exit_code == 0, result.output


def test_efficientnet_block_letters_come_from_pick():
    """B7's stage 6 has ceil(3.1 x 4) = 13 blocks, block6a ... block6m, as Keras names them."""
    names = {r.name for r in run("efficientnet.yaml", (("model", "b7"),)).rows}
    assert {"block6a_dwconv", "block6m_add"} <= names and "block6n_dwconv" not in names


MOBILENET_V3 = [(kind, alpha, minimalistic) for kind in ("Large", "Small") for alpha in (1.0, 0.75)
                for minimalistic in (False, True)]


@pytest.mark.parametrize("kind, alpha, minimalistic", MOBILENET_V3,
                         ids=[f"{k}-{a}-{'minimalistic' if m else 'full'}" for k, a, m in MOBILENET_V3])
def test_mobilenet_v3_alpha_and_minimalistic_equal_keras(kind, alpha, minimalistic):
    """Totals, the trainable split, output shape and MACs at every member; the layers as a multiset of
    (type, output shape, params split), since minimalistic renames Keras's auto-named layers."""
    keras = keras_case(f"families/MobileNetV3{kind}_alpha={alpha}_minimalistic={minimalistic}")
    report = run(f"mobilenet_v3_{kind.lower()}.yaml", (("alpha", alpha), ("minimalistic", minimalistic)))
    assert (report.output_shape, report.total_params, report.trainable_params, report.non_trainable_params,
            report.total_macs) == (tuple(keras["output_shape"]), keras["params"], keras["trainable_params"],
                                   keras["non_trainable_params"], keras["conv_dense_macs"])
    assert sorted(row[1:] for row in rows(report)) == sorted(row[1:] for row in keras_rows(keras["layers"]))


def test_inception_v3_matches_keras_layer_by_layer_in_any_order():
    """Every layer by name: type, output shape, params and the trainable split, and the layers it reads
    (in order); the conv/dense MACs against the textbook count. Keras lists InceptionV3's layers in an
    order of its graph walk that interleaves the branches; the spec writes them branch by branch."""
    keras, report = keras_case("families/InceptionV3"), run("inception_v3.yaml", ())
    ours = {row[0]: row[1:] for row in rows(report)}
    assert ours == {row[0]: row[1:] for row in keras_rows(keras["layers"])}
    inbound = {k["name"]: [("input" if n == "input_layer" else n) for n in k["inbound"]] for k in keras["layers"]}
    assert {r.name: list(r.inputs) for r in report.rows} == inbound
    counted = {k["name"]: k["macs"] for k in keras["layers"] if "macs" in k}
    assert {r.name: r.macs for r in report.rows if r.name in counted} == counted
    assert (report.output_shape, report.total_params, report.trainable_params, report.non_trainable_params,
            report.total_macs) == (tuple(keras["output_shape"]), keras["params"], keras["trainable_params"],
                                   keras["non_trainable_params"], keras["conv_dense_macs"])
