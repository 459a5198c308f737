"""The layer catalog behind `paramcalc layers`: every kind with its arguments and its example,
computed by the loader and the engine like any spec, so the listing cannot go stale. It sits above
the engine; render/layers.py only formats what it returns."""

from __future__ import annotations

from paramcalc.engine import analyze
from paramcalc.errors import Location
from paramcalc.layers import all_kinds, lookup
from paramcalc.layers.args import Arg
from paramcalc.layers.base import LayerKind
from paramcalc.record import Record
from paramcalc.report import LayerRow
from paramcalc.spec.loader import parse_spec
from paramcalc.spec.model import split_reference

Shape = tuple[int | None, ...]


class KindEntry(Record):
    """One layer kind as `paramcalc layers` shows it: its description and its example, computed."""

    __slots__ = ("name", "framework", "doc", "arguments", "example", "row", "input_shapes")

    def __init__(self, name: str, framework: str, doc: str, arguments: tuple[Arg, ...], example: str,
                 row: LayerRow, input_shapes: tuple[Shape, ...] = ()) -> None:
        self.name = name
        self.framework = framework  # keras | torch
        self.doc = doc
        self.arguments = arguments  # its own, first one first
        self.example = example  # the example's arguments, as YAML
        self.row = row  # the example's layer, with the derivations `explain` would print for it
        self.input_shapes = input_shapes  # the shape of each input it reads, batch first (MatMul's differ)


class Catalog(Record):
    __slots__ = ("entries", "total", "everything")

    def __init__(self, entries: tuple[KindEntry, ...], total: int, everything: bool) -> None:
        self.entries = entries
        self.total = total  # kinds registered
        self.everything = everything  # no kind named: the whole registry, sorted


def example_row(kind: type[LayerKind]) -> LayerRow:
    """The last layer of the kind's example spec, as the engine computes it."""
    return example(kind)[0]


def example(kind: type[LayerKind]) -> tuple[LayerRow, tuple[Shape, ...]]:
    """The last layer of the kind's example spec, and the shape of each of its inputs."""
    report = analyze(parse_spec(kind.example_spec(), f"<{kind.name} example>"))
    row = report.rows[-1]
    rows = {r.name: r for r in report.rows}

    def shape_of(reference: str) -> Shape:
        name, index = split_reference(reference)
        if name in report.inputs:
            return report.inputs[name]
        return rows[name].output_shapes[index] if index is not None else rows[name].output_shape

    return row, tuple(shape_of(reference) for reference in row.inputs)


def entry(kind: type[LayerKind]) -> KindEntry:
    row, input_shapes = example(kind)
    return KindEntry(kind.name, kind.framework, kind.doc, kind.arguments(), kind.example, row, input_shapes)


def catalog(names: tuple[str, ...] = ()) -> Catalog:
    """The named kinds (an unknown name is an error with suggestions), or every kind."""
    registry = all_kinds()
    chosen = names or tuple(sorted(registry, key=str.lower))
    kinds = [lookup(name, Location("paramcalc layers")) for name in chosen]
    return Catalog(tuple(entry(kind) for kind in kinds), len(registry), not names)
