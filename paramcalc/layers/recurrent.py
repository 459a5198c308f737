"""Recurrent layers: Keras SimpleRNN, LSTM and GRU; PyTorch RNN, LSTM, GRU and their cells.

A recurrent layer runs one cell at every step of a sequence (T, F): T time steps of F features, the
batch omitted. Each of the cell's gates (1 for a simple RNN, 3 for a GRU, 4 for an LSTM) multiplies
the step's input and the previous state by its weight matrices and adds its biases:

    params = gates x (units x (in + units) + biases),    MACs = T x gates x units x (in + units)

Keras's SimpleRNN and LSTM have one bias vector per gate, as its GRU with `reset_after: false`; its
GRU with `reset_after` (the default) has two, as every PyTorch layer has (b_ih and b_hh). A PyTorch
LSTM with `proj_size` feeds back its projected output (proj values) instead of the hidden state.
The element-wise work of the gates (sigmoid, tanh, products) is reported apart, in `ops`.

`LSTM` and `GRU` are names of both frameworks: the arguments decide whose layer it is (`units` is
Keras's, `hidden_size` PyTorch's), and a layer written with both vocabularies is an error."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

from paramcalc.errors import ArgumentError
from paramcalc.layers import sym
from paramcalc.layers.args import (
    Arg,
    anything,
    boolean,
    choice,
    fraction,
    ints,
    keras_activation,
    non_negative,
    number,
    optional,
    positive,
)
from paramcalc.layers.base import (
    Context,
    Derivation,
    LayerKind,
    LayerResult,
    Shape,
    format_shape,
    output_label,
    trainable_split,
)
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.ops import (
    BIAS_ADDS,
    CELL_STATE,
    FUSED_LSTM_MACS,
    GATE_PRODUCTS,
    GATE_VALUES,
    PROJECTION_MACS,
    UNPROJECTED_MACS,
)
from paramcalc.layers.registry import define_ranked, register
from paramcalc.layers.shapes import DATA_FORMAT, Floor, check_stated, dim_names, floor_warning, window_length
from paramcalc.layers.traits import Cost
from paramcalc.record import Record
from paramcalc.suggest import did_you_mean

ELMAN, GATED, LONG = "rnn", "gru", "lstm"  # the three cells: simple (Elman) RNN, GRU, LSTM
GATES = {ELMAN: 1, GATED: 3, LONG: 4}
# Each gate of a cell: its letter (explain's label is "gate i"), what it is, its activation.
GATE_NAMES = {
    GATED: (("z", "update gate", "sigmoid"), ("r", "reset gate", "sigmoid"), ("n", "candidate state", "tanh")),
    LONG: (("i", "input gate", "sigmoid"), ("f", "forget gate", "sigmoid"), ("g", "cell candidate", "tanh"),
           ("o", "output gate", "sigmoid")),
}
AFTER, BEFORE = "after", "before"  # where a GRU applies its reset gate: to U h (PyTorch, Keras's default) or to h
KIND = "__kind__"  # in the parsed arguments of a name both frameworks use: the definition its arguments chose


class Recurrence(Record):
    """One recurrent layer in one direction: the sizes its gates multiply."""

    __slots__ = ("cell", "inputs", "hidden", "state", "biases", "proj", "reset")

    def __init__(self, cell: str, inputs: Q, hidden: Q, biases: int, proj: Q | None = None,
                 reset: str = AFTER) -> None:
        self.cell = cell
        self.inputs = inputs  # features of one step's input (in)
        self.hidden = hidden  # units per gate
        self.state = proj if proj is not None else hidden  # what the recurrent product reads
        self.biases = biases  # bias vectors per gate: 0, 1 (Keras) or 2 (PyTorch, Keras GRU reset_after)
        self.proj = proj  # PyTorch LSTM proj_size: the hidden state is projected to proj values
        self.reset = reset

    @property
    def gates(self) -> int:
        return GATES[self.cell]

    def gate_params(self) -> Q:
        """One gate: its input and recurrent weights, and its biases."""
        weights = self.hidden * (self.inputs + self.state)
        if not self.biases:
            return weights
        return weights + (self.hidden if self.biases == 1 else Q.of(2) * self.hidden)

    def params(self) -> Q:
        gate = self.gate_params()
        total = gate if self.gates == 1 else Q.of(self.gates) * gate
        return total if self.proj is None else total + self.hidden * self.proj

    def step_macs(self) -> Q:
        """The matrix products of one step: the input's and the previous state's (and the projection)."""
        width = self.hidden if self.gates == 1 else Q.of(self.gates) * self.hidden
        products = width * (self.inputs + self.state)
        return products if self.proj is None else products + self.hidden * self.proj

    def step_ops(self) -> dict[str, Any]:
        """The element-wise work of one step besides the products (layers/ops.py)."""
        h, gates = self.hidden.value, self.gates
        return {GATE_VALUES: gates * h, BIAS_ADDS: self.biases * gates * h,
                GATE_PRODUCTS: 4 * h if gates > 1 else 0, CELL_STATE: h if self.cell == LONG else 0,
                PROJECTION_MACS: h * self.proj.value if self.proj is not None else 0}

    def gate_steps(self) -> tuple[Derivation, ...]:
        """Each gate's params, with what it computes (x the step's input, h the previous state), and the
        multiply-accumulates of its two products at each step (x W and h U)."""
        if self.gates == 1:
            return ()
        return tuple(step for letter, what, act in GATE_NAMES[self.cell] for step in (
            Derivation(f"gate {letter}", self.gate_params(), f"({what}: {letter} = {act}({self._sum(letter)}))"),
            # Labelled as short as "gate i" so that the lines keep their alignment.
            Derivation(f"{letter} MACs", self.hidden * (self.inputs + self.state),
                       f"(gate {letter}, per step: x W and h U)")))

    def _sum(self, letter: str) -> str:
        first = " + b" if self.biases else ""
        recurrent = "h U" + (" + b'" if self.biases == 2 else "")
        if letter == "n":  # the GRU's candidate reads the state through its reset gate r
            recurrent = f"r * ({recurrent})" if self.reset == AFTER else "(r * h) U"
        return f"x W{first} + {recurrent}"


def scaled(ops: Mapping[str, Any], count: Any) -> dict[str, Any]:
    return {key: value * count for key, value in ops.items() if value != 0 and count != 0}


def merged(*parts: Mapping[str, Any]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return total


def check_states(given: list[Shape], names: list[str], wanted: tuple[Shape, ...], what: str,
                 ctx: Context) -> None:
    """The initial states after the sequence (`inputs: [seq, h0, c0]`): as many as the layer has, each of
    the shape the framework requires. They change no count."""
    want = ", ".join(format_shape(shape) for shape in wanted)
    if len(given) != len(wanted):
        got = ", ".join(f"{n} {format_shape(s)}" for n, s in zip(names, given))
        raise ctx.fail(f"takes its initial states after the sequence, {len(wanted)} of them ({what}: {want}), but "
                       f"is given {len(given)}: {got}", f"list the sequence then {what} in `inputs:`, or the "
                       "sequence alone (the states then start at zero).")
    for name, shape, expected, state in zip(names, given, wanted, what.split(", ")):
        if len(shape) != len(expected) or any(sym.certainly_different(x, y) for x, y in zip(shape, expected)):
            raise ctx.fail(f"its initial state {state} must be {format_shape(expected)} (the batch left out), but "
                           f"`{name}` is {format_shape(shape)}", f"give {state} the shape {format_shape(expected)}.")


class Stateful(LayerKind):
    """A recurrent kind that may be given its initial states after its input: `inputs: [seq, h0(, c0)]`."""

    state_inputs = True

    @classmethod
    def state_shapes(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> tuple[tuple[Shape, ...], str]:
        """The shapes of its states (as it takes them and returns them), and their names."""
        raise NotImplementedError

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        result = cls.compute(a, shapes[0], ctx)  # checks the sequence first
        wanted, what = cls.state_shapes(a, shapes[0], ctx)
        check_states(shapes[1:], names[1:], wanted, what, ctx)
        return result


def sequence(shape: Shape, ctx: Context) -> tuple[Any, Any]:
    """(T, F) of a sequence input; anything else is an error, as in both frameworks."""
    if len(shape) != 2:
        raise ctx.fail(f"expects a sequence (T, F), T time steps of F features, but gets {format_shape(shape)}",
                       "give it a 2-D input (the batch is left out), e.g. with Reshape; to run a layer on every "
                       "step of a longer shape, wrap it in TimeDistributed.")
    return shape[0], shape[1]


# ---- Keras ---------------------------------------------------------------------------------------------

KERAS_ARGS = (
    Arg("units", positive), Arg("activation", keras_activation, "tanh"), Arg("use_bias", boolean, True),
    Arg("return_sequences", boolean, False, "true: the output at every step (T, units), else the last (units,)"),
    Arg("return_state", boolean, False), Arg("go_backwards", boolean, False), Arg("stateful", boolean, False),
    Arg("unroll", boolean, False), Arg("dropout", number, 0.0), Arg("recurrent_dropout", number, 0.0),
    Arg("seed", anything, None),
    *(Arg(f"recurrent_{what}", anything, None) for what in ("initializer", "regularizer", "constraint")),
)
GATED_ARGS = (Arg("recurrent_activation", anything, "sigmoid"), Arg("use_cudnn", anything, "auto"))


class KerasRecurrent(Stateful):
    """Keras's recurrent layers: one direction, one layer, the last step's output or every step's. With
    `return_state`, its outputs are [output, h] (an LSTM's [output, h, c]), each state (units,); its
    initial states (`initial_state`) are the inputs after the sequence, of the same shapes."""

    cost = Cost.RECURRENT
    cell: ClassVar[str]
    example, example_rank = "{units: 8}", 1

    @classmethod
    def recurrence(cls, a: dict[str, Any], features: Any) -> Recurrence:
        return Recurrence(cls.cell, Q.of(features, "in"), Q.of(a["units"], "units"), int(a["use_bias"]))

    @classmethod
    def state_shapes(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> tuple[tuple[Shape, ...], str]:
        if cls.cell == LONG:
            return ((a["units"],), (a["units"],)), "h, c"
        return ((a["units"],),), "h"

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        steps, features = sequence(shape, ctx)
        r = cls.recurrence(a, features)
        params, macs = r.params(), Q.of(steps, "T") * r.step_macs()
        trainable, frozen = trainable_split(params, ZERO, a)
        ops = scaled(r.step_ops(), steps)
        if cls.cell == LONG:
            ops[FUSED_LSTM_MACS] = macs.value  # counted as PyTorch's nn.LSTM of its shape, which runs fused
        out = (steps, a["units"]) if a["return_sequences"] else (a["units"],)
        states = cls.state_shapes(a, shape, ctx)[0] if a["return_state"] else ()
        return LayerResult(out, trainable, frozen, macs, steps=r.gate_steps(), ops=ops, extra_outputs=states)


@register
class SimpleRNN(KerasRecurrent):
    name, cell = "SimpleRNN", ELMAN
    doc = "Fully-connected recurrent layer (Keras) over a sequence (T, F): h = tanh(x W + h U + b) at each step."
    args = KERAS_ARGS


class KerasLSTM(KerasRecurrent):
    name, cell = "LSTM", LONG
    args = (*KERAS_ARGS, *GATED_ARGS, Arg("unit_forget_bias", boolean, True))


class KerasGRU(KerasRecurrent):
    name, cell = "GRU", GATED
    args = (*KERAS_ARGS, *GATED_ARGS,
            Arg("reset_after", boolean, True, "true: two bias vectors per gate, the reset gate applied after the "
                                              "recurrent product (PyTorch's form)"))

    @classmethod
    def recurrence(cls, a: dict[str, Any], features: Any) -> Recurrence:
        biases = (2 if a["reset_after"] else 1) if a["use_bias"] else 0
        return Recurrence(GATED, Q.of(features, "in"), Q.of(a["units"], "units"), biases,
                          reset=AFTER if a["reset_after"] else BEFORE)


# ---- PyTorch -------------------------------------------------------------------------------------------

TORCH_ARGS = (
    Arg("hidden_size", positive), Arg("input_size", optional(positive), None), Arg("num_layers", positive, 1),
    Arg("bias", boolean, True), Arg("batch_first", boolean, False, "the spec's shapes leave the batch out either way"),
    Arg("dropout", fraction, 0.0), Arg("bidirectional", boolean, False),
    Arg("device", anything, None), Arg("dtype", anything, None),
)
NONLINEARITY = Arg("nonlinearity", choice("tanh", "relu"), "tanh")


class TorchRecurrent(Stateful):
    """PyTorch's recurrent layers: num_layers stacked, each in one or two directions. Output 0 is PyTorch's
    `output`, every step's (T, directions x hidden_size); outputs 1 (and 2) its final states h_n (and an
    LSTM's c_n), (directions x num_layers, hidden_size), the shape PyTorch gives an unbatched input (a
    batched one has the batch in the middle, (D x num_layers, N, H): paramcalc leaves it out). The initial
    states h_0 (c_0) are the inputs after the sequence, of the same shapes."""

    framework = "torch"
    cost = Cost.RECURRENT
    cell: ClassVar[str]
    example, example_rank = "{hidden_size: 8}", 1

    @classmethod
    def state_shapes(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> tuple[tuple[Shape, ...], str]:
        stack = (2 if a["bidirectional"] else 1) * a["num_layers"]
        h = (stack, a.get("proj_size", 0) or a["hidden_size"])
        return ((h, (stack, a["hidden_size"])), "h_0, c_0") if cls.cell == LONG else ((h,), "h_0")

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        steps, features = sequence(shape, ctx)
        check_stated(a, "input_size", features, ctx)
        hidden, proj, layers = a["hidden_size"], a.get("proj_size", 0), a["num_layers"]
        if proj >= hidden:
            raise ctx.arg_error("proj_size", f"is {proj} but must be smaller than hidden_size ({hidden}), as PyTorch "
                                "requires", f"set proj_size below {hidden}, or 0 for no projection.")
        if a["dropout"] and layers == 1:
            ctx.warn(f"dropout {a['dropout']} does nothing with num_layers 1: PyTorch adds it between stacked "
                     "layers only (and warns too)")
        directions = 2 if a["bidirectional"] else 1
        width = proj or hidden  # what each direction outputs

        def recurrence(inputs: Q, projected: bool = True) -> Recurrence:
            return Recurrence(cls.cell, inputs, Q.of(hidden, "hidden"), 2 if a["bias"] else 0,
                              Q.of(proj, "proj") if proj and projected else None)

        first, upper = recurrence(Q.of(features, "in")), recurrence(Q.of(directions * width, "in"))
        params, per_step = stacked(first, upper, layers, directions, "params"), stacked(
            first, upper, layers, directions, "step_macs")
        macs = Q.of(steps, "T") * per_step
        ops = merged(scaled(first.step_ops(), steps * directions),
                     scaled(upper.step_ops(), steps * directions * (layers - 1)))
        if proj:  # the same LSTM without its projection (what thop counts)
            plain = recurrence(Q.of(features, "in"), False), recurrence(Q.of(directions * hidden, "in"), False)
            ops[UNPROJECTED_MACS] = steps * stacked(*plain, layers, directions, "step_macs").value
        elif cls.cell == LONG:
            ops[FUSED_LSTM_MACS] = macs.value
        figures = first.gate_steps()
        if layers > 1:
            figures += (Derivation("first layer params", both(first.params(), directions)),
                        Derivation("upper layer params", both(upper.params(), directions), "(each)"))
        return LayerResult((steps, directions * width), params, ZERO, macs, steps=figures, ops=ops,
                           extra_outputs=cls.state_shapes(a, shape, ctx)[0])


def both(q: Q, directions: int) -> Q:
    return Q.of(directions, "dirs") * q if directions > 1 else q


def stacked(first: Recurrence, upper: Recurrence, layers: int, directions: int, figure: str) -> Q:
    """The first layer's figure, plus the upper layers' (which read the layer below's output)."""
    bottom = both(getattr(first, figure)(), directions)
    if layers == 1:
        return bottom
    return bottom + (Q.of(layers, "layers") - 1) * both(getattr(upper, figure)(), directions)


class TorchRNN(TorchRecurrent):
    name, cell = "RNN", ELMAN
    args = (*TORCH_ARGS[:3], NONLINEARITY, *TORCH_ARGS[3:])


class TorchLSTM(TorchRecurrent):
    name, cell = "LSTM", LONG
    args = (*TORCH_ARGS, Arg("proj_size", non_negative, 0, "LSTM only: the hidden state is projected to this size"))


class TorchGRU(TorchRecurrent):
    name, cell = "GRU", GATED
    args = TORCH_ARGS


@register
class RNN(TorchRNN):
    name = "RNN"
    doc = ("Elman RNN (PyTorch) over a sequence (T, F): h = tanh (or relu)(W x + b + U h + b') at each step; "
           "num_layers, bidirectional.")

    @classmethod
    def parse_args(cls, raw: Mapping[str, Any], positional: Any, has_positional: bool,
                   ctx: Context) -> dict[str, Any]:
        for key in ("cell", "units"):
            if key in raw:
                raise ArgumentError(f"RNN `{key}` is Keras's: its RNN wraps a cell object, which a spec cannot write",
                                    ctx.arg_locs.get(key, ctx.loc), "use Keras's SimpleRNN, LSTM or GRU, or PyTorch's "
                                    "RNN with hidden_size.")
        return super().parse_args(raw, positional, has_positional, ctx)


# ---- names both frameworks use ----------------------------------------------------------------------


class Shared(Stateful):
    """A name of both frameworks: Keras's layer with Keras's arguments, PyTorch's with PyTorch's."""

    cost = Cost.RECURRENT
    keras: ClassVar[type[LayerKind]]
    torch: ClassVar[type[LayerKind]]
    example, example_rank = "{units: 8}", 1

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        ours = {arg.name for arg in cls.keras.own_args()}
        return cls.keras.own_args() + tuple(arg for arg in cls.torch.own_args() if arg.name not in ours)

    @classmethod
    @functools.cache
    def all_args(cls) -> tuple[Arg, ...]:
        ours = {arg.name for arg in cls.keras.all_args()}
        return cls.keras.all_args() + tuple(arg for arg in cls.torch.all_args() if arg.name not in ours)

    @classmethod
    def parse_args(cls, raw: Mapping[str, Any], positional: Any, has_positional: bool,
                   ctx: Context) -> dict[str, Any]:
        chosen = cls.vocabulary(raw, has_positional, ctx)
        return {**chosen.parse_args(raw, positional, has_positional, ctx), KIND: chosen}

    @classmethod
    @functools.cache
    def required_args(cls) -> tuple[Arg, ...]:
        # Either vocabulary's required arguments (`units` or `hidden_size`): parse_args checks which.
        return ()

    @classmethod
    def type_label(cls, args: Mapping[str, Any]) -> str:
        """`LSTM (PyTorch)` when written in PyTorch's words, as the type column says."""
        keras, torch = cls.keras.known_args(), cls.torch.known_args()
        return f"{cls.name} (PyTorch)" if any(k in torch and k not in keras for k in args) else cls.name

    @classmethod
    def vocabulary(cls, raw: Mapping[str, Any], has_positional: bool, ctx: Context) -> type[LayerKind]:
        """Keras's definition or PyTorch's, by the arguments written (a scalar sets Keras's `units`)."""
        known, keras, torch = cls.known_args(), cls.keras.known_args(), cls.torch.known_args()
        for key in raw:
            if key not in known:
                raise ArgumentError(f"{cls.name} has no argument `{key}`", ctx.arg_locs.get(key, ctx.loc),
                                    did_you_mean(key, known) or f"Keras's {cls.name} takes units, use_bias, "
                                    "return_sequences, ...; PyTorch's hidden_size, num_layers, bias, bidirectional, "
                                    "...")
        keras_only = [key for key in raw if key in keras and key not in torch]
        torch_only = [key for key in raw if key in torch and key not in keras]
        if keras_only and torch_only:
            k, t = keras_only[0], torch_only[0]
            later = max(k, t, key=list(raw).index)
            raise ArgumentError(
                f"{cls.name} mixes Keras's `{k}` and PyTorch's `{t}`: the two frameworks' {cls.name} layers take "
                "different arguments (and count biases differently)", ctx.arg_locs.get(later, ctx.loc),
                f"write Keras's {cls.name} (units, use_bias, return_sequences, ...) or PyTorch's (hidden_size, bias, "
                "num_layers, bidirectional, ...), not both.")
        if torch_only:
            return cls.torch
        if not has_positional and "units" not in raw:
            raise ArgumentError(f"{cls.name} needs `units` (Keras) or `hidden_size` (PyTorch)", ctx.loc,
                                f"add one, e.g. `- {cls.name}: {{units: 64}}` for Keras's layer or "
                                f"`- {cls.name}: {{hidden_size: 64}}` for PyTorch's.")
        return cls.keras

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        kind: type[LayerKind] = a[KIND]
        return kind.compute(a, shape, ctx)

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        kind: type[LayerKind] = a[KIND]
        return kind.compute_many(a, shapes, names, ctx)


@register
class LSTM(Shared):
    name, keras, torch = "LSTM", KerasLSTM, TorchLSTM
    doc = ("Long short-term memory over a sequence (T, F): 4 gates. Keras's with `units` (one bias per gate), "
           "PyTorch's with `hidden_size` (two, and num_layers, bidirectional, proj_size).")


@register
class GRU(Shared):
    name, keras, torch = "GRU", KerasGRU, TorchGRU
    doc = ("Gated recurrent unit over a sequence (T, F): 3 gates. Keras's with `units` (reset_after: two biases "
           "per gate, else one), PyTorch's with `hidden_size` (two, and num_layers, bidirectional).")


# ---- PyTorch cells ---------------------------------------------------------------------------------------

CELL_ARGS = (Arg("hidden_size", positive), Arg("input_size", optional(positive), None), Arg("bias", boolean, True),
             Arg("device", anything, None), Arg("dtype", anything, None))


class TorchCell(Stateful):
    """One step of a PyTorch cell on (F,), the batch omitted: the new hidden state h' (H,), and LSTMCell's
    cell state c' (H,) as output 1. The previous state h (and c) may follow the input: `inputs: [x, h, c]`."""

    framework = "torch"
    cost = Cost.RECURRENT_CELL
    cell: ClassVar[str]
    example, example_rank = "{hidden_size: 8}", 0

    @classmethod
    def parse_args(cls, raw: Mapping[str, Any], positional: Any, has_positional: bool,
                   ctx: Context) -> dict[str, Any]:
        if "units" in raw:
            raise ArgumentError(f"{cls.name} `units` is Keras's, whose {cls.name} is a cell for keras.layers.RNN, "
                                "not a layer of its own", ctx.arg_locs.get("units", ctx.loc),
                                "use Keras's SimpleRNN, LSTM or GRU over a sequence, or write PyTorch's cell with "
                                "hidden_size.")
        return super().parse_args(raw, positional, has_positional, ctx)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if len(shape) != 1:
            raise ctx.fail(f"runs one step, on (F,) features (the batch left out), but gets {format_shape(shape)}: "
                           "PyTorch's cells take 1-D or 2-D inputs", "give it one step's features, or run RNN, LSTM "
                           "or GRU over a sequence (T, F).")
        check_stated(a, "input_size", shape[0], ctx)
        r = Recurrence(cls.cell, Q.of(shape[0], "in"), Q.of(a["hidden_size"], "hidden"), 2 if a["bias"] else 0)
        return LayerResult((a["hidden_size"],), r.params(), ZERO, r.step_macs(), steps=r.gate_steps(),
                           ops=scaled(r.step_ops(), 1), extra_outputs=cls.state_shapes(a, shape, ctx)[0][1:])

    @classmethod
    def state_shapes(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> tuple[tuple[Shape, ...], str]:
        h = (a["hidden_size"],)
        return ((h, h), "h, c") if cls.cell == LONG else ((h,), "h")


@register
class RNNCell(TorchCell):
    name, cell = "RNNCell", ELMAN
    doc = "One step of an Elman RNN (PyTorch): h' = tanh (or relu)(W x + b + U h + b')."
    args = (*CELL_ARGS[:2], NONLINEARITY, *CELL_ARGS[2:])


@register
class LSTMCell(TorchCell):
    name, cell = "LSTMCell", LONG
    doc = "One step of an LSTM (PyTorch): 4 gates, two bias vectors each; outputs h' and c' (output 1)."
    args = CELL_ARGS


@register
class GRUCell(TorchCell):
    name, cell = "GRUCell", GATED
    doc = "One step of a GRU (PyTorch): 3 gates, two bias vectors each."
    args = CELL_ARGS


# ---- Keras ConvLSTM ---------------------------------------------------------------------------------------

class ConvLSTM(LayerKind):
    """An LSTM whose four gates are convolutions: the step's input through the layer's window (its
    strides, padding and dilation), the previous state (H' x W' x filters) through a 'same' window of
    stride 1. Input (T, *spatial, C) in the spec's data format. With `return_state`, its final states h
    and c, each the shape of one step's output, are outputs 1 and 2."""

    rank: ClassVar[int]
    cost = Cost.RECURRENT
    example = "{filters: 4, kernel_size: 3}"
    doc = ("LSTM with convolutional gates (Keras) over a sequence of feature maps (T, ..., C): 4 gates, each a "
           "convolution of the step's input and one of the previous state ('same', stride 1).")

    @classmethod
    def arguments(cls) -> tuple[Arg, ...]:
        rank = cls.rank
        return (Arg("filters", positive), Arg("kernel_size", ints(rank)), Arg("strides", ints(rank), 1),
                Arg("padding", choice("valid", "same"), "valid"), DATA_FORMAT, Arg("dilation_rate", ints(rank), 1),
                *KERAS_ARGS[1:], *GATED_ARGS[:1], Arg("unit_forget_bias", boolean, True))

    @classmethod
    def example_input(cls, channels_last: bool) -> Shape:
        return (3, *cls.rank * (9,), 4) if channels_last else (3, 4, *cls.rank * (9,))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if max(a["strides"]) > 1 and max(a["dilation_rate"]) > 1:
            raise ctx.arg_error("dilation_rate", f"cannot be above 1 when strides are above 1 in Keras "
                                f"(strides={list(a['strides'])}, dilation_rate={list(a['dilation_rate'])})",
                                "use strides 1 with dilation, or dilation_rate 1 with strides.")
        if len(shape) != cls.rank + 2:
            raise ctx.fail(f"expects a sequence of {cls.rank}-D feature maps, {cls.rank + 2}-D (T, ..., C), but gets "
                           f"{format_shape(shape)}", f"give it (time steps, {cls.rank} spatial dims, channels).")
        steps = shape[0]
        spatial, channels = ctx.split_channels(shape[1:], cls.rank)
        names, floors = dim_names(cls.rank), list[Floor]()
        lengths = [window_length(n, f, s, d, a["padding"], name, floors)
                   for n, f, s, d, name in zip(spatial, a["kernel_size"], a["strides"], a["dilation_rate"], names)]
        for name, q in zip(names, lengths):
            if sym.certainly_below(q.value, 1):
                raise ctx.fail(f"the output {name} would be {q.render(True)} = {q.render()} = {q.value}: the kernel "
                               "is larger than the input", "use a smaller kernel_size or padding: same.", "kernel_size")
        if floors:
            ctx.warn(floor_warning(floors))
        kernel_names = (["F"] * cls.rank if len(set(a["kernel_size"])) == 1
                        else [f"F{name[0]}" for name in names])
        kernel = Q.product(Q.of(k, n) for k, n in zip(a["kernel_size"], kernel_names))
        C, M = Q.of(channels, "C"), Q.of(a["filters"], "M")
        positions = Q.product(Q.of(q.value, f"{name[0].upper()}'") for q, name in zip(lengths, names))
        gate = kernel * (C + M) * M + M if a["use_bias"] else kernel * (C + M) * M
        params = Q.of(4) * gate
        macs = Q.of(steps, "T") * (Q.of(4) * positions * M * (kernel * (C + M)))
        trainable, frozen = trainable_split(params, ZERO, a)
        values = positions.value * a["filters"]  # one state's values
        ops = scaled({GATE_VALUES: 4 * values, BIAS_ADDS: 4 * values * int(a["use_bias"]), GATE_PRODUCTS: 4 * values,
                      CELL_STATE: values}, steps)
        figures = tuple(Derivation(output_label(name), q) for name, q in zip(names, lengths)) + tuple(
            Derivation(f"gate {letter}", gate, f"({what}: {letter} = {act}(W * x + b + U * h))")
            for letter, what, act in GATE_NAMES[LONG])
        out = ctx.join_channels(tuple(q.value for q in lengths), a["filters"])
        return LayerResult((steps, *out) if a["return_sequences"] else out, trainable, frozen, macs, steps=figures,
                           ops=ops, extra_outputs=(out, out) if a["return_state"] else ())  # Keras's h and c


for _rank in (1, 2, 3):
    define_ranked(ConvLSTM, f"ConvLSTM{_rank}D", _rank)
