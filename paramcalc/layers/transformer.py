"""Transformers: PyTorch's MultiheadAttention, TransformerEncoderLayer / TransformerDecoderLayer, their
stacks TransformerEncoder / TransformerDecoder, and Transformer; keras_hub's TransformerEncoder /
TransformerDecoder, which share PyTorch's names (the arguments decide: `intermediate_dim` is keras_hub's,
`layer` / `num_layers` PyTorch's).

A sequence is [T, E], the batch omitted (PyTorch's batch_first=True layout, whatever `batch_first` says).
Counts follow the frameworks' own modules (tests/fixtures/make_torch_transformer_fixtures.py and
make_keras_hub_fixtures.py). MACs are the projections, the two attention products (QK^T and the weights
times V: Tq x Tk per unit of attention width each, the term quadratic in the length) and the
feed-forward products; LayerNorm, softmax and bias additions are reported as other operations."""

from __future__ import annotations

from typing import Any

from paramcalc.errors import ArgumentError
from paramcalc.layers import sym
from paramcalc.layers.args import (
    Arg,
    anything,
    boolean,
    keras_activation,
    layer_item,
    number,
    optional,
    positive,
)
from paramcalc.layers.base import Context, Derivation, LayerKind, LayerResult, Shape, format_shape, trainable_split
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.ops import (
    ATTENTION_BIAS_ADDS,
    ATTENTION_MACS,
    ATTENTION_OUTPUTS,
    ATTENTION_PARAMS,
    ATTENTION_SCORE_MACS,
    ATTENTION_VALUE_MACS,
    BADDBMM_MACS,
    BIAS_ADDS,
    KV_CACHE_VALUES,
    LAYER_NORM,
    LAYER_NORM_AFFINE,
    MLP_PARAMS,
    NORM_PARAMS,
    SDPA_MACS,
    SOFTMAX,
    TORCH_LAYER_NORM,
    TORCH_LAYER_NORM_AFFINE,
)
from paramcalc.layers.registry import lookup, register
from paramcalc.layers.shapes import VOCABULARY, SharedName, run_item
from paramcalc.layers.traits import Cost
from paramcalc.record import Record

TORCH = "PyTorch"
KERAS_HUB = "keras_hub"


# ---- the parts of a transformer layer ---------------------------------------------------------------

class Parts:
    """A layer's figures gathered part by part: each part's params and MACs become an explained step,
    and the totals are their sums (so `explain` shows every part and the totals made of them)."""

    def __init__(self) -> None:
        self.steps: list[Derivation] = []
        self.params: list[Q] = []
        self.macs: list[Q] = []
        self.ops: dict[str, Any] = {}

    def param(self, label: str, q: Q, note: str = "") -> None:
        self.steps.append(Derivation(f"{label} params", q, note))
        self.params.append(q)

    def mac(self, label: str, q: Q, note: str = "") -> None:
        self.steps.append(Derivation(f"{label} MACs", q, note))
        self.macs.append(q)

    def op(self, kind: str, count: Any) -> None:
        self.ops[kind] = self.ops.get(kind, 0) + count

    def result(self, shape: Shape, a: dict[str, Any] | None = None) -> LayerResult:
        params = Q.total(self.params)
        trainable, frozen = trainable_split(params, ZERO, a) if a is not None else (params, ZERO)
        return LayerResult(shape, trainable, frozen, Q.total(self.macs), steps=tuple(self.steps), ops=self.ops)


class Attention(Record):
    """What one attention block reads: query and key/value positions and features, its width (heads x
    size per head, the same for queries, keys and values here) and its output features."""

    __slots__ = ("who", "tq", "tk", "dq", "dk", "dv", "width", "heads", "d_out", "bias", "self_attention")

    def __init__(self, who: str, tq: Q, tk: Q, dq: Q, dk: Q, dv: Q, width: Q, heads: int, d_out: Q,
                 bias: bool, self_attention: bool) -> None:
        self.who = who
        self.self_attention = self_attention  # one input is the query, the key and the value
        self.tq, self.tk = tq, tk
        self.dq, self.dk, self.dv = dq, dk, dv
        self.width = width
        self.heads = heads
        self.d_out = d_out
        self.bias = bias


