"""Keras wrappers: layers that apply another layer, written inside them as a layer item, the way a
spec's `layers:` list writes one (`layer: {LSTM: {units: 64}}`, `layer: {Dense: 10}`, `layer: Flatten`).

The inner item is parsed and computed by its own kind, found through the registry, with a child
`Context` placed at the item in the spec: its mistakes are reported there, in its own words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramcalc.errors import ArgumentError, Location, ParamcalcError
from paramcalc.layers.args import Arg, BadValue, LayerItem, anything, choice, layer_item, optional
from paramcalc.layers.base import (
    Context,
    Derivation,
    LayerKind,
    LayerResult,
    Shape,
    Structure,
    format_shape,
)
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.ops import ELEMENTWISE, elements
from paramcalc.layers.registry import lookup, register
from paramcalc.layers.traits import Cost
from paramcalc.record import Record

CHANNELS_LAST = "channels_last"


class Inner(Record):
    """A wrapper's inner layer, its arguments checked: its kind, its arguments and its own context."""

    __slots__ = ("kind", "args", "ctx")

    def __init__(self, kind: type[LayerKind], args: dict[str, Any], ctx: Context) -> None:
        self.kind = kind
        self.args = args
        self.ctx = ctx


def prepare(item: LayerItem, arg: str, ctx: Context, role: str) -> Inner:
    """The inner layer's kind and checked arguments, with errors at the item (`arg`'s place in the spec;
    `arg.key` locations, when the spec gives them, place its own arguments). Its shape errors say its
    `role`: "Conv2D (at each step of TimeDistributed): expects ..." """
    loc = ctx.arg_locs.get(arg, ctx.loc)
    kind = lookup(item.kind, loc)
    if kind.multi_input:
        raise ArgumentError(f"{ctx.kind} `{arg}` cannot be {item.kind}, which reads several inputs", loc,
                            f"wrap a layer that reads one input; apply {item.kind} outside {ctx.kind}.")
    prefix = f"{arg}."
    locs = {key[len(prefix):]: where for key, where in ctx.arg_locs.items() if key.startswith(prefix)}
    child = Context(ctx.channels_last, f"{item.kind} ({role})", loc, locs, ctx.formulas)
    args = kind.parse_args(item.args, item.positional, item.has_positional, child)
    if args.get("data_format"):  # a layer's own data format, as the engine reads it for a top-level layer
        child.channels_last = args["data_format"] == CHANNELS_LAST
    return Inner(kind, args, child)


def run(inner: Inner, shape: Shape, ctx: Context) -> LayerResult:
    """The inner layer's result on `shape`; what it warns about or adds to the explanation goes to `ctx`."""
    inner.ctx.warnings.clear()
    inner.ctx.notes.clear()
    inner.ctx.formulas = ctx.formulas
    result = inner.kind.compute(inner.args, shape, inner.ctx)
    for warning in inner.ctx.warnings:
        ctx.warn(f"its {inner.kind.name}: {warning}")
    ctx.notes.extend(inner.ctx.notes)
    return result


def refuse_frozen_wrapper(values: Mapping[str, Any], ctx: Context) -> None:
    """Keras 3 sets a wrapper's `trainable=False` on the wrapper, not on the weights its inner layers make:
    its summary row says non-trainable while the model's totals, and its optimizer, train them."""
    if values.get("trainable") is False:
        raise ctx.arg_error("trainable", f"false on {ctx.kind} does not freeze its weights in Keras 3: the flag stays "
                            "on the wrapper (its summary row says non-trainable) while the model's totals and its "
                            "optimizer still train the inner layer's weights",
                            "write `trainable: false` on the inner layer, e.g. `layer: {LSTM: {units: 8, trainable: "
                            "false}}`.")


def inner_kind(args: Mapping[str, Any], arg: str = "layer") -> tuple[type[LayerKind], Mapping[str, Any]] | None:
    """The kind and arguments, as written, of a wrapper's inner item (None if it cannot be read)."""
    try:
        item = layer_item(args.get(arg))
        return lookup(item.kind, Location("")), item.args  # checked when the layer was computed
    except (BadValue, ParamcalcError):
        return None


def times(q: Q, n: Q) -> Q:
    return ZERO if q.value == 0 else n * q


