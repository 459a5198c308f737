"""The typed spec: what the YAML says, checked for structure but not yet for shapes."""

from __future__ import annotations

from dataclasses import dataclass

from paramcalc.errors import Location
from paramcalc.spec.expect import Expectation
from paramcalc.spec.yamlnodes import Node

CHANNELS_LAST = "channels_last"
CHANNELS_FIRST = "channels_first"
DATA_FORMATS = (CHANNELS_LAST, CHANNELS_FIRST)


@dataclass(frozen=True)
class LayerSpec:
    """One layer item of the spec, arguments still as located YAML nodes."""

    kind: str
    args: dict[str, Node]
    positional: Node | None  # `- Dense: 10` -> the layer kind's first argument
    name: str | None
    loc: Location  # where the layer kind is written
    arg_locs: dict[str, Location]  # where each argument's key is written


@dataclass(frozen=True)
class Spec:
    source: str
    name: str
    input_shape: tuple[int, ...]  # without the batch dimension
    input_loc: Location
    data_format: str
    layers: tuple[LayerSpec, ...]
    expectations: tuple[Expectation, ...] | None = None  # None: the spec has no `expect:` block

    @property
    def channels_last(self) -> bool:
        return self.data_format == CHANNELS_LAST
