"""Counting conventions: what other counters call "FLOPs" or "MACs", as recipes over one
breakdown (multiply-accumulates, plus the other operations of layers/ops.py kept apart).

Each recipe reproduces that tool's own figure, quirks included; `paper` is what `macs` means
everywhere else in paramcalc. A convention's figures are kept apart from the MACs (a report's
`convention_count` and `convention_total`), in the convention's own unit: MACs, or FLOPs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paramcalc.compare import weights
from paramcalc.layers import ops as op
from paramcalc.layers.registry import REGISTRY
from paramcalc.report import LayerRow, Report


@dataclass(frozen=True)
class Convention:
    name: str
    tool: str
    unit: str  # what its figures count: "MACs" (multiply-accumulates, one each) or "FLOPs" (two each)
    description: str
    count: Callable[[LayerRow], Any]  # the layer's figure under this convention

    def total(self, report: Report) -> Any:
        return sum((self.count(row) for row in report.rows), 0)


def _get(row: LayerRow, kind: str) -> Any:
    return row.ops.get(kind, 0)


def _doc(function: Callable[..., Any]) -> str:
    text = " ".join((function.__doc__ or "").split())
    return text.split(": ", 1)[1] if ": " in text else text


def paper(row: LayerRow) -> Any:
    return row.macs


def traced_as_convolution_mode(row: LayerRow) -> bool:
    """A PyTorch convolution whose padding is written as a word ('same', 'valid'): PyTorch runs it as
    aten::_convolution_mode, not aten::_convolution."""
    kind = REGISTRY.get(row.type)
    return (kind is not None and kind.framework == "torch" and row.structure is not None
            and row.structure.variant == "standard" and isinstance(row.args.get("padding"), str))


def fvcore(row: LayerRow) -> Any:
    """fvcore's FlopCountAnalysis (eval mode): one per multiply-accumulate of conv, linear and
    matmul, except a PyTorch convolution with padding written as a word ('same', 'valid'), which
    counts 0 (fvcore 0.1.5 has no handle for the aten::_convolution_mode it runs as, and warns of an
    unsupported op); BatchNorm 2 per value with an affine transform (1 without); LayerNorm and GroupNorm
    5 per value (4 without affine); 2-D adaptive or global average pooling 1 per input value; 2-D
    upsampling 1 per output value (nearest) or 4 (bilinear), other ranks 0 (fvcore has no handler for
    them); activations, max pooling, additions and bias additions 0."""
    return ((0 if traced_as_convolution_mode(row) else row.macs)
            + _get(row, op.BATCH_NORM) + _get(row, op.BATCH_NORM_AFFINE)
            + 4 * (_get(row, op.LAYER_NORM) + _get(row, op.GROUP_NORM))
            + _get(row, op.LAYER_NORM_AFFINE) + _get(row, op.GROUP_NORM_AFFINE)
            + _get(row, op.GLOBAL_AVG_POOL_2D)
            + _get(row, f"{op.UPSAMPLE}_nearest_2d") + 4 * _get(row, f"{op.UPSAMPLE}_bilinear_2d"))


def flop_counter(row: LayerRow) -> Any:
    """PyTorch's torch.utils.flop_counter.FlopCounterMode: exactly 2 per multiply-accumulate."""
    return 2 * row.macs


def flops(row: LayerRow) -> Any:
    """2 FLOPs per multiply-accumulate plus one per bias addition (DeepSpeed's and calflops' FLOPs)."""
    return 2 * row.macs + _get(row, op.BIAS_ADDS)


def ptflops_aten(row: LayerRow) -> Any:
    """ptflops with backend='aten': multiply-accumulates plus one per bias addition."""
    return row.macs + _get(row, op.BIAS_ADDS)


def _weights(row: LayerRow) -> int:
    return weights(row.structure, row.params) if row.structure is not None else 0


def _out_positions(row: LayerRow) -> Any:
    return op.elements(row.structure.out_spatial) if row.structure else 0


def torchinfo(row: LayerRow) -> Any:
    """torchinfo's total_mult_adds: for a convolution, every weight and bias times the output
    positions (so a transposed convolution is sized by its larger output, not its input); for any
    other layer with parameters, its parameter count once, whatever the positions (a Linear on a
    sequence counts as one position; BatchNorm adds 2 x C); layers without parameters 0."""
    s = row.structure
    if s is not None and s.variant != "dense":
        return row.params * _out_positions(row) if s.variant != "separable" else row.macs + _get(row, op.BIAS_ADDS)
    return row.trainable_params


