"""The typed spec: what the YAML says, with blocks, repeats and variables already expanded."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from paramcalc.errors import Location
from paramcalc.record import Record
from paramcalc.spec.expect import Expectation

CHANNELS_LAST = "channels_last"
CHANNELS_FIRST = "channels_first"
DATA_FORMATS = (CHANNELS_LAST, CHANNELS_FIRST)
DEFAULT_INPUT = "input"

Shape = tuple[int, ...]
_NO_ORIGINS: Mapping[Location, str] = MappingProxyType({})


def split_reference(name: str) -> tuple[str, int | None]:
    """`halves[1]` -> ("halves", 1): output k of a layer with several outputs; a bare name -> (name, None).
    Brackets cannot clash with the `.` of block-prefixed names (`down.conv1`), and a layer name cannot
    hold them (spec/expand.py refuses it)."""
    if not name.endswith("]"):
        return name, None
    base, bracket, index = name[:-1].rpartition("[")
    digits = index[1:] if index.startswith("-") else index
    if not bracket or not base or not digits.isdecimal() or not digits.isascii() or len(digits) > 100:
        return name, None  # (past 100 digits no layer has such an output: it is read as a plain name)
    return base, int(index)


class LayerSpec(Record):
    """One layer after expansion: arguments resolved to plain values, inputs to full names."""

    __slots__ = ("kind", "args", "positional", "has_positional", "name", "inputs", "loc", "arg_locs", "path",
                 "explicit_name", "origins")

    def __init__(self, kind: str, args: dict[str, Any], positional: Any, has_positional: bool, name: str,
                 inputs: tuple[str, ...], loc: Location, arg_locs: dict[str, Location] | None = None,
                 path: tuple[tuple[str, str], ...] = (), explicit_name: bool = False,
                 origins: dict[Location, str] | None = None) -> None:
        self.kind = kind
        self.args = args
        self.positional = positional  # `- Dense: 10` -> the layer kind's first argument
        self.has_positional = has_positional
        self.name = name
        self.inputs = inputs  # the layers (or model inputs) it reads, by full name
        self.loc = loc  # where the layer kind is written
        self.arg_locs: dict[str, Location] = {} if arg_locs is None else arg_locs
        self.path = path  # enclosing block instances, outermost first: (name, block)
        self.explicit_name = explicit_name
        # Where values set from outside the spec (--set, analyze(alpha=...)) reach this layer's arguments:
        # the argument's location -> "--set alpha=-1", for the message of a value that does not fit.
        self.origins: Mapping[Location, str] = origins or _NO_ORIGINS  # (one shared empty mapping)

    def origin_of(self, loc: Location | None) -> str:
        return self.origins.get(loc, "") if self.origins and loc is not None else ""


class Spec(Record):
    __slots__ = ("source", "name", "inputs", "input_locs", "data_format", "layers", "outputs", "vars",
                 "expectations", "output_locs")

    def __init__(self, source: str, name: str, inputs: dict[str, Shape], input_locs: dict[str, Location],
                 data_format: str, layers: tuple[LayerSpec, ...], outputs: tuple[str, ...],
                 vars: dict[str, Any] | None = None, expectations: tuple[Expectation, ...] | None = None,
                 output_locs: dict[str, Location] | None = None) -> None:
        self.source = source
        self.name = name
        self.inputs = inputs  # model inputs by name, without the batch dimension
        self.input_locs = input_locs
        self.data_format = data_format
        self.layers = layers
        self.outputs = outputs
        self.vars: dict[str, Any] = {} if vars is None else vars
        self.expectations = expectations  # None: the spec has no `expect:` block
        self.output_locs: dict[str, Location] = {} if output_locs is None else output_locs  # `outputs:` entries

    @property
    def channels_last(self) -> bool:
        return self.data_format == CHANNELS_LAST

    @property
    def input_shape(self) -> Shape:
        return next(iter(self.inputs.values()))
