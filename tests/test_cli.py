"""The command line through click's CliRunner, and once through a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import ROOT, SPECS

LENET = str(SPECS / "lenet5.yaml")


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_summary_table_has_keras_columns_rows_and_footer():
    result = invoke("summary", LENET)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for header in ("Layer (type)", "Output Shape", "Param #", "MACs"):
        assert header in out
    assert 'Model: "lenet5"' in out
    assert "conv2d (Conv2D)" in out and "conv2d_1 (Conv2D)" in out and "dense_2 (Dense)" in out
    assert "(None, 28, 28, 6)" in out
    assert "48,120" in out
    assert "Total params: 61,706 (241.04 KB)" in out
    assert "Trainable params: 61,706 (241.04 KB)" in out
    assert "Non-trainable params: 0 (0.00 B)" in out
    assert "Total MACs: 416,520" in out
    assert "Total FLOPs: 833,040" in out and "2 x MACs" in out
    assert "Activations: 8,494 values per sample (33.18 KB at float32)" in out


def test_summary_rows_sum_to_the_footer():
    """Re-read the printed table: its Param # and MACs columns add up to the printed totals."""
    out = invoke("summary", str(SPECS / "mobilenet_v1.yaml")).stdout
    rows = [line.split("│") for line in out.splitlines() if line.startswith("│")]
    params = sum(int(cells[3].strip().replace(",", "")) for cells in rows)
    macs = sum(int(cells[4].strip().replace(",", "")) for cells in rows)
    assert f"Total params: {params:,} " in out
    assert f"Total MACs: {macs:,} " in out


def test_summary_json_keys_and_values():
    result = invoke("summary", "--format", "json", LENET)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    for key in ("name", "input_shape", "layers", "total_params", "trainable_params", "non_trainable_params",
                "total_macs", "total_flops", "warnings"):
        assert key in data
    assert data["name"] == "lenet5"
    assert data["input_shape"] == [None, 32, 32, 1]
    assert data["total_params"] == 61_706 and data["total_flops"] == 2 * data["total_macs"]
    first = data["layers"][0]
    assert first == {"name": "conv2d", "type": "Conv2D", "output_shape": [None, 28, 28, 6],
                     "output_shapes": [[None, 28, 28, 6]], "params": 156,
                     "trainable_params": 156, "non_trainable_params": 0, "macs": 117_600, "convention_count": 117_600,
                     "activations": 4_704,
                     "inputs": ["input"], "block_path": [], "line": 7}
    assert sum(layer["params"] for layer in data["layers"]) == data["total_params"]
    assert sum(layer["macs"] for layer in data["layers"]) == data["total_macs"]


def test_summary_json_warnings():
    text = (SPECS / "alexnet.yaml").read_text().replace("[3, 227, 227]", "[3, 224, 224]")
    text = text.replace("in_features: 9216, ", "")
    data = json.loads(invoke("summary", "--format", "json", "-", input=text).stdout)
    assert data["warnings"][0]["layer"] == "conv2d"
    assert "54.25" in data["warnings"][0]["message"]
    assert data["name"] == "alexnet"


def test_summary_reads_standard_input():
    result = invoke("summary", "-", input=(SPECS / "basic_cnn.yaml").read_text())
    assert result.exit_code == 0
    assert "Total params: 13,602" in result.stdout


def test_table_warnings_are_printed_under_the_table():
    result = invoke("summary", "-", input="input: [11, 11, 1]\nlayers: [{MaxPooling2D: 2}]\n")
    assert result.exit_code == 0
    assert "Warnings (1)" in result.stdout
    assert "(11 - 2 + 0)/2 + 1 = 5.5" in result.stdout


def test_no_color_output_has_no_escape_codes():
    result = invoke("summary", "--no-color", LENET)
    assert "\x1b[" not in result.stdout


@pytest.mark.parametrize("args", [["--help"], ["summary", "--help"]])
def test_help_explains_conventions(args):
    result = invoke(*args)
    assert result.exit_code == 0
    assert "MACs" in result.stdout and "FLOPs = 2 x MACs" in result.stdout
    assert "non-trainable" in result.stdout


def test_missing_file_is_exit_2_with_a_clear_message():
    result = invoke("summary", "nope/missing.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith("nope/missing.yaml: error: there is no file `nope/missing.yaml`")
    assert "Traceback" not in result.output


def test_unknown_format_is_a_usage_error():
    assert invoke("summary", "--format", "xml", LENET).exit_code == 2


def test_installed_entry_point_as_a_subprocess(tmp_path):
    """`python -m paramcalc` runs the same `main()` as the console script: exit codes and streams."""
    ok = subprocess.run([sys.executable, "-m", "paramcalc", "summary", "--format", "json", LENET],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and json.loads(ok.stdout)["total_params"] == 61_706
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [8, 8, 1]\nlayers: [{Conv2D: {filters: 4, kernel_size: 9}}]\n")
    failed = subprocess.run([sys.executable, "-m", "paramcalc", "summary", str(bad)],
                            capture_output=True, text=True, cwd=ROOT)
    assert failed.returncode == 2
    assert "Traceback" not in failed.stderr
    assert (f"{bad}:2:32: error: Conv2D: the output height would be (N - F + 2P)/S + 1 = (8 - 9 + 0)/1 + 1 = 0"
            in failed.stderr)


def test_a_missing_dependency_is_an_install_problem_not_a_bug(monkeypatch, capsys):
    import paramcalc.cli as cli_module

    def no_rich(**kwargs):
        raise ModuleNotFoundError("No module named 'rich'", name="rich")

    monkeypatch.setattr(cli_module.cli, "main", no_rich)
    monkeypatch.delenv("PARAMCALC_TRACEBACK", raising=False)
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    assert exited.value.code == 2
    message = capsys.readouterr().err
    assert "needs the package `rich`" in message and "pip install" in message and "bug" not in message
    assert message.count("\n") == 1  # one paragraph
