"""Standard vs depthwise-separable convolution costs, per layer of a spec and over grids of sizes,
and per-layer-type breakdowns (the MobileNet paper's Tables 2 and 4). Pure: no printing.

The seed's notation: kernel K x K, N input channels, M output channels, output D x D.
  standard  D^2 x K^2 x N x M  multiply-accumulates, K^2 x N x M weights
  separable D^2 x K^2 x N + D^2 x N x M, K^2 x N + N x M weights
  ratio     separable / standard = 1/M + 1/K^2  (with depth multiplier m: m/M + m/K^2)
Weights exclude biases and normalisation, as in the paper."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from paramcalc.layers.base import Structure, Variant
from paramcalc.report import LayerRow, Report


@dataclass(frozen=True)
class ConvPair:
    """One convolution in both forms."""

    layer: str
    kernel: tuple[int, ...]
    n: int  # input channels
    m: int  # output channels
    out: tuple[int, ...]  # output spatial dims (D x D)
    multiplier: int = 1
    written: str = "standard"  # the form the spec uses: standard | separable | depthwise only
    actual_macs: int = 0  # what the spec's own layers cost, for the totals
    actual_weights: int = 0

    @property
    def area(self) -> int:
        return math.prod(self.kernel)

    @property
    def positions(self) -> int:
        return math.prod(self.out)

    @property
    def standard_macs(self) -> int:
        return self.positions * self.area * self.n * self.m

    @property
    def separable_macs(self) -> int:
        depthwise = self.positions * self.area * self.n * self.multiplier
        if self.written == "depthwise only":
            return depthwise
        return depthwise + self.positions * self.n * self.multiplier * self.m

    @property
    def standard_weights(self) -> int:
        return self.area * self.n * self.m

    @property
    def separable_weights(self) -> int:
        depthwise = self.area * self.n * self.multiplier
        return depthwise if self.written == "depthwise only" else depthwise + self.n * self.multiplier * self.m

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.separable_macs, self.standard_macs)

    @property
    def closed_form(self) -> Fraction:
        """1/M + 1/K^2 (times m): the ratio the seed derives; exact for a depthwise + pointwise pair."""
        if self.written == "depthwise only":
            return Fraction(self.multiplier, self.m)
        return self.multiplier * (Fraction(1, self.m) + Fraction(1, self.area))


def weights(structure: Structure, params: int) -> int:
    """A layer's kernel weights: its params less the bias (one per output channel when present)."""
    return params - (structure.out_channels if structure.use_bias else 0)


@dataclass(frozen=True)
class SpecComparison:
    report: Report
    pairs: tuple[ConvPair, ...]

    @property
    def macs_as_written(self) -> int:
        return self.report.total_macs

    def _swap(self, total: int, actual: Iterable[int], replacement: Iterable[int]) -> int:
        return total - sum(actual) + sum(replacement)

    @property
    def macs_standard(self) -> int:
        return self._swap(self.report.total_macs, (p.actual_macs for p in self.pairs),
                          (p.standard_macs for p in self.pairs))

    @property
    def macs_separable(self) -> int:
        return self._swap(self.report.total_macs, (p.actual_macs for p in self.pairs),
                          (p.separable_macs for p in self.pairs))

    @property
    def conv_dense_params(self) -> int:
        """Weights and biases of conv and dense layers: the count papers quote (normalisation folded)."""
        return sum(r.params for r in self.report.rows if r.structure is not None)

    @property
    def params_standard(self) -> int:
        return self._swap(self.conv_dense_params, (p.actual_weights for p in self.pairs),
                          (p.standard_weights for p in self.pairs))

    @property
    def params_separable(self) -> int:
        return self._swap(self.conv_dense_params, (p.actual_weights for p in self.pairs),
                          (p.separable_weights for p in self.pairs))


def conv_pairs(report: Report) -> list[ConvPair]:
    """Every convolution that has a depthwise-separable counterpart, in spec order.

    A depthwise conv followed (through value-keeping layers only: normalisation, activations,
    dropout; see layers/traits.py) by a 1x1 conv is one separable pair, as in MobileNet. Unpaired
    1x1, grouped and transposed convs and dense layers cost the same in both forms and are left out."""
    rows = list(report.rows)
    pairs: list[ConvPair] = []
    used: set[int] = set()
    for i, row in enumerate(rows):
        s = row.structure
        if i in used or s is None:
            continue
        if s.variant is Variant.STANDARD and s.groups == 1 and math.prod(s.kernel) > 1:
            pairs.append(ConvPair(row.name, s.kernel, s.in_channels, s.out_channels, s.out_spatial,
                                  actual_macs=row.macs, actual_weights=weights(s, row.params)))
        elif s.variant is Variant.SEPARABLE:
            pairs.append(ConvPair(row.name, s.kernel, s.in_channels, s.out_channels, s.out_spatial,
                                  s.depth_multiplier, "separable", row.macs, weights(s, row.params)))
        elif s.variant is Variant.DEPTHWISE:
            j = _pointwise_after(rows, i)
            if j is None:
                pairs.append(ConvPair(row.name, s.kernel, s.in_channels, s.out_channels, s.out_spatial,
                                      s.depth_multiplier, "depthwise only", row.macs, weights(s, row.params)))
                continue
            pw = rows[j]
            assert pw.structure is not None
            used.add(j)
            pairs.append(ConvPair(f"{row.name} + {pw.name}", s.kernel, s.in_channels, pw.structure.out_channels,
                                  s.out_spatial, s.depth_multiplier, "separable", row.macs + pw.macs,
                                  weights(s, row.params) + weights(pw.structure, pw.params)))
    return pairs


