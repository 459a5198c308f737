"""Issue 16, the terminal: a number or a shape is never cut. Tables laid out at the terminal's width
(names fold, `Connected to` wraps, a column left out with a note), folded warnings, plain text,
short units, and the input size and batch from the command line."""

from __future__ import annotations

import io
import json
import re

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from paramcalc.check import check_paths
from paramcalc.cli import cli
from paramcalc.render.check_report import render_check
from paramcalc.render.formats import CheckFormat
from paramcalc.render.layout import FLOOR, Fit, FitColumn, frame, layout, needs
from paramcalc.render.numbers import shape_text, shapes_text, short
from tests.conftest import ROOT, SPECS

LENET = str(SPECS / "lenet5.yaml")
RESNET50 = str(SPECS / "resnet50.yaml")
GPT3 = str(SPECS / "gpt3.yaml")
TINY_RESNET = "tests/cases/golden/tiny_resnet.yaml"
BUNDLED = sorted(path.name for path in SPECS.glob("*.yaml"))
WIDTHS = (80, 100, 120)


def invoke(*args: str, input: str | None = None, env: dict[str, str | None] | None = None):
    return CliRunner(env=env).invoke(cli, list(args), input=input)


def ok(*args: str, **kwargs) -> str:
    result = invoke(*args, **kwargs)
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(*args: str, **kwargs) -> str:
    """A bad command line: one paragraph on stderr, exit code 2, no traceback."""
    result = invoke(*args, **kwargs)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    return result.stderr


# ---- reading a drawn table back --------------------------------------------------------------------------

def table(out: str) -> tuple[list[str], list[list[str]]]:
    """The headers and the body lines (cells stripped) of the first table drawn in `out`; a header
    wrapped over several lines is put back together."""
    headers: list[list[str]] = []
    body: list[list[str]] = []
    for line in out.splitlines():
        if line.startswith("┃"):
            headers.append([cell.strip() for cell in line[1:-1].split("┃")])
        elif line.startswith("│"):
            body.append([cell.strip() for cell in line[1:-1].split("│")])
        elif line.startswith("└"):
            break
    titles = [" ".join(part for part in column if part) for column in zip(*headers)]
    return titles, body


def figure_rows(out: str) -> list[dict[str, str]]:
    """The summary's layer rows by column title: the line of each row that holds its figures (a
    figure is never wrapped, so a row's figures are on one line)."""
    titles, body = table(out)
    rows = [dict(zip(titles, cells)) for cells in body]
    return [row for row in rows if row["Output Shape"]]


def expected_rows(report: dict) -> list[dict[str, str]]:
    return [{"Output Shape": shown_shapes(layer), "Param #": f"{layer['params']:,}", "MACs": f"{layer['macs']:,}"}
            for layer in report["layers"]]


def shown_shapes(layer: dict) -> str:
    """A layer's output shape, or the list of its outputs' when it has several (an LSTM's states)."""
    if len(layer["output_shapes"]) > 1:
        return shapes_text(tuple(tuple(shape) for shape in layer["output_shapes"]))
    return shape_text(tuple(layer["output_shape"]))


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_spec_shows_every_count_and_shape_whole_at_80_100_and_120_columns(name):
    spec = str(SPECS / name)
    report = json.loads(ok("summary", "--format", "json", spec))
    for width in WIDTHS:
        out = ok("summary", "--width", str(width), spec)
        assert "…" not in out, (name, width)
        lines = out.splitlines()
        assert all(len(line) <= width for line in lines), (name, width)
        assert all(line == line.rstrip() for line in lines), (name, width)
        shown = [{key: row[key] for key in ("Output Shape", "Param #", "MACs")} for row in figure_rows(out)]
        assert shown == expected_rows(report), (name, width)
        footer = f"Total params: {report['total_params']:,} "
        assert footer in out and f"Total MACs: {report['total_macs']:,}" in out


def test_the_issue_cases_keep_their_numbers():
    lenet = ok("summary", "--width", "80", LENET)
    assert "117,600" in lenet and "117,6…" not in lenet
    resnet = figure_rows(ok("summary", "--width", "100", RESNET50))
    assert resnet[1]["Param #"] == "9,472" and resnet[1]["MACs"] == "118,013,952"
    densenet = figure_rows(ok("summary", "--width", "80", str(SPECS / "densenet121.yaml")))
    assert len(densenet) == 428 and all(row["Param #"] and row["MACs"] for row in densenet)


# ---- golden tables: a chain and a graph at 80 and 120 columns ---------------------------------------------

