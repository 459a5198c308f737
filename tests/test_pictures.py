"""`paramcalc draw`: the diagram's texts (golden DOT and Mermaid), its SVG's structure (every layer and
edge of the report present) and geometry (no two boxes overlap, no group outline holds another's box)
over every bundled spec, and the pure layout functions on hand-worked cases."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.render.diagram import Diagram, box_size, build_diagram, plain_name, render_svg
from paramcalc.render.graphlayout import Box, Rect, crossings_between, layers_of, layout, nearest_spaced
from paramcalc.report import Report, display_rows
from tests.conftest import SPECS, run_file

ALL_SPECS = sorted(path.name for path in SPECS.glob("*.yaml"))
SVG = "{http://www.w3.org/2000/svg}"
TINY_RESNET = "tests/cases/golden/tiny_resnet.yaml"


@pytest.mark.parametrize("name, args", [
    ("draw_lenet5_mermaid", ["draw", "--format", "mermaid", "specs/lenet5.yaml"]),
    ("draw_lenet5_dot", ["draw", "--format", "dot", "--macs", "specs/lenet5.yaml"]),
    ("draw_tiny_resnet_mermaid", ["draw", "--format", "mermaid", TINY_RESNET]),
    ("draw_tiny_resnet_dot", ["draw", "--format", "dot", "--shade", "params", TINY_RESNET]),
    ("draw_resnet18_depth1_mermaid", ["draw", "--format", "mermaid", "--depth", "1", "specs/resnet18.yaml"]),
])
def test_diagram_texts_match_their_golden_files(snapshot, name, args):
    assert snapshot(name, *args).exit_code == 0


# ---- the SVG against the report --------------------------------------------------------------------

def expected_nodes(report: Report, depth: int | None) -> set[str]:
    return set(report.inputs) | {row.name for row in display_rows(report, depth)}


def expected_edges(report: Report) -> set[tuple[str, str]]:
    """Unfolded: every input of every layer, read from the report's rows."""
    return {(plain_name(source), row.name) for row in report.rows for source in row.inputs}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def boxes_of(root: ET.Element) -> dict[str, Rect]:
    boxes = {}
    for g in root.iter(f"{SVG}g"):
        if "layer" in g.get("class", "").split():
            rect = g.find(f"{SVG}rect")
            assert rect is not None
            boxes[g.get("data-name", "")] = Rect(*(float(rect.get(k, "nan")) for k in ("x", "y", "width", "height")))
    return boxes


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_svg_has_every_layer_and_edge_and_no_overlapping_boxes(spec):
    report = run_file(spec)
    root = parse(render_svg(build_diagram(report)))
    boxes = boxes_of(root)
    assert set(boxes) == expected_nodes(report, None)
    edges = {(p.get("data-from"), p.get("data-to")) for p in root.iter(f"{SVG}path") if p.get("class") == "edge"}
    assert edges == expected_edges(report)
    assert_apart(list(boxes.values()))


@pytest.mark.parametrize("spec", ["resnet50.yaml", "googlenet.yaml", "shufflenet_v2.yaml", "unet.yaml"])
@pytest.mark.parametrize("depth", [0, 1])
def test_folded_svg_shows_the_tables_rows(spec, depth):
    report = run_file(spec)
    root = parse(render_svg(build_diagram(report, depth)))
    boxes = boxes_of(root)
    assert set(boxes) == expected_nodes(report, depth)
    assert_apart(list(boxes.values()))
    blocks = [g for g in root.iter(f"{SVG}g") if "block-box" in g.get("class", "").split()]
    assert blocks, "folding at this depth leaves block boxes"


def assert_apart(rects: list[Rect]) -> None:
    ordered = sorted(rects, key=lambda r: r.y)
    for i, a in enumerate(ordered):  # sweep by top edge: only boxes that start above a's bottom can meet it
        for b in ordered[i + 1:]:
            if b.y >= a.y + a.height:
                break
            assert not a.overlaps(b), (a, b)


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_group_outlines_hold_their_members_and_no_other_box(spec):
    diagram = build_diagram(run_file(spec))
    placed = place(diagram)
    for g, slabs in placed.groups.items():
        inside = [r for node, r in zip(diagram.nodes, placed.boxes) if g in node.groups]
        outside = [r for node, r in zip(diagram.nodes, placed.boxes) if g not in node.groups]
        for box in inside:
            assert any(slab.contains(box) for slab in slabs), (g, box)
        for box in outside:
            assert not any(slab.overlaps(box) for slab in slabs), (g, box)


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_outlines_of_unrelated_groups_do_not_overlap(spec):
    """Two groups neither of which holds the other: their outlines are apart in every layer."""
    diagram = build_diagram(run_file(spec))
    placed = place(diagram)
    paths = {g: node.groups[:node.groups.index(g) + 1] for node in diagram.nodes for g in node.groups}
    slabs = [(g, r) for g, rs in placed.groups.items() for r in rs]
    for i, (g, a) in enumerate(slabs):
        for h, b in slabs[i + 1:]:
            if g not in paths[h] and h not in paths[g]:
                assert not a.overlaps(b), (g, h, a, b)


def place(diagram: Diagram):
    return layout([Box(*box_size(diagram.lines(n)), n.groups) for n in diagram.nodes], diagram.edges)


