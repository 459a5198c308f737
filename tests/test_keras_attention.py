"""Issue 14's attention, embedding and position layers through the command line, against Keras 3 +
keras_hub (tests/fixtures/keras_attention.json: shapes and params) and PyTorch + fvcore +
transformers (tests/fixtures/torch_keras_attention.json: MACs, T5's relative bias, ViT's embeddings).

Every figure compared is a framework's, read from the fixtures. A case Keras refuses ("error"), or
accepts but paramcalc refuses on purpose ("paramcalc_refuses", with the reason), must be refused with
a located one-paragraph error, exit code 2 and no traceback."""

from __future__ import annotations

import json
import math
import re
from functools import cache
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.conventions import CONVENTIONS
from paramcalc.layers.keras_attention import AV_MACS, PROJECTION_MACS, QK_MACS
from tests.conftest import FIXTURES, run_dict

# Spec spellings whose Keras class is named otherwise: Keras's summary shows the class.
KERAS_CLASS = {"GroupQueryAttention": "GroupedQueryAttention"}


@cache
def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def cases(name: str, *keys: str, without: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [c for c in fixture(name)["cases"] if all(k in c for k in keys) and not any(k in c for k in without)]


def case(name: str, case_id: str) -> dict[str, Any]:
    return next(c for c in fixture(name)["cases"] if c["id"] == case_id)


KERAS = "keras_attention.json"
TORCH = "torch_keras_attention.json"
ACCEPTED = cases(KERAS, "layers", without=("error", "paramcalc_refuses"))
REFUSED = cases(KERAS, "spec", without=("layers", "composite"))
COMPOSITE = cases(KERAS, "composite")


def spec_text(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False)


def summary(spec: dict[str, Any] | str, *options: str) -> dict[str, Any]:
    text = spec if isinstance(spec, str) else spec_text(spec)
    result = CliRunner().invoke(cli, ["summary", "-", "--format", "json", *options], input=text)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refusal(spec: dict[str, Any] | str) -> str:
    text = spec if isinstance(spec, str) else spec_text(spec)
    result = CliRunner().invoke(cli, ["summary", "-"], input=text)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    message = result.stderr.strip()
    assert re.match(r"<stdin>:\d+:\d+: error: ", message), message
    return message


def explain(spec: str, *layers: str) -> str:
    result = CliRunner().invoke(cli, ["explain", "-", *layers], input=spec)
    assert result.exit_code == 0, result.output
    return result.stdout


# ---- Keras 3 + keras_hub: shapes and params, layer by layer --------------------------------------

@pytest.mark.parametrize("keras", ACCEPTED, ids=lambda c: c["id"])
def test_keras_case_through_the_cli(keras):
    ours = summary(keras["spec"])
    assert ours["output_shape"] == keras["output_shape"]
    assert (ours["total_params"], ours["trainable_params"], ours["non_trainable_params"]) == (
        keras["params"], keras["trainable_params"], keras["non_trainable_params"])
    rows = [(KERAS_CLASS.get(r["type"], r["type"]), r["output_shape"], r["params"], r["trainable_params"],
             r["non_trainable_params"]) for r in ours["layers"]]
    assert rows == [(k["type"], k["output_shape"], k["params"], k["trainable_params"], k["non_trainable_params"])
                    for k in keras["layers"]]
    names = [r["name"] for r in ours["layers"]]
    if not any(r["type"] in KERAS_CLASS for r in ours["layers"]):
        assert names == [k["name"] for k in keras["layers"]]  # Keras's automatic names too


@pytest.mark.parametrize("refused", REFUSED, ids=lambda c: c["id"])
def test_what_keras_refuses_or_paramcalc_cannot_count_is_refused(refused):
    message = refusal(refused["spec"])
    assert refused["kind"] in message


# The keras_hub layer's weights (paths without the layer's own name) that each row of the spec holds.
COMPOSITE_ROWS = {
    "patches": {"patch_embedding/kernel", "patch_embedding/bias"},
    "tokens": {"class_token", "distillation_token"},
    "positions": {"position_embedding", "position_embedding/embeddings"},
    "bias": {"embeddings"},
    "attention": {f"{role}_projector/kernel" for role in ("query", "key", "value", "output")},
}


@pytest.mark.parametrize("composite", COMPOSITE, ids=lambda c: c["id"])
def test_class_token_and_relative_bias_inside_keras_hub_layers(composite):
    """ViT's and DeiT's patch embeddings, T5's attention with its bias table: the same params as the
    keras_hub layer, weight by weight, and its outputs' shapes (T5's bias has a batch of 1, broadcast
    over the batch)."""
    ours = summary(composite["spec"])
    assert (ours["total_params"], ours["trainable_params"]) == (composite["params"], composite["trainable_params"])
    rows = {r["name"]: r for r in ours["layers"]}
    for name, shape in composite["outputs"].items():
        assert rows[name]["output_shape"][1:] == shape[1:], name
    weights = {path.split("/", 1)[1]: math.prod(shape) for path, shape in composite["weights"].items()}
    held = {name: sum(n for path, n in weights.items() if path in COMPOSITE_ROWS[name]) for name in rows
            if name in COMPOSITE_ROWS}
    assert sum(held.values()) == composite["params"]  # every weight is some row's
    assert held == {name: rows[name]["params"] for name in held}


# ---- PyTorch + fvcore: MACs; transformers' T5 and ViT ---------------------------------------------

@pytest.mark.parametrize("torch", cases(TORCH, "macs", "output_shape"), ids=lambda c: c["id"])
def test_attention_macs_against_fvcore(torch):
    ours = summary(torch["spec"])
    assert (ours["output_shape"], ours["total_params"], ours["total_macs"]) == (
        torch["output_shape"], torch["params"], torch["macs"])
    # fvcore counts nothing else in these modules: its convention is the MACs, exactly.
    assert CONVENTIONS["fvcore"].total(run_dict(torch["spec"])) == sum(torch["fvcore_by_operator"].values())


@pytest.mark.parametrize("torch", cases(TORCH, "macs", "output_shape"), ids=lambda c: c["id"])
def test_each_part_of_the_macs_against_fvcore(torch):
    """explain's projection, QK product and AV product lines, each against fvcore's count of the
    PyTorch submodule that does it (a part without products is an explained 0)."""
    (row,) = run_dict(torch["spec"]).rows
    parts = {d.label: d.q.value for d in row.derivations}
    fvcore = torch["fvcore_by_part"]
    assert (parts.get(PROJECTION_MACS, 0), parts[QK_MACS], parts[AV_MACS]) == (
        fvcore["projections"], fvcore["scores"], fvcore["values"])


def test_every_accepted_keras_attention_case_has_its_macs_checked():
    attention = {c["id"] for c in ACCEPTED if c["kind"] in ("GroupedQueryAttention", "GroupQueryAttention",
                                                            "Attention", "AdditiveAttention")}
    assert attention == {c["id"] for c in cases(TORCH, "macs", "output_shape")}


@pytest.mark.parametrize("torch", cases(TORCH, "outputs"), ids=lambda c: c["id"])
def test_transformers_t5_bias_and_vit_embeddings(torch):
    ours = summary(torch["spec"])
    assert ours["total_params"] == torch["params"]
    rows = {r["name"]: r for r in ours["layers"]}
    for name, shape in torch["outputs"].items():
        assert rows[name]["output_shape"][1:] == shape[1:], name
    if "bias_table_params" in torch:
        assert rows["bias"]["params"] == torch["bias_table_params"]
    if "macs" in torch:  # the patch convolution
        assert ours["total_macs"] == torch["macs"]


def test_fixtures_record_their_provenance():
    keras, torch = fixture(KERAS)["provenance"], fixture(TORCH)["provenance"]
    assert keras["keras"] == "3.15.1" and keras["keras_hub"] and keras["backend"] == "jax"
    assert torch["torch"].startswith("2.") and torch["fvcore"] and torch["transformers"]
    assert torch["keras_cases_from"] == "tests/fixtures/keras_attention.json"


# ---- the figures the issue names -------------------------------------------------------------------

def test_bert_position_table_is_longer_than_the_sequence():
    keras = case(KERAS, "PositionEmbedding/bert-512-at-128")
    ours = summary(keras["spec"])
    assert ours["output_shape"] == [None, 128, 768] and ours["total_params"] == keras["params"] == 512 * 768


def test_vit_class_token_has_one_vector_of_the_width():
    keras = case(KERAS, "ClassToken/vit-224-patch16-dim768")
    ours = summary(keras["spec"])
    tokens = next(r for r in ours["layers"] if r["name"] == "tokens")
    assert tokens["params"] == 768 and tokens["output_shape"] == [None, 197, 768]
    assert ours["total_params"] == keras["params"]


# ---- explain shows the parts of attention's MACs apart --------------------------------------------

GQA_SPEC = ("input: [6, 8]\nlayers:\n"
            "  - GroupedQueryAttention: {head_dim: 4, num_query_heads: 4, num_key_value_heads: 2}\n")


def test_explain_shows_projections_scores_and_weighted_values_apart():
    out = explain(GQA_SPEC)
    torch = case(TORCH, "GroupedQueryAttention/self-h4-kv2")
    parts = torch["fvcore_by_part"]
    assert re.search(r"projection MACs +Tq x dq x hq x head_dim \+ Tk x dk x hkv x head_dim \+ Tk x dv x hkv x "
                     r"head_dim \+ Tq x hq x head_dim x dq = 6 x 8 x 4 x 4 \+ 6 x 8 x 2 x 4 \+ 6 x 8 x 2 x 4 \+ "
                     rf"6 x 4 x 4 x 8 = {parts['projections']:,}\n", out)
    assert re.search(rf"QK product MACs +hq x Tq x Tk x head_dim = 4 x 6 x 6 x 4 = {parts['scores']:,}\n", out)
    assert re.search(rf"AV product MACs +hq x Tq x Tk x head_dim = 4 x 6 x 6 x 4 = {parts['values']:,}\n", out)
    assert re.search(rf"\n  MACs +.* = {torch['macs']:,}\n", out)
    assert "hq query heads" in out and "hkv key and value heads" in out


def test_explain_says_concat_scores_have_no_products():
    spec = ("inputs: {q: [5, 8], v: [7, 8]}\nlayers:\n"
            "  - Attention: {inputs: [q, v], score_mode: concat, use_scale: true}\n")
    torch, keras = case(TORCH, "Attention/concat-scale"), case(KERAS, "Attention/concat-scale")
    assert yaml.safe_load(spec) == keras["spec"]
    out = explain(spec)
    assert re.search(r"QK product MACs +0 +\(no products: the scores are a plain sum of tanh\(q \+ k\)\)\n", out)
    assert re.search(rf"AV product MACs +Tq x Tk x dv = 5 x 7 x 8 = {torch['fvcore_by_part']['values']}\n", out)
    assert re.search(rf"params +1 \+ 1 = {keras['params']}\n", out)


def test_explain_of_the_position_blocks():
    vit = case(KERAS, "ClassToken/vit-224-patch16-dim768")
    out = explain(spec_text(vit["spec"]), "tokens", "positions")
    positions = vit["outputs"]["embeddings"][1]
    table = vit["weights"]["vi_t_patching_and_embedding/position_embedding/embeddings"]
    assert re.search(rf"output positions +T \+ tokens = {positions - 1} \+ 1 = {positions}\n", out)
    assert re.search(rf"params +d = {vit['weights']['vi_t_patching_and_embedding/class_token'][-1]}\n", out)
    assert re.search(rf"params +sequence_length x d = {table[0]} x {table[1]} = {math.prod(table):,}\n", out)
    t5 = case(KERAS, "RelativePositionBias/t5-7x16-h4")
    buckets, heads = t5["weights"]["t5_multi_head_attention/embeddings"]
    assert re.search(rf"params +buckets x h = {buckets} x {heads} = {buckets * heads}\n",
                     explain(spec_text(t5["spec"]), "bias"))
    untied = case(KERAS, "TokenAndPositionEmbedding/untied")
    assert re.search(r"params +vocabulary_size x embedding_dim \+ embedding_dim x vocabulary_size \+ "
                     rf"sequence_length x embedding_dim = 100 x 16 \+ 16 x 100 \+ 10 x 16 = {untied['params']:,}\n",
                     explain(spec_text(untied["spec"])))


# ---- refusals say where and why --------------------------------------------------------------------

# (case id, line:column of the spec as yaml.safe_dump writes it: the argument at fault, or the layer)
REFUSALS = [
    ("GroupedQueryAttention/error-heads-indivisible", "8:5", ["`num_key_value_heads` must divide num_query_heads"]),
    ("GroupedQueryAttention/error-rank3", "11:3", ["takes inputs of shape (positions, features)"]),
    ("GroupedQueryAttention/error-value-features", "9:3", ["query and value with the same number of features"]),
    ("Attention/error-one-input", "6:3", ["takes a list of 2 or 3 inputs"]),
    ("Attention/error-query-broadcasts", "11:3", ["equal to the query on axis 1, or 1 there"]),
    ("Attention/error-key-features-dot", "12:3", ["the same number of features (the scores compare them)"]),
    ("Attention/rank1", "7:3", ["would attend across the samples of the batch"]),
    ("AdditiveAttention/error-ranks-differ", "10:3", ["the same rank"]),
    ("PositionEmbedding/error-sequence-longer", "6:5", ["`sequence_length` is 4, fewer than the input's 5 positions"]),
    ("PositionEmbedding/rank1", "4:3", ["(keras_hub reads the positions from the second-last axis, here the batch)"]),
    ("TokenAndPositionEmbedding/error-sequence-longer", "6:5", ["`sequence_length` is 10, fewer than the input's 12"]),
    ("RotaryEmbedding/error-odd-features", "5:3", ["needs an even number of them"]),
    ("RotaryEmbedding/error-same-axes", "7:5", ["different sequence and feature axes"]),
    ("RotaryEmbedding/error-axis-out-of-range", "6:5", ["`sequence_axis` is 3, outside the input's axes 1..2"]),
    ("RMSNormalization/error-axis-1-not-last", "7:5", ["lined up with its last axes"]),
    ("RMSNormalization/error-keras-hub-input-dim", "6:5", ["`input_dim` says 7 but the previous layer gives 8"]),
]


@pytest.mark.parametrize("case_id, where, fragments", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_are_located_and_say_why(case_id, where, fragments):
    refused = case(KERAS, case_id)
    assert "error" in refused or "paramcalc_refuses" in refused
    message = refusal(refused["spec"])
    assert message.startswith(f"<stdin>:{where}: error: "), message
    for fragment in fragments:
        assert fragment in message, message
    assert "Fix: " in message and "\n" not in message


def test_rotary_embedding_refuses_the_batch_axis_as_features():
    message = refusal("input: [8, 6]\nlayers:\n  - RotaryEmbedding: {feature_axis: 0}\n")
    assert "`feature_axis` is 0, the batch axis" in message


def test_class_token_needs_a_flat_sequence():
    message = refusal("input: [4, 4, 8]\nlayers:\n  - ClassToken\n")
    assert "takes a sequence of shape (positions, features); got (4, 4, 8)" in message and "Reshape" in message


def test_relative_position_bias_takes_one_or_two_sequences():
    message = refusal("input: [4, 4, 8]\nlayers:\n  - RelativePositionBias: {num_heads: 2}\n")
    assert "takes one sequence, or [query, key]" in message


# ---- symbolic sizes ------------------------------------------------------------------------------

def test_free_sequence_length_gives_macs_as_a_formula():
    spec = "input: [T, 8]\nlayers:\n  - GroupedQueryAttention: {head_dim: 4, num_query_heads: 4, " \
           "num_key_value_heads: 2}\n  - RotaryEmbedding\n  - ClassToken\n"
    ours = summary(spec)
    assert ours["output_shape"] == [None, "T + 1", 8] and "T^2" in ours["total_macs"]
    # the same layer at 6 and at 10 positions (a sliding window masks scores but computes them all)
    for tokens, case_id in ((6, "self-h4-kv2"), (10, "sliding-window")):
        torch = case(TORCH, f"GroupedQueryAttention/{case_id}")
        assert summary(spec, "--set", f"T={tokens}")["total_macs"] == torch["macs"]
