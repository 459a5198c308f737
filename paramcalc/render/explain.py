"""`paramcalc explain`: every figure with its formula and the spec's numbers, as the tutorials
write them: `(N - F + 2P)/S + 1 = (32 - 5 + 0)/1 + 1 = 28`. The text is rendered from the very
`Q` objects that computed each number, so explanation and result cannot disagree."""

from __future__ import annotations

from paramcalc.layers.base import Derivation
from paramcalc.render.numbers import shape_text, thousands
from paramcalc.report import LayerRow, Report

LEGEND = ("N input size, F kernel size, P padding per side (2P both sides), S stride, D dilation, "
          "C input channels, M output channels (filters), m depth multiplier, g groups, "
          "H' W' L' output height, width, length, in input features, units outputs")


def formula_line(d: Derivation) -> str:
    symbolic, numeric = d.q.render(symbolic=True), d.q.render()
    result = thousands(d.q.value)
    if d.q.op == "atom":
        return result
    if symbolic == numeric:
        return f"{numeric} = {result}"
    return f"{symbolic} = {numeric} = {result}"


def _order(d: Derivation) -> int:
    if d.label.startswith("output"):
        return 0
    if d.label.startswith("padding"):
        return 1
    return 2


def explain_layer(row: LayerRow) -> list[str]:
    lines = [f"{row.name} ({row.type}), line {row.loc.line}: {shape_text(row.input_shape)} -> "
             f"{shape_text(row.output_shape)}"]
    derivations = sorted(row.derivations, key=_order)
    width = max([len(d.label) for d in derivations] + [6])
    for d in derivations:
        lines.append(f"  {d.label:<{width}}  {formula_line(d)}" + (f"  {d.note}" if d.note else ""))
    labels = {d.label for d in derivations}
    if not labels & {"params", "trainable params"}:
        lines.append(f"  {'params':<{width}}  {thousands(row.params)}" + ("  (no weights)" if not row.params else ""))
    if "MACs" not in labels:
        lines.append(f"  {'MACs':<{width}}  0  (no multiply-accumulates)")
    lines += [f"  ! {w}" for w in row.warnings]
    return lines


def render_explain(report: Report, rows: list[LayerRow]) -> str:
    out = [f'Model "{report.name}": each figure with its formula, then the spec\'s numbers substituted.',
           f"  ({LEGEND}; x multiplies, a/b is a division that the framework floors)", ""]
    for row in rows:
        out += explain_layer(row) + [""]
    out.append(f"Total params {thousands(report.total_params)}, MACs {thousands(report.total_macs)} "
               f"(FLOPs = 2 x MACs = {thousands(report.total_flops)})")
    return "\n".join(out)
