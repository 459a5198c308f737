"""The network as a picture: one box per layer (or per block folded by --depth), edges from its
inputs, block instances as labelled groups, the heavy layers shaded by their share of MACs or
params. Built from the same `display_rows` as the summary table, so the two cannot disagree.

Three writers: SVG (laid out by render/graphlayout.py, no system program), Graphviz DOT and Mermaid
(for users with their own renderers; GitHub draws Mermaid in Markdown)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import NamedTuple

from paramcalc.render.numbers import shape_text, thousands
from paramcalc.report import Report, display_rows

SHADES = ("macs", "params", "none")


class Node(NamedTuple):
    name: str
    type: str  # the layer's type label, "<block> block" for a folded block, "Input" for a model input
    shape: str
    params: int
    macs: int
    groups: tuple[str, ...]  # enclosing block instances, outermost first
    share: float  # of the shaded figure (0 when not shaded)
    is_input: bool = False
    is_block: bool = False


class Diagram(NamedTuple):
    title: str
    nodes: list[Node]
    edges: list[tuple[int, int]]  # (source, target) indices into `nodes`
    groups: dict[str, str]  # block instance -> its label
    shade: str  # what the shading shows: macs, params or none
    show_macs: bool

    def lines(self, node: Node) -> list[str]:
        """The text of a node's box, one line each."""
        lines = [node.name, node.type, node.shape]
        if not node.is_input:
            lines.append(f"params: {thousands(node.params)}")
            if self.show_macs:
                lines.append(f"MACs: {thousands(node.macs)}")
        return lines


def plain_name(reference: str) -> str:
    """A layer read as `name[k]` (its output k) is the layer `name`."""
    return reference.split("[", 1)[0] if reference.endswith("]") else reference


def build_diagram(report: Report, depth: int | None = None, shade: str = "macs", show_macs: bool = False) -> Diagram:
    shown = display_rows(report, depth)
    # Which shown box each layer ends in (itself, or its folded block), and each box's groups.
    owner: dict[str, str] = {}
    box_groups: dict[str, tuple[str, ...]] = {}
    labels: dict[str, str] = {}
    for row in report.rows:
        instances = tuple(instance for instance, _ in row.path)
        for instance, block in row.path:
            short = instance.rsplit(".", 1)[-1]
            labels[instance] = short if short == block else f"{short} : {block}"
        if depth is None or len(row.path) <= depth:
            owner[row.name] = row.name
            box_groups[row.name] = instances
        else:
            owner[row.name] = row.path[depth][0]
            box_groups[row.path[depth][0]] = instances[:depth]
    total = report.total_macs if shade == "macs" else report.total_params if shade == "params" else 0
    if not isinstance(total, int):  # a formula of free input dimensions: no share to shade by
        total = 0
    nodes = [Node(name, "Input", shape_text(shape), 0, 0, (), 0.0, is_input=True)
             for name, shape in report.inputs.items()]
    for item in shown:
        figure = item.macs if shade == "macs" else item.params
        nodes.append(Node(item.name, item.type, shape_text(item.output_shape), item.params, item.macs,
                          box_groups[item.name], figure / total if total and isinstance(figure, int) else 0.0,
                          is_block=item.is_block))
    index = {node.name: i for i, node in enumerate(nodes)}
    edges: list[tuple[int, int]] = []
    for row in report.rows:
        target = index[owner[row.name]]
        for reference in row.inputs:
            name = plain_name(reference)
            source = index.get(owner.get(name, name))
            if source is not None and source != target and (source, target) not in edges:
                edges.append((source, target))
    used = {g for node in nodes for g in node.groups}
    return Diagram(report.name, nodes, edges, {g: label for g, label in labels.items() if g in used},
                   shade if total else "none", show_macs)


# ---- colours ----------------------------------------------------------------------------------------

LIGHT = (255, 255, 255)
HEAVY = (232, 107, 31)  # the heaviest layer's fill


def fill(share: float, heaviest: float) -> str:
    """White for a layer that costs nothing, up to orange for the heaviest (scaled by the heaviest,
    so that a model of many equal layers still shows its differences)."""
    t = min(1.0, share / heaviest) if heaviest > 0 else 0.0
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(LIGHT, HEAVY))
    return f"#{r:02x}{g:02x}{b:02x}"


def ink(share: float, heaviest: float) -> str:
    return "#ffffff" if heaviest > 0 and share / heaviest > 0.6 else "#1a1a1a"


def heaviest(diagram: Diagram) -> float:
    return max((n.share for n in diagram.nodes), default=0.0)


