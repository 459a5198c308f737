"""Hugging Face `config.json` files to specs: the zoo's spec of the model's family, with the config's values."""

from __future__ import annotations

from typing import Any

from paramcalc.errors import Location
from paramcalc.importers import ImportError_


def import_hf(path: str, data: dict[str, Any]) -> str:
    raise ImportError_(f"Hugging Face `model_type: {data.get('model_type')}` cannot be imported yet", Location(path),
                       "start from the zoo's spec of the family (`paramcalc zoo`) and set its vars.")
