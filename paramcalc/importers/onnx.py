"""ONNX files to specs, through the `onnx` package (the optional extra `paramcalc[onnx]`)."""

from __future__ import annotations

from paramcalc.errors import Location
from paramcalc.importers import ImportError_

EXTRA = "pip install 'paramcalc[onnx]'"


def require_onnx(path: str) -> object:
    """The `onnx` module, or the one-line message naming the extra."""
    try:
        import onnx
    except ModuleNotFoundError:
        raise ImportError_("reading an ONNX file needs the `onnx` package, which is not installed", Location(path),
                           f"install paramcalc's ONNX extra: `{EXTRA}`.") from None
    return onnx


def import_onnx(path: str) -> str:
    require_onnx(path)
    raise ImportError_("ONNX import is not implemented yet", Location(path), "convert the model to Keras or "
                       "write the spec by hand.")
