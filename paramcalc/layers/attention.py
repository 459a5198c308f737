"""Embeddings (Keras and PyTorch) and multi-head attention (Keras semantics), for transformer specs."""

from __future__ import annotations

from typing import Any

from paramcalc.layers import sym
from paramcalc.layers.args import Arg, BadValue, anything, boolean, choice, is_int, number, optional, positive, text
from paramcalc.layers.base import Context, Derivation, LayerKind, LayerResult, Shape, format_shape, trainable_split
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.ops import ATTENTION_SCORE_MACS, ATTENTION_VALUE_MACS, BIAS_ADDS, KV_CACHE_VALUES, SOFTMAX
from paramcalc.layers.registry import register
from paramcalc.layers.shapes import VOCABULARY, SharedName
from paramcalc.layers.traits import Cost

TORCH_EMBEDDING = ("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq",
                   "_freeze", "device")
SHARED_EMBEDDING = ("sparse", "dtype", "tie")


def whole(value: Any) -> int:
    """An integer of either sign (PyTorch's padding_idx counts negative rows from the end)."""
    if not is_int(value):
        raise BadValue("an integer (a row of the table; negative counts from the end)", "0")
    return value


def padding_row(a: dict[str, Any], ctx: Context) -> None:
    """PyTorch asserts -num_embeddings <= padding_idx < num_embeddings when the layer is made."""
    n, row = a["num_embeddings"], a["padding_idx"]
    if row is not None and not -n <= row < n:
        raise ctx.arg_error("padding_idx", f"is {row}, outside the table's {n} rows (PyTorch asserts "
                            f"-{n} <= padding_idx < {n})", f"pick a row from -{n} to {n - 1}, or leave it out.")


@register
class Embedding(SharedName):
    name = "Embedding"
    cost = Cost.EMBEDDING
    doc = ("Token embedding: a table of vectors looked up by the input's token ids (any shape, each id becomes "
           "a vector). Keras's (`input_dim`, `output_dim`) or PyTorch's (`num_embeddings`, `embedding_dim`, "
           "`padding_idx`): the arguments decide, and the type column says `Embedding (PyTorch)`.")
    example, example_rank = "{input_dim: 100, output_dim: 16}", 0
    args = (Arg("input_dim", optional(positive), None), Arg("output_dim", optional(positive), None),
            Arg("mask_zero", boolean, False), Arg("input_length", anything, None),
            Arg("embeddings_initializer", anything, None), Arg("embeddings_regularizer", anything, None),
            Arg("embeddings_constraint", anything, None), Arg("sparse", boolean, False),
            Arg("lora_rank", anything, None),
            Arg("num_embeddings", optional(positive), None), Arg("embedding_dim", optional(positive), None),
            Arg("padding_idx", optional(whole), None), Arg("max_norm", optional(number), None),
            Arg("norm_type", number, 2.0), Arg("scale_grad_by_freq", boolean, False),
            Arg("_freeze", boolean, False, "true: the table is not trained (requires_grad False)"),
            Arg("device", anything, None),
            Arg("tie", optional(text), None, "the name of an Embedding above whose table this one reuses (T5's "
                "decoder): no params of its own"))
    required = {"Keras": ("input_dim", "output_dim"), "PyTorch": ("num_embeddings", "embedding_dim")}

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if a[VOCABULARY] == "PyTorch":
            padding_row(a, ctx)
            rows, width = a["num_embeddings"], a["embedding_dim"]
        else:
            rows, width = a["input_dim"], a["output_dim"]
        table = Q.of(rows, "vocabulary") * Q.of(width, "dim")
        if a["tie"]:  # a tied table is counted once, at the Embedding that owns it
            ctx.note("shared weights", table, f"(tied to `{a['tie']}`, counted there once)")
        params = ZERO if a["tie"] else table
        trainable, frozen = (ZERO, params) if a["_freeze"] else trainable_split(params, ZERO, a)
        return LayerResult((*shape, width), trainable, frozen)


Embedding.vocabularies = {
    "Keras": tuple(arg.name for arg in Embedding.all_args() if arg.name not in TORCH_EMBEDDING + SHARED_EMBEDDING),
    "PyTorch": TORCH_EMBEDDING,
}


