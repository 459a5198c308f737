"""Issue 14, "Figures the report gives for sequence models": attention products apart from the rest of the
MACs (a formula in L with a free length), MACs per generated token with a KV cache and the cache's size
(`summary --context N`), and params by component. Every figure is compared with a framework's, read from
tests/fixtures/generation.json (make_generation_fixtures.py: Hugging Face GPT-2 and BERT, nn.Transformer)."""

from __future__ import annotations

import json

import pytest
import sympy
from click.testing import CliRunner

from paramcalc.api import analyze
from paramcalc.cli import KV_DTYPES, cli
from paramcalc.generation import DTYPE_BYTES, attention_products, generation, params_by_component
from tests.conftest import FIXTURES, SPECS, run_text

DATA = json.loads((FIXTURES / "generation.json").read_text())
GPT2 = str(SPECS / "gpt2.yaml")
L = sympy.Symbol("L", integer=True, positive=True)


def sets(values: dict[str, int]) -> list[str]:
    return [arg for name, value in values.items() for arg in ("--set", f"{name}={value}")]


def summary_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["summary", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


POINTS = [(case, point) for case in DATA["generation"] for point in case["points"]]


@pytest.mark.parametrize("case, point", POINTS, ids=[f"{c['id']}@{p['context']}" for c, p in POINTS])
@pytest.mark.parametrize("tokens", ["32", "L"])
def test_macs_per_token_and_kv_cache_equal_hugging_face(case, point, tokens):
    """HF GPT-2's forward of one new token with past_key_values of n - 1 positions (FlopCounterMode / 2, the
    eager attention), and the numel of the cache after it; the spec's own length does not matter."""
    data = summary_json(GPT2, *sets(case["set"]), "--set", f"tokens={tokens}", "--context", str(point["context"]),
                        "--kv-dtype", "float32")
    found = data["generation"]
    assert found["macs_per_token"] == point["macs_per_token"]
    assert found["kv_cache_values"] == point["kv_cache_numel"]
    assert found["kv_cache_bytes"] == point["kv_cache_bytes"]["float32"]
    assert found["kv_cache_values_per_token"] * point["context"] == point["kv_cache_numel"]
    half = summary_json(GPT2, *sets(case["set"]), "--context", str(point["context"]))["generation"]
    assert half["dtype"] == "float16" and half["kv_cache_bytes"] == point["kv_cache_bytes"]["float16"]


def test_per_token_is_the_linear_part_plus_the_products_at_n_keys():
    """The split the footer gives: the fused SDPA kernel HF picks by default counts the products 0, so its
    figure is the part at one position; eager minus it is the attention over n cached positions."""
    for case, point in POINTS:
        report = analyze(GPT2, variables={**case["set"], "tokens": 8})
        found = generation(report, point["context"])
        assert found["linear_macs_per_token"] == point["macs_per_token_sdpa"]
        assert found["attention_macs_per_token"] == point["macs_per_token"] - point["macs_per_token_sdpa"]


def test_attention_products_are_the_batched_products_flop_counter_sees():
    """GPT-2 small at 128 tokens, eager attention: FlopCounterMode's aten.bmm are QK^T and AV."""
    eager = DATA["sdpa_kernels"]["eager"]
    products = attention_products(analyze(GPT2))
    assert products is not None
    assert 2 * products["macs"] == eager["by_op"]["aten.bmm"]
    assert products["score_macs"] == products["value_macs"]
    assert 2 * (products["macs"] + products["other_macs"]) == eager["flops"]


def test_free_length_gives_macs_as_linear_plus_quadratic_in_L():
    by_set = analyze(GPT2, variables={"tokens": "L"})
    written = run_text((SPECS / "gpt2.yaml").read_text().replace("[tokens]", "[L]"))
    for report in (by_set, written):
        products = attention_products(report)
        assert products is not None
        assert sympy.expand(report.total_macs - products["macs"]).as_poly(L).degree() == 1
        assert sympy.expand(products["macs"]).as_poly(L).degree() == 2
        assert report.total_macs.subs(L, 128) == analyze(GPT2).total_macs == 16_114_089_984  # HF's, hf_models.json
    data = summary_json(GPT2, "--set", "tokens=L")
    assert data["total_macs"] == "18432*L^2 + 123532032*L"
    assert data["attention_products"]["macs"] == "18432*L^2"
    assert data["attention_products"]["other_macs"] == "123532032*L"


def test_summary_table_shows_the_products_and_the_generation_figures():
    result = CliRunner().invoke(cli, ["summary", "--width", "200", GPT2, "--set", "tokens=L", "--context", "1024"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Total MACs: 18432*L^2 + 123532032*L" in text
    assert "Attention products: 18432*L^2 MACs" in text and "QK^T 9216*L^2 + AV 9216*L^2" in text
    assert "Per generated token at context 1,024 (KV cache): 142,406,400 MACs" in text
    assert "KV cache: 18,432 values per token (36.00 KB), 36.00 MB at 1,024 tokens" in text


COMPONENTS = {case["id"]: case for case in DATA["components"]}


@pytest.mark.parametrize("case_id", sorted(COMPONENTS))
def test_params_by_component_equal_the_named_parameters_grouped(case_id):
    """Hugging Face's / PyTorch's named parameters summed by component (the script's rules by name);
    paramcalc's from each layer's category, a transformer layer split by part."""
    case = COMPONENTS[case_id]
    report = analyze(str(SPECS / case["spec"]), variables=case["set"])
    found = params_by_component(report)
    assert {k: v for k, v in found.items() if v} == case["components"]
    assert sum(found.values()) == report.total_params == case["params"]


def test_tied_head_counts_once_and_the_listing_adds_it_there():
    case = COMPONENTS["gpt2/small"]
    report = analyze(GPT2)
    assert params_by_component(report)["head"] == 0
    tied = sum(r.tied[1] for r in report.rows if r.tied)
    assert case["components_with_tied_listed"]["head"] == tied
    assert report.params_with_tied_listed == sum(case["components_with_tied_listed"].values()) == 163_037_184
    data = summary_json(GPT2)
    assert data["params_by_component"] == {**dict.fromkeys(data["params_by_component"], 0), **case["components"]}


def test_models_without_attention_have_no_products_and_their_params_in_other():
    data = summary_json(str(SPECS / "lenet5.yaml"))
    assert data["attention_products"] is None
    assert data["params_by_component"]["other"] == 2_572  # the two convolutions: 156 + 2,416 (golden table)
    assert data["params_by_component"]["mlp"] == data["total_params"] - 2_572
    assert "generation" not in data


def test_kv_dtypes_of_the_option_are_the_ones_sized():
    assert set(KV_DTYPES) == set(DTYPE_BYTES)


@pytest.mark.parametrize("spec, words", [
    ("lenet5.yaml", "no attention layer"),
    ("transformer_pytorch.yaml", "cross-attention"),
    ("imdb_lstm.yaml", "no attention layer"),
])
def test_context_is_refused_where_it_does_not_apply(spec, words):
    result = CliRunner().invoke(cli, ["summary", str(SPECS / spec), "--context", "16"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and words in result.stderr
    assert result.stderr.strip().startswith(str(SPECS / spec)) and "Fix: " in result.stderr


@pytest.mark.parametrize("extra", [["--set", "n_head=4,12"], ["--by-type"], ["--conventions"], ["--format", "csv"],
                                   ["--format", "markdown"]])
def test_context_with_other_views_is_a_usage_error(extra):
    result = CliRunner().invoke(cli, ["summary", GPT2, "--context", "16", *extra])
    assert result.exit_code == 2 and "--context" in result.output


def test_a_recurrent_decoder_is_refused_at_its_layer(spec_file):
    path = spec_file("input: [8, 16]\nlayers:\n  - LSTM: {units: 16, return_sequences: true}\n"
                     "  - MultiHeadAttention: {num_heads: 2, key_dim: 8}\n")
    result = CliRunner().invoke(cli, ["summary", path, "--context", "4"])
    assert result.exit_code == 2 and f"{path}:3:" in result.stderr and "mixes positions" in result.stderr


def test_batch_leaves_generation_per_sequence():
    one = summary_json(GPT2, "--context", "64")["generation"]
    four = summary_json(GPT2, "--context", "64", "--batch", "4")
    assert four["generation"] == one
    assert four["attention_products"]["macs"] == 4 * one_products()


def one_products() -> int:
    products = attention_products(analyze(GPT2))
    assert products is not None
    return products["macs"]


GQA = DATA["gqa"]


@pytest.mark.parametrize("point", GQA["points"], ids=lambda p: f"context-{p['context']}")
def test_grouped_query_attention_generation_equals_hugging_face_llama(point):
    """A tiny Llama (LlamaForCausalLM, 4 query heads sharing 2 key/value heads): the cache keeps 2 x layers x
    kv_heads x head_dim values per token (128 here, not the 256 of full multi-head attention), and one
    token's MACs at context n equal FlopCounterMode's / 2 (less the rotary embedding's product, 0 here)."""
    report = analyze(str(FIXTURES.parent / "cases" / "llama_tiny.yaml"))
    assert report.total_params == GQA["params"]
    found = generation(report, point["context"], "float32")
    assert found["macs_per_token"] == point["macs_per_token"] == point["flop_counter_macs"]
    assert found["kv_cache_values"] == point["kv_cache_numel"]
    assert found["kv_cache_bytes"] == point["kv_cache_bytes"]["float32"]
    batch, kv_heads, _, head_dim = point["kv_cache_shape"]
    assert found["kv_cache_values_per_token"] == 2 * GQA["config"]["num_hidden_layers"] * kv_heads * head_dim


# ---- explain: each attention product and each RNN gate with its formula --------------------------------

MHA_CASES = [c for c in json.loads((FIXTURES / "torch_attention.json").read_text())["cases"]
             if c["id"].startswith("MultiHeadAttention/") and "fvcore_by_operator" in c]


@pytest.mark.parametrize("case", MHA_CASES, ids=lambda c: c["id"])
def test_explain_shows_keras_attention_products_apart_as_fvcore_counts_them(case):
    """Keras MultiHeadAttention rebuilt in torch (torch_attention.json): fvcore's `linear` are the
    projections, its `matmul` the QK^T and AV products, each on its own explain line."""
    import yaml

    result = CliRunner().invoke(cli, ["explain", "-"], input=yaml.safe_dump(case["spec"]))
    assert result.exit_code == 0, result.output
    lines = {line.split("  ")[1].strip(): line for line in result.stdout.splitlines()
             if line.startswith("  ") and " MACs " in line}
    figure = {label: int(line.split("=")[-1].split("(")[0].replace(",", "")) for label, line in lines.items()}
    assert figure["projection MACs"] == case["fvcore_by_operator"]["linear"]
    assert figure["QK product MACs"] + figure["AV product MACs"] == case["fvcore_by_operator"]["matmul"]
    assert "Tq x Tk x h x key_dim" in lines["QK product MACs"] and "Tq x Tk x h x value_dim" in lines["AV product MACs"]


def test_explain_shows_the_products_of_pytorch_attention_and_each_rnn_gate():
    spec = ("input: [10, 8]\nlayers:\n  - MultiheadAttention: {embed_dim: 8, num_heads: 2}\n"
            "  - LSTM: {hidden_size: 5}\n  - GRU: {units: 4}\n")
    out = CliRunner().invoke(cli, ["explain", "-"], input=spec).stdout
    assert "attention score MACs       Tq x Tk x E = 10 x 10 x 8 = 800  (QK^T" in out
    assert "attention value MACs       Tq x Tk x E = 10 x 10 x 8 = 800  (attention weights x V)" in out
    for gate in ("i = sigmoid(", "f = sigmoid(", "g = tanh(", "o = sigmoid(", "z = sigmoid(", "r = sigmoid(",
                 "n = tanh("):
        assert gate in out, gate


def test_by_type_shows_the_attention_products_apart():
    """--by-type: the products in a row of their own (HF's aten.bmm, as above), the attention layers' row
    the rest of their MACs; the rows still sum to the total."""
    data = summary_json(GPT2, "--by-type")
    rows = {row["type"]: row for row in data["rows"]}
    products = rows["Attention QK^T, AV"]
    assert 2 * products["macs"] == DATA["sdpa_kernels"]["eager"]["by_op"]["aten.bmm"]
    assert products["params"] == 0 and products["layers"] == 12
    assert sum(row["macs"] for row in data["rows"]) == data["totals"][0]["macs"] == 16_114_089_984


RNN_CASES = [c for c in json.loads((FIXTURES / "torch_rnn.json").read_text())["cases"]
             if c.get("kind") in ("LSTM", "GRU") and "macs" in c and "error" not in c
             and len(c["spec"]["layers"]) == 1 and not any(k in c["spec"]["layers"][0][c["kind"]]
                                                           for k in ("num_layers", "bidirectional", "proj_size"))]


@pytest.mark.parametrize("case", RNN_CASES, ids=lambda c: c["id"])
def test_explain_gives_each_gate_its_products_which_sum_to_the_layers_macs(case):
    """Each gate's MACs per step (x W and h U), times the steps, add up to the MACs of PyTorch's computation
    unrolled step by step (torch_rnn.json)."""
    import yaml

    result = CliRunner().invoke(cli, ["explain", "-"], input=yaml.safe_dump(case["spec"]))
    assert result.exit_code == 0, result.output
    gates = [int(line.split("=")[-1].split("(")[0].replace(",", "")) for line in result.stdout.splitlines()
             if line.strip()[1:].startswith(" MACs ")]
    assert len(gates) == (4 if case["kind"] == "LSTM" else 3)
    assert sum(gates) * case["spec"]["input"][0] == case["macs"]
