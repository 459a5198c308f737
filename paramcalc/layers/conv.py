"""Convolutions over 1, 2 or 3 spatial dims: standard, grouped, depthwise, separable, transposed.

Keras kinds (Conv2D, DepthwiseConv2D, ...) follow Keras: 'same' gives ceil(N/S). PyTorch kinds
(Conv2d, ConvTranspose2d) follow PyTorch: explicit symmetric padding, 'same' only at stride 1.
Both end in one plan (`ConvPlan`) whose shape, params and MACs are computed in one place.
"""

from __future__ import annotations

from typing import Any, ClassVar

from paramcalc.layers import sym
from paramcalc.layers.args import Arg, anything, boolean, choice, ints, keras_activation, optional, padding, positive
from paramcalc.layers.base import (
    DEPTHWISE_MACS,
    DEPTHWISE_PARAMS,
    POINTWISE_MACS,
    POINTWISE_PARAMS,
    Context,
    Derivation,
    LayerKind,
    LayerResult,
    Shape,
    Structure,
    Variant,
    output_label,
    padding_label,
    trainable_split,
)
from paramcalc.layers.formula import ZERO, Q, expression_text
from paramcalc.layers.ops import BIAS_ADDS
from paramcalc.layers.registry import define_ranked
from paramcalc.layers.shapes import (
    DATA_FORMAT,
    Floor,
    check_stated,
    dim_names,
    effective_kernel,
    floor_warning,
    keras_transpose,
    torch_transpose,
    window_length,
)
from paramcalc.layers.traits import Cost
from paramcalc.record import Record

STANDARD, DEPTHWISE, SEPARABLE, TRANSPOSE = Variant.STANDARD, Variant.DEPTHWISE, Variant.SEPARABLE, Variant.TRANSPOSE


class ConvPlan(Record):
    """A convolution reduced to what counting needs, whichever framework's spelling it came from."""

    __slots__ = ("variant", "out_channels", "kernel", "strides", "dilation", "padding", "torch_rules", "groups",
                 "use_bias", "depth_multiplier", "output_padding")

    def __init__(self, variant: Variant, out_channels: int, kernel: Shape, strides: Shape, dilation: Shape,
                 padding: Any, torch_rules: bool, groups: int = 1, use_bias: bool = True,
                 depth_multiplier: int = 1, output_padding: tuple[int, ...] | None = None) -> None:
        self.variant = variant
        self.out_channels = out_channels  # filters; C x depth_multiplier for depthwise
        self.kernel = kernel
        self.strides = strides
        self.dilation = dilation
        self.padding = padding  # 'valid' | 'same' | 'causal' | ((before, after), ...)
        self.torch_rules = torch_rules
        self.groups = groups
        self.use_bias = use_bias
        self.depth_multiplier = depth_multiplier
        self.output_padding = output_padding


def output_lengths(plan: ConvPlan, spatial: Shape, ctx: Context) -> list[Q]:
    names = dim_names(len(spatial))
    lengths: list[Q] = []
    floors: list[Floor] = []
    for i, n in enumerate(spatial):
        f, s, d = plan.kernel[i], plan.strides[i], plan.dilation[i]
        if plan.variant == TRANSPOSE:
            if plan.torch_rules:
                q = torch_transpose(n, f, s, d, plan.padding[i], (plan.output_padding or (0,) * len(spatial))[i])
            else:
                op = plan.output_padding[i] if plan.output_padding is not None else None
                q = keras_transpose(n, f, s, d, plan.padding, op)
        elif plan.padding in ("same", "causal") and not plan.torch_rules:
            q = window_length(n, f, s, d, plan.padding, names[i], floors)
            if ctx.formulas:  # the zeros 'same' adds are only shown by `explain`
                total = keras_same_padding(n, f, s, d, q.value)
                before = sym.floor_div(total.value, 2) if plan.padding == "same" else total.value
                after = total.value - before
                ctx.note(padding_label(names[i]), total,
                         f"({expression_text(before)} before, {expression_text(after)} after)")
        else:
            if plan.padding == "valid":
                pads = (0, 0)
            else:
                pads = _torch_same(f, d) if plan.padding == "same" else plan.padding[i]
            q = window_length(n, f, s, d, pads, names[i], floors)
            if sym.certainly_below(q.value, 1):
                raise ctx.fail(
                    f"the output {names[i]} would be {q.render(True)} = {q.render()} = {q.value}: the kernel "
                    f"spans {d * (f - 1) + 1} but the padded input {names[i]} is only {n + pads[0] + pads[1]}",
                    "use a smaller kernel_size, stride or dilation, add padding, or give a larger input.",
                    "kernel_size")
        if sym.certainly_below(q.value, 1):
            raise ctx.fail(f"the output {names[i]} would be {q.render()} = {q.value}",
                           "check the strides, padding and output_padding.")
        lengths.append(q)
    if floors:
        ctx.warn(floor_warning(floors))
    return lengths


