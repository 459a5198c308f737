"""Layers with several outputs (read as `name[k]`) and the operations of model code that are not layers
(Split, Chunk, Unbind, Parameter, Mean, Select, SelectToken), through the command line.

Figures come from tests/fixtures/torch_graph.json (PyTorch 2.13 + fvcore, made by
make_torch_graph_fixtures.py): every output's shape, `sum(p.numel())` split by requires_grad, fvcore's
MACs and its whole count (what the fvcore convention must reproduce)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.errors import ParamcalcError
from paramcalc.layers.base import LayerKind, LayerResult
from paramcalc.layers.registry import REGISTRY
from paramcalc.layers.traits import Cost
from tests.conftest import FIXTURES, located_text, run_text


@cache
def fixture() -> dict[str, dict[str, Any]]:
    return {case["id"]: case for case in json.loads((FIXTURES / "torch_graph.json").read_text())["cases"]}


ACCEPTED = [case_id for case_id, case in fixture().items() if "error" not in case]


def write(tmp_path: Path, spec: dict[str, Any] | str) -> Path:
    path = tmp_path / "spec.yaml"
    text = spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False, default_flow_style=None)
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def summary(path: Path, *options: str) -> dict[str, Any]:
    result = invoke("summary", "--format", "json", *options, str(path))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refusal(path: Path) -> str:
    """The one-paragraph located error of a spec paramcalc refuses (exit 2, no traceback)."""
    result = invoke("summary", str(path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith(f"{path}:") and ": error: " in message and "Fix: " in message, message
    assert "\n" not in message, message
    return message


# -- against PyTorch and fvcore ---------------------------------------------------------------------------

@pytest.mark.parametrize("case_id", ACCEPTED)
def test_pytorch_case_through_the_cli(case_id, tmp_path):
    """Every output of the module (in order), its parameters split by requires_grad, fvcore's MACs, and
    fvcore's whole count under `--convention fvcore`."""
    torch = fixture()[case_id]
    data = summary(write(tmp_path, torch["spec"]), "--convention", "fvcore")
    assert list(data["outputs"].values()) == torch["output_shapes"]
    assert (data["total_params"], data["trainable_params"], data["non_trainable_params"]) == (
        torch["params"], torch["trainable_params"], torch["non_trainable_params"])
    assert data["total_macs"] == torch["macs"]
    assert data["convention"]["total"] == torch["fvcore_total"]


# The configurations PyTorch refuses: paramcalc refuses them too, at the argument responsible (its key).
REFUSED = {
    "chunk/error-dim-out-of-range": ("dim: 3", ["`dim` is 3, outside the input's axes 1..2"]),
    "chunk/error-zero-chunks": ("chunks: 0", ["`chunks` must be a positive integer; got 0"]),
    "split/error-sections-do-not-add-up": ("split_size_or_sections: [3, 3]",
                                           ["[3, 3] adds up to 6, but axis 1 of (7, 4) has 7"]),
    "split/error-zero-size": ("split_size_or_sections: 0", ["must be a positive piece size, or a list of positive"]),
    "unbind/error-dim-out-of-range": ("dim: 3", ["`dim` is 3, outside"]),
    "select/error-index-out-of-range": ("index: 6", ["`index` is 6, outside axis 1 of (6, 2), which has 6 positions"]),
    "select-token/error-index-out-of-range": ("index: -7", ["`index` is -7, outside axis 1"]),
    "mean/error-axis-repeated": ("dim: [1, 1]", ["names axis 1 twice"]),
}


def test_every_refused_case_is_checked():
    assert sorted(REFUSED) == sorted(case_id for case_id, case in fixture().items() if "error" in case)


@pytest.mark.parametrize("case_id", sorted(REFUSED))
def test_pytorch_refuses_and_so_does_paramcalc(case_id, tmp_path):
    path = write(tmp_path, fixture()[case_id]["spec"])
    message = refusal(path)
    located, fragments = REFUSED[case_id]
    assert located_text(path, message).startswith(located), message
    for fragment in fragments:
        assert fragment in message, message


