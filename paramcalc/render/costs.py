"""The summary table's memory and time lines (`--dtype`, `--optimizer`, `--device`, ...), and its
per-layer time column: words around the figures of paramcalc/memory.py and paramcalc/roofline.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from paramcalc.render.fit import Prose
from paramcalc.render.numbers import formula, readable_bytes

if TYPE_CHECKING:
    from paramcalc.memory import Costs
    from paramcalc.report import DisplayRow, Report

_TIME_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def seconds_text(seconds: Any) -> str:
    """1.23 ms, 45.6 µs: three significant digits; a formula as it is."""
    if not isinstance(seconds, (int, float)):
        return f"{formula(seconds)} s"
    if seconds == 0:
        return "0 s"
    scale, unit = next((pair for pair in _TIME_UNITS if seconds >= pair[0]), _TIME_UNITS[-1])
    value = seconds / scale
    return f"{value:.3g} {unit}" if value >= 1 else f"{value:.2g} {unit}"


def rate_text(rate: float, unit: str) -> str:
    for scale, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if rate >= scale:
            return f"{rate / scale:.4g} {prefix}{unit}"
    return f"{rate:.4g} {unit}"


def layer_times(report: Report, shown: Sequence[DisplayRow], costs: Costs | None) -> dict[str, str]:
    """Each shown row's roofline time (a folded block: the sum of its layers'), or {} without a device."""
    if costs is None or costs.device is None:
        return {}
    from paramcalc.roofline import roofline

    times = roofline(report, costs.device, costs.precision)
    by_name: dict[str, Any] = {}
    for row, time in zip(report.rows, times):
        by_name[row.name] = time.seconds
        for instance, _ in row.path:  # what a block folded by --depth adds up to
            by_name[instance] = by_name.get(instance, 0) + time.seconds
    bound = {row.name: time.bound for row, time in zip(report.rows, times)}
    return {row.name: seconds_text(by_name.get(row.name, 0))
            + (f" {bound[row.name][0]}" if row.name in bound and time_shown(by_name[row.name]) else "")
            for row in shown}


def time_shown(seconds: Any) -> bool:
    return not isinstance(seconds, (int, float)) or seconds > 0


def costs_part(report: Report, costs: Costs | None) -> list[Prose]:
    """The memory lines, and the roofline's total with a device."""
    if costs is None:
        return []
    from paramcalc.memory import DTYPES, inference_peak, nbytes, training_memory
    from paramcalc.report import batch_size

    p = costs.precision
    batch = batch_size(report.input_shape)
    dtypes = p.weights if p.weights == p.activations else f"weights {p.weights}, activations {p.activations}"
    peak = inference_peak(report, p.activation_bits)
    train = training_memory(report, p, costs.optimizer, costs.mixed_precision)
    files = ", ".join(f"{d} {readable_bytes(nbytes(report.total_params, bits))}" for d, bits in DTYPES.items()
                      if d != p.weights and d not in ("bfloat16", "float8"))
    optimizer = costs.optimizer + (", mixed precision with float32 master weights" if costs.mixed_precision else "")
    where = f", while {peak.layer} runs" if peak.layer else ""
    lines = [
        [],
        [(f" Memory (batch {batch:,}, {dtypes}):", "bold")],
        [(f"  Parameters: {readable_bytes(nbytes(report.total_params, p.weight_bits))}", ""),
         (f"  (the file; {files})", "dim")],
        [(f"  Peak activations, inference: {readable_bytes(peak.bytes)}{where}", ""),
         ("  (tensors alive until their last reader has run)", "dim")],
        [(f"  Training ({optimizer}): {readable_bytes(train.total_bytes)}", "bold"),
         (f"  = parameters {readable_bytes(train.parameter_bytes)} + gradients {readable_bytes(train.gradient_bytes)}"
          f" + optimizer state {readable_bytes(train.optimizer_bytes)} + activations kept for backward "
          f"{readable_bytes(train.saved_activation_bytes)}", "")],
    ]
    if costs.budget is not None:
        from paramcalc.memory import needed_bytes

        need = needed_bytes(report, costs)
        what = "training" if costs.training else "inference (parameters + peak activations)"
        verdict = "" if not isinstance(need, int) else "yes" if need <= costs.budget else "no"
        lines.append([(f"  Fits {readable_bytes(costs.budget)}: {verdict}", "bold"),
                      (f"  ({what} needs {readable_bytes(need)})", "")])
    if costs.device is not None:
        lines.extend(roofline_lines(report, costs))
    return [Prose(lines)]


def roofline_lines(report: Report, costs: Costs) -> list[list[tuple[str, str]]]:
    from paramcalc.roofline import roofline, total_seconds

    device, p = costs.device, costs.precision
    times = roofline(report, device, p)
    peak, listed = device.rate(p.compute)
    seconds = total_seconds(times)
    unit = "OP/s" if listed.startswith("int") else "FLOP/s"
    rate = f"{rate_text(peak, unit)} at {listed}, {rate_text(device.bandwidth, 'B/s')}"
    lines = [[(f" Time on {device.name}: {seconds_text(seconds)}", "bold"),
              (f"  (roofline lower bound, {rate}; per layer max(FLOPs / peak, bytes / bandwidth))", "dim")]]
    if isinstance(seconds, float) and seconds > 0:
        memory = [t for t in times if t.bound == "memory" and t.seconds > 0]
        share = sum(t.seconds for t in memory) / seconds
        lines.append([(f"  {len(memory):,} of {sum(1 for t in times if t.seconds > 0):,} layers are memory-bound, "
                       f"{share:.0%} of the time (m / c after each layer's time)", "")])
    return lines