@pytest.mark.parametrize(("golden", "spec", "width"), [
    ("terminal_lenet5_80", "specs/lenet5.yaml", 80), ("terminal_lenet5_120", "specs/lenet5.yaml", 120),
    ("terminal_tiny_resnet_80", TINY_RESNET, 80), ("terminal_tiny_resnet_120", TINY_RESNET, 120),
])
def test_golden_tables_of_a_chain_and_a_graph_at_80_and_120_columns(snapshot, golden, spec, width):
    result = snapshot(golden, "summary", "--width", str(width), spec)
    assert result.exit_code == 0
    assert "…" not in result.stdout and all(len(line) <= width for line in result.stdout.splitlines())


# ---- what gives way, and the note --------------------------------------------------------------------------

def test_the_name_column_wraps_with_the_type_indented_under_the_name():
    out = ok("summary", "--width", "80", RESNET50)
    assert "│     conv2_block1_0_bn       " in out and "│       (BatchNormalization)  " in out


def test_connected_to_is_left_out_with_a_note_naming_the_width_that_shows_it():
    out = ok("summary", "--width", "80", RESNET50)
    titles, _ = table(out)
    assert titles == ["Layer (type)", "Output Shape", "Param #", "MACs"]
    note = re.search(r"^`Connected to` left out at 80 columns: --width (\d+) or --format csv shows it\.$", out,
                     re.MULTILINE)
    assert note, out
    needed = int(note.group(1))
    assert "Connected to" in table(ok("summary", "--width", str(needed), RESNET50))[0]
    assert "Connected to" not in table(ok("summary", "--width", str(needed - 1), RESNET50))[0]
    csv = ok("summary", "--format", "csv", RESNET50).splitlines()
    assert csv[0].endswith(",inputs,is_total") and csv[-2].endswith(",avg_pool,false")  # what the note promises


def test_connected_to_wraps_between_names_when_it_is_shown():
    out = ok("summary", "--width", "120", RESNET50)
    _, body = table(out)
    add = next(i for i, cells in enumerate(body) if cells[0].startswith("conv2_block1_add"))
    assert body[add][-1] == "conv2_block1_0_bn," and body[add + 1][-1] == "conv2_block1_3_bn"


def test_no_column_is_left_out_when_the_table_fits():
    out = ok("summary", "--width", "200", RESNET50)
    assert "left out" not in out and "Connected to" in table(out)[0]


def test_the_convention_column_is_kept_and_whole_at_80_columns():
    out = ok("summary", "--width", "80", "--convention", "fvcore", str(SPECS / "mobilenet_v1.yaml"))
    rows = figure_rows(out)
    report = json.loads(ok("summary", "--format", "json", "--convention", "fvcore", str(SPECS / "mobilenet_v1.yaml")))
    assert [row["MACs (fvcore)"] for row in rows] == [f"{layer['convention_count']:,}" for layer in report["layers"]]
    assert "…" not in out


@pytest.mark.parametrize("args", [
    ["summary", "--by-type", "specs/mobilenet_v1.yaml"],
    ["summary", "--conventions", "specs/mobilenet_v1.yaml"],
    ["summary", "specs/mobilenet_v1.yaml", "--set", "alpha=1,0.5", "--set", "res=224,128"],
    ["compare", "specs/mobilenet_v1.yaml"],
    ["compare", "specs/resnet50.yaml", "specs/resnet18.yaml"],
    ["compare", "--in", "32,64", "--out", "64,128", "--kernel", "3,5", "--size", "112,56"],
])
def test_every_table_keeps_its_figures_whole_at_80_columns(args):
    args = [str(ROOT / a) if a.startswith("specs/") else a for a in args]
    out = ok(*args, "--width", "80")
    assert "…" not in out and all(len(line) <= 80 for line in out.splitlines())
    data = json.loads(ok(*args, "--format", "json"))
    _, body = table(out)
    drawn = {cell for cells in body for cell in cells}
    shown = set(table(out)[0])
    for row in data["rows"] + data["totals"]:
        for key, value in row.items():
            title = {"total": "Total", "params": "Params", "macs": "MACs", "standard_macs": "Standard MACs",
                     "separable_macs": "Separable MACs"}.get(key)
            if title in shown and isinstance(value, int) and not isinstance(value, bool):
                assert f"{value:,}" in drawn, (key, value)


def test_the_check_table_on_a_terminal_keeps_figures_whole_at_80_columns():
    run = check_paths((str(SPECS / "gpt3.yaml"), str(SPECS / "lenet5.yaml"),
                       str(ROOT / "tests/cases/golden/lenet5_drifted.yaml")), False, "paper")
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(render_check(run, CheckFormat.TEXT, tty=True), crop=False)
    text = out.getvalue()
    assert "…" not in text and all(len(line) <= 80 for line in text.splitlines())
    cells = {cell for cells in table(text)[1] for cell in cells}
    assert {"174,604,259,328", "(None, 2048, 12288)", "61,706", "(None, 10, 10, 16)", "+6, +0.0097%"} <= cells


