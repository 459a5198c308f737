"""The shape engine: walks the spec's layers in order (each reads layers above it, so the order
is topological), lets each layer kind compute its figures, and returns a `Report`. Never prints."""

from __future__ import annotations

from typing import Any

from paramcalc.errors import ParamcalcError, ShapeError, SpecErrors
from paramcalc.layers import Context, lookup
from paramcalc.layers.base import LayerKind, Shape, format_shape
from paramcalc.report import Diagnostic, LayerRow, Report
from paramcalc.spec.model import CHANNELS_LAST, LayerSpec, Spec

MAX_ERRORS = 20  # reported in one run; the rest usually follow from the first ones


def analyze(spec: Spec, keep_formulas: bool = True) -> Report:
    """Every layer's output shape, params and MACs, in order. Mistakes are collected like a
    compiler does: a layer whose arguments or shapes are wrong is reported, and the layers that
    read it are skipped (their shapes are unknown); then all errors are raised together.
    `keep_formulas=False` drops each figure's formula once computed (only `explain` shows them),
    which halves the memory of very large specs."""
    shapes: dict[str, Shape] = dict(spec.inputs)
    rows: list[LayerRow] = []
    warnings: list[Diagnostic] = []
    errors: list[ParamcalcError] = []
    for layer in spec.layers:
        try:
            kind, args, ctx = prepare(layer, spec.channels_last)
            ctx.formulas = keep_formulas
            if any(name not in shapes for name in layer.inputs):
                continue  # it reads a layer that failed: its shape errors would only repeat that one
            row = compute(layer, kind, args, ctx, [shapes[name] for name in layer.inputs], keep_formulas)
        except ParamcalcError as error:
            errors.append(error)
            if len(errors) >= MAX_ERRORS:
                break
            continue
        shapes[layer.name] = row.output_shape[1:]
        rows.append(row)
        warnings.extend(Diagnostic(message, layer.name, layer.loc) for message in row.warnings)
    if errors:
        raise errors[0] if len(errors) == 1 else SpecErrors(errors)
    outputs = {name: (None, *shapes[name]) for name in spec.outputs}
    return Report.build(spec.name, spec.source, spec.data_format, spec.inputs, outputs, rows, warnings)


def prepare(layer: LayerSpec, channels_last: bool) -> tuple[type[LayerKind], dict[str, Any], Context]:
    """The layer's kind and checked arguments: everything that does not depend on shapes."""
    kind = lookup(layer.kind, layer.loc)
    ctx = Context(channels_last, layer.kind, layer.loc, layer.arg_locs)
    args = kind.parse_args(layer.args, layer.positional, layer.has_positional, ctx)
    if args.get("data_format"):  # a layer may override the spec's data format, as in Keras
        ctx.channels_last = args["data_format"] == CHANNELS_LAST
    return kind, args, ctx


def compute(layer: LayerSpec, kind: type[LayerKind], args: dict[str, Any], ctx: Context,
            inputs: list[Shape], keep_formulas: bool = True) -> LayerRow:
    if kind.multi_input:
        result = kind.compute_many(args, inputs, list(layer.inputs), ctx)
    elif len(inputs) != 1:
        listed = ", ".join(f"{n} {format_shape(s)}" for n, s in zip(layer.inputs, inputs))
        raise ShapeError(f"{layer.kind} takes one input but is given {len(inputs)}: {listed}", layer.loc,
                         "merge them first (Add, Concatenate, ...), or give one name in `inputs:`.")
    else:
        result = kind.compute(args, inputs[0], ctx)
    trainable, frozen = result.trainable.value, result.non_trainable.value
    row = LayerRow(
        name=layer.name, type=layer.kind, output_shape=(None, *result.output_shape),
        params=trainable + frozen, trainable_params=trainable, non_trainable_params=frozen,
        macs=result.macs.value, loc=layer.loc,
        derivations=result.derivations + tuple(ctx.notes) if keep_formulas else (),
        structure=result.structure, input_shape=(None, *inputs[0]), warnings=tuple(ctx.warnings),
        inputs=layer.inputs, path=layer.path, ops=result.ops)
    return row
