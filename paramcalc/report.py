"""The result of an analysis: plain records (treated as immutable), totals computed once. No rendering
here: `Report.table()`, `to_dict()` and `_repr_html_()` ask the renderers, imported when called."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from paramcalc.errors import Location
from paramcalc.layers.base import Derivation, LayerKind, Structure
from paramcalc.layers.ops import elements
from paramcalc.layers.registry import REGISTRY, lookup
from paramcalc.record import Record

BYTES_PER_VALUE = 4  # float32, as Keras sizes its "Total params" line
SCHEMA_VERSION = 2  # 2: `convention` is {name, unit, total}; layers have `convention_count`


def batch_size(shape: tuple[int | None, ...]) -> int:
    """The batch dimension of a shape: None (one sample) counts 1; `--batch N` makes it N."""
    return shape[0] if shape and isinstance(shape[0], int) else 1


class LayerRow(Record):
    """One layer of the report, its figures exact integers."""

    __slots__ = ("name", "type", "output_shape", "params", "trainable_params", "non_trainable_params", "macs",
                 "loc", "derivations", "structure", "input_shape", "warnings", "inputs", "path", "ops", "args",
                 "convention_count", "extra_outputs", "tied", "active_params")

    def __init__(self, name: str, type: str, output_shape: tuple[int | None, ...], params: int,
                 trainable_params: int, non_trainable_params: int, macs: int, loc: Location,
                 derivations: tuple[Derivation, ...] = (), structure: Structure | None = None,
                 input_shape: tuple[int | None, ...] = (), warnings: tuple[str, ...] = (),
                 inputs: tuple[str, ...] = (), path: tuple[tuple[str, str], ...] = (),
                 ops: dict | None = None, args: dict | None = None, convention_count: int | None = None,
                 extra_outputs: tuple[tuple[int | None, ...], ...] = (), tied: tuple[str, int] | None = None,
                 active_params: int | None = None) -> None:
        self.name = name
        self.type = type
        self.output_shape = output_shape  # batch first, as None
        self.params = params
        self.trainable_params = trainable_params
        self.non_trainable_params = non_trainable_params
        self.macs = macs
        self.loc = loc
        self.derivations = derivations
        self.structure = structure
        self.input_shape = input_shape  # batch first, as None (the first input's, for merges)
        self.warnings = warnings
        self.inputs = inputs  # names of the layers or model inputs it reads
        self.path = path  # enclosing block instances (name, block), outermost first
        self.ops: dict = {} if ops is None else ops  # operations other than MACs, by kind (layers/ops.py)
        # The arguments as written in the spec (variables resolved): some counters' quirks depend on them.
        self.args: dict = {} if args is None else args
        # The layer's figure under the report's convention (conventions.py); `macs` under the paper's.
        self.convention_count = macs if convention_count is None else convention_count
        # Outputs 1, 2, ... of a layer with several (Split, an RNN's states), batch first; `output_shape`
        # is output 0. A spec reads output k as `name[k]`.
        self.extra_outputs = extra_outputs
        # (the layer whose weight matrix it shares, that matrix's size) for a `tie:`, counted once there.
        self.tied = tied
        # The params one token uses when fewer than `params` (a mixture of experts); None: all of them.
        self.active_params = active_params

    @property
    def output_shapes(self) -> tuple[tuple[int | None, ...], ...]:
        """Every output, output 0 first."""
        return (self.output_shape, *self.extra_outputs)

    def __repr__(self) -> str:
        return (f"<Layer {self.name!r} ({self.type}): output {self.output_shape}, {_count(self.params)} params, "
                f"{_count(self.macs)} MACs>")

    @property
    def activations(self) -> int:
        """Values in this layer's outputs (all of them) for one sample (for the batch of a report made for one)."""
        shape = self.output_shape
        if self.extra_outputs:
            return sum((elements(each[1:]) for each in self.output_shapes), 0) * batch_size(shape)
        values: Any = 1  # elements(shape[1:]) * batch_size(shape), inline: read twice for each of 100,000 rows
        for dim in shape[1:]:
            values *= dim
        return values * (shape[0] if shape and isinstance(shape[0], int) else 1)

    @property
    def kind(self) -> type[LayerKind]:
        """The layer's definition, whose traits (layers/traits.py) the consumers of rows read."""
        # The registry first: the memory walks read it several times for each of 100,000 rows.
        return REGISTRY.get(self.type) or lookup(self.type, self.loc)

    @property
    def type_label(self) -> str:
        """What the type column shows: the kind, and whose it is when two frameworks share the name."""
        return self.kind.type_label(self.args)


class Diagnostic(Record):
    __slots__ = ("message", "layer", "loc")

    def __init__(self, message: str, layer: str | None = None, loc: Location | None = None) -> None:
        self.message = message
        self.layer = layer
        self.loc = loc

    def __str__(self) -> str:
        return f"{self.layer}: {self.message}" if self.layer else self.message


