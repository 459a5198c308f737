"""Swin Transformer's own layers, as torchvision builds them (torchvision/models/swin_transformer.py):
ShiftedWindowAttention (and V2's), PatchMerging (and V2's).

They read torchvision's channels-last map (H, W, C), the batch left out, whatever the spec's data format
(the Swin model permutes its patch embedding to NHWC before its first LayerNorm). Counts are checked
against torchvision's modules by tests/fixtures/make_swin_fixtures.py (tests/fixtures/swin.json).

MACs are what PyTorch runs: the map is padded (right and bottom) to a multiple of the window before it is
cut into windows, so the projections and both attention products run on the padded positions
(Hp x Wp), and a window larger than the map is a map padded to one window. The cyclic shift, the
attention mask, the bias added to the scores and the softmax multiply nothing.

For the counters that hook modules (torchinfo, thop, ptflops), the attention's projections are F.linear on
its own weights, seen by none of them; its ops say which products run as Tensor.matmul (ptflops patches that,
not `@`) and what V2's position bias MLP, a called child module, adds (tests/fixtures/swin_tools.json)."""

from __future__ import annotations

from typing import Any

from paramcalc.layers import sym
from paramcalc.layers.args import Arg, boolean, ints, number, positive
from paramcalc.layers.base import Context, Derivation, LayerKind, LayerResult, Shape, format_shape, trainable_split
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.ops import (
    ACTIVATION,
    ATTENTION_BIAS_ADDS,
    ATTENTION_MACS,
    ATTENTION_OUTPUTS,
    ATTENTION_PARAMS,
    ATTENTION_SCORE_MACS,
    ATTENTION_VALUE_MACS,
    BIAS_ADDS,
    LAYER_NORM,
    LAYER_NORM_AFFINE,
    MLP_PARAMS,
    SOFTMAX,
    TENSOR_MATMUL_MACS,
    TORCH_FUNCTIONAL,
    TORCH_LAYER_NORM,
    TORCH_LAYER_NORM_AFFINE,
)
from paramcalc.layers.registry import register
from paramcalc.layers.traits import Cost

CPB_HIDDEN = 512  # V2's continuous position bias MLP: Linear(2, 512) -> ReLU -> Linear(512, heads, bias=False)


def channels_last_map(shape: Shape, dim: int, ctx: Context) -> tuple[Any, Any]:
    """(H, W) of a (H, W, C) map whose C is `dim`, as torchvision's Swin layers take it."""
    if len(shape) != 3:
        raise ctx.fail(f"expects a channels-last map (H, W, C), as torchvision's Swin permutes it, but gets "
                       f"{format_shape(shape)}", "put `Permute: {dims: [0, 2, 3, 1]}` after the patch convolution.")
    if sym.is_symbolic(shape[2]) or shape[2] != dim:
        raise ctx.arg_error("dim", f"is {dim} but the map has {shape[2]} channels (its last axis)",
                            f"set dim: {shape[2]}, or give the map {dim} channels.")
    return shape[0], shape[1]


class _WindowAttention(LayerKind):
    """torchvision's ShiftedWindowAttention(V2): qkv Linear(C, 3C), proj Linear(C, C), heads over windows."""

    cost = Cost.ATTENTION
    framework = "torch"
    example, example_rank = "{dim: 4, window_size: 3, shift_size: 1, num_heads: 2}", 2
    args = (Arg("dim", positive), Arg("window_size", ints(2)), Arg("shift_size", ints(2, 0)),
            Arg("num_heads", positive), Arg("qkv_bias", boolean, True), Arg("proj_bias", boolean, True),
            Arg("attention_dropout", number, 0.0), Arg("dropout", number, 0.0))
    v2 = False

    @classmethod
    def example_input(cls, channels_last: bool) -> Shape:
        return (9, 9, 4)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        h, w = channels_last_map(shape, a["dim"], ctx)
        heads, (wh, ww) = a["num_heads"], a["window_size"]
        if a["dim"] % heads:
            raise ctx.arg_error("num_heads", f"must divide dim ({a['dim']}); got {heads}",
                                f"pick a number of heads that divides {a['dim']}.")
        c, qh, qw = Q.of(a["dim"], "C"), Q.of(wh, "Wh"), Q.of(ww, "Ww")
        hp, wp = Q.of(h, "H").ceildiv(qh) * qh, Q.of(w, "W").ceildiv(qw) * qw
        padded = Q.of(hp, "Hp") * Q.of(wp, "Wp")  # positions the attention runs on
        window = qh * qw  # positions each one attends over
        qkv = (c + 1) * (3 * c) if a["qkv_bias"] else c * (3 * c)
        proj = (c + 1) * c if a["proj_bias"] else c * c
        if cls.v2:  # V2: a learned logit scale per head and the continuous position bias MLP
            bias = [Derivation("logit scale params", Q.of(heads, "h")),
                    Derivation("position bias MLP params", Q.of(3 * CPB_HIDDEN) + Q.of(CPB_HIDDEN) * Q.of(heads, "h"),
                               "(Linear(2, 512), Linear(512, heads) without bias)")]
        else:  # V1: the relative position bias table, one row per relative offset
            bias = [Derivation("position bias table params", (2 * qh - 1) * (2 * qw - 1) * Q.of(heads, "h"),
                               "(one row per relative offset in a window, one column per head)")]
        params = Q.total([qkv, proj, *(d.q for d in bias)])
        projections = padded * c * (3 * c) + padded * c * c
        scores = values = padded * window * c
        macs = [projections, scores, values]
        steps = [*bias, Derivation("padded height", hp), Derivation("padded width", wp),
                 Derivation("projection MACs", projections, "(query, key, value, output)"),
                 Derivation("score MACs", scores, "(QK^T in every window)"),
                 Derivation("value MACs", values, "(attention weights x V)")]
        attention_macs = Q.total(macs).value
        # The counters that hook modules see only the called child modules (V2's position bias MLP): the
        # projections run as F.linear on the module's own weights. V1 runs both products as Tensor.matmul,
        # V2 its scores as `@` (which ptflops does not patch) and only the values as Tensor.matmul.
        hidden, mlp_params = 0, 0
        if cls.v2:  # the bias MLP runs on the table of relative offsets
            table = (2 * qh - 1) * (2 * qw - 1)
            mlp = table * Q.of(2 * CPB_HIDDEN) + table * Q.of(CPB_HIDDEN) * Q.of(heads, "h")
            macs.append(mlp)
            steps.append(Derivation("position bias MLP MACs", mlp))
            hidden, mlp_params = table.value * CPB_HIDDEN, 3 * CPB_HIDDEN + CPB_HIDDEN * heads
        n = padded.value
        biases = n * a["dim"] * (3 * a["qkv_bias"] + a["proj_bias"])
        ops = {ATTENTION_PARAMS: params.value - mlp_params, ATTENTION_MACS: attention_macs,
               ATTENTION_SCORE_MACS: scores.value, ATTENTION_VALUE_MACS: values.value,
               TENSOR_MATMUL_MACS: values.value + (0 if cls.v2 else scores.value),
               SOFTMAX: heads * n * window.value, ATTENTION_OUTPUTS: n * a["dim"], BIAS_ADDS: biases + hidden,
               ATTENTION_BIAS_ADDS: biases}
        if cls.v2:  # the MLP's hidden Linear bias (in BIAS_ADDS above) and its nn.ReLU, which calls F.relu
            ops.update({MLP_PARAMS: mlp_params, ACTIVATION: hidden, TORCH_FUNCTIONAL: hidden})
        trainable, frozen = trainable_split(params, ZERO, a)
        return LayerResult(shape, trainable, frozen, Q.total(macs), steps=tuple(steps), ops=ops)


