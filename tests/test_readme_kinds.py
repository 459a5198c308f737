"""The README's list of layer kinds (its "### Layer kinds" section) names exactly the registered kinds,
and every kind-like name in backticks anywhere in the README exists.

`Conv1D/2D/3D` stands for Conv1D, Conv2D, Conv3D; `Conv1D/2D/3DTranspose` for Conv1DTranspose, ...:
the text after the last rank applies to every rank."""

from __future__ import annotations

import re

import pytest

from paramcalc.layers.registry import all_kinds, canonical
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
REGISTRY = all_kinds()
# A capitalised name in backticks, possibly with ranks: `Dense`, `Conv1D/2D/3DTranspose`.
KIND_LIKE = re.compile(r"`([A-Z][A-Za-z0-9]+(?:/\d[Dd][A-Za-z]*)*)`")
# Capitalised names in backticks that are not layer kinds.
NOT_KINDS = {"SPEC", "MACs", "FLOPs", "VGG16", "ResNet50", "MobileNet", "MobileNetV2", "DenseNet121",
             "EfficientNetB0", "MobileNetV3Large", "MobileNetV3Small", "ConvNeXtTiny",  # keras.applications models
             "GPT2LMHeadModel",  # a transformers model class
             "ResNet50V2", "ResNet101V2", "ResNet152V2", "Xception", "InceptionV3", "EfficientNetB7",  # issue 15
             "ConvNeXtLarge",
             "CifarResNet", "ShuffleNetV1",  # hand-built PyTorch references of make_vision_family_fixtures.py
             "Report", "Layer", "SpecError", "ValueError", "None", "SAME"}  # (the Python API's, a padding word)


def expand(token: str) -> list[str]:
    """`MaxPool1d/2d/3d` -> MaxPool1d, MaxPool2d, MaxPool3d; a plain name stays itself."""
    first, *more = token.split("/")
    if not more:
        return [token]
    head = re.fullmatch(r"(\D+)(\d[Dd])", first)
    tails = [re.fullmatch(r"(\d[Dd])([A-Za-z]*)", part) for part in more]
    if head is None or not all(tails) or any(tail[2] for tail in tails[:-1]):
        raise ValueError(f"cannot read `{token}` as a name with ranks such as `Conv1D/2D/3D`")
    suffix = tails[-1][2]
    return [head[1] + rank + suffix for rank in (head[2], *(tail[1] for tail in tails))]


def names_in(text: str) -> set[str]:
    return {name for token in KIND_LIKE.findall(text) for name in expand(token)} - NOT_KINDS


def kinds_section() -> str:
    assert "\n### Layer kinds\n" in README, "the README needs its \"### Layer kinds\" section"
    start = README.index("\n### Layer kinds\n")
    return README[start:README.index("\n#", start + 1)]


def test_the_readme_lists_every_kind_and_no_other():
    listed = names_in(kinds_section())
    assert not sorted(set(REGISTRY) - listed), "kinds missing from the README's Layer kinds table"
    assert not sorted(listed - set(REGISTRY)), "names in the README's Layer kinds table that are not kinds"


def test_every_kind_the_readme_names_exists():
    # (other spellings of a kind, such as Keras's alias `MaxPool2D`, name it too)
    unknown = sorted(name for name in names_in(README) - set(REGISTRY) if canonical(name) not in REGISTRY)
    assert not unknown, (f"the README names {unknown}, which are not layer kinds (if one is not meant as a "
                         "kind, add it to NOT_KINDS here)")


@pytest.mark.parametrize("token, names", [
    ("Dense", ["Dense"]),
    ("Conv1D/2D/3D", ["Conv1D", "Conv2D", "Conv3D"]),
    ("Conv1D/2D/3DTranspose", ["Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"]),
    ("ConvTranspose1d/2d/3d", ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]),
    ("DepthwiseConv1D/2D", ["DepthwiseConv1D", "DepthwiseConv2D"]),
])
def test_rank_shorthand(token, names):
    assert expand(token) == names


def test_a_shorthand_it_cannot_read_is_an_error():
    with pytest.raises(ValueError):
        expand("Conv1DTranspose/2D")
