"""Issue 12, the spec side: hyphenated words, the data format a spec implies, names of repeated
items, block arguments naming missing layers, and counting conventions in machine-readable output.
Every case runs through the CLI; expected figures come from the framework fixtures."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import FIXTURES, SPECS


@cache
def fixture_case(name: str, case_id: str) -> dict[str, Any]:
    cases = json.loads((FIXTURES / name).read_text())["cases"]
    return next(c for c in cases if c["id"] == case_id)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def summary_json(path: str, *options: str) -> dict[str, Any]:
    result = invoke("summary", "--format", "json", *options, path)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(path: str) -> str:
    """The one-paragraph error of a spec paramcalc must refuse (exit 2, no traceback)."""
    result = invoke("summary", path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stderr.startswith(f"{path}:")
    message = result.stderr.strip()
    assert "\n" not in message and "Fix: " in message
    return message


def spec_text(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False)


def torch_rows(case: dict[str, Any]) -> list[tuple]:
    return [(tuple(layer["output_shape"]), layer["params"]) for layer in case["layers"]]


def our_rows(data: dict[str, Any]) -> list[tuple]:
    return [(tuple(layer["output_shape"]), layer["params"]) for layer in data["layers"]]


# -- hyphenated words ------------------------------------------------------------------------------

def test_a_hyphenated_mode_stays_a_word(spec_file):
    """`mode: nearest-exact` written plainly was read as `nearest - exact` ("`nearest` is not defined")."""
    case = fixture_case("torch_layers.json", "Upsample/nearest-exact")
    path = spec_file("input: [3, 8, 8]\ndata_format: channels_first\n"
                     "layers:\n  - Upsample: {scale_factor: 2, mode: nearest-exact}\n")
    data = summary_json(path)
    assert tuple(data["output_shape"]) == tuple(case["output_shape"])  # PyTorch's (None, 3, 16, 16)
    assert our_rows(data) == torch_rows(case)


def test_hyphens_between_defined_names_or_with_numbers_still_subtract(spec_file):
    """`res-1` (a name and a number) and `width-pad` (two defined names) are subtractions: the spec
    gives exactly what the same spec with the values written out gives."""
    head = "vars: {res: 9, pad: 1, width: 5}\n"
    with_names = spec_file(head + "input: [res-1, res-1, 3]\n"
                           "layers:\n  - Conv2D: {filters: width-pad, kernel_size: 3}\n", "names.yaml")
    written = spec_file(head + "input: [8, 8, 3]\nlayers:\n  - Conv2D: {filters: 4, kernel_size: 3}\n", "numbers.yaml")
    a, b = summary_json(with_names), summary_json(written)
    assert (a["input_shape"], a["layers"], a["total_macs"]) == (b["input_shape"], b["layers"], b["total_macs"])


def test_a_misspelt_name_in_a_subtraction_is_still_reported(spec_file):
    path = spec_file("vars: {width: 4}\ninput: [8, 8, 3]\nlayers:\n  - Conv2D: {filters: widht-1, kernel_size: 3}\n")
    message = refused(path)
    assert message.startswith(f"{path}:4:23: error: `widht` is not defined")
    assert "width" in message


def test_spaces_make_a_hyphen_an_operator(spec_file):
    path = spec_file("input: [8, 8, 3]\nlayers:\n  - Upsample: {scale_factor: 2, mode: nearest - exact}\n")
    assert "`nearest` is not defined" in refused(path)


def test_a_hyphenated_word_is_no_condition(spec_file):
    path = spec_file("input: [8]\nlayers:\n  - Dense: {units: 4, when: big-model}\n")
    assert "`big` is not defined" in refused(path)


def test_set_accepts_a_hyphenated_word(spec_file):
    path = spec_file("vars: {mode: nearest}\ninput: [3, 8, 8]\ndata_format: channels_first\n"
                     "layers:\n  - Upsample: {scale_factor: 2, mode: mode}\n")
    case = fixture_case("torch_layers.json", "Upsample/nearest-exact")
    data = summary_json(path, "--set", "mode=nearest-exact")
    assert our_rows(data) == torch_rows(case)


# -- the data format a spec implies -----------------------------------------------------------------

def test_pytorch_spelling_without_data_format_reads_channels_first(spec_file):
    """`input: [3, 32, 32]` then `Conv2d` gave 4,624 params (read as 32 channels); PyTorch says 448."""
    case = fixture_case("torch_layers.json", "Conv2d/no-data-format")
    assert "data_format" not in case["spec"]
    path = spec_file("input: [3, 32, 32]\nlayers:\n  - Conv2d: {out_channels: 16, kernel_size: 3}\n")
    data = summary_json(path)
    assert data["data_format"] == "channels_first"
    assert (data["total_params"], tuple(data["output_shape"]), data["total_macs"]) == (
        case["params"], tuple(case["output_shape"]), case["macs"])


def test_a_pytorch_model_without_data_format_matches_pytorch_layer_by_layer(spec_file):
    """Batch norm, pooling, Linear and LayerNorm follow the convolution's vocabulary."""
    case = fixture_case("torch_layers.json", "model/no-data-format-conv-bn-pool-linear")
    data = summary_json(spec_file(spec_text(case["spec"])))
    assert our_rows(data) == torch_rows(case)
    assert (data["total_params"], data["total_macs"]) == (case["params"], case["macs"])


