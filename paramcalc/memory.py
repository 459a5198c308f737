"""Memory, by formula: bytes at any dtype and batch, the inference peak of live activations, and
the memory of training (parameters, gradients, optimizer state, activations kept for backward).

The written model (README, "Memory and time"):

- A tensor's bytes are its values x the bits of its dtype / 8 (int4: two values a byte, rounded up).
  Weights (parameters and buffers) are at the weights dtype, activations at the activations dtype.
- Storage: each layer's outputs are one new tensor, except a view (`LayerKind.view`: Flatten, Chunk,
  Identity, ...), an in-place layer (`inplace: true`) and, at inference, dropout (the identity), whose
  output is its input's storage, as in PyTorch.
- Inference liveness: walking the layers in order, a tensor lives from the layer that makes it until
  its last reader has run (a model output until the end); the model inputs count until their last
  reader. The peak is the largest total of live bytes while a layer runs (its inputs and its output).
- Training keeps, per layer, what its kind declares (`LayerKind.saves_of`, layers/traits.py `Saves`);
  a storage kept by several layers counts once; an in-place layer that keeps its input keeps a copy
  (its input is overwritten); max pooling adds an int64 index per output value; dropout a mask (one
  byte a value, as CUDA's fused kernel: `mask_bits`); normalisation a float32 mean and 1/std per group.

Pure functions over a `Report` (ints, or sympy expressions with free input dimensions)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from paramcalc.layers.base import LayerKind
from paramcalc.layers.ops import BATCH_NORM, GROUP_NORM, LAYER_NORM, RMS_NORM, elements
from paramcalc.layers.traits import Cost, Saves
from paramcalc.report import LayerRow, Report, batch_size
from paramcalc.spec.model import CHANNELS_LAST, split_reference

Number = Any  # an int, or a sympy expression when the input has free dimensions

# Bits per value of each dtype `--dtype` takes.
DTYPES: dict[str, int] = {"float32": 32, "float16": 16, "bfloat16": 16, "float8": 8, "int8": 8, "int4": 4}
# Optimizer state: values kept per trainable parameter.
OPTIMIZERS: dict[str, int] = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
INDEX_BITS = 64  # max pooling's indices are int64
# Normalisation statistics: float32 (cuDNN keeps them so for half-precision inputs; PyTorch on the CPU keeps
# them in the activation dtype, as a test against its measurement says).
STAT_BITS = 32
MASK_BITS = 8  # dropout's mask: bool on CUDA (PyTorch on the CPU keeps it in the activation dtype)


class Precision(NamedTuple):
    """The dtypes: weights (parameters, buffers, gradients) and activations."""

    weights: str = "float32"
    activations: str = "float32"

    @property
    def weight_bits(self) -> int:
        return DTYPES[self.weights]

    @property
    def activation_bits(self) -> int:
        return DTYPES[self.activations]

    @property
    def compute(self) -> str:
        """The dtype the arithmetic runs in: the wider of the two (int4 weights with float16
        activations are dequantised to float16), a float when they are as wide."""
        a, w = self.activations, self.weights
        if DTYPES[a] != DTYPES[w]:
            return a if DTYPES[a] > DTYPES[w] else w
        return a if not a.startswith("int") else w


def nbytes(values: Number, bits: int) -> Number:
    """Bytes of `values` values of `bits` bits each (rounded up to whole bytes)."""
    if isinstance(values, int):
        return -(-values * bits // 8)
    return values * bits / 8


def total(numbers: Iterable[Number]) -> Number:
    return sum(numbers, 0)


# ---- storages ---------------------------------------------------------------------------------------

def in_place(row: LayerRow) -> bool:
    return row.args.get("inplace") is True


def base_name(name: str) -> str:
    return split_reference(name)[0]


class Storages(NamedTuple):
    """Which storage each readable name holds, and each storage's bytes."""

    size: list[Number]  # storage id -> bytes
    of: dict[str, int]  # layer or input name -> storage id
    rows: list[int]  # row index -> the storage of its output
    inputs: set[int]  # the model inputs' storages
    reads: list[list[int]]  # row index -> the storages of its inputs, in order