@register
class ShiftedWindowAttention(_WindowAttention):
    name = "ShiftedWindowAttention"
    doc = ("Swin's (shifted) window multi-head self-attention (torchvision) on a channels-last map (H, W, C): "
           "qkv Linear(C, 3C), proj Linear(C, C) and a relative position bias table of (2Wh-1)(2Ww-1) x heads; "
           "the map is padded to a multiple of window_size and the products run on the padded map. shift_size "
           "rolls the map (no count changes).")


@register
class ShiftedWindowAttentionV2(_WindowAttention):
    name = "ShiftedWindowAttentionV2"
    doc = ("Swin V2's window attention (torchvision): ShiftedWindowAttention's projections and products with "
           "cosine attention (a logit scale per head) and, for the bias table, a continuous position bias MLP "
           "Linear(2, 512) -> ReLU -> Linear(512, heads, no bias) run on the (2Wh-1)(2Ww-1) relative offsets.")
    v2 = True


class _PatchMerging(LayerKind):
    """torchvision's PatchMerging(V2): each 2 x 2 neighbourhood concatenated (4C), a Linear 4C -> 2C without
    bias, and a LayerNorm (before the Linear, of 4C; V2: after it, of 2C)."""

    cost = Cost.DENSE
    framework = "torch"
    example, example_rank = "{dim: 4}", 2
    args = (Arg("dim", positive),)
    v2 = False

    @classmethod
    def example_input(cls, channels_last: bool) -> Shape:
        return (9, 9, 4)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        h, w = channels_last_map(shape, a["dim"], ctx)
        c = Q.of(a["dim"], "C")
        oh, ow = Q.of(h, "H").ceildiv(2), Q.of(w, "W").ceildiv(2)  # an odd side is padded by one
        norm = Q.of(2) * (2 * c) if cls.v2 else Q.of(2) * (4 * c)
        params = (4 * c) * (2 * c) + norm
        macs = oh * ow * (4 * c) * (2 * c)
        normed = oh.value * ow.value * (2 if cls.v2 else 4) * a["dim"]
        ops = {LAYER_NORM: normed, LAYER_NORM_AFFINE: normed, TORCH_LAYER_NORM: normed,
               TORCH_LAYER_NORM_AFFINE: normed}  # an nn.LayerNorm module (with its weight)
        trainable, frozen = trainable_split(params, ZERO, a)
        out = (oh.value, ow.value, 2 * a["dim"])
        return LayerResult(out, trainable, frozen, macs, steps=(Derivation("merged height", oh),
                                                                Derivation("merged width", ow)), ops=ops)


@register
class PatchMerging(_PatchMerging):
    name = "PatchMerging"
    doc = ("Swin's patch merging (torchvision) on a channels-last map (H, W, C): every 2 x 2 neighbourhood "
           "concatenated to 4C (an odd side padded by one), LayerNorm(4C), Linear 4C -> 2C without bias: "
           "(ceil(H/2), ceil(W/2), 2C).")


@register
class PatchMergingV2(_PatchMerging):
    name = "PatchMergingV2"
    doc = ("Swin V2's patch merging (torchvision): PatchMerging's 2 x 2 concatenation and Linear 4C -> 2C "
           "without bias, then LayerNorm(2C).")
    v2 = True