def attention(p: Parts, at: Attention, sdpa: bool, extra_params: Q | None = None, extra_keys: Q | None = None) -> None:
    """Query, key and value projections, the two products, the output projection. `sdpa`: PyTorch runs
    the products in scaled_dot_product_attention (its transformer layers), which fvcore does not count.
    `extra_params`/`extra_keys`: PyTorch's add_bias_kv / add_zero_attn (key/value positions appended)."""

    def projection(d_in: Q, d_out: Q, copies: int = 1) -> Q:
        rows = d_in + 1 if at.bias else d_in  # the bias is one more row of weights
        return Q.of(copies) * rows * d_out if copies > 1 else rows * d_out

    # Query, key and value read as many features: 3 projections alike; on one input (self-attention),
    # at as many positions too.
    same = len({(q.name, q.value) for q in (at.dq, at.dk, at.dv)}) == 1
    inputs = ([projection(at.dq, at.width, 3)] if same else
              [projection(at.dq, at.width), projection(at.dk, at.width), projection(at.dv, at.width)])
    params = [*inputs, projection(at.width, at.d_out)]
    p.param(at.who, Q.total([*params, extra_params] if extra_params is not None else params))
    p.op(ATTENTION_PARAMS, p.params[-1].value)
    macs = ([Q.of(3) * at.tq * at.dq * at.width] if same and at.self_attention else
            [at.tq * at.dq * at.width, at.tk * at.dk * at.width, at.tk * at.dv * at.width])
    p.mac(f"{at.who} projection", Q.total([*macs, at.tq * at.width * at.d_out]), "(query, key, value, output)")
    keys = at.tk + extra_keys if extra_keys is not None else at.tk
    scores, values = at.tq * keys * at.width, at.tq * keys * at.width
    p.mac(f"{at.who} score", scores, "(QK^T: every query position with every key position)")
    p.mac(f"{at.who} value", values, "(attention weights x V)")
    p.op(ATTENTION_MACS, Q.total([*macs, at.tq * at.width * at.d_out, scores, values]).value)
    p.op(ATTENTION_OUTPUTS, at.tq.value * at.d_out.value)
    if at.bias:
        biases = (at.tq.value + 2 * at.tk.value) * at.width.value + at.tq.value * at.d_out.value
        p.op(BIAS_ADDS, biases)
        p.op(ATTENTION_BIAS_ADDS, biases)
    p.op(SOFTMAX, at.heads * at.tq.value * keys.value)
    p.op(ATTENTION_SCORE_MACS, scores.value)
    p.op(ATTENTION_VALUE_MACS, values.value)
    p.op(KV_CACHE_VALUES, 2 * at.width.value)  # a key and a value of the attention's width per position
    if sdpa:
        p.op(SDPA_MACS, scores.value + values.value)


def feed_forward(p: Parts, t: Q, d: Q, ff: Q, bias: bool) -> None:
    p.param("feed-forward", (d + 1) * ff + (ff + 1) * d if bias else d * ff + ff * d)
    p.op(MLP_PARAMS, p.params[-1].value)
    p.mac("feed-forward", t * d * ff + t * ff * d)
    if bias:
        p.op(BIAS_ADDS, t.value * (ff.value + d.value))


def norms(p: Parts, count: int, t: Q, d: Q, bias: bool) -> None:
    """`count` LayerNorms over the model width: a scale (and a shift) per feature each."""
    per = Q.of(2) * d if bias else d
    p.param("norm", Q.of(count) * per, f"({count} LayerNorms)")
    p.op(NORM_PARAMS, p.params[-1].value)
    p.op(LAYER_NORM, count * t.value * d.value)
    p.op(LAYER_NORM_AFFINE, count * t.value * d.value)
    p.op(TORCH_LAYER_NORM, count * t.value * d.value)  # nn.LayerNorm modules, which ptflops and thop hook
    p.op(TORCH_LAYER_NORM_AFFINE, count * t.value * d.value)


# ---- checks ------------------------------------------------------------------------------------------

def sequence(shape: Shape, role: str, ctx: Context, more_axes: bool = False, why: str = "") -> None:
    """A sequence [T, E]; `more_axes`: or several position axes, attended over together (Keras)."""
    if len(shape) < 2 or (len(shape) > 2 and not more_axes):
        want = "[T, E] (positions, features)" + (" or with more position axes" if more_axes else "")
        raise ctx.fail(f"expects {role} as {want}; got {format_shape(shape)}{why}",
                       "give it a sequence, e.g. input: [tokens, features] (the batch is left out).")


