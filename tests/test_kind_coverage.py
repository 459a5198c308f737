"""Every registered layer kind is checked against a framework, or says why not.

A kind is covered when a framework fixture with figures uses it: a layer of a case's spec in
every fixture file the generators in tests/fixtures/ write (SPEC_FIXTURES below; cases the framework
refused do not count: they check no figure), or a layer type of a model in keras_applications.json or
torchvision_models.json (compared with the zoo specs). Otherwise it must be listed, with its reason,
in tests/fixtures/unfixtured_kinds.yaml."""

from __future__ import annotations

import json
from typing import Any

import yaml

from paramcalc.layers.base import LayerKind
from paramcalc.layers.registry import all_kinds, canonical
from tests.conftest import FIXTURES

REGISTRY = all_kinds()
SPEC_FIXTURES = ("keras_layers.json", "torch_layers.json", "torch_attention.json",
                 "keras_vision.json", "torch_vision.json",  # issue 15
                 "keras_attention.json", "torch_keras_attention.json",  # issue 14: Keras attention, positions
                 "torch_transformer.json", "keras_hub_layers.json",  # issue 14: PyTorch and keras_hub transformers
                 "torch_graph.json",  # issue 15: several outputs, parameters, model-code operations
                 "keras_rnn.json", "torch_rnn.json",  # issue 14: recurrent layers and wrappers
                 "keras_rnn_states.json", "torch_rnn_states.json",  # issue 14: their states
                 "hf_llm.json",  # issue 14: mixtures of experts (and the LLMs' specs)
                 "torch_slicing.json",  # issue 15: Slice and Pad (the original ResNet's option A)
                 "swin.json",  # issue 15: Swin's window attention and patch merging
                 "torch_matmul.json")  # issue 18: torch.matmul of two activations (ONNX attention)
MODEL_FIXTURES = {"keras_applications.json": "cases", "torchvision_models.json": "models"}


def spec_kinds(layers: list[Any]) -> set[str]:
    """The kinds a spec's layer list names: `- Flatten` or `- Conv2D: {...}` (an alias as its kind)."""
    return {canonical(item if isinstance(item, str) else next(iter(item))) for item in layers}


def fixtured_kinds() -> dict[str, set[str]]:
    """Kind -> the fixture files whose figures check it."""
    found: dict[str, set[str]] = {}
    for name in SPEC_FIXTURES:
        for case in json.loads((FIXTURES / name).read_text())["cases"]:
            if case.get("spec") and "error" not in case:
                for kind in spec_kinds(case["spec"]["layers"]):
                    found.setdefault(kind, set()).add(name)
    for name, key in MODEL_FIXTURES.items():
        for model in json.loads((FIXTURES / name).read_text())[key]:
            for layer in model.get("layers", ()):
                if layer["type"] in REGISTRY:  # InputLayer, Sequential, ... are not kinds
                    found.setdefault(layer["type"], set()).add(name)
    return found


def exemptions() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((FIXTURES / "unfixtured_kinds.yaml").read_text(encoding="utf-8"))


def computed_by(kind: type[LayerKind]) -> type[LayerKind]:
    """The class whose `compute` / `compute_many` the kind runs."""
    return next(cls for cls in kind.__mro__ if "compute" in vars(cls) or "compute_many" in vars(cls))


FIXTURED = fixtured_kinds()
EXEMPT = exemptions()


def test_every_kind_is_in_a_fixture_or_exempted_with_a_reason():
    missing = sorted(set(REGISTRY) - set(FIXTURED) - set(EXEMPT))
    assert not missing, (f"layer kinds in no framework fixture: {missing}. Add a case to a generator in "
                         "tests/fixtures/ and regenerate, or list the kind in tests/fixtures/unfixtured_kinds.yaml "
                         "with the reason its figures are right")


def test_the_fixtures_name_only_registered_kinds():
    assert not sorted(set(FIXTURED) - set(REGISTRY))


def test_every_exemption_is_still_needed_and_explained():
    for kind, entry in EXEMPT.items():
        assert kind in REGISTRY, f"{kind} is exempted but is no longer a layer kind: remove it"
        assert kind not in FIXTURED, (f"{kind} is now checked by {sorted(FIXTURED[kind])}: remove it from "
                                      "unfixtured_kinds.yaml")
        assert set(entry) <= {"like", "reason"}, kind
        assert isinstance(entry.get("reason"), str) and len(entry["reason"]) > 40, f"{kind} needs a real reason"


def test_an_exempt_kind_is_computed_like_the_fixtured_kinds_it_names():
    for kind, entry in EXEMPT.items():
        for other in entry.get("like", ()):
            assert other in FIXTURED, f"{kind} is said to be like {other}, which no fixture checks"
            ours, theirs = computed_by(REGISTRY[kind]), computed_by(REGISTRY[other])
            assert ours is theirs is not LayerKind, (
                f"{kind} is computed by {ours.__qualname__}, {other} by {theirs.__qualname__}: not the same code")
