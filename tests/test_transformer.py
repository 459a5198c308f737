"""Transformers and embeddings (issue 14) through the command line: PyTorch's MultiheadAttention,
TransformerEncoderLayer / DecoderLayer, TransformerEncoder / Decoder, Transformer, Embedding,
EmbeddingBag and RMSNorm; keras_hub's TransformerEncoder / TransformerDecoder.

Every figure compared here is a framework's, read from the fixtures: torch_transformer.json
(PyTorch: shapes, sum(p.numel()), FlopCounterMode / 2 as MACs, fvcore's own count) and
keras_hub_layers.json (Keras 3 + keras-hub: shapes and weights; their MACs from the PyTorch rebuild of
the same layers in torch_transformer.json, same ids). A fixture case with "error" is refused by the
framework, and paramcalc must refuse it too with a located one-paragraph error (exit code 2)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import FIXTURES, SPECS, located_text, refusal


@cache
def cases(name: str) -> dict[str, dict[str, Any]]:
    return {case["id"]: case for case in json.loads((FIXTURES / name).read_text())["cases"]}


TORCH = cases("torch_transformer.json")
KERAS_HUB = cases("keras_hub_layers.json")
TORCH_ACCEPTED = [i for i, c in TORCH.items() if "error" not in c]
KERAS_HUB_ACCEPTED = [i for i, c in KERAS_HUB.items() if "error" not in c]


def write(tmp_path: Path, spec: dict[str, Any] | str) -> Path:
    path = tmp_path / "spec.yaml"
    text = spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False, default_flow_style=None)
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result


def summary(tmp_path: Path, spec: dict[str, Any] | str, *options: str) -> dict[str, Any]:
    return json.loads(invoke("summary", "--format", "json", *options, str(write(tmp_path, spec))).stdout)


def totals(data: dict[str, Any]) -> tuple:
    return data["output_shape"], data["total_params"], data["trainable_params"], data["non_trainable_params"]


def figures(case: dict[str, Any]) -> tuple:
    return case["output_shape"], case["params"], case["trainable_params"], case["non_trainable_params"]


# ---- PyTorch ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case_id", [i for i in TORCH_ACCEPTED if i not in KERAS_HUB])
def test_pytorch_case_through_the_cli(case_id, tmp_path):
    """Shapes, sum(p.numel()) (trainable: requires_grad) and FlopCounterMode / 2."""
    case = TORCH[case_id]
    data = summary(tmp_path, case["spec"])
    assert totals(data) == figures(case)
    assert data["total_macs"] == case["macs"]


@pytest.mark.parametrize("case_id", TORCH_ACCEPTED)
def test_fvcore_and_flop_counter_conventions_are_the_tools_figures(case_id, tmp_path):
    """fvcore counts what it counts (linear, bmm, matmul, layer_norm), not the attention products of
    PyTorch's transformer layers (run in scaled_dot_product_attention); FlopCounterMode 2 per MAC."""
    case = TORCH[case_id]
    fvcore = summary(tmp_path, case["spec"], "--convention", "fvcore")["convention"]["total"]
    assert fvcore == sum(case["fvcore_by_operator"].values())
    assert summary(tmp_path, case["spec"], "--convention", "flop-counter")["convention"]["total"] == (
        case["flop_counter"]["total"])


def test_fvcore_skips_the_attention_products_of_the_transformer_layers_only():
    layer = TORCH["TransformerEncoderLayer/5x12-h3-ff20"]
    assert "aten::scaled_dot_product_attention" in layer["fvcore_skipped"]
    assert set(layer["fvcore_by_operator"]) == {"linear", "layer_norm"}
    assert layer["fvcore_by_operator"]["linear"] < layer["macs"]  # the products are in the MACs, not in fvcore
    bare = TORCH["MultiheadAttention/self-5x12-h3"]
    assert sum(bare["fvcore_by_operator"].values()) == bare["macs"]  # need_weights=True: bmm, counted


