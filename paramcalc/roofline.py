"""A roofline time estimate per layer: the lower bound max(FLOPs / peak, bytes / bandwidth) of a device.

The written model (README, "Memory and time"):

- FLOPs = 2 x MACs + the element-wise work (`ELEMENTWISE_FLOPS`: a bias add 1 per value, batch
  norm 2, its scale and shift 2 more, layer norm 5, an activation 1, a softmax 3, a pooling window
  1 per value read, ...), from the operations each layer reports (layers/ops.py).
- Bytes moved = the layer's weights (at the weights dtype) + its inputs + its outputs (at the
  activations dtype), each read or written once from memory; a view (Flatten, Chunk: no kernel)
  moves nothing and computes nothing.
- The arithmetic runs at the device's peak for the compute dtype (`Precision.compute`); the bound is
  "compute" when FLOPs / peak is the larger term, else "memory".

Nothing here knows launch overheads, caches, fusion or utilisation: the estimate is a floor."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from paramcalc.errors import Location, SpecError
from paramcalc.layers import ops as op
from paramcalc.layers.ops import elements
from paramcalc.memory import DTYPES, Number, Precision, base_name, nbytes, total
from paramcalc.report import LayerRow, Report, batch_size

DEVICES_FILE = Path(__file__).parent / "data" / "devices.json"

# FLOPs per value counted by each operation of layers/ops.py; 0 for those that restate another
# figure (PLAIN_RELU is also in ACTIVATION) or are part of the MACs (SDPA_MACS, ...).
ELEMENTWISE_FLOPS: dict[str, int] = {
    op.BIAS_ADDS: 1, op.BATCH_NORM: 2, op.BATCH_NORM_AFFINE: 2, op.LAYER_NORM: 5, op.LAYER_NORM_AFFINE: 2,
    op.GROUP_NORM: 5, op.GROUP_NORM_AFFINE: 2, op.RMS_NORM: 4, op.LRN: 5, op.LRN_PADDED: 0,
    op.ACTIVATION: 1, op.PLAIN_RELU: 0, op.SOFTMAX: 3, op.POOL_WINDOW: 1, op.POOL_INPUT: 0,
    op.GLOBAL_AVG_POOL_2D: 0, op.AVG_POOL_OUTPUT: 1, op.UPSAMPLE: 1, op.ELEMENTWISE: 1,
    op.GATE_VALUES: 1, op.GATE_PRODUCTS: 1, op.CELL_STATE: 1,
    op.SDPA_MACS: 0, op.PROJECTION_MACS: 0, op.UNPROJECTED_MACS: 0, op.FUSED_LSTM_MACS: 0,
    op.BADDBMM_MACS: 0, op.ATTENTION_SCORE_MACS: 0, op.ATTENTION_VALUE_MACS: 0,
    # Figures of other reports (the KV cache, params by component), not work done by the forward pass.
    op.KV_CACHE_VALUES: 0, op.ATTENTION_PARAMS: 0, op.MLP_PARAMS: 0, op.NORM_PARAMS: 0,
    # Restatements for the counters' recipes: in the MACs, in BIAS_ADDS, or in ACTIVATION already.
    op.ATTENTION_MACS: 0, op.ATTENTION_BIAS_ADDS: 0, op.ATTENTION_OUTPUTS: 0, op.GELU: 0, op.TORCH_FUNCTIONAL: 0,
    op.TENSOR_MATMUL_MACS: 0,
    op.TORCH_LAYER_NORM: 0, op.TORCH_LAYER_NORM_AFFINE: 0,
}

# Where a device lists no rate for a dtype, the arithmetic runs in the first of these it lists.
FALLBACK: dict[str, tuple[str, ...]] = {
    "float32": ("float32", "float16", "bfloat16"),
    "float16": ("float16", "bfloat16", "float32"),
    "bfloat16": ("bfloat16", "float16", "float32"),
    "float8": ("float8", "float16", "bfloat16", "float32"),
    "int8": ("int8", "float16", "bfloat16", "float32"),
    "int4": ("int4", "int8", "float16", "bfloat16", "float32"),
}


class Device(NamedTuple):
    key: str
    name: str
    peak: dict[str, float]  # operations per second by dtype
    bandwidth: float  # bytes per second
    source: str = ""

    def rate(self, dtype: str) -> tuple[float, str]:
        """The peak for `dtype`, and the dtype it is listed under (see FALLBACK)."""
        for listed in FALLBACK[dtype]:
            if listed in self.peak:
                return self.peak[listed], listed
        raise SpecError(f"device `{self.key}` lists no peak for {dtype} or a dtype it could run in",
                        Location("--device"), "give --peak for it, or choose another --dtype.")


@cache
def devices() -> dict[str, Device]:
    data = json.loads(DEVICES_FILE.read_text(encoding="utf-8"))["devices"]
    return {key: Device(key, d["name"], {k: float(v) for k, v in d["peak"].items()}, float(d["bandwidth"]),
                        d["source"]) for key, d in data.items()}


SUFFIXES = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}


def parse_rate(text: str, option: str) -> float:
    """312T, 2.0T, 900G, 1.5e12: a positive number with an optional decimal K/M/G/T/P suffix."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([KMGTP]?)\s*", text, re.IGNORECASE)
    if not match or float(match.group(1)) <= 0:
        raise SpecError(f"{option} {text!r} is not a rate", Location(option),
                        f"write a positive number with an optional K, M, G, T or P suffix, e.g. {option} 312T.")
    return float(match.group(1)) * SUFFIXES[match.group(2).upper()]