def test_stated_in_channels_agree_once_the_format_is_implied(spec_file):
    """With `in_channels: 3` the spec used to fail with 'set in_channels: 32'."""
    case = fixture_case("torch_layers.json", "Conv2d/no-data-format")
    data = summary_json(spec_file(spec_text(case["spec"])))  # states in_channels: 3
    assert data["total_params"] == case["params"]


@pytest.mark.parametrize("case_id", ["BatchNorm2d/no-data-format", "GroupNorm/no-data-format"])
def test_a_pytorch_normalisation_alone_decides_the_format(spec_file, case_id):
    """They read the channel axis: `BatchNorm2d: {num_features: 3}` on [3, 32, 32] said 'set num_features: 32'."""
    case = fixture_case("torch_layers.json", case_id)
    data = summary_json(spec_file(spec_text(case["spec"])))
    assert data["data_format"] == "channels_first"
    assert our_rows(data) == torch_rows(case)


def test_a_stated_channel_count_of_the_other_layout_points_at_the_data_format(spec_file):
    path = spec_file("input: [3, 32, 32]\ndata_format: channels_last\nlayers:\n"
                     "  - Conv2d: {in_channels: 3, out_channels: 16, kernel_size: 3}\n")
    message = refused(path)
    assert f"{path}:4:14:" in message
    assert "`in_channels` says 3 but the input (3, 32, 32) is read channels last" in message
    assert "data_format: channels_first" in message and "set in_channels: 32" not in message


def test_a_pytorch_block_decides_the_format(spec_file):
    case = fixture_case("torch_layers.json", "Conv2d/no-data-format")
    path = spec_file("input: [3, 32, 32]\nblocks:\n  stem:\n    layers:\n"
                     "      - Conv2d: {in_channels: 3, out_channels: 16, kernel_size: 3}\n"
                     "layers:\n  - stem\n")
    data = summary_json(path)
    assert (data["total_params"], tuple(data["output_shape"])) == (case["params"], tuple(case["output_shape"]))


def test_layers_on_the_last_axis_do_not_decide(spec_file):
    """Linear among Keras spatial layers is fine, and a Keras spec stays channels_last."""
    keras = fixture_case("keras_layers.json", "chain/conv-pool-conv-pool-flatten-dense")
    path = spec_file(spec_text({k: v for k, v in keras["spec"].items() if k != "data_format"}))
    data = summary_json(path)
    assert data["data_format"] == "channels_last" and data["total_params"] == keras["params"]
    mixed = spec_file("input: [3, 32, 32]\nlayers:\n  - Linear: 8\n  - Conv2d: {out_channels: 4, kernel_size: 3}\n"
                      "  - LayerNorm: {normalized_shape: 6}\n", "last_axis.yaml")
    assert summary_json(mixed)["data_format"] == "channels_first"