REFUSED = [  # (case id, the text the error is located at, fragments that say why)
    ("MultiheadAttention/error-heads-do-not-divide", "num_heads", ["must divide embed_dim (12)", "divisible"]),
    ("MultiheadAttention/error-query-features", "embed_dim", ["the query has 10 features", "`embed_dim` is 12"]),
    ("MultiheadAttention/error-key-features-not-kdim", "kdim", ["the key has 5 features", "`kdim` is 4"]),
    ("MultiheadAttention/error-key-value-positions", "MultiheadAttention", ["7 positions and the value 6"]),
    ("TransformerEncoderLayer/error-heads-do-not-divide", "nhead", ["must divide d_model (12)"]),
    ("TransformerEncoderLayer/error-input-features", "d_model", ["has 10 features", "`d_model` is 12"]),
    ("TransformerDecoderLayer/error-memory-features", "d_model", ["the memory has 8 features"]),
    ("Transformer/error-tgt-features", "d_model", ["tgt has 10 features but d_model is 12"]),
    ("Embedding/error-pytorch-padding-idx-outside", "padding_idx", ["is 10, outside the table's 10 rows"]),
    ("EmbeddingBag/error-bags-of-bags", "EmbeddingBag", ["one bag of token ids per sample", "(2, 6)"]),
    ("RMSNorm/error-not-the-last-axes", "normalized_shape", ["is [5] but the input ends in [12]"]),
]


@pytest.mark.parametrize("case_id, located, fragments", REFUSED, ids=[c[0] for c in REFUSED])
def test_pytorch_refusal_through_the_cli(case_id, located, fragments, tmp_path):
    case = TORCH[case_id]
    assert "error" in case  # PyTorch refuses it
    path = write(tmp_path, case["spec"])
    message = refusal(path)
    assert located_text(path, message).startswith(located), message
    for fragment in fragments:
        assert fragment in message, message


def test_every_refused_case_is_checked():
    refused = {i for i, c in TORCH.items() if "error" in c} | {i for i, c in KERAS_HUB.items() if "error" in c}
    assert refused == {c[0] for c in REFUSED} | {c[0] for c in KERAS_HUB_REFUSED}


def test_the_zoo_transformer_is_pytorch_s(tmp_path):
    """specs/transformer_pytorch.yaml: nn.Transformer() with its defaults, 44,140,544 parameters."""
    case = TORCH["model/transformer_pytorch"]
    data = json.loads(invoke("summary", "--format", "json", str(SPECS / "transformer_pytorch.yaml")).stdout)
    assert totals(data) == figures(case)
    assert (data["total_params"], data["total_macs"]) == (case["params"], case["macs"]) == (44_140_544,
                                                                                           4_404_019_200)
    assert "1 passed" in invoke("check", str(SPECS / "transformer_pytorch.yaml")).stdout
    defaults = TORCH["Transformer/defaults-src10-tgt7"]
    data = json.loads(invoke("summary", "--format", "json", "--set", "src_len=10", "--set", "tgt_len=7",
                             str(SPECS / "transformer_pytorch.yaml")).stdout)
    assert (data["total_params"], data["total_macs"]) == (defaults["params"], defaults["macs"])


def test_the_transformer_as_its_two_stacks(tmp_path):
    """nn.Transformer is a TransformerEncoder with a LayerNorm and a TransformerDecoder reading it."""
    case = TORCH["Transformer/small"]
    text = """inputs: {src: [7, 12], tgt: [5, 12]}
layers:
  - TransformerEncoder: {name: memory, inputs: src, num_layers: 2, norm: {LayerNorm: 12},
                         layer: {TransformerEncoderLayer: {d_model: 12, nhead: 3, dim_feedforward: 20}}}
  - TransformerDecoder: {inputs: [tgt, memory], num_layers: 1, norm: {LayerNorm: 12},
                         layer: {TransformerDecoderLayer: {d_model: 12, nhead: 3, dim_feedforward: 20}}}
"""
    data = summary(tmp_path, text)
    assert totals(data) == figures(case) and data["total_macs"] == case["macs"]
    assert [row["type"] for row in data["layers"]] == ["TransformerEncoder", "TransformerDecoder"]


def test_lengths_left_free_give_formulas(tmp_path):
    """Free lengths: the MACs as a formula in them, which gives the fixture's figure at those lengths."""
    import sympy

    text = "inputs: {src: [Ls, 512], tgt: [Lt, 512]}\nlayers:\n  - Transformer: {inputs: [src, tgt]}\n"
    data = summary(tmp_path, text)
    assert data["total_params"] == 44_140_544
    Ls, Lt = sympy.symbols("Ls Lt")
    macs = sympy.sympify(data["total_macs"], locals={"Ls": Ls, "Lt": Lt})
    assert macs.subs({Ls: 128, Lt: 64}) == TORCH["model/transformer_pytorch"]["macs"]
    assert macs.subs({Ls: 10, Lt: 7}) == TORCH["Transformer/defaults-src10-tgt7"]["macs"]
    assert sympy.Poly(macs, Ls).degree() == 2  # the encoder's self-attention
    assert sympy.Poly(macs, Lt).degree() == 2  # the decoder's