def shade_note(diagram: Diagram) -> str:
    if diagram.shade == "none":
        return ""
    top = max(diagram.nodes, key=lambda n: n.share)
    what = "MACs" if diagram.shade == "macs" else "params"
    return f"shaded by share of {what}; heaviest: {top.name} ({top.share:.1%})"


# ---- SVG ----------------------------------------------------------------------------------------------

FONT_SIZE = 11.0
CHAR_WIDTH = 0.61 * FONT_SIZE  # a monospace font's advance, so that a box fits its text
LINE_HEIGHT = 14.0
PADDING = 8.0
FONT = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"


def box_size(lines: list[str]) -> tuple[float, float]:
    return (max(len(line) for line in lines) * CHAR_WIDTH + 2 * PADDING,
            len(lines) * LINE_HEIGHT + 2 * PADDING - 4)


def render_svg(diagram: Diagram, standalone: bool = True) -> str:
    """The diagram as SVG: `<g class="layer" data-name=...>` per box, `<path class="edge"
    data-from=... data-to=...>` per edge, `<g class="block" data-name=...>` per group (the tests
    and the browser check read these)."""
    from paramcalc.render.graphlayout import Box, layout, outline

    texts = [diagram.lines(node) for node in diagram.nodes]
    boxes = [Box(*box_size(lines), node.groups) for lines, node in zip(texts, diagram.nodes)]
    placed = layout(boxes, diagram.edges)
    note = shade_note(diagram)
    header = 36.0
    width, height = max(placed.width, 360.0), placed.height + header
    top = heaviest(diagram)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="paramcalc-diagram" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" '
           f'font-size="{FONT_SIZE:g}">' if standalone else
           f'<svg class="paramcalc-diagram" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" font-size="{FONT_SIZE:g}">',
           f"<title>{escape(diagram.title)}</title>",
           '<defs><marker id="paramcalc-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
           '<rect width="100%" height="100%" fill="#ffffff"/>',
           f'<text x="{PADDING:g}" y="16" font-weight="bold" font-size="13">Model: {escape(diagram.title)}</text>',
           f'<text x="{PADDING:g}" y="30" fill="#555">{escape(note)}</text>' if note else "",
           f'<g transform="translate(0,{header:g})">']
    depth_of = {g: 0 for g in diagram.groups}
    for node in diagram.nodes:
        for level, g in enumerate(node.groups):
            depth_of[g] = level
    for g in sorted(placed.groups, key=lambda g: depth_of.get(g, 0)):  # parents first, children on top
        first = placed.groups[g][0]
        tone = ("#f4f6fb", "#e9edf7", "#dfe5f3", "#d5ddef")[min(depth_of.get(g, 0), 3)]
        shape = " ".join(f"{x:.1f},{y:.1f}" for x, y in outline(placed.groups[g]))
        out.append(f'<g class="block" data-name="{escape(g)}"><polygon points="{shape}" fill="{tone}" '
                   f'stroke="#9aa7c7" stroke-dasharray="4 3" stroke-linejoin="round"/>'
                   f'<text x="{first.x + 6:.1f}" y="{first.y + 13:.1f}" fill="#3b4a6b" '
                   f'font-style="italic">{escape(diagram.groups.get(g, g))}</text></g>')
    for (a, b), points in zip(diagram.edges, placed.edges):
        out.append(f'<path class="edge" data-from="{escape(diagram.nodes[a].name)}" '
                   f'data-to="{escape(diagram.nodes[b].name)}" d="{curve(points)}" fill="none" stroke="#555" '
                   f'stroke-width="1.2" marker-end="url(#paramcalc-arrow)"/>')
    for node, lines, r in zip(diagram.nodes, texts, placed.boxes):
        colour = "#e8f1e4" if node.is_input else fill(node.share, top)
        text_colour = "#1a1a1a" if node.is_input else ink(node.share, top)
        kind = "input" if node.is_input else "block-box" if node.is_block else "layer-box"
        tip = f"{node.name} ({node.type}) {node.shape}"
        if not node.is_input:
            tip += f", {thousands(node.params)} params, {thousands(node.macs)} MACs"
            if diagram.shade != "none":
                tip += f", {node.share:.1%} of the {'MACs' if diagram.shade == 'macs' else 'params'}"
        out.append(f'<g class="layer {kind}" data-name="{escape(node.name)}"><title>{escape(tip)}</title>'
                   f'<rect x="{r.x:.1f}" y="{r.y:.1f}" width="{r.width:.1f}" height="{r.height:.1f}" rx="4" '
                   f'fill="{colour}" stroke="#333" stroke-width="{1.8 if node.is_block else 1}"/>')
        for i, line in enumerate(lines):
            weight = ' font-weight="bold"' if i == 0 else ""
            out.append(f'<text x="{r.x + PADDING:.1f}" y="{r.y + PADDING + 10 + i * LINE_HEIGHT:.1f}" '
                       f'fill="{text_colour}"{weight}>{escape(line)}</text>')
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(part for part in out if part) + "\n"


