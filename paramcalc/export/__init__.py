"""Specs to framework code (`paramcalc export --to keras|pytorch`): readable Python that builds the
spec's model, layer by layer under the spec's names.

Each target module keeps a table keyed by layer kind (how that kind is written in the framework), so
that a new kind adds its entry there; a kind without one is an error that names it."""

from __future__ import annotations

import keyword
import re
from typing import Any

from paramcalc.errors import Location, ParamcalcError

TARGETS = ("keras", "pytorch")


class ExportError(ParamcalcError):
    """A spec that cannot be written in the target framework."""


def export_spec(path: str, target: str, values: dict[str, str] | None = None) -> str:
    """The Python source that builds the spec at `path` in `target` (keras or pytorch)."""
    from paramcalc.engine import analyze
    from paramcalc.spec.loader import load_spec

    spec = load_spec(path, values or {})
    report = analyze(spec, keep_formulas=False)
    if target == "keras":
        from paramcalc.export.keras import render
    else:
        from paramcalc.export.pytorch import render
    return render(spec, report)


def identifier(name: str, taken: set[str] | None = None) -> str:
    """A Python name for a layer name: `layer1.basic.conv1` -> `layer1_basic_conv1`, unique in `taken`."""
    text = re.sub(r"\W", "_", name)
    if not text or text[0].isdigit():  # `5_conv` is no Python name: `_5_conv` is
        text = f"_{text}"
    if keyword.iskeyword(text) or text in ("x", "self", "keras", "layers", "input", "torch", "nn", "model"):
        text = f"{text}_"
    if taken is not None:
        base, n = text, 1
        while text in taken:
            n += 1
            text = f"{base}_{n}"
        taken.add(text)
    return text


def python(value: Any) -> str:
    """A value as Python source (lists stay lists, None and booleans as Python writes them)."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(python(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python(k)}: {python(v)}" for k, v in value.items()) + "}"
    return repr(value)


def no_equivalent(kind: str, framework: str, where: str, loc: Location, hint: str) -> ExportError:
    return ExportError(f"layer `{where}` is a `{kind}`, which has no {framework} equivalent in `paramcalc export`",
                       loc, hint)
