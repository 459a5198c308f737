"""Weight-tied layers and the GPT-2 zoo spec (issue 14) through the command line: `tie:` on Linear /
Dense (a head reusing the token table: its MACs count, no weight of its own, its bias stays its own)
and on Embedding (a table reused); the JSON report's `shared_weights` and `params_with_tied_listed`;
specs/gpt2.yaml at its four sizes through `--set`, and specs/bert_base.yaml with `--set head=mlm` (BERT-base with its
masked-LM head, whose decoder keeps its own bias).

Every figure compared is a framework's, read from tests/fixtures/hf_models.json (transformers'
GPT2LMHeadModel built from GPT2Config, and small plain-PyTorch tied models: sum(p.numel()) over
parameters() and over named_parameters(remove_duplicate=False), FlopCounterMode / 2 as MACs)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import FIXTURES, SPECS

HF = {case["id"]: case for case in json.loads((FIXTURES / "hf_models.json").read_text())["cases"]}
GPT2 = [i for i in HF if i.startswith("gpt2/")]
TOYS = [i for i in HF if i.startswith("tie/") and "wrong" not in i]
SIZES = {"small": (), "medium": ("n_layer=24", "n_embd=1024", "n_head=16"),
         "large": ("n_layer=36", "n_embd=1280", "n_head=20"), "xl": ("n_layer=48", "n_embd=1600", "n_head=25")}


def write(tmp_path: Path, spec: dict[str, Any]) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, default_flow_style=None), encoding="utf-8")
    return path


def report(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["summary", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def toy_spec(case: dict[str, Any]) -> dict[str, Any]:
    """The spec of a fixture's tied toy: an Embedding, then a Linear head or a second Embedding tied to it."""
    embed = {"name": "embed", "num_embeddings": case["vocab"], "embedding_dim": case["dim"], "inputs": "ids"}
    if case["head"] == "Linear":
        head = [{"Linear": {"name": "head", "out_features": case["out_features"], "bias": case["bias"],
                            "tie": "embed"}}]
    else:
        head = [{"Embedding": {**embed, "name": "head", "tie": "embed"}},
                {"Add": {"inputs": ["embed", "head"]}}]
    return {"name": "toy", "inputs": {"ids": [case["tokens"]]}, "layers": [{"Embedding": embed}, *head]}


@pytest.mark.parametrize("case_id", GPT2)
def test_gpt2_at_every_size(case_id):
    case = HF[case_id]
    size = case_id.split("/")[1]
    got = report(str(SPECS / "gpt2.yaml"), *(arg for value in SIZES[size] for arg in ("--set", value)))
    assert got["total_params"] == case["params"]
    assert got["params_with_tied_listed"] == case["params_with_tied_listed"]
    assert got["shared_weights"] == [{"layer": "lm_head", "tied_to": "wte",
                                      "params": case["params_with_tied_listed"] - case["params"]}]
    assert case["tied"] == [["transformer.wte.weight", "lm_head.weight"]]
    if "macs" in case:  # small, at the spec's 128 tokens (the tied head's products included)
        assert got["total_macs"] == case["macs"]
        assert got["output_shape"] == case["output_shape"]


def test_the_gpt2_spec_checks():
    result = CliRunner().invoke(cli, ["check", str(SPECS / "gpt2.yaml")])
    assert result.exit_code == 0, result.output


def test_the_tied_head_has_no_weight_params_but_its_macs():
    rows = {row["name"]: row for row in report(str(SPECS / "gpt2.yaml"))["layers"]}
    head, small = rows["lm_head"], HF["gpt2/small"]
    assert head["params"] == 0
    assert head["macs"] == small["tokens"] * 768 * 50257 == small["flop_counter"]["aten.mm"] // 2


@pytest.mark.parametrize("case_id", TOYS)
def test_tied_toys(tmp_path, case_id):
    case = HF[case_id]
    got = report(str(write(tmp_path, toy_spec(case))))
    assert got["total_params"] == case["params"]
    assert got["params_with_tied_listed"] == case["params_with_tied_listed"]
    assert got["total_macs"] == case["macs"]
    assert got["output_shape"] == case["output_shape"]
    assert [w["layer"] for w in got["shared_weights"]] == ["head"]


