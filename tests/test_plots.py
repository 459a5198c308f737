"""Plots of a sweep (`summary --set ... --plot`) and of a `compare` grid or spec (`compare --plot`):
every combination is a point whose figures are the table's (read back from the SVG's tooltips and
compared with the JSON of the same command), the axes are ordered as the figures are, and the
ratio chart's points are the closed form 1/M + 1/K^2."""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.render.plot import Axis, ticks
from tests.conftest import SPECS

SVG = "{http://www.w3.org/2000/svg}"
MOBILENET = str(SPECS / "mobilenet_v1.yaml")
SWEEP = ["--set", "alpha=0.25,0.5,1", "--set", "res=128,224", MOBILENET]
GRID = ["--in", "32,64", "--out", "64,128,256", "--kernel", "3,5", "--size", "28"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def points(svg: str) -> list[tuple[float, float, str]]:
    """(x, y, tooltip) of every point drawn."""
    found = []
    for element in ET.fromstring(svg).iter():
        if element.get("class") == "point":
            title = element.find(f"{SVG}title")
            tip = title.text if title is not None and title.text else ""
            if element.tag == f"{SVG}circle":
                x, y = float(element.get("cx", 0)), float(element.get("cy", 0))
            else:  # a triangle: M x y-5 ...
                numbers = [float(n) for n in re.findall(r"-?[0-9.]+", element.get("d", ""))]
                x, y = numbers[0], numbers[1] + 5
            found.append((x, y, tip))
    return found


def figures(tip: str) -> list[int]:
    """The whole numbers after the tooltip's colon: the x figure, then the y figure."""
    after = tip.split(":", 1)[1]
    return [int(n.replace(",", "")) for n in re.findall(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+\b(?![.,]\d)", after)]


def test_sweep_plot_has_a_point_per_combination_with_the_tables_figures(tmp_path):
    out = tmp_path / "sweep.svg"
    code, _, _ = run("summary", *SWEEP, "--plot", str(out))
    assert code == 0
    table = json.loads(run("summary", "--format", "json", *SWEEP)[1])["rows"]
    drawn = points(out.read_text(encoding="utf-8"))
    assert len(drawn) == len(table) == 6
    for row in table:
        tip = next(t for _, _, t in drawn if t.startswith(f"alpha={row['alpha']}, res={row['res']}:"))
        assert f"{row['macs']:,}" in tip and f"{row['params']:,}" in tip
    # x grows with MACs, and y (upwards, so smaller) with params
    by_macs = sorted(drawn, key=lambda p: figures(p[2])[0])
    assert [p[0] for p in by_macs] == sorted(p[0] for p in drawn)
    by_params = sorted(drawn, key=lambda p: figures(p[2])[1])
    assert [p[1] for p in by_params] == sorted((p[1] for p in drawn), reverse=True)


def test_grid_plot_ratio_points_are_the_closed_form(tmp_path):
    out = tmp_path / "grid.svg"
    code, _, _ = run("compare", *GRID, "--plot", str(out))
    assert code == 0
    ratios = [t for _, _, t in points(out.read_text(encoding="utf-8")) if t.startswith("K=")]
    assert len(ratios) == 6  # one per (K, M): N and D do not change the ratio
    for tip in ratios:
        k, m = (int(v) for v in re.match(r"K=(\d+).*?M \(output channels\) (\d+)", tip).groups())  # type: ignore
        drawn = float(tip.rsplit(" ", 1)[1])
        assert drawn == pytest.approx(float(Fraction(1, m) + Fraction(1, k * k)), abs=5e-5)  # shown to 4 digits


def test_grid_plot_draws_both_forms_of_every_combination(tmp_path):
    out = tmp_path / "grid.svg"
    run("compare", *GRID, "--plot", str(out))
    table = json.loads(run("compare", *GRID, "--format", "json")[1])["rows"]
    tips = [t for _, _, t in points(out.read_text(encoding="utf-8")) if t.startswith("N=")]
    assert len(tips) == 2 * len(table) == 24
    for row in table:
        mine = [t for t in tips if t.startswith(row["layer"] + ":")]
        assert any(f"{row['standard_macs']:,}" in t for t in mine)
        assert any(f"{row['separable_macs']:,}" in t for t in mine)


def test_spec_comparison_plots_its_convolutions(tmp_path):
    out = tmp_path / "mobilenet.svg"
    code, _, _ = run("compare", MOBILENET, "--plot", str(out))
    assert code == 0 and len(points(out.read_text(encoding="utf-8"))) > 20


def test_html_pages_of_a_sweep_and_a_grid_show_the_plot():
    for args in (("summary", *SWEEP), ("compare", *GRID)):
        code, out, _ = run(*args, "--format", "html")
        assert code == 0 and 'class="paramcalc-plot"' in out


@pytest.mark.parametrize("args, needs", [
    (("summary", MOBILENET), "--plot draws a sweep"),
    (("compare", MOBILENET, str(SPECS / "lenet5.yaml")), "not two models"),
])
def test_plot_where_there_is_nothing_to_plot_is_refused(tmp_path, args, needs):
    code, out, err = run(*args, "--plot", str(tmp_path / "x.svg"))
    assert code == 2 and needs in err and not (tmp_path / "x.svg").exists()


def test_png_without_matplotlib_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    code, out, err = run("summary", *SWEEP, "--plot", str(tmp_path / "x.png"))
    assert code == 2
    assert err.strip().count("\n") == 0 and "pip install 'paramcalc[plot]'" in err


def test_png_with_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    code, _, err = run("summary", *SWEEP, "--plot", str(tmp_path / "x.png"))
    assert code == 0, err
    assert (tmp_path / "x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_log_ticks_are_1_2_5_per_decade():
    assert ticks(Axis(13e6, 569e6, True, 0, 1)) == [2e7, 5e7, 1e8, 2e8, 5e8]


def test_linear_ticks_are_round():
    assert ticks(Axis(0.0, 0.15, False, 0, 1)) == pytest.approx([0.0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15])
