"""The model zoo travels with the package (issue 16): `paramcalc zoo` lists the bundled specs with
their figures, `paramcalc zoo NAME` prints one, every command takes `zoo:NAME`, and the hints of
errors name what an installed user has. (tests/test_release.py runs them from an installed wheel.)"""

from __future__ import annotations

import json

from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import SPECS

BUNDLED = sorted(path.stem for path in SPECS.glob("*.yaml"))


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_zoo_lists_every_bundled_spec_with_the_figures_summary_computes():
    result = run("zoo", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert [row["model"] for row in rows] == [f"zoo:{name}" for name in BUNDLED]
    for row, name in zip(rows, BUNDLED):
        report = json.loads(run("summary", "--format", "json", str(SPECS / f"{name}.yaml")).stdout)
        assert (row["params"], row["macs"], row["layers"]) == (report["total_params"], report["total_macs"],
                                                               len(report["layers"])), name
        assert row["input_shape"] == report["input_shape"], name
    frameworks = {row["model"]: row["framework"] for row in rows}
    assert (frameworks["zoo:resnet50"], frameworks["zoo:resnet18"], frameworks["zoo:alexnet"]) == (
        "Keras", "PyTorch", "PyTorch")  # whose layout: channels last or first


def test_zoo_table_names_the_models_as_commands_take_them():
    result = run("zoo", "--no-color")
    assert result.exit_code == 0
    assert f"The model zoo: {len(BUNDLED)} bundled specs" in result.stdout
    line = next(line for line in result.stdout.splitlines() if "zoo:resnet50 " in line)
    assert "Keras" in line and "(None, 224, 224, 3)" in line and "25,636,712" in line and "3,857,973,248" in line
    assert "`paramcalc summary zoo:NAME` shows one" in result.stdout


def test_zoo_name_prints_the_spec_to_start_from():
    text = (SPECS / "lenet5.yaml").read_text(encoding="utf-8")
    assert run("zoo", "lenet5").stdout == text
    assert run("zoo", "zoo:lenet5").stdout == text


def test_every_command_takes_a_bundled_spec():
    bundled = json.loads(run("summary", "--format", "json", "zoo:resnet50").stdout)
    assert bundled.pop("source") == "zoo:resnet50"  # as given, as a file's path is
    from_file = json.loads(run("summary", "--format", "json", str(SPECS / "resnet50.yaml")).stdout)
    assert from_file.pop("source") == str(SPECS / "resnet50.yaml") and bundled == from_file
    checked = run("check", "zoo:lenet5", "zoo:gpt3.yaml").stdout
    assert checked == "2 specs: 2 passed, 0 failed, 0 unchecked, 0 unreadable\n"
    explained = run("explain", "zoo:lenet5", "conv2d_1").stdout
    assert "2,416" in explained and explained == run("explain", str(SPECS / "lenet5.yaml"), "conv2d_1").stdout
    assert run("compare", "zoo:mobilenet_v1").exit_code == 0


def test_an_unknown_model_is_a_located_error_with_a_suggestion():
    result = run("summary", "zoo:lenet6")
    assert result.exit_code == 2
    assert result.stderr.startswith("zoo:lenet6: error: the model zoo has no model `lenet6`. Fix: did you mean "
                                    "`lenet5`")
    listing = run("zoo", "xyz")
    assert listing.exit_code == 2
    assert listing.stderr == ("zoo:xyz: error: the model zoo has no model `xyz`. Fix: `paramcalc zoo` lists them ("
                              + ", ".join(BUNDLED) + ").\n")


def test_hints_name_what_an_installed_user_has():
    missing = run("summary", "nope/missing.yaml")
    assert missing.stderr.endswith("Fix: check the path, or name a bundled spec such as zoo:lenet5 (`paramcalc zoo` "
                                   "lists them).\n")
    empty = run("summary", "-", input="")
    assert "Fix: start from an example (`paramcalc zoo lenet5` prints one)" in empty.stderr
    assert "paramcalc summary zoo:lenet5" in run("--help").stdout
