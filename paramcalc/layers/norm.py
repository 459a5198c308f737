"""Normalisation layers. Keras counts BatchNormalization's moving statistics as non-trainable
params; PyTorch keeps them as buffers, which `sum(p.numel())` does not count."""

from __future__ import annotations

from typing import Any, ClassVar

from paramcalc.layers import sym
from paramcalc.layers.args import Arg, BadValue, anything, boolean, is_int, number, optional, positive
from paramcalc.layers.base import Context, LayerKind, LayerResult, Shape, format_shape, trainable_split
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.ops import (
    BATCH_NORM,
    GROUP_NORM,
    LAYER_NORM,
    LRN,
    LRN_PADDED,
    RMS_NORM,
    TORCH_LAYER_NORM,
    elements,
    norm_ops,
)
from paramcalc.layers.registry import register
from paramcalc.layers.shapes import check_stated
from paramcalc.layers.traits import Cost


def axes(value: Any) -> tuple[int, ...]:
    """Keras axis: an int or a list of ints, counted with the batch axis as 0."""
    if is_int(value):
        return (value,)
    if isinstance(value, list) and value and all(is_int(v) for v in value):
        return tuple(value)
    raise BadValue("an axis number or a list of them (-1 is the last axis)")


def resolve_axes(keras_axes: tuple[int, ...], shape: Shape, ctx: Context) -> list[int]:
    """Keras axes (batch = 0, negatives from the end) -> indexes into our batch-less shape."""
    rank = len(shape) + 1
    found = []
    for axis in keras_axes:
        index = axis + rank if axis < 0 else axis
        if not 1 <= index < rank:
            raise ctx.arg_error("axis", f"is {axis}, outside the input's axes 1..{rank - 1} (or -1..-{rank - 1})",
                                "pick an axis of the input; the batch axis 0 cannot be normalised over.")
        found.append(index - 1)
    return found


def one_axis(value: Any) -> tuple[int, ...]:
    """Keras 3's BatchNormalization takes a single axis: it calls int(axis), so a list fails."""
    if is_int(value):
        return (value,)
    raise BadValue("one axis number: Keras 3's BatchNormalization takes a single axis, not a list "
                   "(LayerNormalization takes several)", "-1")


@register
class BatchNormalization(LayerKind):
    name = "BatchNormalization"
    cost = Cost.NORM
    doc = ("Batch normalisation (Keras): gamma and beta trainable, moving mean and variance non-trainable. "
           "The axis defaults to the channel axis of the spec's data format.")
    args = (Arg("axis", optional(one_axis), None), Arg("momentum", number, 0.99), Arg("epsilon", number, 0.001),
            Arg("center", boolean, True), Arg("scale", boolean, True), Arg("synchronized", boolean, False),
            Arg("renorm", boolean, False), Arg("renorm_clipping", anything, None), Arg("renorm_momentum", number, 0.99))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if a["axis"] is None:
            index = [ctx.channel_axis(len(shape))]
        else:
            index = resolve_axes(a["axis"], shape, ctx)
        C = Q.of(Q.product(Q.of(shape[i]) for i in index).value, "C")
        learned = int(a["center"]) + int(a["scale"])
        trainable = Q.of(learned) * C if learned else ZERO
        moving = Q.of(2) * C
        trainable, frozen = trainable_split(trainable, moving, a)
        return LayerResult(shape, trainable, frozen, ZERO, ops=norm_ops(BATCH_NORM, shape, bool(learned)))


