"""EfficientNetV2-S/M/L (issue 15, "Families the published tables use"): specs/efficientnet_v2.yaml's
members, picked by `model` from a stage table, each equal to torchvision 0.29.1's efficientnet_v2_s/m/l
at its evaluation size (tests/fixtures/efficientnet_v2.json, made by make_efficientnet_v2_fixtures.py:
sum(p.numel()), the output shape, FlopCounterMode / 2, and torchvision's own num_params and _ops)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import FIXTURES, SPECS, located_text, refusal

MEMBERS = {"efficientnet_v2_s": "s", "efficientnet_v2_m": "m", "efficientnet_v2_l": "l"}


@cache
def models() -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in json.loads((FIXTURES / "efficientnet_v2.json").read_text())["models"]}


@cache
def member(name: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["summary", "--format", "json", "--set", f"model={MEMBERS[name]}",
                                      str(SPECS / "efficientnet_v2.yaml")])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_fixture_model_is_a_member():
    assert set(models()) == set(MEMBERS)


@pytest.mark.parametrize("name", list(MEMBERS))
def test_each_member_equals_torchvision(name):
    report, model = member(name), models()[name]
    assert (report["total_params"], report["trainable_params"]) == (model["params"], model["params"])
    assert report["output_shape"] == model["output_shape"]
    assert report["total_macs"] == model["macs"]
    # the member's resolution is the evaluation crop of torchvision's weights
    assert report["input_shape"][1:] == model["input"] == [3, *model["torchvision_eval_size"] * 2]


@pytest.mark.parametrize("name", list(MEMBERS))
def test_torchvisions_own_table_agrees(name):
    report, model = member(name), models()[name]
    assert report["total_params"] == model["torchvision_num_params"]
    assert round(report["total_macs"] / 1e9, 3) == model["torchvision_ops"]


def test_the_spec_passes_check_at_its_defaults():
    result = CliRunner().invoke(cli, ["check", "--strict", str(SPECS / "efficientnet_v2.yaml")])
    assert result.exit_code == 0, result.output


def test_an_unknown_member_is_refused_with_the_members(tmp_path):
    path = tmp_path / "effv2.yaml"
    path.write_text((SPECS / "efficientnet_v2.yaml").read_text().replace("model: s", "model: xl"))
    message = refusal(path)
    assert "'xl'" in message and "'s', 'm', 'l'" in message
    assert located_text(path, message).startswith('"index_of(model,')


def test_keras_builds_the_same_trainable_params():
    """keras.applications.EfficientNetV2S/M/L (tests/fixtures/keras_efficientnet_v2.json): the trainable params
    equal torchvision's; Keras's total adds BatchNormalization's moving statistics (the paper's 22M for S rounds
    Keras's 21.6M, where torchvision's 21.5M would round to 21M)."""
    keras = json.loads((FIXTURES / "keras_efficientnet_v2.json").read_text())["cases"]
    for case, name in zip(keras, MEMBERS):
        assert case["trainable_params"] == member(name)["total_params"]
        assert case["params"] > case["trainable_params"]
    assert round(keras[0]["params"] / 1e6) == 22 and round(member("efficientnet_v2_s")["total_params"] / 1e6) == 21
