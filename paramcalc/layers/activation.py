"""Element-wise layers that keep the shape: activations, dropout and noise. Only PReLU has weights."""

from __future__ import annotations

from typing import Any

from paramcalc.layers.args import (
    Arg,
    BadValue,
    anything,
    boolean,
    choice,
    fraction,
    is_int,
    keras_activation,
    number,
    optional,
    positive,
    text,
)
from paramcalc.layers.base import Context, LayerKind, LayerResult, Shape, trainable_split
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.ops import ACTIVATION, GELU, PLAIN_RELU, SILU, SOFTMAX, elements
from paramcalc.layers.registry import register
from paramcalc.layers.shapes import DATA_FORMAT
from paramcalc.layers.traits import Cost


class Elementwise(LayerKind):
    """Same shape out as in; no weights; no multiply-accumulates."""

    doc = "Element-wise; keeps the shape."

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        kind = SOFTMAX if cls.name == "Activation" and a.get("activation") == "softmax" else _OPS[cls.cost]
        ops = {kind: elements(shape)} if kind else {}
        if plain_relu(cls.name, a):
            ops[PLAIN_RELU] = elements(shape)
        if cls.name in _TORCH_MARKED:  # the PyTorch modules some counters hook (layers/ops.py)
            ops[_TORCH_MARKED[cls.name]] = elements(shape)
        return LayerResult(shape, ops=ops)


def plain_relu(kind: str, a: dict[str, Any]) -> bool:
    """max(x, 0) itself, as nn.ReLU is (a ReLU capped at 6 is nn.ReLU6, which some counters treat apart)."""
    if kind == "ReLU":
        return a.get("max_value") is None and not a.get("negative_slope") and not a.get("threshold")
    return kind == "Activation" and a.get("activation") == "relu"


_TORCH_MARKED = {"SiLU": SILU, "GELU": GELU}


# The operation each category of this family reports (layers/ops.py), which some conventions count.
_OPS: dict[Cost, str | None] = {Cost.RECTIFIER: ACTIVATION, Cost.ACTIVATION: ACTIVATION, Cost.SOFTMAX: SOFTMAX,
                                Cost.DROPOUT: None}


def _elementwise(name: str, framework: str, cost: Cost, *args: Arg, example: str = "{}") -> type[LayerKind]:
    attrs = {"name": name, "framework": framework, "cost": cost, "args": args, "example": example,
             "__module__": __name__}
    return register(type(name, (Elementwise,), attrs))


INPLACE = Arg("inplace", boolean, False)

# Names Keras and PyTorch share take both spellings (PyTorch's `inplace`, `dim`, `p` included).
_elementwise("ReLU", "keras", Cost.RECTIFIER, Arg("max_value", optional(number), None),
             Arg("negative_slope", number, 0.0), Arg("threshold", number, 0.0), INPLACE)
_elementwise("LeakyReLU", "keras", Cost.RECTIFIER, Arg("negative_slope", number, 0.3),
             Arg("alpha", optional(number), None), INPLACE)
_elementwise("ELU", "keras", Cost.RECTIFIER, Arg("alpha", number, 1.0), INPLACE)
_elementwise("Softmax", "keras", Cost.SOFTMAX, Arg("axis", anything, -1), Arg("dim", anything, None))
_elementwise("Dropout", "keras", Cost.DROPOUT, Arg("rate", fraction, 0.5), Arg("p", optional(fraction), None),
             Arg("noise_shape", anything, None), Arg("seed", anything, None), INPLACE)

# Keras only. `Activation` is whatever function it names: its softmax is counted as one (compute).
_elementwise("Activation", "keras", Cost.ACTIVATION, Arg("activation", keras_activation), example="{activation: relu}")
_elementwise("SpatialDropout1D", "keras", Cost.DROPOUT, Arg("rate", fraction), Arg("seed", anything, None),
             example="{rate: 0.1}")
_elementwise("SpatialDropout2D", "keras", Cost.DROPOUT, Arg("rate", fraction), DATA_FORMAT,
             Arg("seed", anything, None), example="{rate: 0.1}")
_elementwise("SpatialDropout3D", "keras", Cost.DROPOUT, Arg("rate", fraction), DATA_FORMAT,
             Arg("seed", anything, None), example="{rate: 0.1}")
_elementwise("GaussianNoise", "keras", Cost.DROPOUT, Arg("stddev", number), Arg("seed", anything, None),
             example="{stddev: 0.1}")
_elementwise("GaussianDropout", "keras", Cost.DROPOUT, Arg("rate", fraction), Arg("seed", anything, None),
             example="{rate: 0.1}")
_elementwise("AlphaDropout", "keras", Cost.DROPOUT, Arg("rate", fraction), Arg("noise_shape", anything, None),
             Arg("seed", anything, None), example="{rate: 0.1}")
_elementwise("Identity", "keras", Cost.DROPOUT)

# PyTorch only
_elementwise("ReLU6", "torch", Cost.RECTIFIER, INPLACE)
for _name in ("Sigmoid", "Tanh", "SiLU", "Hardswish", "Hardsigmoid", "Mish"):
    _elementwise(_name, "torch", Cost.ACTIVATION, INPLACE)