def features(shape: Shape, want: int, role: str, arg: str, ctx: Context) -> None:
    # A stated width must equal the features: with free features it could hold for one size only.
    if sym.is_symbolic(shape[-1]):
        raise ctx.fail(f"needs the number of features as a number; {role} has {shape[-1]}",
                       f"give the input's last dimension as a number ({arg} is {want}).", arg)
    if sym.certainly_different(shape[-1], want):
        raise ctx.fail(f"{role} has {shape[-1]} features but `{arg}` is {want} (PyTorch refuses it)",
                       f"set {arg}: {shape[-1]}, or give it {want} features.", arg)


def divides(a: dict[str, Any], width: str, heads: str, ctx: Context) -> None:
    if a[width] % a[heads]:
        raise ctx.arg_error(heads, f"must divide {width} ({a[width]}); got {a[heads]} (PyTorch: \"embed_dim must be "
                            "divisible by num_heads\")", f"pick a number of heads that divides {a[width]}.")


def positions(shape: Shape) -> Q:
    return Q.product(Q.of(n) for n in shape[:-1])


def count_inputs(shapes: list[Shape], low: int, high: int, roles: str, ctx: Context) -> None:
    if not low <= len(shapes) <= high:
        want = f"{low}" if low == high else f"{low} to {high}"
        raise ctx.fail(f"takes {want} inputs ({roles}); got {len(shapes)}", f"list them in `inputs: [{roles}]`.")


# ---- PyTorch -----------------------------------------------------------------------------------------

TORCH_COMMON = (Arg("device", anything, None), Arg("dtype", anything, None))


@register
class MultiheadAttention(LayerKind):
    name = "MultiheadAttention"
    cost = Cost.ATTENTION
    framework = "torch"
    multi_input = True
    doc = ("Multi-head attention (PyTorch). One input is self-attention; `inputs: [query, key, value]` (two: "
           "[query, key], the value being the key). head size = embed_dim / num_heads; `kdim`/`vdim` are the key's "
           "and value's features; add_bias_kv and add_zero_attn append a key/value position each. A fourth input is "
           "`attn_mask`, added to the scores: (Tq, Tk) or one per head, (heads, Tq, Tk) (PyTorch's (N x heads, Tq, "
           "Tk) without the batch; T5's RelativePositionBias); it changes no count. `need_weights: false`, as the "
           "forward call passes it (torchvision's ViT), runs the products in scaled_dot_product_attention, which "
           "fvcore does not count.")
    example, example_rank = "{embed_dim: 8, num_heads: 2}", 1
    args = (Arg("embed_dim", positive), Arg("num_heads", positive), Arg("dropout", number, 0.0),
            Arg("bias", boolean, True), Arg("add_bias_kv", boolean, False), Arg("add_zero_attn", boolean, False),
            Arg("kdim", optional(positive), None), Arg("vdim", optional(positive), None),
            Arg("batch_first", boolean, False), Arg("need_weights", boolean, True), *TORCH_COMMON)

    @classmethod
    def example_spec(cls) -> str:
        return "input: [6, 8]\nlayers:\n  - MultiheadAttention: {embed_dim: 8, num_heads: 2}\n"

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        count_inputs(shapes, 1, 4, "query, key, value, attn_mask", ctx)
        query = shapes[0]
        key = shapes[1] if len(shapes) > 1 else query
        value = shapes[2] if len(shapes) > 2 else key
        if len(shapes) == 4:
            attn_mask(shapes[3], query, key, a["num_heads"], ctx)
        for shape, role in ((query, "the query"), (key, "the key"), (value, "the value")):
            sequence(shape, role, ctx)
        divides(a, "embed_dim", "num_heads", ctx)
        E = a["embed_dim"]
        kdim, vdim = a["kdim"] or E, a["vdim"] or E
        features(query, E, "the query", "embed_dim", ctx)
        features(key, kdim, "the key", "kdim" if a["kdim"] else "embed_dim", ctx)
        features(value, vdim, "the value", "vdim" if a["vdim"] else "embed_dim", ctx)
        if sym.certainly_different(key[0], value[0]):
            raise ctx.fail(f"the key has {key[0]} positions and the value {value[0]}: each key position needs its "
                           "value", "give the key and the value the same positions.")
        e = Q.of(E, "E")
        p = Parts()
        at = Attention("attention", Q.of(query[0], "Tq"), Q.of(key[0], "Tk"), e,
                       Q.of(kdim, "kdim" if kdim != E else "E"), Q.of(vdim, "vdim" if vdim != E else "E"), e,
                       a["num_heads"], e, a["bias"], len(shapes) == 1)
        extra = [Q.of(1) for flag in ("add_bias_kv", "add_zero_attn") if a[flag]]
        # need_weights=False (a forward argument: torchvision's ViT) runs the products in scaled_dot_product_attention
        attention(p, at, not a["need_weights"], Q.of(2) * e if a["add_bias_kv"] else None,
                  Q.total(extra) if extra else None)
        if len(shapes) == 4 and a["need_weights"]:  # the scores as torch.baddbmm(attn_mask, q, k^T)
            p.op(BADDBMM_MACS, query[0] * (key[0] + len(extra)) * E)
        return p.result(query)


