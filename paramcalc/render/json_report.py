"""JSON report: stable keys, exact ints, batch dimension as null. Every field means what its name
says under any `--convention`: `macs` are multiply-accumulates, `total_flops` 2 x MACs; the
convention's own figures are `convention_count` per layer and `convention.total`, in `convention.unit`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from paramcalc.render.numbers import formula
from paramcalc.report import BYTES_PER_VALUE, SCHEMA_VERSION, LayerRow, Report

if TYPE_CHECKING:
    from paramcalc.memory import Costs


def report_dict(report: Report, costs: Costs | None = None) -> dict[str, Any]:
    """`costs`: the dtypes, optimizer and device of the `memory` object and roofline (paramcalc/memory.py)."""
    from paramcalc.memory import attach_costs

    data = {
        "schema_version": SCHEMA_VERSION,
        "name": report.name,
        "source": report.source,
        "data_format": report.data_format,
        "input_shape": list(report.input_shape),
        "output_shape": list(report.output_shape),
        "inputs": {name: list(shape) for name, shape in report.inputs.items()},
        "outputs": {name: list(shape) for name, shape in report.outputs.items()},
        "layers": [layer_dict(row) for row in report.rows],
        "total_params": report.total_params,
        "trainable_params": report.trainable_params,
        "non_trainable_params": report.non_trainable_params,
        "param_bytes": report.total_params * BYTES_PER_VALUE,
        # `tie:`: which layers reuse another's weight matrix; the total above counts it once, this one
        # once per layer (as summing a framework's named parameters without removing duplicates does).
        "shared_weights": report.shared_weights,
        "params_with_tied_listed": report.params_with_tied_listed,
        **sequence_keys(report),  # attention_products, params_by_component (render/sequence.py)
        # The params one token uses: total_params, less the experts a mixture of experts leaves out.
        "active_params": report.active_params,
        "total_macs": report.total_macs,
        "total_flops": report.total_flops,
        "convention": {"name": report.convention, "unit": report.convention_unit, "total": report.convention_total},
        "activations": report.activations,
        "activation_bytes": report.activations * BYTES_PER_VALUE,
        "warnings": [{"layer": w.layer, "line": w.loc.line if w.loc else None, "message": w.message}
                     for w in report.warnings],
    }
    attach_costs(data, report, costs)
    return data


def layer_dict(row: LayerRow) -> dict[str, Any]:
    shape = list(row.output_shape)
    layer = {
        "name": row.name,
        "type": row.type,
        "output_shape": shape,
        # Every output (a layer with several: Split, an RNN's states), output 0 first.
        "output_shapes": [shape, *(list(s) for s in row.extra_outputs)] if row.extra_outputs else [shape],
        "params": row.params,
        "trainable_params": row.trainable_params,
        "non_trainable_params": row.non_trainable_params,
        "macs": row.macs,
        "convention_count": row.convention_count,
        "activations": row.activations,
        "inputs": list(row.inputs),
        "block_path": [instance for instance, _ in row.path] if row.path else [],
        "line": row.loc.line,
    }
    if row.active_params is not None:  # a mixture of experts: the params one token uses (router + top_k experts)
        layer["active_params"] = row.active_params
    return layer


def sequence_keys(report: Report) -> dict[str, Any]:
    from paramcalc.render.sequence import json_keys

    return json_keys(report)


def render_json(report: Report, costs: Costs | None = None) -> str:
    # Counts are ints; with free input dimensions some are formulas, written as strings.
    # Indented for people; past a few thousand layers, compact (the indenting encoder is pure Python
    # and would take most of the time).
    indent = 2 if len(report.rows) <= 2000 else None
    # The report is a tree (no value holds itself): the encoder need not watch for cycles.
    return json.dumps(report_dict(report, costs), indent=indent, default=formula, check_circular=False)