@register
class LayerNormalization(LayerKind):
    name = "LayerNormalization"
    cost = Cost.NORM
    doc = "Layer normalisation (Keras) over `axis` (default the last)."
    args = (Arg("axis", axes, -1), Arg("epsilon", number, 0.001), Arg("center", boolean, True),
            Arg("scale", boolean, True), Arg("rms_scaling", boolean, False))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        size = Q.of(Q.product(Q.of(shape[i]) for i in resolve_axes(a["axis"], shape, ctx)).value, "normalized")
        gamma = a["scale"] or a["rms_scaling"]
        beta = a["center"] and not a["rms_scaling"]
        params = Q.of(int(gamma) + int(beta)) * size if gamma or beta else ZERO
        trainable, frozen = trainable_split(params, ZERO, a)
        return LayerResult(shape, trainable, frozen, ZERO, ops=norm_ops(LAYER_NORM, shape, bool(gamma or beta)))


@register
class RMSNormalization(LayerKind):
    name = "RMSNormalization"
    cost = Cost.NORM
    doc = ("RMS normalisation (Keras; keras_hub's takes `input_dim`, the last axis's size): a learned scale per "
           "value of the normalised axes, no shift.")
    args = (Arg("axis", axes, -1), Arg("epsilon", number, 1e-6), Arg("input_dim", optional(positive), None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        index = sorted(resolve_axes(a["axis"], shape, ctx))
        scale = [shape[i] for i in index]
        # Keras multiplies its scale (the axes' sizes) into the input broadcast from the last axis.
        if any(s != 1 and sym.certainly_different(s, t) for s, t in zip(reversed(scale), reversed(shape))):
            raise ctx.arg_error("axis", f"names axes {[i + 1 for i in index]} of {format_shape(shape)}, whose scale "
                                f"{format_shape(tuple(scale))} Keras multiplies into the input lined up with its "
                                "last axes, where it does not fit", "normalise over the last axes, e.g. -1 or "
                                "[-2, -1].")
        size = Q.of(Q.product(Q.of(s) for s in scale).value, "normalized")
        if a["input_dim"] is not None:  # keras_hub's spelling: a scale of input_dim values on the last axis
            if index != [len(shape) - 1]:
                raise ctx.arg_error("axis", "must be the last axis when input_dim is given (keras_hub's "
                                    "RMSNormalization scales the last axis only)", "leave `axis` out.")
            if a["input_dim"] == 1:
                size = Q.of(1)  # one scale, broadcast over the last axis
            else:
                check_stated(a, "input_dim", shape[-1], ctx)
        # No `ops`: none of the counting tools has a handle for RMS normalisation (they count it 0).
        trainable, frozen = trainable_split(size, ZERO, a)
        return LayerResult(shape, trainable, frozen)


class TorchBatchNorm(LayerKind):
    cost = Cost.NORM
    spatial = True  # reads the channel axis (dimension 1 in PyTorch): decides the data format
    ranks: ClassVar[tuple[int, ...]]
    framework = "torch"
    doc = "Batch normalisation (PyTorch): weight and bias are parameters; running stats are buffers."
    args = (Arg("num_features", optional(positive), None), Arg("eps", number, 1e-5),
            Arg("momentum", optional(number), 0.1), Arg("affine", boolean, True),
            Arg("track_running_stats", boolean, True), Arg("device", anything, None), Arg("dtype", anything, None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if len(shape) not in cls.ranks:
            want = " or ".join(f"{r}-D" for r in cls.ranks)
            raise ctx.fail(f"expects a {want} input (channels first) but gets {shape}",
                           "use the BatchNorm variant that matches the input's rank.")
        channels = ctx.channels(shape)
        check_stated(a, "num_features", channels, ctx, shape)
        params = Q.of(2) * Q.of(channels, "C") if a["affine"] else ZERO
        return LayerResult(shape, params, ZERO, ZERO, ops=norm_ops(BATCH_NORM, shape, a["affine"]))


@register
class BatchNorm1d(TorchBatchNorm):
    name, ranks, example_rank = "BatchNorm1d", (1, 2), 1


@register
class BatchNorm2d(TorchBatchNorm):
    name, ranks = "BatchNorm2d", (3,)


@register
class BatchNorm3d(TorchBatchNorm):
    name, ranks, example_rank = "BatchNorm3d", (4,), 3


def normalized_shape(value: Any) -> tuple[int, ...]:
    if is_int(value) and value >= 1:
        return (value,)
    if isinstance(value, list) and value and all(is_int(v) and v >= 1 for v in value):
        return tuple(value)
    raise BadValue("a positive integer or a list of them (the trailing dimensions)")


@register
class LayerNorm(LayerKind):
    name = "LayerNorm"
    cost = Cost.NORM
    example = "{normalized_shape: 9}"
    framework = "torch"
    doc = "Layer normalisation (PyTorch) over the trailing `normalized_shape` dimensions."
    args = (Arg("normalized_shape", normalized_shape), Arg("eps", number, 1e-5),
            Arg("elementwise_affine", boolean, True), Arg("bias", boolean, True),
            Arg("device", anything, None), Arg("dtype", anything, None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        ns = a["normalized_shape"]
        if tuple(shape[-len(ns):]) != ns or len(ns) > len(shape):
            raise ctx.arg_error("normalized_shape", f"is {list(ns)} but the input ends in {list(shape[-len(ns):])}",
                                "make normalized_shape the last dimensions of the input.")
        size = Q.of(Q.product(Q.of(n) for n in ns).value, "normalized")
        params = Q.of(1 + int(a["bias"])) * size if a["elementwise_affine"] else ZERO
        ops = {**norm_ops(LAYER_NORM, shape, a["elementwise_affine"]),
               **norm_ops(TORCH_LAYER_NORM, shape, a["elementwise_affine"])}
        return LayerResult(shape, params, ZERO, ZERO, ops=ops)


@register
class GroupNorm(LayerKind):
    name = "GroupNorm"
    cost = Cost.NORM
    spatial = True  # reads the channel axis (dimension 1 in PyTorch): decides the data format
    example = "{num_groups: 2}"
    framework = "torch"
    doc = "Group normalisation (PyTorch): channels split into num_groups groups."
    args = (Arg("num_groups", positive), Arg("num_channels", optional(positive), None), Arg("eps", number, 1e-5),
            Arg("affine", boolean, True), Arg("device", anything, None), Arg("dtype", anything, None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        channels = ctx.channels(shape)
        check_stated(a, "num_channels", channels, ctx, shape)
        if channels % a["num_groups"]:
            raise ctx.arg_error("num_groups", f"must divide the {channels} channels; got {a['num_groups']}",
                                "choose a number of groups that divides the channels.")
        params = Q.of(2) * Q.of(channels, "C") if a["affine"] else ZERO
        return LayerResult(shape, params, ZERO, ZERO, ops=norm_ops(GROUP_NORM, shape, a["affine"]))


@register
class LocalResponseNorm(LayerKind):
    name = "LocalResponseNorm"
    cost = Cost.NORM
    spatial = True  # reads the channel axis (dimension 1 in PyTorch): decides the data format
    example = "{size: 5}"
    framework = "torch"
    doc = "Local response normalisation (AlexNet, PyTorch): no weights, same shape."
    args = (Arg("size", positive), Arg("alpha", number, 1e-4), Arg("beta", number, 0.75), Arg("k", number, 1.0))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if len(shape) < 2:
            raise ctx.fail(f"expects channels and at least one more dimension but gets {format_shape(shape)}: "
                           "PyTorch's local_response_norm needs a 3-D or larger input (with the batch)",
                           "give it a (C, L), (C, H, W) or larger input, e.g. with Reshape.")
        channels = ctx.channels(shape)
        # PyTorch computes it with an average pooling over the channels padded by size - 1.
        padded = elements(shape) // channels * (channels + a["size"] - 1)
        return LayerResult(shape, ops={LRN: elements(shape), LRN_PADDED: padded})


# ---- issue 15: vision normalisations ----------------------------------------------------------------

@register
class LayerNorm2d(LayerKind):
    name = "LayerNorm2d"
    cost = Cost.NORM
    spatial = True  # normalises the channel axis (dimension 1 in PyTorch): decides the data format
    example = "{normalized_shape: 4}"
    framework = "torch"
    doc = ("torchvision's LayerNorm2d (ConvNeXt): a LayerNorm over the channels of each position of a (C, H, W) "
           "map, computed channels last; weight and bias per channel.")
    args = (Arg("normalized_shape", normalized_shape), Arg("eps", number, 1e-5),
            Arg("elementwise_affine", boolean, True), Arg("bias", boolean, True),
            Arg("device", anything, None), Arg("dtype", anything, None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if len(shape) != 3:
            raise ctx.fail(f"expects a (C, H, W) input but gets {format_shape(shape)}: torchvision permutes a 4-D "
                           "tensor (with the batch) to put the channels last",
                           "give it a 2-D feature map, or use LayerNorm on the last axis.")
        channels = ctx.channels(shape)
        if a["normalized_shape"] != (channels,):
            raise ctx.arg_error("normalized_shape", f"is {list(a['normalized_shape'])} but the input has {channels} "
                                "channels", f"set normalized_shape: {channels}.")
        params = Q.of(1 + int(a["bias"])) * Q.of(channels, "C") if a["elementwise_affine"] else ZERO
        return LayerResult(shape, params, ZERO, ZERO, ops=norm_ops(LAYER_NORM, shape, a["elementwise_affine"]))


@register
class LayerScale(LayerKind):
    name = "LayerScale"
    cost = Cost.ACTIVATION
    example = "{init_values: 0.000001, projection_dim: 4}"
    doc = ("Keras ConvNeXt's LayerScale: multiplies the last axis by a trainable gamma of projection_dim values "
           "(keras.applications.convnext).")
    args = (Arg("init_values", number), Arg("projection_dim", positive))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        dim, last = a["projection_dim"], shape[-1]
        if sym.is_symbolic(last):  # projection_dim names the last axis's size: it must be known
            raise ctx.fail(f"`projection_dim` is {dim} but the input's last axis is {last}, a formula",
                           "give the input's last dimension as a number.", "projection_dim")
        if dim != last and dim != 1:
            raise ctx.arg_error("projection_dim", f"is {dim} but the input's last axis has {last}: x * gamma "
                                "cannot broadcast", f"set projection_dim: {last}.")
        gamma = Q.of(dim, "C" if dim == last else None)
        trainable, frozen = trainable_split(gamma, ZERO, a)
        return LayerResult(shape, trainable, frozen, ZERO)


def normalized_size(ns: tuple[int, ...], shape: Shape, ctx: Context) -> Q:
    """PyTorch's `normalized_shape` must be the input's last dimensions (LayerNorm's rule, which could
    share this); the values normalised together."""
    if tuple(shape[-len(ns):]) != ns or len(ns) > len(shape):
        raise ctx.arg_error("normalized_shape", f"is {list(ns)} but the input ends in {list(shape[-len(ns):])}",
                            "make normalized_shape the last dimensions of the input.")
    return Q.of(Q.product(Q.of(n) for n in ns).value, "normalized")


@register
class RMSNorm(LayerKind):
    name = "RMSNorm"
    cost = Cost.NORM
    example = "{normalized_shape: 9}"
    framework = "torch"
    doc = ("Root-mean-square normalisation (PyTorch) over the trailing `normalized_shape` dimensions: a scale "
           "per value, no shift, no mean subtracted.")
    args = (Arg("normalized_shape", normalized_shape), Arg("eps", optional(number), None),
            Arg("elementwise_affine", boolean, True), Arg("device", anything, None), Arg("dtype", anything, None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        size = normalized_size(a["normalized_shape"], shape, ctx)
        params = size if a["elementwise_affine"] else ZERO
        return LayerResult(shape, params, ZERO, ZERO, ops=norm_ops(RMS_NORM, shape, a["elementwise_affine"]))
