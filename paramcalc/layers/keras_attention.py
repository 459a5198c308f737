"""Keras attention layers besides MultiHeadAttention: GroupedQueryAttention (its `keras.layers`
export is GroupQueryAttention), and Luong's dot-product `Attention` and Bahdanau's
`AdditiveAttention`, which have no projections.

Their MACs are the projections (GroupedQueryAttention only) plus the two products of attention,
the scores QK^T and the weighted sum of the values AV, each shown apart by `explain`."""

from __future__ import annotations

from typing import Any

from paramcalc.layers import sym
from paramcalc.layers.args import Arg, anything, boolean, choice, number, optional, positive
from paramcalc.layers.base import (
    Context,
    Derivation,
    LayerKind,
    LayerResult,
    Shape,
    format_shape,
    trainable_split,
)
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.ops import ATTENTION_SCORE_MACS, ATTENTION_VALUE_MACS, BIAS_ADDS, KV_CACHE_VALUES, SOFTMAX
from paramcalc.layers.registry import register
from paramcalc.layers.traits import Cost

# The parts of an attention layer's MACs, each explained on its own line.
PROJECTION_MACS, QK_MACS, AV_MACS = "projection MACs", "QK product MACs", "AV product MACs"
NO_PRODUCTS = "(no products: the scores are a plain sum of tanh(q + k))"


def roles(shapes: list[Shape], names: list[str]) -> str:
    """'query `a` (5, 8), value `b` (6, 8)': the inputs as an error message names them."""
    return ", ".join(f"{role} `{name}` {format_shape(s)}"
                     for role, name, s in zip(("query", "value", "key"), names, shapes))


def explained_macs(parts: list[tuple[str, Q]]) -> tuple[tuple[Derivation, ...], Q]:
    """Each part of the MACs on its own line (a part without products says so), and their total,
    built from those very parts."""
    steps = tuple(Derivation(label, q, "" if q.value != 0 else NO_PRODUCTS) for label, q in parts)
    return steps, Q.total(q for _, q in parts if q.value != 0)


def cross_example(kind: str, arguments: str) -> str:
    """An example spec with a query of 5 positions reading a value of 7 (features 8)."""
    return (f"inputs: {{query: [5, 8], value: [7, 8]}}\nlayers:\n"
            f"  - {kind}: {{inputs: [query, value]{', ' + arguments[1:-1] if arguments != '{}' else ''}}}\n")


