"""`paramcalc import` of Keras 3 files (issue 18): real `model.to_json()` files and `.keras` archives
(tests/fixtures/import/, written by tests/fixtures/make_import_fixtures.py with Keras), imported,
computed, and compared with Keras's own figures stored beside them."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.engine import analyze
from paramcalc.importers import import_file
from paramcalc.report import Report
from paramcalc.spec.loader import parse_spec
from tests.conftest import FIXTURES

IMPORTS = FIXTURES / "import"
KERAS = json.loads((IMPORTS / "keras_import.json").read_text())["cases"]
ARCHIVES = sorted(p.stem for p in IMPORTS.glob("*.keras"))


def imported(path: Path) -> tuple[str, Report]:
    text = import_file(str(path))
    return text, analyze(parse_spec(text, "imported.yaml"))


def top_level(report: Report, name: str, outputs: list[str] | None = None) -> tuple[Any, int]:
    """(output shape, params) of a top-level Keras layer: its row, or the rows of a nested model's block
    (whose output is its last row, or with several `outputs` (the nested model's), those layers')."""
    rows = [r for r in report.rows if r.name == name]
    if not rows:
        rows = [r for r in report.rows if r.path and r.path[0][0] == name]
    assert rows, f"no row for Keras layer {name}"
    if outputs and len(outputs) > 1:
        by_name = {r.name: r for r in rows}
        return [list(by_name[f"{name}.{out}"].output_shape) for out in outputs], sum(r.params for r in rows)
    last = rows[-1]
    if last.extra_outputs:  # a layer with several outputs (an LSTM's sequence and states): all of them
        return [list(shape) for shape in last.output_shapes], sum(r.params for r in rows)
    return list(last.output_shape), sum(r.params for r in rows)


def nested_outputs(case: str, name: str) -> list[str] | None:
    """The output layers of the nested model `name` in a case's Keras JSON (None for another layer)."""
    layers = json.loads((IMPORTS / f"{case}.json").read_text())["config"]["layers"]
    config = next(layer["config"] for layer in layers if layer.get("name", layer["config"].get("name")) == name)
    if "output_layers" not in config:
        return None
    refs = config["output_layers"]
    return [refs[0]] if isinstance(refs[0], str) else [ref[0] for ref in refs]  # one output: [name, 0, 0]


@pytest.mark.parametrize("case", sorted(KERAS))
def test_imported_keras_json_computes_keras_own_figures(case: str) -> None:
    keras = KERAS[case]
    _, report = imported(IMPORTS / f"{case}.json")
    assert report.total_params == keras["params"]
    assert report.trainable_params == keras["trainable_params"]
    assert report.non_trainable_params == keras["non_trainable_params"]
    outputs = [list(shape) for shape in report.outputs.values()]
    assert outputs == (keras["output_shape"] if isinstance(keras["output_shape"][0], list) else [keras["output_shape"]])
    if case == "mobilenet_v3_small":  # built for any input size: the spec's input is [H, W, 3]
        assert "inputs: {input_layer_11: [H, W, 3]}" in import_file(str(IMPORTS / f"{case}.json"))
    for layer in keras["layers"]:  # every Keras layer under its own name, with its shape and params
        outputs = nested_outputs(case, layer["name"]) if layer["class_name"] in ("Functional", "Sequential") else None
        shape, params = top_level(report, layer["name"], outputs)
        assert params == layer["params"], layer["name"]
        assert same_shape(shape, layer["output_shape"]), (layer["name"], shape, layer["output_shape"])
        for call, keras_shape in enumerate(layer.get("call_output_shapes", [])[1:], start=2):
            # a later call of a shared layer or nested model: its shape, and no weights of its own
            shape, params = top_level(report, f"{layer['name']}_call{call}", outputs)
            assert params == 0 and same_shape(shape, keras_shape), (layer["name"], call, shape, keras_shape)


def same_shape(ours: Any, keras: Any) -> bool:
    """Equal sizes; where Keras leaves a size open (None, an input of any size: MobileNetV3's) the
    spec has a formula in the free dimensions H and W instead."""
    if isinstance(keras, list) and keras and isinstance(keras[0], list):
        return all(same_shape(o, k) for o, k in zip(ours, keras))
    return len(ours) == len(keras) and all(k is None or o == k for o, k in zip(ours, keras)) and all(
        (o is None) == (i == 0) or k is None for i, (o, k) in enumerate(zip(ours, keras)))


@pytest.mark.parametrize("case", ARCHIVES)
def test_a_keras_archive_imports_as_its_json_does_from_config_json_alone(case: str) -> None:
    with zipfile.ZipFile(IMPORTS / f"{case}.keras") as archive:
        assert "config.json" in archive.namelist()
        assert not [n for n in archive.namelist() if n.endswith((".h5", ".npz"))]  # no weights to lean on
    body = [import_file(str(IMPORTS / f"{case}.{ext}")).split("\n", 1)[1] for ext in ("keras", "json")]
    assert body[0] == body[1]  # the same spec; the first comment line names the file


def test_the_spec_reads_as_a_person_writes_it() -> None:
    text, _ = imported(IMPORTS / "lenet5.json")
    assert "  - Conv2D: {name: conv2d, filters: 6, kernel_size: 5, activation: tanh}\n" in text
    assert "initializer" not in text and "dtype" not in text and "strides" not in text  # defaults left out
    assert "  - AveragePooling2D: {name: average_pooling2d, pool_size: 2}\n" in text


def test_a_run_of_identical_layers_folds_into_repeat_with_the_same_names() -> None:
    text, report = imported(IMPORTS / "mlp_repeated.json")
    assert "repeat: 6" in text and text.count("- Dense") == 2
    assert [r.name for r in report.rows] == [layer["name"] for layer in KERAS["mlp_repeated"]["layers"]]


def test_functional_edges_and_names_are_keras_own() -> None:
    text, report = imported(IMPORTS / "branches.json")
    assert "inputs: {image: [28, 28, 3], meta: [10]}" in text and "outputs: [cls, reg]" in text
    rows = {r.name: r for r in report.rows}
    assert rows["add"].inputs == ("branch_a", "branch_b") and rows["concat"].inputs == ("gap", "meta_dense")
    assert rows["branch_b"].inputs == ("stem_relu",) and rows["reg"].inputs == ("drop",)


def test_keras_ops_between_layers_are_merges_or_rescalings() -> None:
    text, report = imported(IMPORTS / "mobilenet_v3_small.json")
    assert "  - Rescaling: {name: add, scale: 1, offset: 3.0}\n" in text  # hard sigmoid: relu6(x + 3) / 6
    assert "  - Rescaling: {name: multiply, scale: 0.16666666666666666}\n" in text
    text, _ = imported(IMPORTS / "convnext_tiny.json")
    assert "- Add: {name: add_9, inputs: [convnext_tiny_stem, convnext_tiny_stage_0_block_0_identity]}" in text


def test_resnet50_keeps_its_residual_edges() -> None:
    _, report = imported(IMPORTS / "resnet50.json")
    rows = {r.name: r for r in report.rows}
    assert rows["conv2_block1_add"].inputs == ("conv2_block1_0_bn", "conv2_block1_3_bn")
    assert rows["conv2_block2_add"].inputs == ("conv2_block1_out", "conv2_block2_3_bn")


def test_a_nested_model_called_twice_is_a_block_and_a_shared_copy_of_it() -> None:
    text, report = imported(IMPORTS / "shared_nested.json")
    assert "- encoder_shared: {name: encoder_call2, inputs: right}" in text
    assert '- BatchNormalization: {name: enc_bn, shares: "encoder.enc_bn"}' in text
    rows = {r.name: r for r in report.rows}
    assert rows["encoder_call2.enc_dense"].params == 0 and rows["encoder.enc_dense"].params == 20 * 32 + 32
    assert rows["encoder_call2.enc_dense"].macs == rows["encoder.enc_dense"].macs > 0
    assert report.non_trainable_params == KERAS["shared_nested"]["non_trainable_params"]  # BN statistics once


def test_a_nested_model_with_two_inputs_and_two_outputs_reads_them_as_keras_wires_them() -> None:
    text, report = imported(IMPORTS / "multi_io_nested.json")
    assert "    args: {b_in: null}\n    output: p\n" in text
    assert "- fusion: {name: fusion, inputs: x1, b_in: x2}" in text
    rows = {r.name: r for r in report.rows}
    assert rows["fusion.fb"].inputs == ("x2",) and rows["cat"].inputs == ("after_p", "fusion.q")
    assert [list(shape) for shape in report.outputs.values()] == KERAS["multi_io_nested"]["output_shape"]
    _, report = imported(IMPORTS / "multi_io_shared.json")
    rows = {r.name: r for r in report.rows}
    assert rows["fusion_call2.fb"].inputs == ("y2",) and rows["fusion_call2.norm_call2"].params == 0
    assert rows["cat"].inputs == ("fusion.p", "fusion.q", "fusion_call2.p", "fusion_call2.q")


def test_a_nested_model_inside_a_shared_nested_model_is_refused_at_the_model(tmp_path: Path) -> None:
    data = json.loads((IMPORTS / "shared_nested.json").read_text())
    layers = data["config"]["layers"]
    at = next(i for i, layer in enumerate(layers) if layer["config"]["name"] == "encoder")
    inner = json.loads(json.dumps(layers[at]))
    tensor = {"class_name": "__keras_tensor__", "config": {"keras_history": ["wrap_in", 0, 0]}}
    inner["inbound_nodes"] = [{"args": [tensor], "kwargs": {}}]
    entry = {"class_name": "InputLayer", "config": {"name": "wrap_in", "batch_shape": [None, 20]}}
    layers[at] = {"class_name": "Functional", "inbound_nodes": layers[at]["inbound_nodes"],
                  "config": {"name": "wrap", "layers": [entry, inner], "input_layers": [["wrap_in", 0, 0]],
                             "output_layers": [["encoder", 0, 0]]}}
    diff = next(layer for layer in layers if layer["config"]["name"] == "diff")
    for tensor in diff["inbound_nodes"][0]["args"][0]:  # the outer model now reads `wrap`
        tensor["config"]["keras_history"][0] = "wrap"
    text = json.dumps(data, indent=1)
    message = refused(tmp_path, text, where=line_column(text, '{\n    "class_name": "Functional"'))
    assert "a nested model inside a nested model that is called more than once" in message and "`wrap_call2`" in message


def test_a_nested_model_is_a_block_and_a_shared_layer_counts_once() -> None:
    text, report = imported(IMPORTS / "nested_functional.json")
    assert "blocks:\n  residual:" in text and "- residual: {name: residual}" in text
    assert [r.name for r in report.rows][:2] == ["residual.res_conv", "residual.res_add"]
    text, report = imported(IMPORTS / "shared_layer.json")
    assert "shares: encoder" in text
    rows = {r.name: r for r in report.rows}
    assert rows["encoder"].params == 672 and rows["encoder_call2"].params == 0  # 20 x 32 + 32, once
    assert rows["encoder_call2"].macs == rows["encoder"].macs and rows["encoder_call2"].inputs == ("right",)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_import_command_writes_the_spec_and_summary_reads_it(tmp_path: Path) -> None:
    out = tmp_path / "lenet5.yaml"
    result = invoke("import", str(IMPORTS / "lenet5.keras"), "-o", str(out))
    assert result.exit_code == 0 and f"wrote {out}" in result.stderr
    summary = invoke("summary", "--format", "json", str(out))
    assert json.loads(summary.stdout)["total_params"] == KERAS["lenet5"]["params"]
    assert invoke("import", str(IMPORTS / "lenet5.keras")).stdout == out.read_text()  # stdout: the same text


def test_summary_of_a_keras_json_says_to_import_it() -> None:
    result = invoke("summary", str(IMPORTS / "lenet5.json"))
    assert result.exit_code == 2
    assert "unknown top-level key" in result.stderr and "paramcalc import FILE" in result.stderr


def refusal(path: Path | str, where: str | None = r"\d+:\d+") -> str:
    """The one-paragraph error of `paramcalc import path` (exit 2), which starts `path:LINE:COL: error: `
    (`where`: that LINE:COL; None: a file-level error, with no line)."""
    result = invoke("import", str(path))
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    message = result.stderr.strip()
    prefix = re.escape(str(path)) + (f":{where}" if where else "") + ": error: "
    assert re.match(prefix, message) and "Fix: " in message and "\n" not in message, message
    return message


def refused(tmp_path: Path, data: Any, name: str = "model.json", where: str | None = r"\d+:\d+") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=1))
    return refusal(path, where)


