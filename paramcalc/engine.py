"""The shape engine: walks the spec's layers in order (each reads layers above it, so the order
is topological), lets each layer kind compute its figures, and returns a `Report`. Never prints.

Layers with several outputs (layers/base.py `LayerResult.extra_outputs`) are read output by output:
`name[k]` is output k (k from 0; -1 is the last), and the bare `name` is output 0 when it is the
layer's main output, else a mistake that the engine names with every output's shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from paramcalc.errors import ParamcalcError, ShapeError, combined
from paramcalc.layers import Context, lookup
from paramcalc.layers.base import Derivation, LayerKind, LayerResult, Shape, format_shape
from paramcalc.layers.formula import ZERO
from paramcalc.report import Diagnostic, LayerRow, Report
from paramcalc.spec.model import CHANNELS_LAST, LayerSpec, Spec, split_reference

MAX_ERRORS = 20  # reported in one run; the rest usually follow from the first ones


def analyze(spec: Spec, keep_formulas: bool = True) -> Report:
    """Every layer's output shape, params and MACs, in order. Mistakes are collected like a
    compiler does: a layer whose arguments or shapes are wrong is reported, and the layers that
    read it are skipped (their shapes are unknown); then all errors are raised together.
    `keep_formulas=False` drops each figure's formula once computed (only `explain` shows them),
    which halves the memory of very large specs."""
    shapes: dict[str, Shape] = dict(spec.inputs)  # what each readable name holds: layers, `name[k]`, inputs
    several: dict[str, LayerRow] = {}  # layers with several outputs, to explain a reference that misses
    rows: list[LayerRow] = []
    warnings: list[Diagnostic] = []
    errors: list[ParamcalcError] = []
    # Layers are pure functions of (kind, arguments, input shapes): a repeated layer (the 16 identical
    # blocks of a ResNet stage, the 96 of GPT-3) is computed once and its result reused.
    memo: dict[tuple[Any, ...], Computed] = {}
    tables: dict[str, tuple[int, int]] = {}  # weight matrices a later layer may `tie:` to, (rows, columns)
    by_name: dict[str, LayerSpec] = {}  # the layers computed so far, for `shares:`
    batched: dict[int, tuple[Shape, tuple[Any, ...]]] = {}  # see make_row
    for layer in spec.layers:
        try:
            found = [shapes.get(name) for name in layer.inputs]
            missing = None in found
            if missing:  # a layer above failed, or an output reference that does not exist (an error)
                check_references(layer, shapes, several)
            inputs = cast(list[Shape], found)  # read only when none is missing
            key = None if missing else memo_key(layer, inputs, keep_formulas)
            computed = None
            if key is not None:
                try:
                    computed = memo.get(key)
                except TypeError:  # an argument that cannot be a key: the layer is computed on its own
                    key = None
            if computed is None:
                kind, args, ctx = prepare(layer, spec.channels_last)
                ctx.formulas = keep_formulas
                if missing:
                    continue  # it reads a layer that failed: its shape errors would only repeat that one
                computed = compute(layer, kind, args, ctx, inputs)
                if key is not None and (not computed[1] or keep_formulas or len(layer.inputs) < 2):
                    memo[key] = computed  # (a warning may quote the input names, which the key may leave out)
            if "shares" in layer.args:
                computed = shared_call(layer, computed, by_name)
            row = make_row(layer, computed, inputs[0] if inputs else (), keep_formulas, batched)
            if layer.kind in TABLE_KINDS:
                note_table(layer, row, tables)
        except ParamcalcError as error:
            errors.append(error.found_in(layer.name, layer.path, layer.origin_of(error.loc)))
            if len(errors) >= MAX_ERRORS:
                break
            continue
        by_name[layer.name] = layer
        # Past the batch's None, sizes only: the result's own tuple, which the rows reusing it share.
        output = computed[0].output_shape
        shapes[layer.name] = output if output.__class__ is tuple else cast(Shape, row.output_shape[1:])
        if row.extra_outputs or not computed[0].main_output:  # several outputs, or pieces (perhaps one)
            name_outputs(layer.name, computed[0], shapes)
            several[layer.name] = row
        rows.append(row)
        if row.warnings:  # (few layers warn: no generator for the others)
            warnings.extend(Diagnostic(message, layer.name, layer.loc) for message in row.warnings)
    if errors:
        raise combined(errors)
    outputs = model_outputs(spec, shapes, several)
    return Report.build(spec.name, spec.source, spec.data_format, spec.inputs, outputs, rows, warnings)


TABLE_KINDS = ("Embedding", "Dense", "Linear")  # the kinds whose weight matrix a `tie:` may share


def note_table(layer: LayerSpec, row: LayerRow, tables: dict[str, tuple[int, int]]) -> None:
    """Remember the weight matrix of an Embedding (vocabulary x dim) or a Dense/Linear (PyTorch's
    out x in), and check a `tie:` against the named layer's: a tied layer reuses that very matrix."""
    if layer.kind == "Embedding":
        width = cast(int, row.output_shape[-1])
        given = [int(layer.args[n]) for n in ("num_embeddings", "input_dim") if layer.args.get(n) is not None]
        table = (given[0] if given else row.params // width, width)
    elif layer.kind in ("Dense", "Linear"):
        table = (cast(int, row.output_shape[-1]), cast(int, row.input_shape[-1]))
    else:
        return
    tie = layer.args.get("tie")
    if tie is not None:
        tie = tied_name(layer.name, str(tie), tables)
        check_tie(layer, tie, table, tables)
        row.tied = (tie, table[0] * table[1])
    tables[layer.name] = table


def shared_call(layer: LayerSpec, computed: Computed, by_name: dict[str, LayerSpec]) -> Computed:
    """`shares: NAME`: another call of the layer NAME above (a Keras shared layer), the same kind with
    the same arguments, whose weights are counted there once: this call has its MACs and no params."""
    loc = layer.arg_locs.get("shares", layer.loc)
    target = tied_name(layer.name, str(layer.args["shares"]), by_name)
    first = by_name.get(target)
    if first is None:
        raise ShapeError(f"{layer.kind} `shares: {target}` names no layer above it", loc,
                         "name the layer above whose weights this call reuses.")
    mine = {k: v for k, v in layer.args.items() if k != "shares"}
    if first.kind != layer.kind or mine != first.args or layer.positional != first.positional:
        raise ShapeError(f"{layer.kind} `shares: {target}` must be the same layer as `{target}` (kind and "
                         "arguments), as a shared layer is one layer called twice", loc,
                         f"give it exactly the kind and arguments of `{target}`, or drop `shares`.")
    result, warnings, notes = computed
    weights = result.trainable + result.non_trainable
    note = Derivation("shared weights", weights, f"(the weights of `{target}`, counted there once)")
    return result.replace(trainable=ZERO, non_trainable=ZERO), warnings, (*notes, note)


def tied_name(name: str, tie: str, tables: Mapping[str, Any]) -> str:
    """Inside a block, `tie: e` names the block's own `e` (`stage1.e`), as `inputs:` does; else the
    enclosing blocks' and the spec's, innermost first."""
    parts = name.split(".")[:-1]
    for depth in range(len(parts), 0, -1):
        if (local := ".".join([*parts[:depth], tie])) in tables:
            return local
    return tie


def check_tie(layer: LayerSpec, tie: str, table: tuple[int, int], tables: dict[str, tuple[int, int]]) -> None:
    loc = layer.arg_locs.get("tie", layer.loc)
    what = "table" if layer.kind == "Embedding" else "weight matrix (out x in, as PyTorch stores it)"
    if tie not in tables:
        raise ShapeError(f"{layer.kind} `tie: {tie}` names no Embedding, Dense or Linear above it", loc,
                         "name a layer above with the matching weight matrix, e.g. the token embedding "
                         f"({', '.join(f'`{n}`' for n in tables) or 'none so far'}).")
    if tables[tie] != table:
        rows, cols = tables[tie]
        raise ShapeError(f"{layer.kind} `tie: {tie}` shares a {rows} x {cols} matrix, but this layer's {what} is "
                         f"{table[0]} x {table[1]}", loc,
                         "tie to a layer whose matrix has the same (transposed for a head) shape, or drop `tie`.")


# What computing one layer gives: its result and what it said along the way (warnings, and the
# extra explained figures such as the padding 'same' adds).
Computed = tuple[LayerResult, tuple[str, ...], tuple[Derivation, ...]]


def memo_key(layer: LayerSpec, inputs: list[Shape], keep_formulas: bool) -> tuple[Any, ...] | None:
    """Everything a layer's figures depend on (None: not to be reused). A key holding an argument that
    cannot be hashed is refused by the memo's lookup, and the layer computed on its own. Values
    carry their types: `filters: 1.0` must not reuse the result of `filters: 1`, nor `True` of `1`.
    Several inputs are keyed by name when formulas are kept, as their explanations may name them;
    else by which of them are the same (`inputs: [a, a]`): layer kinds use the names of their inputs
    only in messages, and `analyze` keeps no result whose warnings might quote them. (So the 25,000
    residual Adds of a large graph are computed once.)"""
    names = layer.inputs
    if len(names) < 2:
        reads: Any = None
    elif keep_formulas:
        reads = names
    else:
        reads = tuple(names.index(name) for name in names)
    return (layer.kind, _frozen(layer.args), layer.has_positional, _frozen(layer.positional), tuple(inputs),
            keep_formulas, reads)


_SCALARS = frozenset((int, float, str, bool, type(None)))


def _frozen(value: Any) -> Any:
    # Lists rather than generators inside, and a mapping's scalar values inline (a name, their type and
    # value: three items, where a nested value is two), as this runs for every argument of every layer.
    cls = value.__class__
    if cls is dict:
        return ("dict", *[(k, v.__class__, v) if v.__class__ in _SCALARS else (k, _frozen(v))
                          for k, v in value.items()])
    if not isinstance(value, (list, dict)):
        return cls, value
    if isinstance(value, list):
        return ("list", *[_frozen(v) for v in value])
    return ("dict", *[(k, _frozen(v)) for k, v in value.items()])


def prepare(layer: LayerSpec, channels_last: bool) -> tuple[type[LayerKind], dict[str, Any], Context]:
    """The layer's kind and checked arguments: everything that does not depend on shapes."""
    kind = lookup(layer.kind, layer.loc)
    ctx = Context(channels_last, layer.kind, layer.loc, layer.arg_locs)
    ctx.run_block = run_block
    raw = layer.args if "shares" not in layer.args else {k: v for k, v in layer.args.items() if k != "shares"}
    args = kind.parse_args(raw, layer.positional, layer.has_positional, ctx)
    if args.get("data_format"):  # a layer may override the spec's data format, as in Keras
        ctx.channels_last = args["data_format"] == CHANNELS_LAST
    return kind, args, ctx


def run_block(item: Any, shape: Shape, ctx: Context) -> LayerResult:
    """A block of the spec written in a layer's argument (`expert: {swiglu: {ff: 14336}}`, layers/args.py
    BlockItem), computed as a model of its own on `shape`, every layer by its kind: its totals as one result.
    (Layers compute no graph: the engine lends them this through their context.)"""
    from paramcalc.layers.formula import Q
    from paramcalc.spec.model import CHANNELS_FIRST, DEFAULT_INPUT

    spec = Spec(source=ctx.loc.file, name=item.kind, inputs={DEFAULT_INPUT: shape}, input_locs={},
                data_format=CHANNELS_LAST if ctx.channels_last else CHANNELS_FIRST, layers=item.layers,
                outputs=(item.output,))
    report = analyze(spec, keep_formulas=False)
    ops: dict[str, Any] = {}
    for row in report.rows:
        for kind, count in row.ops.items():
            ops[kind] = ops.get(kind, 0) + count
    ctx.warnings.extend(f"its block `{item.kind}`: {warning}" for warning in report.warnings)
    out = next(iter(report.outputs.values()))

    def layers_sum(values: list[Any]) -> Q:  # `explain` shows the block's figure as its layers' sum
        return Q.total([Q.of(v) for v in values if v != 0] or [Q.of(0)])

    trainable = layers_sum([r.trainable_params for r in report.rows])
    frozen = layers_sum([r.non_trainable_params for r in report.rows])
    return LayerResult(cast(Shape, out[1:]), trainable, frozen, layers_sum([r.macs for r in report.rows]), ops=ops)


def name_outputs(name: str, result: LayerResult, shapes: dict[str, Shape]) -> None:
    """Make output k of a layer with several readable as `name[k]` (and `name[k - n]` from the end);
    the bare name stays readable (output 0) only when that is the layer's main output."""
    every = result.output_shapes
    for k, shape in enumerate(every):
        shapes[f"{name}[{k}]"] = shapes[f"{name}[{k - len(every)}]"] = shape
    if not result.main_output:
        del shapes[name]


def check_references(layer: LayerSpec, shapes: dict[str, Shape], several: dict[str, LayerRow]) -> None:
    """A layer reads a name that holds nothing: say what is wrong with every such reference at once,
    or return when the names are right and only a layer above failed (reported already)."""
    problems = [problem for name in layer.inputs if name not in shapes
                if (problem := reference_problem(name, shapes, several)) is not None]
    if problems:
        fixes = "; ".join(fix for _, fix in problems)
        raise ShapeError(f"{layer.kind} reads " + "; and ".join(what for what, _ in problems), layer.loc,
                         fixes + (QUOTING if "[" in fixes else "."))


QUOTING = '. Inside [...] or {...} YAML needs quotes around a reference: `inputs: ["halves[0]", b]`.'


def reference_problem(name: str, shapes: dict[str, Shape], several: dict[str, LayerRow]) -> tuple[str, str] | None:
    """(what is wrong, the fix) for a name that holds nothing, or None when its layer failed."""
    if name in several:
        row = several[name]
        return (f"`{name}` without saying which output: {row.type} `{name}` has {outputs(row)}, {listing(name, row)}",
                f"name one, e.g. `{name}[0]`")
    base, index = split_reference(name)
    if index is None:
        return None
    if base in several:
        row = several[base]
        n = len(row.output_shapes)
        return (f"`{name}`, but {row.type} `{base}` has {outputs(row)}: {listing(base, row)}",
                f"pick `{base}[0]`" + (f" to `{base}[{n - 1}]` (or `{base}[-1]` for the last)" if n > 1 else ""))
    if base in shapes:
        return f"`{name}`, but `{base}` has one output", f"write `{base}`"
    return None


def outputs(row: LayerRow) -> str:
    n = len(row.output_shapes)
    return "1 output" if n == 1 else f"{n} outputs"


def listing(name: str, row: LayerRow, most: int = 4) -> str:
    """`halves[0]` (None, 2, 8, 8), `halves[1]` (None, 2, 8, 8): the first few and the last."""
    shown = [f"`{name}[{k}]` {format_shape(shape)}" for k, shape in enumerate(row.output_shapes)]
    if len(shown) > most:
        shown = [*shown[:most - 1], "...", shown[-1]]
    return ", ".join(shown)


def model_outputs(spec: Spec, shapes: dict[str, Shape], several: dict[str, LayerRow]) -> dict[str, Any]:
    """The model's outputs by name: a bare name of a layer with several outputs gives all of them (the
    model returns what that layer returns), `name[k]` one; wrong references are all named at once."""
    outputs: dict[str, Any] = {}
    errors: list[ParamcalcError] = []
    for name in spec.outputs:
        if name in several:
            outputs.update((f"{name}[{k}]", shape) for k, shape in enumerate(several[name].output_shapes))
        elif name in shapes:
            outputs[name] = (None, *shapes[name])
        else:
            what, fix = reference_problem(name, shapes, several) or (f"`{name}`", "name a layer of the spec")
            errors.append(ShapeError(f"`outputs` names {what}", spec.output_locs.get(name), fix + "."))
    if errors:
        raise combined(errors)
    return outputs


def compute(layer: LayerSpec, kind: type[LayerKind], args: dict[str, Any], ctx: Context,
            inputs: list[Shape]) -> Computed:
    if kind.no_input:  # the spec gives it no inputs (spec/expand.py)
        result = kind.compute(args, (), ctx)
    elif kind.multi_input or (kind.state_inputs and len(inputs) > 1):
        result = kind.compute_many(args, inputs, list(layer.inputs), ctx)
    elif len(inputs) != 1:
        listed = ", ".join(f"{n} {format_shape(s)}" for n, s in zip(layer.inputs, inputs))
        raise ShapeError(f"{layer.kind} takes one input but is given {len(inputs)}: {listed}", layer.loc,
                         "merge them first (Add, Concatenate, ...), or give one name in `inputs:`.")
    else:
        result = kind.compute(args, inputs[0], ctx)
    return result, tuple(ctx.warnings), tuple(ctx.notes)


def make_row(layer: LayerSpec, computed: Computed, first_input: Shape, keep_formulas: bool,
             batched: dict[int, tuple[Shape, tuple[Any, ...]]] | None = None) -> LayerRow:
    """`batched`: shapes seen (by id, each kept there so that its id is not reused) and each with the batch's
    None first, so that the rows of a repeated layer share their shapes (a tuple fewer for each)."""
    result, warnings, notes = computed
    trainable, frozen = result.trainable.value, result.non_trainable.value
    output, first = result.output_shape, first_input
    if batched is None:
        output_shape, input_shape = (None, *output), (None, *first)
    else:
        if (seen := batched.get(id(output))) is None:
            seen = batched[id(output)] = (output, (None, *output))
        output_shape = seen[1]
        if (seen := batched.get(id(first))) is None:
            seen = batched[id(first)] = (first, (None, *first))
        input_shape = seen[1]
    # (positional: a call by keywords costs more, for each of 100,000 rows)
    return LayerRow(
        layer.name, layer.kind, output_shape, trainable + frozen, trainable, frozen,
        result.macs.value, layer.loc, result.derivations + notes if keep_formulas else (), result.structure,
        input_shape, warnings, layer.inputs, layer.path, result.ops, layer.args, None,
        tuple((None, *shape) for shape in result.extra_outputs) if result.extra_outputs else (), None,
        result.active_params.value if result.active_params is not None else None)
