"""Layer kinds: one family module per kind of layer (conv, pooling, ...), each registering its kinds
in REGISTRY when imported. `lookup` imports a kind's family on first use; `all_kinds` imports all."""

from paramcalc.layers.base import Context, LayerKind, LayerResult, Shape
from paramcalc.layers.registry import REGISTRY, all_kinds, lookup

__all__ = ["REGISTRY", "Context", "LayerKind", "LayerResult", "Shape", "all_kinds", "lookup"]