def line_column(text: str, marker: str, skip: int = 0) -> str:
    """`LINE:COL` of the character `skip` past the first `marker` in `text`, counted here on the text
    itself (a check of the importer's own JSON positions)."""
    offset = text.index(marker) + skip
    return f"{text.count(chr(10), 0, offset) + 1}:{offset - text.rfind(chr(10), 0, offset)}"


def with_layer(layer: dict[str, Any]) -> dict[str, Any]:
    data = json.loads((IMPORTS / "lenet5.json").read_text())
    data["config"]["layers"].insert(2, layer)
    return data


def test_what_cannot_be_mapped_is_refused_with_the_file_and_the_layer(tmp_path: Path) -> None:
    custom = {"module": None, "class_name": "MyBlock", "config": {"name": "my_block", "units": 3}}
    assert "`my_block` is a `MyBlock`" in refused(tmp_path, with_layer(custom))
    odd = {"class_name": "Dense", "config": {"name": "odd", "units": 3, "quantization_mode": "int8"}}
    message = refused(tmp_path, with_layer(odd))
    assert "`quantization_mode" in message and "`odd`" in message
    assert "subclassed" in refused(tmp_path, {"class_name": "MyModel", "config": {"name": "m"}})
    assert "neither a Keras" in refused(tmp_path, {})
    assert "not valid JSON" in refused(tmp_path, "{nope", where="1:2")
    assert "neither a Keras" in refused(tmp_path, {"layers": []}, where="1:1")
    assert "not a `.keras` archive" in refused(tmp_path, "plain text", "model.keras", where=None)
    assert "no such file" in refusal(tmp_path / "missing.json", where=None)


