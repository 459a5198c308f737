"""Model files of other tools turned into specs (`paramcalc import`): one module per format.

Each importer reads the file's configuration alone (never weights, never the framework) and
returns the spec as YAML text; what it cannot map is a located error (the file and the layer or
node), never a partial spec that would silently count less."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from paramcalc.errors import Location, ParamcalcError

if TYPE_CHECKING:
    from paramcalc.importers.jsonfile import JsonFile


class ImportError_(ParamcalcError):
    """A model file that cannot become a spec."""


class Imported(NamedTuple):
    """An importer's spec, and where a spec layer (and one of its arguments) came from in the model file:
    for a JSON file its line and column, so that a spec that does not compute points there."""

    text: str
    place: Callable[[str | None, str | None], Location]


def import_file(path: str) -> str:
    """The spec (YAML text) of the model file at `path`, by its format."""
    return import_model(path).text


def import_model(path: str) -> Imported:
    file = Path(path)
    if not file.is_file():
        raise ImportError_(f"no such file: {path}", Location(path), "give the path of a model file: a Keras "
                           "`model.to_json()` file (.json) or `.keras` archive, an `.onnx` file or a Hugging Face "
                           "`config.json`.")
    suffix = file.suffix.lower()
    if suffix == ".onnx":
        from paramcalc.importers.onnx import import_onnx

        return Imported(import_onnx(path), lambda layer, argument: Location(path))
    if suffix == ".keras":
        from paramcalc.importers.keras import import_keras_archive

        return import_keras_archive(path)
    return import_json(load_json(path, file.read_bytes()))


def load_json(label: str, data: bytes) -> JsonFile:
    """The JSON of a model file; text that is not JSON is an error at the place where it goes wrong."""
    from paramcalc.importers.jsonfile import JsonSyntaxError, read_json

    try:
        return read_json(label, data)
    except JsonSyntaxError as bad:
        raise ImportError_(bad.message, bad.loc, "write valid JSON (double-quoted keys and strings, no trailing "
                           "commas, the whole file), or write the file again from the framework "
                           "(`model.to_json()`, `model.save`, `config.save_pretrained`).") from None


def import_json(doc: JsonFile) -> Imported:
    """A Keras model's JSON (`class_name` and `config`) or a Hugging Face config (`model_type`)."""
    data = doc.data
    if isinstance(data, dict) and "class_name" in data and "config" in data:
        from paramcalc.importers.keras import import_keras

        return import_keras(doc)
    if isinstance(data, dict) and "model_type" in data:
        from paramcalc.importers.hf import import_hf

        return import_hf(doc)
    raise ImportError_(f"{doc.label} is neither a Keras model's JSON (with `class_name` and `config`) nor a Hugging "
                       "Face config.json (with `model_type`)", doc.at(data),
                       "write a Keras model with `open(FILE, 'w').write(model.to_json())`, or give the config.json "
                       "of a Hugging Face model.")