def curve(points: Sequence[tuple[float, float]]) -> str:
    """A smooth path through `points`: vertical tangents at each, as the layers run top to bottom."""
    (x0, y0), *rest = points
    d = [f"M {x0:.1f} {y0:.1f}"]
    for x1, y1 in rest:
        if abs(x1 - x0) < 0.5:
            d.append(f"L {x1:.1f} {y1:.1f}")
        else:
            mid = (y0 + y1) / 2
            d.append(f"C {x0:.1f} {mid:.1f} {x1:.1f} {mid:.1f} {x1:.1f} {y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(d)


# ---- DOT and Mermaid --------------------------------------------------------------------------------

def group_tree(diagram: Diagram) -> dict[str | None, list[int | str]]:
    """Each group's items (None: the top level) in the spec's order: node indices and nested groups,
    a group where its first member is."""
    items: dict[str | None, list[int | str]] = {None: []}
    for i, node in enumerate(diagram.nodes):
        parent: str | None = None
        for g in node.groups:
            if g not in items:
                items[g] = []
                items[parent].append(g)
            parent = g
        items[parent].append(i)
    return items


def dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def render_dot(diagram: Diagram) -> str:
    """Graphviz DOT: `dot -Tsvg model.dot -o model.svg`."""
    items = group_tree(diagram)
    top = heaviest(diagram)
    out = [f'digraph "{dot_text(diagram.title)}" {{', "  rankdir=TB;",
           '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10];',
           '  edge [color="#555555"];']
    note = shade_note(diagram)
    if note:
        out.append(f'  label="{dot_text(diagram.title)}: {dot_text(note)}"; labelloc=t;')

    def emit(group: str | None, indent: str) -> None:
        for item in items[group]:
            if isinstance(item, int):
                node = diagram.nodes[item]
                label = "\\n".join(dot_text(line) for line in diagram.lines(node))
                colour = "#e8f1e4" if node.is_input else fill(node.share, top)
                font = "#1a1a1a" if node.is_input else ink(node.share, top)
                out.append(f'{indent}n{item} [label="{label}", fillcolor="{colour}", fontcolor="{font}"];')
                continue
            child = item
            out.append(f'{indent}subgraph "cluster_{dot_text(child)}" {{')
            out.append(f'{indent}  label="{dot_text(diagram.groups.get(child, child))}"; style="rounded,dashed"; '
                       'color="#9aa7c7";')
            emit(child, indent + "  ")
            out.append(f"{indent}}}")

    emit(None, "  ")
    out += [f"  n{a} -> n{b};" for a, b in diagram.edges]
    out.append("}")
    return "\n".join(out) + "\n"


def mermaid_text(text: str) -> str:
    """Mermaid's quoted labels take entity codes for quotes and angle brackets."""
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def render_mermaid(diagram: Diagram) -> str:
    """A Mermaid flowchart, e.g. in a ```mermaid block of a README (GitHub draws it)."""
    items = group_tree(diagram)
    top = heaviest(diagram)
    ids = {g: f"g{k}" for k, g in enumerate(diagram.groups)}
    out = ["flowchart TD"]
    note = shade_note(diagram)
    if note:
        out.append(f"  %% {diagram.title}: {note}")
    styles = []

    def emit(group: str | None, indent: str) -> None:
        for item in items[group]:
            if isinstance(item, int):
                node = diagram.nodes[item]
                label = "<br/>".join(mermaid_text(line) for line in diagram.lines(node))
                out.append(f'{indent}n{item}["{label}"]')
                if not node.is_input and node.share > 0:
                    styles.append(f"  style n{item} fill:{fill(node.share, top)},color:{ink(node.share, top)}")
                continue
            child = item
            out.append(f'{indent}subgraph {ids[child]}["{mermaid_text(diagram.groups.get(child, child))}"]')
            emit(child, indent + "  ")
            out.append(f"{indent}end")

    emit(None, "  ")
    out += [f"  n{a} --> n{b}" for a, b in diagram.edges]
    out += styles
    return "\n".join(out) + "\n"


def render_diagram(diagram: Diagram, fmt: str) -> str:
    if fmt == "dot":
        return render_dot(diagram)
    if fmt == "mermaid":
        return render_mermaid(diagram)
    return render_svg(diagram)
