"""Hugging Face ViT `config.json` (`model_type: vit`) to a spec written from the config's values.

The zoo's vit_b_16 is torchvision's build; Hugging Face's differs in its head, so this spec follows
transformers' modeling_vit.py module by module, under its names: the patch embedding (a Conv2d of
stride patch_size), the class token and the position table, num_hidden_layers pre-norm layers
(layernorm_before; query, key and value Linears with `qkv_bias`; the attention's two matrix
products; attention_output; layernorm_after; intermediate with `hidden_act`; output), the final
layernorm, then by `architectures`:

- ViTForImageClassification: the class token's vector through the classifier, num_labels wide
  (`num_labels`, else as many as `id2label` names, else transformers' default of 2; 0: no classifier);
- ViTModel (or no `architectures`): the pooler, a Linear of pooler_output_size and `pooler_act` on
  the class token's vector, and no classifier.

The scaling of the scores by 1/sqrt(head size) and the dropouts change no count and are left out."""

from __future__ import annotations

from typing import Any

from paramcalc.importers import Imported, ImportError_
from paramcalc.importers.jsonfile import JsonFile
from paramcalc.importers.specwriter import scalar

# the config's sizes, each a positive whole number and a var of the spec under the same name
SIZES = ("image_size", "patch_size", "num_channels", "hidden_size", "num_hidden_layers", "num_attention_heads",
         "intermediate_size")
# transformers' ACT2FN names -> the spec's activation kind (none has weights: the counts do not depend on it)
ACTIVATIONS = {"gelu": "GELU", "gelu_new": "GELU", "gelu_fast": "GELU", "gelu_pytorch_tanh": "GELU",
               "quick_gelu": "GELU", "relu": "ReLU", "relu6": "ReLU6", "silu": "SiLU", "swish": "SiLU",
               "tanh": "Tanh", "sigmoid": "Sigmoid", "mish": "Mish"}
HEADS = ("ViTModel", "ViTForImageClassification")
DEFAULT_LABELS = 2  # transformers' PretrainedConfig.num_labels when a config names none


def import_vit(doc: JsonFile) -> Imported:
    config: dict[str, Any] = doc.data
    values: dict[str, Any] = {}
    for key in SIZES:
        value = config.get(key)
        if key not in config:
            raise ImportError_(f"the config has no `{key}`", doc.at(config),
                               "give the full config.json that `config.save_pretrained` writes.")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ImportError_(f"the config's `{key}` must be a positive whole number; got {scalar(value)}",
                               doc.at(config, key), "give one number (a list of two sizes is not imported: write "
                               "the spec by hand for a non-square image or patch)." if isinstance(value, list)
                               else "give a config.json written by transformers.")
        values[key] = value
    if values["hidden_size"] % values["num_attention_heads"]:
        raise ImportError_(f"the config's `num_attention_heads: {values['num_attention_heads']}` does not divide "
                           f"`hidden_size: {values['hidden_size']}` (transformers refuses it too)",
                           doc.at(config, "num_attention_heads"), "give a number of heads that divides hidden_size.")
    eps = config.get("layer_norm_eps", 1e-12)
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or eps <= 0:
        raise ImportError_(f"the config's `layer_norm_eps` must be a positive number; got {scalar(eps)}",
                           doc.at(config, "layer_norm_eps"), "give a config.json written by transformers.")
    qkv_bias = config.get("qkv_bias", True)
    if not isinstance(qkv_bias, bool):
        raise ImportError_(f"the config's `qkv_bias` must be true or false; got {scalar(qkv_bias)}",
                           doc.at(config, "qkv_bias"), "give a config.json written by transformers.")
    values.update(layer_norm_eps=float(eps), qkv_bias=qkv_bias)
    activation = kind_of_activation(doc, config, "hidden_act", "gelu")
    head = architecture(doc, config)
    if head == "ViTForImageClassification":
        values["num_labels"] = labels(doc, config)
    else:
        width = config.get("pooler_output_size") or values["hidden_size"]
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ImportError_(f"the config's `pooler_output_size` must be a positive whole number; got "
                               f"{scalar(width)}", doc.at(config, "pooler_output_size"),
                               "give a config.json written by transformers.")
        values["pooler_output_size"] = width
    pooler_act = kind_of_activation(doc, config, "pooler_act", "tanh") if head == "ViTModel" else ""
    text = vit_spec(doc.label.rsplit("/", 1)[-1], head, values, activation, pooler_act)
    return Imported(text, lambda layer, argument: doc.at(config))


def kind_of_activation(doc: JsonFile, config: dict[str, Any], key: str, default: str) -> str:
    name = config.get(key, default)
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ImportError_(f"the config's `{key}: {scalar(name)}` is not an activation paramcalc maps",
                           doc.at(config, key), f"use one of {', '.join(sorted(ACTIVATIONS))} (none has weights), or "
                           "write the spec by hand.")
    return ACTIVATIONS[name]