def test_explain_shows_the_attention_products_apart(tmp_path):
    path = write(tmp_path, TORCH["TransformerEncoderLayer/5x12-h3-ff20"]["spec"])
    text = invoke("explain", str(path)).stdout
    assert "self-attention projection MACs  3 x Tq x E x E + Tq x E x E = 3 x 5 x 12 x 12 + 5 x 12 x 12 = 2,880" in text
    assert "self-attention score MACs       Tq x Tk x E = 5 x 5 x 12 = 300  (QK^T" in text
    assert "self-attention value MACs       Tq x Tk x E = 5 x 5 x 12 = 300  (attention weights x V)" in text
    assert "feed-forward MACs               Tq x E x ff + Tq x ff x E = 5 x 12 x 20 + 5 x 20 x 12 = 2,400" in text
    path = write(tmp_path, TORCH["MultiheadAttention/bias-kv-zero-attn-no-bias"]["spec"])
    text = invoke("explain", str(path)).stdout
    assert "attention score MACs       Tq x (Tk + 1 + 1) x E = 5 x (7 + 1 + 1) x 12 = 540" in text
    assert "attention params           3 x E x E + E x E + 2 x E = 3 x 12 x 12 + 12 x 12 + 2 x 12 = 600" in text


def test_explain_of_a_stack(tmp_path):
    path = write(tmp_path, TORCH["TransformerEncoder/two-layers-norm"]["spec"])
    text = invoke("explain", str(path)).stdout
    assert "(TransformerEncoder (PyTorch))" in text
    assert "num_layers x layer_params + 2 x normalized = 2 x 1184 + 2 x 12 = 2,392" in text
    assert "num_layers x layer_MACs = 2 x 5880 = 11,760" in text


# ---- the names two frameworks share ------------------------------------------------------------------

def test_the_type_column_says_whose_layer_it_is(tmp_path):
    torch_stack = write(tmp_path, TORCH["TransformerEncoder/two-layers-norm"]["spec"])
    table = invoke("summary", "--width", "160", str(torch_stack)).stdout
    assert "transformer_encoder (TransformerEncoder (PyTorch))" in table
    keras_hub = write(tmp_path, KERAS_HUB["TransformerEncoder/keras_hub-5x12-h3"]["spec"])
    table = invoke("summary", "--width", "160", str(keras_hub)).stdout
    assert "transformer_encoder (TransformerEncoder)" in table
    embedding = write(tmp_path, TORCH["Embedding/pytorch-padding-idx"]["spec"])
    assert "embedding (Embedding (PyTorch))" in invoke("summary", "--width", "160", str(embedding)).stdout
    assert "embedding (Embedding (PyTorch)), line" in invoke("explain", str(embedding)).stdout
    keras = write(tmp_path, "input: [12]\nlayers:\n  - Embedding: {input_dim: 100, output_dim: 16}\n")
    assert "embedding (Embedding)" in invoke("summary", "--width", "160", str(keras)).stdout


MIXED = [
    ("Embedding", "input: [12]\nlayers:\n  - Embedding: {input_dim: 100, embedding_dim: 16}\n", "embedding_dim",
     ["mixes Keras's `input_dim` with PyTorch's `embedding_dim`", "input_dim, output_dim", "num_embeddings"]),
    ("Embedding scalar", "input: [12]\nlayers:\n  - Embedding: {num_embeddings: 100, trainable: false}\n",
     "trainable", ["mixes PyTorch's `num_embeddings` with Keras's `trainable`"]),
    ("TransformerEncoder", "input: [5, 12]\nlayers:\n  - TransformerEncoder: {intermediate_dim: 20, num_heads: 3, "
     "num_layers: 2}\n", "num_layers", ["mixes keras_hub's `intermediate_dim` with PyTorch's `num_layers`"]),
    ("TransformerDecoder", "inputs: {a: [5, 12], b: [7, 12]}\nlayers:\n  - TransformerDecoder: {inputs: [a, b], "
     "layer: {TransformerDecoderLayer: {d_model: 12, nhead: 3}}, num_layers: 1, normalize_first: true}\n",
     "normalize_first", ["mixes PyTorch's `layer` with keras_hub's `normalize_first`"]),
]