def test_mixed_spatial_vocabularies_without_data_format_are_refused(spec_file):
    path = spec_file("input: [3, 32, 32]\nlayers:\n  - Conv2d: {in_channels: 3, out_channels: 16, kernel_size: 3}\n"
                     "  - ReLU\n  - MaxPooling2D: 2\n")
    message = refused(path)
    assert message.startswith(f"{path}:5:5: error: ")
    assert "Conv2d (line 3)" in message and "MaxPooling2D (line 5)" in message
    assert "data_format: channels_first" in message and "in_channels" not in message


def test_a_stated_data_format_is_kept(spec_file):
    """The Keras fixture's channels_first chain, and a PyTorch layer read channels_last when told so."""
    keras = fixture_case("keras_layers.json", "chain/channels-first-conv-pool-flatten-dense")
    assert summary_json(spec_file(spec_text(keras["spec"])))["data_format"] == "channels_first"
    path = spec_file("input: [32, 32, 3]\ndata_format: channels_last\nlayers:\n"
                     "  - Conv2d: {out_channels: 16, kernel_size: 3}\n", "told.yaml")
    case = fixture_case("torch_layers.json", "Conv2d/no-data-format")
    data = summary_json(path)
    assert data["data_format"] == "channels_last" and data["total_params"] == case["params"]


# -- the name of a repeated item --------------------------------------------------------------------

REPEATED = "graph/repeat-name-means-last-repetition"


def test_the_name_of_a_repeated_item_means_its_last_repetition(spec_file):
    """`inputs: down` read the first repetition: Dense got 20,490 params; Keras says 5,130."""
    keras = fixture_case("keras_layers.json", REPEATED)
    data = summary_json(spec_file(spec_text(keras["spec"])))
    assert [(x["name"], x["type"], tuple(x["output_shape"]), x["params"]) for x in data["layers"]] == [
        (k["name"], k["type"], tuple(k["output_shape"]), k["params"]) for k in keras["layers"]]
    assert data["total_params"] == keras["params"]
    assert [x["inputs"] for x in data["layers"]][2] == ["down_2"]


def test_every_repetition_stays_reachable_by_its_indexed_name(spec_file):
    keras = fixture_case("keras_layers.json", REPEATED)
    spec = json.loads(json.dumps(keras["spec"]))
    spec["layers"][1] = {"Flatten": {"inputs": "down_1"}}
    data = summary_json(spec_file(spec_text(spec)))
    rows = {x["name"]: x for x in data["layers"]}
    assert rows["flatten"]["inputs"] == ["down_1"]
    assert rows["flatten"]["activations"] == rows["down_1"]["activations"]  # 16 x 16 x 8, not 8 x 8 x 8


def test_outputs_may_name_a_repeated_item(spec_file):
    keras = fixture_case("keras_layers.json", REPEATED)
    spec = {**keras["spec"], "outputs": ["down"]}
    data = summary_json(spec_file(spec_text(spec)))
    assert list(data["outputs"]) == ["down_2"]
    assert data["outputs"]["down_2"] == keras["layers"][1]["output_shape"]


def test_a_repeated_block_instance_name_means_its_last_repetition(spec_file):
    keras = fixture_case("keras_layers.json", REPEATED)
    down = keras["spec"]["layers"][0]["Conv2D"]
    conv = {k: v for k, v in down.items() if k not in ("name", "repeat")}
    spec = {"input": keras["spec"]["input"],
            "blocks": {"stage": {"layers": [{"Conv2D": {"name": "conv", **conv}}]}},
            "layers": [{"stage": {"name": "down", "repeat": 2}}, {"Flatten": {"inputs": "down"}}, {"Dense": 10}]}
    data = summary_json(spec_file(spec_text(spec)))
    assert [x["params"] for x in data["layers"]] == [k["params"] for k in keras["layers"]]
    assert data["layers"][2]["inputs"] == ["down_2.conv"]


# -- block arguments naming missing layers -----------------------------------------------------------

