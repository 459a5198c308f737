"""The model zoo: the bundled specs, named `zoo:NAME` wherever a spec path is taken.

The repository keeps one copy of them, in specs/; a built package ships that folder as
`paramcalc/zoo/` (setup.py maps it), so an installed paramcalc finds them beside its own code and
a checkout (or an editable install) finds them in specs/.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from paramcalc.errors import Location, SpecError

if TYPE_CHECKING:
    from paramcalc.render.tabular import Tabular
    from paramcalc.spec.model import Spec

PREFIX = "zoo:"
SUFFIX = ".yaml"
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def zoo_dir() -> str:
    """The folder of the bundled specs: the package's own `zoo/` once installed, else the checkout's specs/."""
    installed = os.path.join(_PACKAGE, "zoo")
    return installed if os.path.isdir(installed) else os.path.join(os.path.dirname(_PACKAGE), "specs")


def names() -> list[str]:
    """The bundled models, sorted (`lenet5`, not `lenet5.yaml`)."""
    folder = zoo_dir()
    if not os.path.isdir(folder):
        return []
    return sorted(entry[: -len(SUFFIX)] for entry in os.listdir(folder) if entry.endswith(SUFFIX))


def is_zoo(path: str) -> bool:
    return path.startswith(PREFIX)


def zoo_file(path: str) -> str:
    """The file behind `zoo:NAME` (NAME may carry the .yaml suffix); a located error for an unknown name."""
    name = path[len(PREFIX):].removesuffix(SUFFIX)
    known = names()
    if name not in known:
        from paramcalc.suggest import did_you_mean

        listing = ", ".join(known) if known else "none: this installation lacks its zoo folder; reinstall paramcalc"
        raise SpecError(f"the model zoo has no model `{name}`", Location(path),
                        did_you_mean(name, known) or f"`paramcalc zoo` lists them ({listing}).")
    return os.path.join(zoo_dir(), name + SUFFIX)


class Entry(NamedTuple):
    """One bundled model as `paramcalc zoo` lists it."""

    model: str  # zoo:NAME
    framework: str  # whose layers the spec writes: PyTorch (channels first, or any PyTorch layer), else Keras
    input_shape: tuple[int | None, ...]
    layers: int
    params: int
    macs: int


def framework(spec: Spec) -> str:
    """PyTorch for a spec in PyTorch's layout or with any layer of PyTorch's own (a sequence model has no
    layout: BERT written with Linear and MultiheadAttention is PyTorch's); else Keras."""
    from paramcalc.layers.registry import FAMILY_OF, lookup

    if not spec.channels_last:
        return "PyTorch"
    torch = any(layer.kind in FAMILY_OF and lookup(layer.kind, Location("")).framework == "torch"
                for layer in spec.layers)
    return "PyTorch" if torch else "Keras"


def entries() -> list[Entry]:
    """Every bundled model with its figures, computed (not read from its expect: block)."""
    from paramcalc.engine import analyze
    from paramcalc.spec.loader import load_spec

    found = []
    for name in names():
        spec = load_spec(PREFIX + name)
        report = analyze(spec, keep_formulas=False)
        found.append(Entry(PREFIX + name, framework(spec), report.input_shape,
                           len(report.rows), report.total_params, report.total_macs))
    return found


def zoo_table(models: list[Entry]) -> Tabular:
    from paramcalc.render.numbers import shape_text
    from paramcalc.render.tabular import Column, Tabular

    columns = [Column("model", "Model", numeric=False), Column("framework", "Framework", numeric=False),
               Column("input_shape", "Input", numeric=False, show=shape_text), Column("layers", "Layers"),
               Column("params", "Params"), Column("macs", "MACs")]
    return Tabular(f"The model zoo: {len(models)} bundled specs", columns, [m._asdict() for m in models],
                   notes=["`paramcalc summary zoo:NAME` shows one; `paramcalc zoo NAME > my.yaml` copies its spec "
                          "to start your own. MACs: multiply-accumulates of conv, dense and attention products."])
