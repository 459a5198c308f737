"""Recurrent layers and the Keras wrappers (issue 14), through the CLI.

Figures come from the frameworks (tests/fixtures/keras_rnn.json: Keras 3 params, the trainable split and
output shapes; tests/fixtures/torch_rnn.json: PyTorch numel and shapes, the multiply-accumulates of the
computation unrolled step by step, and what fvcore, FlopCounterMode, thop, ptflops and torchinfo print,
each reproduced by its counting convention). A configuration a framework refuses, paramcalc refuses
with a located one-paragraph error."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from paramcalc.cli import cli
from tests.conftest import FIXTURES, SPECS


@cache
def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def cases(name: str, vocabulary: str | None = None) -> list[dict[str, Any]]:
    return [c for c in fixture(name)["cases"] if vocabulary is None or c.get("vocabulary") == vocabulary]


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input)


def summary(spec: str | dict[str, Any], *options: str) -> dict[str, Any]:
    text = spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False)
    result = invoke("summary", "-", "--format", "json", *options, input=text)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refusal(spec: str | dict[str, Any]) -> str:
    """A located one-paragraph error with exit code 2 and no traceback; its text."""
    text = spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False)
    result = invoke("summary", "-", input=text)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    assert re.match(r"<stdin>:\d+:\d+: error: ", result.stderr), result.stderr
    return " ".join(result.stderr.split())


def rows(report: dict[str, Any]) -> list[tuple]:
    return [(r["name"], r["type"], r["output_shape"], r["params"], r["trainable_params"], r["non_trainable_params"])
            for r in report["layers"]]


# ---- against Keras 3 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", cases("keras_rnn.json"), ids=lambda c: c["id"])
def test_keras_case(case):
    if "error" in case:
        refusal(case["spec"])
        return
    report = summary(case["spec"])
    assert report["output_shape"] == case["output_shape"]
    assert (report["total_params"], report["trainable_params"], report["non_trainable_params"]) == (
        case["params"], case["trainable_params"], case["non_trainable_params"])
    assert rows(report) == [(k["name"], k["type"], k["output_shape"], k["params"], k["trainable_params"],
                             k["non_trainable_params"]) for k in case["layers"]]


def test_keras_fixture_provenance():
    provenance = fixture("keras_rnn.json")["provenance"]
    assert provenance["keras"] == "3.15.1" and provenance["generator"] == "tests/fixtures/make_keras_rnn_fixtures.py"


def test_the_issue_figures_lstm_10_to_20():
    """Keras's LSTM has one bias vector per gate, PyTorch's two: 2,480 vs 2,560 params for 10 -> 20."""
    keras = next(c for c in cases("keras_rnn.json") if c["id"] == "LSTM/units20")
    torch = next(c for c in cases("torch_rnn.json") if c["id"] == "LSTM/10-20")
    assert (keras["params"], torch["params"]) == (2480, 2560)
    assert summary("input: [5, 10]\nlayers: [{LSTM: 20}]")["total_params"] == 2480
    assert summary("input: [5, 10]\nlayers: [{LSTM: {hidden_size: 20}}]")["total_params"] == 2560


# ---- against PyTorch and the counters ----------------------------------------------------------------------

TOOLS = {"fvcore": "fvcore", "flop-counter": "flop_counter", "thop": "thop", "ptflops": "ptflops",
         "ptflops-aten": "ptflops_aten", "torchinfo": "torchinfo"}


@pytest.mark.parametrize("case", cases("torch_rnn.json", "torch"), ids=lambda c: c["id"])
def test_pytorch_case(case):
    if "error" in case:
        refusal(case["spec"])
        return
    report = summary(case["spec"])
    assert report["output_shape"] == case["output_shape"]
    assert [r["output_shape"] for r in report["layers"]] == case["layer_output_shapes"]
    assert (report["total_params"], report["trainable_params"], report["non_trainable_params"]) == (
        case["params"], case["trainable_params"], case["non_trainable_params"])
    assert report["total_macs"] == case["macs"]


@pytest.mark.parametrize("convention", TOOLS)
@pytest.mark.parametrize("case", [c for c in cases("torch_rnn.json", "torch") if "error" not in c],
                         ids=lambda c: c["id"])
def test_each_convention_prints_what_its_tool_prints(case, convention):
    """fvcore 0 for a whole-sequence layer (no handle for aten::lstm), FlopCounterMode 0 for a fused LSTM,
    thop without proj_size, ptflops without the projection, torchinfo params x steps: quirks included."""
    assert summary(case["spec"], "--convention", convention)["convention"]["total"] == case[TOOLS[convention]]


@pytest.mark.parametrize("case", [c for c in cases("torch_rnn.json", "keras") if "error" not in c],
                         ids=lambda c: c["id"])
def test_keras_layers_macs_against_a_torch_equivalent_unrolled(case):
    report = summary(case["spec"])
    assert (report["output_shape"], report["total_macs"]) == (case["output_shape"], case["macs"])


def test_torch_fixture_provenance():
    provenance = fixture("torch_rnn.json")["provenance"]
    assert provenance["torch"].startswith("2.13") and provenance["fvcore"] and provenance["thop"]


def test_imdb_zoo_spec_is_the_keras_model():
    keras = next(c for c in cases("keras_rnn.json") if c["id"] == "model/imdb_bidirectional_lstm")
    torch = next(c for c in cases("torch_rnn.json") if c["id"] == "keras/model/imdb_bidirectional_lstm")
    report = json.loads(invoke("summary", str(SPECS / "imdb_lstm.yaml"), "--format", "json").stdout)
    assert rows(report) == [(k["name"], k["type"], k["output_shape"], k["params"], k["trainable_params"],
                             k["non_trainable_params"]) for k in keras["layers"]]
    assert (report["total_params"], report["total_macs"]) == (keras["params"], torch["macs"]) == (2_757_761,
                                                                                                  39_321_728)
    assert invoke("check", str(SPECS / "imdb_lstm.yaml")).exit_code == 0


# ---- one name, two frameworks ------------------------------------------------------------------------------

def test_the_arguments_decide_whose_lstm_and_the_type_column_says_so():
    spec = ("input: [5, 10]\nlayers:\n  - LSTM: {units: 8, return_sequences: true}\n"
            "  - GRU: {hidden_size: 4, bidirectional: true}\n")
    report = summary(spec)
    # JSON's `type` is the kind as written (as for every shared name); the table says whose it is.
    assert [(r["type"], r["params"]) for r in report["layers"]] == [("LSTM", 4 * (8 * (10 + 8) + 8)),
                                                                    ("GRU", 2 * 3 * (4 * (8 + 4) + 2 * 4))]
    table = invoke("summary", "-", input=spec).stdout
    assert "lstm (LSTM)" in table and "gru (GRU (PyTorch))" in table


def test_a_scalar_sets_keras_units():
    assert summary("input: [5, 10]\nlayers: [{GRU: 20}]")["layers"][0]["params"] == 1920


def test_mixing_the_vocabularies_is_an_error_that_names_both():
    text = refusal("input: [5, 10]\nlayers:\n  - LSTM: {units: 8, num_layers: 2}\n")
    assert text.startswith("<stdin>:3:22: error: LSTM mixes Keras's `units` and PyTorch's `num_layers`")
    assert "hidden_size" in text


def test_neither_units_nor_hidden_size():
    assert "LSTM needs `units` (Keras) or `hidden_size` (PyTorch)" in refusal(
        "input: [5, 10]\nlayers:\n  - LSTM: {dropout: 0.1}\n")


def test_an_unknown_argument_is_suggested_from_both_vocabularies():
    assert "did you mean `hidden_size`" in refusal("input: [5, 10]\nlayers:\n  - GRU: {hiden_size: 8}\n")


def test_keras_cells_and_rnn_are_not_pytorch_layers():
    assert "Keras's, whose LSTMCell is a cell for keras.layers.RNN" in refusal(
        "input: [10]\nlayers:\n  - LSTMCell: {units: 8}\n")
    assert "RNN `cell` is Keras's" in refusal("input: [5, 10]\nlayers:\n  - RNN: {cell: lstm}\n")


# ---- wrappers ---------------------------------------------------------------------------------------------

def test_an_inner_item_error_is_located_at_its_line():
    spec = "input: [5, 10]\nlayers:\n  - Dense: 4\n  - Bidirectional:\n      layer: {LSTM: {unit: 8}}\n"
    text = refusal(spec)
    assert text.startswith("<stdin>:5:7: error: LSTM has no argument `unit`") and "did you mean `units`" in text
    text = refusal("input: [5, 10]\nlayers:\n  - TimeDistributed: {layer: {Dens: 3}}\n")
    assert text.startswith("<stdin>:3:23: error: unknown layer kind `Dens`") and "`Dense`" in text


def test_an_inner_layers_shape_error_names_it():
    text = refusal("input: [5, 10]\nlayers:\n  - TimeDistributed: {layer: {Conv2D: {filters: 2, kernel_size: 3}}}\n")
    assert text.startswith("<stdin>:3:23: error: Conv2D (at each step of TimeDistributed): expects a 3-D input (H, W, "
                           "C) but gets (10,)")
    text = refusal("input: [10]\nlayers:\n  - Bidirectional: {layer: {LSTM: {units: 4}}}\n")
    assert text.startswith("<stdin>:3:21: error: LSTM (forward in Bidirectional): expects a sequence (T, F)")


def test_bidirectional_wraps_keras_recurrent_layers_only():
    text = refusal("input: [5, 10]\nlayers:\n  - Bidirectional: {layer: {LSTM: {hidden_size: 8}}}\n")
    assert "must be a Keras recurrent layer (SimpleRNN, LSTM, GRU); got PyTorch's LSTM" in text
    assert "bidirectional: true" in text


def test_a_frozen_wrapper_is_refused_with_the_keras_quirk_explained():
    text = refusal("input: [5, 10]\nlayers:\n  - TimeDistributed: {layer: {Dense: 3}, trainable: false}\n")
    assert "TimeDistributed `trainable` false" in text and "trainable: false}}" in text


def test_time_distributed_explains_its_steps():
    out = invoke("explain", "-", input="input: [5, 10]\nlayers:\n  - TimeDistributed: {layer: {Dense: 3}}\n").stdout
    assert "MACs per step  in x units = 10 x 3 = 30" in out
    assert "MACs           T x (in x units) = 5 x (10 x 3) = 150" in out


@pytest.mark.parametrize("convention", TOOLS)
def test_time_distributed_counts_as_its_inner_layer_at_every_step_under_every_convention(convention):
    """Each counter sees the inner layer run on the steps as a batch: T times its figure for one step."""
    td = "input: [4, 8, 8, 3]\nlayers: [{TimeDistributed: {layer: {Conv2D: {filters: 6, kernel_size: 3}}}}]\n"
    conv = "input: [8, 8, 3]\nlayers: [{Conv2D: {filters: 6, kernel_size: 3}}]\n"
    dense = "input: [5, 10]\nlayers: [{TimeDistributed: {layer: {Dense: 3}}}]\n"
    figure = summary(td, "--convention", convention)["convention"]["total"]
    assert figure == 4 * summary(conv, "--convention", convention)["convention"]["total"]
    assert summary(dense, "--convention", convention)["convention"] == summary(
        dense.replace("{TimeDistributed: {layer: {Dense: 3}}}", "{Dense: 3}"), "--convention", convention)["convention"]


# ---- explain ----------------------------------------------------------------------------------------------

def test_explain_shows_each_gate_with_its_formula():
    out = invoke("explain", "-", input="input: [5, 10]\nlayers: [{LSTM: 20}]\n").stdout
    assert "gate i  units x (in + units) + units = 20 x (10 + 20) + 20 = 620  (input gate: i = sigmoid(x W + b + " \
           "h U))" in out
    assert "params  4 x (units x (in + units) + units) = 4 x (20 x (10 + 20) + 20) = 2,480" in out
    assert "MACs    T x (4 x units x (in + units)) = 5 x (4 x 20 x (10 + 20)) = 12,000" in out
    gru = invoke("explain", "-", input="input: [5, 10]\nlayers: [{GRU: {units: 20, reset_after: false}}]\n").stdout
    assert "(candidate state: n = tanh(x W + b + (r * h) U))" in gru and "3 x (units x (in + units) + units)" in gru


def test_explain_of_a_stacked_pytorch_lstm_with_projection():
    out = invoke("explain", "-", input="input: [5, 10]\nlayers:\n  - LSTM: {hidden_size: 20, proj_size: 5, "
                 "num_layers: 2, bidirectional: true}\n").stdout
    assert "first layer params  dirs x (4 x (hidden x (in + proj) + 2 x hidden) + hidden x proj)" in out
    assert "upper layer params  dirs x (4 x (hidden x (in + proj) + 2 x hidden) + hidden x proj) = 2 x (4 x (20 x " \
           "(10 + 5) + 2 x 20) + 20 x 5)" in out


def test_a_free_sequence_length_gives_macs_in_t():
    report = summary("input: [T, 10]\nlayers: [{LSTM: 20}]")
    assert report["total_params"] == 2480 and report["total_macs"] == "2400*T"


# ---- PyTorch's own checks -----------------------------------------------------------------------------------

def test_dropout_on_one_layer_warns_as_pytorch_does():
    report = summary("input: [5, 10]\nlayers: [{GRU: {hidden_size: 4, dropout: 0.3}}]")
    assert any("does nothing with num_layers 1" in w["message"] for w in report["warnings"])


def test_a_stated_input_size_that_disagrees():
    text = refusal("input: [5, 10]\nlayers: [{RNN: {hidden_size: 4, input_size: 7}}]")
    assert "RNN `input_size` says 7 but the previous layer gives 10" in text


def test_a_cell_runs_one_step():
    assert "runs one step, on (F,) features" in refusal("input: [5, 10]\nlayers: [{GRUCell: {hidden_size: 4}}]")