BLOCK = """input: [8, 8, 3]
blocks:
  b:
    args: {skip: null}
    layers:
      - Conv2D: {filters: 3, kernel_size: 1, padding: same}
      - Add: {inputs: [conv2d, skip]}
"""


def test_a_block_argument_naming_a_missing_layer_is_reported_at_the_instance(spec_file):
    path = spec_file(BLOCK + "layers:\n  - Conv2D: {filters: 3, kernel_size: 1, name: first}\n"
                     "  - b: {skip: frist}\n")
    message = refused(path)
    assert message.startswith(f"{path}:10:15: error: "), message
    assert "`frist`" in message and "`first`" in message  # the missing name, and a suggestion


def test_a_missing_layer_passed_through_nested_blocks_is_reported_where_it_is_written(spec_file):
    path = spec_file(BLOCK + "  outer:\n    args: {skip: null}\n    layers:\n      - b: {skip: skip}\n"
                     "layers:\n  - outer: {skip: nosuch}\n")
    message = refused(path)
    assert message.startswith(f"{path}:13:19: error: "), message
    assert "`nosuch`" in message


def test_a_block_argument_naming_a_layer_still_works(spec_file):
    path = spec_file(BLOCK + "layers:\n  - Conv2D: {filters: 3, kernel_size: 1, name: first}\n"
                     "  - b: {skip: first}\n")
    data = summary_json(path)
    assert data["layers"][-1]["inputs"] == ["b.conv2d", "first"]


# -- fvcore and a convolution whose padding is a word ------------------------------------------------

def fvcore_stock(case: dict[str, Any]) -> int:
    return sum(case.get("fvcore_stock_by_operator", case["fvcore_by_operator"]).values())


def test_fvcore_counts_a_pytorch_convolution_with_word_padding_as_0(spec_file):
    """fvcore 0.1.5 prints 0 for `padding='same'` or `'valid'` (aten::_convolution_mode has no handle)."""
    for word in ("same", "valid"):
        case = fixture_case("torch_layers.json", f"Conv2d/padding-{word}-word-16")
        assert "fvcore_stock_by_operator" in case  # stock fvcore did differ
        path = spec_file("input: [3, 8, 8]\nlayers:\n"
                         f"  - Conv2d: {{out_channels: 16, kernel_size: 3, padding: {word}}}\n", f"{word}.yaml")
        data = summary_json(path, "--convention", "fvcore")
        assert data["convention"]["total"] == fvcore_stock(case)
        assert data["total_macs"] == case["macs"]  # the MACs themselves are unchanged
        assert tuple(data["output_shape"]) == tuple(case["output_shape"])


def test_fvcore_counts_explicit_padding_and_keras_convolutions(spec_file):
    torch_case = fixture_case("torch_layers.json", "Conv2d/stride2-padding1-odd")
    data = summary_json(spec_file(spec_text(torch_case["spec"])), "--convention", "fvcore")
    assert data["convention"]["total"] == fvcore_stock(torch_case) == torch_case["macs"]
    # Keras's Conv2D has its own padding rules; its torch counterpart may be written with numbers.
    keras_case = fixture_case("torch_layers.json", "Conv2D/same-stride1")
    data = summary_json(spec_file(spec_text(keras_case["spec"]), "keras.yaml"), "--convention", "fvcore")
    assert data["convention"]["total"] == sum(keras_case["fvcore_by_operator"].values()) == keras_case["macs"]


def test_conventions_say_so(spec_file):
    case = fixture_case("torch_layers.json", "Conv2d/padding-same-word-16")
    result = invoke("summary", "--conventions", "--format", "json", spec_file(spec_text(case["spec"])))
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout)
    rows = {row["convention"]: row for row in table["rows"]}
    assert rows["fvcore"]["total"] == fvcore_stock(case) and rows["paper"]["total"] == case["macs"]
    fvcore_note = next(note for note in table["notes"] if note.startswith("fvcore:"))
    assert "padding written as a word" in fvcore_note and "aten::_convolution_mode" in fvcore_note


# -- machine-readable output under a convention -----------------------------------------------------

