"""`paramcalc export --to keras|pytorch` (issue 18): the code written for every zoo spec was built in
the real framework by tests/fixtures/make_export_fixtures.py, which stored the framework's figures
and the code's sha256. Here: the code is still exactly that code, and paramcalc's figures equal the
framework's for the model it builds."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.engine import analyze
from paramcalc.export import export_spec
from paramcalc.spec.loader import load_spec
from tests.conftest import FIXTURES, ROOT

TARGETS = ("keras", "pytorch")
STORED = {target: json.loads((FIXTURES / f"export_{target}.json").read_text())["cases"] for target in TARGETS}
BUILT = [(target, name) for target in TARGETS for name, case in sorted(STORED[target].items()) if "sha256" in case]
REFUSED = [(target, name) for target in TARGETS for name, case in sorted(STORED[target].items()) if "error" in case]


def spec_path(name: str) -> str:
    return f"specs/{name}.yaml"


TORCH_BATCHNORMS = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")


def running_statistics(name: str) -> int:
    """The running means and variances of the spec's PyTorch BatchNorm layers: 2 x channels each. PyTorch
    keeps them as buffers, which paramcalc (as PyTorch) leaves out of the params, and Keras as
    non-trainable weights, which it counts. Across vocabularies, the figure both sides agree on is
    params + these statistics: a Keras-written spec's moving statistics are already in its params."""
    spec = load_spec(spec_path(name))
    rows = {row.name: row for row in analyze(spec, keep_formulas=False).rows}
    return sum(2 * int(rows[layer.name].output_shape[1]) for layer in spec.layers
               if layer.kind in TORCH_BATCHNORMS and layer.args.get("track_running_stats", True))


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the code names the spec by the path it was given, relative as the script gave it


@pytest.mark.parametrize(("target", "name"), BUILT)
def test_exported_code_is_the_code_the_framework_built(target: str, name: str) -> None:
    code = export_spec(spec_path(name), target)
    assert hashlib.sha256(code.encode()).hexdigest() == STORED[target][name]["sha256"], (
        f"the exported code of {name} changed: rerun tests/fixtures/make_export_fixtures.py {target}")


@pytest.mark.parametrize(("target", "name"), [(t, n) for t, n in BUILT if "params" in STORED[t][n]])
def test_the_framework_counts_what_paramcalc_prints(target: str, name: str) -> None:
    framework = STORED[target][name]
    report = analyze(load_spec(spec_path(name)), keep_formulas=False)
    # PyTorch's params + its BatchNorm buffers; Keras's count_params() holds the moving statistics already
    weights = framework["params"] + framework.get("running_statistics", 0)
    assert weights == report.total_params + running_statistics(name)
    assert framework["trainable_params"] == report.trainable_params
    if framework.get("output_shapes") is not None:
        assert framework["output_shapes"] == [list(shape) for shape in report.outputs.values()]


def test_the_round_trips_cover_both_frameworks() -> None:
    built = {target: [n for t, n in BUILT if t == target and "params" in STORED[t][n]] for target in TARGETS}
    assert {"lenet5", "resnet50", "vgg16", "resnet18", "gpt2", "bert_base", "unet"} <= set(built["keras"])
    assert {"resnet18", "resnet50_torchvision", "gpt2", "bert_base"} <= set(built["pytorch"])
    assert all(STORED["pytorch"][n].get("output_shapes") for n in ("resnet18", "gpt2", "unet"))


def test_every_zoo_spec_exports_to_both_frameworks() -> None:
    """No zoo spec is refused by either exporter any more (a refusal is recorded as `error` by the
    fixture script; the refusals of single layers are tested in test_export_keras.py and
    test_export_pytorch.py)."""
    specs = {path.stem for path in (ROOT / "specs").glob("*.yaml")}
    for target in TARGETS:
        assert set(STORED[target]) == specs
        assert REFUSED == [], f"refused: {REFUSED}"
        assert all("sha256" in STORED[target][name] for name in specs)


def test_export_writes_a_file(tmp_path: Path) -> None:
    out = tmp_path / "model.py"
    result = CliRunner().invoke(cli, ["export", "--to", "pytorch", "specs/resnet18.yaml", "-o", str(out)])
    assert result.exit_code == 0 and f"wrote {out}" in result.stderr
    code = out.read_text()
    compile(code, str(out), "exec")
    # each block a class; names kept as submodules (state_dict keys layer2.basic.conv1.weight, ...)
    assert "class Resnet18(nn.Module):" in code and "def forward(self, input_):" in code
    assert "        self.layer2 = Stage2(in_channels=64, channels=128)\n" in code
    assert "        self.basic = Basic2(in_channels=in_channels, channels=channels)\n" in code
    assert ("        self.conv1 = nn.Conv2d(in_channels=in_channels, out_channels=channels, kernel_size=3, stride=2, "
            "padding=1, bias=False)\n") in code
    assert code.index("class Basic(") < code.index("class Stage(") < code.index("class Resnet18(")  # blocks first


