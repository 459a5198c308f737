"""Hugging Face `config.json` files to specs: the zoo's spec of the model's family, its `vars:` set
from the config's values.

FAMILIES holds one entry per `model_type`: the zoo spec, which config key sets which of its vars,
and the config values the spec's structure assumes (a config that differs is refused, naming the
key, rather than counted as another model). Adding a family is adding an entry."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from paramcalc.importers import Imported, ImportError_
from paramcalc.importers.jsonfile import JsonFile
from paramcalc.importers.specwriter import scalar


class Family(NamedTuple):
    spec: str  # the zoo spec
    model: str  # the transformers class whose figures the spec gives
    vars: dict[str, str]  # config key -> the spec's var
    assumes: dict[str, Any]  # config key -> the value the spec is built for (a key left out means that value)
    # config key -> (what the spec computes it as, how): a config value (not null) must equal it
    derived: dict[str, tuple[str, Callable[[dict[str, int]], int]]] = {}
    sets: dict[str, Any] = {}  # spec var -> the value that makes the spec `model` (e.g. its head)
    flags: dict[str, str] = {}  # config key -> the spec's true/false var (a key left out keeps the spec's)


# LlamaForCausalLM and its kin: bias-free projections, an untied lm_head, head_dim = hidden // heads
_LLAMA_VARS = {k: k for k in ("num_hidden_layers", "hidden_size", "intermediate_size", "num_attention_heads",
                              "num_key_value_heads", "vocab_size")}
_HEAD_DIM = ("hidden_size // num_attention_heads", lambda v: v["hidden_size"] // v["num_attention_heads"])


FAMILIES: dict[str, Family] = {
    "gpt2": Family("gpt2", "GPT2LMHeadModel",
                   {"n_layer": "n_layer", "n_embd": "n_embd", "n_head": "n_head", "n_positions": "n_ctx",
                    "vocab_size": "vocab"},
                   {"n_inner": None, "tie_word_embeddings": True, "add_cross_attention": False},
                   ),
    "bert": Family("bert_base", "BertForMaskedLM",
                   {"num_hidden_layers": "layers", "hidden_size": "hidden", "num_attention_heads": "heads",
                    "max_position_embeddings": "positions", "vocab_size": "vocab", "type_vocab_size": "type_vocab"},
                   {"tie_word_embeddings": True, "add_cross_attention": False},
                   {"intermediate_size": ("4 x hidden", lambda v: 4 * v["hidden"])}, {"head": "mlm"}),
    "distilbert": Family("distilbert", "DistilBertModel",
                         {"n_layers": "n_layers", "dim": "dim", "n_heads": "n_heads", "hidden_dim": "hidden_dim",
                          "max_position_embeddings": "positions", "vocab_size": "vocab"},
                         {"sinusoidal_pos_embds": False, "activation": "gelu"}),
    "roberta": Family("roberta_base", "RobertaModel",
                      {"num_hidden_layers": "layers", "hidden_size": "hidden", "num_attention_heads": "heads",
                       "max_position_embeddings": "positions", "vocab_size": "vocab", "type_vocab_size": "type_vocab"},
                      {"hidden_act": "gelu", "add_cross_attention": False, "is_decoder": False},
                      {"intermediate_size": ("4 x hidden", lambda v: 4 * v["hidden"])}),
    "t5": Family("t5_small", "T5Model",
                 {"num_layers": "num_layers", "d_model": "d_model", "num_heads": "num_heads", "d_ff": "d_ff",
                  "vocab_size": "vocab", "relative_attention_num_buckets": "buckets",
                  "relative_attention_max_distance": "max_distance"},
                 {"feed_forward_proj": "relu", "is_gated_act": False, "tie_word_embeddings": True},
                 {"num_decoder_layers": ("num_layers", lambda v: v["num_layers"]),
                  "d_kv": ("d_model // num_heads", lambda v: v["d_model"] // v["num_heads"])}),
    "llama": Family("llama2_7b", "LlamaForCausalLM", _LLAMA_VARS,
                    {"attention_bias": False, "mlp_bias": False, "hidden_act": "silu"},
                    {"head_dim": _HEAD_DIM}, flags={"tie_word_embeddings": "tie_word_embeddings"}),
    "mistral": Family("mistral_7b", "MistralForCausalLM", _LLAMA_VARS,
                      {"tie_word_embeddings": False, "hidden_act": "silu"}, {"head_dim": _HEAD_DIM}),
    "mixtral": Family("mixtral_8x7b", "MixtralForCausalLM",
                      {**_LLAMA_VARS, "num_local_experts": "num_local_experts",
                       "num_experts_per_tok": "num_experts_per_tok"},
                      {"tie_word_embeddings": False, "hidden_act": "silu"}, {"head_dim": _HEAD_DIM}),
}
_VARS_LINE = re.compile(r"^vars: *\{[^{}]*\}[ \t]*(#.*)?$", re.MULTILINE)  # a flow mapping, maybe over lines


def import_hf(doc: JsonFile) -> Imported:
    """The spec of a config.json; a value it cannot take is an error at that value's line and column
    (a key that is missing: at the config's opening brace)."""
    config: dict[str, Any] = doc.data
    path = doc.label
    model_type = config.get("model_type")
    family = FAMILIES.get(str(model_type))
    if model_type == "vit":  # written from the config, not a zoo spec (the zoo's ViT is torchvision's)
        from paramcalc.importers.hf_vit import import_vit

        return import_vit(doc)
    if family is None:
        raise ImportError_(f"Hugging Face `model_type: {model_type}` has no zoo spec to import into",
                           doc.at(config, "model_type"),
                           f"the families paramcalc imports are {', '.join(sorted([*FAMILIES, 'vit']))}; for "
                           "another, start "
                           "from a zoo spec (`paramcalc zoo`) and write the model's layers.")
    for key, value in family.assumes.items():
        if key in config and config[key] != value:
            raise ImportError_(f"the config's `{key}: {scalar(config[key])}` changes the structure of the zoo's "
                               f"{family.spec} spec, which is built for `{key}: {scalar(value)}`",
                               doc.at(config, key),
                               f"edit a copy of the spec (`paramcalc zoo {family.spec}`) for this model.")
    values: dict[str, Any] = {}
    for key, var in family.vars.items():
        if key not in config:
            raise ImportError_(f"the config has no `{key}` (the spec's `{var}`)", doc.at(config),
                               "give the full config.json that `config.save_pretrained` writes.")
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ImportError_(f"the config's `{key}` must be a positive whole number; got {scalar(value)}",
                               doc.at(config, key),
                               "give a config.json written by transformers.")
        values[var] = value
    for key, var in family.flags.items():
        if key in config:
            if not isinstance(config[key], bool):
                raise ImportError_(f"the config's `{key}` must be true or false; got {scalar(config[key])}",
                                   doc.at(config, key),
                                   "give a config.json written by transformers.")
            values[var] = config[key]
    for key, (how, compute) in family.derived.items():
        if config.get(key) is not None and config[key] != compute(values):
            raise ImportError_(f"the config's `{key}: {scalar(config[key])}` is not {how} ({compute(values)}), "
                               f"which the zoo's {family.spec} spec assumes", doc.at(config, key),
                               f"edit a copy of the spec (`paramcalc zoo {family.spec}`) for this model.")
    text = with_vars(family, {**values, **family.sets}, path, str(model_type))
    return Imported(text, lambda layer, argument: doc.at(config))  # the spec is the zoo's: no layer is in the file


_EXPECT = re.compile(r"^expect:[^\n]*\n(?:[ \t]+[^\n]*\n|[ \t]*\n)*", re.MULTILINE)


def with_vars(family: Family, values: dict[str, Any], path: str, model_type: str) -> str:
    """The zoo spec's text, its `vars:` line set to the config's values (the other vars kept) and its
    `expect:` block, whose figures are those of the zoo's default sizes, left out."""
    import yaml

    from paramcalc.spec.loader import read_source

    text, _ = read_source(f"zoo:{family.spec}")
    found = _VARS_LINE.search(text)
    assert found is not None, f"zoo spec {family.spec} has no flow-mapping vars:"
    spec_vars = yaml.safe_load(found.group(0))["vars"]
    spec_vars.update(values)
    line = f"vars: {scalar(spec_vars)}"
    header = (f"# Imported by `paramcalc import` from {path.rsplit('/', 1)[-1]} (Hugging Face model_type "
              f"`{model_type}`, {family.model}): the zoo's `{family.spec}` spec with the config's values in `vars:`.\n"
              "# (The comments below are the zoo spec's, written for its default sizes; its expect: block is left "
              "out.)\n")
    text = text[:found.start()] + line + text[found.end():]
    return header + _EXPECT.sub("", text)