@register
class TimeDistributed(LayerKind):
    name = "TimeDistributed"
    # What it computes is what its inner layer computes (cost_of); Dense is the category of its example.
    cost = Cost.DENSE
    doc = ("Applies its inner layer (`layer: {Dense: 10}`, any kind) to every time step of a (T, ...) input, "
           "with the same weights: the inner layer's params once, its MACs T times.")
    example, example_rank = "{layer: {Dense: 10}}", 1
    args = (Arg("layer", layer_item, doc="the layer applied at every step, as in `layers:`"),)

    @classmethod
    def cost_of(cls, args: Mapping[str, Any]) -> Cost:
        found = inner_kind(args)
        return cls.cost if found is None else found[0].cost_of(found[1])

    @classmethod
    def parse_args(cls, raw: Mapping[str, Any], positional: Any, has_positional: bool,
                   ctx: Context) -> dict[str, Any]:
        values = super().parse_args(raw, positional, has_positional, ctx)
        refuse_frozen_wrapper(values, ctx)
        return {**values, "layer": prepare(values["layer"], "layer", ctx, "at each step of TimeDistributed")}

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if len(shape) < 2:
            raise ctx.fail(f"needs (T, ...), time steps and then each step's shape, but gets {format_shape(shape)}",
                           "give it at least 2 dimensions (the batch left out), or use the inner layer alone.")
        inner: Inner = a["layer"]
        result = run(inner, shape[1:], ctx)
        if result.extra_outputs:  # Keras's TimeDistributed stacks one output per step, and fails on several
            raise ctx.fail(f"its {inner.kind.name} gives {len(result.output_shapes)} outputs (return_state), but "
                           "TimeDistributed applies a layer of one output", "leave return_state out of the inner "
                           "layer.", "layer")
        steps = Q.of(shape[0], "T")
        figures = result.steps + ((Derivation("MACs per step", result.macs),) if result.macs.value != 0 else ())
        return LayerResult((shape[0], *result.output_shape), result.trainable, result.non_trainable,
                           times(result.macs, steps),
                           steps=figures, structure=over_time(result.structure, shape[0]),
                           ops={key: value * shape[0] for key, value in result.ops.items()})


def over_time(s: Structure | None, steps: Any) -> Structure | None:
    """The inner layer's structure applied at every step: its positions have the time axis in front."""
    if s is None:
        return None
    return Structure(s.variant, s.kernel, s.in_channels, s.out_channels, (steps, *s.in_spatial),
                     (steps, *s.out_spatial), s.groups, s.depth_multiplier, s.use_bias)


# Keras's Bidirectional takes a layer with these attributes (keras.layers.RNN and its subclasses).
RECURRENT_ATTRIBUTES = ("go_backwards", "return_sequences", "return_state")
SAME_IN_BOTH = ("return_sequences", "return_state", "stateful")