def test_a_layer_paramcalc_computes_differently_is_refused_not_written(tmp_path: Path) -> None:
    wide = {"class_name": "Conv2D", "config": {"name": "too_big", "filters": 4, "kernel_size": [99, 99]}}
    message = refused(tmp_path, with_layer(wide))
    assert "does not compute" in message and "too_big" in message


def test_shares_must_name_the_same_layer_above(spec_file: Any) -> None:
    bad = spec_file("inputs: {a: [4], b: [4]}\nlayers:\n  - Dense: {name: d, units: 3, inputs: a}\n"
                    "  - Dense: {name: e, units: 5, inputs: b, shares: d}\n")
    result = invoke("summary", bad)
    assert result.exit_code == 2 and "`shares: d` must be the same layer" in result.stderr
    missing = spec_file("input: [4]\nlayers:\n  - Dense: {name: e, units: 5, shares: nowhere}\n")
    assert "names no layer above" in invoke("summary", missing).stderr


def test_importing_keras_loads_neither_onnx_nor_the_exporters() -> None:
    from tests.test_startup import modules_after

    loaded = modules_after("import", str(IMPORTS / "lenet5.json"))
    assert "paramcalc.importers.keras" in loaded  # it did run
    assert not loaded & {"onnx", "paramcalc.importers.onnx", "paramcalc.importers.hf", "paramcalc.export"}
    assert not modules_after("--help") & {"paramcalc.importers", "paramcalc.export"}


