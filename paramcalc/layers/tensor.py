"""Tensor operations of model code that are not framework layers, so that a spec can follow a model's
`forward` line by line: splitting into pieces (torch.split, torch.chunk, torch.unbind: several outputs,
read as `name[k]`), a learnable tensor (nn.Parameter), a mean over axes (x.mean([2, 3])) and picking
one position (torch.select, `x[:, 0]`), a strided slice (`x[:, :, ::2, ::2]`) and F.pad.

They follow PyTorch, whose `dim` counts the batch as axis 0 (torch.chunk(x, 2, dim=1) splits the
channels of an (N, C, H, W) map; -1 is the last axis). A spec's shapes leave the batch out, so dim 0
is refused where PyTorch would act on the batch. None has multiply-accumulates."""

from __future__ import annotations

from typing import Any

from paramcalc.layers import sym
from paramcalc.layers.args import Arg, BadValue, boolean, choice, integer, is_int, optional, positive, typed
from paramcalc.layers.base import Context, Derivation, LayerKind, LayerResult, Shape, format_shape, trainable_split
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.registry import register
from paramcalc.layers.traits import Cost, Saves

PIECE_SIZE, PIECES, VALUES_AVERAGED = "piece size", "pieces", "values averaged"
PRODUCTS = "matrix product MACs"
MAX_OUTPUTS = 10_000  # outputs of one layer: more is no model, and each is a name to keep and a shape to show


def dim_value(value: Any) -> int:
    if not is_int(value):
        raise BadValue("an axis number, counted as PyTorch does (the batch is 0, -1 the last axis)", "1")
    return value


def dims_value(value: Any) -> tuple[int, ...]:
    if is_int(value):
        return (value,)
    if isinstance(value, list) and value and all(is_int(v) for v in value):
        return tuple(value)
    raise BadValue("an axis number or a list of them, counted as PyTorch does (the batch is 0)", "[2, 3]")


def sizes_value(value: Any) -> int | tuple[int, ...]:
    """torch.split's split_size_or_sections: one piece size, or the size of every piece."""
    if is_int(value) and value >= 1:
        return value
    if isinstance(value, list) and value and all(is_int(v) and v >= 1 for v in value):
        return tuple(value)
    raise BadValue("a positive piece size, or a list of positive piece sizes", "2")


def shape_value(value: Any) -> tuple[int, ...]:
    if is_int(value) and value >= 1:
        return (value,)
    if isinstance(value, list) and value and all(is_int(v) and v >= 1 for v in value):
        return tuple(value)
    raise BadValue("a list of positive integers (the tensor's shape)", "[96, 1, 1]")


DIM = Arg("dim", dim_value, doc="the axis, the batch being 0 as in PyTorch (1: channels of (N, C, H, W))")


def axis_index(dim: int, shape: Shape, ctx: Context, arg: str = "dim") -> int:
    """PyTorch's `dim` (batch 0, negatives from the end) -> an index into the batch-less shape."""
    rank = len(shape) + 1
    index = dim + rank if dim < 0 else dim
    if index == 0:
        raise ctx.arg_error(arg, f"is {dim}, the batch axis, which a spec's shapes leave out",
                            f"pick an axis of the input {format_shape(shape)}: 1..{rank - 1} (or -1..-{rank - 1}).")
    if not 0 < index < rank:
        raise ctx.arg_error(arg, f"is {dim}, outside the input's axes 1..{rank - 1} (or -1..-{rank - 1}) of "
                            f"{format_shape((None, *shape))}", "pick an axis of the input.")
    return index - 1


def concrete(n: Any, index: int, shape: Shape, ctx: Context) -> int:
    """How many pieces there are must be a number: a free input dimension cannot be split."""
    if sym.is_symbolic(n):
        raise ctx.fail(f"cannot split axis {index + 1} of {format_shape(shape)}: its size depends on free dimensions, "
                       "so the number of pieces is unknown", "give the input dimensions values (--set H=224).", "dim")
    return int(n)