@pytest.mark.parametrize("text, located, fragments", [c[1:] for c in MIXED], ids=[c[0] for c in MIXED])
def test_a_layer_that_mixes_two_vocabularies_is_refused(text, located, fragments, tmp_path):
    path = write(tmp_path, text)
    message = refusal(path)
    assert located_text(path, message).startswith(located), message
    for fragment in fragments:
        assert fragment in message, message


NESTED = [
    ("unknown kind", "layer: {TransformerEncoderLayr: {d_model: 12, nhead: 3}}", "layer",
     ["TransformerEncoder `layer`: unknown layer kind `TransformerEncoderLayr`", "TransformerEncoderLayer"]),
    ("the decoder's layer", "layer: {TransformerDecoderLayer: {d_model: 12, nhead: 3}}", "layer",
     ["must be a TransformerEncoderLayer; got TransformerDecoderLayer"]),
    ("inner argument missing", "layer: {TransformerEncoderLayer: {d_model: 12}}", "layer",
     ["TransformerEncoder `layer`: TransformerEncoderLayer needs `nhead`"]),
    ("inner argument wrong", "layer: {TransformerEncoderLayer: {d_model: 12, nhead: 5}}", "layer",
     ["TransformerEncoder `layer`: TransformerEncoderLayer `nhead` must divide d_model (12)"]),
    ("not an item", "layer: [TransformerEncoderLayer]", "layer",
     ["`layer` must be a layer written as in `layers:`"]),
    ("both names", "layer: {TransformerEncoderLayer: {d_model: 12, nhead: 3}}, encoder_layer: "
     "{TransformerEncoderLayer: {d_model: 12, nhead: 3}}", "encoder_layer", ["repeats `layer`"]),
    ("no layer", "norm: {LayerNorm: 12}", "TransformerEncoder", ["(PyTorch) needs `layer`"]),
    ("norm does not fit", "layer: {TransformerEncoderLayer: {d_model: 12, nhead: 3}}, norm: {LayerNorm: 8}",
     "norm", ["TransformerEncoder `norm`: LayerNorm `normalized_shape` is [8] but the input ends in [12]"]),
]


@pytest.mark.parametrize("args, located, fragments", [c[1:] for c in NESTED], ids=[c[0] for c in NESTED])
def test_a_nested_layer_s_mistakes_are_located_at_its_argument(args, located, fragments, tmp_path):
    path = write(tmp_path, f"input: [5, 12]\nlayers:\n  - TransformerEncoder: {{num_layers: 2, {args}}}\n")
    message = refusal(path)
    assert located_text(path, message).startswith(located), message
    for fragment in fragments:
        assert fragment in message, message


def test_transformer_custom_parts_are_refused_with_the_way_to_write_them(tmp_path):
    path = write(tmp_path, "inputs: {src: [7, 12], tgt: [5, 12]}\nlayers:\n  - Transformer: {inputs: [src, tgt], "
                           "d_model: 12, nhead: 3, custom_encoder: {TransformerEncoder: {}}}\n")
    message = refusal(path)
    assert located_text(path, message).startswith("custom_encoder") and "TransformerEncoder on src" in message


@pytest.mark.parametrize("text, fragments", [
    ("input: [5]\nlayers:\n  - MultiheadAttention: {embed_dim: 5, num_heads: 1}\n", ["the query as [T, E]"]),
    ("input: [2, 5, 12]\nlayers:\n  - TransformerEncoderLayer: {d_model: 12, nhead: 3}\n", ["its input as [T, E]"]),
    ("inputs: {a: [5, 12], b: [5, 12], c: [5, 12]}\nlayers:\n  - TransformerDecoderLayer: {inputs: [a, b, c], "
     "d_model: 12, nhead: 3}\n", ["takes 2 inputs (tgt, memory); got 3"]),
    ("input: [5, 12]\nlayers:\n  - TransformerDecoder: {num_layers: 1, layer: {TransformerDecoderLayer: "
     "{d_model: 12, nhead: 3}}}\n", ["takes 2 inputs (tgt, memory); got 1"]),
    ("input: [12]\nlayers:\n  - TransformerEncoder: {intermediate_dim: 8, num_heads: 2}\n",
     ["its input as [T, E] (positions, features) or with more position axes"]),
], ids=["mha-vector", "layer-two-position-axes", "decoder-three-inputs", "stack-one-input", "keras_hub-vector"])
def test_shapes_that_do_not_fit(text, fragments, tmp_path):
    message = refusal(write(tmp_path, text))
    for fragment in fragments:
        assert fragment in message, message


