"""The result of an analysis: plain frozen dataclasses, totals computed once, no rendering."""

from __future__ import annotations

from dataclasses import dataclass

from paramcalc.errors import Location
from paramcalc.layers.base import Derivation, Structure

BYTES_PER_VALUE = 4  # float32, as Keras sizes its "Total params" line
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class LayerRow:
    name: str
    type: str
    output_shape: tuple[int | None, ...]  # batch first, as None
    params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    loc: Location
    derivations: tuple[Derivation, ...] = ()
    structure: Structure | None = None
    input_shape: tuple[int | None, ...] = ()  # batch first, as None
    warnings: tuple[str, ...] = ()

    @property
    def activations(self) -> int:
        """Values in this layer's output for one sample."""
        size = 1
        for dim in self.output_shape[1:]:
            size *= dim or 1
        return size


@dataclass(frozen=True)
class Diagnostic:
    message: str
    layer: str | None = None
    loc: Location | None = None

    def __str__(self) -> str:
        return f"{self.layer}: {self.message}" if self.layer else self.message


@dataclass(frozen=True)
class Report:
    name: str
    source: str
    data_format: str
    input_shape: tuple[int | None, ...]  # batch first, as None
    rows: tuple[LayerRow, ...]
    warnings: tuple[Diagnostic, ...]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    total_macs: int
    activations: int  # values output by all layers for one sample (the input not included)

    @property
    def total_flops(self) -> int:
        """FLOPs = 2 x MACs: one multiply and one add per multiply-accumulate."""
        return 2 * self.total_macs

    @property
    def output_shape(self) -> tuple[int | None, ...]:
        return self.rows[-1].output_shape if self.rows else self.input_shape

    @property
    def input_values(self) -> int:
        size = 1
        for dim in self.input_shape[1:]:
            size *= dim or 1
        return size

    @staticmethod
    def build(name: str, source: str, data_format: str, input_shape: tuple[int, ...],
              rows: list[LayerRow], warnings: list[Diagnostic]) -> Report:
        return Report(
            name=name, source=source, data_format=data_format, input_shape=(None, *input_shape),
            rows=tuple(rows), warnings=tuple(warnings),
            total_params=sum(r.params for r in rows),
            trainable_params=sum(r.trainable_params for r in rows),
            non_trainable_params=sum(r.non_trainable_params for r in rows),
            total_macs=sum(r.macs for r in rows),
            activations=sum(r.activations for r in rows),
        )