def attn_mask(mask: Shape, query: Shape, key: Shape, heads: int, ctx: Context) -> None:
    """PyTorch's attn_mask, added to the scores: (Tq, Tk), or (N x heads, Tq, Tk), here (heads, Tq, Tk)."""
    want = [(query[0], key[0]), (heads, query[0], key[0])]
    if not any(len(mask) == len(w) and not any(sym.certainly_different(m, n) for m, n in zip(mask, w)) for w in want):
        raise ctx.fail(f"takes its fourth input, attn_mask, as (Tq, Tk) = {format_shape(want[0])} or one per head, "
                       f"(heads, Tq, Tk) = {format_shape(want[1])}; got {format_shape(mask)}",
                       "give a mask of the scores' shape (a RelativePositionBias on [query, key] has it), or "
                       "list only [query, key, value].")


LAYER_ARGS = (Arg("d_model", positive), Arg("nhead", positive), Arg("dim_feedforward", positive, 2048),
              Arg("dropout", number, 0.1), Arg("activation", anything, "relu"), Arg("layer_norm_eps", number, 1e-5),
              Arg("batch_first", boolean, False), Arg("norm_first", boolean, False), Arg("bias", boolean, True),
              *TORCH_COMMON)
LAYER_EXAMPLE = "{d_model: 8, nhead: 2, dim_feedforward: 16}"


def torch_layer(a: dict[str, Any], target: Shape, memory: Shape | None, ctx: Context) -> LayerResult:
    """PyTorch's TransformerEncoderLayer (memory None) or TransformerDecoderLayer: self-attention,
    cross-attention on the memory (decoder), the feed-forward pair of Linears, 2 or 3 LayerNorms. The
    layers call their attention with need_weights=False, so PyTorch runs the products in
    scaled_dot_product_attention."""
    sequence(target, "the target" if memory is not None else "its input", ctx)
    divides(a, "d_model", "nhead", ctx)
    d = a["d_model"]
    features(target, d, "the target" if memory is not None else "the input", "d_model", ctx)
    e, t = Q.of(d, "E"), Q.of(target[0], "Tq")
    p = Parts()
    attention(p, Attention("self-attention", t, Q.of(target[0], "Tk"), e, e, e, e, a["nhead"], e, a["bias"], True),
              True)
    if memory is not None:
        sequence(memory, "the memory", ctx)
        features(memory, d, "the memory", "d_model", ctx)
        attention(p, Attention("cross-attention", t, Q.of(memory[0], "Tk"), e, e, e, e, a["nhead"], e, a["bias"],
                               False), True)
    feed_forward(p, t, e, Q.of(a["dim_feedforward"], "ff"), a["bias"])
    norms(p, 2 if memory is None else 3, t, e, a["bias"])
    return p.result(target)


@register
class TransformerEncoderLayer(LayerKind):
    name = "TransformerEncoderLayer"
    cost = Cost.ATTENTION
    framework = "torch"
    doc = ("PyTorch's encoder layer on a sequence [T, d_model]: self-attention, a feed-forward pair of Linears "
           "(d_model -> dim_feedforward -> d_model) and 2 LayerNorms.")
    example, example_rank = LAYER_EXAMPLE, 1
    args = LAYER_ARGS

    @classmethod
    def example_spec(cls) -> str:
        return f"input: [6, 8]\nlayers:\n  - TransformerEncoderLayer: {LAYER_EXAMPLE}\n"

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        return torch_layer(a, shape, None, ctx)