def storages(report: Report, bits: int, training: bool = False) -> Storages:
    return storages_for_both(report, bits)[1 if training else 0]


def storages_for_both(report: Report, bits: int) -> tuple[Storages, Storages]:
    """The storages at inference and in training. They differ only where a dropout aliases its input
    at inference (it is the identity there): without one, one walk serves both (the same object)."""
    inference, dropouts = _storages(report, bits, training=False)
    return inference, (_storages(report, bits, training=True)[0] if dropouts else inference)


def _storages(report: Report, bits: int, training: bool) -> tuple[Storages, bool]:
    """The storages, and whether a dropout aliases its input (inference only)."""
    batch = batch_size(report.input_shape)
    size: list[Number] = []
    of: dict[str, int] = {}
    for name, shape in report.inputs.items():
        of[name] = len(size)
        size.append(nbytes(elements(shape[1:]) * batch, bits))
    inputs = set(of.values())
    rows: list[int] = []
    # Each row's inputs are resolved to storages once, here, for the walks that read them all: on a
    # 100,000-layer graph resolving them again in each walk was a good part of the memory figures' time.
    reads: list[list[int]] = []
    # Each type's kind, whether it is a dropout (None: its arguments say, as for a wrapper), a view, and
    # takes no input: looked up once per type, as a large model has a few types over 100,000 rows.
    kinds: dict[str, tuple[Any, bool | None, bool, bool]] = {}
    dropouts = False
    for row in report.rows:
        # Layers above it: each name is defined once. A name in `of` is bare (names hold no brackets):
        # only `name[k]` needs splitting.
        try:
            read = [of[n] for n in row.inputs]
        except KeyError:
            read = [of[n] if n in of else of[base_name(n)] for n in row.inputs]
        known = kinds.get(row.type)
        if known is None:
            kind = row.kind
            known = kinds[row.type] = (kind, None if by_arguments(kind, "cost_of") else kind.cost is Cost.DROPOUT,
                                       kind.view, kind.no_input)
        kind, dropout, view, no_input = known
        if read and (view or row.args.get("inplace") is True):  # (in_place, inline: once per row)
            sid = read[0]
        elif read and not training and (kind.cost_of(row.args) is Cost.DROPOUT if dropout is None else dropout):
            sid = read[0]
            dropouts = True
        else:
            sid = len(size)  # a Parameter's output is a weight (in the parameter bytes), not an activation
            if no_input:
                size.append(0)
            else:
                values = output_values(row, batch) if row.extra_outputs else elements(row.output_shape[1:]) * batch
                size.append(-(-values * bits // 8) if values.__class__ is int else nbytes(values, bits))
        of[row.name] = sid
        rows.append(sid)
        reads.append(read)
    return Storages(size, of, rows, inputs, reads), dropouts


def by_arguments(kind: type[LayerKind], method: str) -> bool:
    """Whether a kind's `cost_of` or `saves_of` may answer by a layer's arguments (a wrapper's by its inner
    layer): it has its own, where LayerKind's answer by the kind alone (saves_of through cost_of)."""
    own = getattr(kind, method).__func__ is not getattr(LayerKind, method).__func__
    return own or (method == "saves_of" and by_arguments(kind, "cost_of"))


def output_values(row: LayerRow, batch: int) -> Number:
    if not row.extra_outputs:  # one output, as most layers have: no generator to sum
        return elements(row.output_shape[1:]) * batch
    return total(elements(shape[1:]) for shape in row.output_shapes) * batch


# ---- inference: liveness ----------------------------------------------------------------------------

class Peak(NamedTuple):
    bytes: Number
    layer: str | None  # where it occurs (None when that depends on free dimensions)


def inference_peak(report: Report, bits: int = 32, count_inputs: bool = True, s: Storages | None = None) -> Peak:
    """The largest total of live activation bytes while a layer runs, and that layer. A tensor lives
    until its last reader has run; `count_inputs=False` leaves the model inputs out (held by the caller).
    `s`: the inference storages at `bits`, when the caller has them already."""
    return largest(live_profile(report, bits, count_inputs, s))


def live_profile(report: Report, bits: int = 32, count_inputs: bool = True, s: Storages | None = None
                 ) -> list[tuple[Number, str]]:
    """(live bytes while the layer runs, its name) for every layer, in order: its inputs, its output, and
    every tensor made earlier that a later layer (or the model's output) still reads."""
    s = storages(report, bits) if s is None else s
    end = len(report.rows)
    last: dict[int, int] = {}
    for i, read in enumerate(s.reads):
        for sid in read:
            last[sid] = i
    for name in report.outputs:
        last[s.of[base_name(name)]] = end
    # What each layer's run frees: the storages it is the last reader of, and its own output when nothing
    # reads it (a storage is read at or after the layer that makes it, so no other layer frees it).
    frees: list[list[int]] = [[] for _ in s.rows]
    for sid, i in last.items():
        if i < end:
            frees[i].append(sid)
    for i, sid in enumerate(s.rows):
        if sid not in last:
            frees[i].append(sid)
    inputs = s.inputs
    size = s.size
    live: set[int] = {sid for sid in inputs if count_inputs and sid in last}
    now: Number = total(size[sid] for sid in live)
    profile: list[tuple[Number, str]] = []
    for row, sid, done in zip(report.rows, s.rows, frees):
        if sid not in live and (count_inputs or sid not in inputs):
            live.add(sid)
            now += size[sid]
        profile.append((now, row.name))
        for freed in done:
            if freed in live:
                live.remove(freed)
                now -= size[freed]
    return profile


def largest(candidates: list[tuple[Number, str]]) -> Peak:
    if not candidates:
        return Peak(0, None)
    best, where = candidates[0]
    for n, name in candidates:  # plain numbers: the largest, and the first layer where it occurs
        if not isinstance(n, int):
            break
        if n > best:
            best, where = n, name
    else:
        return Peak(best, where)
    import sympy

    first: dict[Any, str] = {}
    for n, name in candidates:
        first.setdefault(sympy.expand(n), name)
    numbers = [n for n in first if n.is_number]
    for n in sorted(numbers)[:-1]:  # of the totals that are plain numbers only the largest can be the peak
        del first[n]
    # sympy simplifies a Max by comparing its terms pairwise (seconds for a few dozen terms with floors):
    # past a dozen distinct totals the Max stays as written, exact but longer.
    peak = sympy.Max(*first, evaluate=len(first) <= SIMPLIFIED_MAX)
    return Peak(peak, first.get(peak))


SIMPLIFIED_MAX = 12


# ---- training ---------------------------------------------------------------------------------------

# What keeps its input (a tuple, not a set: `in` compares the members by identity first, hashing none)
_KEEPS_INPUT = (Saves.INPUT, Saves.INPUT_AND_OUTPUT, Saves.INPUT_AND_INDICES, Saves.INPUT_AND_STATS)


def saved_activation_bytes(report: Report, bits: int = 32, mask_bits: int = MASK_BITS, stat_bits: int = STAT_BITS,
                           s: Storages | None = None) -> Number:
    """Bytes of the activations the backward pass needs, as PyTorch's autograd keeps them (module doc).
    `s`: the training storages at `bits`, when the caller has them already."""
    s = storages(report, bits, training=True) if s is None else s
    batch = batch_size(report.input_shape)
    kept: set[int] = set()
    extra: list[Number] = []
    # Each type's kind, and what it saves (None: its arguments say), looked up once per type.
    kinds: dict[str, tuple[Any, Saves | None]] = {}
    for row, read, own in zip(report.rows, s.reads, s.rows):
        known = kinds.get(row.type)
        if known is None:
            kind = row.kind
            known = kinds[row.type] = (kind, None if by_arguments(kind, "saves_of") else kind.saves_of(row.args))
        kind, saves = known
        if saves is None:
            saves = kind.saves_of(row.args)
        if saves in _KEEPS_INPUT:
            if row.args.get("inplace") is True:  # (in_place, inline) its input is overwritten: autograd keeps a copy
                extra.append(s.size[read[0]])
            else:
                kept.update(read)
        if saves is Saves.OUTPUT or saves is Saves.INPUT_AND_OUTPUT:
            kept.add(own)
        if saves is Saves.INPUT_AND_INDICES:
            extra.append(nbytes(output_values(row, batch), INDEX_BITS))
        elif saves is Saves.INPUT_AND_STATS:
            extra.append(nbytes(2 * statistics(row, report.data_format, batch), stat_bits))
        elif saves is Saves.MASK:
            extra.append(nbytes(output_values(row, batch), mask_bits))
        elif saves is Saves.SAMPLE_MASK:
            extra.append(nbytes(batch, bits))
    return total(s.size[sid] for sid in sorted(kept)) + total(extra)


def statistics(row: LayerRow, data_format: str, batch: int) -> Number:
    """Groups a normalisation layer keeps a mean and 1/std for: batch norm one per channel; layer and
    RMS norm one per normalised vector; group norm one per group and sample."""
    shape = row.output_shape[1:]
    if not shape:
        return 0
    channels_last = row.args.get("data_format", data_format) == CHANNELS_LAST or not row.kind.spatial
    channels = shape[-1] if channels_last else shape[0]
    if BATCH_NORM in row.ops:
        return channels
    if GROUP_NORM in row.ops:
        return batch * int(row.args.get("num_groups", row.args.get("groups", 1)))
    if LAYER_NORM in row.ops or RMS_NORM in row.ops:
        return batch * elements(shape) // channels if isinstance(channels, int) else batch * elements(shape) / channels
    return 0


class Training(NamedTuple):
    optimizer: str
    mixed_precision: bool
    parameter_bytes: Number
    gradient_bytes: Number
    optimizer_bytes: Number
    saved_activation_bytes: Number

    @property
    def total_bytes(self) -> Number:
        return self.parameter_bytes + self.gradient_bytes + self.optimizer_bytes + self.saved_activation_bytes


def training_memory(report: Report, precision: Precision, optimizer: str = "adam", mixed_precision: bool = False,
                    mask_bits: int = MASK_BITS, s: Storages | None = None) -> Training:
    """Parameters (all, at the weights dtype), gradients (trainable ones, same dtype), optimizer state
    (momentum one value, Adam two, per trainable parameter: float32 with mixed precision, which also
    keeps a float32 master copy of the trainable weights, counted here as ZeRO counts it; else at the
    weights dtype) and the activations kept for the backward pass."""
    w = precision.weight_bits
    state_bits = 32 if mixed_precision else w
    trainable = report.trainable_params
    state = OPTIMIZERS[optimizer] * nbytes(trainable, state_bits) + (nbytes(trainable, 32) if mixed_precision else 0)
    return Training(optimizer, mixed_precision, nbytes(report.total_params, w), nbytes(trainable, w), state,
                    saved_activation_bytes(report, precision.activation_bits, mask_bits, s=s))


def memory_dict(report: Report, precision: Precision, optimizer: str = "adam",
                mixed_precision: bool = False) -> dict[str, Any]:
    """The JSON report's `memory` object."""
    at_inference, in_training = storages_for_both(report, precision.activation_bits)
    peak = inference_peak(report, precision.activation_bits, s=at_inference)
    training = training_memory(report, precision, optimizer, mixed_precision, s=in_training)
    return {
        "batch": batch_size(report.input_shape),
        "weights_dtype": precision.weights,
        "activations_dtype": precision.activations,
        "param_bytes": nbytes(report.total_params, precision.weight_bits),
        # The download: every parameter and buffer at each dtype.
        "file_bytes": {dtype: nbytes(report.total_params, bits) for dtype, bits in DTYPES.items()},
        "peak_activation_bytes": peak.bytes,
        "peak_activation_layer": peak.layer,
        "training": {
            "optimizer": optimizer,
            "mixed_precision": mixed_precision,
            "parameter_bytes": training.parameter_bytes,
            "gradient_bytes": training.gradient_bytes,
            "optimizer_bytes": training.optimizer_bytes,
            "saved_activation_bytes": training.saved_activation_bytes,
            "total_bytes": training.total_bytes,
        },
    }


class Costs(NamedTuple):
    """What `summary` was asked to cost: the dtypes, the optimizer, and a device for the roofline."""

    precision: Precision = Precision()
    optimizer: str = "adam"
    mixed_precision: bool = False
    device: Any = None  # a roofline.Device, or None for no time estimate
    budget: int | None = None  # --memory-budget, in bytes
    training: bool = False  # the budget is for training (an --optimizer was given), else for inference


BYTE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}


def parse_bytes(text: str) -> int:
    """--memory-budget: 4G, 512M, 1.5GB, 8GiB, 1000000: base-1024 units, as paramcalc prints bytes."""
    import re

    from paramcalc.errors import Location, SpecError

    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGTP]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not match or float(match.group(1)) <= 0:
        raise SpecError(f"--memory-budget {text!r} is not a size", Location("--memory-budget"),
                        "write a number of bytes with an optional K, M, G or T (base 1024), e.g. --memory-budget 4G.")
    return int(float(match.group(1)) * BYTE_UNITS[match.group(2).upper()])


