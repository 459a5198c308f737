"""The shape engine: walks the spec's layers, lets each layer kind compute its figures, and
returns a `Report`. It never prints."""

from __future__ import annotations

from paramcalc.errors import SpecError
from paramcalc.layers import Context, lookup
from paramcalc.layers.base import snake_case
from paramcalc.report import Diagnostic, LayerRow, Report
from paramcalc.spec.model import CHANNELS_LAST, LayerSpec, Spec


def analyze(spec: Spec) -> Report:
    """Every layer's output shape, params and MACs, in order; raises a located error on misfit."""
    shape = spec.input_shape
    rows: list[LayerRow] = []
    warnings: list[Diagnostic] = []
    namer = LayerNamer(spec.layers)
    for layer in spec.layers:
        kind = lookup(layer.kind, layer.loc)
        ctx = Context(spec.channels_last, layer.kind, layer.loc, layer.arg_locs)
        raw = {key: node.plain() for key, node in layer.args.items()}
        positional = layer.positional.plain() if layer.positional is not None else None
        args = kind.parse_args(raw, positional, layer.positional is not None, ctx)
        if args.get("data_format"):  # a layer may override the spec's data format, as in Keras
            ctx.channels_last = args["data_format"] == CHANNELS_LAST
        result = kind.compute(args, shape, ctx)
        name = namer.name(layer)
        trainable, frozen = result.trainable.value, result.non_trainable.value
        rows.append(LayerRow(name, layer.kind, (None, *result.output_shape), trainable + frozen, trainable,
                             frozen, result.macs.value, layer.loc, result.derivations + tuple(ctx.notes),
                             result.structure,
                             (None, *shape), tuple(ctx.warnings)))
        warnings.extend(Diagnostic(message, name, layer.loc) for message in ctx.warnings)
        shape = result.output_shape
    return Report.build(spec.name, spec.source, spec.data_format, spec.input_shape, rows, warnings)


class LayerNamer:
    """Keras-style names: the spec's `name:` if given, else conv2d, conv2d_1, max_pooling2d, ..."""

    def __init__(self, layers: tuple[LayerSpec, ...]) -> None:
        self.taken: dict[str, LayerSpec] = {}
        for layer in layers:
            if layer.name is None:
                continue
            if layer.name in self.taken:
                first = self.taken[layer.name].loc
                raise SpecError(f"two layers are named `{layer.name}` (the first at line {first.line})",
                                layer.loc, "give each layer a different name.")
            self.taken[layer.name] = layer
        self.counters: dict[str, int] = {}

    def name(self, layer: LayerSpec) -> str:
        if layer.name is not None:
            return layer.name
        prefix = snake_case(layer.kind)
        while True:
            count = self.counters.get(prefix, 0)
            self.counters[prefix] = count + 1
            candidate = prefix if count == 0 else f"{prefix}_{count}"
            if candidate not in self.taken:
                self.taken[candidate] = layer
                return candidate
