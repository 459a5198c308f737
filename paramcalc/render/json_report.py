"""JSON report: stable keys, exact ints, batch dimension as null. Every field means what its name
says under any `--convention`: `macs` are multiply-accumulates, `total_flops` 2 x MACs; the
convention's own figures are `convention_count` per layer and `convention.total`, in `convention.unit`."""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING, Any

from paramcalc.render.numbers import formula
from paramcalc.report import BYTES_PER_VALUE, SCHEMA_VERSION, LayerRow, Report

if TYPE_CHECKING:
    from paramcalc.memory import Costs


def report_dict(report: Report, costs: Costs | None = None, layers: bool = True) -> dict[str, Any]:
    """`costs`: the dtypes, optimizer and device of the `memory` object and roofline (paramcalc/memory.py).
    `layers=False` leaves the layers out (None in their place), for `render_json` to write them itself."""
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
        "layers": [layer_dict(row) for row in report.rows] if layers else None,
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
    # and would take most of the time). The report is a tree (no value holds itself): the encoder
    # need not watch for cycles.
    if len(report.rows) <= 2000:
        return json.dumps(report_dict(report, costs), indent=2, default=formula, check_circular=False)
    if costs is not None and costs.device is not None:  # each layer's object gets its roofline
        return json.dumps(report_dict(report, costs), default=formula, check_circular=False)
    return compact_json(report, costs)


def compact_json(report: Report, costs: Costs | None = None) -> str:
    """`json.dumps(report_dict(report, costs))`, the same text, with the usual layers written directly
    (`layer_text`) rather than made into dicts for the encoder: for 100,000 layers, 0.3 s instead of 0.8."""
    encode = json.JSONEncoder(default=formula, check_circular=False).encode  # as json.dumps makes it
    data = report_dict(report, costs, layers=False)
    keys = list(data)
    at = keys.index("layers")
    before = encode({key: data[key] for key in keys[:at]})
    after = encode({key: data[key] for key in keys[at + 1:]})
    shapes: dict[int, tuple[Any, str | None]] = {}  # see layer_text
    layers = ", ".join([layer_text(row, shapes) or encode(layer_dict(row)) for row in report.rows])
    # `{"a": 1}` and `{"b": 2}` around `"layers": [...]`: the one object's text, `{"a": 1, "layers": [...], "b": 2}`.
    return "".join((before[:-1], ', "layers": [', layers, "], ", after[1:]))


def layer_text(row: LayerRow, shapes: dict[int, tuple[Any, str | None]] | None = None) -> str | None:
    """The compact JSON of `layer_dict(row)`, written directly, for a layer whose every count and size
    is an int (no formula), whose names are text, and that has one output; None for any other, which
    the encoder writes. (Checked with plain loops and comparisons: this runs for each of 100,000 rows.)
    `shapes`: output shapes seen, by id (each kept there, so that its id is not reused), and their text
    (None: not all ints): the rows of a repeated layer share their shape (engine.make_row)."""
    params, trainable, frozen, macs = row.params, row.trainable_params, row.non_trainable_params, row.macs
    convention, activations, line, active = row.convention_count, row.activations, row.loc.line, row.active_params
    if not (params.__class__ is int and trainable.__class__ is int and frozen.__class__ is int
            and macs.__class__ is int and convention.__class__ is int and activations.__class__ is int
            and line.__class__ is int and (active is None or active.__class__ is int)
            and row.name.__class__ is str and row.type.__class__ is str and not row.extra_outputs):
        return None
    output_shape = row.output_shape
    if shapes is None:
        shape = shape_text(output_shape)
    else:
        if (seen := shapes.get(id(output_shape))) is None:
            seen = shapes[id(output_shape)] = (output_shape, shape_text(output_shape))
        shape = seen[1]
    if shape is None:
        return None
    text = encode_basestring_ascii  # (ensure_ascii, as json.dumps writes strings)
    names = []
    for name in row.inputs:
        if name.__class__ is not str:
            return None
        names.append(text(name))
    path = []
    for instance, _ in row.path:
        if instance.__class__ is not str:
            return None
        path.append(text(instance))
    experts = "" if active is None else f', "active_params": {active}'
    return (f'{{"name": {text(row.name)}, "type": {text(row.type)}, "output_shape": {shape}, '
            f'"output_shapes": [{shape}], "params": {params}, "trainable_params": {trainable}, '
            f'"non_trainable_params": {frozen}, "macs": {macs}, "convention_count": {convention}, '
            f'"activations": {activations}, "inputs": [{", ".join(names)}], "block_path": [{", ".join(path)}], '
            f'"line": {line}{experts}}}')


def shape_text(shape: tuple[Any, ...]) -> str | None:
    """A shape's compact JSON when its sizes are ints (the batch's None: null); else None."""
    sizes = []
    for d in shape:
        if d is None:
            sizes.append("null")
        elif d.__class__ is int:
            sizes.append(str(d))
        else:
            return None
    return "[" + ", ".join(sizes) + "]"