def device_for(name: str | None, peak: str | None = None, bandwidth: str | None = None) -> Device | None:
    """The --device preset, with --peak / --bandwidth replacing its figures; or a device made of
    --peak and --bandwidth alone (the peak then applies to every dtype)."""
    if name is None and peak is None and bandwidth is None:
        return None
    if name is not None:
        found = devices().get(name.lower())
        if found is None:
            from paramcalc.suggest import did_you_mean

            raise SpecError(f"no device preset named `{name}`", Location("--device"),
                            did_you_mean(name, devices()) or "`paramcalc devices` lists them; or give --peak and "
                            "--bandwidth.")
        if peak is None and bandwidth is None:
            return found
        return Device(found.key, found.name,
                      found.peak if peak is None else dict.fromkeys(DTYPES, parse_rate(peak, "--peak")),
                      found.bandwidth if bandwidth is None else parse_rate(bandwidth, "--bandwidth"), found.source)
    if peak is None or bandwidth is None:
        missing = "--bandwidth" if peak is not None else "--peak"
        raise SpecError(f"a device of your own needs both --peak and --bandwidth; {missing} is missing",
                        Location(missing), "give both (e.g. --peak 312T --bandwidth 2.0T), or name a --device.")
    rate = parse_rate(peak, "--peak")
    return Device("custom", f"custom ({peak} op/s, {bandwidth}B/s)", dict.fromkeys(DTYPES, rate),
                  parse_rate(bandwidth, "--bandwidth"))


# ---- per layer ------------------------------------------------------------------------------------

class LayerTime(NamedTuple):
    flops: Number
    bytes: Number
    seconds: Any  # float, or a sympy expression
    bound: str  # "compute", "memory" (or "memory or compute" when free dimensions leave it open)

    @property
    def intensity(self) -> Any:
        """FLOPs per byte moved."""
        if isinstance(self.flops, int) and isinstance(self.bytes, int):
            return self.flops / self.bytes if self.bytes else 0.0
        return self.flops / self.bytes

    def as_dict(self) -> dict[str, Any]:
        return {"flops": self.flops, "bytes": self.bytes, "intensity": self.intensity, "seconds": self.seconds,
                "bound": self.bound}


def layer_flops(row: LayerRow) -> Number:
    """2 x MACs plus the element-wise work (for the report's batch: MACs are, the ops per sample)."""
    per_sample = total(ELEMENTWISE_FLOPS[kind] * count for kind, count in row.ops.items() if kind in ELEMENTWISE_FLOPS)
    return 2 * row.macs + per_sample * batch_size(row.output_shape)


def sizes(report: Report) -> dict[str, Number]:
    """Values per sample of every readable name (layers, `name[k]` outputs, model inputs)."""
    found = {name: elements(shape[1:]) for name, shape in report.inputs.items()}
    for row in report.rows:
        found[row.name] = total(elements(s[1:]) for s in row.output_shapes)
        for k, shape in enumerate(row.output_shapes):
            found[f"{row.name}[{k}]"] = elements(shape[1:])
    return found


def layer_bytes(row: LayerRow, values: dict[str, Number], precision: Precision) -> Number:
    batch = batch_size(row.output_shape)
    weights = row.params + (row.tied[1] if row.tied else 0)
    read = total(values.get(name, values.get(base_name(name), 0)) for name in row.inputs) * batch
    written = values[row.name] * batch
    return nbytes(weights, precision.weight_bits) + nbytes(read + written, precision.activation_bits)


