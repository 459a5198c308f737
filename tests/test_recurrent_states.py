"""An RNN's states (issue 14), through the CLI: Keras's `return_state` and `initial_state`,
Bidirectional's `merge_mode: null`, PyTorch's h_n / c_n and h_0 / c_0, LSTMCell's (h', c').

Every output's shape and every count comes from the frameworks: tests/fixtures/keras_rnn_states.json
(Keras 3, make_keras_rnn_states_fixtures.py) and tests/fixtures/torch_rnn_states.json (PyTorch, unbatched
calls, make_torch_rnn_states_fixtures.py). A configuration a framework refuses, paramcalc refuses with
a located one-paragraph error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import SPECS
from tests.test_recurrent import fixture, invoke, refusal, summary


def cases(name: str) -> list[dict[str, Any]]:
    return list(fixture(name)["cases"])


def outputs(report: dict[str, Any]) -> list[tuple]:
    return [(r["output_shapes"], r["params"], r["trainable_params"], r["non_trainable_params"])
            for r in report["layers"]]


def expected(case: dict[str, Any]) -> list[tuple]:
    return [(k["output_shapes"], k["params"], k["trainable_params"], k["non_trainable_params"])
            for k in case["layers"]]


@pytest.mark.parametrize("case", [*cases("keras_rnn_states.json"), *cases("torch_rnn_states.json")],
                         ids=lambda c: c["id"])
def test_framework_case(case):
    if "error" in case:
        refusal(case["spec"])
        return
    report = summary(case["spec"])
    assert outputs(report) == expected(case)
    assert report["total_params"] == case["params"]


def test_fixture_provenance():
    assert fixture("keras_rnn_states.json")["provenance"]["keras"] == "3.15.1"
    assert fixture("torch_rnn_states.json")["provenance"]["torch"].startswith("2.13.0")


# ---- Keras -------------------------------------------------------------------------------------------------

def test_a_state_is_read_with_the_output_k_syntax():
    report = summary("input: [16, 71]\nlayers:\n  - LSTM: {units: 8, return_state: true, name: enc}\n"
                     "  - Dense: {inputs: \"enc[1]\", units: 4}\n")
    enc, dense = report["layers"]
    assert enc["output_shapes"] == [[None, 8], [None, 8], [None, 8]] and enc["params"] == 2560
    assert dense["inputs"] == ["enc[1]"] and dense["params"] == 36  # Keras: 8 x 4 + 4


def test_the_bare_name_reads_the_output_sequence():
    report = summary("input: [16, 71]\nlayers:\n  - GRU: {units: 8, return_sequences: true, return_state: true}\n"
                     "  - Dense: 4\n")
    assert report["layers"][1]["output_shape"] == [None, 16, 4]


def test_merge_mode_null_gives_two_peer_outputs():
    text = refusal("input: [5, 10]\nlayers:\n  - Bidirectional: {layer: {LSTM: {units: 4}}, merge_mode: null}\n"
                   "  - Dense: 3\n")
    assert text.startswith("<stdin>:4:5: error: Dense reads `bidirectional` without saying which output")
    report = summary("input: [5, 10]\nlayers:\n  - Bidirectional: {layer: {LSTM: {units: 4}}, merge_mode: null, "
                     "name: bi}\n  - Add: {inputs: [\"bi[0]\", \"bi[1]\"]}\n")
    assert report["layers"][1]["output_shape"] == [None, 4]


def test_initial_states_are_checked_against_the_layer():
    text = refusal("input: [20, 8]\nlayers:\n  - LSTM: {units: 16, return_state: true, name: enc}\n"
                   "  - LSTM: {units: 16, inputs: [input, \"enc[1]\"]}\n")
    assert text.startswith("<stdin>:4:5: error: LSTM: takes its initial states after the sequence, 2 of them (h, c: "
                           "(16,), (16,)), but is given 1: enc[1] (16,)")
    text = refusal("input: [20, 8]\nlayers:\n  - GRU: {units: 16, return_state: true, name: enc}\n"
                   "  - GRU: {units: 12, inputs: [input, \"enc[1]\"]}\n")
    assert text.startswith("<stdin>:4:5: error: GRU: its initial state h must be (12,) (the batch left out), but "
                           "`enc[1]` is (16,)")


def test_a_wrapped_layer_takes_no_initial_state():
    text = refusal("input: [20, 8]\nlayers:\n  - LSTM: {units: 4, return_state: true, name: enc}\n"
                   "  - Bidirectional: {layer: {LSTM: 4}, inputs: [input, \"enc[1]\", \"enc[2]\"]}\n")
    assert "Bidirectional takes one input but is given 3" in text


def test_the_seq2seq_spec_holds_its_keras_figures():
    result = invoke("check", str(SPECS / "lstm_seq2seq.yaml"))
    assert result.exit_code == 0, result.output
    report = json.loads(invoke("summary", str(SPECS / "lstm_seq2seq.yaml"), "--format", "json").stdout)
    case = next(c for c in cases("keras_rnn_states.json") if c["id"] == "model/lstm_seq2seq")
    assert outputs(report) == expected(case) and report["total_params"] == case["params"] == 718173


# ---- PyTorch -----------------------------------------------------------------------------------------------

def test_pytorch_states_drop_the_batch_from_the_middle():
    report = summary("input: [16, 10]\ndata_format: channels_first\nlayers:\n"
                     "  - LSTM: {hidden_size: 8, num_layers: 2, bidirectional: true, proj_size: 3, name: lstm}\n"
                     "  - Flatten: {inputs: \"lstm[1]\"}\n")
    assert report["layers"][0]["output_shapes"] == [[None, 16, 6], [None, 4, 3], [None, 4, 8]]
    assert report["layers"][1]["output_shape"] == [None, 12]


def test_lstm_cell_gives_h_and_c():
    report = summary("inputs: {x: [10], h: [8], c: [8]}\nlayers:\n  - LSTMCell: {hidden_size: 8, inputs: [x, h, c], "
                     "name: cell}\n  - Add: {inputs: [\"cell[0]\", \"cell[1]\"]}\n")
    assert report["layers"][0]["output_shapes"] == [[None, 8], [None, 8]]
