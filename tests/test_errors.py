"""Bad specs: each gives one located paragraph (file:line:column, what, fix) and exit code 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.errors import ParamcalcError
from paramcalc.spec.yamlnodes import MAX_DEPTH
from tests.conftest import run_text

HEAD = "input: [28, 28, 3]\nlayers:\n"

# (id, spec text, "line:column", fragments the message must contain)
CASES = [
    ("empty file", "", "1:1", ["the spec is empty"]),
    ("not yaml", "input: [28, 28\nlayers: []\n", "2:7", ["not valid YAML"]),
    ("not a mapping", "- Conv2D\n- Dense\n", "1:1", ["must be a mapping"]),
    ("unknown top-level key", "input: [4]\nlayer: []\n", "2:1", ["unknown top-level key `layer`", "`layers`"]),
    ("missing input", "layers: [Flatten]\n", "1:1", ["no `input:`"]),
    ("missing layers", "input: [4]\n", "1:1", ["no `layers:`"]),
    ("empty layers", "input: [4]\nlayers: []\n", "2:9", ["`layers` is empty"]),
    ("input not a list", "input: 28\nlayers: [Flatten]\n", "1:8", ["`input` must be a non-empty list"]),
    ("input dim zero", "input: [28, 0, 3]\nlayers: [Flatten]\n", "1:13", ["at least 1; got 0"]),
    ("input dim float", "input: [28.5, 28, 3]\nlayers: [Flatten]\n", "1:9", ["whole number; got 28.5"]),
    ("bad data_format", "input: [4]\ndata_format: nchw\nlayers: [Flatten]\n", "2:14", ["`data_format` must be one of"]),
    ("duplicate key", HEAD + "  - Conv2D: {filters: 8, filters: 4, kernel_size: 3}\n", "3:26",
     ["`filters` appears twice"]),
    ("unknown layer kind", HEAD + "  - Conv2DD: {filters: 8, kernel_size: 3}\n", "3:5",
     ["unknown layer kind `Conv2DD`", "did you mean `Conv2D`"]),
    ("unknown layer lower case", HEAD + "  - conv2d: {filters: 8, kernel_size: 3}\n", "3:5",
     ["unknown layer kind `conv2d`", "`Conv2D`"]),
    ("unknown argument", HEAD + "  - Conv2D: {filters: 8, kernal_size: 3}\n", "3:26",
     ["Conv2D has no argument `kernal_size`", "did you mean `kernel_size`"]),
    ("missing argument", HEAD + "  - Conv2D: {filters: 8}\n", "3:5", ["Conv2D needs `kernel_size`"]),
    ("string for int", HEAD + "  - Conv2D: {filters: eight, kernel_size: 3}\n", "3:14",
     ["`filters` must be a positive integer; got 'eight'"]),
    ("float kernel", HEAD + "  - Conv2D: {filters: 8, kernel_size: 2.5}\n", "3:26",
     ["`kernel_size` must be 1 or 2 positive integers; got 2.5"]),
    ("bool for number", HEAD + "  - Dense: {units: true}\n", "3:13", ["`units` must be a positive integer; got true"]),
    ("negative filters", HEAD + "  - Conv2D: {filters: -4, kernel_size: 3}\n", "3:14",
     ["`filters` must be a positive integer; got -4"]),
    ("zero filters", HEAD + "  - Conv2D: {filters: 0, kernel_size: 3}\n", "3:14", ["got 0"]),
    ("zero stride", HEAD + "  - Conv2D: {filters: 8, kernel_size: 3, strides: [1, 0]}\n", "3:42",
     ["`strides` must be 1 or 2 positive integers; got [1, 0]"]),
    ("negative stride torch", "data_format: channels_first\ninput: [3, 8, 8]\nlayers:\n"
     "  - Conv2d: {out_channels: 4, kernel_size: 3, stride: -1}\n", "4:47", ["`stride` must be"]),
    ("zero dilation", HEAD + "  - Conv2D: {filters: 8, kernel_size: 3, dilation_rate: 0}\n", "3:42",
     ["`dilation_rate` must be"]),
    ("bad padding word", HEAD + "  - Conv2D: {filters: 8, kernel_size: 3, padding: full}\n", "3:42",
     ["`padding` must be 'valid' or 'same'"]),
    ("kernel larger than input", HEAD + "  - Conv2D: {filters: 8, kernel_size: 29}\n", "3:26",
     ["output height would be (N - F + 2P)/S + 1 = (28 - 29 + 0)/1 + 1 = 0", "kernel spans 29"]),
    ("shape goes to zero later", HEAD + "  - MaxPooling2D: 8\n  - MaxPooling2D: 8\n", "4:5",
     ["output height would be", "(3 - 8 + 0)/8 + 1 = 0"]),
    ("conv on flat input", HEAD + "  - Flatten\n  - Conv2D: {filters: 8, kernel_size: 3}\n", "4:5",
     ["expects a 3-D input (H, W, C) but gets (2352,)"]),
    ("groups do not divide", HEAD + "  - Conv2D: {filters: 8, kernel_size: 3, groups: 2}\n", "3:42",
     ["`groups` must divide the 3 input channels"]),
    ("in_channels disagree", "data_format: channels_first\ninput: [3, 8, 8]\nlayers:\n"
     "  - Conv2d: {in_channels: 1, out_channels: 4, kernel_size: 3}\n", "4:14",
     ["`in_channels` says 1 but the previous layer gives 3"]),
    ("torch same with stride", "data_format: channels_first\ninput: [3, 8, 8]\nlayers:\n"
     "  - Conv2d: {out_channels: 4, kernel_size: 3, stride: 2, padding: same}\n", "4:58",
     ["cannot be 'same' with a stride above 1"]),
    ("keras stride and dilation", HEAD + "  - Conv2D: {filters: 8, kernel_size: 3, strides: 2, dilation_rate: 2}\n",
     "3:54", ["cannot be above 1 when strides are above 1"]),
    ("reshape mismatch", HEAD + "  - Reshape: {target_shape: [10, 10]}\n", "3:15", ["holds 100 values", "2352"]),
    ("duplicate layer names", HEAD + "  - Dense: {units: 4, name: head}\n  - Dense: {units: 2, name: head}\n", "4:5",
     ["two layers are named `head`"]),
    ("layer item is a list", HEAD + "  - [Conv2D, 3]\n", "3:5", ["a layer must be a layer kind"]),
    ("scalar to a layer whose first argument is a word", HEAD + "  - Flatten: 3\n", "3:5",
     ["Flatten `data_format` must be"]),
    ("scalar to an argumentless layer", HEAD + "  - Sigmoid: 3\n", "3:5", ["Sigmoid `inplace` must be true or false"]),
    ("python tag", "input: !!python/object:os.system [1]\nlayers: [Flatten]\n", "1:8", ["tag", "not allowed"]),
    ("output_padding too large", HEAD + "  - Conv2DTranspose: {filters: 4, kernel_size: 3, strides: 2, "
     "output_padding: 2}\n", "3:63", ["`output_padding` must be smaller than the strides"]),
]


@pytest.mark.parametrize("text, where, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_spec_message_and_location(text, where, fragments):
    with pytest.raises(ParamcalcError) as caught:
        run_text(text, "bad.yaml")
    message = caught.value.describe()
    assert message.startswith(f"bad.yaml:{where}: error: "), message
    for fragment in fragments:
        assert fragment in message, message
    assert "Fix: " in message, message  # every error says how to fix it
    assert "\n" not in message  # one paragraph


@pytest.mark.parametrize("text", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_spec_through_the_cli_exits_2_without_traceback(text, spec_file):
    path = spec_file(text)
    result = CliRunner().invoke(cli, ["summary", path])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:")
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"input: [4]\n# caf\xe9\nlayers: [Flatten]\n")
    result = CliRunner().invoke(cli, ["summary", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:2:6: error: the file is not UTF-8 text")


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


def test_recursive_alias_is_refused():
    with pytest.raises(ParamcalcError, match="refers to itself"):
        run_text("a: &a [1, *a]\ninput: [4]\nlayers: [Flatten]\n")


def test_aliases_within_the_limit_are_fine():
    report = run_text("input: &size [8, 8, 3]\nlayers:\n  - Conv2D: &c {filters: 4, kernel_size: 3}\n  - Conv2D: *c\n")
    assert report.rows[1].output_shape == (None, 4, 4, 4)


def test_several_mistakes_are_reported_in_one_run():
    text = """input: [28, 28, 3]