@register
class Bidirectional(LayerKind):
    name = "Bidirectional"
    cost = Cost.RECURRENT
    doc = ("Runs a Keras recurrent layer (`layer: {LSTM: {units: 64}}`) forward and a copy of it backward "
           "(or `backward_layer`), merging their outputs by merge_mode: concat doubles the features; sum, mul, "
           "ave keep them; null returns both apart (outputs 0 and 1). With return_state, the forward layer's "
           "states follow, then the backward's.")
    example, example_rank = "{layer: {LSTM: {units: 8}}}", 1
    args = (Arg("layer", layer_item, doc="the recurrent layer run forward, as in `layers:`"),
            Arg("merge_mode", optional(choice("concat", "sum", "mul", "ave")), "concat"),
            Arg("backward_layer", optional(layer_item), None), Arg("weights", anything, None))

    @classmethod
    def parse_args(cls, raw: Mapping[str, Any], positional: Any, has_positional: bool,
                   ctx: Context) -> dict[str, Any]:
        values = super().parse_args(raw, positional, has_positional, ctx)
        refuse_frozen_wrapper(values, ctx)
        forward = recurrent(prepare(values["layer"], "layer", ctx, "forward in Bidirectional"), "layer", ctx)
        backward = None
        if values["backward_layer"] is not None:
            backward = recurrent(prepare(values["backward_layer"], "backward_layer", ctx, "backward in Bidirectional"),
                                 "backward_layer", ctx)
            check_pair(forward, backward, ctx)
        return {**values, "layer": forward, "backward_layer": backward}

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        forward = run(a["layer"], shape, ctx)
        backward = run(a["backward_layer"], shape, ctx) if a["backward_layer"] is not None else None
        if backward is not None and backward.output_shape != forward.output_shape:
            raise ctx.fail(
                f"its forward layer gives {format_shape(forward.output_shape)} but its backward layer "
                f"{format_shape(backward.output_shape)}: Keras's summary then shows twice the forward's features, "
                "which its computation does not give (concat) or cannot merge (sum, mul, ave)",
                "give both layers the same units.", "backward_layer")
        out = forward.output_shape
        if a["merge_mode"] == "concat":
            out = (*out[:-1], 2 * out[-1])
        # Keras's outputs: the merged output (or, merge_mode null, the forward and the backward ones), then
        # the forward layer's final states and the backward layer's (return_state).
        sequences = (out,) if a["merge_mode"] is not None else (out, out)
        states = forward.extra_outputs + (forward if backward is None else backward).extra_outputs
        if backward is None:  # a copy of the forward layer, run backward
            dirs = Q.of(2, "dirs")
            trained, frozen, macs = times(forward.trainable, dirs), times(forward.non_trainable, dirs), times(
                forward.macs, dirs)
            ops = {key: 2 * value for key, value in forward.ops.items()}
            figures = forward.steps
        else:
            trained, frozen = pair(forward.trainable, backward.trainable), pair(forward.non_trainable,
                                                                                backward.non_trainable)
            macs = pair(forward.macs, backward.macs)
            ops = {key: forward.ops.get(key, 0) + backward.ops.get(key, 0) for key in {*forward.ops, *backward.ops}}
            figures = (Derivation("forward params", pair(forward.trainable, forward.non_trainable)),
                       Derivation("backward params", pair(backward.trainable, backward.non_trainable)))
        if a["merge_mode"] not in ("concat", None):
            ops[ELEMENTWISE] = elements(out)  # adds or multiplies the two outputs, value by value
        return LayerResult(out, trained, frozen, macs, steps=figures, ops=ops,
                           extra_outputs=(*sequences[1:], *states), main_output=a["merge_mode"] is not None)


def pair(a: Q, b: Q) -> Q:
    if a.value == 0:
        return b
    return a if b.value == 0 else a + b


def recurrent(inner: Inner, arg: str, ctx: Context) -> Inner:
    """Keras's test of a layer Bidirectional can run both ways: it has go_backwards, return_sequences and
    return_state (PyTorch's recurrent layers do not: they take `bidirectional: true`)."""
    if not all(key in inner.args for key in RECURRENT_ATTRIBUTES):
        torch = inner.kind.cost_of(inner.args) == Cost.RECURRENT  # a recurrent layer in PyTorch's words
        got = f"PyTorch's {inner.kind.name}" if torch else inner.kind.name
        raise ArgumentError(
            f"{ctx.kind} `{arg}` must be a Keras recurrent layer (SimpleRNN, LSTM, GRU); got {got}",
            ctx.arg_locs.get(arg, ctx.loc),
            "write PyTorch's recurrent layers with `bidirectional: true` instead." if torch else
            "wrap a recurrent layer, e.g. `layer: {LSTM: {units: 64}}`.")
    return inner


def check_pair(forward: Inner, backward: Inner, ctx: Context) -> None:
    """Keras's rules (Bidirectional._verify_layer_config): opposite directions, the same outputs."""
    if forward.args["go_backwards"] == backward.args["go_backwards"]:
        raise ctx.arg_error("backward_layer", f"must run the other way than `layer`: both have go_backwards: "
                            f"{str(forward.args['go_backwards']).lower()}",
                            "set `go_backwards: true` in backward_layer (Keras raises the same error).")
    for key in SAME_IN_BOTH:
        if forward.args.get(key, False) != backward.args.get(key, False):
            raise ctx.arg_error("backward_layer", f"has {key}: {str(backward.args.get(key, False)).lower()} but "
                                f"`layer` {str(forward.args.get(key, False)).lower()}; Keras requires the same",
                                f"give both layers the same {key}.")