def check_count(count: int, index: int, shape: Shape, ctx: Context, arg: str) -> None:
    if count > MAX_OUTPUTS:
        raise ctx.fail(f"would make {count:,} outputs from axis {index + 1} of {format_shape(shape)}, more than the "
                       f"limit of {MAX_OUTPUTS:,}", "split into fewer, larger pieces.", arg)


def piece_sizes(n: int, size: int, index: int, shape: Shape, ctx: Context, arg: str) -> list[int]:
    """Pieces of `size` along an axis of `n`, the last one smaller (torch.split, torch.chunk)."""
    check_count(-(-n // size), index, shape, ctx, arg)
    return [size] * (n // size) + ([n % size] if n % size else [])


def pieces(shape: Shape, index: int, sizes: list[int], steps: tuple[Derivation, ...] = ()) -> LayerResult:
    """The pieces along axis `index`: peers, so a spec names the one it reads (`name[k]`)."""
    shapes = [(*shape[:index], size, *shape[index + 1:]) for size in sizes]
    return LayerResult(shapes[0], steps=steps, extra_outputs=tuple(shapes[1:]), main_output=False)


@register
class Split(LayerKind):
    name = "Split"
    view = True  # PyTorch returns views of the input
    cost = Cost.RESHAPE
    framework = "torch"
    doc = ("torch.split: pieces of `split_size_or_sections` along `dim` (the last one smaller), or of each listed "
           "size; read piece k as `name[k]`.")
    example = "{split_size_or_sections: [1, 3], dim: 1}"
    args = (Arg("split_size_or_sections", sizes_value), DIM)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        index = axis_index(a["dim"], shape, ctx)
        n = concrete(shape[index], index, shape, ctx)
        wanted = a["split_size_or_sections"]
        if isinstance(wanted, tuple):
            if sum(wanted) != n:
                raise ctx.arg_error("split_size_or_sections", f"{list(wanted)} adds up to {sum(wanted)}, but axis "
                                    f"{index + 1} of {format_shape(shape)} has {n}",
                                    f"give sizes that add up to {n}, or one piece size.")
            return pieces(shape, index, list(wanted))
        count = Q.of(n, "N").ceildiv(Q.of(wanted, "split_size"))
        sizes = piece_sizes(n, wanted, index, shape, ctx, "split_size_or_sections")
        return pieces(shape, index, sizes, (Derivation(PIECES, count),))


@register
class Chunk(LayerKind):
    name = "Chunk"
    view = True  # PyTorch returns views of the input
    cost = Cost.RESHAPE
    framework = "torch"
    doc = ("torch.chunk: `chunks` pieces of ceil(N/chunks) along `dim` (the last smaller; fewer pieces when the "
           "size leaves none for the last); read piece k as `name[k]`.")
    example = "{chunks: 2, dim: 1}"
    args = (Arg("chunks", positive), DIM)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        index = axis_index(a["dim"], shape, ctx)
        n = concrete(shape[index], index, shape, ctx)
        size = Q.of(n, "N").ceildiv(Q.of(a["chunks"], "chunks"))
        sizes = piece_sizes(n, size.value, index, shape, ctx, "chunks")
        return pieces(shape, index, sizes, (Derivation(PIECE_SIZE, size),))


@register
class Unbind(LayerKind):
    name = "Unbind"
    view = True  # PyTorch returns views of the input
    cost = Cost.RESHAPE
    framework = "torch"
    doc = "torch.unbind: one output per position along `dim`, without that axis; read output k as `name[k]`."
    example = "{dim: 1}"
    args = (DIM,)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        index = axis_index(a["dim"], shape, ctx)
        n = concrete(shape[index], index, shape, ctx)
        check_count(n, index, shape, ctx, "dim")
        one = (*shape[:index], *shape[index + 1:])
        return LayerResult(one, extra_outputs=(one,) * (n - 1), main_output=False)


@register
class Parameter(LayerKind):
    name = "Parameter"
    cost = Cost.RESHAPE
    framework = "torch"
    no_input = True
    doc = ("A learnable tensor of `shape` (nn.Parameter), read by the layers that use it (a Multiply broadcasts it); "
           "it reads no input. Write the shape without a leading batch-like 1.")
    example = "{shape: [4, 1, 1]}"
    args = (Arg("shape", shape_value), Arg("requires_grad", boolean, True, "false: non-trainable"),
            Arg("trainable", boolean, True, "false: non-trainable"))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        values = Q.product(Q.of(d) for d in a["shape"])
        trainable, frozen = trainable_split(values, ZERO, {"trainable": a["trainable"] and a["requires_grad"]})
        return LayerResult(a["shape"], trainable, frozen)


@register
class Mean(LayerKind):
    name = "Mean"
    saves = Saves.NOTHING  # the backward pass needs only the input's size
    cost = Cost.POOL
    framework = "torch"
    doc = "x.mean(dim, keepdim): averages over the axes `dim` (the batch is 0), which go away unless keepdim."
    example = "{dim: [2, 3]}"
    args = (Arg("dim", dims_value), Arg("keepdim", boolean, False))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        indexes = [axis_index(d, shape, ctx) for d in a["dim"]]
        repeated = sorted({i for i in indexes if indexes.count(i) > 1})
        if repeated:
            raise ctx.arg_error("dim", f"names axis {repeated[0] + 1} twice", "list each axis once.")
        if a["keepdim"]:
            out = tuple(1 if i in indexes else d for i, d in enumerate(shape))
        else:
            out = tuple(d for i, d in enumerate(shape) if i not in indexes)
        averaged = Q.product(Q.of(shape[i]) for i in sorted(indexes))
        return LayerResult(out, steps=(Derivation(VALUES_AVERAGED, averaged),))


def select(shape: Shape, index: int, position: int, ctx: Context) -> LayerResult:
    n = shape[index]
    sym.note_at_least(n, position + 1 if position >= 0 else -position)  # a sweep checks what is skipped here
    if not sym.is_symbolic(n) and not -n <= position < n:
        raise ctx.arg_error("index", f"is {position}, outside axis {index + 1} of {format_shape(shape)}, which has "
                            f"{n} positions", f"pick 0..{n - 1} (or -1..-{n} from the end).")
    return LayerResult((*shape[:index], *shape[index + 1:]))


@register
class Select(LayerKind):
    name = "Select"
    view = True  # PyTorch returns views of the input
    cost = Cost.RESHAPE
    framework = "torch"
    doc = "torch.select(x, dim, index), `x[:, index]` for dim 1: the values at one position of `dim`, which goes away."
    example = "{dim: 1, index: 0}"
    args = (DIM, Arg("index", dim_value))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        return select(shape, axis_index(a["dim"], shape, ctx), a["index"], ctx)


@register
class SelectToken(LayerKind):
    name = "SelectToken"
    view = True  # PyTorch returns views of the input
    cost = Cost.RESHAPE
    framework = "torch"
    doc = ("`x[:, index]` on a sequence (N, T, D): the vector at position `index` (0: a class token, -1: the last); "
           "the sequence axis goes away.")
    example = "{index: 0}"
    example_rank = 1
    args = (Arg("index", dim_value, 0),)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if len(shape) < 2:
            raise ctx.fail(f"needs a sequence (positions, features) but gets {format_shape(shape)}",
                           "give it a sequence, e.g. the output of a transformer block (Select picks along any axis).")
        return select(shape, 0, a["index"], ctx)


# -- slicing and padding: `x[:, :, ::2, ::2]` and F.pad (the original ResNet's option-A shortcut pads the
# new channels with zeros: F.pad(x, (0, 0, 0, 0, p, p))); F.pad's `pad` lists (before, after) pairs
# from the last axis backwards. -----------------------------------------------------------------------

def known(n: Any, index: int, shape: Shape, ctx: Context, arg: str) -> int:
    if sym.is_symbolic(n):
        raise ctx.fail(f"cannot cut axis {index + 1} of {format_shape(shape)} from its end: its size depends on "
                       "free dimensions", "give the input dimensions values (--set H=224).", arg)
    return int(n)


def slice_length(n: int, start: int | None, end: int | None, step: int) -> int:
    """len(range(n)[start:end:step]) for step >= 1 in plain integer arithmetic: Python's own
    slice.indices needs sizes that fit a C integer, and a spec's sizes may not."""
    def clip(i: int | None, default: int) -> int:
        if i is None:
            return default
        return max(i + n, 0) if i < 0 else min(i, n)

    return max(0, -(-(clip(end, n) - clip(start, 0)) // step))


def kept(n: Any, start: int | None, end: int | None, step: int, index: int, shape: Shape, ctx: Context) -> Any:
    """Positions `n[start:end:step]` keeps; of a free dimension n when only a start of 0 or more is given."""
    if not sym.is_symbolic(n):
        return slice_length(int(n), start, end, step)
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


@register
class MatMul(LayerKind):
    """torch.matmul(a, b) of two activations (attention's q @ k^T and weights @ v, as ONNX exports them).
    A spec's shapes leave the batch out, so both inputs have at least 2 axes besides it: the last two
    are multiplied as matrices, the ones before broadcast as in NumPy."""

    name = "MatMul"
    cost = Cost.ATTENTION
    framework = "torch"
    multi_input = True
    saves = Saves.INPUT
    doc = ("torch.matmul(a, b) of two inputs [a, b], no params: (..., n, k) @ (..., k, m) -> (..., n, m), the "
           "leading axes broadcast as in NumPy; MACs = output values x k.")
    example_inputs = 2

    @classmethod
    def example_spec(cls) -> str:
        return ("name: example\ndata_format: channels_first\ninputs: {a: [2, 5, 8], b: [2, 8, 5]}\nlayers:\n"
                "  - MatMul: {inputs: [a, b]}\n")

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        if len(shapes) != 2:
            raise ctx.fail(f"needs exactly 2 inputs [a, b]; got {len(shapes)}", "list them in `inputs: [a, b]`.")
        left, right = shapes
        described = " and ".join(f"`{n}` {format_shape(s)}" for n, s in zip(names, shapes))
        if len(left) < 2 or len(right) < 2:
            raise ctx.fail(f"needs two inputs with at least 2 axes besides the batch; got {described}",
                           "reshape them to (..., n, k) and (..., k, m).")
        if sym.certainly_different(left[-1], right[-2]):
            raise ctx.fail(f"cannot multiply {described}: the first's last axis must equal the second's "
                           "next-to-last (the contracted size)", "transpose one of them (Permute).")
        leading = broadcast_leading(tuple(left[:-2]), tuple(right[:-2]))
        if leading is None:
            raise ctx.fail(f"cannot multiply {described}: the leading axes do not broadcast",
                           "make them equal, or 1 where one should stretch.")
        out = (*leading, left[-2], right[-1])
        values = Q.product(Q.of(n) for n in out)
        macs = values * Q.of(left[-1], "contracted")
        return LayerResult(out, ZERO, ZERO, macs, (Derivation(PRODUCTS, macs),))


def broadcast_leading(left: Shape, right: Shape) -> Shape | None:
    """NumPy broadcasting of two shapes (lined up from the last axis; a 1 or a missing axis stretches),
    or None when two sizes clash."""
    rank = max(len(left), len(right))
    out = []
    for i in range(-rank, 0):
        sizes = [s[i] for s in (left, right) if len(s) >= -i and s[i] != 1]
        if len(sizes) == 2 and sym.certainly_different(sizes[0], sizes[1]):
            return None
        out.append(sizes[0] if sizes else 1)
    return tuple(out)