@register
class TransformerDecoderLayer(LayerKind):
    name = "TransformerDecoderLayer"
    cost = Cost.ATTENTION
    framework = "torch"
    multi_input = True
    doc = ("PyTorch's decoder layer, `inputs: [tgt, memory]`: self-attention on tgt, cross-attention on the "
           "memory (the encoder's output, its own length), the feed-forward pair and 3 LayerNorms.")
    example, example_rank = LAYER_EXAMPLE, 1
    args = LAYER_ARGS

    @classmethod
    def example_spec(cls) -> str:
        return ("inputs: {tgt: [5, 8], memory: [7, 8]}\nlayers:\n"
                f"  - TransformerDecoderLayer: {{inputs: [tgt, memory], {LAYER_EXAMPLE[1:]}\n")

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        count_inputs(shapes, 2, 2, "tgt, memory", ctx)
        return torch_layer(a, shapes[0], shapes[1], ctx)


def stack(p: Parts, layer: LayerResult, count: int, norm: LayerResult | None, words: tuple[str, str, str],
          prefix: str = "") -> None:
    """`count` copies of `layer` (PyTorch deep-copies the layer it is given), then the optional norm.
    `words`: the symbols of the count and of one layer's params and MACs."""
    number, params, macs = words
    p.steps += [Derivation(prefix + d.label, d.q, d.note) for d in layer.steps]
    one_params = layer.trainable + layer.non_trainable if layer.non_trainable.value else layer.trainable
    p.steps += [Derivation(f"{prefix}layer params", one_params), Derivation(f"{prefix}layer MACs", layer.macs)]
    n = Q.of(count, number)
    p.params.append(n * Q.of(one_params.value, params))
    p.macs.append(n * Q.of(layer.macs.value, macs))
    for kind, value in layer.ops.items():
        p.op(kind, count * value)
    if norm is not None:
        norm_params = norm.trainable + norm.non_trainable if norm.non_trainable.value else norm.trainable
        p.param(f"{prefix}final norm", norm_params)
        p.op(NORM_PARAMS, norm_params.value)
        if norm.macs.value:
            p.mac(f"{prefix}final norm", norm.macs)
        for kind, value in norm.ops.items():
            p.op(kind, value)


STACK_WORDS = ("num_layers", "layer_params", "layer_MACs")


def torch_stack(a: dict[str, Any], shapes: list[Shape], ctx: Context, role: str) -> LayerResult:
    """PyTorch's TransformerEncoder / TransformerDecoder: `layer` (or PyTorch's own `encoder_layer` /
    `decoder_layer`) repeated `num_layers` times, then `norm` if given."""
    own = f"{role}_layer"
    if a["layer"] is not None and a[own] is not None:
        raise ctx.arg_error(own, "repeats `layer` (the same argument under PyTorch's name)", "keep one of them.")
    item = a["layer"] or a[own]
    if item is None:
        raise ArgumentError(f"{ctx.kind} ({TORCH}) needs `layer`, the layer it repeats", ctx.loc,
                            f"add e.g. `layer: {{Transformer{role.capitalize()}Layer: {{d_model: 512, nhead: 8}}}}`.")
    arg = "layer" if a["layer"] is not None else own
    layer = run_item(item, arg, shapes, ctx, (f"Transformer{role.capitalize()}Layer",))
    norm = run_item(a["norm"], "norm", [layer.output_shape], ctx) if a["norm"] is not None else None
    p = Parts()
    stack(p, layer, a["num_layers"], norm, STACK_WORDS)
    return p.result(norm.output_shape if norm is not None else layer.output_shape)


