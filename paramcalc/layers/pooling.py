"""Pooling: windowed (Keras and PyTorch rules), global, and PyTorch's adaptive pooling. No weights.

Pooling does comparisons or additions, not multiply-accumulates, so its MACs are 0.
"""

from __future__ import annotations

from typing import Any, ClassVar

from paramcalc.layers import sym
from paramcalc.layers.args import Arg, boolean, int_or_none_list, ints, optional, padding
from paramcalc.layers.base import Context, Derivation, LayerKind, LayerResult, Shape, output_label
from paramcalc.layers.formula import Q
from paramcalc.layers.ops import AVG_POOL_OUTPUT, GLOBAL_AVG_POOL_2D, POOL_INPUT, POOL_WINDOW, elements
from paramcalc.layers.registry import define_ranked
from paramcalc.layers.shapes import DATA_FORMAT, Floor, dim_names, floor_warning, window_length
from paramcalc.layers.traits import Cost, Saves


def window_result(shape: Shape, ctx: Context, rank: int, lengths_of: Any, window: int = 1,
                  average: bool = False) -> LayerResult:
    """Apply `lengths_of(i, n, floors)` to each spatial dim; warn once about floored divisions."""
    spatial, channels = ctx.split_channels(shape, rank)
    lengths: list[Q] = []
    floors: list[Floor] = []
    for i, (n, dim) in enumerate(zip(spatial, dim_names(rank))):
        q = lengths_of(i, n, dim, floors)
        if sym.certainly_below(q.value, 1):
            raise ctx.fail(f"the output {dim} would be {q.render(True)} = {q.render()} = {q.value}: the pooling "
                           f"window is larger than the input {dim} ({n})",
                           "use a smaller pool_size / kernel_size, or give a larger input.")
        lengths.append(q)
    if floors:
        ctx.warn(floor_warning(floors))
    out = ctx.join_channels(tuple(q.value for q in lengths), channels)
    ops = {POOL_WINDOW: elements(out) * window, POOL_INPUT: elements(shape)}
    if average:
        ops[AVG_POOL_OUTPUT] = elements(out)
    return LayerResult(out, steps=tuple(Derivation(output_label(d), q) for d, q in zip(dim_names(rank), lengths)),
                       ops=ops)


def window_saves(cls: type[LayerKind], a: Any) -> Saves:
    """Max pooling keeps its input and the int64 index of each maximum; average pooling its input."""
    return Saves.INPUT_AND_INDICES if "Max" in cls.name else Saves.INPUT


class KerasPooling(LayerKind):
    rank: ClassVar[int]
    cost = Cost.POOL
    saves_of = classmethod(window_saves)  # type: ignore[assignment]
    example = "{pool_size: 2}"
    doc = "Pooling (Keras): 'valid' gives floor((N - F)/S) + 1, 'same' gives ceil(N/S); strides default to pool_size."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        # Keras 3 gives MaxPooling a default pool_size of 2; AveragePooling has none and needs one.
        pool_size = Arg("pool_size", ints(cls.rank)) if "Average" in cls.name else Arg("pool_size", ints(cls.rank), 2)
        return (pool_size, Arg("strides", optional(ints(cls.rank)), None),
                Arg("padding", padding(cls.rank, ("valid", "same")), "valid"), DATA_FORMAT)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        pool, pad = a["pool_size"], a["padding"]
        strides = a["strides"] or pool

        def length(i: int, n: int, dim: str, floors: list[Floor]) -> Q:
            return window_length(n, pool[i], strides[i], 1, pad if isinstance(pad, str) else pad[i], dim, floors)

        return window_result(shape, ctx, cls.rank, length, elements(pool), "Average" in cls.name)


class TorchPooling(LayerKind):
    rank: ClassVar[int]
    cost = Cost.POOL
    saves_of = classmethod(window_saves)  # type: ignore[assignment]
    example = "{kernel_size: 3, stride: 2, ceil_mode: true}"
    framework = "torch"
    average: ClassVar[bool] = False
    doc = "Pooling (PyTorch): explicit padding, stride defaults to kernel_size, optional ceil_mode."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        r = cls.rank
        common = (Arg("kernel_size", ints(r)), Arg("stride", optional(ints(r)), None),
                  Arg("padding", ints(r, 0), 0), Arg("ceil_mode", boolean, False))
        if cls.average:
            average = (*common, Arg("count_include_pad", boolean, True))
            # AvgPool1d has no divisor_override (PyTorch refuses the keyword); 2-D and 3-D have it.
            return average if r == 1 else (*average, Arg("divisor_override", optional(ints(1)), None))
        return (*common, Arg("dilation", ints(r), 1), Arg("return_indices", boolean, False))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        kernel, pads = a["kernel_size"], a["padding"]
        stride = a["stride"] or kernel
        dilation = a.get("dilation") or (1,) * cls.rank
        for f, p, d in zip(kernel, pads, dilation):
            if 2 * p > (d * (f - 1) + 1 if not cls.average else f):
                raise ctx.arg_error("padding", f"must be at most half of the kernel; got padding={list(pads)} "
                                    f"for kernel_size={list(kernel)}", "lower the padding.")
        if cls.average and cls.rank == 3:
            check_avg_pool3d_input(shape, kernel, ctx)

        def length(i: int, n: int, dim: str, floors: list[Floor]) -> Q:
            return window_length(n, kernel[i], stride[i], dilation[i], (pads[i], pads[i]), dim, floors,
                                 a["ceil_mode"])

        return window_result(shape, ctx, cls.rank, length, elements(kernel), cls.average)