def architecture(doc: JsonFile, config: dict[str, Any]) -> str:
    """ViTModel or ViTForImageClassification, from `architectures` (ViTModel when it is absent)."""
    names = config.get("architectures")
    if names is None:
        return "ViTModel"
    if not isinstance(names, list) or len(names) != 1 or names[0] not in HEADS:
        raise ImportError_(f"the config's `architectures: {scalar(names)}` is not one paramcalc imports",
                           doc.at(config, "architectures"), "give [ViTModel] (a pooler) or [ViTForImageClassification] "
                           "(a classifier); other heads are written by hand.")
    return str(names[0])


def labels(doc: JsonFile, config: dict[str, Any]) -> int:
    """The classifier's width, as transformers reads it: `num_labels`, else the labels `id2label` names."""
    if "num_labels" in config:
        count = config["num_labels"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ImportError_(f"the config's `num_labels` must be a whole number; got {scalar(count)}",
                               doc.at(config, "num_labels"), "give a config.json written by transformers.")
        return count
    names = config.get("id2label")
    if names is None:
        return DEFAULT_LABELS
    if not isinstance(names, dict):
        raise ImportError_("the config's `id2label` must map label numbers to names", doc.at(config, "id2label"),
                           "give a config.json written by transformers.")
    return len(names)


def vit_spec(file: str, head: str, values: dict[str, Any], activation: str, pooler_act: str) -> str:
    per_head = "hidden_size // num_attention_heads"
    heads = f'[-1, num_attention_heads, "{per_head}"]'
    lines = [
        f"# Imported by `paramcalc import` from {file} (Hugging Face model_type `vit`, {head}): transformers'",
        "# modeling_vit.py module by module, the config's values in `vars:`. Scaling and dropouts count nothing",
        "# and are left out.",
        "name: vit",
        f"vars: {scalar(values)}",
        "input: [num_channels, image_size, image_size]",
        "",
        "blocks:",
        "  vit_layer:",
        "    layers:",
        "      - LayerNorm: {name: layernorm_before, normalized_shape: hidden_size, eps: layer_norm_eps}",
        "      - Linear: {name: query, out_features: hidden_size, bias: qkv_bias}",
        "      - Linear: {name: key, out_features: hidden_size, bias: qkv_bias, inputs: layernorm_before}",
        "      - Linear: {name: value, out_features: hidden_size, bias: qkv_bias, inputs: layernorm_before}",
        "      # the heads: (positions, heads, head size), heads first; the key transposed for q @ k^T",
        f"      - Reshape: {{name: query_heads, target_shape: {heads}, inputs: query}}",
        "      - Permute: {name: query_layer, dims: [2, 1, 3]}",
        f"      - Reshape: {{name: key_heads, target_shape: {heads}, inputs: key}}",
        "      - Permute: {name: key_layer_t, dims: [2, 3, 1]}",
        f"      - Reshape: {{name: value_heads, target_shape: {heads}, inputs: value}}",
        "      - Permute: {name: value_layer, dims: [2, 1, 3]}",
        "      - MatMul: {name: attention_scores, inputs: [query_layer, key_layer_t]}",
        "      - Softmax: {name: attention_probs}",
        "      - MatMul: {name: context_layer, inputs: [attention_probs, value_layer]}",
        "      - Permute: {name: context_heads_last, dims: [2, 1, 3]}",
        "      - Reshape: {name: context, target_shape: [-1, hidden_size]}",
        "      - Linear: {name: attention_output, out_features: hidden_size}",
        "      - Add: {name: attention_residual, inputs: [attention_output, input]}",
        "      - LayerNorm: {name: layernorm_after, normalized_shape: hidden_size, eps: layer_norm_eps}",
        "      - Linear: {name: intermediate, out_features: intermediate_size}",
        f"      - {activation}: {{name: intermediate_act}}",
        "      - Linear: {name: output, out_features: hidden_size}",
        "      - Add: {name: output_residual, inputs: [output, attention_residual]}",
        "",
        "layers:",
        "  - Conv2d: {name: patch_embeddings, out_channels: hidden_size, kernel_size: patch_size, stride: patch_size}",
        "  - Flatten: {name: flatten, start_dim: 2}",
        "  - Permute: {name: transpose, dims: [0, 2, 1]}",
        "  - ClassToken: {name: cls_token}",
        '  - PositionEmbedding: {name: position_embeddings, sequence_length: "(image_size // patch_size) ** 2 + 1"}',
        "  - Add: {name: embeddings, inputs: [cls_token, position_embeddings]}",
        "  - vit_layer: {name: encoder_layer, repeat: num_hidden_layers}",
        "  - LayerNorm: {name: layernorm, normalized_shape: hidden_size, eps: layer_norm_eps}",
        "  - SelectToken: {name: first_token, index: 0}",
    ]
    if head == "ViTModel":
        lines += ["  - Linear: {name: pooler, out_features: pooler_output_size}",
                  f"  - {pooler_act}: {{name: pooler_act}}"]
    elif values["num_labels"] > 0:
        lines.append("  - Linear: {name: classifier, out_features: num_labels}")
    return "\n".join(lines) + "\n"