def devices_table() -> Any:
    """`paramcalc devices`: every preset, its peaks by dtype, bandwidth and source."""
    from paramcalc.memory import DTYPES
    from paramcalc.render.tabular import Column, Tabular
    from paramcalc.roofline import devices

    def rate(value: Any) -> str:
        return "" if value is None else rate_text(value, "")

    columns = [Column("device", "--device", numeric=False), Column("name", "Device", numeric=False),
               *(Column(d, f"{d} op/s", show=rate) for d in DTYPES),
               Column("bandwidth", "Bandwidth B/s", show=rate), Column("source", "Source", numeric=False)]
    rows = [{"device": d.key, "name": d.name, **{k: d.peak.get(k) for k in DTYPES}, "bandwidth": d.bandwidth,
             "source": d.source} for d in devices().values()]
    return Tabular("Device presets (dense peaks, as published)", columns, rows,
                   notes=["A dtype left blank runs at the rate of the next one the device lists (wider first, "
                          "then narrower: a phone NPU's float32 at its float16 rate). Any other device: "
                          "--peak 312T --bandwidth 2.0T (op/s, bytes/s; K M G T P suffixes)."])


def show_sweep_costs(table: Any, costs: Costs) -> None:
    """The streamed sweep table's memory and time columns (extra figures, cli.sweep_cost_figures) as
    people read them: bytes in K/M/G, seconds in their unit, the budget's verdict as yes or no."""
    def size(value: Any) -> str:
        return "" if value is None else readable_bytes(value)

    def verdict(value: Any) -> str:
        return "" if value is None else ("yes" if value else "no")

    titles = {"peak_activation_bytes": ("Peak activations", size),
              "training_bytes": (f"Training ({costs.optimizer})", size),
              "roofline_seconds": ("Time (roofline)", seconds_text), "needed_bytes": ("Needed", size),
              "fits": (f"Fits {readable_bytes(costs.budget)}" if costs.budget is not None else "Fits", verdict)}
    from dataclasses import replace

    table.columns = [replace(column, title=titles[column.key][0], show=titles[column.key][1])
                     if column.key in titles else column for column in table.columns]
    if costs.budget is not None:
        what = "training" if costs.training else "params + peak activations"
        table.notes.append(f"Fits: {what} within --memory-budget {readable_bytes(costs.budget)}.")


def add_layer_costs(table: Any, report: Report, costs: Costs | None) -> None:
    """CSV and Markdown rows with --device: each layer's roofline FLOPs, bytes, seconds and bound (a
    block folded by --depth: its layers' sums)."""
    if costs is None or costs.device is None:
        return
    from paramcalc.render.tabular import Column
    from paramcalc.roofline import roofline

    found: dict[str, dict[str, Any]] = {}
    for row, time in zip(report.rows, roofline(report, costs.device, costs.precision)):
        found[row.name] = {"flops": time.flops, "bytes_moved": time.bytes, "seconds": time.seconds,
                           "bound": time.bound}
        for instance, _ in row.path:
            block = found.setdefault(instance, {"flops": 0, "bytes_moved": 0, "seconds": 0.0, "bound": None})
            for key in ("flops", "bytes_moved", "seconds"):
                block[key] += found[row.name][key]
    for cells in table.rows:
        cells.update(found.get(cells["name"], {}))
    table.columns = [*table.columns, Column("flops", "FLOPs (roofline)"), Column("bytes_moved", "Bytes moved"),
                     Column("seconds", "Time (s)", show=seconds_text), Column("bound", "Bound", numeric=False)]


def add_type_times(table: Any, report: Report, costs: Costs) -> None:
    """`summary --by-type --device`: each layer type's roofline time and share of the time, beside its
    share of the MACs (MobileNet's depthwise layers: 3% of the MACs, a far larger share of the time)."""
    from paramcalc.compare import category
    from paramcalc.render.compare import percent, share
    from paramcalc.render.tabular import Column
    from paramcalc.roofline import roofline

    seconds: dict[str, float] = {}
    for row, time in zip(report.rows, roofline(report, costs.device, costs.precision)):
        seconds[category(row)] = seconds.get(category(row), 0.0) + float(time.seconds)
    whole = sum(seconds.values())
    for cells in table.rows:
        cells["seconds"] = seconds.get(cells["type"], 0.0)
        cells["time_share"] = share(cells["seconds"], whole) if whole else None  # type: ignore[arg-type]
    for cells in table.footer:
        cells["seconds"] = whole
    at = next(i for i, column in enumerate(table.columns) if column.key == "macs_share") + 1
    # A new list: the table may hold a module's shared list of columns (render/compare.py TYPE_COLUMNS).
    table.columns = [*table.columns[:at], Column("seconds", "Time (roofline)", show=seconds_text),
                     Column("time_share", "Time %", show=percent), *table.columns[at:]]
    table.notes.append(f"Time: roofline lower bounds on {costs.device.name} (`summary --device`).")