def test_pytorch_blocks_are_classes_with_what_differs_as_parameters(spec_file: Any) -> None:
    path = spec_file("data_format: channels_first\ninput: [3, 32, 32]\nblocks:\n"
                     "  unit:\n    args: {width: null}\n    layers:\n"
                     "      - Conv2d: {name: conv, out_channels: width, kernel_size: 3, padding: 1}\n"
                     "      - ReLU: {name: act}\n"
                     "      - Add: {name: sum, inputs: [act, conv]}\n"
                     "layers:\n  - unit: {name: a, width: 8}\n  - unit: {name: b, width: 16}\n"
                     "  - unit: {name: c, width: 16}\n")
    code = export_spec(path, "pytorch")
    compile(code, "model.py", "exec")
    assert code.count("class Unit(nn.Module):") == 1 and "Block `unit` of the spec: a, b, c." in code
    assert "    def __init__(self, in_channels, out_channels):\n" in code
    assert "        self.conv = nn.Conv2d(in_channels=in_channels, out_channels=out_channels, kernel_size=3" in code
    assert ("        self.a = Unit(in_channels=3, out_channels=8)\n"
            "        self.b = Unit(in_channels=8, out_channels=16)\n"
            "        self.c = Unit(in_channels=16, out_channels=16)\n") in code
    assert ("        conv = self.conv(x)\n        act = self.act(conv)\n        sum = act + conv\n"
            "        return sum\n") in code
    assert "        a = self.a(input_)\n        b = self.b(a)\n        c = self.c(b)\n        return c\n" in code


def test_keras_code_keeps_names_edges_and_shared_layers(spec_file: Any) -> None:
    path = spec_file("inputs: {left: [20], right: [20]}\nlayers:\n"
                     "  - Dense: {name: encoder, inputs: left, units: 32}\n"
                     "  - Dense: {name: encoder_call2, inputs: right, units: 32, shares: encoder}\n"
                     "  - Subtract: {name: diff, inputs: [encoder, encoder_call2]}\n")
    code = export_spec(path, "keras")
    compile(code, "model.py", "exec")
    assert "    encoder_layer = layers.Dense(units=32, name='encoder')\n    encoder = encoder_layer(left)\n" in code
    assert "    encoder_call2 = encoder_layer(right)\n" in code
    assert "diff = layers.Subtract(name='diff')([encoder, encoder_call2])" in code
    assert "return keras.Model([left, right], diff, name='spec')" in code


def test_pytorch_ties_share_one_parameter() -> None:
    code = export_spec("specs/gpt2.yaml", "pytorch")
    assert "        self.lm_head.weight = self.wte.weight\n" in code


def test_golden_exports(snapshot: Any) -> None:
    snapshot("export_keras_lenet5", "export", "--to", "keras", "specs/lenet5.yaml")
    snapshot("export_pytorch_squeezenet", "export", "--to", "pytorch", "specs/squeezenet1_1.yaml")


def test_an_imported_model_exports_again(tmp_path: Path) -> None:
    """import -> export: a Keras model built for any input size exports with `None` for its free dimensions."""
    spec = tmp_path / "m.yaml"
    assert CliRunner().invoke(cli, ["import", str(FIXTURES / "import" / "mobilenet_v3_small.json"), "-o",
                                    str(spec)]).exit_code == 0
    code = export_spec(str(spec), "keras")
    compile(code, "m.py", "exec")
    assert "keras.Input(shape=(None, None, 3), name='input_layer_11')" in code
    assert "layers.Rescaling(scale=1, offset=3.0, name='add')" in code


def test_pytorch_block_giving_two_tensors_or_none(spec_file: Any) -> None:
    path = spec_file("inputs: {a: [4]}\nblocks:\n  two:\n    layers:\n"
                     "      - Linear: {name: fc, out_features: 3}\n"
                     "      - Linear: {name: fc2, out_features: 3, inputs: input}\n"
                     "      - Linear: {name: unused, out_features: 3, inputs: input}\n"
                     "layers:\n  - two: {name: t}\n  - two: {name: u, inputs: a}\n"
                     "  - Add: {name: total, inputs: [t.fc, t.fc2]}\noutputs: [total]\n")
    code = export_spec(path, "pytorch")
    compile(code, "model.py", "exec")
    assert "        t_fc, t_fc2 = self.t(a)\n" in code and "        total = t_fc + t_fc2\n" in code
    assert "class Two(nn.Module):" in code and "class Two2(nn.Module):" in code  # two forms: what they give
    assert "        u = self.u(a)\n" in code and "        return None\n" in code  # a block nothing reads


@pytest.mark.parametrize("target", TARGETS)
def test_a_layer_name_starting_with_a_digit_is_a_python_name(spec_file: Any, target: str) -> None:
    import ast

    path = spec_file("input: [3, 8, 8]\nlayers:\n  - Conv2d: {name: 1conv, out_channels: 4, kernel_size: 3}\n"
                     "  - ReLU: {name: \"2\"}\n")
    code = export_spec(path, target)
    ast.parse(code)  # `5_` was once written for `5`: no Python name
    assert "_1conv" in code and "1conv_" not in code