def keras_same_padding(n: int, f: int, s: int, d: int, out: int) -> Q:
    """Zeros 'same' adds so that ceil(N/S) windows fit: max((N' - 1) x S + span - N, 0)."""
    return Q.maximum((Q.of(out, "N'") - 1) * Q.of(s, "S") + effective_kernel(f, d) - Q.of(n, "N"), 0)


def _torch_same(f: int, d: int) -> tuple[int, int]:
    total = d * (f - 1)
    return total // 2, total - total // 2


def conv_result(plan: ConvPlan, shape: Shape, ctx: Context, a: dict[str, Any]) -> LayerResult:
    rank = len(plan.kernel)
    spatial, channels = ctx.split_channels(shape, rank)
    lengths = output_lengths(plan, spatial, ctx)
    out_shape = ctx.join_channels(tuple(q.value for q in lengths), plan.out_channels)

    kernel = kernel_volume(plan.kernel)
    C = Q.of(channels, "C")
    M = Q.of(plan.out_channels, "M")
    # Output sizes enter the counts as plain numbers (H' x W'); their own formulas are listed above.
    out_positions = Q.product(Q.of(q.value, f"{d[0].upper()}'") for q, d in zip(lengths, dim_names(rank)))
    steps = [Derivation(output_label(n), q) for n, q in zip(dim_names(rank), lengths)]

    if plan.variant == DEPTHWISE:
        m = Q.of(plan.depth_multiplier, "m")
        params = (kernel + 1) * C * m if plan.use_bias else kernel * C * m
        macs = out_positions * C * m * kernel
    elif plan.variant == SEPARABLE:
        m = Q.of(plan.depth_multiplier, "m")
        depthwise, depthwise_macs = kernel * C * m, out_positions * C * m * kernel
        pointwise = (C * m + 1) * M if plan.use_bias else C * m * M
        pointwise_macs = out_positions * M * (C * m)
        steps += [Derivation(DEPTHWISE_PARAMS, depthwise), Derivation(POINTWISE_PARAMS, pointwise),
                  Derivation(DEPTHWISE_MACS, depthwise_macs), Derivation(POINTWISE_MACS, pointwise_macs)]
        params, macs = depthwise + pointwise, depthwise_macs + pointwise_macs
    else:
        per_group = Q.of(channels // plan.groups, "C/g") if plan.groups > 1 else C
        per_filter = kernel * per_group
        params = (per_filter + 1) * M if plan.use_bias else per_filter * M
        # A transposed conv does its multiplies at every *input* position (fvcore's rule).
        positions = Q.product(Q.of(n) for n in spatial) if plan.variant == TRANSPOSE else out_positions
        macs = positions * M * per_filter
    trainable, frozen = trainable_split(params, ZERO, a)
    structure = Structure(plan.variant, plan.kernel, channels, plan.out_channels, spatial,
                          tuple(q.value for q in lengths), plan.groups, plan.depth_multiplier, plan.use_bias)
    ops = {BIAS_ADDS: out_positions.value * plan.out_channels} if plan.use_bias else {}
    return LayerResult(out_shape, trainable, frozen, macs, tuple(steps), structure, ops)


def kernel_volume(kernel: Shape) -> Q:
    """F x F (square) or Fh x Fw: the kernel's area or volume, with the tutorials' symbols."""
    names = ["F"] * len(kernel) if len(set(kernel)) == 1 else [f"F{d[0]}" for d in dim_names(len(kernel))]
    return Q.product(Q.of(k, name) for k, name in zip(kernel, names))


# ---- Keras kinds ---------------------------------------------------------------------------------

def _keras_window_args(rank: int) -> tuple[Arg, ...]:
    modes = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
    return (
        Arg("strides", ints(rank), 1),
        Arg("padding", padding(rank, modes), "valid", "'valid', 'same', or explicit zeros as in PyTorch"),
        DATA_FORMAT,
        Arg("dilation_rate", ints(rank), 1),
    )


class KerasConvBase(LayerKind):
    rank: ClassVar[int]
    cost = Cost.CONV
    variant: ClassVar[Variant] = STANDARD
    # Keras 3 refuses strides > 1 with dilation_rate > 1 only in Conv and ConvTranspose (base_conv.py,
    # base_conv_transpose.py); DepthwiseConv and SeparableConv take both.
    strided_dilation: ClassVar[bool] = False
    # 'causal' padding: only Conv1D; the depthwise and separable kinds take 'valid' or 'same'.
    causal: ClassVar[bool] = True

    @classmethod
    def check_window(cls, a: dict[str, Any], ctx: Context) -> None:
        if not cls.strided_dilation and max(a["strides"]) > 1 and max(a["dilation_rate"]) > 1:
            raise ctx.arg_error("dilation_rate", f"cannot be above 1 when strides are above 1 in Keras "
                                f"(strides={list(a['strides'])}, dilation_rate={list(a['dilation_rate'])})",
                                "use strides 1 with dilation, or dilation_rate 1 with strides.")
        if not cls.causal and a.get("padding") == "causal":
            left = a["dilation_rate"][0] * (a["kernel_size"][0] - 1)
            raise ctx.arg_error("padding", f"cannot be 'causal': in Keras only Conv1D pads causally, {cls.name} "
                                "takes 'valid' or 'same'",
                                f"pad the start yourself: a `ZeroPadding1D: {{padding: [{left}, 0]}}` before it, "
                                "then `padding: valid`.")

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        cls.check_window(a, ctx)
        _, channels = ctx.split_channels(shape, cls.rank)
        return conv_result(cls.plan(a, channels, ctx), shape, ctx, a)

    @classmethod
    def plan(cls, a: dict[str, Any], channels: int, ctx: Context) -> ConvPlan:
        raise NotImplementedError


class KerasConv(KerasConvBase):
    example = "{filters: 8, kernel_size: 3, strides: 2, padding: same}"
    doc = "Convolution (Keras); `groups` splits channels into independent groups."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        return (Arg("filters", positive), Arg("kernel_size", ints(cls.rank)), *_keras_window_args(cls.rank),
                Arg("groups", positive, 1), Arg("activation", keras_activation, None), Arg("use_bias", boolean, True),
                Arg("lora_rank", anything, None))

    @classmethod
    def plan(cls, a: dict[str, Any], channels: int, ctx: Context) -> ConvPlan:
        groups = a["groups"]
        if channels % groups:
            raise ctx.arg_error("groups", f"must divide the {channels} input channels; got {groups}",
                                "choose a number of groups that divides the input channels.")
        if a["filters"] % groups:
            raise ctx.arg_error("groups", f"must divide filters={a['filters']}; got {groups}",
                                "choose filters that are a multiple of groups.")
        return ConvPlan(STANDARD, a["filters"], a["kernel_size"], a["strides"], a["dilation_rate"],
                        a["padding"], False, groups, a["use_bias"])


class KerasDepthwiseConv(KerasConvBase):
    strided_dilation, causal = True, False
    example = "{kernel_size: 3, depth_multiplier: 2}"
    doc = "Depthwise convolution (Keras): each input channel convolved with its own depth_multiplier filters."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        return (Arg("kernel_size", ints(cls.rank)), *_keras_window_args(cls.rank),
                Arg("depth_multiplier", positive, 1), Arg("activation", keras_activation, None),
                Arg("use_bias", boolean, True))

    @classmethod
    def plan(cls, a: dict[str, Any], channels: int, ctx: Context) -> ConvPlan:
        m = a["depth_multiplier"]
        return ConvPlan(DEPTHWISE, channels * m, a["kernel_size"], a["strides"], a["dilation_rate"],
                        a["padding"], False, channels, a["use_bias"], m)


class KerasSeparableConv(KerasConvBase):
    strided_dilation, causal = True, False
    example = "{filters: 8, kernel_size: 3, depth_multiplier: 2}"
    doc = "Depthwise-separable convolution (Keras): a depthwise conv (no bias) then a 1x1 pointwise conv."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        return (Arg("filters", positive), Arg("kernel_size", ints(cls.rank)), *_keras_window_args(cls.rank),
                Arg("depth_multiplier", positive, 1), Arg("activation", keras_activation, None),
                Arg("use_bias", boolean, True))

    @classmethod
    def plan(cls, a: dict[str, Any], channels: int, ctx: Context) -> ConvPlan:
        return ConvPlan(SEPARABLE, a["filters"], a["kernel_size"], a["strides"], a["dilation_rate"],
                        a["padding"], False, 1, a["use_bias"], a["depth_multiplier"])


class KerasConvTranspose(KerasConvBase):
    example = "{filters: 8, kernel_size: 3, strides: 2, padding: same}"
    doc = "Transposed convolution (Keras), the upsampling 'deconvolution'."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        modes = ("valid", "same")
        return (Arg("filters", positive), Arg("kernel_size", ints(cls.rank)),
                Arg("strides", ints(cls.rank), 1),
                Arg("padding", choice(*modes, any_case=True), "valid"),
                Arg("output_padding", optional(ints(cls.rank, 0)), None),
                DATA_FORMAT,
                Arg("dilation_rate", ints(cls.rank), 1),
                Arg("activation", keras_activation, None), Arg("use_bias", boolean, True))

    @classmethod
    def plan(cls, a: dict[str, Any], channels: int, ctx: Context) -> ConvPlan:
        op = a["output_padding"]
        if op is not None and any(p >= s for p, s in zip(op, a["strides"])):
            raise ctx.arg_error("output_padding", f"must be smaller than the strides {list(a['strides'])}; "
                                f"got {list(op)}", "lower output_padding below the stride.")
        return ConvPlan(TRANSPOSE, a["filters"], a["kernel_size"], a["strides"], a["dilation_rate"],
                        a["padding"], False, 1, a["use_bias"], output_padding=op)


# ---- PyTorch kinds -------------------------------------------------------------------------------

class TorchConvBase(LayerKind):
    rank: ClassVar[int]
    cost = Cost.CONV
    framework = "torch"
    transposed: ClassVar[bool] = False

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        r = cls.rank
        pad = (ints(r, 0) if cls.transposed else padding(r, ("valid", "same"), any_case=False))
        args = [Arg("out_channels", positive), Arg("in_channels", optional(positive), None),
                Arg("kernel_size", ints(r)), Arg("stride", ints(r), 1), Arg("padding", pad, 0)]
        if cls.transposed:
            args.append(Arg("output_padding", ints(r, 0), 0))
        args += [Arg("dilation", ints(r), 1), Arg("groups", positive, 1), Arg("bias", boolean, True),
                 Arg("padding_mode", choice("zeros", "reflect", "replicate", "circular"), "zeros"),
                 Arg("device", anything, None), Arg("dtype", anything, None)]
        return tuple(args)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        _, channels = ctx.split_channels(shape, cls.rank)
        check_stated(a, "in_channels", channels, ctx, shape)
        groups, out = a["groups"], a["out_channels"]
        if channels % groups or out % groups:
            raise ctx.arg_error("groups", f"must divide both in_channels ({channels}) and out_channels ({out}); "
                                f"got {groups}", "choose groups that divides both channel counts.")
        pad = a["padding"]
        if pad == "same" and max(a["stride"]) > 1:
            raise ctx.arg_error("padding", "cannot be 'same' with a stride above 1 in PyTorch",
                                "give the padding as a number, or use stride 1.")
        if isinstance(pad, tuple) and pad and isinstance(pad[0], int):
            pad = tuple((p, p) for p in pad)  # transposed convs take plain ints
        op = None
        if cls.transposed:
            op = a["output_padding"]
            if any(p >= max(s, d) for p, s, d in zip(op, a["stride"], a["dilation"])):
                raise ctx.arg_error("output_padding", f"must be smaller than the stride or the dilation; got "
                                    f"{list(op)}", "lower output_padding.")
            if a["padding_mode"] != "zeros":
                raise ctx.arg_error("padding_mode", "must be 'zeros' for a transposed convolution",
                                    "remove padding_mode.")
        if a["padding_mode"] != "zeros" and pad != "valid":
            spatial, _ = ctx.split_channels(shape, cls.rank)
            pairs = tuple(_torch_same(f, d) for f, d in zip(a["kernel_size"], a["dilation"])) if pad == "same" else pad
            check_padding_mode(a["padding_mode"], pairs, spatial, ctx)
        plan = ConvPlan(TRANSPOSE if cls.transposed else STANDARD, out, a["kernel_size"], a["stride"],
                        a["dilation"], pad, True, groups, a["bias"], output_padding=op)
        return conv_result(plan, shape, ctx, a)


# How far each PyTorch padding_mode can pad an input of size N (torch.nn.functional.pad): 'reflect'
# mirrors without repeating the edge, so each side needs P < N; 'circular' may wrap around once, P <= N;
# 'replicate' repeats the edge value, any P.
_PAD_LIMITS = {"reflect": (0, "smaller than", "mirrors the input without its edge value"),
               "circular": (1, "at most", "wraps the input around, and only once")}


def check_padding_mode(mode: str, pairs: tuple[tuple[int, int], ...], spatial: Shape, ctx: Context) -> None:
    if mode not in _PAD_LIMITS:
        return
    slack, relation, why = _PAD_LIMITS[mode]
    for name, n, (before, after) in zip(dim_names(len(spatial)), spatial, pairs):
        widest = max(before, after)
        if sym.certainly_below(n + slack, widest + 1):
            raise ctx.arg_error("padding", f"adds {widest} on one side of the input {name} of {n}: padding_mode "
                                f"'{mode}' {why}, so PyTorch needs padding {relation} the input size",
                                f"use padding below {n + slack} there, padding_mode 'replicate' or 'zeros', or a "
                                "larger input.")


class TorchConv(TorchConvBase):
    example = "{out_channels: 8, kernel_size: 3, padding: 1, groups: 2}"
    doc = "Convolution (PyTorch): explicit zero padding, 'same' only at stride 1."


class TorchConvTranspose(TorchConvBase):
    transposed = True
    example = "{out_channels: 8, kernel_size: 3, stride: 2, output_padding: 1}"
    doc = "Transposed convolution (PyTorch)."


for _r in (1, 2, 3):
    define_ranked(KerasConv, f"Conv{_r}D", _r)
    define_ranked(KerasConvTranspose, f"Conv{_r}DTranspose", _r)
    define_ranked(TorchConv, f"Conv{_r}d", _r)
    define_ranked(TorchConvTranspose, f"ConvTranspose{_r}d", _r)
for _r in (1, 2):  # Keras has no 3-D depthwise or separable convolution
    define_ranked(KerasDepthwiseConv, f"DepthwiseConv{_r}D", _r)
    define_ranked(KerasSeparableConv, f"SeparableConv{_r}D", _r)
