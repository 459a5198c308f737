"""Layers that only move or pad values: Flatten, Reshape, padding, cropping, upsampling."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from paramcalc.layers import sym
from paramcalc.layers.args import (
    Arg,
    BadValue,
    anything,
    boolean,
    integer,
    ints,
    is_int,
    optional,
    pairs,
    positive,
    shape_list,
)
from paramcalc.layers.base import (
    OUTPUT_SIZE,
    Context,
    Derivation,
    LayerKind,
    LayerResult,
    Shape,
    format_shape,
    output_label,
)
from paramcalc.layers.formula import Q
from paramcalc.layers.ops import GLOBAL_AVG_POOL_2D, UPSAMPLE, elements
from paramcalc.layers.registry import define_ranked, register
from paramcalc.layers.shapes import DATA_FORMAT, dim_names
from paramcalc.layers.traits import Cost


@register
class Flatten(LayerKind):
    name = "Flatten"
    view = True  # a view of the input in PyTorch: no copy
    cost = Cost.RESHAPE
    doc = "Flattens all axes after the batch into one (PyTorch: from start_dim to end_dim)."
    args = (DATA_FORMAT, Arg("start_dim", integer(-100), 1), Arg("end_dim", integer(-100), -1))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        rank = len(shape) + 1  # with the batch axis, as PyTorch counts start_dim and end_dim
        start = a["start_dim"] + rank if a["start_dim"] < 0 else a["start_dim"]
        end = a["end_dim"] + rank if a["end_dim"] < 0 else a["end_dim"]
        if not 1 <= start <= end < rank:
            raise ctx.arg_error("start_dim", f"and end_dim must pick axes 1..{rank - 1} in order; got "
                                f"start_dim={a['start_dim']}, end_dim={a['end_dim']}",
                                "leave them out to flatten everything after the batch.")
        merged = Q.product(Q.of(n) for n in shape[start - 1:end])
        return LayerResult((*shape[:start - 1], merged.value, *shape[end:]),
                           steps=(Derivation(OUTPUT_SIZE, merged),))


@register
class Reshape(LayerKind):
    name = "Reshape"
    view = True  # a view of the input in PyTorch: no copy
    cost = Cost.RESHAPE
    example = "{target_shape: [-1]}"
    doc = "Reshapes to target_shape (without the batch); one -1 takes whatever is left."
    args = (Arg("target_shape", shape_list),)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        target, total = a["target_shape"], math.prod(shape)
        known = math.prod(d for d in target if d != -1)
        if sym.is_symbolic(total):
            # With free dimensions only a -1 can take the rest, and only when the known dims divide it
            # whatever the sizes (4*H*W into [-1, 4]); anything else depends on the sizes.
            rest = total / known
            if -1 not in target or not rest.is_integer:
                fix = ("make the known dims of target_shape divide the fixed part of the input size"
                       if -1 in target else "put a -1 in target_shape for the axis that takes the free dimensions")
                raise ctx.fail(f"cannot reshape {format_shape(shape)} to {list(target)}: whether it fits depends "
                               "on the free dimensions", f"give the input dimensions values (--set H=224), or {fix}.")
            return LayerResult(tuple(rest if d == -1 else d for d in target))
        if -1 in target:
            if total % known:
                raise ctx.arg_error("target_shape", f"{list(target)} cannot hold the {total} values of "
                                    f"{format_shape(shape)}", "make the known dims divide the input size.")
            target = tuple(total // known if d == -1 else d for d in target)
        elif known != total:
            raise ctx.arg_error("target_shape", f"{list(target)} holds {known} values but the input "
                                f"{format_shape(shape)} has {total}", "make the product of target_shape match.")
        return LayerResult(target)


class SpatialEdit(LayerKind):
    """Adds or removes rows/columns at the edges, or repeats them, along the spatial axes."""

    rank: ClassVar[int]
    # Keras's Cropping1D and UpSampling1D have no data_format: they act on axis 1 of (steps, features)
    # whatever the spec's layout.
    steps_axis_first: ClassVar[bool] = False
    smallest: ClassVar[int] = 1  # the shortest output length the framework accepts

    @classmethod
    def new_lengths(cls, a: dict[str, Any], spatial: Shape) -> list[Q]:
        raise NotImplementedError

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        layout = Context(True, ctx.kind, ctx.loc, ctx.arg_locs) if cls.steps_axis_first else ctx
        spatial, channels = layout.split_channels(shape, cls.rank)
        lengths = cls.new_lengths(a, spatial)
        values = tuple(q.value for q in lengths)
        if any(sym.certainly_below(v, cls.smallest) for v in values):
            raise ctx.fail(f"would leave {'a negative' if cls.smallest == 0 else 'an empty'} output "
                           f"{format_shape(values)} from {format_shape(spatial)}",
                           "crop less, or give a larger input.", cls.arguments()[0].name)
        if any(v == 0 for v in values):
            ctx.warn(f"the output {format_shape(values)} is empty: every value of an axis is cropped away")
        return LayerResult(layout.join_channels(values, channels), steps=tuple(
            Derivation(output_label(dim), q) for dim, q in zip(dim_names(cls.rank), lengths)))


class ZeroPadding(SpatialEdit):
    cost = Cost.RESHAPE
    example = "{padding: 1}"
    doc = "Adds zeros around the spatial axes (Keras): int, per-axis ints, or [before, after] pairs."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        return (Arg("padding", pairs(cls.rank), 1), DATA_FORMAT)

    @classmethod
    def new_lengths(cls, a: dict[str, Any], spatial: Shape) -> list[Q]:
        return [Q.of(n, "N") + Q.of(b, "P1") + Q.of(e, "P2") for n, (b, e) in zip(spatial, a["padding"])]


class Cropping(SpatialEdit):
    cost = Cost.RESHAPE
    example = "{cropping: 1}"
    doc = "Removes rows/columns at the spatial edges (Keras): int, per-axis ints, or [before, after] pairs."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        cropping = Arg("cropping", pairs(cls.rank), 1 if cls.rank != 2 else 0)
        return (cropping,) if cls.steps_axis_first else (cropping, DATA_FORMAT)

    @classmethod
    def new_lengths(cls, a: dict[str, Any], spatial: Shape) -> list[Q]:
        return [Q.of(n, "N") - Q.of(b, "C1") - Q.of(e, "C2") for n, (b, e) in zip(spatial, a["cropping"])]


# Keras 3 UpSampling2D (the only rank with `interpolation`); it lower-cases the word.
KERAS_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


def interpolation(value: Any) -> str:
    if not isinstance(value, str) or value.lower() not in KERAS_INTERPOLATIONS:
        raise BadValue("one of " + ", ".join(repr(w) for w in KERAS_INTERPOLATIONS))
    return value.lower()


class UpSampling(SpatialEdit):
    cost = Cost.UPSAMPLE
    example = "{size: 2}"
    doc = "Repeats rows/columns `size` times along the spatial axes (Keras)."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        size = Arg("size", ints(cls.rank), 2)
        if cls.steps_axis_first:
            return (size,)
        if cls.rank == 2:
            return (size, DATA_FORMAT, Arg("interpolation", interpolation, "nearest"))
        return (size, DATA_FORMAT)

    @classmethod
    def new_lengths(cls, a: dict[str, Any], spatial: Shape) -> list[Q]:
        return [Q.of(n, "N") * Q.of(k, "size") for n, k in zip(spatial, a["size"])]


def torch_pads(rank: int) -> Any:
    """PyTorch ZeroPad*d: an int, or 2 x rank ints starting from the LAST axis (left, right, top, ...).
    A negative amount crops, as F.pad does."""

    def parse(value: Any) -> tuple[tuple[int, int], ...]:
        if is_int(value):
            return ((value, value),) * rank
        if isinstance(value, list) and len(value) == 2 * rank and all(is_int(v) for v in value):
            last_first = [(value[2 * i], value[2 * i + 1]) for i in range(rank)]
            return tuple(reversed(last_first))
        order = ", ".join(("left, right", "top, bottom", "front, back")[:rank])
        raise BadValue(f"an integer or a list of {2 * rank} ({order}); negative ones crop")

    return parse


class ZeroPad(ZeroPadding):
    framework = "torch"
    doc = ("Adds zeros around the spatial axes (PyTorch order: left, right, top, bottom, front, back); "
           "a negative amount crops.")
    smallest = 0  # F.pad crops down to an empty tensor without complaint

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        return (Arg("padding", torch_pads(cls.rank)),)

    @classmethod
    def new_lengths(cls, a: dict[str, Any], spatial: Shape) -> list[Q]:
        return [edge(edge(Q.of(n, "N"), b, "1"), e, "2") for n, (b, e) in zip(spatial, a["padding"])]


def edge(q: Q, amount: int, side: str) -> Q:
    """N + P (zeros added) or N - C (a negative padding crops), as the tutorials write them."""
    return q + Q.of(amount, f"P{side}") if amount >= 0 else q - Q.of(-amount, f"C{side}")


def scale_factors(value: Any) -> tuple[float, ...] | float:
    """PyTorch keeps scale factors as Python floats (doubles), and so does paramcalc."""
    def positive_number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0

    if positive_number(value):
        return float(value)
    if isinstance(value, list) and value and all(positive_number(v) for v in value):
        return tuple(float(v) for v in value)
    raise BadValue("a positive number or a list of them")


# nn.Upsample modes and the spatial rank each needs (None: any of 1, 2, 3). 'lanczos' is missing on
# purpose: F.interpolate needs antialias=True for it, which nn.Upsample cannot pass.
UPSAMPLE_MODES: dict[str, int | None] = {"nearest": None, "nearest-exact": None, "area": None, "linear": 1,
                                         "bilinear": 2, "bicubic": 2, "trilinear": 3}
INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")  # the modes align_corners applies to


def upsample_mode(value: Any) -> str:
    if value in UPSAMPLE_MODES:
        return value
    words = ", ".join(repr(m) for m in UPSAMPLE_MODES)
    if value == "lanczos":
        raise BadValue(f"one of {words} ('lanczos' needs antialias=True, which nn.Upsample cannot pass)")
    raise BadValue(f"one of {words}")


@register
class Upsample(LayerKind):
    name = "Upsample"
    cost = Cost.UPSAMPLE
    example = "{scale_factor: 2}"
    framework = "torch"
    doc = ("Upsampling (PyTorch) to `size`, or by `scale_factor`: floor(N x scale_factor) in double "
           "precision, as PyTorch computes it.")
    args = (Arg("size", optional(anything), None), Arg("scale_factor", optional(scale_factors), None),
            Arg("mode", upsample_mode, "nearest"), Arg("align_corners", optional(boolean), None),
            Arg("recompute_scale_factor", optional(boolean), None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        rank = len(shape) - 1
        if not 1 <= rank <= 3:
            raise ctx.fail(f"expects a (C, L), (C, H, W) or (C, D, H, W) input but gets {format_shape(shape)}",
                           "give it a feature map with 1 to 3 spatial axes.")
        check_upsample_mode(a, rank, ctx)
        spatial, channels = ctx.split_channels(shape, rank)
        if (a["size"] is None) == (a["scale_factor"] is None):
            raise ctx.arg_error("size", "or scale_factor must be given, not both and not neither",
                                "give exactly one of size and scale_factor.")
        if a["size"] is not None:
            if a["recompute_scale_factor"]:
                raise ctx.arg_error("recompute_scale_factor", "is not meaningful with an explicit size (PyTorch "
                                    "refuses it)", "remove recompute_scale_factor, or give scale_factor instead.")
            try:
                size = ints(rank)(a["size"])
            except BadValue as bad:
                raise ctx.arg_error("size", f"must be {bad.expected} for this input; got {a['size']}",
                                    f"give one size or {rank}.") from None
            out = ctx.join_channels(size, channels)
            return LayerResult(out, ops=upsample_ops(shape, out, a["mode"], rank))
        factor = a["scale_factor"]
        factors = factor if isinstance(factor, tuple) else (factor,) * rank
        if len(factors) != rank:
            raise ctx.arg_error("scale_factor", f"needs {rank} values for this input; got {len(factors)}",
                                f"give one number or {rank}.")
        lengths = tuple(sym.floor_times(n, f) for n, f in zip(spatial, factors))
        for n, f, length, dim in zip(spatial, factors, lengths, dim_names(rank)):
            if sym.certainly_below(length, 1):
                raise ctx.fail(f"the output {dim} would be floor({n} x {f!r}) = {length}: PyTorch needs at least 1",
                               "use a larger scale_factor, or give a larger input.", "scale_factor")
        out = ctx.join_channels(lengths, channels)
        return LayerResult(out, ops=upsample_ops(shape, out, a["mode"], rank))


def check_upsample_mode(a: dict[str, Any], rank: int, ctx: Context) -> None:
    """PyTorch's own checks: align_corners only for interpolating modes; linear needs (N, C, L),
    bilinear and bicubic (N, C, H, W), trilinear (N, C, D, H, W)."""
    mode = a["mode"]
    if a["align_corners"] is not None and mode not in INTERPOLATING:
        raise ctx.arg_error("align_corners", f"can only be set with the interpolating modes "
                            f"({', '.join(INTERPOLATING)}); mode is '{mode}'",
                            "remove align_corners, or choose an interpolating mode.")
    needs = UPSAMPLE_MODES[mode]
    if needs is not None and needs != rank:
        fits = [m for m, r in UPSAMPLE_MODES.items() if r in (None, rank)]
        layouts = {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}
        raise ctx.arg_error("mode", f"'{mode}' needs a {layouts[needs]} input but this one is {layouts[rank]}",
                            f"for this input use one of {', '.join(repr(m) for m in fits)}.")


def upsample_ops(shape: Shape, out: Shape, mode: Any, rank: int) -> dict[str, Any]:
    """Output values, also filed under the interpolation and rank (fvcore counts only some). 'area'
    runs as PyTorch's adaptive average pooling, which fvcore counts by input values in 2-D."""
    ops = {UPSAMPLE: elements(out), f"{UPSAMPLE}_{mode}_{rank}d": elements(out)}
    if mode == "area" and rank == 2:
        ops[GLOBAL_AVG_POOL_2D] = elements(shape)
    return ops