def test_heavy_layers_are_shaded_darker():
    diagram = build_diagram(run_file("lenet5.yaml"))
    shares = {node.name: node.share for node in diagram.nodes}
    assert max(shares, key=lambda name: shares[name]) == "conv2d_1"  # 240,000 of 416,520 MACs
    assert shares["conv2d_1"] == pytest.approx(240_000 / 416_520)
    root = parse(render_svg(diagram))
    fills = {g.get("data-name"): g.find(f"{SVG}rect").get("fill") for g in root.iter(f"{SVG}g")  # type: ignore
             if "layer" in g.get("class", "").split()}
    assert fills["conv2d_1"] == "#e86b1f" and fills["flatten"] == "#ffffff"


def test_residual_graph_has_no_crossings():
    """tiny_resnet: the skip connections go round the blocks, not across them."""
    assert place(build_diagram(run_file("resnet18.yaml"))).crossings == 0


# ---- the layout's pure parts --------------------------------------------------------------------------

def test_longest_path_layers_and_late_inputs_sit_above_their_reader():
    # 0 -> 1 -> 2 -> 3, 0 -> 3 (a skip), 4 -> 3 (an input read only at the end)
    assert layers_of(5, [(0, 1), (1, 2), (2, 3), (0, 3), (4, 3)]) == [0, 1, 2, 3, 2]


def test_crossings_are_counted():
    down = [[3], [2], [], []]  # 0 -> 3 and 1 -> 2, with 0 left of 1 and 2 left of 3: they cross
    assert crossings_between([0, 1], [2, 3], down) == 1
    assert crossings_between([0, 1], [3, 2], down) == 0


def test_nearest_spaced_is_least_squares_under_the_gaps():
    # wanted 0, 0 with a gap of 10: the best is -5, 5 (squared error 50, the least possible)
    assert nearest_spaced([0.0, 0.0], [10.0], [1.0, 1.0]) == [-5.0, 5.0]
    # already apart: unchanged
    assert nearest_spaced([0.0, 20.0], [10.0], [1.0, 1.0]) == [0.0, 20.0]
    # a weight of 3 against 1 moves the light one three times as far: -2.5, 7.5
    assert nearest_spaced([0.0, 0.0], [10.0], [3.0, 1.0]) == [-2.5, 7.5]


def test_a_cycle_is_refused():
    with pytest.raises(ValueError):
        layers_of(2, [(0, 1), (1, 0)])


# ---- the command --------------------------------------------------------------------------------------

def test_draw_writes_the_file_and_takes_the_format_from_its_suffix(tmp_path):
    runner = CliRunner()
    for suffix, start in ((".svg", "<svg"), (".dot", "digraph"), (".mmd", "flowchart TD")):
        out = tmp_path / f"model{suffix}"
        result = runner.invoke(cli, ["draw", "specs/lenet5.yaml", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_text(encoding="utf-8").startswith(start)


def test_draw_macs_adds_a_line_per_box():
    result = CliRunner().invoke(cli, ["draw", "--format", "mermaid", "--macs", "specs/lenet5.yaml"])
    assert "MACs: 240,000" in result.output  # conv2d_1: 10 x 10 x 16 x 5 x 5 x 6, as `summary` shows


def test_draw_to_an_unwritable_path_is_one_paragraph_and_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["draw", "specs/lenet5.yaml", "-o", str(tmp_path / "missing" / "x.svg")])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr


def test_draw_of_a_bad_spec_is_located(spec_file):
    path = spec_file("input: [8]\nlayers:\n  - Dense: {units: -1}\n")
    result = CliRunner().invoke(cli, ["draw", path])
    assert result.exit_code == 2 and "spec.yaml:3" in result.stderr


def test_the_readmes_mermaid_sample_is_what_draw_prints():
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["draw", TINY_RESNET, "--depth", "0", "--format", "mermaid"])
    assert f"```mermaid\n{result.output}```" in readme


def test_pictures_start_up_without_rich_sympy_or_matplotlib(tmp_path):
    from tests.test_startup import modules_after

    heavy = {"rich.console", "rich.table", "sympy", "matplotlib"}
    assert not modules_after("draw", "specs/resnet18.yaml") & heavy
    assert not modules_after("draw", "--format", "mermaid", "specs/lenet5.yaml") & heavy
    assert not modules_after("summary", "--format", "html", "specs/lenet5.yaml") & heavy
    plotted = modules_after("summary", "--format", "json", "--set", "alpha=1,0.5", "--plot", str(tmp_path / "s.svg"),
                            "specs/mobilenet_v1.yaml")
    assert "paramcalc.render.plot" in plotted and not plotted & heavy


@pytest.mark.parametrize("spec", ["lenet5.yaml", "resnet18.yaml", "googlenet.yaml", "unet.yaml", "shufflenet_v2.yaml",
                                  "bert_base.yaml", "lstm_seq2seq.yaml"])
def test_dot_text_is_valid_graphviz(spec):
    """Graphviz itself reads the DOT text (when `dot` is installed: apt-get install graphviz)."""
    import shutil
    import subprocess

    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("Graphviz's dot is not installed")
    report = run_file(spec)
    from paramcalc.render.diagram import render_dot

    done = subprocess.run([dot, "-Tsvg"], input=render_dot(build_diagram(report, 1)), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    assert done.stdout.count('class="node"') == len(expected_nodes(report, 1))
    assert done.stdout.count('class="edge"') == len(build_diagram(report, 1).edges)