def test_shufflenet_unit_reads_each_half_by_its_index(tmp_path):
    """x1, x2 = x.chunk(2, dim=1); cat((x1, branch2(x2)), dim=1): the spec follows the code line by line."""
    torch = fixture()["shufflenet-v2/unit-stride-1"]
    data = summary(write(tmp_path, torch["spec"]))
    layers = {layer["name"]: layer for layer in data["layers"]}
    assert layers["halves"]["output_shapes"] == [[None, 58, 28, 28], [None, 58, 28, 28]]
    assert layers["halves"]["output_shape"] == [None, 58, 28, 28]  # output 0
    assert layers["conv2d"]["inputs"] == ["halves[1]"]
    assert layers["concatenate"]["inputs"] == ["halves[0]", "branch2"]
    assert (data["total_params"], data["total_macs"]) == (torch["params"], torch["macs"]) == (7_598, 5_684_000)
    assert layers["halves"]["activations"] == 116 * 28 * 28  # both halves


def test_layer_scale_parameter_is_counted_and_broadcast(tmp_path):
    """ConvNeXt's nn.Parameter(dim, 1, 1) multiplied into the block: dim params, the map's shape kept."""
    torch = fixture()["parameter/convnext-layer-scale"]
    data = summary(write(tmp_path, torch["spec"]))
    layers = {layer["name"]: layer for layer in data["layers"]}
    assert (layers["layer_scale"]["params"], layers["layer_scale"]["inputs"]) == (8, [])
    assert layers["scaled"]["output_shape"] == [None, 8, 7, 7]
    frozen = fixture()["parameter/layer-scale-frozen"]
    assert frozen["non_trainable_params"] == 8 == summary(write(tmp_path, frozen["spec"]))["non_trainable_params"]


# -- how tables, JSON, CSV and explain show several outputs -------------------------------------------------

SPLIT = """input: [8, 6, 6]
data_format: channels_first
layers:
  - Split: {split_size_or_sections: [2, 6], dim: 1, name: pieces}
  - Conv2d: {inputs: "pieces[-1]", out_channels: 4, kernel_size: 1}
"""


def test_the_table_shows_a_list_of_shapes_as_keras_does(tmp_path):
    out = invoke("summary", "--width", "160", str(write(tmp_path, SPLIT))).stdout
    assert "pieces (Split)" in out and "[(None, 2, 6, 6), (None, 6, 6, 6)]" in out
    assert "pieces[-1]" in out  # the Connected to column names the output read
    # activations: both pieces (8 x 36) and the conv's output (4 x 36)
    assert "Activations: 432 values per sample" in out


def test_csv_and_markdown_show_the_list_too(tmp_path):
    out = invoke("summary", "--format", "csv", str(write(tmp_path, SPLIT))).stdout
    assert "pieces,Split,None x 2 x 6 x 6; None x 6 x 6 x 6,0" in out
    out = invoke("summary", "--format", "markdown", str(write(tmp_path, SPLIT))).stdout
    assert "| pieces | Split | [(None, 2, 6, 6), (None, 6, 6, 6)] |" in out


def test_explain_shows_the_pieces_and_their_formula(tmp_path):
    text = "input: [5, 4]\nlayers:\n  - Chunk: {chunks: 2, dim: 1, name: halves}\n"
    out = invoke("explain", str(write(tmp_path, text))).stdout
    assert "halves (Chunk), line 3: (None, 5, 4) -> [(None, 3, 4), (None, 2, 4)]" in out
    assert "piece size  ceil(N/chunks) = ceil(5/2) = 3" in out
    text = "input: [7, 4]\nlayers:\n  - Split: {split_size_or_sections: 3, dim: 1}\n"
    assert "pieces  ceil(N/split_size) = ceil(7/3) = 3" in invoke("explain", str(write(tmp_path, text))).stdout


def test_explain_says_a_parameter_reads_no_input(tmp_path):
    text = "input: [4, 3, 3]\nlayers:\n  - Parameter: {shape: [4, 1, 1], name: gamma}\n"
    out = invoke("explain", str(write(tmp_path, text))).stdout
    assert "gamma (Parameter), line 3: (no input) -> (None, 4, 1, 1)" in out
    assert "params  4 x 1 x 1 = 4" in out


def test_paramcalc_layers_shows_the_examples():
    out = invoke("layers", "Chunk", "Parameter").stdout
    assert "[(None, 2, 9, 9), (None, 2, 9, 9)]" in out
    assert "on no input" in out


