"""Counting conventions: what other counters call "FLOPs" or "MACs", as recipes over one
breakdown (multiply-accumulates, plus the other operations of layers/ops.py kept apart).

Each recipe reproduces that tool's own figure, quirks included; `paper` is what `macs` means
everywhere else in paramcalc."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paramcalc.layers import ops as op
from paramcalc.report import LayerRow, Report


@dataclass(frozen=True)
class Convention:
    name: str
    tool: str
    description: str
    count: Callable[[LayerRow], Any]  # the layer's figure under this convention

    def total(self, report: Report) -> Any:
        return sum((self.count(row) for row in report.rows), 0)


def _get(row: LayerRow, kind: str) -> Any:
    return row.ops.get(kind, 0)


def paper(row: LayerRow) -> Any:
    return row.macs


def fvcore(row: LayerRow) -> Any:
    """fvcore's FlopCountAnalysis (eval mode): one per multiply-accumulate of conv, linear and
    matmul; BatchNorm 2 per value with an affine transform (1 without); LayerNorm and GroupNorm
    5 per value (4 without affine); 2-D adaptive or global average pooling 1 per input value; 2-D
    upsampling 1 per output value (nearest) or 4 (bilinear), other ranks 0 (fvcore has no handler for
    them); activations, max pooling, additions and bias additions 0."""
    return (row.macs
            + _get(row, op.BATCH_NORM) + _get(row, op.BATCH_NORM_AFFINE)
            + 4 * (_get(row, op.LAYER_NORM) + _get(row, op.GROUP_NORM))
            + _get(row, op.LAYER_NORM_AFFINE) + _get(row, op.GROUP_NORM_AFFINE)
            + _get(row, op.GLOBAL_AVG_POOL_2D)
            + _get(row, f"{op.UPSAMPLE}_nearest_2d") + 4 * _get(row, f"{op.UPSAMPLE}_bilinear_2d"))


def flops(row: LayerRow) -> Any:
    """2 FLOPs per multiply-accumulate, plus one per bias addition (DeepSpeed, calflops)."""
    return 2 * row.macs + _get(row, op.BIAS_ADDS)


CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention("paper", "the papers, torchvision's model table (_ops)",
               "multiply-accumulates of conv, dense and attention products only", paper),
    Convention("fvcore", "fvcore FlopCountAnalysis", fvcore.__doc__.split(":", 1)[1].strip(), fvcore),
    Convention("flops", "2 x MACs + bias additions", flops.__doc__.strip(), flops),
)}
