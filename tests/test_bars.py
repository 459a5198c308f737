"""`summary --bars`: a column with a small bar of each layer's share of the MACs. Like every table it
never cuts a figure (tests/test_terminal.py's rule), on every bundled spec at 80, 100 and 120 columns."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.render.bars import TITLE, bar_cells, bar_text
from tests.conftest import SPECS

BUNDLED = sorted(path.name for path in SPECS.glob("*.yaml"))
LENET = str(SPECS / "lenet5.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", BUNDLED)
def test_bars_never_cut_a_figure_at_80_100_and_120_columns(name):
    for width in (80, 100, 120):
        code, out, _ = run("summary", "--bars", "--width", str(width), str(SPECS / name))
        assert code == 0
        assert "…" not in out, (name, width)
        assert all(len(line) <= width for line in out.splitlines()), (name, width)
        # the column is there, or the note says it was left out
        assert TITLE in out.replace("\n", " ") or "left out" in out or "--width" in out, (name, width)


def test_lenet5_bars_show_each_layers_share():
    code, out, _ = run("summary", "--bars", "--width", "120", LENET)
    assert code == 0
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith("│")}
    # MACs from the golden summary: conv2d_1 240,000 and conv2d 117,600 of 416,520
    assert "█████  57.6%" in lines["conv2d_1"]  # the heaviest: a full bar
    assert "██▌    28.2%" in lines["conv2d"]  # 117,600 / 240,000 of 40 eighths = 19.6 -> 20: 2 cells and a half
    assert "0.0%" in lines["flatten"] and "█" not in lines["flatten"]


def test_bar_text_rounds_to_eighths_against_the_heaviest():
    assert bar_text(0.5, 0.5) == "█████  50.0%"
    assert bar_text(0.25, 0.5) == "██▌    25.0%"  # half of 40 eighths: 20 = 2 full cells and 4/8
    assert bar_text(0.01, 0.5) == "▏       1.0%"  # 0.8 eighths rounds to 1
    assert bar_text(0.0, 0.0) == "        0.0%"
    assert bar_cells([1, 3, "2*H"], 4) == ["█▋     25.0%", "█████  75.0%", ""]  # a formula: no share


@pytest.mark.parametrize("args", [("--format", "json"), ("--format", "csv"), ("--by-type",),
                                  ("--set", "alpha=1,0.5")])
def test_bars_where_there_is_no_layer_table_is_refused(args):
    code, out, err = run("summary", "--bars", *args, str(SPECS / "mobilenet_v1.yaml"))
    assert code == 2 and not out and "--bars" in err


def test_bars_with_html_is_allowed():
    code, out, _ = run("summary", "--bars", "--format", "html", LENET)
    assert code == 0 and 'class="bar macs"' in out