# -- references -------------------------------------------------------------------------------------------

def test_model_outputs_default_to_every_piece_of_the_last_layer():
    report = run_text("input: [6, 2]\nlayers:\n  - Chunk: {chunks: 3, dim: 1, name: c}\n")
    assert report.outputs == {"c[0]": (None, 2, 2), "c[1]": (None, 2, 2), "c[2]": (None, 2, 2)}


def test_outputs_may_name_one_output_or_the_whole_layer():
    text = "input: [6, 2]\nlayers:\n  - Chunk: {chunks: 3, dim: 1, name: c}\n  - ReLU: {inputs: 'c[1]', name: r}\n"
    assert run_text(text + "outputs: ['c[-1]', r]\n").outputs == {"c[-1]": (None, 2, 2), "r": (None, 2, 2)}
    assert list(run_text(text + "outputs: [c]\n").outputs) == ["c[0]", "c[1]", "c[2]"]


def test_a_single_piece_is_still_read_by_its_index():
    """torch.split(x, 10, dim=1) on 7 values gives a 1-tuple: code reads pieces[0], and so does a spec."""
    text = "input: [7, 4]\nlayers:\n  - Split: {split_size_or_sections: 10, dim: 1, name: p}\n"
    assert run_text(text + "  - ReLU: {inputs: 'p[0]'}\n").output_shape == (None, 7, 4)
    bare = r"reads `p` without saying which output: Split `p` has 1 output, `p\[0\]` \(None, 7, 4\)"
    with pytest.raises(ParamcalcError, match=bare):
        run_text(text + "  - ReLU\n")


def test_blocks_pass_and_return_single_outputs():
    text = """input: [8, 4, 4]
data_format: channels_first
blocks:
  halve:
    layers:
      - Chunk: {chunks: 2, dim: 1, name: split}
    output: "split[1]"
  mix:
    args: {other: null}
    layers:
      - Add: {inputs: [input, other]}
layers:
  - Chunk: {chunks: 2, dim: 1, name: halves}
  - halve: {inputs: "halves[0]", name: h}
  - mix: {inputs: "halves[1]", other: "halves[0]", name: m}
"""
    report = run_text(text)
    rows = {row.name: row for row in report.rows}
    assert rows["h.split"].inputs == ("halves[0]",) and rows["h.split"].output_shape == (None, 2, 4, 4)
    assert rows["m.add"].inputs == ("halves[1]", "halves[0]")
    assert report.outputs == {"m.add": (None, 4, 4, 4)}
    assert run_text(text.replace("name: m}", "name: m}\n  - ReLU: {inputs: h}")).output_shape == (None, 2, 4, 4)


def test_a_reference_is_canonical_whatever_its_digits():
    text = "input: [6, 2]\nlayers:\n  - Chunk: {chunks: 3, dim: 1, name: c}\n  - ReLU: {inputs: 'c[01]'}\n"
    assert run_text(text).rows[-1].inputs == ("c[1]",)


def test_every_wrong_name_in_inputs_is_reported_at_once():
    text = "input: [6, 2]\nlayers:\n  - Chunk: {chunks: 3, dim: 1, name: c}\n" \
           "  - Add: {inputs: ['nope[0]', 'c[0]', other]}\n"
    with pytest.raises(ParamcalcError) as caught:
        run_text(text)
    messages = [error.message for error in caught.value.each()]
    assert messages == ["no layer or input is named `nope`", "no layer or input is named `other`"]


def test_a_layer_reading_a_failed_layer_s_piece_is_skipped():
    text = "input: [6, 2]\nlayers:\n  - Chunk: {chunks: 3, dim: 4, name: c}\n  - ReLU: {inputs: 'c[0]'}\n"
    with pytest.raises(ParamcalcError) as caught:
        run_text(text)
    assert [error.loc.line for error in caught.value.each()] == [3]


def test_the_model_input_has_one_output():
    with pytest.raises(ParamcalcError, match=r"reads `input\[0\]`, but `input` has one output"):
        run_text("input: [6, 2]\nlayers:\n  - ReLU: {inputs: 'input[0]'}\n")


