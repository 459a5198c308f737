"""The encoder and vision-transformer zoo specs of issue 14 against their frameworks, through the command line:
specs/bert_base.yaml (BertModel base and large, BertForMaskedLM through `--set head=mlm`), distilbert.yaml,
roberta_base.yaml, t5_small.yaml, vit_b_16.yaml and keras_text_transformer.yaml; and MultiheadAttention's
`attn_mask` input and `need_weights` argument, which T5 and ViT need.

Every figure compared is a framework's, read from the stored fixtures: tests/fixtures/hf_encoders.json
(transformers' models built from their configs: sum(p.numel()), FlopCounterMode / 2 with the eager attention,
fvcore; plain nn.MultiheadAttention cases), torchvision_vit.json (torchvision's vit_b_16: FlopCounterMode /
2 with the math kernel, fvcore, torchvision's own GFLOPS) and keras_sequence_zoo.json (Keras 3's
count_params(), and the dot_generals of the JAX forward, a recurrent loop's once per step), which also
checks the keras.io LSTM specs' MACs (imdb_lstm.yaml, lstm_seq2seq.yaml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sympy
import yaml
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import FIXTURES, SPECS, located_text, refusal


def cases(name: str) -> dict[str, dict[str, Any]]:
    return {case["id"]: case for case in json.loads((FIXTURES / name).read_text())["cases"]}


HF = cases("hf_encoders.json")
VIT = cases("torchvision_vit.json")["torchvision/vit_b_16"]
KERAS_ZOO = cases("keras_sequence_zoo.json")
KERAS = KERAS_ZOO["keras_io/text_classification_with_transformer"]
BERT_LARGE = ("layers=24", "hidden=1024", "heads=16")


def report(spec: str | Path, *sets: str, convention: str | None = None) -> dict[str, Any]:
    args = ["summary", "--format", "json", str(spec), *(arg for value in sets for arg in ("--set", value))]
    result = CliRunner().invoke(cli, args + (["--convention", convention] if convention else []))
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def rows(got: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in got["layers"]}


# (case, spec, --set values, the row that is the model's last hidden state, the output holding it)
HF_SPECS = [("bert/base", "bert_base.yaml", (), "encoder_12.output_norm", "pooler_output"),
            ("bert/large", "bert_base.yaml", BERT_LARGE, "encoder_24.output_norm", "pooler_output"),
            ("bert/base_masked_lm", "bert_base.yaml", ("head=mlm",), "encoder_12.output_norm", "logits"),
            ("distilbert/base", "distilbert.yaml", (), "layer_6.output_layer_norm", "last_hidden_state"),
            ("roberta/base", "roberta_base.yaml", (), "encoder_12.output_norm", "pooler_output"),
            ("t5/small", "t5_small.yaml", (), "encoder_final_layer_norm", "last_hidden_state")]


@pytest.mark.parametrize(("case_id", "spec", "sets", "hidden", "output"), HF_SPECS, ids=[c[0] for c in HF_SPECS])
def test_hugging_face_models(case_id, spec, sets, hidden, output):
    case = HF[case_id]
    got = report(SPECS / spec, *sets)
    assert case["attn_implementation"] == "eager"
    assert got["total_params"] == case["params"]
    assert got["total_macs"] == case["macs"]
    assert got["output_shape"] == case["outputs"][output]
    # BertModel's and RobertaModel's last_hidden_state, T5's encoder_last_hidden_state
    other = "encoder_last_hidden_state" if case_id.startswith("t5") else "last_hidden_state"
    if other in case["outputs"]:
        assert rows(got)[hidden]["output_shape"] == case["outputs"][other]
    if "fvcore" in case:  # fvcore's FlopCountAnalysis of the same forward (its linears, matmuls and LayerNorms)
        assert report(SPECS / spec, *sets, convention="fvcore")["convention"]["total"] == case["fvcore"]


# ---- other lengths: the MACs as a formula in the length, against the framework at several lengths ---

LENGTH_VARS = {"input_ids": "tokens", "decoder_input_ids": "decoder_tokens"}
SPEC_OF = {"bert": "bert_base.yaml", "distilbert": "distilbert.yaml", "t5": "t5_small.yaml"}
AT_LENGTHS = [i for i in HF if "@" in i]


def length_sets(case: dict[str, Any]) -> dict[str, int]:
    return {LENGTH_VARS[name]: length for name, length in case["inputs"].items() if name in LENGTH_VARS}


@pytest.mark.parametrize("case_id", AT_LENGTHS)
def test_other_lengths(case_id):
    case = HF[case_id]
    spec = SPECS / SPEC_OF[case_id.split("/")[0]]
    got = report(spec, *(f"{name}={value}" for name, value in length_sets(case).items()))
    assert got["total_params"] == case["params"]
    assert got["total_macs"] == case["macs"]


@pytest.mark.parametrize("model", ["distilbert", "bert", "t5"])
def test_a_free_length_gives_the_macs_as_a_formula(tmp_path, model):
    """The spec with its lengths left free (no `tokens` var): MACs a formula in the lengths, quadratic
    through the attention products, that gives the framework's count at every measured length."""
    spec = yaml.safe_load((SPECS / SPEC_OF[model]).read_text())
    for name in LENGTH_VARS.values():
        spec["vars"].pop(name, None)
    del spec["expect"]
    got = report(write(tmp_path, spec))
    formula = sympy.sympify(got["total_macs"].replace("^", "**"))
    measured = [HF[i] for i in HF if i.split("@")[0] in (f"{model}/base", f"{model}/small")]
    assert len(measured) >= 2 and sympy.Poly(formula, *formula.free_symbols).total_degree() == 2
    for case in measured:
        values = {sympy.Symbol(name): length for name, length in length_sets(case).items()}
        assert formula.subs(values) == case["macs"], case["id"]