# ---- every mistake in a JSON input is placed at its line and column (issue 18) ---------------------

LENET = json.loads((IMPORTS / "lenet5.json").read_text())


def lenet_with(change: Any) -> dict[str, Any]:
    """LeNet-5's Keras JSON with `change(layers)` applied to its list of layers (0: the InputLayer)."""
    data = json.loads(json.dumps(LENET))
    change(data["config"]["layers"])
    return data


def set_config(index: int, **values: Any) -> Any:
    return lambda layers: layers[index]["config"].update(values)


# (what is wrong, the change, the marker whose first character the error points at (and how far past it),
#  what the message says); the positions are counted on the written text by line_column
MISTAKES = {
    "unknown layer class": (lambda layers: layers.insert(2, {"class_name": "MyBlock", "config": {"name": "mine"}}),
                            '"MyBlock"', 0, "`mine` is a `MyBlock`"),
    "missing key": (lambda layers: layers[0]["config"].pop("batch_shape"), '"config": {', 10, "no input shape"),
    "wrong type": (set_config(1, filters="six"), '"six"', 0, "does not compute at layer `conv2d`"),
    "unsupported value": (set_config(6, quantization_mode="int8"), '"quantization_mode"', 0,
                          "`quantization_mode: 'int8'`"),
    "value paramcalc refuses": (set_config(1, kernel_size=[99, 99]), '"kernel_size": [', 15,
                                "does not compute at layer `conv2d`"),
}


