"""The typed spec: what the YAML says, with blocks, repeats and variables already expanded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paramcalc.errors import Location
from paramcalc.spec.expect import Expectation

CHANNELS_LAST = "channels_last"
CHANNELS_FIRST = "channels_first"
DATA_FORMATS = (CHANNELS_LAST, CHANNELS_FIRST)
DEFAULT_INPUT = "input"

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerSpec:
    """One layer after expansion: arguments resolved to plain values, inputs to full names."""

    kind: str
    args: dict[str, Any]
    positional: Any  # `- Dense: 10` -> the layer kind's first argument
    has_positional: bool
    name: str
    inputs: tuple[str, ...]  # the layers (or model inputs) it reads, by full name
    loc: Location  # where the layer kind is written
    arg_locs: dict[str, Location] = field(default_factory=dict)
    path: tuple[tuple[str, str], ...] = ()  # enclosing block instances, outermost first: (name, block)
    explicit_name: bool = False


@dataclass(frozen=True)
class Spec:
    source: str
    name: str
    inputs: dict[str, Shape]  # model inputs by name, without the batch dimension
    input_locs: dict[str, Location]
    data_format: str
    layers: tuple[LayerSpec, ...]
    outputs: tuple[str, ...]
    vars: dict[str, Any] = field(default_factory=dict)
    expectations: tuple[Expectation, ...] | None = None  # None: the spec has no `expect:` block

    @property
    def channels_last(self) -> bool:
        return self.data_format == CHANNELS_LAST

    @property
    def input_shape(self) -> Shape:
        return next(iter(self.inputs.values()))
