"""`paramcalc.from_torch`: graphs traced with torch.fx (stored in tests/fixtures/from_torch.json by
make_from_torch_fixtures.py: torchvision's ResNet-18, MobileNetV2, VGG-11, SqueezeNet 1.1,
DenseNet-121, and four small modules: CNN, MLP, transformer encoder, bare MultiheadAttention)
become specs whose figures are PyTorch's own: sum(p.numel()), BatchNorm buffers, output shape,
forward-hook conv/linear MACs and FlopCounterMode / 2, and every module's params and every node's
traced shape, layer by layer. Nodes without a layer kind are refused all at once. With PyTorch
installed, from_torch also runs live."""

from __future__ import annotations

import json
import sys
from functools import cache

import pytest
import yaml

import paramcalc
from paramcalc.errors import SpecError
from paramcalc.importers_torch import graph_to_spec
from tests.conftest import FIXTURES

MODEL_IDS = ["resnet18", "mobilenet_v2", "vgg11", "squeezenet1_1", "densenet121", "small_cnn", "small_mlp",
             "small_transformer", "small_attention"]
ATTENTION = {"small_transformer", "small_attention"}  # attention products: MACs outside conv/Linear


@cache
def fixture() -> dict:
    return json.loads((FIXTURES / "from_torch.json").read_text())


def model(model_id: str) -> dict:
    return next(m for m in fixture()["models"] if m["id"] == model_id)


@cache
def spec_text(model_id: str) -> str:
    record = model(model_id)
    return graph_to_spec(record["nodes"], record["input"], model_id)


@cache
def report(model_id: str) -> paramcalc.Report:
    return paramcalc.analyze(spec_text(model_id))


def test_the_fixture_holds_every_model():
    assert [m["id"] for m in fixture()["models"]] == MODEL_IDS
    assert fixture()["provenance"]["torch"]


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_params_and_output_equal_pytorch(model_id):
    ours, theirs = report(model_id), model(model_id)
    assert ours.total_params == theirs["params"]
    assert ours.trainable_params == theirs["params"]  # PyTorch kinds: every parameter trainable
    assert ours.non_trainable_params == 0
    assert list(ours.output_shape) == theirs["output_shape"]


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_macs_equal_pytorch(model_id):
    """FlopCounterMode / 2 for every model; the hook count (conv and Linear modules) too where no
    layer multiplies outside them (the transformer's attention products do)."""
    ours, theirs = report(model_id), model(model_id)
    assert ours.total_macs == theirs["flop_counter_macs"]
    if model_id not in ATTENTION:
        assert ours.total_macs == theirs["conv_linear_macs"]
    else:
        assert ours.total_macs > theirs["conv_linear_macs"]


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_batchnorm_params_equal_the_buffers(model_id):
    """PyTorch keeps BatchNorm's running mean and variance (2 x C) as buffers: as many as its
    weight and bias, which the spec counts."""
    ours, theirs = report(model_id), model(model_id)
    batchnorm = sum(row.params for row in ours.layers if row.type.startswith("BatchNorm"))
    assert batchnorm == theirs["buffers"]


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_every_node_keeps_its_name_params_and_shape(model_id):
    rows = {row.name: row for row in report(model_id).layers}
    checked = 0
    for node in model(model_id)["nodes"]:
        if node["op"] in ("placeholder", "output"):
            continue
        if node["target"] == "operator.getitem":  # attention's (output, weights)[0]: the layer itself
            assert node["args"][1] == 0 and node["args"][0]["node"] in rows
            continue
        row = rows[node["name"]]
        shape = node["shape"][0] if isinstance(node["shape"][0], list) else node["shape"]  # first of a tuple
        assert list(row.output_shape) == [None, *shape[1:]], node["name"]
        if node["op"] == "call_module":
            assert row.params == node["params"], node["name"]
        checked += 1
    assert checked == len(rows)


def test_attention_reads_its_output_and_names_its_weights():
    spec = yaml.safe_load(spec_text("small_attention"))
    layers = [(kind, args) for item in spec["layers"] for kind, args in item.items()]
    assert layers[1] == ("MultiheadAttention", {"name": "attn", "embed_dim": 32, "num_heads": 4, "batch_first": True})
    assert layers[2] == ("Add", {"name": "add", "inputs": ["proj", "attn"]})  # x + attn(x, x, x)[0]
    nodes = [dict(n) for n in model("small_attention")["nodes"]]
    getitem = next(n for n in nodes if n["target"] == "operator.getitem")
    getitem["args"] = [getitem["args"][0], 1]  # the attention weights instead
    with pytest.raises(SpecError, match=r"cannot map 1 node\(s\) .*: getitem \(operator.getitem\)"):
        graph_to_spec(nodes, [10, 12])  # the weights are not modelled: refused, by name