MOBILENET = str(SPECS / "mobilenet_v1.yaml")


@cache
def torchvision_model(name: str) -> dict[str, Any]:
    models = json.loads((FIXTURES / "torchvision_models.json").read_text())["models"]
    return next(m for m in models if m["id"] == name)


def test_json_fields_mean_what_they_say_under_a_convention():
    """`--convention flops` made total_macs the FLOPs and total_flops 4 x the MACs."""
    model = torchvision_model("mobilenet_v1_1.0")
    paper = summary_json(MOBILENET)
    for name, tool in (("flop-counter", model["flop_counter_mode"]), ("fvcore", model["fvcore"]["total"])):
        data = summary_json(MOBILENET, "--convention", name)
        assert data["total_macs"] == model["conv_linear_macs"]
        assert data["total_flops"] == 2 * model["conv_linear_macs"]
        assert data["convention"] == {"name": name, "unit": "FLOPs" if name == "flop-counter" else "MACs",
                                      "total": tool}
        assert [layer["macs"] for layer in data["layers"]] == [layer["macs"] for layer in paper["layers"]]
        assert sum(layer["convention_count"] for layer in data["layers"]) == tool
    assert paper["convention"] == {"name": "paper", "unit": "MACs", "total": model["conv_linear_macs"]}
    assert [layer["convention_count"] for layer in paper["layers"]] == [layer["macs"] for layer in paper["layers"]]


def test_csv_markdown_and_table_keep_macs_apart_from_the_convention():
    model = torchvision_model("mobilenet_v1_1.0")
    macs, tool = model["conv_linear_macs"], model["flop_counter_mode"]
    result = invoke("summary", "--format", "csv", "--convention", "flop-counter", MOBILENET)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header, total = lines[0].split(","), lines[-1].split(",")
    assert header[-3:] == ["macs", "convention_count", "is_total"] and total[-1] == "true"
    assert (int(total[header.index("macs")]), int(total[header.index("convention_count")])) == (macs, tool)
    markdown = invoke("summary", "--format", "markdown", "--convention", "flop-counter", MOBILENET).stdout
    assert "| MACs | FLOPs (flop-counter) |" in markdown and f"**{macs:,}** | **{tool:,}**" in markdown
    table = invoke("summary", "--no-color", "--width", "200", "--convention", "flop-counter", MOBILENET).stdout
    assert f"Total MACs: {macs:,}" in table and f"Total FLOPs: {2 * macs:,}" in table
    assert f"Total FLOPs (flop-counter): {tool:,}" in table


def test_by_type_and_two_specs_keep_macs_apart_from_the_convention():
    model = torchvision_model("mobilenet_v1_1.0")
    macs, tool = model["conv_linear_macs"], model["fvcore"]["total"]
    by_type = json.loads(invoke("summary", "--by-type", "--format", "json", "--convention", "fvcore",
                                MOBILENET).stdout)
    assert by_type["totals"][0]["macs"] == macs and by_type["totals"][0]["convention_count"] == tool
    assert "convention_count" in by_type["columns"]
    both = json.loads(invoke("compare", "--format", "json", "--convention", "fvcore", MOBILENET, MOBILENET).stdout)
    figures = {row["figure"]: row["a"] for row in both["rows"]}
    assert (figures["MACs"], figures["FLOPs (2 x MACs)"], figures["MACs (fvcore)"]) == (macs, 2 * macs, tool)


def test_check_under_a_convention_compares_macs_as_counted_and_flops_as_2_x_macs(spec_file):
    model = torchvision_model("mobilenet_v1_1.0")
    text = (SPECS / "mobilenet_v1.yaml").read_text().split("\nexpect:")[0]
    path = spec_file(text + f"\nexpect:\n  macs: {model['fvcore']['total']}\n"
                     f"  flops: {2 * model['conv_linear_macs']}\n")
    result = invoke("check", "--convention", "fvcore", path)
    assert result.exit_code == 0, result.output
    assert invoke("check", path).exit_code == 1  # the paper's MACs differ from fvcore's count
