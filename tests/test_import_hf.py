"""`paramcalc import config.json` of Hugging Face models (issue 18): config.json files written by
transformers' config classes (tests/fixtures/make_hf_import_fixtures.py), imported into the zoo's
spec of their family, compared with the parameters of the model transformers builds from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.engine import analyze
from paramcalc.importers import import_file
from paramcalc.importers.hf import FAMILIES
from paramcalc.spec.loader import parse_spec
from tests.conftest import FIXTURES

IMPORTS = FIXTURES / "import"
HF = json.loads((IMPORTS / "hf_import.json").read_text())["cases"]


@pytest.mark.parametrize("case", sorted(HF))
def test_an_imported_config_counts_what_transformers_builds(case: str) -> None:
    text = import_file(str(IMPORTS / f"hf_{case}_config.json"))
    report = analyze(parse_spec(text, "imported.yaml"), keep_formulas=False)
    assert report.total_params == HF[case]["params"]
    assert "\nexpect:" not in text  # the zoo's figures are for its default sizes


def test_the_config_values_land_in_the_spec_vars() -> None:
    text = import_file(str(IMPORTS / "hf_bert_small_config.json"))
    assert ("vars: {layers: 4, hidden: 512, heads: 8, positions: 512, vocab: 32000, type_vocab: 2, tokens: 128, "
            "head: mlm}") in text
    assert {"gpt2", "bert"} <= set(FAMILIES)


def refused(tmp_path: Path, config: dict[str, Any], at: str | None = None) -> str:
    """The one-paragraph error (exit 2) of importing `config`, written as config.json as transformers
    writes it (indented, one key a line); it starts `config.json:LINE:COL: error: `, where LINE:COL is
    that of the value of the key `at` (counted here on the text), or of the opening brace."""
    path = tmp_path / "config.json"
    text = json.dumps(config, indent=2)
    path.write_text(text)
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    message = result.stderr.strip()
    where = "1:1"
    if at is not None:
        offset = text.index(f'"{at}": ') + len(f'"{at}": ')
        where = f"{text.count(chr(10), 0, offset) + 1}:{offset - text.rfind(chr(10), 0, offset)}"
    assert message.startswith(f"{path}:{where}: error: ") and "Fix: " in message and "\n" not in message, message
    return message


def test_a_config_the_spec_cannot_express_is_refused_by_key(tmp_path: Path) -> None:
    gpt2 = json.loads((IMPORTS / "hf_gpt2_config.json").read_text())
    assert "`n_inner: 1000`" in refused(tmp_path, {**gpt2, "n_inner": 1000}, "n_inner")
    assert "`tie_word_embeddings: false`" in refused(
        tmp_path, {**gpt2, "tie_word_embeddings": False}, "tie_word_embeddings")
    assert "no `n_layer`" in refused(tmp_path, {k: v for k, v in gpt2.items() if k != "n_layer"})
    bert = json.loads((IMPORTS / "hf_bert_base_config.json").read_text())
    assert "`intermediate_size: 1000` is not 4 x hidden" in refused(
        tmp_path, {**bert, "intermediate_size": 1000}, "intermediate_size")
    assert "`model_type: whisper` has no zoo spec" in refused(tmp_path, {"model_type": "whisper"}, "model_type")


def test_a_llama_config_sets_the_spec_vars_and_refuses_what_it_cannot_express(tmp_path: Path) -> None:
    text = import_file(str(IMPORTS / "hf_llama_small_gqa_config.json"))
    assert ("vars: {num_hidden_layers: 2, hidden_size: 256, intermediate_size: 688, num_attention_heads: 8, "
            "num_key_value_heads: 2, vocab_size: 1000, tokens: 128, tie_word_embeddings: false}") in text
    llama = json.loads((IMPORTS / "hf_llama_config.json").read_text())
    assert "tie_word_embeddings: true" in import_file(str(IMPORTS / "hf_llama_small_tied_config.json"))
    assert "`tie_word_embeddings` must be true or false" in refused(
        tmp_path, {**llama, "tie_word_embeddings": 1}, "tie_word_embeddings")
    assert "`attention_bias: true`" in refused(tmp_path, {**llama, "attention_bias": True}, "attention_bias")
    assert "`mlp_bias: true`" in refused(tmp_path, {**llama, "mlp_bias": True}, "mlp_bias")
    assert "`head_dim: 64` is not hidden_size // num_attention_heads (128)" in refused(
        tmp_path, {**llama, "head_dim": 64}, "head_dim")
    assert "no `num_key_value_heads`" in refused(
        tmp_path, {k: v for k, v in llama.items() if k != "num_key_value_heads"})


def test_mistral_and_mixtral_configs_set_their_vars_and_refuse_what_the_specs_cannot_express(tmp_path: Path) -> None:
    text = import_file(str(IMPORTS / "hf_mixtral_small_gqa_config.json"))
    assert ("vars: {num_hidden_layers: 2, hidden_size: 256, intermediate_size: 512, num_attention_heads: 8, "
            "num_key_value_heads: 4, vocab_size: 1000, num_local_experts: 4, num_experts_per_tok: 1, "
            "tokens: 128}") in text
    mistral = json.loads((IMPORTS / "hf_mistral_config.json").read_text())
    assert "`head_dim: 160` is not hidden_size // num_attention_heads (128)" in refused(
        tmp_path, {**mistral, "head_dim": 160}, "head_dim")  # e.g. Mistral NeMo's 5120 / 32 heads with head_dim 128
    assert "`tie_word_embeddings: true`" in refused(
        tmp_path, {**mistral, "tie_word_embeddings": True}, "tie_word_embeddings")
    mixtral = json.loads((IMPORTS / "hf_mixtral_config.json").read_text())
    assert "no `num_local_experts`" in refused(tmp_path, {k: v for k, v in mixtral.items() if k != "num_local_experts"})
    assert "`hidden_act: gelu`" in refused(tmp_path, {**mixtral, "hidden_act": "gelu"}, "hidden_act")


def test_encoder_configs_refuse_what_their_specs_cannot_express(tmp_path: Path) -> None:
    distilbert = json.loads((IMPORTS / "hf_distilbert_config.json").read_text())
    assert "`sinusoidal_pos_embds: true`" in refused(
        tmp_path, {**distilbert, "sinusoidal_pos_embds": True}, "sinusoidal_pos_embds")
    assert "no `hidden_dim`" in refused(tmp_path, {k: v for k, v in distilbert.items() if k != "hidden_dim"})
    roberta = json.loads((IMPORTS / "hf_roberta_base_config.json").read_text())
    assert "`intermediate_size: 2048` is not 4 x hidden (3072)" in refused(
        tmp_path, {**roberta, "intermediate_size": 2048}, "intermediate_size")
    assert "`is_decoder: true`" in refused(tmp_path, {**roberta, "is_decoder": True}, "is_decoder")
    t5 = json.loads((IMPORTS / "hf_t5_small_config.json").read_text())
    assert "`num_decoder_layers: 3` is not num_layers (6)" in refused(
        tmp_path, {**t5, "num_decoder_layers": 3}, "num_decoder_layers")
    assert "`d_kv: 32` is not d_model // num_heads (64)" in refused(tmp_path, {**t5, "d_kv": 32}, "d_kv")
    message = refused(tmp_path, {**t5, "feed_forward_proj": "gated-gelu"}, "feed_forward_proj")
    assert "`feed_forward_proj: " in message and "gated-gelu" in message and "`feed_forward_proj: relu`" in message
    text = import_file(str(IMPORTS / "hf_t5_tiny_config.json"))
    assert ("vars: {num_layers: 2, d_model: 128, num_heads: 4, d_ff: 384, vocab: 1000, buckets: 16, max_distance: 64, "
            "tokens: 128, decoder_tokens: 64}") in text


VITS = sorted(case for case in HF if case.startswith("vit"))


@pytest.mark.parametrize("case", VITS)
def test_an_imported_vit_config_counts_the_params_and_macs_transformers_gives(case: str) -> None:
    text = import_file(str(IMPORTS / f"hf_{case}_config.json"))
    report = analyze(parse_spec(text, "imported.yaml"), keep_formulas=False)
    assert (report.total_params, report.total_macs) == (HF[case]["params"], HF[case]["macs"])
    head = HF[case]["model"]
    assert head in text.split("\n", 1)[0]
    names = {row.name for row in report.rows}
    assert ("pooler" in names) == (head == "ViTModel") and ("classifier" in names) == (head != "ViTModel")


def test_a_vit_config_values_land_in_the_spec_vars() -> None:
    text = import_file(str(IMPORTS / "hf_vit_small_config.json"))
    assert ("vars: {image_size: 64, patch_size: 8, num_channels: 1, hidden_size: 192, num_hidden_layers: 3, "
            "num_attention_heads: 3, intermediate_size: 384, layer_norm_eps: 1.0e-12, qkv_bias: false, "
            "pooler_output_size: 96}") in text
    assert parse_spec(text, "imported.yaml").vars["layer_norm_eps"] == 1e-12  # a number, not the word 1e-12
    text = import_file(str(IMPORTS / "hf_vit_base_classifier_config.json"))
    assert "num_labels: 1000}" in text  # as many as id2label names


def test_vit_against_the_zoo_s_torchvision_build() -> None:
    """The figures issue 18 gives: HF ViTModel 86,389,248 (a pooler, no head); the zoo's vit_b_16, torchvision's
    build, 86,567,656, which is what ViTForImageClassification with 1000 labels counts too."""
    from paramcalc.spec.loader import read_source

    zoo = analyze(parse_spec(read_source("zoo:vit_b_16")[0], "vit_b_16.yaml"), keep_formulas=False)
    assert HF["vit_base"]["params"] == 86389248
    classifier = HF["vit_base_classifier"]
    assert (zoo.total_params, zoo.total_macs) == (classifier["params"], classifier["macs"])


def test_a_vit_config_the_spec_cannot_express_is_refused_at_its_value(tmp_path: Path) -> None:
    vit = json.loads((IMPORTS / "hf_vit_base_config.json").read_text())
    assert "`architectures: [ViTForMaskedImageModeling]`" in refused(
        tmp_path, {**vit, "architectures": ["ViTForMaskedImageModeling"]}, "architectures")
    assert "`hidden_act: glu`" in refused(tmp_path, {**vit, "hidden_act": "glu"}, "hidden_act")
    assert "a list of two sizes is not imported" in refused(tmp_path, {**vit, "image_size": [224, 160]}, "image_size")
    assert "does not divide `hidden_size: 768`" in refused(tmp_path, {**vit, "num_attention_heads": 10},
                                                          "num_attention_heads")
    assert "`qkv_bias` must be true or false" in refused(tmp_path, {**vit, "qkv_bias": "yes"}, "qkv_bias")
    assert "no `patch_size`" in refused(tmp_path, {k: v for k, v in vit.items() if k != "patch_size"})
    classifier = {**vit, "architectures": ["ViTForImageClassification"]}
    assert "`num_labels` must be a whole number" in refused(tmp_path, {**classifier, "num_labels": -1}, "num_labels")


@pytest.mark.parametrize("case", ["llama3_8b", "mixtral_small_gqa", "t5_tiny"])
def test_import_then_summary_through_the_cli_gives_transformers_params(tmp_path: Path, case: str) -> None:
    spec = tmp_path / "imported.yaml"
    runner = CliRunner()
    result = runner.invoke(cli, ["import", str(IMPORTS / f"hf_{case}_config.json"), "-o", str(spec)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["summary", str(spec), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total_params"] == HF[case]["params"]


def test_each_kind_of_mistake_in_a_config_is_placed_at_its_value(tmp_path: Path) -> None:
    gpt2 = json.loads((IMPORTS / "hf_gpt2_config.json").read_text())
    assert "`model_type: gpt3` has no zoo spec" in refused(tmp_path, {**gpt2, "model_type": "gpt3"}, "model_type")
    assert "no `n_embd`" in refused(tmp_path, {k: v for k, v in gpt2.items() if k != "n_embd"})  # the brace
    assert "`n_layer` must be a positive whole number; got \"12\"" in refused(
        tmp_path, {**gpt2, "n_layer": "12"}, "n_layer")  # wrong type
    assert "`add_cross_attention: true`" in refused(tmp_path, {**gpt2, "add_cross_attention": True},
                                                    "add_cross_attention")  # unsupported value
    # a spec that does not compute with the config's values: placed at the config (its opening brace)
    assert "does not compute" in refused(tmp_path, {**gpt2, "n_embd": 100, "n_head": 3})