# ---- warnings ----------------------------------------------------------------------------------------------

FLOORED = ["conv1_conv", "pool1_pool", "conv3_block1_0_conv", "conv3_block1_1_conv", "conv4_block1_0_conv",
           "conv4_block1_1_conv", "conv5_block1_0_conv", "conv5_block1_1_conv"]


def warnings_part(out: str) -> str:
    return " ".join(out[out.index(" Warnings ("):].split())


def test_warnings_of_the_same_cause_fold_into_one_line_naming_the_layers():
    part = warnings_part(ok("summary", "--width", "200", RESNET50))
    assert part == ("Warnings (8): ! 8 layers: (N - F + 2P)/S + 1 is not whole and the output size is floored, so "
                    f"the last 1 input row and column are never used: {', '.join(FLOORED)} (`--warnings full` "
                    "shows each)")


def test_warnings_full_lists_each_with_its_arithmetic_and_line():
    out = ok("summary", "--width", "200", "--warnings", "full", RESNET50)
    lines = [line for line in out.splitlines() if line.startswith(" ! ")]
    assert [line.split(":")[0][3:] for line in lines] == FLOORED
    assert "(230 - 7 + 0)/2 + 1 = 112.5" in lines[0] and lines[0].endswith("(line 39)")


def test_a_cause_of_one_layer_keeps_its_own_message():
    out = ok("summary", "-", input="input: [11, 11, 1]\nlayers: [{MaxPooling2D: 2}]\n")
    assert "Warnings (1)" in out and "max_pooling2d: (N - F + 2P)/S + 1 = (11 - 2 + 0)/2 + 1 = 5.5" in out


def test_warnings_off_leaves_them_out_of_the_table_but_not_out_of_json():
    out = ok("summary", "--warnings", "off", RESNET50)
    assert "Warnings" not in out and " ! " not in out
    assert len(json.loads(ok("summary", "--format", "json", "--warnings", "off", RESNET50))["warnings"]) == 8


@pytest.mark.parametrize("fmt", ["csv", "markdown"])
def test_csv_and_markdown_say_on_stderr_that_warnings_were_left_out(fmt):
    result = invoke("summary", "--format", fmt, RESNET50)
    assert result.exit_code == 0
    assert result.stderr == (f"paramcalc: 8 warnings left out of the {fmt} output; --format table or json shows "
                             "them (--warnings off: no such note).\n")
    assert "never used" not in result.stdout
    assert invoke("summary", "--format", fmt, "--warnings", "off", RESNET50).stderr == ""
    assert invoke("summary", "--format", fmt, LENET).stderr == ""  # no warnings, no note


# ---- plain text ----------------------------------------------------------------------------------------------

FORCED = {"FORCE_COLOR": "1", "NO_COLOR": None, "TTY_COMPATIBLE": None}


def test_a_forced_terminal_gets_styles_and_no_color_removes_bold_and_dim_too():
    assert "\x1b[" in ok("summary", LENET, env=FORCED)  # the check below is not vacuous
    assert "\x1b[" not in ok("summary", "--no-color", LENET, env=FORCED)
    assert "\x1b[" not in ok("summary", LENET, env={**FORCED, "NO_COLOR": "1"})
    assert "\x1b[" in ok("summary", LENET, env={**FORCED, "NO_COLOR": ""})  # empty: not set (no-color.org)
    assert "\x1b[" not in ok("compare", "--no-color", LENET, env=FORCED)


def test_piped_output_has_no_trailing_spaces_on_the_title_or_any_line():
    for args in (["summary", LENET], ["summary", "--by-type", LENET], ["compare", LENET]):
        out = ok(*args)
        assert out.splitlines()[0] in ('Model: "lenet5"', 'Model "lenet5": MACs and params by layer type',
                                       'Model "lenet5": each convolution, standard vs depthwise-separable')
        assert all(line == line.rstrip() for line in out.splitlines())


# ---- short units -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "text"), [(0, "0"), (999, "999"), (1000, "1.00 K"), (61_706, "61.7 K"),
                                         (999_499, "999 K"), (999_500, "1.00 M"), (25_636_712, "25.6 M"),
                                         (4_089_184_256, "4.09 G"), (174_604_259_328, "175 G"),
                                         (-13_947_200, "-13.9 M"), (10**30, "1.00e30")])