def test_a_bias_stays_the_head_own(tmp_path):
    case = HF["tie/linear_head_bias"]
    head = {row["name"]: row for row in report(str(write(tmp_path, toy_spec(case))))["layers"]}["head"]
    assert head["params"] == case["params"] - case["vocab"] * case["dim"] == case["out_features"]


def refusal(path: Path) -> str:
    result = CliRunner().invoke(cli, ["summary", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith(f"{path}:") and ": error: " in message and "Fix: " in message, message
    return message


def test_a_head_whose_shape_differs_is_refused_where_tie_is(tmp_path):
    # PyTorch does not check this (the shared weight decides the output, 100 features not 90: the
    # fixture's output_shape); the issue asks for a located error.
    case = HF["tie/linear_head_wrong_out"]
    assert case["output_shape"][-1] == case["vocab"] != case["out_features"]
    path = write(tmp_path, toy_spec(case))
    message = refusal(path)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "tie" in text)
    assert re.match(rf"{re.escape(str(path))}:{line}:\d+: error: ", message), message
    assert "100 x 16" in message and "90 x 16" in message


def test_a_tie_to_nothing_is_refused(tmp_path):
    spec = toy_spec(HF["tie/linear_head"])
    spec["layers"][1]["Linear"]["tie"] = "wtf"
    message = refusal(write(tmp_path, spec))
    assert "`tie: wtf` names no Embedding, Dense or Linear above it" in message and "`embed`" in message


def test_no_tie_no_shared_weights():
    got = report(str(SPECS / "lenet5.yaml"))
    assert got["shared_weights"] == [] and got["params_with_tied_listed"] == got["total_params"]


def test_explain_shows_the_shared_matrix():
    result = CliRunner().invoke(cli, ["explain", str(SPECS / "gpt2.yaml")])
    assert result.exit_code == 0, result.output
    shared = HF["gpt2/small"]["params_with_tied_listed"] - HF["gpt2/small"]["params"]
    line = f"shared weights  in x units = 768 x 50257 = {shared:,}  (tied to `wte`, counted there once)"
    assert line in result.stdout


def test_bert_base_masked_lm():
    case = HF["bert/base_masked_lm"]
    got = report(str(SPECS / "bert_base.yaml"), "--set", "head=mlm")  # the default head is BertModel's pooler
    assert got["total_params"] == case["params"]
    assert got["total_macs"] == case["macs"]
    assert got["output_shape"] == case["output_shape"]
    decoder = {row["name"]: row for row in got["layers"]}["decoder"]
    assert decoder["params"] == case["decoder_bias"] == case["config"]["vocab_size"]
    assert got["shared_weights"] == [{"layer": "decoder", "tied_to": "word_embeddings",
                                      "params": case["config"]["vocab_size"] * case["config"]["hidden_size"]}]
    # Hugging Face names two tensors twice: the word table (the tie) and the decoder's bias, which it
    # also lists as cls.predictions.bias; the tie alone is what `params_with_tied_listed` adds.
    assert ["cls.predictions.bias", "cls.predictions.decoder.bias"] in case["tied"]
    assert got["params_with_tied_listed"] == case["params_with_tied_listed"] - case["decoder_bias"]
    result = CliRunner().invoke(cli, ["check", str(SPECS / "bert_base.yaml")])
    assert result.exit_code == 0, result.output


def test_a_tie_inside_a_block_names_the_block_own_layer(tmp_path):
    case = HF["tie/linear_head"]
    spec = toy_spec(case)
    embed, head = spec["layers"]
    spec["blocks"] = {"lm": {"layers": [{"Embedding": {**embed["Embedding"], "inputs": "input"}}, head]}}
    spec["layers"] = [{"lm": {"inputs": "ids"}}]
    got = report(str(write(tmp_path, spec)))
    assert got["total_params"] == case["params"]
    assert got["params_with_tied_listed"] == case["params_with_tied_listed"]
    assert [(w["layer"], w["tied_to"]) for w in got["shared_weights"]] == [("lm.head", "lm.embed")]