@register
class Transformer(LayerKind):
    name = "Transformer"
    cost = Cost.ATTENTION
    framework = "torch"
    multi_input = True
    doc = ("PyTorch's nn.Transformer, `inputs: [src, tgt]`: num_encoder_layers encoder layers on src and a "
           "LayerNorm, num_decoder_layers decoder layers on tgt reading the encoder's output, and a LayerNorm. "
           "Out: tgt's shape.")
    example = "{d_model: 8, nhead: 2, num_encoder_layers: 2, num_decoder_layers: 1, dim_feedforward: 16}"
    example_rank = 1
    args = (Arg("d_model", positive, 512), Arg("nhead", positive, 8), Arg("num_encoder_layers", positive, 6),
            Arg("num_decoder_layers", positive, 6), Arg("dim_feedforward", positive, 2048),
            Arg("dropout", number, 0.1), Arg("activation", anything, "relu"),
            Arg("custom_encoder", anything, None), Arg("custom_decoder", anything, None),
            Arg("layer_norm_eps", number, 1e-5), Arg("batch_first", boolean, False),
            Arg("norm_first", boolean, False), Arg("bias", boolean, True), *TORCH_COMMON)

    @classmethod
    def example_spec(cls) -> str:
        return ("inputs: {src: [7, 8], tgt: [5, 8]}\nlayers:\n"
                f"  - Transformer: {{inputs: [src, tgt], {cls.example[1:]}\n")

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        count_inputs(shapes, 2, 2, "src, tgt", ctx)
        for custom in ("custom_encoder", "custom_decoder"):
            if a[custom] is not None:
                raise ctx.arg_error(custom, "is not supported", "write the model as its parts: a TransformerEncoder "
                                    "on src and a TransformerDecoder with `inputs: [tgt, <the encoder>]`.")
        src, tgt = shapes
        for shape, role in ((src, "src"), (tgt, "tgt")):
            sequence(shape, role, ctx)
            if sym.is_symbolic(shape[-1]):
                raise ctx.fail(f"needs the number of features as a number; {role} has {shape[-1]}",
                               f"give the input's last dimension as a number (d_model is {a['d_model']}).", "d_model")
            if sym.certainly_different(shape[-1], a["d_model"]):
                raise ctx.fail(f"{role} has {shape[-1]} features but d_model is {a['d_model']} (PyTorch: \"the "
                               "feature number of src and tgt must be equal to d_model\")",
                               f"set d_model: {shape[-1]}, or give src and tgt {a['d_model']} features.", "d_model")
        layer_args = {k: a[k] for k in ("d_model", "nhead", "dim_feedforward", "bias")}
        layer = TransformerEncoderLayer.parse_args(layer_args, None, False, ctx)  # the same arguments for both
        encoder_layer = torch_layer(layer, src, None, ctx)
        decoder_layer = torch_layer(layer, tgt, encoder_layer.output_shape, ctx)
        norm = lookup("LayerNorm", ctx.loc)
        norm_args = norm.parse_args({"normalized_shape": a["d_model"], "bias": a["bias"]}, None, False, ctx)
        p = Parts()
        stack(p, encoder_layer, a["num_encoder_layers"], norm.compute(norm_args, src, ctx),
              ("num_encoder_layers", "encoder_layer_params", "encoder_layer_MACs"), "encoder ")
        stack(p, decoder_layer, a["num_decoder_layers"], norm.compute(norm_args, tgt, ctx),
              ("num_decoder_layers", "decoder_layer_params", "decoder_layer_MACs"), "decoder ")
        return p.result(tgt)


# ---- shared names: keras_hub's TransformerEncoder / TransformerDecoder, or PyTorch's stacks -----------

KERAS_HUB_ARGS = (Arg("intermediate_dim", optional(positive), None), Arg("num_heads", optional(positive), None),
                  Arg("dropout", number, 0), Arg("activation", keras_activation, "relu"),
                  Arg("layer_norm_epsilon", number, 1e-5), Arg("normalize_first", boolean, False))


def torch_stack_args(role: str) -> tuple[Arg, ...]:
    return (Arg("layer", optional(layer_item), None), Arg("num_layers", optional(positive), None),
            Arg(f"{role}_layer", optional(layer_item), None), Arg("norm", optional(layer_item), None),
            Arg("enable_nested_tensor", boolean, True), Arg("mask_check", boolean, True))


