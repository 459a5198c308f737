"""Model files of other tools turned into specs (`paramcalc import`): one module per format.

Each importer reads the file's configuration alone (never weights, never the framework) and
returns the spec as YAML text; what it cannot map is a located error (the file and the layer or
node), never a partial spec that would silently count less."""

from __future__ import annotations

from pathlib import Path

from paramcalc.errors import Location, ParamcalcError


class ImportError_(ParamcalcError):
    """A model file that cannot become a spec."""


def import_file(path: str) -> str:
    """The spec (YAML text) of the model file at `path`, by its format."""
    file = Path(path)
    if not file.is_file():
        raise ImportError_(f"no such file: {path}", Location(path), "give the path of a model file: a Keras "
                           "`model.to_json()` file (.json) or `.keras` archive, an `.onnx` file or a Hugging Face "
                           "`config.json`.")
    suffix = file.suffix.lower()
    if suffix == ".onnx":
        from paramcalc.importers.onnx import import_onnx

        return import_onnx(path)
    if suffix == ".keras":
        from paramcalc.importers.keras import import_keras_archive

        return import_keras_archive(path)
    return import_json(path, read_json(path, file.read_bytes()))


def read_json(path: str, data: bytes) -> object:
    import json

    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as bad:
        raise ImportError_(f"{path} is not a JSON file ({bad})", Location(path),
                           "give a Keras `model.to_json()` file, a `.keras` archive, an `.onnx` file or a Hugging "
                           "Face `config.json`.") from None


def import_json(path: str, data: object) -> str:
    """A Keras model's JSON (`class_name` and `config`) or a Hugging Face config (`model_type`)."""
    if isinstance(data, dict) and "class_name" in data and "config" in data:
        from paramcalc.importers.keras import import_keras

        return import_keras(path, data)
    if isinstance(data, dict) and "model_type" in data:
        from paramcalc.importers.hf import import_hf

        return import_hf(path, data)
    raise ImportError_(f"{path} is neither a Keras model's JSON (with `class_name` and `config`) nor a Hugging Face "
                       "config.json (with `model_type`)", Location(path),
                       "write a Keras model with `open(FILE, 'w').write(model.to_json())`, or give the config.json "
                       "of a Hugging Face model.")