def test_a_parameter_reads_nothing_even_below_a_layer():
    """It takes no `inputs:` and not the layer above; with several model inputs it needs none either."""
    report = run_text("inputs: {a: [4, 3], b: [4, 3]}\nlayers:\n  - Parameter: {shape: [4, 1], name: w}\n"
                      "  - Multiply: {inputs: [a, w]}\n  - Add: {inputs: [multiply, b]}\n")
    assert report.rows[0].inputs == () and report.rows[0].input_shape == (None,)
    assert (report.total_params, report.output_shape) == (4, (None, 4, 3))
    assert not report.is_chain


def test_parameter_trainable_false_is_non_trainable_too():
    report = run_text("input: [4]\nlayers:\n  - Parameter: {shape: [2, 3], trainable: false}\n")
    assert (report.trainable_params, report.non_trainable_params) == (0, 6)


def test_an_empty_inputs_list_is_only_for_a_parameter():
    assert run_text("input: [4]\nlayers:\n  - Parameter: {shape: 4, inputs: []}\n").total_params == 4
    with pytest.raises(ParamcalcError, match="`inputs` is empty"):
        run_text("input: [4]\nlayers:\n  - ReLU: {inputs: []}\n")


# -- free dimensions --------------------------------------------------------------------------------------

def test_a_free_dimension_cannot_be_split_into_a_known_number_of_pieces():
    with pytest.raises(ParamcalcError, match="its size depends on free dimensions"):
        run_text("input: [4, H, W]\nlayers:\n  - Unbind: {dim: 2}\n")


def test_free_dimensions_pass_through_other_axes():
    report = run_text("input: [4, H, W]\nlayers:\n  - Chunk: {chunks: 2, dim: 1, name: c}\n"
                      "  - Mean: {inputs: 'c[1]', dim: [2, 3]}\n  - Select: {inputs: 'c[0]', dim: -1, index: 0}\n",)
    assert [str(s) for s in report.rows[0].output_shapes] == ["(None, 2, H, W)", "(None, 2, H, W)"]
    assert report.rows[1].output_shape == (None, 2)
    assert [str(d) for d in report.rows[2].output_shape] == ["None", "2", "H"]


# -- the contract for other families: a main output with extras (an RNN's states) ------------------------

class TwoOutputs(LayerKind):
    """A stand-in for an RNN with return_state: the sequence is output 0 and the main output."""

    name = "TwoOutputsForTest"
    cost = Cost.RESHAPE

    @classmethod
    def compute(cls, a, shape, ctx):
        return LayerResult(shape, extra_outputs=(shape[-1:],))


def test_a_bare_name_reads_the_main_output(monkeypatch):
    monkeypatch.setitem(REGISTRY, TwoOutputs.name, TwoOutputs)
    text = "input: [5, 3]\nlayers:\n  - TwoOutputsForTest: {name: rnn}\n"
    report = run_text(text + "  - Dense: {units: 2, name: seq}\n  - Dense: {units: 2, inputs: 'rnn[1]', name: h}\n"
                      "outputs: [seq, h]\n")
    rows = {row.name: row for row in report.rows}
    assert rows["seq"].output_shape == (None, 5, 2) and rows["h"].output_shape == (None, 2)
    assert rows["rnn"].output_shapes == ((None, 5, 3), (None, 3)) and rows["rnn"].activations == 18
    assert list(run_text(text).outputs) == ["rnn[0]", "rnn[1]"]  # a model ending in it returns both


@pytest.mark.parametrize("layer", ["Unbind: {dim: 1}", "Split: {split_size_or_sections: 1, dim: 1}",
                                   "Chunk: {chunks: 1000000000000, dim: 1}"])
def test_a_layer_cannot_make_more_than_ten_thousand_outputs(layer, tmp_path):
    path = write(tmp_path, f"input: [{10**12}, 2]\nlayers:\n  - {layer}\n")
    assert "would make 1,000,000,000,000 outputs from axis 1 of (1000000000000, 2)" in refusal(path)


def test_an_index_of_more_than_a_hundred_digits_is_no_reference():
    index = "9" * 5000  # more digits than Python's int() reads
    text = f"input: [4, 2]\nlayers:\n  - Chunk: {{chunks: 2, dim: 1, name: a}}\n  - ReLU: {{inputs: 'a[{index}]'}}\n"
    with pytest.raises(ParamcalcError, match="no layer or input is named `a"):
        run_text(text)