def test_short_counts_have_three_significant_digits(n, text):
    assert short(n) == text


def test_units_short_writes_table_counts_as_papers_do_and_the_footer_gives_both():
    out = ok("summary", "--units", "short", str(SPECS / "resnet50_torchvision.yaml"))
    rows = figure_rows(out)
    assert rows[0]["Param #"] == "9.41 K" and rows[0]["MACs"] == "118 M"
    assert "Total params: 25.6 M = 25,557,032 (97.49 MB)" in out
    assert "Total MACs: 4.09 G = 4,089,184,256" in out


def test_units_short_applies_to_markdown_and_other_tables_but_never_to_csv_or_json():
    markdown = ok("summary", "--format", "markdown", "--units", "short", LENET)
    assert "| (None, 10, 10, 16) | 2.42 K | 2.42 K | 0 | 240 K |" in markdown
    assert ",2416,2416,0,240000" in ok("summary", "--format", "csv", "--units", "short", LENET)
    assert json.loads(ok("summary", "--format", "json", "--units", "short", LENET))["total_params"] == 61706
    by_type = ok("summary", "--by-type", "--units", "short", str(SPECS / "mobilenet_v1.yaml"))
    assert "539 M" in by_type and "94.86%" in by_type
    conventions = ok("summary", "--conventions", "--units", "short", "--width", "200", str(SPECS / "mobilenet_v1.yaml"))
    assert "579 M" in conventions and "+10.1 M" in conventions
    assert "231 M" in ok("compare", "--units", "short", "--in", "32", "--out", "64", "--kernel", "3", "--size", "112")


# ---- the input size and the batch from the command line ------------------------------------------------------

def summary_json(*args: str, input: str | None = None) -> dict:
    data = json.loads(ok("summary", "--format", "json", *args, input=input))
    data.pop("source")
    return data


def test_input_replaces_the_spec_input_as_if_the_spec_said_it():
    edited = (SPECS / "lenet5.yaml").read_text().replace("input: [32, 32, 1]", "input: [28, 28, 1]")
    assert summary_json("--input", "28,28,1", LENET) == summary_json("-", input=edited)
    assert summary_json("--input", "28x28x1", LENET) == summary_json("--input", "[28, 28, 1]", LENET)
    assert summary_json("--input", "input=28,28,1", LENET)["input_shape"] == [None, 28, 28, 1]


def test_input_reads_the_shape_in_the_spec_data_format():
    data = summary_json("--input", "3,160,160", str(SPECS / "resnet50_torchvision.yaml"))  # channels first
    assert data["input_shape"] == [None, 3, 160, 160] and data["layers"][0]["output_shape"] == [None, 64, 80, 80]


def test_input_names_each_input_of_a_spec_with_several():
    data = summary_json("--input", "tokens=1024", "--input", "positions=1024", GPT3)
    assert data["inputs"] == {"tokens": [None, 1024], "positions": [None, 1024]}
    assert data["output_shape"] == [None, 1024, 12288]


@pytest.mark.parametrize(("args", "message"), [
    (["--input", "3,224,224", RESNET50],
     "--input 3,224,224: error: the spec reads its input channels last ([H, W, C] = [224, 224, 3]), but 3,224,224 "
     "looks like the other order. Fix: write --input 224,224,3."),
    (["--input", "224,224,3", str(SPECS / "resnet50_torchvision.yaml")],
     "--input 224,224,3: error: the spec reads its input channels first ([C, H, W] = [3, 224, 224]), but 224,224,3 "
     "looks like the other order. Fix: write --input 3,224,224."),
    (["--input", "1,32,32,1", LENET],
     "--input 1,32,32,1: error: --input gives 4 dimensions but the spec's input `input` [32, 32, 1] has 3. Fix: "
     "give 3 dimensions, in the spec's order (without the batch dimension: --batch N sets the batch)."),
    (["--input", "2048", GPT3],
     "--input 2048: error: the spec has 2 inputs (tokens, positions): say which one --input replaces. Fix: write "
     "--input NAME=SHAPE, e.g. --input tokens=2048, once for each input to change."),
    (["--input", "token=2048", GPT3],
     "--input token=2048: error: --input: the spec has no input named `token`. Fix: did you mean `tokens`?"),
    (["--input", "32,a,1", LENET],
     "--input 32,a,1: error: --input: every dimension must be a whole number of at least 1; got `a`. Fix: write "
     "the shape without the batch dimension, e.g. --input 3,224,224 (or NAME=3,224,224 for one of several inputs)."),
    (["--input", "32,0,1", LENET], "--input 32,0,1: error: --input: every dimension must be a whole number of at "
     "least 1; got `0`."),
    (["--input", "28,28,1", "--input", "32,32,1", LENET], "--input 32,32,1: error: --input gives the input twice."),
])
def test_a_bad_input_is_refused_with_the_fix(args, message):
    assert refused("summary", *args).startswith(message)