for _r in (1, 2, 3):
    define_ranked(ZeroPadding, f"ZeroPadding{_r}D", _r)
    if _r > 1:
        define_ranked(Cropping, f"Cropping{_r}D", _r)
        define_ranked(UpSampling, f"UpSampling{_r}D", _r)
    define_ranked(ZeroPad, f"ZeroPad{_r}d", _r)
# Keras's 1-D forms have no data_format.
define_ranked(Cropping, "Cropping1D", 1, steps_axis_first=True,
              doc="Removes steps at the ends of axis 1 of a (steps, features) input (Keras: no data_format).")
define_ranked(UpSampling, "UpSampling1D", 1, steps_axis_first=True,
              doc="Repeats each step `size` times along axis 1 of a (steps, features) input (Keras: no data_format).")


# ---- issue 15: permutations, repetitions and shuffles ------------------------------------------------

def axis_list(value: Any) -> tuple[int, ...]:
    if isinstance(value, list) and value and all(is_int(v) for v in value):
        return tuple(value)
    raise BadValue("a list of axis numbers", "[2, 3, 1]")


@register
class Permute(LayerKind):
    name = "Permute"
    view = True  # a view of the input in PyTorch: no copy
    cost = Cost.RESHAPE
    example = "{dims: [3, 1, 2]}"
    doc = ("Reorders the axes. Keras numbers `dims` from 1 after the batch ([2, 1]); torchvision's ops.Permute "
           "counts the batch as 0 ([0, 2, 3, 1]): a list with a 0 is read the torchvision way.")
    args = (Arg("dims", axis_list),)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        dims, rank = a["dims"], len(shape)
        if 0 in dims:  # torchvision: every axis, the batch (0) included
            if sorted(dims) != list(range(rank + 1)):
                raise ctx.arg_error("dims", f"is {list(dims)}: with the batch counted as 0 (torchvision's Permute) it "
                                    f"must order all {rank + 1} axes 0..{rank} of the input {format_shape(shape)}",
                                    f"list each of 0..{rank} once, e.g. {[0, *range(2, rank + 1), 1]}.")
            if dims[0] != 0:
                raise ctx.arg_error("dims", f"is {list(dims)}, which moves the batch axis: paramcalc keeps the batch "
                                    "first", "keep 0 first and reorder the other axes.")
            order = [d - 1 for d in dims[1:]]
        else:  # Keras: the axes after the batch, numbered from 1
            if sorted(dims) != list(range(1, len(dims) + 1)):
                raise ctx.arg_error("dims", f"is {list(dims)}: Keras numbers the axes after the batch 1, 2, ... and "
                                    "dims must list each once (a list with 0 counts the batch, as torchvision does)",
                                    f"list each of 1..{rank} once, e.g. {[*range(2, rank + 1), 1]}.")
            if len(dims) != rank:
                raise ctx.fail(f"has {len(dims)} dims but the input {format_shape(shape)} has {rank} axes after the "
                               "batch", f"list each of 1..{rank} once.", "dims")
            order = [d - 1 for d in dims]
        return LayerResult(tuple(shape[i] for i in order))