def _pointwise_after(rows: Sequence[LayerRow], i: int) -> int | None:
    for j in range(i + 1, len(rows)):
        s = rows[j].structure
        if s is not None:
            pointwise = s.variant is Variant.STANDARD and s.groups == 1 and math.prod(s.kernel) == 1
            return j if pointwise and s.out_spatial == rows[i].structure.out_spatial else None  # type: ignore[union-attr]
        if not rows[j].kind.cost_of(rows[j].args).value_keeping:
            return None
    return None


def compare_spec(report: Report) -> SpecComparison:
    report.require_numbers("paramcalc compare")
    return SpecComparison(report, tuple(conv_pairs(report)))


# ---- grid mode ----------------------------------------------------------------------------------

def parse_values(text: str, name: str) -> list[int]:
    """'32,64,128' or a range 'start:stop[:step]' (stop included), or a mix: '3,5:9:2'."""
    values: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if ":" in part:
                bounds = [int(x) for x in part.split(":")]
                if len(bounds) not in (2, 3):
                    raise ValueError
                start, stop = bounds[0], bounds[1]
                step = bounds[2] if len(bounds) == 3 else 1
                if step < 1 or stop < start:
                    raise ValueError
                values.extend(range(start, stop + 1, step))
            else:
                values.append(int(part))
        except ValueError:
            raise ValueError(f"--{name} takes whole numbers separated by commas, or ranges start:stop:step; "
                             f"got {text!r}") from None
    if not values or min(values) < 1:
        raise ValueError(f"--{name} values must be at least 1; got {text!r}")
    if len(values) > 10_000:
        raise ValueError(f"--{name} lists {len(values):,} values; at most 10,000 are allowed")
    return values


def grid(ins: list[int], outs: list[int], kernels: list[int], sizes: list[int], stride: int = 1,
         multiplier: int = 1) -> list[ConvPair]:
    """One row per combination; D = ceil(size / stride), as with 'same' padding."""
    rows = []
    for n, m, k, size in itertools.product(ins, outs, kernels, sizes):
        d = -(-size // stride)
        rows.append(ConvPair(f"N={n} M={m} K={k} size={size}", (k, k), n, m, (d, d), multiplier, "grid"))
    return rows


# ---- per-layer-type breakdown ---------------------------------------------------------------------

def category(row: LayerRow) -> str:
    """The MobileNet paper's Table 2 categories: Conv 1x1, Conv DW 3x3, Conv 3x3, FC, ..."""
    s = row.structure
    if s is None:
        return row.type if row.params or row.macs else "other layers"
    kernel = "x".join(str(k) for k in s.kernel)
    if s.variant is Variant.DENSE:
        return "FC"
    if s.variant is Variant.STANDARD and math.prod(s.kernel) == 1 and math.prod(s.in_spatial) == 1:
        return "FC"  # a 1x1 convolution on a 1x1 map is a fully connected layer
    if s.variant is Variant.DEPTHWISE:
        return f"Conv DW {kernel}"
    if s.variant is Variant.SEPARABLE:
        return f"Conv separable {kernel}"
    if s.variant is Variant.TRANSPOSE:
        return f"Conv transposed {kernel}"
    return f"Conv {kernel}" + (" grouped" if s.groups > 1 else "")


@dataclass(frozen=True)
class TypeShare:
    category: str
    layers: int
    macs: int
    params: int
    weights: int  # kernel weights only: no biases, no normalisation (the paper's Table 2 basis)
    convention_count: int = 0  # as the report's counting convention counts (its MACs under the paper's)


ATTENTION_PRODUCTS = "Attention QK^T, AV"  # by_type's row of the attention products (their layers' row: the rest)


def attention_products(row: LayerRow) -> int:
    """The MACs of a layer's attention products (for its batch, as its MACs), 0 for other layers."""
    from paramcalc.layers.ops import ATTENTION_SCORE_MACS, ATTENTION_VALUE_MACS
    from paramcalc.report import batch_size

    per_sample = row.ops.get(ATTENTION_SCORE_MACS, 0) + row.ops.get(ATTENTION_VALUE_MACS, 0)
    return int(per_sample * batch_size(row.output_shape))


def by_type(report: Report) -> list[TypeShare]:
    """MACs and params per layer category, largest MACs first."""
    report.require_numbers("a breakdown by layer type")
    totals: dict[str, list[int]] = {}
    for row in report.rows:
        entry = totals.setdefault(category(row), [0, 0, 0, 0, 0])
        entry[0] += 1
        entry[1] += row.macs
        entry[2] += row.params
        entry[3] += weights(row.structure, row.params) if row.structure is not None else 0
        entry[4] += row.convention_count
        products = attention_products(row)
        if products:  # the attention products apart from the projections: the term quadratic in the length
            entry[1] -= products
            apart = totals.setdefault(ATTENTION_PRODUCTS, [0, 0, 0, 0, 0])
            apart[0] += 1
            apart[1] += products
    shares = [TypeShare(name, *values) for name, values in totals.items()]
    return sorted(shares, key=lambda t: (-t.macs, -t.params, t.category))
