"""Keras preprocessing layers: rescaling and normalising values, cropping and resizing images, and the
random augmentations, which are the identity at inference (the model a summary describes).

None has trainable weights. `Normalization` without `mean` and `variance` keeps the statistics
`adapt()` would fill in as non-trainable weights, which Keras's `count_params()` counts."""

from __future__ import annotations

from typing import Any

from paramcalc.layers.args import Arg, BadValue, anything, boolean, choice, is_int, number, optional, positive, text
from paramcalc.layers.base import Context, LayerKind, LayerResult, Shape, format_shape
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.ops import UPSAMPLE, elements
from paramcalc.layers.registry import register
from paramcalc.layers.shapes import DATA_FORMAT
from paramcalc.layers.traits import Cost

# ---- values: Rescaling, Normalization -------------------------------------------------------------


def numbers(value: Any) -> float | int | tuple[float | int, ...]:
    """A number, or a flat list of numbers (one per channel)."""
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                 for v in value):
        return tuple(value)
    try:
        return number(value)
    except BadValue:
        raise BadValue("a number or a list of numbers (one per channel)") from None


def check_vector(arg: str, values: Any, size: int, what: str, ctx: Context) -> None:
    """A list of values broadcasts along one axis: it must have 1 entry or one per position.
    (Keras's summary keeps the input shape even when a longer list would widen an axis of 1.)"""
    if isinstance(values, tuple) and len(values) not in (1, size):
        raise ctx.arg_error(arg, f"has {len(values)} values but {what} has {size}",
                            f"give one number, or {size} of them (one per position of {what}).")


@register
class Rescaling(LayerKind):
    name = "Rescaling"
    cost = Cost.ACTIVATION
    example = "{scale: 0.00392156862745098}"
    doc = ("Multiplies every value by `scale` and adds `offset` (Keras): no weights, same shape. A list of "
           "scales is one per channel (the channel axis of the spec's data format); a list of offsets is one "
           "per position of the last axis.")
    args = (Arg("scale", numbers), Arg("offset", numbers, 0.0))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if isinstance(a["scale"], tuple):
            if not ctx.channels_last and len(shape) < 3:
                # Keras reshapes the scales to (k, 1, 1): on a smaller input they would meet the batch axis.
                raise ctx.arg_error("scale", f"is a list, which Keras lines up with the channels of a (C, H, W) "
                                    f"input in channels_first, but the input is {format_shape(shape)}",
                                    "give one number, or use a (C, H, W) input.")
            axis = len(shape) - 1 if ctx.channels_last else len(shape) - 3
            check_vector("scale", a["scale"], shape[axis], "the channel axis", ctx)
        check_vector("offset", a["offset"], shape[-1], "the last axis", ctx)
        return LayerResult(shape)


def keras_axes(value: Any) -> tuple[int, ...]:
    """Normalization's axis: an int, a list of them, or null (one mean and variance for everything)."""
    if value is None:
        return ()
    if is_int(value):
        return (value,)
    if isinstance(value, list) and all(is_int(v) for v in value):
        return tuple(value)
    raise BadValue("an axis number, a list of them, or null (-1 is the last axis, 0 the batch)")


