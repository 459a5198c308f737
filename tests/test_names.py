"""Names people type (issue 16, part 5): Keras 3's own aliases and module prefixes, suggestions that
say when they point to the other framework, hints for the other framework's arguments, activation
names and padding words as the frameworks take them. What the frameworks accept is recorded in
tests/fixtures/names.json (made by make_name_fixtures.py)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.layers.args import KERAS_ACTIVATIONS, keras_activation
from paramcalc.layers.registry import COUNTERPARTS, FAMILY_OF, KERAS_ALIASES, SHARED_NAMES, all_kinds
from paramcalc.render.json_report import report_dict
from tests.conftest import FIXTURES, run_text

NAMES = json.loads((FIXTURES / "names.json").read_text(encoding="utf-8"))
KERAS = NAMES["keras"]


def error(text: str) -> str:
    result = CliRunner().invoke(cli, ["summary", "-"], input=text)
    assert result.exit_code == 2 and result.stdout == "", result.output
    return result.stderr.strip()


def layer(item: str, input: str = "[9, 9, 3]") -> str:
    return f"input: {input}\nlayers:\n  - {item}\n"


# ---- Keras's aliases, module prefixes ---------------------------------------------------------------

def test_the_aliases_are_the_ones_keras_gives_its_registered_classes():
    keras_aliases = {alias: name for alias, name in KERAS["aliases"].items() if name in FAMILY_OF}
    assert KERAS_ALIASES == keras_aliases


@pytest.mark.parametrize("alias, name", sorted(KERAS_ALIASES.items()))
def test_an_alias_is_its_class_with_keras_semantics_and_names(alias, name):
    kind = all_kinds()[name]
    example = kind.example_spec()
    a, b = run_text(example.replace(f"- {name}:", f"- {alias}:")), run_text(example)
    assert report_dict(a) == report_dict(b)  # one layer, named and shown as Keras shows its class (`max_pooling2d`)


@pytest.mark.parametrize("spelling, name", [
    ("nn.Conv2d", "Conv2d"), ("torch.nn.Conv2d", "Conv2d"), ("keras.layers.Conv2D", "Conv2D"),
    ("tf.keras.layers.Conv2D", "Conv2D"), ("layers.Conv2D", "Conv2D"), ("keras.layers.MaxPool2D", "MaxPooling2D"),
    ("nn.ReLU", "ReLU"), ("keras.layers.ReLU", "ReLU"), ("nn.Flatten", "Flatten"),
])
def test_module_prefixes_are_understood(spelling, name):
    kind = all_kinds()[name]
    example = kind.example_spec()
    assert report_dict(run_text(example.replace(f"- {name}:", f"- {spelling}:"))) == report_dict(run_text(example))


@pytest.mark.parametrize("spelling, hint", [
    ("nn.Conv2D", "`Conv2D` is Keras's layer, not PyTorch's; PyTorch's is `Conv2d`, whose arguments and rules "
                  "differ: write `Conv2d` or `Conv2D`."),
    ("keras.layers.Linear", "`Linear` is PyTorch's layer, not Keras's; Keras's is `Dense`, whose arguments and rules "
                            "differ: write `Dense` or `Linear`."),
    ("nn.Activation", "`Activation` is Keras's layer, not PyTorch's: write `Activation`."),
])
def test_a_prefix_of_the_other_framework_is_refused_with_the_fix(spelling, hint):
    assert error(layer(f"{spelling}: 3")).endswith(f"error: unknown layer kind `{spelling}`. Fix: {hint}")


# ---- suggestions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, hint", [
    ("Conv2DD", "did you mean `Conv2D` or `Conv3D`, or PyTorch's `Conv2d`, whose arguments and rules differ?"),
    ("conv2d", "did you mean `Conv2d` or `Conv3d`, or Keras's `Conv2D`, whose arguments and rules differ?"),
    ("maxpool2d", "did you mean `MaxPool2d` or `MaxPool3d`, or Keras's `MaxPool2D`, whose arguments and rules "
                  "differ?"),
    ("Linar", "did you mean `Linear`?"),
    ("nn.Linar", "did you mean `Linear`?"),
    ("Dropot", "did you mean `Dropout`, or PyTorch's `Dropout3d` or `Dropout2d`, whose arguments and rules differ?"),
])
def test_suggestions_say_when_they_point_to_the_other_framework(typed, hint):
    assert error(layer(f"{typed}: 3")).endswith(f"Fix: {hint}")


@pytest.mark.parametrize("typed", ["Conv2", "conv1d", "MaxPool", "AvgPool2", "BatchNorm", "Conv2dTranspose",
                                   "Upsampling2D", "ZeroPad2D", "Dens", "globalavgpool2d"])
def test_no_suggestion_names_both_frameworks_without_saying_they_differ(typed):
    message = error(layer(f"{typed}: 3"))
    suggested = [name for name in message.split("`")[3::2]]
    frameworks = {all_kinds()[KERAS_ALIASES.get(n, n)].framework for n in suggested if n not in SHARED_NAMES}
    assert len(frameworks) < 2 or "whose arguments and rules differ" in message, message


# ---- the other framework's arguments ----------------------------------------------------------------

@pytest.mark.parametrize("item, hint", [
    ("Conv2D: {out_channels: 8, kernel_size: 3}",
     "`out_channels` is PyTorch's name; Keras calls it `filters`, or write `Conv2d` (PyTorch's layer, whose rules "
     "differ)."),
    ("Conv2d: {filters: 8, kernel_size: 3}",
     "`filters` is Keras's name; PyTorch calls it `out_channels`, or write `Conv2D` (Keras's layer, whose rules "
     "differ)."),
    ("Conv2D: {filters: 8, kernel_size: 3, in_channels: 3}",
     "`in_channels` is PyTorch's; Keras infers it from the layer's input: remove it, or write `Conv2d` (PyTorch's "
     "layer, whose rules differ)."),
    ("Dense: {out_features: 4}", "`out_features` is PyTorch's name; Keras calls it `units`"),
    ("MaxPooling2D: {kernel_size: 2}", "`kernel_size` is PyTorch's name; Keras calls it `pool_size`"),
    ("MaxPool2d: {pool_size: 2}", "`pool_size` is Keras's name; PyTorch calls it `kernel_size`"),
    ("BatchNormalization: {eps: 0.001}", "`eps` is PyTorch's name; Keras calls it `epsilon`"),
    ("Conv2D: {filters: 8, kernel_size: 3, padding_mode: zeros}",
     "`padding_mode` is an argument of PyTorch's `Conv2d`, not of Keras's `Conv2D`: remove it"),
])
def test_an_argument_of_the_other_framework_names_the_equivalent(item, hint):
    assert hint in error(layer(item, "[9, 9, 3]"))


def test_counterparts_are_registered_kinds_of_the_other_framework():
    kinds = all_kinds()
    for name, other in COUNTERPARTS.items():
        assert kinds[name].framework != kinds[other].framework, (name, other)


# ---- activation names -----------------------------------------------------------------------------

def test_the_activation_names_are_keras_s():
    assert list(KERAS_ACTIVATIONS) == KERAS["activations"]


@pytest.mark.parametrize("name", KERAS["activations"])
def test_every_keras_activation_is_accepted(name):
    assert run_text(layer(f"Dense: {{units: 4, activation: {name}}}", "[8]")).total_params == 36


@pytest.mark.parametrize("written, suggestion", [("ReLU", "relu"), ("Relu", "relu"), ("SIGMOID", "sigmoid"),
                                                 ("rleu", "relu"), ("softmx", "softmax")])
def test_an_activation_keras_does_not_know_is_refused_with_a_suggestion(written, suggestion):
    assert KERAS["activation_case"].get(written, "error").startswith("error")  # Keras refuses other cases too
    for item in (f"Dense: {{units: 4, activation: {written}}}", f"Activation: {written}"):
        message = error(layer(item, "[8]"))
        assert "`activation` must be one of Keras's 32 activation names" in message
        assert message.endswith(f"Fix: write e.g. `activation: {suggestion}`.")


def test_every_keras_activation_argument_is_checked():
    for kind in all_kinds().values():
        for arg in kind.own_args():
            if kind.framework == "keras" and arg.name == "activation":
                assert arg.parse is keras_activation, kind.name


# ---- padding words ----------------------------------------------------------------------------------

KERAS_PADDING = KERAS["padding_on_input_9x9x3_kernel_3_stride_2"]
KINDS = {"Conv2D": "{filters: 4, kernel_size: 3, strides: 2", "DepthwiseConv2D": "{kernel_size: 3, strides: 2",
         "Conv2DTranspose": "{filters: 4, kernel_size: 3, strides: 2", "MaxPooling2D": "{pool_size: 3, strides: 2",
         "AveragePooling2D": "{pool_size: 3, strides: 2"}


@pytest.mark.parametrize("word", sorted(KERAS_PADDING))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_keras_takes_padding_words_in_any_case(word, kind):
    report = run_text(layer(f"{kind}: {KINDS[kind]}, padding: {word}}}"))
    assert list(report.output_shape) == KERAS_PADDING[word][kind]


@pytest.mark.parametrize("word, outcome", sorted(NAMES["torch"]["conv2d_padding_on_input_3x9x9_kernel_3"].items()))
def test_pytorch_takes_them_as_written(word, outcome):
    text = layer(f"Conv2d: {{out_channels: 4, kernel_size: 3, padding: {word}}}", "[3, 9, 9]")
    if isinstance(outcome, str):
        assert "Conv2d `padding` must be 'valid' or 'same'" in error(text)
    else:
        assert list(run_text(text).output_shape[1:]) == outcome