def keras_hub_layer(a: dict[str, Any], target: Shape, encoder: Shape | None, ctx: Context,
                    decoder: bool) -> LayerResult:
    """keras_hub's TransformerEncoder (encoder None) or TransformerDecoder: Keras MultiHeadAttention with
    key_dim = value_dim = features // num_heads (floored: the attention may be narrower than the model),
    cross-attention on the encoder sequence when there is one, two Dense layers, 2 or 3 LayerNormalizations."""
    # keras_hub's encoder attends over every position axis; its decoder runs only on [T, E] (with more
    # axes, its causal mask and cached attention fail when called: make_keras_hub_fixtures.py).
    why = " (keras_hub's decoder fails when called on more position axes)" if decoder else ""
    sequence(target, "the decoder sequence" if decoder else "its input", ctx, more_axes=not decoder, why=why)
    d, h = target[-1], a["num_heads"]
    if sym.is_symbolic(d):
        raise ctx.fail("needs the number of features as a number; got a formula",
                       "give the input's last dimension as a number.")
    if d // h == 0:
        raise ctx.arg_error("num_heads", f"is {h}, more than the input's {d} features: keras_hub computes key_dim = "
                            f"{d} // {h} = 0 and refuses it", f"use at most {d} heads.")
    e, heads = Q.of(d, "E"), Q.of(h, "h")
    key_dim = e.floordiv(heads)
    p = Parts()
    p.steps.append(Derivation("head size", key_dim, "(keras_hub's key_dim = value_dim)"))
    width = heads * Q.of(key_dim.value, "key_dim")
    t = positions(target)
    t = Q.of(t.value, "Tq")
    attention(p, Attention("self-attention", t, Q.of(t.value, "Tk"), e, e, e, width, h, e, True, True), False)
    if encoder is not None:
        sequence(encoder, "the encoder sequence", ctx, why=why)
        enc = Q.of(encoder[-1], "E_enc")
        attention(p, Attention("cross-attention", t, Q.of(positions(encoder).value, "Tk"), e, enc, enc, width, h, e,
                               True, False), False)
    feed_forward(p, t, e, Q.of(a["intermediate_dim"], "ff"), True)
    norms(p, 2 if encoder is None else 3, t, e, True)
    return p.result(target, a)


class TransformerStack(SharedName):
    """keras_hub's layer (`intermediate_dim`, `num_heads`) or PyTorch's stack (`layer`, `num_layers`)."""

    cost = Cost.ATTENTION
    role: str
    required = {KERAS_HUB: ("intermediate_dim", "num_heads"), TORCH: ("num_layers",)}

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        return KERAS_HUB_ARGS + torch_stack_args(cls.role)


@register
class TransformerEncoder(TransformerStack):
    name, role = "TransformerEncoder", "encoder"
    doc = ("keras_hub's encoder layer (`intermediate_dim`, `num_heads`: self-attention, two Dense, 2 "
           "LayerNormalization) or PyTorch's stack (`layer: {TransformerEncoderLayer: {...}}` repeated "
           "`num_layers` times, optional `norm`): the arguments decide.")
    example, example_rank = "{intermediate_dim: 16, num_heads: 2}", 1

    @classmethod
    def example_spec(cls) -> str:
        return f"input: [6, 8]\nlayers:\n  - TransformerEncoder: {cls.example}\n"

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if a[VOCABULARY] == TORCH:
            return torch_stack(a, [shape], ctx, cls.role)
        return keras_hub_layer(a, shape, None, ctx, decoder=False)


@register
class TransformerDecoder(TransformerStack):
    name, role = "TransformerDecoder", "decoder"
    multi_input = True
    doc = ("keras_hub's decoder layer (`intermediate_dim`, `num_heads`; one input, or `inputs: [decoder_sequence, "
           "encoder_sequence]`, which adds cross-attention, as keras_hub builds it when called with an encoder "
           "sequence) or PyTorch's stack (`layer: {TransformerDecoderLayer: {...}}`, `num_layers`, `norm`; "
           "`inputs: [tgt, memory]`): the arguments decide.")
    example, example_rank = "{intermediate_dim: 16, num_heads: 2}", 1

    @classmethod
    def example_spec(cls) -> str:
        return ("inputs: {decoder: [5, 8], encoder: [7, 8]}\nlayers:\n"
                f"  - TransformerDecoder: {{inputs: [decoder, encoder], {cls.example[1:]}\n")

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        if a[VOCABULARY] == TORCH:
            count_inputs(shapes, 2, 2, "tgt, memory", ctx)
            return torch_stack(a, shapes, ctx, cls.role)
        count_inputs(shapes, 1, 2, "decoder_sequence, encoder_sequence", ctx)
        return keras_hub_layer(a, shapes[0], shapes[1] if len(shapes) > 1 else None, ctx, decoder=True)


def _vocabularies(cls: type[TransformerStack]) -> dict[str, tuple[str, ...]]:
    torch = tuple(arg.name for arg in torch_stack_args(cls.role))
    return {KERAS_HUB: tuple(arg.name for arg in cls.all_args() if arg.name not in torch), TORCH: torch}


TransformerEncoder.vocabularies = _vocabularies(TransformerEncoder)
TransformerDecoder.vocabularies = _vocabularies(TransformerDecoder)
