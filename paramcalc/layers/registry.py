"""Layer kinds by name. An unknown name is an error with suggestions, never a silent zero."""

from __future__ import annotations

from typing import TypeVar

from paramcalc.errors import Location, UnknownLayerError
from paramcalc.layers.base import LayerKind
from paramcalc.suggest import did_you_mean

REGISTRY: dict[str, type[LayerKind]] = {}
K = TypeVar("K", bound=type[LayerKind])


def register(cls: K) -> K:
    if cls.name in REGISTRY:
        raise RuntimeError(f"layer kind {cls.name} registered twice")
    REGISTRY[cls.name] = cls
    return cls


def define_ranked(base: type[LayerKind], name: str, rank: int, **attrs: object) -> type[LayerKind]:
    """Register `name` as `base` at one spatial rank (MaxPooling1D/2D/3D share one definition)."""
    return register(type(name, (base,), {"name": name, "rank": rank, "__module__": base.__module__, **attrs}))


def lookup(kind: str, loc: Location) -> type[LayerKind]:
    found = REGISTRY.get(kind)
    if found is None:
        hint = did_you_mean(kind, REGISTRY) or "run `paramcalc layers` to list the supported layer kinds."
        raise UnknownLayerError(f"unknown layer kind `{kind}`", loc, hint)
    return found
