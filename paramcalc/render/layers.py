"""`paramcalc layers`: the registry, with arguments, defaults, formulas and a worked example."""

from __future__ import annotations

from typing import Any

from paramcalc.errors import Location
from paramcalc.layers import all_kinds, lookup
from paramcalc.layers.base import LayerKind
from paramcalc.render.numbers import shape_text


def default_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def example_line(kind: type[LayerKind]) -> str:
    """The kind's example, computed by the engine, so the listing cannot go stale."""
    from paramcalc.engine import analyze
    from paramcalc.spec.loader import parse_spec

    row = analyze(parse_spec(kind.example_spec(), "<example>")).rows[-1]
    inputs = " and ".join(shape_text(r) for r in [row.input_shape] * len(row.inputs))
    return (f"{kind.name}: {kind.example} on {inputs} -> "
            f"{shape_text(row.output_shape)}, {row.params:,} params, {row.macs:,} MACs")


def describe(kind: type[LayerKind]) -> list[str]:
    lines = [f"{kind.name}  [{'PyTorch' if kind.framework == 'torch' else 'Keras'}]  {kind.doc}"]
    if kind.formulas:
        lines.append(f"  formulas: {kind.formulas}")
    args = kind.arguments()
    if args:
        parts = [a.name if a.required else f"{a.name}={default_text(a.default)}" for a in args]
        lines.append("  arguments: " + ", ".join(parts))
    lines.append(f"  example: {example_line(kind)}")
    return lines


def render_kinds(kinds: tuple[str, ...]) -> str:
    registry = all_kinds()
    names = kinds or tuple(sorted(registry, key=str.lower))
    chosen = [lookup(name, Location("paramcalc layers")) for name in names]
    blocks = ["\n".join(describe(kind)) for kind in chosen]
    header = "" if kinds else (f"{len(registry)} layer kinds. Keras names follow Keras, PyTorch names follow "
                               "PyTorch (use data_format: channels_first with them). Required arguments have no "
                               "default.\n\n")
    return header + "\n\n".join(blocks)
