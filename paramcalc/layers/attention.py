"""Embedding and multi-head attention (Keras semantics), for transformer specs."""

from __future__ import annotations

from typing import Any

from paramcalc.layers.args import Arg, anything, boolean, number, optional, positive
from paramcalc.layers.base import Context, LayerKind, LayerResult, Shape, trainable_split
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.ops import BIAS_ADDS, SOFTMAX
from paramcalc.layers.registry import register


@register
class Embedding(LayerKind):
    name = "Embedding"
    doc = "Token embedding (Keras): a lookup table of input_dim vectors; the input holds token ids."
    example, example_rank = "{input_dim: 100, output_dim: 16}", 0
    args = (Arg("input_dim", positive), Arg("output_dim", positive), Arg("mask_zero", boolean, False),
            Arg("input_length", anything, None), Arg("embeddings_initializer", anything, None),
            Arg("embeddings_regularizer", anything, None), Arg("embeddings_constraint", anything, None),
            Arg("sparse", boolean, False), Arg("lora_rank", anything, None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        params = Q.of(a["input_dim"], "vocabulary") * Q.of(a["output_dim"], "dim")
        trainable, frozen = trainable_split(params, ZERO, a)
        return LayerResult((*shape, a["output_dim"]), trainable, frozen)


@register
class MultiHeadAttention(LayerKind):
    name = "MultiHeadAttention"
    multi_input = True
    doc = ("Multi-head attention (Keras). One input is self-attention; two are [query, value]; three "
           "[query, value, key].")
    example, example_rank = "{num_heads: 2, key_dim: 4}", 1
    args = (Arg("num_heads", positive), Arg("key_dim", positive), Arg("value_dim", optional(positive), None),
            Arg("dropout", number, 0.0), Arg("use_bias", boolean, True), Arg("output_shape", optional(positive), None),
            Arg("attention_axes", anything, None), Arg("flash_attention", anything, None), Arg("seed", anything, None))

    @classmethod
    def example_spec(cls) -> str:
        return "input: [6, 8]\nlayers:\n  - MultiHeadAttention: {num_heads: 2, key_dim: 4}\n"

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        if not 1 <= len(shapes) <= 3:
            raise ctx.fail(f"takes 1 to 3 inputs (query, value, key); got {len(shapes)}",
                           "list them in `inputs: [query, value]`.")
        query = shapes[0]
        value = shapes[1] if len(shapes) > 1 else query
        key = shapes[2] if len(shapes) > 2 else value
        if len(query) < 2 or len(value) < 2:
            raise ctx.fail(f"expects inputs of shape (positions, features); got {query}",
                           "give it a sequence, e.g. input: [tokens, dim].")
        h, k = Q.of(a["num_heads"], "h"), Q.of(a["key_dim"], "key_dim")
        v = Q.of(a["value_dim"] or a["key_dim"], "value_dim")
        out_dim = a["output_shape"] or query[-1]
        T = Q.product(Q.of(n) for n in query[:-1])
        S = Q.product(Q.of(n) for n in value[:-1])
        dq, dk, dv, do = Q.of(query[-1]), Q.of(key[-1]), Q.of(value[-1]), Q.of(out_dim)
        bias = a["use_bias"]

        def projection(d_in: Q, width: Q) -> Q:
            return (d_in + 1) * h * width if bias else d_in * h * width

        params = Q.total([projection(dq, k), projection(dk, k), projection(dv, v),
                          h * v * do + do if bias else h * v * do])
        macs = Q.total([T * dq * h * k, S * dk * h * k, S * dv * h * v, T * S * h * k, T * S * h * v, T * h * v * do])
        trainable, frozen = trainable_split(params, ZERO, a)
        biases = (T * h * k + S * h * k + S * h * v + T * do).value if bias else 0
        ops = {BIAS_ADDS: biases, SOFTMAX: (T * S * h).value}
        return LayerResult((*query[:-1], out_dim), trainable, frozen, macs, ops=ops)
