"""The Python API (issue 16, part 3): `paramcalc.analyze` and the `Report` it returns, pinned as the
README documents them, and always equal to what the command line prints for the same spec."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import paramcalc
from paramcalc.cli import cli
from tests.conftest import ROOT, SPECS

MOBILENET = str(SPECS / "mobilenet_v1.yaml")
LENET = str(SPECS / "lenet5.yaml")


def cli_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["summary", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def spec_error(*args, **kwargs) -> paramcalc.SpecError:
    with pytest.raises(paramcalc.SpecError) as caught:
        paramcalc.analyze(*args, **kwargs)
    return caught.value


# ---- the documented session ----------------------------------------------------------------------

def test_the_readme_session():
    report = paramcalc.analyze(MOBILENET, alpha=0.5, res=160)
    figures = cli_json(MOBILENET, "--set", "alpha=0.5", "--set", "res=160")
    assert (report.total_params, report.trainable_params, report.total_macs, report.total_flops) == (
        figures["total_params"], figures["trainable_params"], figures["total_macs"], figures["total_flops"])
    assert report.output_shape == (None, 1000)
    first = report.layers[0]
    assert (first.name, first.output_shape, first.params, first.macs) == ("conv1", (None, 80, 80, 16), 432, 2_764_800)
    assert report.to_dict() == figures  # equal to `paramcalc summary --format json`


def test_print_is_the_summary_table_and_table_takes_a_width():
    report = paramcalc.analyze(LENET)
    for width, args in ((None, []), (80, ["--width", "80"])):
        printed = CliRunner().invoke(cli, ["summary", "--no-color", *args, LENET]).stdout
        text = report.table(width=width) if width else str(report)
        assert text.splitlines() == [line.rstrip() for line in printed.rstrip("\n").splitlines()]
    assert max(len(line) for line in report.table(width=80).splitlines()) <= 80
    assert "\x1b[" not in str(report)  # plain text, no colour codes


def test_repr_is_one_line_and_html_is_a_table_for_jupyter():
    report = paramcalc.analyze(LENET)
    assert repr(report) == "<Report 'lenet5': 8 layers, 61,706 params, 416,520 MACs>"
    assert repr(report.layers[0]) == "<Layer 'conv2d' (Conv2D): output (None, 28, 28, 6), 156 params, 117,600 MACs>"
    html = report._repr_html_()
    assert html.count("<tr>") == 1 + len(report.layers)  # the header and one row per layer
    assert all(f"<td>{layer.name} <small>({layer.type})</small></td>" in html for layer in report.layers)
    assert "Total params: 61,706 (241.04 KB)" in html and "Total MACs: 416,520" in html


def test_a_graph_gets_its_connected_to_column_in_html():
    html = paramcalc.analyze(str(SPECS / "resnet50.yaml"))._repr_html_()
    assert "<th>Connected to</th>" in html


def test_convention_counts_apart_and_keeps_macs():
    paper = paramcalc.analyze(MOBILENET)
    fvcore = paramcalc.analyze(MOBILENET, convention="fvcore")
    figures = cli_json(MOBILENET, "--convention", "fvcore")
    assert fvcore.total_macs == paper.total_macs  # multiply-accumulates, whatever the convention
    assert (fvcore.convention_total, fvcore.convention_unit) == (figures["convention"]["total"], "MACs")
    assert fvcore.convention_total != paper.total_macs
    assert fvcore.to_dict() == figures
    assert "MACs (fvcore)" in fvcore.table()


def test_an_unknown_convention_is_a_value_error_with_the_choices():
    with pytest.raises(ValueError, match=r"unknown convention 'fvcor'; did you mean `fvcore`\?.*torchinfo"):
        paramcalc.analyze(LENET, convention="fvcor")


# ---- what a spec may be ----------------------------------------------------------------------------

def test_a_spec_is_a_path_text_a_dict_or_a_loaded_spec():
    text = (SPECS / "lenet5.yaml").read_text(encoding="utf-8")
    reports = [paramcalc.analyze(LENET), paramcalc.analyze(Path(LENET)), paramcalc.analyze(text),
               paramcalc.analyze(yaml.safe_load(text)), paramcalc.analyze(paramcalc.load_spec(LENET))]
    figures = {(r.total_params, r.total_macs, tuple(layer.output_shape for layer in r.layers)) for r in reports}
    assert len(figures) == 1
    assert [r.source for r in reports] == [LENET, LENET, "<string>", "<dict>", LENET]


def test_one_line_yaml_text_is_text_and_a_missing_file_is_said_so():
    assert paramcalc.analyze("{input: [8], layers: [{Dense: 4}]}").total_params == 36
    error = spec_error("specs/no_such_model.yaml")
    assert error.message == "there is no file `specs/no_such_model.yaml`" and error.path == "specs/no_such_model.yaml"


def test_a_dict_spec_takes_python_values():
    report = paramcalc.analyze({"input": (28, 28, 1), "vars": {"width": 8},
                                "layers": [{"Conv2D": {"filters": "2 * width", "kernel_size": 3}}, "Flatten",
                                           {"Dense": 10}]})
    assert report.output_shape == (None, 10) and report.layers[0].output_shape == (None, 26, 26, 16)


@pytest.mark.parametrize("spec, where, message", [
    ({"input": [8], "layers": [{"Dense": 0}]}, "<dict>['layers'][0]['Dense']",
     "Dense `units` must be a positive integer; got 0"),
    ({"input": [8], "layers": [{"Dense": {"units": 4, "use_bias": "no"}}]}, "<dict>['layers'][0]['Dense']['use_bias']",
     "Dense `use_bias` must be true or false; got 'no'"),
    ({"input": [8], "layers": [{"Dense": {"units": {1, 2}}}]}, "<dict>['layers'][0]['Dense']['units']",
     "a spec value must be a number, a string, true/false, None, a list or a dict; got a set"),
    ({"input": [8], 3: 4, "layers": []}, "<dict>", "the key 3 is not a string"),
])
def test_a_mistake_in_a_dict_is_located_by_its_place_in_the_dict(spec, where, message):
    error = spec_error(spec)
    assert (error.path, error.line, error.column, error.message) == (where, None, None, message)
    assert str(error).startswith(f"{where}: error: {message}")


def test_a_circular_dict_is_refused_not_a_recursion_error():
    spec: dict = {"input": [8]}
    spec["layers"] = [spec]
    assert "nests lists and mappings more than" in spec_error(spec).message


# ---- errors, in Python's words ----------------------------------------------------------------------

def test_the_readme_error_example():
    error = spec_error({"input": [8], "layers": [{"Dense": 0}]})
    assert isinstance(error, paramcalc.SpecError)
    assert (error.path, error.line, error.column) == ("<dict>['layers'][0]['Dense']", None, None)
    assert (error.message, error.hint) == ("Dense `units` must be a positive integer; got 0",
                                           "make `units` a positive integer.")
    assert error.errors == [error]


def test_errors_in_text_have_a_line_and_column():
    error = spec_error("input: [8]\nlayers:\n  - Dense: {units: 4, kernal: 3}\n")
    assert (error.path, error.line, error.column) == ("<string>", 3, 23)


def test_every_mistake_of_one_run_is_a_spec_error():
    error = spec_error("input: [8, 8, 3]\nlayers:\n  - Conv2D: {filters: 0, kernel_size: 3}\n"
                       "  - Dense: -1\n  - Conv2DD: 3\n")
    assert isinstance(error, paramcalc.SpecError) and len(error.errors) == 3
    assert [e.line for e in error.errors] == [3, 4, 5]


def test_variables_take_python_numbers():
    half = paramcalc.analyze(MOBILENET, alpha=0.5, res=160)
    for alpha in (Fraction(1, 2), "0.5", "1/2"):
        assert paramcalc.analyze(MOBILENET, alpha=alpha, res=160).total_macs == half.total_macs
    assert paramcalc.analyze(MOBILENET, variables={"alpha": 0.5, "res": 160}).total_params == half.total_params


def test_a_variable_of_the_wrong_type_or_name_speaks_python():
    error = spec_error(MOBILENET, alpha=[0.5])
    assert (error.path, error.message) == ("analyze(alpha=[0.5])",
                                           "variable `alpha` takes a number, true or false, or a word; got a list")
    error = spec_error(MOBILENET, alfa=0.5)
    assert error.message == "analyze(alfa=0.5): the spec has no variable `alfa`"
    assert error.hint == "did you mean `alpha`?"


def test_a_bad_value_says_it_came_from_analyze():
    error = spec_error(MOBILENET, alpha=-1)
    assert [e.line for e in error.errors] == [32, 26]  # the top-level conv, then the block's once
    assert all(e.origin == "analyze(alpha=-1)" for e in error.errors)
    assert "the value comes from analyze(alpha=-1)" in str(error) and "--set" not in str(error)


FLAG = re.compile(r"--[a-z]")


@pytest.mark.parametrize("path", sorted((ROOT / "tests" / "bad_specs").glob("*.yaml")), ids=lambda p: p.stem)
def test_no_error_of_the_api_names_a_command_line_flag(path):
    try:
        paramcalc.analyze(path)
    except paramcalc.SpecError as error:
        assert not FLAG.search(str(error)), str(error)


def test_limits_are_named_as_this_functions_arguments():
    error = spec_error("input: [4]\nlayers:\n  - Dense: {units: 2, repeat: 5}\n", max_layers=3)
    assert "raise the limit with `max_layers=`" in str(error)
    error = spec_error("input: [H]\nlayers:\n  - Reshape: [2, -1]\n")
    assert not FLAG.search(str(error))


# ---- the module's public names ---------------------------------------------------------------------

def test_dir_shows_the_public_names_and_each_can_be_reached():
    assert set(paramcalc.__all__) <= set(dir(paramcalc))
    assert set(paramcalc.__all__) == {"__version__", "analyze", "Report", "Layer", "SpecError", "json_schema",
                                      "load_spec", "parse_spec", "from_torch"}
    for name in paramcalc.__all__:
        assert getattr(paramcalc, name) is not None
    assert not [name for name in dir(paramcalc) if not name.startswith("__") and name not in paramcalc.__all__]
    with pytest.raises(AttributeError):
        paramcalc.nothing_here  # noqa: B018


def test_importing_paramcalc_loads_nothing_until_used():
    code = "import sys, paramcalc; print(sorted(m for m in sys.modules if m.startswith(('paramcalc.', 'yaml'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"


def test_report_and_layer_are_the_classes_analyze_returns():
    report = paramcalc.analyze(LENET)
    assert isinstance(report, paramcalc.Report) and isinstance(report.layers[0], paramcalc.Layer)


def test_the_readme_python_session_runs_as_written(monkeypatch):
    import doctest

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Python\n"):]
    block = section[section.index("```python\n") + len("```python\n"):section.index("\n```\n")]
    monkeypatch.chdir(ROOT)  # the session's paths are the repository's
    test = doctest.DocTestParser().get_doctest(block, {}, "README.md (## Python)", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0 and runner.tries > 10


def test_load_spec_takes_python_values_and_names_them_in_errors():
    spec = paramcalc.load_spec(MOBILENET, overrides={"alpha": 0.5, "res": 160})  # a TypeError before
    assert paramcalc.analyze(spec).total_macs == paramcalc.analyze(MOBILENET, alpha=0.5, res=160).total_macs
    with pytest.raises(paramcalc.SpecError, match=r"overrides\['alfa'\] = 0.5: the spec has no variable `alfa`"):
        paramcalc.load_spec(MOBILENET, overrides={"alfa": 0.5})
    error = spec_error(paramcalc.load_spec(MOBILENET, overrides={"alpha": -1}))
    assert error.errors[0].origin == "overrides['alpha'] = -1"
    with pytest.raises(TypeError, match="variables cannot be set on a spec that is already loaded"):
        paramcalc.analyze(spec, alpha=1)
    text = (SPECS / "lenet5.yaml").read_text(encoding="utf-8")
    assert paramcalc.analyze(paramcalc.parse_spec(text, "lenet.yaml")).total_params == 61706