_elementwise("GELU", "torch", Cost.ACTIVATION, Arg("approximate", text, "none"))
_elementwise("LogSoftmax", "torch", Cost.SOFTMAX, Arg("dim", optional(anything), None))
for _name in ("Dropout1d", "Dropout2d", "Dropout3d"):
    _elementwise(_name, "torch", Cost.DROPOUT, Arg("p", fraction, 0.5), INPLACE)


def shared_axes(value: Any) -> tuple[int, ...]:
    if is_int(value):
        return (value,)
    if isinstance(value, list) and all(is_int(v) and v >= 1 for v in value):
        return tuple(value)
    raise BadValue("an axis number (1 = first after the batch) or a list of them")


@register
class PReLU(LayerKind):
    name = "PReLU"
    cost = Cost.RECTIFIER
    example = "{shared_axes: [1, 2]}"
    doc = ("Parametric ReLU. Keras: one slope per input value, shared along `shared_axes`. PyTorch "
           "(num_parameters or init given, or a bare PReLU in a channels_first spec): 1 slope, or one per channel.")
    args = (Arg("shared_axes", optional(shared_axes), None), Arg("num_parameters", optional(positive), None),
            Arg("init", optional(number), None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        torch_style = a["num_parameters"] is not None or a["init"] is not None
        if a["shared_axes"] is None and not ctx.channels_last:
            torch_style = True  # a bare PReLU in a channels_first (PyTorch-style) spec: PyTorch's single slope
        if torch_style:
            # PyTorch semantics: a single slope, or one per channel.
            n = a["num_parameters"] or 1
            channels = ctx.channels(shape)
            if n not in (1, channels):
                raise ctx.arg_error("num_parameters", f"must be 1 or the {channels} channels; got {n}",
                                    f"set num_parameters: 1 or {channels}.")
            params = Q.of(n, "C" if n == channels > 1 else None)  # one slope per channel, or one
        else:
            shared = {axis - 1 for axis in a["shared_axes"] or ()}
            if any(not 0 <= i < len(shape) for i in shared):
                raise ctx.arg_error("shared_axes", f"must name input axes 1..{len(shape)}",
                                    "list axes of the input, counting the first after the batch as 1.")
            params = Q.product(Q.of(1 if i in shared else n) for i, n in enumerate(shape))
        trainable, frozen = trainable_split(params, ZERO, a)
        return LayerResult(shape, trainable, frozen, ZERO, ops={ACTIVATION: elements(shape)})


# ---- issue 15: more element-wise kinds --------------------------------------------------------------

@register
class Hardtanh(Elementwise):
    name = "Hardtanh"
    framework = "torch"
    cost = Cost.ACTIVATION
    doc = "Clamps every value to [min_val, max_val] (PyTorch); no weights, same shape."
    args = (Arg("min_val", number, -1.0), Arg("max_val", number, 1.0), INPLACE,
            Arg("min_value", optional(number), None), Arg("max_value", optional(number), None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        # min_value and max_value are PyTorch's deprecated spellings; given, they win.
        low = a["min_val"] if a["min_value"] is None else a["min_value"]
        high = a["max_val"] if a["max_value"] is None else a["max_value"]
        if not high > low:
            raise ctx.arg_error("max_val", f"({high}) must be greater than min_val ({low}), as PyTorch checks",
                                "make max_val larger than min_val.")
        return super().compute(a, shape, ctx)


_elementwise("Softplus", "torch", Cost.ACTIVATION, Arg("beta", number, 1.0), Arg("threshold", number, 20.0))


@register
class StochasticDepth(Elementwise):
    name = "StochasticDepth"
    cost = Cost.DROPOUT
    example = "{p: 0.1, mode: row}"
    doc = ("Drops a residual branch at random while training; the identity at inference. torchvision's "
           "ops.StochasticDepth (p and mode) or Keras ConvNeXt's StochasticDepth (drop_path_rate).")
    args = (Arg("p", optional(fraction), None), Arg("mode", optional(choice("row", "batch")), None),
            Arg("drop_path_rate", optional(number), None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        torch_form = a["p"] is not None or a["mode"] is not None
        if torch_form == (a["drop_path_rate"] is not None):
            raise ctx.fail("takes torchvision's `p` and `mode` or Keras ConvNeXt's `drop_path_rate`, one of the "
                           "two forms", "write `{p: 0.1, mode: row}` (torchvision) or `{drop_path_rate: 0.1}` (Keras).")
        for arg in ("p", "mode"):
            if torch_form and a[arg] is None:
                raise ctx.arg_error(arg, "is missing: torchvision's StochasticDepth needs both `p` and `mode`",
                                    "write e.g. `{p: 0.1, mode: row}` (mode: row or batch).")
        return super().compute(a, shape, ctx)


_elementwise("DropPath", "keras", Cost.DROPOUT, Arg("drop_prob", fraction, 0.0), Arg("scale_by_keep", boolean, True),
             Arg("seed", anything, None))
