"""The slicing kinds of model code, Slice (`x[:, :, ::2, ::2]`) and Pad (F.pad), against PyTorch and
fvcore (tests/fixtures/torch_slicing.json, made by make_torch_slicing_fixtures.py), alone and as the
original ResNet's option-A shortcut, through the command line."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import FIXTURES, located_text, refusal, run_text


@cache
def fixture() -> dict[str, dict[str, Any]]:
    return {case["id"]: case for case in json.loads((FIXTURES / "torch_slicing.json").read_text())["cases"]}


ACCEPTED = [case_id for case_id, case in fixture().items() if "error" not in case]


def write(tmp_path: Path, spec: dict[str, Any] | str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False, default_flow_style=None))
    return path


@pytest.mark.parametrize("case_id", ACCEPTED)
def test_pytorch_case_through_the_cli(case_id, tmp_path):
    torch = fixture()[case_id]
    result = CliRunner().invoke(cli, ["summary", "--format", "json", "--convention", "fvcore",
                                      str(write(tmp_path, torch["spec"]))])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [data["output_shape"]] == torch["output_shapes"]
    assert (data["total_params"], data["trainable_params"], data["non_trainable_params"]) == (
        torch["params"], torch["trainable_params"], torch["non_trainable_params"])
    assert data["total_macs"] == torch["macs"]
    assert data["convention"]["total"] == torch["fvcore_total"]


def test_option_a_shortcut_has_no_weights():
    """The whole block's weights are its two convs and BatchNorms: the shortcut adds none."""
    torch = fixture()["option-a/downsampling-block"]
    assert torch["params"] == 16 * 32 * 9 + 32 * 32 * 9 + 2 * (2 * 32) == 13_952


REFUSED = {"pad/error-crops-everything": ("pad: [-6, 0]", "leaves axis 2 of (None, 3, 5) with -1 positions")}


def test_every_refused_case_is_checked():
    assert sorted(REFUSED) == sorted(case_id for case_id, case in fixture().items() if "error" in case)


@pytest.mark.parametrize("case_id", sorted(REFUSED))
def test_pytorch_refuses_and_so_does_paramcalc(case_id, tmp_path):
    path = write(tmp_path, fixture()[case_id]["spec"])
    message = refusal(path)
    located, fragment = REFUSED[case_id]
    assert located_text(path, message).startswith(located) and fragment in message, message


@pytest.mark.parametrize("layer, located, fragment", [
    # PyTorch gives an empty tensor here; no model means it, so paramcalc says so.
    ("Slice: {dim: 1, start: 5, end: 2}", "start: 5", "keeps nothing of axis 1"),
    ("Slice: {dim: 0, step: 2}", "dim: 0", "the batch axis"),
    ("Slice: {dim: [3, -1], step: 2}", "dim: [3, -1]", "names an axis twice"),
    ("Slice: {dim: 1, step: 0}", "step: 0", "must be a positive integer"),
    ("Pad: {pad: [1, 2, 3]}", "pad: [1, 2, 3]", "an even-length list"),
    ("Pad: {pad: [0, 0, 0, 0, 0, 0, 1, 1]}", "pad: [0", "pads 4 axes"),
    ("Pad: {pad: [1, 1], mode: reflect}", "mode: reflect", "constant"),
])
def test_bad_slicing_is_refused_where_written(layer, located, fragment, tmp_path):
    path = write(tmp_path, f"name: t\ndata_format: channels_first\ninput: [4, 6, 6]\nlayers:\n  - {layer}\n")
    message = refusal(path)
    assert located_text(path, message).startswith(located) and fragment in message, message


def test_slice_length_follows_python_for_every_small_case_and_any_size():
    """Python's slice rules in plain integers: equal to range()[start:end:step] on small sizes, and
    exact on a size no C integer holds (the fuzzer's 10**31 once crashed slice.indices)."""
    from paramcalc.layers.tensor import slice_length

    for n in range(12):
        for start in (None, *range(-14, 15)):
            for end in (None, *range(-14, 15)):
                for step in range(1, 5):
                    assert slice_length(n, start, end, step) == len(range(n)[start:end:step])
    assert slice_length(10**31 + 2, None, None, 2) == 5 * 10**30 + 1


def test_a_huge_axis_is_sliced_not_a_crash():
    report = run_text("name: s\ndata_format: channels_first\ninput: [3, 10000000000000000000000000000002, 8]\n"
                      "layers:\n  - Slice: {dim: [2, 3], step: 2}\n")
    assert report.rows[0].output_shape == (None, 3, 5 * 10**30 + 1, 4)
