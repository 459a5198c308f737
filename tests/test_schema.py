"""`paramcalc schema` (issue 16, part 4): a JSON Schema of the spec format, from the layer registry,
that every bundled spec satisfies and that known mistakes break; the committed copy that the bundled
specs' modeline points at is the command's output."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.layers.base import WEIGHT_OPTIONS
from paramcalc.layers.registry import KERAS_ALIASES, all_kinds
from paramcalc.schema import json_schema
from tests.conftest import ROOT, SPECS

SCHEMA_FILE = ROOT / "paramcalc.schema.json"
MODELINE = "# yaml-language-server: $schema=../paramcalc.schema.json"
BUNDLED = sorted(SPECS.glob("*.yaml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def problems(validator: jsonschema.Draft7Validator, spec: object) -> list[str]:
    return [error.message for error in validator.iter_errors(spec)]


def test_the_command_prints_the_committed_schema():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0 and result.stderr == ""
    assert json.loads(result.stdout) == json_schema()
    assert SCHEMA_FILE.read_text(encoding="utf-8") == result.stdout, (
        "paramcalc.schema.json is stale: run `paramcalc schema > paramcalc.schema.json`")


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_spec_satisfies_the_schema_and_names_it(validator, path):
    text = path.read_text(encoding="utf-8")
    assert problems(validator, yaml.safe_load(text)) == []
    assert MODELINE in text.splitlines()  # the editor finds the schema relative to the spec


@pytest.mark.parametrize("name", sorted(all_kinds()))
def test_every_kind_and_its_example_are_in_the_schema(validator, name):
    kind = all_kinds()[name]
    definition = json_schema()["definitions"][f"kind_{name}"]
    named = definition["anyOf"][-1]
    assert set(named["properties"]) >= {a.name for a in kind.all_args() if a not in WEIGHT_OPTIONS}
    assert kind.doc.split(".")[0] in definition["description"]
    assert problems(validator, yaml.safe_load(kind.example_spec())) == []


def test_arguments_carry_their_types_and_defaults():
    conv = json_schema()["definitions"]["kind_Conv2D"]["anyOf"][-1]
    assert conv["required"] == ["filters", "kernel_size"]
    assert conv["properties"]["use_bias"] == {"anyOf": [{"type": "boolean"}, {"$ref": "#/definitions/expression"}],
                                              "default": True}
    assert conv["properties"]["padding"]["default"] == "valid"
    assert {"enum": ["valid", "same"]} in conv["properties"]["padding"]["anyOf"][0]["anyOf"]


VALID = "input: [28, 28, 3]\nlayers:\n"


@pytest.mark.parametrize("layers", [
    "  - MaxPool2D: 2\n  - nn.Flatten\n",
    "  - keras.layers.Conv2D: {filters: 8, kernel_size: 3, padding: SAME}\n  - layers.GlobalAvgPool2D\n",
    "  - Conv2D: {filters: \"int(8 * 2)\", kernel_size: [k, k], kernel_initializer: he_normal}\n",
    "  - Dense: {units: 4, repeat: n, when: \"n > 1\", name: \"d{i}\", inputs: [input]}\n",
    "  - my_block: {width: 4}\n  - my_block\n",
])
def test_spellings_expressions_and_blocks_pass(validator, layers):
    assert problems(validator, yaml.safe_load(VALID + layers)) == []


@pytest.mark.parametrize("spec", [
    VALID + "  - Conv2DD: {filters: 8, kernel_size: 3}\n",        # an unknown kind
    VALID + "  - Conv2D: {filters: 8, kernal_size: 3}\n",          # an unknown argument
    VALID + "  - Conv2D: {out_channels: 8, kernel_size: 3}\n",     # the other framework's argument
    VALID + "  - Conv2D: {filters: [8, 8], kernel_size: 3}\n",     # a list where a number goes
    VALID + "  - Conv2D: {filters: 8, kernel_size: 3, use_bias: 1}\n",
    VALID + "  - Dense\n",                                          # a kind that needs an argument
    VALID + "  - Conv2D: 8\n",                                      # needs two: a scalar cannot give both
    VALID + "  - nn.Conv2D: {filters: 8, kernel_size: 3}\n",        # PyTorch's prefix on a Keras kind
    VALID + "  - {Dense: 4, Flatten: null}\n",                     # two layers in one item
    "input: [8]\nlayer:\n  - Dense: 4\n",                           # an unknown top-level key
    "input: [8]\n",                                                 # no layers
    "input: [8]\ninputs: {a: [8]}\nlayers: [Flatten]\n",            # both input and inputs
    "input: [0]\nlayers: [Flatten]\n",                              # a dimension of 0
    "input: [8]\nlayers: [Flatten]\nexpect: {parms: 3}\n",          # an unknown figure
    "input: [8]\nblocks: {b: {layer: [Flatten]}}\nlayers: [b]\n",   # a block without layers
])
def test_known_mistakes_fail(validator, spec):
    assert problems(validator, yaml.safe_load(spec))


def test_aliases_use_the_definition_of_their_kind():
    properties = json_schema()["definitions"]["layer"]["anyOf"][-1]["properties"]
    for alias, name in KERAS_ALIASES.items():
        assert properties[alias] == {"$ref": f"#/definitions/kind_{name}"}
