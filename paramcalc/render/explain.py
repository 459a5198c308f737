"""`paramcalc explain`: every figure with its formula and the spec's numbers, as the tutorials
write them: `(N - F + 2P)/S + 1 = (32 - 5 + 0)/1 + 1 = 28`. The text is rendered from the very
`Q` objects that computed each number, so explanation and result cannot disagree; the legend is
made from the symbols those objects carry, so it names every symbol printed and no other."""

from __future__ import annotations

from collections.abc import Iterable

from paramcalc.layers.base import OUTPUT, PADDING, Derivation
from paramcalc.layers.formula import OPERATORS, SYMBOLS
from paramcalc.render.numbers import shape_text, shapes_text, thousands
from paramcalc.report import LayerRow, Report


def formula_line(d: Derivation) -> str:
    symbolic, numeric = d.q.render(symbolic=True), d.q.render()
    result = thousands(d.q.value)
    if symbolic == numeric:
        return result if d.q.op == "atom" else f"{numeric} = {result}"
    if d.q.op == "atom":
        return f"{symbolic} = {result}"  # a count that is one named size, e.g. C
    return f"{symbolic} = {numeric} = {result}"


def _order(d: Derivation) -> int:
    """Output lengths first, then the padding that gave them, then the counts."""
    if d.label.startswith(OUTPUT):
        return 0
    if d.label.startswith(PADDING):
        return 1
    return 2


def ordered(derivations: Iterable[Derivation]) -> list[Derivation]:
    return sorted(derivations, key=_order)


def legend(derivations: Iterable[Derivation]) -> str:
    """What the symbols and operations in these figures mean, in the symbol table's order."""
    names: set[str] = set()
    operators: set[str] = set()
    for d in derivations:
        names |= d.q.symbols()
        operators |= d.q.operators()
    symbols = ", ".join(f"{s} {meaning}" for s, meaning in SYMBOLS.items() if s in names)
    words = ", ".join(text for op, text in OPERATORS.items() if op in operators)
    return "; ".join(part for part in (symbols, words) if part)


def explain_layer(row: LayerRow) -> list[str]:
    reads = shape_text(row.input_shape) if row.inputs else "(no input)"
    lines = [f"{row.name} ({row.type_label}), line {row.loc.line}: {reads} -> {shapes_text(row.output_shapes)}"]
    derivations = ordered(row.derivations)
    width = max(len(d.label) for d in derivations)
    for d in derivations:
        lines.append(f"  {d.label:<{width}}  {formula_line(d)}" + (f"  {d.note}" if d.note else ""))
    lines += [f"  ! {w}" for w in row.warnings]
    return lines


def render_explain(report: Report, rows: list[LayerRow]) -> str:
    out = [f'Model "{report.name}": each figure with its formula, then the spec\'s numbers substituted.']
    meanings = legend(d for row in rows for d in row.derivations)
    out += [f"  ({meanings})", ""] if meanings else [""]
    for row in rows:
        out += explain_layer(row) + [""]
    out.append(f"Total params {thousands(report.total_params)}, MACs {thousands(report.total_macs)} "
               f"(FLOPs = 2 x MACs = {thousands(report.total_flops)})")
    return "\n".join(out)
