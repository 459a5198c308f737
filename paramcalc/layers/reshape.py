"""Layers that only move or pad values: Flatten, Reshape, padding, cropping, upsampling."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, ClassVar

from paramcalc.layers import sym
from paramcalc.layers.args import Arg, BadValue, anything, choice, integer, ints, is_int, optional, pairs, shape_list
from paramcalc.layers.base import Context, Derivation, LayerKind, LayerResult, Shape, format_shape
from paramcalc.layers.formula import Q
from paramcalc.layers.ops import UPSAMPLE, elements
from paramcalc.layers.registry import define_ranked, register
from paramcalc.layers.shapes import dim_names

DATA_FORMAT = Arg("data_format", optional(choice("channels_last", "channels_first")), None)


@register
class Flatten(LayerKind):
    name = "Flatten"
    doc = "Flattens all axes after the batch into one (PyTorch: from start_dim to end_dim)."
    formulas = "out = product of the input dims;  params 0;  MACs 0"
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
                           derivations=(Derivation("output size", merged),))


@register
class Reshape(LayerKind):
    name = "Reshape"
    example = "{target_shape: [-1]}"
    doc = "Reshapes to target_shape (without the batch); one -1 takes whatever is left."
    formulas = "params 0;  MACs 0"
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
    formulas = "params 0;  MACs 0"

    @classmethod
    def new_lengths(cls, a: dict[str, Any], spatial: Shape) -> list[Q]:
        raise NotImplementedError

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        spatial, channels = ctx.split_channels(shape, cls.rank)
        lengths = cls.new_lengths(a, spatial)
        values = tuple(q.value for q in lengths)
        if any(sym.certainly_below(v, 1) for v in values):
            raise ctx.fail(f"would leave an empty output {format_shape(values)} from {format_shape(spatial)}",
                           "crop less, or give a larger input.", cls.arguments()[0].name)
        return LayerResult(ctx.join_channels(values, channels), derivations=tuple(
            Derivation(f"output {dim}", q) for dim, q in zip(dim_names(cls.rank), lengths)))


class ZeroPadding(SpatialEdit):
    example = "{padding: 1}"
    doc = "Adds zeros around the spatial axes (Keras): int, per-axis ints, or [before, after] pairs."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        return (Arg("padding", pairs(cls.rank), 1), DATA_FORMAT)

    @classmethod
    def new_lengths(cls, a: dict[str, Any], spatial: Shape) -> list[Q]:
        return [Q.of(n, "N") + Q.of(b, "P1") + Q.of(e, "P2") for n, (b, e) in zip(spatial, a["padding"])]


class Cropping(SpatialEdit):
    example = "{cropping: 1}"
    doc = "Removes rows/columns at the spatial edges (Keras): int, per-axis ints, or [before, after] pairs."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        return (Arg("cropping", pairs(cls.rank), 1 if cls.rank != 2 else 0), DATA_FORMAT)

    @classmethod
    def new_lengths(cls, a: dict[str, Any], spatial: Shape) -> list[Q]:
        return [Q.of(n, "N") - Q.of(b, "C1") - Q.of(e, "C2") for n, (b, e) in zip(spatial, a["cropping"])]


class UpSampling(SpatialEdit):
    example = "{size: 2}"
    doc = "Repeats rows/columns `size` times along the spatial axes (Keras)."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        return (Arg("size", ints(cls.rank), 2), DATA_FORMAT, Arg("interpolation", anything, "nearest"))

    @classmethod
    def new_lengths(cls, a: dict[str, Any], spatial: Shape) -> list[Q]:
        return [Q.of(n, "N") * Q.of(k, "size") for n, k in zip(spatial, a["size"])]


def torch_pads(rank: int) -> Any:
    """PyTorch ZeroPad*d: an int, or 2 x rank ints starting from the LAST axis (left, right, top, ...)."""

    def parse(value: Any) -> tuple[tuple[int, int], ...]:
        if is_int(value) and value >= 0:
            return ((value, value),) * rank
        if isinstance(value, list) and len(value) == 2 * rank and all(is_int(v) and v >= 0 for v in value):
            last_first = [(value[2 * i], value[2 * i + 1]) for i in range(rank)]
            return tuple(reversed(last_first))
        order = ", ".join(("left, right", "top, bottom", "front, back")[:rank])
        raise BadValue(f"a non-negative integer or a list of {2 * rank} ({order})")

    return parse


class ZeroPad(ZeroPadding):
    framework = "torch"
    doc = "Adds zeros around the spatial axes (PyTorch order: left, right, top, bottom, front, back)."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        return (Arg("padding", torch_pads(cls.rank)),)


def scale_factors(value: Any) -> tuple[Fraction, ...] | Fraction:
    if isinstance(value, bool):
        raise BadValue("a positive number or a list of them")
    if isinstance(value, (int, float)) and value > 0:
        return Fraction(value)
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
                                                  for v in value):
        return tuple(Fraction(v) for v in value)
    raise BadValue("a positive number or a list of them")


@register
class Upsample(LayerKind):
    name = "Upsample"
    example = "{scale_factor: 2}"
    framework = "torch"
    doc = "Upsampling (PyTorch) to `size`, or by `scale_factor` (output floored)."
    formulas = "out = floor(N x scale_factor) or size;  params 0;  MACs 0"
    args = (Arg("size", optional(anything), None), Arg("scale_factor", optional(scale_factors), None),
            Arg("mode", anything, "nearest"), Arg("align_corners", anything, None),
            Arg("recompute_scale_factor", anything, None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        rank = len(shape) - 1
        spatial, channels = ctx.split_channels(shape, rank)
        if (a["size"] is None) == (a["scale_factor"] is None):
            raise ctx.arg_error("size", "or scale_factor must be given, not both and not neither",
                                "give exactly one of size and scale_factor.")
        if a["size"] is not None:
            try:
                size = ints(rank)(a["size"])
            except BadValue as bad:
                raise ctx.arg_error("size", f"must be {bad.expected} for this input; got {a['size']}",
                                    f"give one size or {rank}.") from None
            out = ctx.join_channels(size, channels)
            return LayerResult(out, ops=upsample_ops(out, a["mode"], rank))
        factor = a["scale_factor"]
        factors = factor if isinstance(factor, tuple) else (factor,) * rank
        if len(factors) != rank:
            raise ctx.arg_error("scale_factor", f"needs {rank} values for this input; got {len(factors)}",
                                f"give one number or {rank}.")
        out = ctx.join_channels(tuple(sym.floor_div(n * f.numerator, f.denominator)
                                      for n, f in zip(spatial, factors)), channels)
        return LayerResult(out, ops=upsample_ops(out, a["mode"], rank))


def upsample_ops(out: Shape, mode: Any, rank: int) -> dict[str, Any]:
    """Output values, also filed under the interpolation and rank (fvcore counts only some)."""
    return {UPSAMPLE: elements(out), f"{UPSAMPLE}_{mode}_{rank}d": elements(out)}


for _r in (1, 2, 3):
    define_ranked(ZeroPadding, f"ZeroPadding{_r}D", _r)
    define_ranked(Cropping, f"Cropping{_r}D", _r)
    define_ranked(UpSampling, f"UpSampling{_r}D", _r)
    define_ranked(ZeroPad, f"ZeroPad{_r}d", _r)
