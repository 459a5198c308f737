"""Slicing and padding written in model code rather than as layers, so that a spec can follow a
`forward` line by line: a strided slice (`x[:, :, ::2, ::2]`) and `F.pad` (the original ResNet's
option-A shortcut pads the new channels with zeros: `F.pad(x, (0, 0, 0, 0, p, p))`).

Both follow PyTorch: `dim` counts the batch as axis 0, and F.pad's `pad` lists (before, after) pairs
from the last axis backwards. Neither has weights or multiply-accumulates."""

from __future__ import annotations

from typing import Any

from paramcalc.layers import sym
from paramcalc.layers.args import Arg, BadValue, choice, integer, is_int, optional, typed
from paramcalc.layers.base import Context, LayerKind, LayerResult, Shape, format_shape
from paramcalc.layers.registry import register
from paramcalc.layers.tensor import axis_index, dims_value
from paramcalc.layers.traits import Cost


def known(n: Any, index: int, shape: Shape, ctx: Context, arg: str) -> int:
    if sym.is_symbolic(n):
        raise ctx.fail(f"cannot cut axis {index + 1} of {format_shape(shape)} from its end: its size depends on "
                       "free dimensions", "give the input dimensions values (--set H=224).", arg)
    return int(n)


def kept(n: Any, start: int | None, end: int | None, step: int, index: int, shape: Shape, ctx: Context) -> Any:
    """Positions `n[start:end:step]` keeps; of a free dimension n when only a start of 0 or more is given."""
    if not sym.is_symbolic(n):
        return len(range(*slice(start, end, step).indices(int(n))))
    if end is None and (start is None or start >= 0):
        return sym.ceil_div(sym.maximum(n - (start or 0), 0), step)
    return known(n, index, shape, ctx, "end" if end is not None else "start")


@register
class Slice(LayerKind):
    name = "Slice"
    cost = Cost.RESHAPE
    framework = "torch"
    doc = ("`x[..., start:end:step]` along each axis of `dim` (the batch is 0), with Python's slice rules "
           "(negatives count from the end, out-of-range bounds are clipped): `x[:, :, ::2, ::2]` is "
           "{dim: [2, 3], step: 2}.")
    example = "{dim: [2, 3], step: 2}"
    args = (Arg("dim", dims_value, doc="the axis or axes cut, the batch being 0 as in PyTorch"),
            Arg("start", optional(integer(-(2**62))), None, "first position kept (default: the start)"),
            Arg("end", optional(integer(-(2**62))), None, "position the slice stops before (default: the end)"),
            Arg("step", integer(1), 1, "keep every step-th position"))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        indexes = [axis_index(d, shape, ctx) for d in a["dim"]]
        if len(set(indexes)) < len(indexes):
            raise ctx.arg_error("dim", "names an axis twice", "list each axis once.")
        out = list(shape)
        for i in indexes:
            out[i] = kept(shape[i], a["start"], a["end"], a["step"], i, shape, ctx)
            if sym.certainly_below(out[i], 1):
                raise ctx.fail(f"keeps nothing of axis {i + 1} of {format_shape(shape)} "
                               f"(start {a['start']}, end {a['end']}, step {a['step']})",
                               "choose bounds that keep at least one position.", "start")
        return LayerResult(tuple(out))


@typed({"type": "array", "items": {"type": "integer"}, "minItems": 2})
def pad_value(value: Any) -> tuple[int, ...]:
    if isinstance(value, list) and value and len(value) % 2 == 0 and all(is_int(v) for v in value):
        return tuple(value)
    raise BadValue("an even-length list of integers: (before, after) pairs from the last axis backwards",
                   "[0, 0, 0, 0, 4, 4]")


@register
class Pad(LayerKind):
    name = "Pad"
    cost = Cost.RESHAPE
    framework = "torch"
    doc = ("F.pad(x, pad, mode='constant', value): `pad` lists (before, after) amounts from the last axis "
           "backwards, so (0, 0, 0, 0, p, p) on (N, C, H, W) adds p channels on each side; a negative amount crops.")
    example = "{pad: [0, 0, 0, 0, 2, 2]}"
    args = (Arg("pad", pad_value), Arg("mode", choice("constant"), "constant",
                                      "constant (the modes reflect, replicate, circular are not supported)"),
            Arg("value", optional(lambda v: v), None, "the fill value (does not change any count)"))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        pad = a["pad"]
        if len(pad) // 2 > len(shape):
            raise ctx.arg_error("pad", f"pads {len(pad) // 2} axes, but {format_shape((None, *shape))} has only "
                                f"{len(shape)} besides the batch, which a spec's shapes leave out",
                                f"give at most {2 * len(shape)} amounts.")
        out = list(shape)
        for k in range(len(pad) // 2):
            i = len(shape) - 1 - k
            size = shape[i] + pad[2 * k] + pad[2 * k + 1]
            if sym.certainly_below(size, 1):
                raise ctx.arg_error("pad", f"leaves axis {i + 1} of {format_shape((None, *shape))} with {size} "
                                    "positions", "crop less than the axis holds.")
            out[i] = size
        return LayerResult(tuple(out))