# ---- part by part: the framework's modules against the spec's rows (a name ending in "." is a prefix) ---

BERT_EMBEDDINGS = ["word_embeddings", "position_embeddings", "token_type_embeddings", "embeddings_norm"]
PARTS = {
    "bert/base": {"embeddings": BERT_EMBEDDINGS, "encoder.layer.0": ["encoder_1."],
                  "encoder.layer.0.attention": ["encoder_1.attention", "encoder_1.attention_norm"],
                  "encoder.layer.11": ["encoder_12."], "pooler": ["pooler"]},
    "distilbert/base": {"embeddings": ["word_embeddings", "position_embeddings", "embeddings_norm"],
                        "transformer.layer.0": ["layer_1."], "transformer.layer.0.attention": ["layer_1.attention"],
                        "transformer.layer.5": ["layer_6."]},
    "roberta/base": {"embeddings": BERT_EMBEDDINGS, "encoder.layer.0": ["encoder_1."], "pooler": ["pooler"]},
    "t5/small": {"shared": ["shared"], "encoder.block.0": ["encoder_1."], "encoder.block.1": ["encoder_2."],
                 "encoder.block.0.layer.0.SelfAttention.relative_attention_bias": ["encoder_1.relative_attention_bias"],
                 "encoder.final_layer_norm": ["encoder_final_layer_norm"], "decoder.block.0": ["decoder_1."],
                 "decoder.block.1": ["decoder_2."],
                 "decoder.block.0.layer.1": ["decoder_1.cross_layer_norm", "decoder_1.EncDecAttention"],
                 "decoder.final_layer_norm": ["decoder_final_layer_norm"]},
}
SPEC_OF_CASE = {"bert/base": "bert_base.yaml", "distilbert/base": "distilbert.yaml",
                "roberta/base": "roberta_base.yaml", "t5/small": "t5_small.yaml"}
VIT_PARTS = {"conv_proj": ["conv_proj"], "encoder.layers.encoder_layer_0": ["encoder_layer_1."],
             "encoder.layers.encoder_layer_0.mlp": ["encoder_layer_1.mlp_0", "encoder_layer_1.mlp_3"],
             "encoder.layers.encoder_layer_11": ["encoder_layer_12."], "encoder.ln": ["ln"], "heads": ["head"]}