@register
class GroupedQueryAttention(LayerKind):
    name = "GroupedQueryAttention"
    cost = Cost.ATTENTION
    multi_input = True
    doc = ("Grouped-query attention (Keras `GroupQueryAttention`, class GroupedQueryAttention): num_query_heads "
           "query heads share num_key_value_heads key and value heads. One input is self-attention; two are "
           "[query, value]; three [query, value, key]; each of shape (positions, features).")
    example = "{head_dim: 4, num_query_heads: 4, num_key_value_heads: 2}"
    args = (Arg("head_dim", positive), Arg("num_query_heads", positive), Arg("num_key_value_heads", positive),
            Arg("dropout", number, 0.0), Arg("use_bias", boolean, True),
            Arg("sliding_window", optional(positive), None), Arg("flash_attention", anything, None),
            Arg("use_gate", boolean, False), Arg("seed", anything, None))

    @classmethod
    def example_spec(cls) -> str:
        return f"input: [6, 8]\nlayers:\n  - {cls.name}: {cls.example}\n"

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        if not 1 <= len(shapes) <= 3:
            raise ctx.fail(f"takes 1 to 3 inputs (query, value, key); got {len(shapes)}",
                           "list them in `inputs: [query, value]`.")
        if a["num_query_heads"] % a["num_key_value_heads"]:
            raise ctx.arg_error("num_key_value_heads", f"must divide num_query_heads ({a['num_query_heads']}); got "
                                f"{a['num_key_value_heads']} (Keras repeats each key and value head for a group "
                                "of query heads)", "choose a divisor of num_query_heads, e.g. 1 for multi-query "
                                "attention.")
        query = shapes[0]
        value = shapes[1] if len(shapes) > 1 else query
        key = shapes[2] if len(shapes) > 2 else value
        given = [query, value, key][:len(shapes)]
        if any(len(s) != 2 for s in (query, value, key)):
            raise ctx.fail(f"takes inputs of shape (positions, features); got {roles(given, names)} (Keras's "
                           "projections are einsums over (batch, positions, features))",
                           "reshape the input to (positions, features), e.g. with Reshape.")
        if sym.certainly_different(query[-1], value[-1]):
            raise ctx.fail(f"needs query and value with the same number of features (its output projection "
                           f"returns the query's); got {roles(given, names)}",
                           "give the value the query's last dimension, or project one of them with Dense.")
        if sym.certainly_different(value[0], key[0]):
            raise ctx.fail(f"needs value and key at the same positions; got {roles(given, names)}",
                           "give the key the value's number of positions.")
        hq, hkv = Q.of(a["num_query_heads"], "hq"), Q.of(a["num_key_value_heads"], "hkv")
        hd = Q.of(a["head_dim"], "head_dim")
        dq, dk, dv = Q.of(query[-1], "dq"), Q.of(key[-1], "dk"), Q.of(value[-1], "dv")
        Tq, Tk = Q.of(query[0], "Tq"), Q.of(value[0], "Tk")
        bias, gate = a["use_bias"], a["use_gate"]

        def projection(d_in: Q, heads: Q) -> Q:
            return (d_in + 1) * heads * hd if bias else d_in * heads * hd

        weights = [projection(dq, hq), projection(dk, hkv), projection(dv, hkv),
                   hq * hd * dq + dq if bias else hq * hd * dq]
        projected = [Tq * dq * hq * hd, Tk * dk * hkv * hd, Tk * dv * hkv * hd, Tq * hq * hd * dq]
        if gate:  # a sigmoid-gated projection of the query, multiplied into the heads' output
            weights.append(projection(dq, hq))
            projected.append(Tq * dq * hq * hd)
        scores = hq * Tq * Tk
        steps, macs = explained_macs([(PROJECTION_MACS, Q.total(projected)), (QK_MACS, scores * hd),
                                      (AV_MACS, scores * hd)])
        trainable, frozen = trainable_split(Q.total(weights), ZERO, a)
        biases = 0
        if bias:  # one addition per projected value: query (and gate), key, value, output
            biases = (Tq * hq * hd).value * (1 + int(gate)) + 2 * (Tk * hkv * hd).value + (Tq * dq).value
        ops = {BIAS_ADDS: biases, SOFTMAX: scores.value, ATTENTION_SCORE_MACS: (scores * hd).value,
               ATTENTION_VALUE_MACS: (scores * hd).value, KV_CACHE_VALUES: 2 * (hkv * hd).value}
        return LayerResult(query, trainable, frozen, macs, steps, ops=ops)


def attention_inputs(shapes: list[Shape], names: list[str], ctx: Context, feature_broadcast: bool
                     ) -> tuple[Shape, Shape, Shape]:
    """[query, value] or [query, value, key] of Keras's Attention and AdditiveAttention, checked.

    Scores are products over the last two axes (Tq x d by d x Tk); axes before them are taken one by
    one, and a value or key of size 1 there is repeated (broadcast) for every query. Keras declares the
    output (*query[:-1], value[-1]): a query of size 1 where the key has more, or inputs of different
    ranks, make it compute another shape than it declares, so they are refused. A rank-1 input would
    attend across the batch, which a per-sample count cannot show."""
    if len(shapes) not in (2, 3):
        raise ctx.fail(f"takes a list of 2 or 3 inputs, [query, value] or [query, value, key]; got {len(shapes)}",
                       "list them in `inputs: [query, value]` (Keras refuses a single tensor).")
    query, value = shapes[0], shapes[1]
    key = shapes[2] if len(shapes) > 2 else value
    if any(len(s) < 2 for s in shapes):
        raise ctx.fail(f"needs inputs of shape (positions, features) or more; got {roles(shapes, names)} (a "
                       "single feature axis would attend across the samples of the batch)",
                       "give each input a positions axis, e.g. input: [tokens, dim].")
    if len({len(s) for s in shapes}) > 1:
        raise ctx.fail(f"needs query, value and key of the same rank; got {roles(shapes, names)}",
                       "reshape them to the same number of dimensions.")
    for i in range(len(query) - 2):
        for other in shapes[1:]:
            if other[i] != 1 and sym.certainly_different(query[i], other[i]):
                raise ctx.fail(f"needs value and key equal to the query on axis {i + 1}, or 1 there (repeated for "
                               f"every query); got {roles(shapes, names)}", f"make axis {i + 1} match the query's.")
    if sym.certainly_different(value[-2], key[-2]):
        raise ctx.fail(f"needs value and key at the same positions (axis {len(query) - 1}); got "
                       f"{roles(shapes, names)}", "give the key the value's number of positions.")
    dq, dk = query[-1], key[-1]
    if sym.certainly_different(dq, dk) and not (feature_broadcast and 1 in (dq, dk)):
        how = "the same number of features, or 1 on one side" if feature_broadcast else "the same number of features"
        raise ctx.fail(f"needs query and key with {how} (the scores compare them); got {roles(shapes, names)}",
                       "project one of them with Dense to the other's size.")
    return query, value, key