class Report(Record):
    __slots__ = ("name", "source", "data_format", "inputs", "outputs", "rows", "warnings", "total_params",
                 "trainable_params", "non_trainable_params", "total_macs", "activations", "convention",
                 "convention_unit", "convention_total")

    def __init__(self, name: str, source: str, data_format: str, inputs: dict[str, tuple[int | None, ...]],
                 outputs: dict[str, tuple[int | None, ...]], rows: tuple[LayerRow, ...],
                 warnings: tuple[Diagnostic, ...], total_params: int, trainable_params: int,
                 non_trainable_params: int, total_macs: int, activations: int, convention: str = "paper",
                 convention_unit: str = "MACs", convention_total: int | None = None) -> None:
        self.name = name
        self.source = source
        self.data_format = data_format
        self.inputs = inputs  # model inputs by name, batch first as None
        self.outputs = outputs  # model outputs by layer name
        self.rows = rows
        self.warnings = warnings
        self.total_params = total_params
        self.trainable_params = trainable_params
        self.non_trainable_params = non_trainable_params
        self.total_macs = total_macs  # multiply-accumulates, whatever the convention
        self.activations = activations  # values output by all layers for one sample (the input not included)
        # A counting convention (conventions.py) counts apart, in its own unit: rows' `convention_count`
        # and `convention_total`. `macs` and `total_macs` stay multiply-accumulates, FLOPs 2 x MACs.
        self.convention = convention  # "paper": multiply-accumulates
        self.convention_unit = convention_unit  # MACs or FLOPs: what the convention's figures count
        self.convention_total = total_macs if convention_total is None else convention_total

    @property
    def layers(self) -> tuple[LayerRow, ...]:
        """The layers, in order: each has `name`, `type`, `output_shape`, `params`, `macs`, ..."""
        return self.rows

    def to_dict(self) -> dict[str, Any]:
        """The report as `paramcalc summary --format json` prints it (JSON types only)."""
        import json

        from paramcalc.render.json_report import render_json

        return dict(json.loads(render_json(self)))

    def table(self, width: int | None = None) -> str:
        """The summary table as plain text, `width` characters at most (default: as wide as it needs)."""
        from io import StringIO

        from rich.console import Console

        from paramcalc.render.table import render_table

        counted_by = ""
        if self.convention != "paper":
            from paramcalc.conventions import CONVENTIONS

            counted_by = CONVENTIONS[self.convention].tool
        out = StringIO()
        Console(file=out, width=width or 200, color_system=None, force_terminal=False, highlight=False,
                soft_wrap=False).print(render_table(self, counted_by=counted_by))
        return "\n".join(line.rstrip() for line in out.getvalue().splitlines())

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return (f"<Report {self.name!r}: {len(self.rows):,} layers, {_count(self.total_params)} params, "
                f"{_count(self.total_macs)} MACs>")

    def _repr_html_(self) -> str:  # Jupyter shows this
        from paramcalc.render.html import render_html

        return render_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's terminal shows this
        printer.text(repr(self) if cycle else self.table())

    @property
    def convention_label(self) -> str:
        """What the convention's figures are called: 'MACs (fvcore)', 'FLOPs (flop-counter)'."""
        return f"{self.convention_unit} ({self.convention})"

    @property
    def shared_weights(self) -> list[dict[str, Any]]:
        """Layers that reuse another's weight matrix (`tie:`): the total counts each matrix once."""
        return [{"layer": r.name, "tied_to": r.tied[0], "params": r.tied[1]} for r in self.rows if r.tied]

    @property
    def params_with_tied_listed(self) -> int:
        """The count a framework listing every named parameter shows: a tied matrix once per user."""
        return self.total_params + sum(r.tied[1] for r in self.rows if r.tied)

    @property
    def has_experts(self) -> bool:
        """Some layer uses only part of its params for each token (a mixture of experts)."""
        return any(r.active_params is not None for r in self.rows)

    @property
    def active_params(self) -> int:
        """The params one token uses: every layer's, a mixture of experts' router and top_k experts only
        (Mixtral 8x7B: 12,879,925,248 of 46,702,792,704). `total_params` for a model without experts."""
        return self.total_params - sum(r.params - r.active_params for r in self.rows if r.active_params is not None)

    @property
    def total_flops(self) -> int:
        """FLOPs = 2 x MACs: one multiply and one add per multiply-accumulate."""
        return 2 * self.total_macs

    @property
    def input_shape(self) -> tuple[int | None, ...]:
        return next(iter(self.inputs.values()))

    @property
    def output_shape(self) -> tuple[int | None, ...]:
        return next(iter(self.outputs.values()))

    @property
    def input_values(self) -> int:
        return sum(elements(shape[1:]) * batch_size(shape) for shape in self.inputs.values())

    @property
    def free_dimensions(self) -> list[str]:
        """Names of the input dimensions left free (symbolic), if any."""
        return sorted({str(d) for shape in self.inputs.values() for d in shape[1:] if not isinstance(d, int)})

    def require_numbers(self, what: str) -> None:
        """Commands that compare or divide counts need concrete sizes."""
        if self.free_dimensions:
            from paramcalc.errors import Location, SpecError

            names = ", ".join(self.free_dimensions)
            raise SpecError(f"{what} needs numbers, but the input has free dimensions ({names})",
                            Location(self.source), f"give them values, e.g. --set {self.free_dimensions[0]}=224.")

    @property
    def is_chain(self) -> bool:
        """Every layer reads the one before it (the first reads the only input): Keras's Sequential."""
        previous = next(iter(self.inputs)) if len(self.inputs) == 1 else None
        for row in self.rows:
            if row.inputs != (previous,):
                return False
            previous = row.name
        return len(self.outputs) == 1 and previous in self.outputs

    @staticmethod
    def build(name: str, source: str, data_format: str, inputs: dict[str, tuple[int, ...]],
              outputs: dict[str, tuple[int | None, ...]], rows: list[LayerRow], warnings: list[Diagnostic]) -> Report:
        sums = int_totals(rows) or (total(r.params for r in rows), total(r.trainable_params for r in rows),
                                    total(r.non_trainable_params for r in rows), total(r.macs for r in rows),
                                    total(r.activations for r in rows))
        return Report(
            name=name, source=source, data_format=data_format,
            inputs={k: (None, *v) for k, v in inputs.items()}, outputs=outputs,
            rows=tuple(rows), warnings=tuple(warnings),
            total_params=sums[0], trainable_params=sums[1], non_trainable_params=sums[2], total_macs=sums[3],
            activations=sums[4],
        )


