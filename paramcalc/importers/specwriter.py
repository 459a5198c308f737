"""Write a spec as a person would: one line per layer, `- Kind: {arg: value, ...}`, in flow style.

Values are plain data (ints, floats, bools, None, strings, lists). A string that YAML or paramcalc
would read as something else (a number, `true`, an expression like `a-b` or `x+1`) is quoted."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")  # a word that YAML and paramcalc read as that word
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "none", "y", "n", "~"}


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "inf" in text or "nan" in text:
            return text
        mantissa, e, exponent = text.partition("e")
        # YAML 1.1 (PyYAML) reads 1e-12 as a word: a number needs its dot, 1.0e-12
        return (mantissa if "." in mantissa else mantissa + ".0") + (e + exponent if e else "")
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _YAML_WORDS:
            return value
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar(k)}: {scalar(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r}")


def layer_line(kind: str, args: Mapping[str, Any]) -> str:
    """`- Conv2D: {name: c1, filters: 6}`, or `- Flatten` without arguments."""
    return f"- {kind}: {scalar(args)}" if args else f"- {kind}"


def spec_text(header: Sequence[str], top: Mapping[str, Any], blocks: Mapping[str, Mapping[str, Any]],
              layers: Sequence[tuple[str, Mapping[str, Any]]], tail: Mapping[str, Any]) -> str:
    """A whole spec: comment lines, top-level keys, `blocks:`, `layers:`, then `outputs:` and the like."""
    lines = [f"# {line}" if line else "#" for line in header]
    lines += [f"{key}: {scalar(value)}" for key, value in top.items()]
    if blocks:
        lines.append("blocks:")
        for name, block in blocks.items():
            lines.append(f"  {scalar(name)}:")
            if block.get("args"):
                lines.append(f"    args: {scalar(block['args'])}")
            if block.get("output") is not None:
                lines.append(f"    output: {scalar(block['output'])}")
            lines.append("    layers:")
            lines += [f"      {layer_line(kind, args)}" for kind, args in block["layers"]]
    lines.append("layers:")
    lines += [f"  {layer_line(kind, args)}" for kind, args in layers]
    lines += [f"{key}: {scalar(value)}" for key, value in tail.items()]
    return "\n".join(lines) + "\n"