def part_params(got: dict[str, Any], names: list[str]) -> int:
    chosen = [row for row in got["layers"]
              if any(row["name"].startswith(n) if n.endswith(".") else row["name"] == n for n in names)]
    assert chosen, names
    return sum(row["params"] for row in chosen)


@pytest.mark.parametrize("case_id", list(PARTS))
def test_part_by_part(case_id):
    got, modules = report(SPECS / SPEC_OF_CASE[case_id]), HF[case_id]["modules"]
    assert set(PARTS[case_id]) == set(modules)
    for module, names in PARTS[case_id].items():
        assert part_params(got, names) == modules[module], module


def test_vit_part_by_part():
    got = report(SPECS / "vit_b_16.yaml")
    assert set(VIT_PARTS) == set(VIT["modules"])
    for module, names in VIT_PARTS.items():
        assert part_params(got, names) == VIT["modules"][module], module


def test_fvcore_was_measured_on_each_base_model():
    assert {i for i in HF if "fvcore" in HF[i] and not i.startswith("mha/")} == {
        "bert/base", "distilbert/base", "roberta/base", "t5/small"}


def test_the_issue_figures_are_the_frameworks():
    # issue 14's zoo list: bert_base 109,482,240 (large 335,141,888), distilbert 66,362,880, roberta_base
    # 124,645,632, t5_small 60,506,624, vit_b_16 86,567,656
    figures = {i: HF[i]["params"] for i in ("bert/base", "bert/large", "distilbert/base", "roberta/base", "t5/small")}
    assert figures == {"bert/base": 109_482_240, "bert/large": 335_141_888, "distilbert/base": 66_362_880,
                       "roberta/base": 124_645_632, "t5/small": 60_506_624}
    assert VIT["params"] == VIT["torchvision_num_params"] == 86_567_656


def test_bert_pooler_and_masked_lm_head_are_chosen_by_head():
    base, mlm = report(SPECS / "bert_base.yaml"), report(SPECS / "bert_base.yaml", "head=mlm")
    assert {"first_token", "pooler", "pooler_tanh"} <= set(rows(base)) and "decoder" not in rows(base)
    assert "pooler" not in rows(mlm)
    # BertForMaskedLM has no pooler: the difference is the pooler against the head's transform and bias
    pooler = rows(base)["pooler"]["params"]
    head = sum(rows(mlm)[n]["params"] for n in ("transform", "transform_norm", "decoder"))
    assert HF["bert/base"]["params"] - pooler + head == HF["bert/base_masked_lm"]["params"]
    assert base["shared_weights"] == [] and [w["tied_to"] for w in mlm["shared_weights"]] == ["word_embeddings"]


def test_roberta_position_table_has_514_rows():
    case = HF["roberta/base"]
    assert case["config"]["max_position_embeddings"] == 514 and case["config"]["pad_token_id"] == 1
    assert rows(report(SPECS / "roberta_base.yaml"))["position_embeddings"]["params"] == 514 * 768


def test_t5_shares_one_table_between_encoder_and_decoder():
    case, got = HF["t5/small"], report(SPECS / "t5_small.yaml")
    table = case["config"]["vocab_size"] * case["config"]["d_model"]
    assert case["tied"] == [["shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"]]
    assert got["shared_weights"] == [{"layer": "decoder_embed_tokens", "tied_to": "shared", "params": table}]
    # Hugging Face names the table three times, the spec looks it up twice (the spec's comment says so)
    assert got["params_with_tied_listed"] + table == case["params_with_tied_listed"]


def test_t5_small_has_nn_transformer_macs():
    # the spec's comment: t5-small shares nn.Transformer()'s widths and depths (512, 8 heads, 2048, 6 + 6),
    # and biases and norms add no products
    torch_transformer = cases("torch_transformer.json")["model/transformer_pytorch"]
    assert torch_transformer["macs"] == HF["t5/small"]["macs"]
    assert report(SPECS / "transformer_pytorch.yaml")["total_macs"] == report(SPECS / "t5_small.yaml")["total_macs"]


