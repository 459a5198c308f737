"""A sweep with --dtype/--device/--memory-budget (issue 17) streams its memory and time figures as
columns that --filter and --sort name (issue 20), and --plot / --format html keep the rows for the
pictures (issue 19): each row equals the one-model summary of the same combination."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from paramcalc.cli import cli

MOBILENET = str(Path(__file__).parent.parent / "specs" / "mobilenet_v1.yaml")


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def sweep_rows(*args: str) -> list[dict]:
    code, out = invoke("summary", MOBILENET, "--format", "jsonl", *args)
    assert code == 0, out
    return [json.loads(line) for line in out.splitlines()]


def one_model(alpha: str, res: str, *args: str) -> dict:
    code, out = invoke("summary", MOBILENET, "--format", "json", "--set", f"alpha={alpha}", "--set", f"res={res}",
                       *args)
    assert code == 0, out
    return json.loads(out)


def test_each_row_has_the_memory_and_time_of_its_own_summary():
    options = ("--device", "t4", "--memory-budget", "20M", "--batch", "4")
    rows = sweep_rows("--set", "alpha=0.5,1", "--set", "res=128,160,192,224", *options)
    assert len(rows) == 8
    for row in rows:
        alone = one_model(str(row["alpha"]), str(row["res"]), *options)
        assert row["peak_activation_bytes"] == alone["memory"]["peak_activation_bytes"]
        assert row["training_bytes"] == alone["memory"]["training"]["total_bytes"]
        assert row["roofline_seconds"] == alone["roofline_seconds"]
        assert row["fits"] == (row["needed_bytes"] <= 20 * 2**20)
    assert {row["fits"] for row in rows} == {True, False}  # the budget falls inside this sweep


def test_filter_and_sort_name_the_cost_figures():
    every = sweep_rows("--set", "alpha=0.25,0.5,1", "--set", "res=128,224", "--device", "t4")
    fast = sweep_rows("--set", "alpha=0.25,0.5,1", "--set", "res=128,224", "--device", "t4",
                      "--filter", "roofline_seconds < 0.0002", "--sort", "-peak_activation_bytes")
    expected = sorted((r for r in every if r["roofline_seconds"] < 0.0002), key=lambda r: -r["peak_activation_bytes"])
    assert fast == expected and 0 < len(fast) < len(every)


def test_plot_and_html_keep_every_row_for_the_chart(tmp_path):
    plot = tmp_path / "sweep.svg"
    code, out = invoke("summary", MOBILENET, "--set", "alpha=0.5,1", "--set", "res=128,224", "--format", "csv",
                       "--plot", str(plot))
    assert code == 0 and len(out.splitlines()) == 5  # the header and the four rows, streamed
    svg = plot.read_text()
    assert svg.startswith("<") and "</svg>" in svg
    for alpha in ("0.5", "1"):
        assert f"alpha={alpha}" in svg
    code, page = invoke("summary", MOBILENET, "--set", "alpha=0.5,1", "--set", "res=128,224", "--format", "html")
    assert code == 0 and page.count("<svg") >= 1 and "568,740,352" in page  # alpha 1 at 224 (the zoo's MACs)