def attention_products(query: Shape, value: Shape, key: Shape, scored: bool
                       ) -> tuple[Shape, tuple[Derivation, ...], Q, dict[str, Any]]:
    """Output shape, explained MAC parts, MACs and other operations of [query, value, key] attention
    without projections. `scored`: the scores are a sum of products over the features (a dot product,
    or a weighted sum); otherwise they are a plain sum, which has no multiply-accumulates."""
    leading = query[:-2]
    G = Q.of(Q.product(Q.of(n) for n in leading).value, "G")
    Tq, Tk = Q.of(query[-2], "Tq"), Q.of(value[-2], "Tk")
    scores = G * Tq * Tk if leading else Tq * Tk
    d = Q.of(query[-1], "dq") if query[-1] != 1 else Q.of(key[-1], "dk")
    qk, av = scores * d if scored else ZERO, scores * Q.of(value[-1], "dv")
    steps, macs = explained_macs([(QK_MACS, qk), (AV_MACS, av)])
    # Without projections, a cache keeps the key and value inputs themselves.
    ops = {SOFTMAX: scores.value, ATTENTION_SCORE_MACS: qk.value, ATTENTION_VALUE_MACS: av.value,
           KV_CACHE_VALUES: key[-1] + value[-1]}
    return (*query[:-1], value[-1]), steps, macs, ops


@register
class Attention(LayerKind):
    name = "Attention"
    cost = Cost.ATTENTION
    multi_input = True
    doc = ("Dot-product (Luong) attention (Keras), no projections: inputs [query, value] or [query, value, key]; "
           "`use_scale` learns 1 scale, `score_mode: concat` 1 weight (scores sum tanh(q + k): no products).")
    example = "{use_scale: true}"
    args = (Arg("use_scale", boolean, False), Arg("score_mode", choice("dot", "concat"), "dot"),
            Arg("dropout", number, 0.0), Arg("seed", anything, None))

    @classmethod
    def example_spec(cls) -> str:
        return cross_example(cls.name, cls.example)

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        concat = a["score_mode"] == "concat"
        query, value, key = attention_inputs(shapes, names, ctx, feature_broadcast=concat)
        shape, steps, macs, ops = attention_products(query, value, key, scored=not concat)
        # One scalar each: the scale of the scores, and the weight of the concat scores.
        learned = [Q.of(1) for flag in (a["use_scale"], concat) if flag]
        params = Q.total(learned) if learned else ZERO
        trainable, frozen = trainable_split(params, ZERO, a)
        return LayerResult(shape, trainable, frozen, macs, steps, ops=ops)


@register
class AdditiveAttention(LayerKind):
    name = "AdditiveAttention"
    cost = Cost.ATTENTION
    multi_input = True
    doc = ("Additive (Bahdanau) attention (Keras), no projections: inputs [query, value] or [query, value, key]; "
           "scores sum scale x tanh(q + k) over the features, with a learned scale per query feature.")
    args = (Arg("use_scale", boolean, True), Arg("dropout", number, 0.0))

    @classmethod
    def example_spec(cls) -> str:
        return cross_example(cls.name, cls.example)

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        query, value, key = attention_inputs(shapes, names, ctx, feature_broadcast=True)
        # With a scale the scores are a weighted sum over the features (a product with the scale vector).
        shape, steps, macs, ops = attention_products(query, value, key, scored=a["use_scale"])
        params = Q.of(query[-1], "dq") if a["use_scale"] else ZERO
        trainable, frozen = trainable_split(params, ZERO, a)
        return LayerResult(shape, trainable, frozen, macs, steps, ops=ops)