@register
class EmbeddingBag(LayerKind):
    name = "EmbeddingBag"
    cost = Cost.EMBEDDING
    framework = "torch"
    doc = ("A bag of token ids per sample, `input: [N]`, looked up and reduced to one vector (sum, mean or max; "
           "PyTorch's nn.EmbeddingBag on a 2-D input). The reduction adds, it does not multiply-accumulate.")
    example, example_rank = "{num_embeddings: 100, embedding_dim: 16}", 0
    args = (Arg("num_embeddings", positive), Arg("embedding_dim", positive), Arg("max_norm", optional(number), None),
            Arg("norm_type", number, 2.0), Arg("scale_grad_by_freq", boolean, False),
            Arg("mode", choice("sum", "mean", "max"), "mean"), Arg("sparse", boolean, False),
            Arg("include_last_offset", boolean, False), Arg("padding_idx", optional(whole), None),
            Arg("device", anything, None), Arg("dtype", anything, None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if len(shape) != 1:
            raise ctx.fail(f"expects one bag of token ids per sample, [N], but gets {format_shape(shape)} (PyTorch "
                           "takes a 2-D input: a batch of bags)", "give it `input: [N]`, N ids per bag.")
        padding_row(a, ctx)
        params = Q.of(a["num_embeddings"], "vocabulary") * Q.of(a["embedding_dim"], "dim")
        return LayerResult((a["embedding_dim"],), params)


def output_shape_arg(value: Any) -> tuple[int, ...]:
    """Keras `output_shape`: an int or a list of them (the output's trailing dimensions)."""
    if is_int(value) and value >= 1:
        return (value,)
    if isinstance(value, list) and value and all(is_int(v) and v >= 1 for v in value):
        return tuple(value)
    raise BadValue("a positive integer or a list of them (the output's last dimensions)", "[64]")


def attention_axes_arg(value: Any) -> tuple[int, ...]:
    """Keras `attention_axes`: an int or a non-empty list of ints (batch = 0, negatives from the end)."""
    if is_int(value):
        return (value,)
    if isinstance(value, list) and value and all(is_int(v) for v in value):
        return tuple(value)
    raise BadValue("an axis number or a non-empty list of them (batch = 0, -2 the last position axis)", "[1]")


def resolve_attention_axes(axes: tuple[int, ...], rank: int, ctx: Context) -> list[int]:
    """Keras attention axes -> indexes into the batch-less input shape (rank = its length).

    Keras numbers them on the input with its batch axis (0) and resolves a negative axis against
    that rank, rank + 1 + axis, so -1 is the feature axis and -2 the last position axis
    (MultiHeadAttention._build_attention). Only position axes 1 .. rank - 1 are attention axes: on
    the feature axis Keras's einsum attends over the heads instead (and its fused path for 2-D inputs
    ignores the setting), on the batch axis across samples, which a per-sample count cannot show."""
    found: list[int] = []
    for axis in axes:
        index = axis + rank + 1 if axis < 0 else axis
        if not 1 <= index <= rank - 1:
            where = {0: "the batch axis", rank: "the feature axis"}.get(index, "outside the input's axes")
            span = "axis 1 (or -2)" if rank == 2 else f"axes 1..{rank - 1} (or -2..-{rank})"
            raise ctx.arg_error("attention_axes", f"has {axis}, which is {where}: attention runs over position "
                                f"{span}",
                                "list position axes only, or leave attention_axes out to attend over all of them.")
        if index in found:
            raise ctx.arg_error("attention_axes", f"names axis {index} twice (Keras's einsum then fails)",
                                "list each axis once.")
        found.append(index)
    return [i - 1 for i in found]


@register
class MultiHeadAttention(LayerKind):
    name = "MultiHeadAttention"
    cost = Cost.ATTENTION
    multi_input = True
    doc = ("Multi-head attention (Keras). One input is self-attention; two are [query, value]; three "
           "[query, value, key]. `attention_axes` picks the position axes attended over; the others are "
           "handled independently, like the batch.")
    example, example_rank = "{num_heads: 2, key_dim: 4}", 1
    args = (Arg("num_heads", positive), Arg("key_dim", positive), Arg("value_dim", optional(positive), None),
            Arg("dropout", number, 0.0), Arg("use_bias", boolean, True),
            Arg("output_shape", optional(output_shape_arg), None),
            Arg("attention_axes", optional(attention_axes_arg), None), Arg("flash_attention", anything, None),
            Arg("seed", anything, None))

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
        check_inputs(query, value, key, names, ctx)
        rank = len(query)
        attended = (list(range(rank - 1)) if a["attention_axes"] is None
                    else resolve_attention_axes(a["attention_axes"], rank, ctx))
        others = [i for i in range(rank - 1) if i not in attended]
        for i in others:  # axes handled like the batch: the key's must match (or be 1 and broadcast)
            if value[i] != 1 and sym.certainly_different(query[i], value[i]):
                raise ctx.fail(f"the query {format_shape(query)} and the key/value {format_shape(value)} differ on "
                               f"axis {i + 1}, which is not an attention axis", "make them equal there, or add "
                               f"axis {i + 1} to attention_axes.")
        h, k = Q.of(a["num_heads"], "h"), Q.of(a["key_dim"], "key_dim")
        v = Q.of(a["value_dim"] or a["key_dim"], "value_dim")
        out_dims = a["output_shape"] or (query[-1],)
        T_all = Q.product(Q.of(n) for n in query[:-1])
        S_all = Q.product(Q.of(n) for n in value[:-1])
        G = Q.of(Q.product(Q.of(query[i]) for i in others).value, "G")
        T = Q.of(Q.product(Q.of(query[i]) for i in attended).value, "Tq")
        S = Q.of(Q.product(Q.of(value[i]) for i in attended).value, "Tk")
        dq, dk, dv = Q.of(query[-1], "dq"), Q.of(key[-1], "dk"), Q.of(value[-1], "dv")
        if not others:  # one group of attended axes: the projections run at the Tq and Tk positions
            T_all, S_all = T, S
        # The output projection returns the query's features, or `output_shape`.
        do = dq if a["output_shape"] is None else Q.product(Q.of(n) for n in out_dims)
        bias = a["use_bias"]

        def projection(d_in: Q, width: Q) -> Q:
            return (d_in + 1) * h * width if bias else d_in * h * width

        params = Q.total([projection(dq, k), projection(dk, k), projection(dv, v),
                          h * v * do + do if bias else h * v * do])
        scores = G * T * S * h if others else T * S * h
        # Each part on its own line in `explain`: the projections, then the two products (quadratic in the length).
        parts = [("projection MACs", Q.total([T_all * dq * h * k, S_all * dk * h * k, S_all * dv * h * v,
                                              T_all * h * v * do]), "(query, key, value, output)"),
                 ("QK product MACs", scores * k, "(QK^T: every query position with every key position, per head)"),
                 ("AV product MACs", scores * v, "(attention weights x V)")]
        macs = Q.total([q for _, q, _ in parts])
        trainable, frozen = trainable_split(params, ZERO, a)
        biases = (T_all * h * k + S_all * h * k + S_all * h * v + T_all * do).value if bias else 0
        ops = {BIAS_ADDS: biases, SOFTMAX: scores.value, ATTENTION_SCORE_MACS: (scores * k).value,
               ATTENTION_VALUE_MACS: (scores * v).value, KV_CACHE_VALUES: (h * k + h * v).value}
        steps = tuple(Derivation(label, q, note) for label, q, note in parts)
        return LayerResult((*query[:-1], *out_dims), trainable, frozen, macs, steps, ops=ops)


def check_inputs(query: Shape, value: Shape, key: Shape, names: list[str], ctx: Context) -> None:
    """Keras's rules on query, value and key shapes (MultiHeadAttention.build and its einsums)."""
    if len(value) != len(query) or len(key) != len(query):
        raise ctx.fail(f"needs query, value and key of the same rank; got {_shapes(query, value, key, names)}",
                       "reshape them to the same number of dimensions.")
    if any(sym.certainly_different(x, y) for x, y in zip(value[:-1], key[:-1])):
        raise ctx.fail(f"needs value and key equal in every dimension but the last; got "
                       f"{_shapes(query, value, key, names)}", "give the key the value's positions.")


def _shapes(query: Shape, value: Shape, key: Shape, names: list[str]) -> str:
    roles = ("query", "value", "key")[:max(len(names), 1)]
    return ", ".join(f"{role} `{name}` {format_shape(s)}" for role, name, s in zip(roles, names, (query, value, key)))
