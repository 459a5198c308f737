"""Layer kinds. Importing this package registers every family module's kinds in REGISTRY."""

from paramcalc.layers import (  # noqa: F401  (importing registers the kinds)
    activation,
    attention,
    conv,
    dense,
    merge,
    norm,
    pooling,
    reshape,
)
from paramcalc.layers.base import Context, LayerKind, LayerResult, Shape
from paramcalc.layers.registry import REGISTRY, lookup

__all__ = ["REGISTRY", "Context", "LayerKind", "LayerResult", "Shape", "lookup"]