def check_avg_pool3d_input(shape: Shape, kernel: Shape, ctx: Context) -> None:
    """PyTorch's AvgPool3d (unlike the 1-D and 2-D ones) needs the input itself, padding aside, to
    be at least as large as the kernel on every axis."""
    spatial, _ = ctx.split_channels(shape, 3)
    if any(sym.certainly_below(n, f) for n, f in zip(spatial, kernel)):
        sizes = " x ".join(str(n) for n in spatial)
        raise ctx.fail(f"the input ({sizes}) is smaller than the kernel ({' x '.join(map(str, kernel))}) on some "
                       "axis; PyTorch's AvgPool3d refuses that even with padding or ceil_mode",
                       "use a smaller kernel_size, or give a larger input.", "kernel_size")


class GlobalPooling(LayerKind):
    rank: ClassVar[int]
    cost = Cost.POOL
    doc = "Global pooling (Keras): one value per channel."
    args = (DATA_FORMAT, Arg("keepdims", boolean, False))

    @classmethod
    def saves_of(cls, args: Any) -> Saves:
        """A mean needs only the input's size; a maximum (amax) keeps its input and output."""
        return Saves.NOTHING if "Average" in cls.name else Saves.INPUT_AND_OUTPUT

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        _, channels = ctx.split_channels(shape, cls.rank)
        out = ctx.join_channels((1,) * cls.rank, channels) if a["keepdims"] else (channels,)
        return LayerResult(out, ops=pool_all_ops(shape, cls.rank, "Average" in cls.name))


class AdaptivePooling(LayerKind):
    rank: ClassVar[int]
    cost = Cost.POOL
    example = "{output_size: 2}"
    framework = "torch"
    doc = "Adaptive pooling (PyTorch): the output size is given; null keeps that input size."

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        return (Arg("output_size", int_or_none_list(cls.rank)), Arg("return_indices", boolean, False))

    @classmethod
    def saves_of(cls, args: Any) -> Saves:
        """PyTorch runs an adaptive average to size 1 as a mean, which keeps nothing."""
        if "Max" in cls.name:
            return Saves.INPUT_AND_INDICES
        size = args.get("output_size")
        ones = size == 1 or (isinstance(size, (list, tuple)) and all(s == 1 for s in size))
        return Saves.NOTHING if ones else Saves.INPUT

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        spatial, channels = ctx.split_channels(shape, cls.rank)
        out = tuple(n if o is None else o for n, o in zip(spatial, a["output_size"]))
        return LayerResult(ctx.join_channels(out, channels), ops=pool_all_ops(shape, cls.rank, "Avg" in cls.name))


def pool_all_ops(shape: Shape, rank: int, average: bool) -> dict[str, Any]:
    """Global and adaptive pooling read every input value once."""
    ops = {POOL_INPUT: elements(shape), POOL_WINDOW: elements(shape)}
    if average and rank == 2:
        ops[GLOBAL_AVG_POOL_2D] = elements(shape)
    return ops


for _r in (1, 2, 3):
    define_ranked(KerasPooling, f"MaxPooling{_r}D", _r)
    define_ranked(KerasPooling, f"AveragePooling{_r}D", _r)
    define_ranked(TorchPooling, f"MaxPool{_r}d", _r)
    define_ranked(TorchPooling, f"AvgPool{_r}d", _r, average=True)
    define_ranked(GlobalPooling, f"GlobalAveragePooling{_r}D", _r)
    define_ranked(GlobalPooling, f"GlobalMaxPooling{_r}D", _r)
    define_ranked(AdaptivePooling, f"AdaptiveAvgPool{_r}d", _r)
    define_ranked(AdaptivePooling, f"AdaptiveMaxPool{_r}d", _r)