def test_t5_relative_bias_only_in_each_stack_first_layer():
    got = rows(report(SPECS / "t5_small.yaml"))
    biases = {name: row for name, row in got.items() if row["type"] == "RelativePositionBias"}
    assert sorted(biases) == ["decoder_1.relative_attention_bias", "encoder_1.relative_attention_bias"]
    config = HF["t5/small"]["config"]
    assert all(row["params"] == config["relative_attention_num_buckets"] * config["num_heads"]
               for row in biases.values())
    # T5 has no biases and a scale-only norm: every Linear and attention is bias-free, every norm d_model
    assert all(row["params"] == config["d_model"] for row in got.values() if row["type"] == "RMSNorm")


def test_vit_b_16():
    got = report(SPECS / "vit_b_16.yaml")
    assert got["total_params"] == VIT["params"]
    assert got["total_macs"] == VIT["macs"]
    assert got["output_shape"] == VIT["output_shape"]
    assert round(VIT["macs"] / 1e9, 3) == VIT["torchvision_ops"]  # torchvision's "GFLOPS" are these MACs
    layer = rows(got)
    assert layer["class_token"]["params"] == VIT["class_token"]
    assert layer["pos_embedding"]["params"] == VIT["pos_embedding"]
    assert layer["class_token"]["output_shape"] == [None, 197, 768]


@pytest.mark.parametrize(("convention", "figure"), [("ptflops-aten", VIT["tools"]["ptflops_aten"]),
                                                    ("ptflops", VIT["tools"]["ptflops_pytorch"]),
                                                    ("thop", VIT["tools"]["thop"]),
                                                    ("flop-counter", 2 * VIT["macs"])])
def test_vit_b_16_conventions(convention, figure):
    assert report(SPECS / "vit_b_16.yaml", convention=convention)["convention"]["total"] == figure


def test_vit_fast_path_hides_the_whole_attention_from_flop_counter():
    # the spec's comment: with the fused fast path FlopCounterMode misses every attention row's MACs
    attention = sum(row["macs"] for row in report(SPECS / "vit_b_16.yaml")["layers"]
                    if row["type"] == "MultiheadAttention")
    assert VIT["macs"] - attention == VIT["flop_counter_fastpath"]["macs"]


def test_vit_b_16_fvcore_convention_is_fvcore():
    # torchvision calls its attention with need_weights=False: scaled_dot_product_attention, which fvcore
    # does not count; fvcore adds the LayerNorms.
    got = report(SPECS / "vit_b_16.yaml", convention="fvcore")
    assert got["convention"]["total"] == VIT["fvcore"]["total"] == sum(VIT["fvcore"]["by_operator"].values())


def test_keras_text_transformer():
    got = report(SPECS / "keras_text_transformer.yaml")
    assert got["total_params"] == KERAS["params"] == 657_758
    assert got["trainable_params"] == KERAS["trainable_params"]
    assert got["total_macs"] == KERAS["macs"]
    assert got["output_shape"] == KERAS["output_shape"]
    ours = rows(got)
    for layer in KERAS["layers"][1:]:  # each Keras layer: the spec's row, or its block's rows summed
        parts = [row for name, row in ours.items() if name == layer["name"] or name.startswith(layer["name"] + ".")]
        assert sum(row["params"] for row in parts) == layer["params"], layer["name"]
        assert parts[-1]["output_shape"] == layer["output_shape"], layer["name"]
    # the attention's products: q, k, v projections, scores, weighted values, output projection
    assert ours["transformer_block.att"]["macs"] == sum(KERAS["dot_general_macs"][:6])


@pytest.mark.parametrize(("case_id", "spec"), [("keras_io/bidirectional_lstm_imdb", "imdb_lstm.yaml"),
                                              ("keras_io/lstm_seq2seq", "lstm_seq2seq.yaml")])
def test_keras_io_lstm_models(case_id, spec):
    case = KERAS_ZOO[case_id]
    got = report(SPECS / spec)
    assert got["total_params"] == case["params"]
    assert got["total_macs"] == case["macs"]
    assert got["output_shape"] == case["output_shape"]