@register
class RepeatVector(LayerKind):
    name = "RepeatVector"
    cost = Cost.UPSAMPLE
    example = "{n: 3}"
    example_rank = 0
    doc = "Repeats a flat input n times (Keras): (features,) -> (n, features); no weights."
    args = (Arg("n", positive),)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if len(shape) != 1:
            raise ctx.fail(f"expects a flat input (features,) but gets {format_shape(shape)}",
                           "flatten it first (Flatten).")
        return LayerResult((a["n"], shape[0]))


def unflattened_size(value: Any) -> tuple[int, ...]:
    if (isinstance(value, list) and value and all(is_int(v) and (v >= 1 or v == -1) for v in value)
            and value.count(-1) <= 1):
        return tuple(value)
    raise BadValue("a list of positive integers, with at most one -1 for 'whatever is left'", "[3, 4]")


@register
class Unflatten(LayerKind):
    name = "Unflatten"
    view = True  # a view of the input in PyTorch: no copy
    cost = Cost.RESHAPE
    example = "{dim: 1, unflattened_size: [2, 2]}"
    framework = "torch"
    doc = "Splits axis `dim` (PyTorch: 0 is the batch, negatives count from the end) into unflattened_size."
    args = (Arg("dim", integer(-100)), Arg("unflattened_size", unflattened_size))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        rank = len(shape) + 1  # with the batch, as PyTorch counts dim
        dim = a["dim"] + rank if a["dim"] < 0 else a["dim"]
        if not 1 <= dim < rank:
            what = "the batch axis, which paramcalc keeps whole" if dim == 0 else f"outside the axes 1..{rank - 1}"
            raise ctx.arg_error("dim", f"is {a['dim']}, {what}", f"pick an axis 1..{rank - 1} (or -1 for the last).")
        n, sizes = shape[dim - 1], a["unflattened_size"]
        if sym.is_symbolic(n):
            raise ctx.fail(f"cannot split axis {dim} of {format_shape(shape)}: its size depends on free dimensions",
                           "give the input dimensions values (--set H=224).")
        known = math.prod(s for s in sizes if s != -1)
        if (n % known if -1 in sizes else n != known):
            raise ctx.arg_error("unflattened_size", f"{list(sizes)} does not multiply up to the {n} values of axis "
                                f"{dim}", f"make the sizes multiply to {n}.")
        sizes = tuple(n // known if s == -1 else s for s in sizes)
        return LayerResult((*shape[:dim - 1], *sizes, *shape[dim:]))


class PixelRearrange(LayerKind):
    """Moves values between the channels and a finer or coarser grid (sub-pixel convolution)."""

    cost = Cost.RESHAPE
    spatial = True  # reads the channel axis (dimension -3 in PyTorch): decides the data format
    framework = "torch"

    @classmethod
    def grid(cls, shape: Shape, ctx: Context) -> tuple[Shape, int, int, int]:
        """(leading axes, C, H, W): PyTorch's last three axes, or (H, W, C) in a channels_last spec."""
        if len(shape) < 3 or (ctx.channels_last and len(shape) != 3):
            raise ctx.fail(f"expects a (C, H, W) input but gets {format_shape(shape)}",
                           "give it a 2-D feature map with its channels.")
        if ctx.channels_last:
            return (), shape[2], shape[0], shape[1]
        return shape[:-3], shape[-3], shape[-2], shape[-1]

    @classmethod
    def result(cls, lead: Shape, c: Q, h: Q, w: Q, ctx: Context) -> LayerResult:
        spatial = (h.value, w.value)
        out = (*lead, *ctx.join_channels(spatial, c.value))
        return LayerResult(out, steps=(Derivation("channels", c), Derivation(output_label("height"), h),
                                       Derivation(output_label("width"), w)))


@register
class PixelShuffle(PixelRearrange):
    name = "PixelShuffle"
    example = "{upscale_factor: 2}"
    doc = "(C x r x r, H, W) -> (C, H x r, W x r) (PyTorch), r = upscale_factor; no weights."
    args = (Arg("upscale_factor", positive),)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        lead, c, h, w = cls.grid(shape, ctx)
        r = a["upscale_factor"]
        if sym.remainder(c, r * r):
            raise ctx.fail(f"`upscale_factor` is {r}, but the {c} channels are not divisible by r x r = {r * r}",
                           "make the channels a multiple of upscale_factor squared.", "upscale_factor")
        R = Q.of(r, "r")
        return cls.result(lead, Q.of(c, "C").floordiv(R * R), Q.of(h, "N") * R, Q.of(w, "N") * R, ctx)


@register
class PixelUnshuffle(PixelRearrange):
    name = "PixelUnshuffle"
    example = "{downscale_factor: 3}"
    doc = "(C, H x r, W x r) -> (C x r x r, H, W) (PyTorch), r = downscale_factor; no weights."
    args = (Arg("downscale_factor", positive),)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        lead, c, h, w = cls.grid(shape, ctx)
        r = a["downscale_factor"]
        for dim, n in (("height", h), ("width", w)):
            if sym.remainder(n, r):
                raise ctx.fail(f"`downscale_factor` is {r}, but the {dim} {n} is not divisible by it",
                               f"make the {dim} a multiple of downscale_factor.", "downscale_factor")
        R = Q.of(r, "r")
        return cls.result(lead, Q.of(c, "C") * R * R, Q.of(h, "N").floordiv(R), Q.of(w, "N").floordiv(R), ctx)


@register
class ChannelShuffle(LayerKind):
    name = "ChannelShuffle"
    cost = Cost.RESHAPE
    spatial = True  # reads the channel axis (dimension 1 in PyTorch): decides the data format
    example = "{groups: 2}"
    framework = "torch"
    doc = "Interleaves the channels of `groups` groups (ShuffleNet, PyTorch); same shape, no weights."
    args = (Arg("groups", positive),)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if len(shape) < 2:
            raise ctx.fail(f"expects channels and at least one more axis but gets {format_shape(shape)}: PyTorch's "
                           "channel_shuffle needs a 3-D or larger input (with the batch)",
                           "give it a (C, L), (C, H, W) or larger input.")
        channels = ctx.channels(shape)
        if sym.remainder(channels, a["groups"]):
            raise ctx.arg_error("groups", f"must divide the {channels} channels; got {a['groups']}",
                                "choose a number of groups that divides the channels.")
        return LayerResult(shape)
