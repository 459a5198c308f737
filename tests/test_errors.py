"""Bad input that is not one bad spec file: folders, standard input, YAML limits, sizes.

The catalogue of bad specs (one file each, with the expected message and place in its header) is
tests/bad_specs/, run by tests/test_bad_specs.py."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.errors import ParamcalcError
from paramcalc.spec.yamlnodes import MAX_DEPTH
from tests.conftest import run_text


def test_folder_instead_of_file(tmp_path):
    result = CliRunner().invoke(cli, ["summary", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a folder, not a spec file" in result.stderr


def test_stdin_cut_short():
    result = CliRunner().invoke(cli, ["summary", "-"], input="input: [28, 28, 1]\nlayers:\n  - Conv2D: {filters: 8,")
    assert result.exit_code == 2
    assert result.stderr.startswith("<stdin>:")
    assert "not valid YAML" in result.stderr


def test_alias_bomb_is_refused_quickly():
    """A "billion laughs" document (10^9 values through 9 levels of aliases) is refused, located."""
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    for i in range(1, 9):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]\n"
    with pytest.raises(ParamcalcError) as caught:
        run_text(bomb + "input: [4]\nlayers: [Flatten]\n", "bomb.yaml")
    assert caught.value.describe().startswith("bomb.yaml:7:4: error: the YAML expands to more than 10,000,000 values")


def test_the_alias_limit_can_be_raised():
    aliases = "description: {a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], b: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\n"
    text = aliases + "input: [4]\nlayers: [Flatten]\n"
    low = CliRunner().invoke(cli, ["summary", "--max-yaml-values", "50", "-"], input=text)
    assert low.exit_code == 2 and "expands to more than 50 values" in low.stderr and "--max-yaml-values" in low.stderr
    assert CliRunner().invoke(cli, ["summary", "--max-yaml-values", "500", "-"], input=text).exit_code == 0


def test_aliases_within_the_limit_are_fine():
    report = run_text("input: &size [8, 8, 3]\nlayers:\n  - Conv2D: &c {filters: 4, kernel_size: 3}\n  - Conv2D: *c\n")
    assert report.rows[1].output_shape == (None, 4, 4, 4)


# -- limits: clear refusals instead of exhaustion -------------------------------------------------------

def test_enormous_repeat_is_refused_and_the_limit_can_be_raised():
    text = "input: [4]\nlayers:\n  - Dense: {units: 4, repeat: 2000000}\n"
    result = CliRunner().invoke(cli, ["summary", "-"], input=text)
    assert result.exit_code == 2
    assert "`repeat: 2,000,000` is more than the limit of 1,000,000 layers" in result.stderr
    assert "--max-layers" in result.stderr
    small = "input: [4]\nlayers:\n  - Dense: {units: 4, repeat: 30}\n"
    assert CliRunner().invoke(cli, ["summary", "--max-layers", "20", "-"], input=small).exit_code == 2
    assert CliRunner().invoke(cli, ["summary", "--max-layers", "30", "-"], input=small).exit_code == 0


def test_nested_repeats_stop_at_the_layer_limit():
    text = """input: [4]
blocks:
  inner: {layers: [{Dense: {units: 4, repeat: 1000}}]}
layers:
  - inner: {repeat: 1000}
"""
    result = CliRunner().invoke(cli, ["summary", "--max-layers", "50000", "-"], input=text)
    assert result.exit_code == 2 and "expands to more than 50,000 layers" in result.stderr


def test_absurd_dimensions_give_exact_integers():
    big = 10**200
    report = run_text(f"input: [{big}, 3]\nlayers: [{{Conv1D: {{filters: 2, kernel_size: 3}}}}, Flatten, {{Dense: 1}}]")
    assert report.rows[0].output_shape == (None, big - 2, 2)
    assert report.rows[0].macs == (big - 2) * 2 * 3 * 3
    assert report.total_params == (2 * 3 * 3 + 2) + (2 * (big - 2) + 1)
    result = CliRunner().invoke(cli, ["summary", "--format", "json", "-"],
                                input=f"input: [{big}, 3]\nlayers: [{{Dense: 4}}]")
    assert result.exit_code == 0 and str(big * 3 * 4) in result.stdout
    assert CliRunner().invoke(cli, ["summary", "-"], input=f"input: [{big}, 3]\nlayers: [{{Dense: 4}}]").exit_code == 0


def test_numbers_with_thousands_of_digits_are_refused_clearly():
    result = CliRunner().invoke(cli, ["summary", "-"], input=f"input: [{'9' * 5000}]\nlayers: [Flatten]")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "cannot read the value" in result.stderr


def test_deep_nesting_is_refused():
    for depth in (MAX_DEPTH + 1, 1_001, 5_000):  # refused by us, or first by libyaml's own limit of 1,000
        text = "input: " + "[" * depth + "]" * depth + "\nlayers: [F]"
        result = CliRunner().invoke(cli, ["summary", "-"], input=text)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert f"nested too deeply (more than {MAX_DEPTH} lists and mappings" in result.stderr
        assert "flatten the nesting" in result.stderr
    deep = "(" * 3000 + "1" + ")" * 3000
    result = CliRunner().invoke(cli, ["summary", "-"], input=f'input: [4]\nlayers: [{{Dense: "{deep}"}}]')
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_huge_scientific_exponent_in_expect_is_refused():
    text = "input: [4]\nlayers: [{Dense: 2}]\nexpect: {macs: 15E70264320}\n"
    result = CliRunner().invoke(cli, ["check", "-"], input=text)
    assert result.exit_code == 2 and "too large a count" in result.stdout
