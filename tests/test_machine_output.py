"""Output for programs, the same in every command (issue 16, part 5): JSON with a `schema_version`
and numbers as numbers, CSV with shapes as `None x 28 x 28 x 6` and totals marked; and options that
would be ignored are refused instead."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import SPECS

LENET = str(SPECS / "lenet5.yaml")
MOBILENET = str(SPECS / "mobilenet_v1.yaml")


def output(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.stdout


JSON_COMMANDS = [
    ("summary", LENET), ("summary", "--by-type", MOBILENET), ("summary", "--conventions", LENET),
    ("summary", MOBILENET, "--set", "alpha=0.5,1"), ("compare", MOBILENET), ("compare", LENET, MOBILENET),
    ("compare", "--in", "32", "--out", "64", "--kernel", "3,5", "--size", "56"), ("check", LENET),
]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_every_json_has_a_schema_version_and_no_number_as_text(args):
    data = json.loads(output(*args, "--format", "json"))
    assert isinstance(data["schema_version"], int)

    def strings(value):  # (check's `expected_text` is the figure as the spec writes it, on purpose)
        if isinstance(value, dict):
            return [s for k, v in value.items() if not k.endswith("_text") for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return [value] if isinstance(value, str) else []

    numeric_text = [s for s in strings(data) if s.replace(".", "", 1).replace("x", "").isdigit()]
    assert numeric_text == []


def test_sweep_values_and_compare_sizes_are_numbers():
    sweep = json.loads(output("summary", MOBILENET, "--set", "alpha=0.5,1", "--set", "res=160", "--format", "json"))
    assert [(row["alpha"], row["res"]) for row in sweep["rows"]] == [(0.5, 160), (1, 160)]
    pairs = json.loads(output("compare", MOBILENET, "--format", "json"))["rows"]
    assert (pairs[0]["K"], pairs[0]["D"]) == (3, 112)
    table = output("compare", MOBILENET)
    assert "conv_dw_1 + conv_pw_1" in table


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_shapes_are_written_one_way_and_totals_are_marked():
    layers = rows(output("summary", LENET, "--format", "csv"))
    assert layers[0]["output_shape"] == "None x 28 x 28 x 6"
    assert [row["is_total"] for row in layers] == ["false"] * 8 + ["true"]
    total = next(row for row in layers if row["is_total"] == "true")
    assert sum(int(row["params"]) for row in layers if row["is_total"] == "false") == int(total["params"]) == 61706
    sweep = rows(output("summary", MOBILENET, "--set", "alpha=0.5,1", "--format", "csv"))
    assert sweep[0]["output_shape"] == "None x 1000" and "is_total" not in sweep[0]  # no totals, nothing to mark


@pytest.mark.parametrize("args, message", [
    (["--by-type", "--conventions"], "--by-type and --conventions are different views of the model: choose one"),
    (["--set", "alpha=0.5,1", "--by-type"], "a sweep (--set with several values) and --by-type are different views"),
    (["--depth", "0", "--format", "json"], "--depth folds the rows of a table; the JSON report lists every layer"),
    (["--depth", "0", "--by-type"], "--depth folds the layer rows, which --by-type does not show"),
    (["--conventions", "--convention", "fvcore"], "it shows every convention already"),
])
def test_options_that_would_be_ignored_are_refused(args, message):
    result = CliRunner().invoke(cli, ["summary", MOBILENET, *args])
    assert result.exit_code == 2 and message in " ".join(result.stderr.split())


def test_depth_and_by_type_still_work_where_they_apply():
    assert "separable block" in output("summary", MOBILENET, "--depth", "0", "--format", "csv")
    assert "FLOPs (flop-counter)" in output("summary", MOBILENET, "--by-type", "--convention", "flop-counter")


# -- large reports: the compact JSON with the usual layers written directly (render/json_report.py) -----

def _zoo_reports():
    from paramcalc.engine import analyze
    from paramcalc.spec.loader import load_spec

    for path in sorted(SPECS.glob("*.yaml")):
        yield path.name, analyze(load_spec(str(path)), keep_formulas=False)


@pytest.mark.parametrize("name, report", list(_zoo_reports()),
                         ids=lambda value: value if isinstance(value, str) else "")
def test_compact_json_is_what_the_encoder_writes_for_every_zoo_spec(name, report):
    """Every layer kind of the zoo, blocks, layers with several outputs, experts: `layer_text` writes
    exactly what json.dumps writes for the layer's dict, or leaves the layer to it."""
    from paramcalc.memory import Costs, Precision
    from paramcalc.render.json_report import compact_json, layer_dict, layer_text, report_dict
    from paramcalc.render.numbers import formula

    for row in report.rows:
        text = layer_text(row)
        assert text is None or text == json.dumps(layer_dict(row), default=formula)
    for costs in (None, Costs(Precision("bfloat16", "float16"), "sgd")):
        assert compact_json(report, costs) == json.dumps(report_dict(report, costs), default=formula)


def test_a_large_report_is_written_compact_as_the_encoder_writes_it():
    from paramcalc.engine import analyze
    from paramcalc.render.json_report import layer_text, render_json, report_dict
    from paramcalc.render.numbers import formula
    from paramcalc.spec.loader import parse_spec

    lines = ["input: [H, 8, 4]", "layers:", "  - Conv2D: {name: u0, filters: 4, kernel_size: 3, padding: same}"]
    for u in range(1, 700):
        split = "split" if u == 1 else f"split_{u - 1}"  # its automatic name
        lines += [f"  - Conv2D: {{name: a{u}, filters: 4, kernel_size: 3, padding: same}}",
                  f"  - Add: {{name: u{u}, inputs: [u{u - 1}, a{u}]}}",
                  "  - Split: {split_size_or_sections: 2, dim: -1}",
                  f'  - Concatenate: {{inputs: ["{split}[0]", "{split}[1]"]}}']
    for dims in ("H", "8"):  # a free dimension: sizes and counts that are formulas, written as text
        report = analyze(parse_spec("\n".join(lines).replace("[H, 8, 4]", f"[{dims}, 8, 4]") + "\n", "big.yaml"),
                         keep_formulas=False)
        assert len(report.rows) > 2000
        assert render_json(report) == json.dumps(report_dict(report), default=formula)
        written = sum(layer_text(row) is not None for row in report.rows)
        assert written == (0 if dims == "H" else 3 * 699 + 1)  # all but the Splits; none with formulas
