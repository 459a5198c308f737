"""paramcalc: parameters, output shapes and MACs of neural networks from a YAML spec.

    import paramcalc
    report = paramcalc.analyze("specs/lenet5.yaml")    # a path, YAML text, or a dict
    report.total_params, report.total_macs, report.layers[0].output_shape
    print(report)                                      # the summary table

See `analyze` (paramcalc/api.py) and the README's "Python" section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for type checkers and linters; at run time __getattr__ imports them on first use
    from paramcalc.api import analyze, load_spec, parse_spec
    from paramcalc.errors import SpecError
    from paramcalc.importers_torch import from_torch
    from paramcalc.report import LayerRow as Layer
    from paramcalc.report import Report
    from paramcalc.schema import json_schema

__version__ = "0.1.0"

# The public API. Imported lazily (module __getattr__) so that `paramcalc --help` starts fast;
# `dir(paramcalc)` lists these names all the same.
_PUBLIC = {
    "analyze": ("paramcalc.api", "analyze"),
    "Report": ("paramcalc.report", "Report"),
    "Layer": ("paramcalc.report", "LayerRow"),
    "SpecError": ("paramcalc.errors", "SpecError"),
    "json_schema": ("paramcalc.schema", "json_schema"),
    "load_spec": ("paramcalc.api", "load_spec"),
    "parse_spec": ("paramcalc.api", "parse_spec"),
    "from_torch": ("paramcalc.importers_torch", "from_torch"),
}

__all__ = ["__version__", "analyze", "Report", "Layer", "SpecError", "json_schema", "load_spec", "parse_spec",
           "from_torch"]


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'paramcalc' has no attribute {name!r}")
    import importlib

    module, attribute = _PUBLIC[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # once imported, found directly
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