layers:
  - Conv2D: {filters: 8, kernal_size: 3}
  - Conv2D: {filters: 0, kernel_size: 3}
  - Dense: {units: 10}
  - Dense: {units: -1}
  - Conv2DD: 3
"""
    result = CliRunner().invoke(cli, ["summary", "-"], input=text)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert [line.split(": error: ")[0] for line in lines] == ["<stdin>:3:26", "<stdin>:4:14", "<stdin>:6:13",
                                                               "<stdin>:7:5"]
    assert "did you mean `Conv2D`" in lines[3]


def test_shape_errors_in_independent_branches_are_all_reported():
    text = """input: [8, 8, 3]
layers:
  - Conv2D: {name: a, filters: 4, kernel_size: 9}
  - Conv2D: {name: b, filters: 4, kernel_size: 3, inputs: input}
  - MaxPooling2D: {pool_size: 9, inputs: b}
  - Dense: {units: 2, inputs: a}
"""
    result = CliRunner().invoke(cli, ["summary", "-"], input=text)
    lines = result.stderr.splitlines()
    assert len(lines) == 2  # the Dense reads the failed `a` and is not reported again
    assert lines[0].startswith("<stdin>:3:35: error: Conv2D: the output height would be")
    assert lines[1].startswith("<stdin>:5:5: error: MaxPooling2D: the output height would be")


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