def without_input_shape(data: dict[str, Any]) -> dict[str, Any]:
    data.pop("build_config", None)
    data["config"].pop("build_input_shape", None)
    data["config"]["layers"].pop(0)  # the InputLayer, whose batch_shape the next line would miss
    return data


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_mistake_in_a_keras_json_is_placed_at_its_value(tmp_path: Path, mistake: str) -> None:
    change, marker, skip, says = MISTAKES[mistake]
    data = lenet_with(change)
    if mistake == "missing key":
        data = without_input_shape(lenet_with(lambda layers: None))
    text = json.dumps(data, indent=1)
    message = refused(tmp_path, data, where=line_column(text, marker, skip))
    assert says in message


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_mistake_in_a_keras_archive_is_placed_in_its_config_json(tmp_path: Path, mistake: str) -> None:
    change, marker, skip, says = MISTAKES[mistake]
    data = lenet_with(change) if mistake != "missing key" else without_input_shape(lenet_with(lambda layers: None))
    text = json.dumps(data, indent=1)
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(IMPORTS / "lenet5.keras") as source, zipfile.ZipFile(path, "w") as archive:
        for member in source.namelist():
            archive.writestr(member, text if member == "config.json" else source.read(member))
    assert says in invoke_archive(path, line_column(text, marker, skip))


def invoke_archive(path: Path, where: str) -> str:
    """An archive's error names its member: `model.keras!config.json:LINE:COL`."""
    result = invoke("import", str(path))
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    message = result.stderr.strip()
    assert message.startswith(f"{path}!config.json:{where}: error: "), message
    assert "Fix: " in message and "\n" not in message
    return message


