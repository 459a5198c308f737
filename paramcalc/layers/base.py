"""The layer contract: one small class per layer kind, pure values in and out."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, ClassVar

from paramcalc.errors import ArgumentError, Location, ShapeError
from paramcalc.layers.args import Arg, BadValue, anything, boolean
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.traits import SAVES, Cost, Saves
from paramcalc.record import Record
from paramcalc.suggest import did_you_mean

Shape = tuple[int, ...]  # without the batch dimension

# Keras arguments that never change a shape or a count; accepted on every Keras-style layer.
KERAS_COMMON = (
    Arg("trainable", boolean, True, "false makes every weight of the layer non-trainable"),
    Arg("dtype", anything, None), Arg("activity_regularizer", anything, None),
)
WEIGHT_OPTIONS = tuple(
    Arg(f"{w}_{what}", anything, None)
    for w in ("kernel", "bias", "depthwise", "pointwise", "beta", "gamma", "moving_mean", "moving_variance", "alpha")
    for what in ("initializer", "regularizer", "constraint")
)


# What explained figures are called, the same words for every kind, in `explain` and `paramcalc layers`.
PARAMS, TRAINABLE_PARAMS, NON_TRAINABLE_PARAMS, MACS = "params", "trainable params", "non-trainable params", "MACs"
COUNTS = (PARAMS, TRAINABLE_PARAMS, NON_TRAINABLE_PARAMS, MACS)  # built by `LayerResult` itself, never by a kind
DEPTHWISE_PARAMS, POINTWISE_PARAMS = "depthwise params", "pointwise params"
DEPTHWISE_MACS, POINTWISE_MACS = "depthwise MACs", "pointwise MACs"
OUTPUT, PADDING = "output", "padding"  # "output height": one output length; "padding height": zeros 'same' adds
OUTPUT_SIZE = f"{OUTPUT} size"  # the one axis Flatten makes
JOINED_AXIS = "joined axis"  # the axis Concatenate sums
NO_WEIGHTS, NO_MACS = "(no weights)", "(no multiply-accumulates)"  # what a zero count says


def output_label(dim: str) -> str:
    return f"{OUTPUT} {dim}"


def padding_label(dim: str) -> str:
    return f"{PADDING} {dim}"


class Derivation(Record):
    """One explained figure: what it is and the `Q` that computed it."""

    __slots__ = ("label", "q", "note")

    def __init__(self, label: str, q: Q, note: str = "") -> None:
        self.label = label
        self.q = q
        self.note = note  # shown after the result, e.g. "(1 before, 1 after)"


def count_derivations(trainable: Q, non_trainable: Q, macs: Q) -> tuple[Derivation, ...]:
    """The params and MACs lines of every layer, from the very `Q`s that are its counts: a kind cannot
    forget them, nor explain a number other than the one it reports. A zero count says so."""
    params: tuple[Derivation, ...]
    if _is_zero(non_trainable):
        params = (Derivation(PARAMS, trainable, NO_WEIGHTS if _is_zero(trainable) else ""),)
    else:
        params = (Derivation(TRAINABLE_PARAMS, trainable), Derivation(NON_TRAINABLE_PARAMS, non_trainable))
    return (*params, Derivation(MACS, macs, NO_MACS if _is_zero(macs) else ""))


def _is_zero(q: Q) -> bool:
    return bool(q.value == 0)  # a formula in free input dimensions is not zero


class Variant(str, Enum):
    """What a weighted layer is, for comparisons, breakdowns and the counting conventions."""

    STANDARD = "standard"  # a full (or grouped) convolution
    DEPTHWISE = "depthwise"
    SEPARABLE = "separable"  # depthwise then pointwise, in one layer
    TRANSPOSE = "transpose"
    DENSE = "dense"  # fully connected, at every position


class Structure(Record):
    """What a weighted layer connects, for comparisons and per-type breakdowns."""

    __slots__ = ("variant", "kernel", "in_channels", "out_channels", "in_spatial", "out_spatial", "groups",
                 "depth_multiplier", "use_bias")

    def __init__(self, variant: Variant, kernel: Shape, in_channels: int, out_channels: int, in_spatial: Shape,
                 out_spatial: Shape, groups: int = 1, depth_multiplier: int = 1, use_bias: bool = True) -> None:
        self.variant = variant
        self.kernel = kernel  # () for dense
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.in_spatial = in_spatial
        self.out_spatial = out_spatial  # for dense: the positions it is applied at (() when flat)
        self.groups = groups
        self.depth_multiplier = depth_multiplier
        self.use_bias = use_bias


class LayerResult(Record):
    """What a layer kind computes: its output shape and counts, and the steps that explain them.

    A layer with several outputs (the pieces of a Split, an RNN's states) gives output 0 as
    `output_shape` and outputs 1, 2, ... as `extra_outputs`; a spec reads output k as `name[k]`.
    `main_output` says what the bare `name` reads: output 0 when it is the layer's main result (an
    RNN's sequence, its states being extras), or nothing when the outputs are peers (the pieces of a
    split), so that a spec must say which (the engine refuses the bare name, listing the outputs)."""

    __slots__ = ("output_shape", "trainable", "non_trainable", "macs", "steps", "structure", "ops",
                 "extra_outputs", "main_output", "active_params")

    def __init__(self, output_shape: Shape, trainable: Q = ZERO, non_trainable: Q = ZERO, macs: Q = ZERO,
                 steps: tuple[Derivation, ...] = (), structure: Structure | None = None,
                 ops: dict[str, Any] | None = None, extra_outputs: tuple[Shape, ...] = (),
                 main_output: bool = True, active_params: Q | None = None) -> None:
        self.output_shape = output_shape
        self.trainable = trainable
        self.non_trainable = non_trainable
        self.macs = macs
        self.steps = steps  # the kind's own figures: output lengths, the parts of a separable conv, ...
        self.structure = structure
        self.ops: dict[str, Any] = {} if ops is None else ops  # operations other than MACs, by kind (ops.py)
        self.extra_outputs = extra_outputs  # outputs 1, 2, ... (empty: one output, as almost every layer)
        self.main_output = main_output  # False: the outputs are peers, a bare reference must say which
        # The params one token uses, when fewer than all (a mixture of experts: router + top_k experts).
        self.active_params = active_params

    @property
    def output_shapes(self) -> tuple[Shape, ...]:
        """Every output, output 0 first."""
        return (self.output_shape, *self.extra_outputs)

    @property
    def derivations(self) -> tuple[Derivation, ...]:
        """Every explained figure: the kind's steps, then params and MACs (made only when asked)."""
        return self.steps + count_derivations(self.trainable, self.non_trainable, self.macs)


