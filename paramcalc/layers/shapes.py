"""Output-length rules of sliding windows (conv, pooling, transposed conv) as explainable `Q`s,
and the other helpers the layer families share (they never import one another).

Pure functions over ints. Where a framework floors an inexact division, the number of input
rows or columns that no window covers is returned so the caller can warn about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from paramcalc.errors import ArgumentError, ParamcalcError
from paramcalc.layers import sym
from paramcalc.layers.args import Arg, BlockItem, LayerItem, choice, optional
from paramcalc.layers.base import Context, LayerKind, LayerResult, Shape, format_shape
from paramcalc.layers.formula import Q
from paramcalc.layers.registry import lookup

Pads = tuple[int, int]  # zeros added (before, after) along one dimension


def effective_kernel(f: int, d: int) -> Q:
    """The span of a dilated kernel, D x (F - 1) + 1 (just F without dilation)."""
    return Q.of(f, "F") if d == 1 else Q.of(d, "D") * (Q.of(f, "F") - 1) + 1


def pad_total(pads: Pads) -> Q:
    before, after = pads
    return Q.of(before + after, "2P" if before == after else "P1 + P2")


def sliding(n: int, f: int, s: int, d: int = 1, pads: Pads = (0, 0)) -> tuple[Q, int]:
    """floor((N + 2P - D(F - 1) - 1)/S) + 1, written (N - F + 2P)/S + 1; also the rows dropped."""
    span = Q.of(n, "N") - effective_kernel(f, d) + pad_total(pads)
    out = span.floordiv(Q.of(s, "S")) + 1
    return out, sym.remainder(span.value, s, guard=False)  # (only warned about)


def sliding_ceil(n: int, f: int, s: int, d: int, pads: Pads) -> Q:
    """PyTorch pooling with ceil_mode: ceil((N - F + 2P)/S) + 1 windows, except that the last one must
    start inside the input or the left padding ((out - 1) x S < N + P1), else PyTorch drops it.

    Whether that can happen depends only on the arguments, not on N: with K = D(F - 1) + 1, the last
    ceil window starts at ceil((N + P1 + P2 - K)/S) x S - P1 <= N + P2 - K + S - 1, inside the input
    whenever K >= P2 + S. Otherwise the count is min(ceil count, (N + P1 - 1)/S + 1), the windows
    starting before N + P1, and that second term is the smaller for every N (its numerator
    N + P1 - 1 is at most the ceil's N + P1 + P2 - K + S - 1 exactly when K < P2 + S). So each
    case is one closed form, the same for ints and for free dimensions."""
    kernel = effective_kernel(f, d)
    if kernel.value >= pads[1] + s:
        span = Q.of(n, "N") - kernel + pad_total(pads)
        return span.ceildiv(Q.of(s, "S")) + 1
    starts = Q.of(n, "N") + Q.of(pads[0], "P") - 1
    return starts.floordiv(Q.of(s, "S")) + 1


def same(n: int, s: int) -> Q:
    """Keras 'same' padding: ceil(N/S), whatever the kernel and dilation."""
    return Q.of(n, "N").ceildiv(Q.of(s, "S"))


def keras_transpose(n: int, f: int, s: int, d: int, padding: str, output_padding: int | None) -> Q:
    """Keras Conv*DTranspose output length (keras.src.utils ... conv_transpose_output_length)."""
    kernel = effective_kernel(f, d)
    N, S = Q.of(n, "N"), Q.of(s, "S")
    if output_padding is None:
        if padding == "valid":
            return N * S + Q.maximum(kernel - S, 0)
        return N * S
    pad = Q.of(kernel.value // 2 if padding == "same" else 0, "P")
    return (N - 1) * S + kernel - 2 * pad + Q.of(output_padding, "OP")


def torch_transpose(n: int, f: int, s: int, d: int, pads: Pads, output_padding: int) -> Q:
    """PyTorch ConvTranspose: (N - 1) x S - 2P + D x (F - 1) + OP + 1."""
    return ((Q.of(n, "N") - 1) * Q.of(s, "S") - pad_total(pads) + effective_kernel(f, d)
            + Q.of(output_padding, "OP"))


def exact_ratio(q: Q) -> str:
    """The unfloored value of a `(...)/S + 1` expression, e.g. '54.25', for warnings (ints only)."""
    span, stride = q.args[0].args[0].value, q.args[0].args[1].value
    hundredths = span * 100 // stride + 100
    whole, frac = divmod(hundredths, 100)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".") + ("..." if span * 100 % stride else "")


DIM_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
DROP_UNITS = {"length": "step", "depth": "slice", "height": "row", "width": "column"}


def dim_names(rank: int) -> tuple[str, ...]:
    return DIM_NAMES.get(rank, tuple(f"dim {i + 1}" for i in range(rank)))


# ---- shared by the families -----------------------------------------------------------------------

# A layer's own data format (Keras): overrides the spec's for that layer (the engine reads it).
DATA_FORMAT = Arg("data_format", optional(choice("channels_last", "channels_first")), None)

Floor = tuple[str, Q, int]  # (dimension name, output length, input rows/columns dropped)


def window_length(n: int, f: int, s: int, d: int, padding: str | Pads, dim: str, floors: list[Floor],
                  ceil_mode: bool = False) -> Q:
    """The one output-length rule of a sliding window, convolution and pooling alike, along one axis.

    Keras 'same' (and 'causal', which pads the start only) gives ceil(N/S); otherwise 'valid' or
    explicit zeros (before, after) give (N - F + 2P)/S + 1, floored, or rounded up with PyTorch's
    ceil_mode. A floor that leaves input rows or columns unused is added to `floors`."""
    if padding in ("same", "causal"):
        return same(n, s)
    pads = padding if isinstance(padding, tuple) else (0, 0)  # explicit zeros, or 'valid'
    if ceil_mode:
        return sliding_ceil(n, f, s, d, pads)
    q, dropped = sliding(n, f, s, d, pads)
    if dropped and not sym.certainly_below(q.value, 1):
        floors.append((dim, q, dropped))
    return q


def floor_warning(floors: list[Floor]) -> str:
    """One warning for a layer whose stride does not divide evenly, naming what is dropped."""
    groups: dict[tuple[str, int], list[str]] = {}
    for dim, q, dropped in floors:
        groups.setdefault((q.render(), dropped), []).append(dim)
    parts = []
    for (numbers, dropped), dims in groups.items():
        q = next(q for d, q, _ in floors if d == dims[0])
        units = " and ".join(DROP_UNITS.get(d, "position") + ("s" if dropped > 1 else "") for d in dims)
        parts.append(f"(N - F + 2P)/S + 1 = {numbers} = {exact_ratio(q)} in {' and '.join(dims)} is floored to "
                     f"{q.value}, so the last {dropped} input {units} {'are' if dropped > 1 or len(dims) > 1 else 'is'}"
                     " never used")
    return "; ".join(parts)


def check_stated(a: dict[str, Any], arg: str, actual: int, ctx: Context, shape: Shape | None = None) -> None:
    """PyTorch specs may state in_channels / in_features; they must match what flows in. With the
    input `shape` of a layer that reads channels: a stated count that is the channel count of the other
    layout means the data format is wrong, not the count, and the hint says so."""
    stated = a.get(arg)
    if stated is None or stated == actual:
        return
    if shape is not None and len(shape) > 1 and stated == (shape[0] if ctx.channels_last else shape[-1]):
        layout, other = ("channels last", "channels_first") if ctx.channels_last else ("channels first",
                                                                                     "channels_last")
        raise ctx.arg_error(arg, f"says {stated} but the input {format_shape(shape)} is read {layout}, which gives "
                                 f"{actual} channels",
                            f"state `data_format: {other}` at the top of the spec if the input is written that way "
                            f"(PyTorch's layout is channels first: [C, H, W]), or remove `{arg}`.")
    raise ctx.arg_error(arg, f"says {stated} but the previous layer gives {actual}",
                        f"set {arg}: {actual}, or remove it: paramcalc infers it.")


# ---- a name two frameworks share -------------------------------------------------------------------

VOCABULARY = "(vocabulary)"  # the key of the chosen vocabulary in a SharedName kind's parsed arguments


class SharedName(LayerKind):
    """A kind whose name two frameworks share: Keras's and PyTorch's `Embedding`, keras_hub's and
    PyTorch's `TransformerEncoder`. `vocabularies` maps each one's label ("Keras", "PyTorch", ...) to the
    arguments only it takes, its required ones listed in `required`; the arguments a layer is written
    with decide which one it is (the first vocabulary when they do not, e.g. a scalar for its first
    argument), and a layer that mixes them is an error naming an argument of each. The parsed arguments
    carry the choice under VOCABULARY; the type column names it unless it is the first one."""

    vocabularies: ClassVar[dict[str, tuple[str, ...]]]
    required: ClassVar[dict[str, tuple[str, ...]]]

    @classmethod
    def written_in(cls, written: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(vocabulary, an argument of it) for each vocabulary the written arguments use, in order."""
        found: dict[str, str] = {}
        for arg in written:
            for vocabulary, own in cls.vocabularies.items():
                if arg in own and vocabulary not in found:
                    found[vocabulary] = arg
        return list(found.items())

    @classmethod
    def type_label(cls, args: Mapping[str, Any]) -> str:
        used = cls.written_in(args)
        first = next(iter(cls.vocabularies))
        return cls.name if not used or used[0][0] == first else f"{cls.name} ({used[0][0]})"

    @classmethod
    def parse_args(cls, raw: Mapping[str, Any], positional: Any, has_positional: bool,
                   ctx: Context) -> dict[str, Any]:
        used = cls.written_in(raw)
        if has_positional:  # a scalar sets the first argument, which is the first vocabulary's
            used = [(v, a) for v, a in used if v != next(iter(cls.vocabularies))]
            used.insert(0, (next(iter(cls.vocabularies)), cls.own_args()[0].name))
        if len(used) > 1:
            (one, first), (other, second) = used[:2]
            raise ArgumentError(
                f"{cls.name} mixes {one}'s `{first}` with {other}'s `{second}`: {one} and {other} both have a layer "
                f"named {cls.name}, and the arguments decide which one is meant", ctx.arg_locs.get(second, ctx.loc),
                f"write it with {one}'s arguments ({_some(cls.vocabularies[one])}) or with {other}'s "
                f"({_some(cls.vocabularies[other])}), not both.")
        vocabulary = used[0][0] if used else next(iter(cls.vocabularies))
        a = super().parse_args(raw, positional, has_positional, ctx)
        for name in cls.required[vocabulary]:
            if a.get(name) is None:
                needed = ", ".join(f"{n}: ..." for n in cls.required[vocabulary])
                raise ArgumentError(f"{cls.name} ({vocabulary}) needs `{name}`", ctx.loc,
                                    f"add it, e.g. `- {cls.name}: {{{needed}}}`.")
        a[VOCABULARY] = vocabulary
        return a


def _some(names: tuple[str, ...]) -> str:
    return ", ".join((*names[:2], "..."))


# ---- a layer item as an argument (`layer: {TransformerEncoderLayer: {...}}`, `expert: {swiglu: {...}}`) ----

def run_item(item: LayerItem | BlockItem, arg: str, shapes: list[Shape], ctx: Context,
             kinds: tuple[str, ...] | None = None) -> LayerResult:
    """The figures of the layer written in argument `arg`, on `shapes`; its mistakes are reported at
    that argument, naming it. A block of the spec (BlockItem, for the kinds that take one) is computed
    by the engine, through the context, as a model of its own on the first shape."""
    if isinstance(item, BlockItem):
        return run_block_item(item, arg, shapes[0], ctx)
    loc = ctx.arg_locs.get(arg, ctx.loc)
    try:
        kind = lookup(item.kind, loc)
        if kinds is not None and kind.name not in kinds:
            raise ctx.arg_error(arg, f"must be a {' or '.join(kinds)}; got {kind.name}",
                                f"write `{arg}: {{{kinds[0]}: {{...}}}}`.")
        inner = Context(ctx.channels_last, item.kind, loc, formulas=ctx.formulas)
        inner.run_block = ctx.run_block
        a = kind.parse_args(item.args, item.positional, item.has_positional, inner)
        if kind.multi_input:
            result = kind.compute_many(a, shapes, [f"input {i + 1}" for i in range(len(shapes))], inner)
        else:
            result = kind.compute(a, shapes[0], inner)
    except ParamcalcError as error:
        if error.message.startswith(f"{ctx.kind} `{arg}`"):
            raise
        raise type(error)(f"{ctx.kind} `{arg}`: {error.message}", error.loc, error.hint) from None
    ctx.warnings.extend(inner.warnings)
    return result


def run_block_item(item: BlockItem, arg: str, shape: Shape, ctx: Context) -> LayerResult:
    """A block written in argument `arg`: its mistakes are reported at their line in the block, naming
    the argument; what it warns about goes to `ctx`."""
    if ctx.run_block is None:  # a layer computed outside the engine (inside a wrapper's own context)
        raise ctx.arg_error(arg, f"is the block `{item.kind}`, which cannot be computed here",
                            f"write the layer itself in `{arg}`, or the {ctx.kind} at the top of `layers:`.")
    try:
        return ctx.run_block(item, shape, ctx)
    except ParamcalcError as error:
        for each in error.each():
            if not each.message.startswith(f"{ctx.kind} `{arg}`"):
                each.message = f"{ctx.kind} `{arg}` (block `{item.kind}`): {each.message}"
        raise