def test_input_applies_to_explain_compare_and_sweeps():
    assert "(28 - 5 + 0)/1 + 1 = 24" in ok("explain", "--input", "28,28,1", LENET, "conv2d")
    pairs = json.loads(ok("compare", "--format", "json", "--input", "28,28,1", LENET))["rows"]
    assert pairs[0]["D"] == 24
    mobilenet = str(SPECS / "mobilenet_v1.yaml")
    swept = json.loads(ok("summary", "--format", "json", "--input", "160,160,3", mobilenet, "--set", "alpha=1,0.5"))
    fixed = json.loads(ok("summary", "--format", "json", mobilenet, "--set", "alpha=1,0.5", "--set", "res=160"))
    assert [r["macs"] for r in swept["rows"]] == [r["macs"] for r in fixed["rows"]]


def test_batch_shows_the_batch_and_scales_macs_and_activations_not_params():
    one = summary_json(LENET)
    eight = summary_json("--batch", "8", LENET)
    assert eight["input_shape"] == [8, 32, 32, 1] and eight["output_shape"] == [8, 10]
    assert eight["total_params"] == one["total_params"] and eight["param_bytes"] == one["param_bytes"]
    assert eight["total_macs"] == 8 * one["total_macs"] and eight["total_flops"] == 8 * one["total_flops"]
    assert eight["activations"] == 8 * one["activations"]
    assert eight["activation_bytes"] == 8 * one["activation_bytes"]
    for a, b in zip(one["layers"], eight["layers"]):
        assert (b["params"], b["macs"], b["activations"]) == (a["params"], 8 * a["macs"], 8 * a["activations"])
        assert b["output_shape"] == [8, *a["output_shape"][1:]]


def test_batch_is_said_in_the_table_footer():
    out = ok("summary", "--batch", "8", LENET)
    assert figure_rows(out)[0]["Output Shape"] == "(8, 28, 28, 6)" and figure_rows(out)[0]["MACs"] == "940,800"
    assert "Total MACs: 3,332,160 for a batch of 8 (416,520 per sample)" in out
    assert "Activations: 67,952 values for a batch of 8 (265.44 KB at float32)" in out
    assert "input (8, 32, 32, 1) = 8,192 values" in out


def test_batch_with_a_convention_scales_the_convention_count_too():
    one = summary_json("--convention", "fvcore", str(SPECS / "mobilenet_v1.yaml"))
    four = summary_json("--convention", "fvcore", "--batch", "4", str(SPECS / "mobilenet_v1.yaml"))
    assert four["convention"]["total"] == 4 * one["convention"]["total"]


def test_batch_does_not_apply_to_the_conventions_table():
    assert "--batch does not apply to --conventions" in refused("summary", "--conventions", "--batch", "2", LENET)


# ---- the layout itself, for any columns and width ----------------------------------------------------------

def test_layout_never_narrows_a_figure_and_fits_whenever_it_can():
    column = st.tuples(st.sampled_from(list(Fit)), st.integers(0, 3), st.integers(1, 30),
                       st.lists(st.text(alphabet="ab ,(0)", min_size=0, max_size=40), min_size=3, max_size=3))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(column, min_size=1, max_size=7), st.integers(40, 200))
    def check(spec, width):
        columns = [FitColumn(f"h{i} x", fit, drop=drop, minimum=minimum)
                   for i, (fit, drop, minimum, _) in enumerate(spec)]
        wants = [needs(c, cells) for c, (*_, cells) in zip(columns, spec)]
        plan = layout(columns, wants, width)
        shown = [i for i, w in enumerate(plan.widths) if w is not None]
        assert shown and all(columns[i].drop for i in plan.dropped)
        for i in shown:
            assert plan.widths[i] <= max(wants[i].natural, wants[i].least)
            if columns[i].fit is Fit.FIGURE:
                assert plan.widths[i] >= wants[i].least  # every figure whole
            else:
                assert plan.widths[i] >= min(FLOOR, wants[i].least)
        total = sum(plan.widths[i] for i in shown) + frame(len(shown))
        squeezable = sum(min(FLOOR, wants[i].least) if columns[i].fit is not Fit.FIGURE else wants[i].least
                         for i in shown) + frame(len(shown))
        assert total <= width or total <= squeezable  # wider only when nothing could give way
        if plan.dropped:
            assert not layout(columns, wants, plan.needed).dropped and plan.needed > width

    check()