class Context:
    """What a layer needs to know besides its arguments: data format and where it is written."""

    __slots__ = ("channels_last", "kind", "loc", "arg_locs", "warnings", "notes", "formulas", "run_block")

    def __init__(self, channels_last: bool, kind: str, loc: Location,
                 arg_locs: Mapping[str, Location] | None = None, formulas: bool = True) -> None:
        self.channels_last = channels_last
        self.kind = kind
        self.loc = loc
        self.arg_locs: Mapping[str, Location] = {} if arg_locs is None else arg_locs
        self.warnings: list[str] = []
        self.notes: list[Derivation] = []  # extra explained figures (padding added, ...)
        self.formulas = formulas  # False: skip figures that only `explain` shows
        # How a block of the spec written in an argument is computed (`expert: {swiglu: {...}}`): the engine
        # gives it (engine.run_block), as layers compute no graph themselves. (BlockItem, shape, ctx) -> result.
        self.run_block: Callable[[Any, Shape, Context], LayerResult] | None = None

    def fail(self, message: str, hint: str, arg: str | None = None) -> ShapeError:
        """A shape error at the argument responsible, or at the layer."""
        loc = self.arg_locs.get(arg, self.loc) if arg else self.loc
        return ShapeError(f"{self.kind}: {message}", loc, hint)

    def arg_error(self, arg: str, message: str, hint: str) -> ArgumentError:
        return ArgumentError(f"{self.kind} `{arg}` {message}", self.arg_locs.get(arg, self.loc), hint)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def note(self, label: str, q: Q, note: str = "") -> None:
        self.notes.append(Derivation(label, q, note))

    def split_channels(self, shape: Shape, rank: int) -> tuple[Shape, int]:
        """(spatial dims, channels) of a rank-`rank` feature map, in the spec's data format."""
        if len(shape) != rank + 1:
            layout = _layout(rank, self.channels_last)
            raise self.fail(
                f"expects a {rank + 1}-D input {layout} but gets {format_shape(shape)}",
                f"give it a {rank + 1}-D input (use Reshape, or the {rank}-D variant of this layer).",
            )
        axis = self.channel_axis(rank + 1)
        return shape[:axis] + shape[axis + 1:], shape[axis]

    def channel_axis(self, rank: int) -> int:
        """The one rule for where the channels are, in a batch-less shape of `rank` dims."""
        return rank - 1 if self.channels_last else 0

    def channels(self, shape: Shape) -> int:
        return shape[self.channel_axis(len(shape))]

    def join_channels(self, spatial: Shape, channels: int) -> Shape:
        return (*spatial, channels) if self.channels_last else (channels, *spatial)


