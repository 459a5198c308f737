"""paramcalc: parameters, output shapes and MACs of neural networks from a YAML spec."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for type checkers and linters; at run time __getattr__ imports them on first use
    from paramcalc.engine import analyze
    from paramcalc.spec.loader import load_spec, parse_spec

__version__ = "0.1.0"

__all__ = ["__version__", "analyze", "load_spec", "parse_spec"]


def __getattr__(name: str) -> object:
    # The public API is imported lazily so that `paramcalc --help` starts fast.
    if name == "analyze":
        from paramcalc.engine import analyze

        return analyze
    if name in ("load_spec", "parse_spec"):
        from paramcalc.spec import loader

        return getattr(loader, name)
    raise AttributeError(name)