def thop(row: LayerRow) -> Any:
    """thop's profile(): multiply-accumulates without biases (a transposed convolution sized by its
    output, as torchinfo does); BatchNorm 4 per value with an affine transform (2 without);
    average pooling 1 per output; adaptive and global average pooling (window + 1) per output;
    softmax 3n - 1 per n values; activations, max pooling and additions 0."""
    s = row.structure
    count = _weights(row) * _out_positions(row) if s is not None and s.variant == "transpose" else row.macs
    count += 2 * (_get(row, op.BATCH_NORM) + _get(row, op.BATCH_NORM_AFFINE))
    count += _get(row, op.AVG_POOL_OUTPUT)
    if _get(row, op.GLOBAL_AVG_POOL_2D):
        outputs = row.activations
        count += _get(row, op.GLOBAL_AVG_POOL_2D) + outputs  # (window + 1) x outputs
    if _get(row, op.SOFTMAX) and s is None:
        count += 3 * _get(row, op.SOFTMAX) - _get(row, op.SOFTMAX) // max(row.output_shape[-1] or 1, 1)
    return count


_PTFLOPS_ACTIVATIONS = {"ReLU", "ReLU6", "PReLU", "ELU", "LeakyReLU"}  # no hook for Tanh, Sigmoid, GELU...


def ptflops(row: LayerRow) -> Any:
    """ptflops' get_model_complexity_info with its default backend ('pytorch'): multiply-accumulates
    plus bias additions, but a Linear's bias only once whatever the positions;
    BatchNorm 2 per value (1 without affine); ReLU6, PReLU, ELU and LeakyReLU 1 per value, nn.ReLU
    twice (its module hook and its patched functional call both count), Tanh, Sigmoid and GELU 0;
    max, average and adaptive
    pooling (2 per input value); softmax 1 per value; LocalResponseNorm 3 per value plus its
    channel-padded input; Dropout, additions and padding 0."""
    s = row.structure
    count = row.macs
    if s is not None:
        count += s.out_channels if s.variant == "dense" and s.use_bias else _get(row, op.BIAS_ADDS)
    count += _get(row, op.BATCH_NORM) + _get(row, op.BATCH_NORM_AFFINE)
    if _get(row, op.PLAIN_RELU):
        count += 2 * _get(row, op.ACTIVATION)
    elif row.type in _PTFLOPS_ACTIVATIONS:
        count += _get(row, op.ACTIVATION)
    count += 2 * _get(row, op.POOL_INPUT) + _get(row, op.SOFTMAX) * (s is None)
    # LocalResponseNorm: its own ops, plus the avg_pool3d it calls on the channel-padded input.
    count += 3 * _get(row, op.LRN) + _get(row, op.LRN_PADDED)
    return count


def apply(report: Report, name: str) -> Report:
    """The report with every layer counted under convention `name` too (`convention_count`,
    `convention_total`); `macs` and `total_macs` stay multiply-accumulates."""
    if name == "paper":
        return report
    convention = CONVENTIONS[name]
    rows = tuple(row.replace(convention_count=convention.count(row)) for row in report.rows)
    return report.replace(rows=rows, convention=name, convention_unit=convention.unit,
                          convention_total=sum((r.convention_count for r in rows), 0))


def explain_difference(report: Report, name: str, limit: int = 4) -> str:
    """What a convention adds to the paper's count, by layer type: '+10.1M BatchNormalization, ...'."""
    convention = CONVENTIONS[name]
    extra: dict[str, Any] = {}
    for row in report.rows:
        delta = convention.count(row) - row.macs
        if delta:
            extra[row.type] = extra.get(row.type, 0) + delta
    if not extra:
        return "nothing more"
    ranked = sorted(extra.items(), key=lambda item: -abs(item[1]))
    parts = [f"{_short(v)} {kind}" for kind, v in ranked[:limit]]
    if len(ranked) > limit:
        parts.append(f"{_short(sum(v for _, v in ranked[limit:]))} other")
    return ", ".join(parts)


def _short(n: Any) -> str:
    if not isinstance(n, int):
        return f"+{n}"
    sign = "+" if n >= 0 else "-"
    n = abs(n)
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{sign}{n / size:.3g}{unit}"
    return f"{sign}{n}"


CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention("paper", "the papers; torchvision's model table (_ops)", "MACs",
               "multiply-accumulates of conv, dense and attention products only", paper),
    Convention("fvcore", "fvcore FlopCountAnalysis", "MACs", _doc(fvcore), fvcore),
    Convention("torchinfo", "torchinfo total_mult_adds", "MACs", _doc(torchinfo), torchinfo),
    Convention("ptflops", "ptflops (default 'pytorch' backend)", "MACs", _doc(ptflops), ptflops),
    Convention("ptflops-aten", "ptflops backend='aten'", "MACs", _doc(ptflops_aten), ptflops_aten),
    Convention("thop", "thop profile", "MACs", _doc(thop), thop),
    Convention("flop-counter", "PyTorch FlopCounterMode", "FLOPs", _doc(flop_counter), flop_counter),
    Convention("flops", "DeepSpeed / calflops FLOPs", "FLOPs", _doc(flops), flops),
)}