def test_the_spec_reads_as_a_graph():
    text = spec_text("resnet18")
    spec = yaml.safe_load(text)
    assert spec["input"] == [3, 224, 224] and spec["data_format"] == "channels_first"
    layers = [(kind, args) for item in spec["layers"] for kind, args in item.items()]
    assert layers[0] == ("Conv2d", {"name": "conv1", "in_channels": 3, "out_channels": 64, "kernel_size": 7,
                                    "stride": 2, "padding": 3, "bias": False})
    # a residual add names both its inputs; a layer reading the one above names none
    adds = [args for kind, args in layers if kind == "Add"]
    assert adds[0] == {"name": "add", "inputs": ["layer1_0_bn2", "maxpool"]}  # out += identity
    assert adds[2]["inputs"] == ["layer2_0_bn2", "layer2_0_downsample_1"]
    downsample = next(args for kind, args in layers if args["name"] == "layer2_0_downsample_0")
    assert downsample["inputs"] == "layer1_1_relu_1"
    assert all("inputs" not in args for kind, args in layers if kind == "BatchNorm2d")
    assert "outputs:" not in text  # the last layer is the output


def test_an_output_other_than_the_last_layer_is_named():
    nodes = [{"name": "x", "op": "placeholder", "target": "x", "args": [], "kwargs": {}, "shape": [1, 4]},
             {"name": "fc", "op": "call_module", "target": "fc", "type": "Linear",
              "attrs": {"in_features": 4, "out_features": 3, "bias": True}, "args": [{"node": "x"}],
              "kwargs": {}, "shape": [1, 3]},
             {"name": "relu", "op": "call_function", "target": "torch.relu", "args": [{"node": "fc"}],
              "kwargs": {}, "shape": [1, 3]},
             {"name": "output", "op": "output", "target": "output", "args": [[{"node": "fc"}, {"node": "relu"}]],
              "kwargs": {}, "shape": None}]
    spec = yaml.safe_load(graph_to_spec(nodes, [4]))
    assert spec["outputs"] == ["fc", "relu"]
    assert paramcalc.analyze(spec).total_params == 4 * 3 + 3


def test_every_unmapped_node_is_named_in_one_error():
    refused = fixture()["refused"][0]
    with pytest.raises(SpecError) as caught:
        graph_to_spec(refused["nodes"], refused["input"])
    message = str(caught.value)
    assert "4 node(s)" in message
    for expected in ("transpose (method .transpose())", "matmul (torch.matmul)",
                     "pair (Bilinear, module pair)", "add (operator.add)"):
        assert expected in message
    assert "fc (" not in message  # the Linear maps


def test_without_pytorch_the_message_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'paramcalc\[torch\]'"):
        paramcalc.from_torch(object(), [3, 8, 8])


def test_importing_paramcalc_does_not_import_the_tracer():
    import subprocess

    code = "import sys, paramcalc; print('paramcalc.importers_torch' in sys.modules, 'torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


# ---- live, where PyTorch is installed ----------------------------------------------------------------

def test_live_small_cnn_equals_pytorch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    module = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(8 * 8 * 8, 10))
    result = paramcalc.analyze(paramcalc.from_torch(module, [3, 16, 16]))
    assert result.total_params == sum(p.numel() for p in module.parameters())
    assert list(result.output_shape) == [None, 10]


def test_live_untraceable_modules_are_named():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Gate(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    module = nn.Sequential(nn.Linear(8, 8), Gate(), nn.Sequential(nn.Linear(8, 4), Gate()))
    with pytest.raises(SpecError) as caught:
        paramcalc.from_torch(module, [8])
    assert "1 (Gate)" in str(caught.value) and "2.1 (Gate)" in str(caught.value)


def test_live_wrong_input_shape_is_one_error():
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU())
    with pytest.raises(SpecError, match=r"does not run on an input of shape \[4, 16, 16\]"):
        paramcalc.from_torch(module, [4, 16, 16])