def needed_bytes(report: Report, costs: Costs) -> Number:
    """What the memory budget is held against: for training (an --optimizer given) the training total;
    else inference, the parameters plus the peak of live activations."""
    p = costs.precision
    if costs.training:
        return training_memory(report, p, costs.optimizer, costs.mixed_precision).total_bytes
    return nbytes(report.total_params, p.weight_bits) + inference_peak(report, p.activation_bits).bytes


def sweep_figures(report: Report, costs: Costs | None) -> dict[str, Any]:
    """A sweep combination's memory and time figures, for sorting and filtering sweeps: the inference
    `peak_activation_bytes`, the `training_bytes`, with a device `roofline_seconds`, and with a budget
    `needed_bytes` and `fits`."""
    costs = costs or Costs()
    p = costs.precision
    found: dict[str, Any] = {
        "peak_activation_bytes": inference_peak(report, p.activation_bits).bytes,
        "training_bytes": training_memory(report, p, costs.optimizer, costs.mixed_precision).total_bytes,
    }
    if costs.device is not None:
        from paramcalc.roofline import roofline, total_seconds

        found["roofline_seconds"] = total_seconds(roofline(report, costs.device, p))
    if costs.budget is not None:
        need = needed_bytes(report, costs)
        found["needed_bytes"] = need
        found["fits"] = bool(need <= costs.budget) if isinstance(need, int) else None
    return found


def attach_costs(data: dict[str, Any], report: Report, costs: Costs | None) -> None:
    """Add to the JSON report (`data`) the `memory` object and, with a device, each layer's
    `roofline`, the report's `roofline_seconds` and the `device` they assume."""
    costs = costs or Costs()
    data["memory"] = memory_dict(report, costs.precision, costs.optimizer, costs.mixed_precision)
    if costs.device is None:
        return
    from paramcalc.roofline import device_dict, roofline, total_seconds

    times = roofline(report, costs.device, costs.precision)
    for layer, time in zip(data["layers"], times):
        layer["roofline"] = time.as_dict()
    data["roofline_seconds"] = total_seconds(times)
    data["device"] = device_dict(costs.device, costs.precision)