def roofline(report: Report, device: Device, precision: Precision) -> list[LayerTime]:
    """Each layer's FLOPs, bytes, time floor and bound on `device`, in the report's order."""
    peak, _ = device.rate(precision.compute)
    values = sizes(report)
    found = []
    for row in report.rows:
        if row.kind.view:
            found.append(LayerTime(0, 0, 0.0, "memory"))
            continue
        flops, moved = layer_flops(row), layer_bytes(row, values, precision)
        found.append(estimate(flops, moved, peak, device.bandwidth))
    return found


def estimate(flops: Number, moved: Number, peak: float, bandwidth: float) -> LayerTime:
    if isinstance(flops, int) and isinstance(moved, int):
        compute, memory = flops / peak, moved / bandwidth
        return LayerTime(flops, moved, max(compute, memory), "compute" if compute >= memory else "memory")
    import sympy

    compute, memory = sympy.Float(1 / peak) * flops, sympy.Float(1 / bandwidth) * moved
    try:
        bound = "compute" if bool(compute >= memory) else "memory"
    except TypeError:
        bound = "memory or compute"
    return LayerTime(flops, moved, sympy.Max(compute, memory), bound)


def total_seconds(times: list[LayerTime]) -> Any:
    return total(t.seconds for t in times)


def device_dict(device: Device, precision: Precision) -> dict[str, Any]:
    """The device a JSON report's roofline assumes, with the rate used for its compute dtype."""
    peak, listed = device.rate(precision.compute)
    return {"key": device.key, "name": device.name, "compute_dtype": precision.compute, "peak_dtype": listed,
            "peak": peak, "bandwidth": device.bandwidth, "source": device.source}


# ---- standard vs depthwise-separable, in time (`paramcalc compare --device`) ----------------------------

def kernel_seconds(macs: int, weights: int, read: int, written: int, device: Device, precision: Precision) -> float:
    """One convolution run as its own kernel: 2 x MACs FLOPs; its weights, input and output moved once."""
    peak, _ = device.rate(precision.compute)
    moved = nbytes(weights, precision.weight_bits) + nbytes(read + written, precision.activation_bits)
    return float(estimate(2 * macs, moved, peak, device.bandwidth).seconds)


def pair_seconds(pair: Any, input_values: int, device: Device, precision: Precision) -> tuple[float, float]:
    """(standard, separable) time of a `compare.ConvPair` reading `input_values` values: the separable
    form runs as two kernels, depthwise then pointwise, its N x m channel map written and read between."""
    positions, mid = pair.positions, pair.n * pair.multiplier
    standard = kernel_seconds(pair.standard_macs, pair.standard_weights, input_values, positions * pair.m,
                              device, precision)
    depthwise = kernel_seconds(positions * pair.area * mid, pair.area * mid, input_values, positions * mid,
                               device, precision)
    if pair.written == "depthwise only":
        return standard, depthwise
    pointwise = kernel_seconds(positions * mid * pair.m, mid * pair.m, positions * mid, positions * pair.m,
                               device, precision)
    return standard, depthwise + pointwise


class CompareTimes(NamedTuple):
    pairs: list[tuple[float, float]]  # (standard, separable) seconds per pair
    as_written: float
    all_standard: float
    all_separable: float
    depthwise_macs_share: float  # of the network's MACs, as written
    depthwise_time_share: float  # of its estimated time, as written


def compare_times(comparison: Any, device: Device, precision: Precision) -> CompareTimes:
    """Times for `paramcalc compare SPEC --device`: each pair both ways, and the whole network as written,
    with every pair standard, and with every pair separable (the other layers as written)."""
    from paramcalc.layers.base import Variant

    report = comparison.report
    times = roofline(report, device, precision)
    seconds = {row.name: float(t.seconds) for row, t in zip(report.rows, times)}
    rows = {row.name: row for row in report.rows}
    pairs, actual = [], 0.0
    for pair in comparison.pairs:
        names = pair.layer.split(" + ")
        first = rows[names[0]]
        pairs.append(pair_seconds(pair, elements(first.input_shape[1:]), device, precision))
        actual += sum(seconds[name] for name in names)
    written = sum(seconds.values())
    depthwise = [row for row in report.rows if row.structure is not None and row.structure.variant is Variant.DEPTHWISE]
    return CompareTimes(
        pairs, written, written - actual + sum(s for s, _ in pairs), written - actual + sum(s for _, s in pairs),
        sum(r.macs for r in depthwise) / report.total_macs if report.total_macs else 0.0,
        sum(seconds[r.name] for r in depthwise) / written if written else 0.0)