def array_shape(value: Any) -> tuple[int, ...]:
    """The shape of a number (()) or of nested lists of numbers, as numpy would see it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ()
    if isinstance(value, list) and value:
        inner = [array_shape(v) for v in value]
        if all(s == inner[0] for s in inner):
            return (len(value), *inner[0])
    raise BadValue("a number or a (nested) list of numbers, with rows of equal length")


@register
class Normalization(LayerKind):
    name = "Normalization"
    cost = Cost.NORM
    example = "{}"
    doc = ("Normalises with a mean and variance per position of the kept `axis` (Keras, default the last). "
           "Given `mean` and `variance`: no weights. Otherwise (to be adapted): mean, variance and a count, "
           "all non-trainable.")
    args = (Arg("axis", keras_axes, -1), Arg("mean", optional(array_shape), None),
            Arg("variance", optional(array_shape), None), Arg("invert", boolean, False))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        kept = kept_axes(a["axis"], shape, ctx)
        mean, variance = a["mean"], a["variance"]
        if (mean is None) != (variance is None):
            given = "mean" if mean is not None else "variance"
            raise ctx.arg_error(given, "is given without the other: Keras needs `mean` and `variance` together",
                                "give both (then the layer has no weights), or neither (to adapt it).")
        if mean is None:
            size = Q.of(Q.product(Q.of(shape[i]) for i in kept).value, "kept") if kept else Q.of(1)
            frozen = Q.of(2) * size + 1  # the mean and the variance of each kept position, and one count
            return LayerResult(shape, ZERO, frozen)
        check_statistics(mean, variance, [shape[i] for i in kept], ctx)
        return LayerResult(shape)


def kept_axes(axes: tuple[int, ...], shape: Shape, ctx: Context) -> list[int]:
    """Keras axes (batch = 0) -> sorted indexes into the batch-less shape; the batch has no known size."""
    rank = len(shape) + 1
    found: list[int] = []
    for axis in axes:
        index = axis + rank if axis < 0 else axis
        if not 0 <= index < rank:
            raise ctx.arg_error("axis", f"is {axis}, outside the input's axes -{rank}..{rank - 1}",
                                "pick an axis of the input (-1 is the last).")
        if index == 0:
            raise ctx.arg_error("axis", f"is {axis}, the batch axis, whose size Keras does not know",
                                "keep a feature axis (-1, the default, is the last).")
        if index - 1 in found:
            raise ctx.arg_error("axis", f"names axis {index} twice", "list each axis once.")
        found.append(index - 1)
    return sorted(found)


def check_statistics(mean: tuple[int, ...], variance: tuple[int, ...], kept: list[int], ctx: Context) -> None:
    """Keras lines the given mean and variance up with the kept axes from the right, then broadcasts."""
    if mean != variance:
        raise ctx.arg_error("variance", f"has shape {list(variance)} but `mean` has {list(mean)}",
                            "give mean and variance the same shape.")
    if len(mean) > len(kept):
        dims = f"{len(mean)} dimension" + ("s" if len(mean) > 1 else "")
        raise ctx.arg_error("mean", f"has {dims} but {len(kept)} of the input's axes are kept (`axis`)",
                            "give one value, or one per position of the kept axes.")
    for got, size in zip(reversed(mean), reversed(kept)):
        if got not in (1, size):
            raise ctx.arg_error("mean", f"has shape {list(mean)}, which does not fit the kept axes of sizes "
                                f"{list(kept)}", f"give one value, or {size} along that axis.")


# ---- images: crops and resizing --------------------------------------------------------------------


def check_image(shape: Shape, ctx: Context, keeps_shape: bool) -> None:
    """Keras's image layers take a batch of images (H, W, C); a 2-D input (a rank-3 tensor) they read
    as one image without a batch, whose height is the batch axis."""
    if len(shape) == 3 or (len(shape) == 2 and keeps_shape):
        return
    if len(shape) == 2:
        raise ctx.fail(f"gets {format_shape(shape)}: with the batch that is a rank-3 tensor, which Keras reads as "
                       "one image without a batch, its height being the batch axis, and the output loses the batch",
                       "give it images, (height, width, channels) after the batch (e.g. with Reshape).")
    raise ctx.fail(f"expects images, (height, width, channels) after the batch, but gets {format_shape(shape)}",
                   "give it a 3-D input (use Reshape).")


def resized(a: dict[str, Any], shape: Shape, ctx: Context) -> Shape:
    check_image(shape, ctx, keeps_shape=False)
    _, channels = ctx.split_channels(shape, 2)
    return ctx.join_channels((a["height"], a["width"]), channels)


@register
class CenterCrop(LayerKind):
    name = "CenterCrop"
    cost = Cost.RESHAPE
    spatial = True
    example = "{height: 5, width: 4}"
    doc = ("Crops the centre of each image to height x width (Keras); an image smaller than that is cropped to "
           "the aspect ratio and resized.")
    args = (Arg("height", positive), Arg("width", positive), DATA_FORMAT)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        return LayerResult(resized(a, shape, ctx))


@register
class RandomCrop(LayerKind):
    name = "RandomCrop"
    cost = Cost.RESHAPE
    spatial = True
    example = "{height: 5, width: 4}"
    doc = ("Crops each image to height x width at random while training (Keras): the shape Keras declares and "
           "builds the next layers on (Keras 3.15 returns the input unchanged at inference, against its docs).")
    args = (Arg("height", positive), Arg("width", positive), Arg("seed", anything, None), DATA_FORMAT)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        return LayerResult(resized(a, shape, ctx))


@register
class Resizing(LayerKind):
    name = "Resizing"
    cost = Cost.UPSAMPLE
    spatial = True
    example = "{height: 5, width: 4}"
    doc = "Resizes each image to height x width by interpolation (Keras); no weights."
    args = (Arg("height", positive), Arg("width", positive),
            Arg("interpolation", choice("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic"), "bilinear"),
            Arg("crop_to_aspect_ratio", boolean, False), Arg("pad_to_aspect_ratio", boolean, False),
            Arg("fill_mode", anything, "constant"), Arg("fill_value", anything, 0.0),
            Arg("antialias", boolean, False), DATA_FORMAT)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if a["crop_to_aspect_ratio"] and a["pad_to_aspect_ratio"]:
            raise ctx.arg_error("pad_to_aspect_ratio", "and crop_to_aspect_ratio cannot both be true",
                                "keep the aspect ratio by cropping or by padding, not both.")
        out = resized(a, shape, ctx)
        return LayerResult(out, ops={UPSAMPLE: elements(out)})


# ---- random augmentations: the identity at inference -----------------------------------------------


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def span_factor(lower: float, upper: float) -> Any:
    """Keras's base rule for `factor`: a number in [lower, upper], or two numbers [a, b] with a <= upper
    and b >= lower (only those two ends are checked)."""
    what = f"a number in [{lower}, {upper}], or a list of two numbers that overlaps that range"

    def parse(value: Any) -> Any:
        if _is_number(value) and lower <= value <= upper:
            return value
        if (isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)
                and value[0] <= upper and value[1] >= lower):
            return tuple(value)
        raise BadValue(what)

    return parse


def each_factor(lower: float, upper: float, closed_below: bool) -> Any:
    """RandomZoom's and RandomTranslation's rule: a number, or a list of two, each within the range."""
    bracket = "[" if closed_below else "("
    what = f"a number in {bracket}{lower}, {upper}], or a list of two such numbers"

    def inside(v: Any) -> bool:
        return _is_number(v) and (lower <= v if closed_below else lower < v) and v <= upper

    def parse(value: Any) -> Any:
        if inside(value):
            return value
        if isinstance(value, list) and len(value) == 2 and all(inside(v) for v in value):
            return tuple(value)
        raise BadValue(what)

    return parse


def value_range(value: Any) -> tuple[Any, Any]:
    if isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value):
        return value[0], value[1]
    raise BadValue("a list of two numbers, the range of the input values", "[0, 255]")


FILL_MODE = Arg("fill_mode", choice("reflect", "wrap", "constant", "nearest"), "reflect")
INTERPOLATION = Arg("interpolation", choice("nearest", "bilinear"), "bilinear")
SEED = Arg("seed", anything, None)


class Augmentation(LayerKind):
    """Random while training, the identity at inference: same shape, no weights."""

    cost = Cost.DROPOUT

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        check_image(shape, ctx, keeps_shape=True)
        return LayerResult(shape)


def _augmentation(name: str, doc: str, example: str, *args: Arg) -> type[LayerKind]:
    attrs = {"name": name, "doc": doc, "example": example, "args": (*args, DATA_FORMAT), "__module__": __name__}
    return register(type(name, (Augmentation,), attrs))


_IDENTITY = "; the identity at inference (same shape, no weights)."
_augmentation("RandomFlip", "Flips images at random while training (Keras)" + _IDENTITY, "{mode: horizontal}",
              Arg("mode", text, "horizontal_and_vertical"), SEED)
_augmentation("RandomRotation", "Rotates images at random while training (Keras)" + _IDENTITY, "{factor: 0.1}",
              Arg("factor", span_factor(-1, 1)), FILL_MODE, INTERPOLATION, SEED, Arg("fill_value", number, 0.0))
_augmentation("RandomZoom", "Zooms images at random while training (Keras)" + _IDENTITY, "{height_factor: 0.2}",
              Arg("height_factor", each_factor(-1, 1, closed_below=False)),
              Arg("width_factor", optional(each_factor(-1, 1, closed_below=False)), None),
              FILL_MODE, INTERPOLATION, SEED, Arg("fill_value", number, 0.0))
_augmentation("RandomTranslation", "Shifts images at random while training (Keras)" + _IDENTITY,
              "{height_factor: 0.1, width_factor: 0.1}",
              Arg("height_factor", each_factor(-1, 1, closed_below=True)),
              Arg("width_factor", each_factor(-1, 1, closed_below=True)),
              FILL_MODE, INTERPOLATION, SEED, Arg("fill_value", number, 0.0))
_augmentation("RandomContrast", "Changes the contrast at random while training (Keras)" + _IDENTITY,
              "{factor: 0.2}", Arg("factor", span_factor(0, 1)), Arg("value_range", anything, [0, 255]), SEED)
_augmentation("RandomBrightness", "Changes the brightness at random while training (Keras)" + _IDENTITY,
              "{factor: 0.2}", Arg("factor", span_factor(-1, 1)), Arg("value_range", value_range, [0, 255]), SEED)
