"""`paramcalc layers`: the catalog (paramcalc/catalog.py) as text: each kind with its arguments and
defaults, the formulas `explain` prints for its example, and the example's figures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from paramcalc.layers.base import OUTPUT, PADDING, Derivation
from paramcalc.render.explain import formula_line, legend, ordered
from paramcalc.render.numbers import shape_text, shapes_text, thousands

if TYPE_CHECKING:  # the records only: rendering them needs neither the engine nor the loader
    from paramcalc.catalog import Catalog, KindEntry


def default_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def example_line(entry: KindEntry) -> str:
    row = entry.row
    inputs = " and ".join(shape_text(shape) for shape in entry.input_shapes) or "no input"
    return (f"{entry.name}: {entry.example} on {inputs} -> "
            f"{shapes_text(row.output_shapes)}, {thousands(row.params)} params, {thousands(row.macs)} MACs")


def formula_text(d: Derivation) -> str:
    """What `explain` prints for it, with the symbols only (numbers where the formula has no symbol)."""
    symbolic = d.q.render(symbolic=True)
    return symbolic if symbolic != d.q.render() else formula_line(d)


def formulas_line(derivations: tuple[Derivation, ...]) -> str:
    """`output height, width = ceil(N/S);  params = ...`: axes that share a formula are named together."""
    parts: list[tuple[str, str]] = []
    for d in ordered(derivations):
        text = formula_text(d)
        if parts and parts[-1][1] == text and _axis_of(d.label) and _axis_of(parts[-1][0]) == _axis_of(d.label):
            parts[-1] = (f"{parts[-1][0]}, {d.label.split(' ', 1)[1]}", text)
        else:
            parts.append((d.label, text))
    return ";  ".join(f"{label} = {text}" for label, text in parts)


def _axis_of(label: str) -> str:
    """'output' for 'output height', 'padding' for 'padding width': labels that name one axis."""
    first = label.split(" ", 1)[0]
    return first if first in (OUTPUT, PADDING) and " " in label else ""


def describe(entry: KindEntry) -> list[str]:
    lines = [f"{entry.name}  [{'PyTorch' if entry.framework == 'torch' else 'Keras'}]  {entry.doc}",
             f"  formulas: {formulas_line(entry.row.derivations)}"]
    if entry.arguments:
        parts = [a.name if a.required else f"{a.name}={default_text(a.default)}" for a in entry.arguments]
        lines.append("  arguments: " + ", ".join(parts))
    lines.append(f"  example: {example_line(entry)}")
    return lines


def render_kinds(catalog: Catalog) -> str:
    header = "" if not catalog.everything else (
        f"{catalog.total} layer kinds. Keras names follow Keras, PyTorch names follow PyTorch (use data_format: "
        "channels_first with them). Required arguments have no default. Formulas are those `paramcalc explain` "
        "prints for the example.\n")
    symbols = legend(d for entry in catalog.entries for d in entry.row.derivations)
    header += f"Symbols: {symbols}.\n\n" if symbols else ""
    return header + "\n\n".join("\n".join(describe(entry)) for entry in catalog.entries)