def _layout(rank: int, channels_last: bool) -> str:
    dims = {1: ["L"], 2: ["H", "W"], 3: ["D", "H", "W"]}.get(rank, [f"d{i}" for i in range(rank)])
    return "(" + ", ".join([*dims, "C"] if channels_last else ["C", *dims]) + ")"


def format_shape(shape: tuple[Any, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class LayerKind:
    """Base of every layer definition.

    A subclass sets `name`, `args` (its keyword arguments, the first one being what a scalar
    `- Kind: value` sets), a one-line `doc`, an `example` and its `cost`, and implements `compute`. Its
    formulas are not written here: `explain` and `paramcalc layers` render the `Q`s its result is made of.
    """

    name: ClassVar[str]
    cost: ClassVar[Cost]  # what it computes (layers/traits.py); no default: every kind says (tests/test_traits.py)
    args: ClassVar[tuple[Arg, ...]] = ()
    doc: ClassVar[str] = ""
    framework: ClassVar[str] = "keras"  # whose semantics the layer follows: keras | torch
    multi_input: ClassVar[bool] = False  # merge layers (Add, Concatenate, ...) read several inputs
    # Reads one input, and may be given more after it (an RNN's initial states): `compute_many` then gets them all.
    state_inputs: ClassVar[bool] = False
    # Works on feature maps whose channel axis the data format places (convolution, pooling, padding,
    # upsampling, batch norm): such layers decide, by their spelling, how a spec that states no
    # `data_format` reads its shapes. Layers on the last axis (Dense, LayerNorm, attention) do not.
    spatial: ClassVar[bool] = False
    # Makes its output from its own weights and reads nothing (Parameter): it takes no `inputs:` nor the
    # layer above, and its `compute` gets the empty shape ().
    no_input: ClassVar[bool] = False
    # What its backward pass keeps (layers/traits.py `Saves`); None: its category's usual (traits.SAVES).
    saves: ClassVar[Saves | None] = None
    # Its output is a view of its input (same storage, no copy: Flatten, Chunk, Identity), as in PyTorch.
    view: ClassVar[bool] = False
    example: ClassVar[str] = "{}"  # arguments of a typical use, as YAML (shown by `paramcalc layers`)
    example_rank: ClassVar[int] = 2  # spatial dims of the example input (0: a flat vector)

    @classmethod
    def cost_of(cls, args: Mapping[str, Any]) -> Cost:
        """The category of one layer of this kind, from its arguments as written: the kind's own,
        except for a wrapper (TimeDistributed), which computes what its inner layer computes."""
        return cls.cost

    @classmethod
    def saves_of(cls, args: Mapping[str, Any]) -> Saves:
        """What one layer of this kind keeps for the backward pass (paramcalc/memory.py)."""
        return cls.saves or SAVES[cls.cost_of(args)]

    @classmethod
    def example_input(cls, channels_last: bool) -> Shape:
        """A small input this kind accepts, for `paramcalc layers` and the tests."""
        rank = getattr(cls, "rank", cls.example_rank)
        return (*(9,) * rank, 4) if channels_last else (4, *(9,) * rank)

    @classmethod
    def example_spec(cls) -> str:
        """A whole spec whose last layer is this kind's example (merges get two branches)."""
        channels_last = cls.framework == "keras"
        shape = list(cls.example_input(channels_last))
        head = f"input: {shape}\ndata_format: {'channels_last' if channels_last else 'channels_first'}\nlayers:\n"
        if cls.multi_input:
            head += "  - Identity: {name: a}\n  - Identity: {name: b, inputs: input}\n"
            return head + f"  - {cls.name}: {{inputs: [a, b], {cls.example[1:]}\n".replace(", }", "}")
        return head + f"  - {cls.name}: {cls.example}\n"

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        """The layer's own arguments, first one first. Rank-generic families override this."""
        return cls.args

    @classmethod
    @functools.cache
    def own_args(cls) -> tuple[Arg, ...]:
        """`arguments()` computed once per kind (rank-generic families build them)."""
        return cls.arguments()

    @classmethod
    @functools.cache
    def all_args(cls) -> tuple[Arg, ...]:
        extra = KERAS_COMMON + WEIGHT_OPTIONS if cls.framework == "keras" else ()
        return cls.own_args() + extra

    @classmethod
    @functools.cache
    def required_args(cls) -> tuple[Arg, ...]:
        return tuple(a for a in cls.all_args() if a.required)

    @classmethod
    @functools.cache
    def known_args(cls) -> dict[str, Arg]:
        return {a.name: a for a in cls.all_args()}

    @classmethod
    def parse_args(cls, raw: Mapping[str, Any], positional: Any, has_positional: bool,
                   ctx: Context) -> dict[str, Any]:
        """Check every argument; fill in defaults. Raises `ArgumentError` at the offending place."""
        known = cls.known_args()
        values: dict[str, Any] = {}
        if has_positional:
            own = cls.own_args()
            if not own:
                raise ArgumentError(f"{cls.name} takes no arguments", ctx.loc,
                                    f"write it alone, as `- {cls.name}`.")
            first = own[0]
            values[first.name] = _parse_one(cls.name, first, positional, ctx.loc)
        for key, value in raw.items():
            arg = known.get(key)
            if arg is None:
                from paramcalc.layers.registry import unknown_argument_hint  # the error path only

                hint = unknown_argument_hint(cls, key) or did_you_mean(key, known) or (
                    f"{cls.name} takes {', '.join(a.name for a in cls.arguments()) or 'no arguments'}.")
                raise ArgumentError(f"{cls.name} has no argument `{key}`", ctx.arg_locs.get(key, ctx.loc), hint)
            values[key] = _parse_one(cls.name, arg, value, ctx.arg_locs.get(key, ctx.loc))
        if len(values) < len(known):
            for arg in cls.required_args():
                if arg.name not in values:
                    raise ArgumentError(
                        f"{cls.name} needs `{arg.name}`", ctx.loc,
                        f"add it, e.g. `- {cls.name}: {{{arg.name}: ...}}`" + (f" ({arg.doc})." if arg.doc else "."))
            return {**cls.parsed_defaults(), **values}
        return values

    @classmethod
    @functools.cache
    def parsed_defaults(cls) -> dict[str, Any]:
        """Defaults are written as a user would write them, and parsed like user values."""
        return {a.name: a.parse(a.default) for a in cls.all_args() if not a.required}

    @classmethod
    def type_label(cls, args: Mapping[str, Any]) -> str:
        """The summary's type column for a layer written with `args` (as in the spec): the kind's name;
        a name two frameworks share says whose it is, `Embedding (PyTorch)` (layers/shapes.py SharedName)."""
        return cls.name

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        raise NotImplementedError

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        """For `multi_input` kinds: the shapes of all inputs, with their names for error messages."""
        raise NotImplementedError


def _parse_one(kind: str, arg: Arg, value: Any, loc: Location) -> Any:
    try:
        return arg.parse(value)
    except BadValue as bad:
        hint = f"write e.g. `{arg.name}: {bad.example}`." if bad.example else f"make `{arg.name}` {bad.expected}."
        raise ArgumentError(f"{kind} `{arg.name}` must be {bad.expected}; got {_show(value)}", loc, hint) from None


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace("'", "")


def trainable_split(params: Q, non_trainable: Q, a: dict[str, Any]) -> tuple[Q, Q]:
    """Keras `trainable: false` moves every weight of the layer to non-trainable."""
    if a.get("trainable", True):
        return params, non_trainable
    return ZERO, params if _is_zero(non_trainable) else params + non_trainable
