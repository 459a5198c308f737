"""The shape engine: walks the spec's layers in order (each reads layers above it, so the order
is topological), lets each layer kind compute its figures, and returns a `Report`. Never prints."""

from __future__ import annotations

from paramcalc.errors import ShapeError
from paramcalc.layers import Context, lookup
from paramcalc.layers.base import Shape, format_shape
from paramcalc.report import Diagnostic, LayerRow, Report
from paramcalc.spec.model import CHANNELS_LAST, Spec


def analyze(spec: Spec) -> Report:
    """Every layer's output shape, params and MACs, in order; raises a located error on misfit."""
    shapes: dict[str, Shape] = dict(spec.inputs)
    rows: list[LayerRow] = []
    warnings: list[Diagnostic] = []
    for layer in spec.layers:
        kind = lookup(layer.kind, layer.loc)
        ctx = Context(spec.channels_last, layer.kind, layer.loc, layer.arg_locs)
        args = kind.parse_args(layer.args, layer.positional, layer.has_positional, ctx)
        if args.get("data_format"):  # a layer may override the spec's data format, as in Keras
            ctx.channels_last = args["data_format"] == CHANNELS_LAST
        inputs = [shapes[name] for name in layer.inputs]
        if kind.multi_input:
            result = kind.compute_many(args, inputs, list(layer.inputs), ctx)
        elif len(inputs) != 1:
            listed = ", ".join(f"{n} {format_shape(s)}" for n, s in zip(layer.inputs, inputs))
            raise ShapeError(f"{layer.kind} takes one input but is given {len(inputs)}: {listed}", layer.loc,
                             "merge them first (Add, Concatenate, ...), or give one name in `inputs:`.")
        else:
            result = kind.compute(args, inputs[0], ctx)
        trainable, frozen = result.trainable.value, result.non_trainable.value
        shapes[layer.name] = result.output_shape
        rows.append(LayerRow(
            name=layer.name, type=layer.kind, output_shape=(None, *result.output_shape),
            params=trainable + frozen, trainable_params=trainable, non_trainable_params=frozen,
            macs=result.macs.value, loc=layer.loc, derivations=result.derivations + tuple(ctx.notes),
            structure=result.structure, input_shape=(None, *inputs[0]), warnings=tuple(ctx.warnings),
            inputs=layer.inputs, path=layer.path))
        warnings.extend(Diagnostic(message, layer.name, layer.loc) for message in ctx.warnings)
    outputs = {name: (None, *shapes[name]) for name in spec.outputs}
    return Report.build(spec.name, spec.source, spec.data_format, spec.inputs, outputs, rows, warnings)