BROKEN = {  # JSON that is not JSON, and where it goes wrong
    "trailing comma": ('{"a": [1, 2],\n "b": 3,\n}\n', "2:8", "trailing comma"),
    "trailing comma in a list": ('{"a": [1, 2,\n ]}', "1:12", "trailing comma before `]`"),
    "truncated": ('{"class_name": "Sequential", "config": {"layers": [', "1:52", "ends in the middle"),
    "unquoted key": ('{\n\t"a": 1,\n\tb: 2}', "3:2", "not valid JSON"),
    "raw tab in a string": ('{"name": "a\tb"}', "1:12", "raw control character"),
    "empty": ("", "1:1", "empty"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_json_is_a_located_error_in_every_json_input(tmp_path: Path, case: str) -> None:
    text, where, says = BROKEN[case]
    assert says in refused(tmp_path, text, where=where)
    assert says in refused(tmp_path, text, "config.json", where=where)
    path = tmp_path / "broken.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", text)
    assert says in invoke_archive(path, where)


def test_json_positions_survive_escapes_tabs_and_unicode(tmp_path: Path) -> None:
    """A value after `\\/`, `\\"`, `\\u00e9`, tabs and non-ASCII text is still placed on its own character."""
    data = lenet_with(set_config(1, filters="six"))
    data["config"]["layers"][1]["config"]["name"] = "conv\u00e9"
    text = json.dumps(data, indent="\t", ensure_ascii=False).replace('"module": "keras"', '"module": "ke\\/ras\\""', 1)
    text = text.replace('"filters"', '"my_initializer": "\\u00e9\\/\\t\u00e9", "filters"')
    path = tmp_path / "model.json"
    path.write_text(text, encoding="utf-8")
    assert "at layer `conv\u00e9`" in refusal(path, where=line_column(text, '"six"'))


def test_the_recorded_place_of_every_value_in_every_fixture_reads_back_that_value() -> None:
    from paramcalc.importers.jsonfile import offsets

    decoder = json.JSONDecoder()
    for path in sorted(IMPORTS.glob("*.json")):
        text = path.read_text()
        data = json.loads(text)
        values, keys = offsets(text)
        for where, offset in values.items():
            value = data
            for key in where:
                value = value[key]
            assert decoder.raw_decode(text, offset)[0] == value, (path.name, where)
        assert all(decoder.raw_decode(text, offset)[0] == where[-1] for where, offset in keys.items())


def test_any_damaged_value_in_a_json_input_is_a_located_error_never_a_crash(tmp_path: Path) -> None:
    """Seeded damage to real fixtures (a value replaced by another JSON type, or a key removed): the import
    either works or stops with a ParamcalcError at a line and column of the file, never a Python error."""
    import random

    from paramcalc.errors import ParamcalcError
    from paramcalc.importers import import_model
    from paramcalc.importers.command import check_spec

    def places(value: Any, path: tuple[Any, ...] = ()) -> Any:
        yield path
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            yield from places(item, (*path, key))

    damage = [None, 1, -3, "x", [], {}, [1, 2], {"a": 1}, True, 2.5, [None, None, None]]
    files = ["lenet5.json", "branches.json", "shared_nested.json", "multi_io_shared.json", "nested_sequential.json",
             "hf_vit_small_config.json", "hf_gpt2_config.json"]
    chance = random.Random(18)
    for _ in range(300):
        name = chance.choice(files)
        data = json.loads((IMPORTS / name).read_text())
        path = chance.choice(list(places(data))[1:])
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and chance.random() < 0.3:
            del parent[path[-1]]
        else:
            parent[path[-1]] = chance.choice(damage)
        file = tmp_path / ("config.json" if name.startswith("hf_") else "model.json")
        file.write_text(json.dumps(data, indent=1))
        try:
            check_spec(str(file), import_model(str(file)))
        except ParamcalcError as error:
            assert error.loc is not None and error.loc.line is not None, (name, path, error.describe())


# The zoo's Keras text models, built from their specs' layers: the keras.io example each is, in the fixture
# of their forward's MACs on Keras's JAX backend (make_keras_sequence_zoo_fixtures.py).
SEQUENCE_ZOO = {case["id"]: case for case in json.loads((FIXTURES / "keras_sequence_zoo.json").read_text())["cases"]}
TEXT_MODELS = {"imdb_lstm": "keras_io/bidirectional_lstm_imdb", "lstm_seq2seq": "keras_io/lstm_seq2seq",
               "keras_text_transformer": "keras_io/text_classification_with_transformer"}


@pytest.mark.parametrize("case", sorted(TEXT_MODELS))
def test_an_imported_zoo_text_model_computes_the_macs_of_keras_forward(case: str) -> None:
    _, report = imported(IMPORTS / f"{case}.json")
    assert report.total_params == KERAS[case]["params"] == SEQUENCE_ZOO[TEXT_MODELS[case]]["params"]
    assert report.total_macs == SEQUENCE_ZOO[TEXT_MODELS[case]]["macs"]


def test_a_wrapped_layer_and_initial_states_read_as_a_spec_writes_them() -> None:
    text, _ = imported(IMPORTS / "imdb_lstm.json")
    # Keras's backward copy of the LSTM (go_backwards flipped) is Bidirectional's default: left out
    assert "  - Bidirectional: {name: bidirectional, layer: {LSTM: {return_sequences: true, units: 64}}}\n" in text
    assert "backward_layer" not in text and "zero_output_for_mask" not in text
    text, report = imported(IMPORTS / "lstm_seq2seq.json")
    assert 'inputs: [decoder_inputs, "encoder[1]", "encoder[2]"]' in text  # initial_state=[state_h, state_c]
    assert next(r for r in report.rows if r.name == "decoder").inputs == ("decoder_inputs", "encoder[1]", "encoder[2]")