def test_the_new_specs_check_strictly():
    specs = [str(SPECS / name) for name in ("bert_base.yaml", "distilbert.yaml", "roberta_base.yaml",
                                            "t5_small.yaml", "vit_b_16.yaml", "keras_text_transformer.yaml",
                                            "lstm_seq2seq.yaml")]
    result = CliRunner().invoke(cli, ["check", "--strict", *specs])
    assert result.exit_code == 0, result.output


def test_the_zoo_lists_them():
    result = CliRunner().invoke(cli, ["zoo", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = {entry["model"]: entry for entry in json.loads(result.stdout)["rows"]}
    assert listed["zoo:t5_small"]["params"] == HF["t5/small"]["params"]
    assert listed["zoo:vit_b_16"]["macs"] == VIT["macs"]
    assert listed["zoo:keras_text_transformer"]["params"] == KERAS["params"]
    # a sequence model has no layout: its layers say whose it is
    frameworks = {name: listed[f"zoo:{name}"]["framework"] for name in
                  ("bert_base", "distilbert", "roberta_base", "t5_small", "vit_b_16", "keras_text_transformer")}
    assert frameworks == {"bert_base": "PyTorch", "distilbert": "PyTorch", "roberta_base": "PyTorch",
                          "t5_small": "PyTorch", "vit_b_16": "PyTorch", "keras_text_transformer": "Keras"}


# ---- MultiheadAttention: attn_mask (a fourth input) and need_weights -----------------------------------

MHA = [i for i in HF if i.startswith("mha/") and "error" not in HF[i]]


def mha_spec(case: dict[str, Any]) -> dict[str, Any]:
    inputs = {"q": case["query"], "k": case["key"]}
    if case["attn_mask"] is not None:
        inputs["mask"] = case["attn_mask"]
    layer = {"embed_dim": case["embed_dim"], "num_heads": case["num_heads"], "bias": case["bias"],
             "batch_first": True, "need_weights": case["need_weights"],
             "inputs": ["q", "k", "k", "mask"] if "mask" in inputs else ["q", "k", "k"]}  # query, key, value, mask
    return {"name": "mha", "inputs": inputs, "layers": [{"MultiheadAttention": layer}]}


def write(tmp_path: Path, spec: dict[str, Any]) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, default_flow_style=None), encoding="utf-8")
    return path


@pytest.mark.parametrize("case_id", MHA)
def test_multihead_attention_mask_and_need_weights(tmp_path, case_id):
    case = HF[case_id]
    path = write(tmp_path, mha_spec(case))
    got = report(path)
    assert got["total_params"] == case["params"]
    assert got["total_macs"] == case["macs"]
    assert got["output_shape"] == case["output_shape"]
    assert report(path, convention="fvcore")["convention"]["total"] == case["fvcore"]


def test_a_mask_and_weights_count_as_fvcore_counts_baddbmm():
    # with a mask, nn.MultiheadAttention runs the scores as baddbmm, which fvcore does not count: the
    # difference is exactly the score product Tq x Tk x E
    case = HF["mha/attn_mask_per_head"]
    assert case["macs"] - case["fvcore"] == case["query"][0] * case["key"][0] * case["embed_dim"]


def test_a_mask_of_the_wrong_shape_is_refused(tmp_path):
    case = HF["mha/attn_mask_wrong_heads"]
    assert "error" in case  # PyTorch refuses it too
    path = write(tmp_path, mha_spec(case))
    message = refusal(path)
    assert "attn_mask" in message and "(4, 7, 9)" in message and "(3, 7, 9)" in message
    assert located_text(path, message).startswith("MultiheadAttention")


def test_explain_shows_the_t5_attention_products():
    result = CliRunner().invoke(cli, ["explain", str(SPECS / "t5_small.yaml"), "decoder_1.EncDecAttention"])
    assert result.exit_code == 0, result.output
    assert "attention score MACs" in result.stdout and "64 x 128 x 512" in result.stdout