# ---- keras_hub --------------------------------------------------------------------------------------

@pytest.mark.parametrize("case_id", KERAS_HUB_ACCEPTED)
def test_keras_hub_case_through_the_cli(case_id, tmp_path):
    """Shapes and weights as Keras counts them; MACs of the same layer rebuilt in PyTorch (fvcore and
    FlopCounterMode), whose parameter count is keras_hub's."""
    keras, torch = KERAS_HUB[case_id], TORCH[case_id]
    assert torch["spec"] == keras["spec"] and (torch["params"], torch["output_shape"]) == (keras["params"],
                                                                                          keras["output_shape"])
    data = summary(tmp_path, keras["spec"])
    assert totals(data) == figures(keras)
    assert data["total_macs"] == torch["macs"] == sum(v for k, v in torch["fvcore_by_operator"].items()
                                                      if k in ("linear", "matmul"))


def test_keras_hub_weights_when_the_heads_do_not_divide_the_features():
    """key_dim = 10 // 3 = 3: the attention is 9 wide in a 10-wide layer (Keras's own weight shapes)."""
    weights = KERAS_HUB["TransformerEncoder/keras_hub-heads-do-not-divide-5x10-h3"]["weights"]
    assert weights["self_attention_layer/query/kernel"] == [10, 3, 3]
    assert weights["self_attention_layer/attention_output/kernel"] == [3, 3, 10]


KERAS_HUB_REFUSED = [
    ("TransformerEncoder/error-keras_hub-more-heads-than-features", "num_heads", ["key_dim = 10 // 16 = 0"]),
    ("TransformerDecoder/error-keras_hub-more-heads-than-features", "num_heads", ["key_dim = 4 // 6 = 0"]),
    ("TransformerDecoder/error-keras_hub-self-two-position-axes", "TransformerDecoder",
     ["the decoder sequence as [T, E]", "fails when called on more position axes"]),
    ("TransformerDecoder/error-keras_hub-cross-two-position-axes", "TransformerDecoder",
     ["the decoder sequence as [T, E]"]),
    ("TransformerDecoder/error-keras_hub-cross-ranks-differ", "TransformerDecoder",
     ["the encoder sequence as [T, E] (positions, features); got (2, 7, 12)"]),
]


@pytest.mark.parametrize("case_id, located, fragments", KERAS_HUB_REFUSED, ids=[c[0] for c in KERAS_HUB_REFUSED])
def test_keras_hub_refusal_through_the_cli(case_id, located, fragments, tmp_path):
    case = KERAS_HUB[case_id]
    assert "error" in case  # Keras refuses it
    path = write(tmp_path, case["spec"])
    message = refusal(path)
    assert located_text(path, message).startswith(located), message
    for fragment in fragments:
        assert fragment in message, message


def test_keras_hub_explain_shows_the_head_size_floor(tmp_path):
    path = write(tmp_path, KERAS_HUB["TransformerDecoder/keras_hub-cross-heads-do-not-divide"]["spec"])
    text = invoke("explain", str(path)).stdout
    assert re.search(r"\n  head size +E/h = 10/3 = 3  \(keras_hub's key_dim = value_dim\)\n", text), text
    assert "cross-attention score MACs" in text and "Tq x Tk x (h x key_dim) = 5 x 7 x (3 x 3) = 315" in text


def test_fixtures_record_their_provenance():
    torch = json.loads((FIXTURES / "torch_transformer.json").read_text())["provenance"]
    keras = json.loads((FIXTURES / "keras_hub_layers.json").read_text())["provenance"]
    assert torch["torch"].startswith("2.") and torch["fvcore"] and "SDPBackend.MATH" in torch["macs_definition"]
    assert keras["keras"].startswith("3.") and keras["keras_hub"] and keras["backend"] == "jax"
