"""The shape engine: walks the spec's layers in order (each reads layers above it, so the order
is topological), lets each layer kind compute its figures, and returns a `Report`. Never prints."""

from __future__ import annotations

from typing import Any, cast

from paramcalc.errors import ParamcalcError, ShapeError, combined
from paramcalc.layers import Context, lookup
from paramcalc.layers.base import Derivation, LayerKind, LayerResult, Shape, format_shape
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
    # Layers are pure functions of (kind, arguments, input shapes): a repeated layer (the 16 identical
    # blocks of a ResNet stage, the 96 of GPT-3) is computed once and its result reused.
    memo: dict[tuple[Any, ...], Computed] = {}
    for layer in spec.layers:
        try:
            found = [shapes.get(name) for name in layer.inputs]
            missing = None in found
            inputs = cast(list[Shape], found)  # read only when none is missing
            key = None if missing else memo_key(layer, inputs, keep_formulas)
            computed = memo.get(key) if key is not None else None
            if computed is None:
                kind, args, ctx = prepare(layer, spec.channels_last)
                ctx.formulas = keep_formulas
                if missing:
                    continue  # it reads a layer that failed: its shape errors would only repeat that one
                computed = compute(layer, kind, args, ctx, inputs)
                if key is not None:
                    memo[key] = computed
            row = make_row(layer, computed, inputs[0], keep_formulas)
        except ParamcalcError as error:
            errors.append(error.found_in(layer.name, layer.path, layer.origin_of(error.loc)))
            if len(errors) >= MAX_ERRORS:
                break
            continue
        shapes[layer.name] = cast(Shape, row.output_shape[1:])  # past the batch's None, sizes only
        rows.append(row)
        warnings.extend(Diagnostic(message, layer.name, layer.loc) for message in row.warnings)
    if errors:
        raise combined(errors)
    outputs = {name: (None, *shapes[name]) for name in spec.outputs}
    return Report.build(spec.name, spec.source, spec.data_format, spec.inputs, outputs, rows, warnings)


# What computing one layer gives: its result and what it said along the way (warnings, and the
# extra explained figures such as the padding 'same' adds).
Computed = tuple[LayerResult, tuple[str, ...], tuple[Derivation, ...]]


def memo_key(layer: LayerSpec, inputs: list[Shape], keep_formulas: bool) -> tuple[Any, ...] | None:
    """Everything a layer's figures depend on, or None when an argument cannot be a key. Values
    carry their types: `filters: 1.0` must not reuse the result of `filters: 1`, nor `True` of `1`.
    Several inputs are keyed by name too, as merges name them in their messages."""
    key = (layer.kind, _frozen(layer.args), layer.has_positional, _frozen(layer.positional), tuple(inputs),
           keep_formulas, layer.inputs if len(layer.inputs) > 1 else None)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return ("list", *(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", *((k, _frozen(v)) for k, v in value.items()))
    return type(value), value


def prepare(layer: LayerSpec, channels_last: bool) -> tuple[type[LayerKind], dict[str, Any], Context]:
    """The layer's kind and checked arguments: everything that does not depend on shapes."""
    kind = lookup(layer.kind, layer.loc)
    ctx = Context(channels_last, layer.kind, layer.loc, layer.arg_locs)
    args = kind.parse_args(layer.args, layer.positional, layer.has_positional, ctx)
    if args.get("data_format"):  # a layer may override the spec's data format, as in Keras
        ctx.channels_last = args["data_format"] == CHANNELS_LAST
    return kind, args, ctx


def compute(layer: LayerSpec, kind: type[LayerKind], args: dict[str, Any], ctx: Context,
            inputs: list[Shape]) -> Computed:
    if kind.multi_input:
        result = kind.compute_many(args, inputs, list(layer.inputs), ctx)
    elif len(inputs) != 1:
        listed = ", ".join(f"{n} {format_shape(s)}" for n, s in zip(layer.inputs, inputs))
        raise ShapeError(f"{layer.kind} takes one input but is given {len(inputs)}: {listed}", layer.loc,
                         "merge them first (Add, Concatenate, ...), or give one name in `inputs:`.")
    else:
        result = kind.compute(args, inputs[0], ctx)
    return result, tuple(ctx.warnings), tuple(ctx.notes)


def make_row(layer: LayerSpec, computed: Computed, first_input: Shape, keep_formulas: bool) -> LayerRow:
    result, warnings, notes = computed
    trainable, frozen = result.trainable.value, result.non_trainable.value
    return LayerRow(
        name=layer.name, type=layer.kind, output_shape=(None, *result.output_shape),
        params=trainable + frozen, trainable_params=trainable, non_trainable_params=frozen,
        macs=result.macs.value, loc=layer.loc,
        derivations=result.derivations + notes if keep_formulas else (),
        structure=result.structure, input_shape=(None, *first_input), warnings=warnings,
        inputs=layer.inputs, path=layer.path, ops=result.ops, args=layer.args)
