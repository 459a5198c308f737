"""Merge layers: element-wise (Add, Subtract, Multiply, Average, Maximum, Minimum) and Concatenate.

They have no weights, and element-wise additions or products are not multiply-accumulates."""

from __future__ import annotations

from typing import Any, ClassVar

from paramcalc.layers import sym
from paramcalc.layers.args import Arg, BadValue, is_int, optional
from paramcalc.layers.base import JOINED_AXIS, Context, Derivation, LayerKind, LayerResult, Shape, format_shape
from paramcalc.layers.formula import Q
from paramcalc.layers.ops import ELEMENTWISE, elements
from paramcalc.layers.registry import register
from paramcalc.layers.traits import Cost, Saves


def _describe(names: list[str], shapes: list[Shape]) -> str:
    return " and ".join(f"`{n}` {format_shape(s)}" for n, s in zip(names, shapes))


class Elementwise(LayerKind):
    """Keras merge semantics (keras/src/layers/merging/base_merge.py): the inputs' shapes are lined up
    from their last dimension, as in NumPy broadcasting; a shorter one is missing leading dimensions,
    which count as 1. Each lined-up dimension must be equal, or 1 (which broadcasts)."""

    multi_input = True
    cost = Cost.MERGE
    exactly: ClassVar[int | None] = None
    doc = ("Element-wise merge of its inputs; their shapes broadcast as in NumPy (lined up from the "
           "last dimension, a dimension of 1 or a missing leading one stretches).")
    example_inputs = 2

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        if len(shapes) < 2 or (cls.exactly and len(shapes) != cls.exactly):
            want = f"exactly {cls.exactly}" if cls.exactly else "at least 2"
            raise ctx.fail(f"needs {want} inputs; got {len(shapes)}", "list them in `inputs: [a, b]`.")
        out = broadcast_shape(shapes)
        if out is None:
            raise ctx.fail(f"cannot merge {_describe(names, shapes)}: the shapes differ (lined up from the last "
                           "dimension, each pair of sizes must be equal or 1)",
                           "make the shapes equal (a dimension of 1 may broadcast), e.g. with a 1x1 "
                           "convolution or a strided shortcut.")
        return LayerResult(out, ops={ELEMENTWISE: elements(out) * (len(shapes) - 1)})


def broadcast_shape(shapes: list[Shape]) -> Shape | None:
    """NumPy broadcasting of batch-less shapes, or None when two sizes clash."""
    first = shapes[0]
    if all(s == first for s in shapes):  # the usual merge (a residual Add): nothing to broadcast or compare
        return tuple(first)
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(-rank, 0):
        sizes = [s[i] for s in shapes if len(s) >= -i and s[i] != 1]
        if any(sym.certainly_different(sizes[0], d) for d in sizes[1:]):
            return None
        out.append(sizes[0] if sizes else 1)
    return tuple(out)


def axis_value(value: Any) -> int:
    if not is_int(value):
        raise BadValue("an axis number (-1 is the last axis)")
    return value


@register
class Concatenate(LayerKind):
    name = "Concatenate"
    cost = Cost.MERGE
    multi_input = True
    doc = ("Joins inputs along `axis` (Keras numbering: the batch is 0, -1 the last); the default is the channel "
           "axis of the spec's data format. PyTorch's `dim` is accepted too.")
    args = (Arg("axis", optional(axis_value), None), Arg("dim", optional(axis_value), None))

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        if len(shapes) < 2:
            raise ctx.fail(f"needs at least 2 inputs; got {len(shapes)}", "list them in `inputs: [a, b]`.")
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise ctx.fail(f"cannot concatenate inputs of different ranks: {_describe(names, shapes)}",
                           "reshape them to the same number of dimensions.")
        axis = a["axis"] if a["axis"] is not None else a["dim"]
        if axis is None:
            index = ctx.channel_axis(rank)
        else:
            index = axis + rank + 1 if axis < 0 else axis
            index -= 1
            if not 0 <= index < rank:
                raise ctx.arg_error("axis", f"is {axis}, outside the inputs' axes", "pick an axis of the inputs.")
        for i in range(rank):
            if i != index and any(sym.certainly_different(shapes[0][i], s[i]) for s in shapes[1:]):
                raise ctx.fail(f"cannot concatenate {_describe(names, shapes)} on axis {index + 1}: the other "
                               "dimensions differ", "make them equal, or concatenate along another axis.")
        total = Q.total(Q.of(s[index]) for s in shapes)
        out = list(shapes[0])
        out[index] = total.value
        return LayerResult(tuple(out), steps=(Derivation(JOINED_AXIS, total),))


for _name, _exactly in (("Add", None), ("Subtract", 2), ("Multiply", None), ("Average", None), ("Maximum", None),
                        ("Minimum", None)):
    # A product, maximum or minimum keeps its inputs for the backward pass; a sum or an average nothing.
    _saves = Saves.INPUT if _name in ("Multiply", "Maximum", "Minimum") else None
    register(type(_name, (Elementwise,), {"name": _name, "exactly": _exactly, "saves": _saves, "__module__": __name__}))