def int_totals(rows: list[LayerRow]) -> tuple[int, int, int, int, int] | None:
    """The rows' params, trainable and non-trainable params, MACs and activations, summed in one pass when
    all are ints; None when some are formulas (`total` sums those)."""
    params = trainable = frozen = macs = activations = 0
    for row in rows:
        p, t, f, m, a = row.params, row.trainable_params, row.non_trainable_params, row.macs, row.activations
        if not (p.__class__ is int and t.__class__ is int and f.__class__ is int and m.__class__ is int
                and a.__class__ is int):
            return None
        params += p
        trainable += t
        frozen += f
        macs += m
        activations += a
    return params, trainable, frozen, macs, activations


def total(values: Iterable[Any]) -> Any:
    """The sum of counts, some of which may be formulas of free dimensions: the numbers in Python, the
    formulas in one sympy Add (adding them one by one re-sorts the growing sum each time: quadratic)."""
    numbers, formulas = 0, []
    for value in values:
        if isinstance(value, int):
            numbers += value
        else:
            formulas.append(value)
    if not formulas:
        return numbers
    import sympy

    return sympy.Add(numbers, *formulas)


def _count(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else str(n)


class DisplayRow(Record):
    """A row of the summary table: one layer, or a collapsed block instance (--depth)."""

    __slots__ = ("name", "type", "output_shape", "params", "macs", "inputs", "depth", "is_block", "convention_count",
                 "extra_outputs")

    def __init__(self, name: str, type: str, output_shape: tuple[int | None, ...], params: int, macs: int,
                 inputs: tuple[str, ...], depth: int, is_block: bool = False, convention_count: int | None = None,
                 extra_outputs: tuple[tuple[int | None, ...], ...] = ()) -> None:
        self.name = name
        self.type = type
        self.output_shape = output_shape
        self.params = params
        self.macs = macs
        self.inputs = inputs
        self.depth = depth  # nesting level: 0 for top-level items
        self.is_block = is_block  # a folded block instance rather than a layer
        self.convention_count = macs if convention_count is None else convention_count
        self.extra_outputs = extra_outputs  # outputs 1, 2, ... of a layer with several

    @property
    def output_shapes(self) -> tuple[tuple[int | None, ...], ...]:
        return (self.output_shape, *self.extra_outputs)


def display_rows(report: Report, depth: int | None = None) -> list[DisplayRow]:
    """Rows as `--depth` wants them: layers nested deeper than `depth` blocks fold into their block
    instance, whose row sums their params and MACs and shows the block's output shape."""
    shown: list[DisplayRow] = []
    folded: dict[str, int] = {}  # block instance -> index in `shown`
    for row in report.rows:
        if depth is None or len(row.path) <= depth:
            shown.append(DisplayRow(row.name, row.type_label, row.output_shape, row.params, row.macs, row.inputs,
                                    len(row.path), convention_count=row.convention_count,
                                    extra_outputs=row.extra_outputs))
            continue
        instance, block = row.path[depth]
        if instance not in folded:
            folded[instance] = len(shown)
            shown.append(DisplayRow(instance, f"{block} block", row.output_shape, 0, 0, row.inputs, depth, True))
        i = folded[instance]
        old = shown[i]
        shown[i] = DisplayRow(old.name, old.type, row.output_shape, old.params + row.params, old.macs + row.macs,
                              old.inputs, depth, True, old.convention_count + row.convention_count,
                              row.extra_outputs)
    return shown
