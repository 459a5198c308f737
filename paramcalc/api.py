"""The Python API, the library under the command line:

    import paramcalc
    report = paramcalc.analyze("specs/mobilenet_v1.yaml", alpha=0.5, res=160)
    report.total_params, report.total_macs, report.layers[0].output_shape
    report.to_dict()        # what `paramcalc summary --format json` prints

`analyze` takes a spec as a path, YAML text, or a dict (as `yaml.safe_load` gives), its variables as
keyword arguments (Python numbers), and returns a `Report`. A spec that cannot be read or computed
raises `SpecError`, worded for Python: its `message`, `hint`, `path`, `line` and `column`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Union

from paramcalc.errors import ParamcalcError
from paramcalc.spec.expand import MAX_LAYERS
from paramcalc.spec.yamlnodes import MAX_NODES

if TYPE_CHECKING:
    from paramcalc.report import Report
    from paramcalc.spec.model import Spec

SpecSource = Union[str, "os.PathLike[str]", Mapping[str, Any], "Spec"]
SET_BY = "analyze({name}={value!r})"  # how messages name a variable given here: `analyze(alpha=-1)`
SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def analyze(spec: SpecSource, /, *, convention: str = "paper", variables: Mapping[str, Any] | None = None,
            max_layers: int = MAX_LAYERS, max_yaml_values: int = MAX_NODES, **values: Any) -> Report:
    """Every layer's output shape, params and MACs, and the model's totals.

    `spec` is a path to a YAML file, YAML text, a dict of the same structure, or a spec from
    `load_spec`/`parse_spec`. Keyword arguments set the spec's variables (`alpha=0.5, res=160`);
    `variables={...}` does the same for names that clash with this function's own arguments.
    `convention` also counts as another tool does (`fvcore`, `torchinfo`, ...): each layer's
    `convention_count` and the report's `convention_total`, in `convention_unit`; `macs` and
    `total_macs` stay multiply-accumulates. Raises `SpecError` for a spec that cannot be read or
    does not fit together, and `ValueError` for an unknown convention."""
    check_convention(convention)
    given = {**(variables or {}), **values}
    try:
        from paramcalc.engine import analyze as run

        report = run(load(spec, given, max_layers, max_yaml_values), keep_formulas=False)
        if convention != "paper":
            from paramcalc.conventions import apply

            report = apply(report, convention)
    except ParamcalcError as error:
        raise in_python_words(error) from None
    return report


def load_spec(path: str | os.PathLike[str], overrides: Mapping[str, Any] | None = None,
              max_layers: int = MAX_LAYERS, max_values: int = MAX_NODES) -> Spec:
    """A spec file read and checked (without computing it); `overrides` set its variables. `analyze`
    takes the result. Raises `SpecError`, as `analyze` does."""
    from paramcalc.spec import loader

    try:
        return loader.load_spec(os.fspath(path), overrides, max_layers, max_values, "overrides[{name!r}] = {value!r}")
    except ParamcalcError as error:
        raise in_python_words(error) from None


def parse_spec(text: str, source: str = "<spec>", default_name: str = "model",
               overrides: Mapping[str, Any] | None = None, max_layers: int = MAX_LAYERS,
               max_values: int = MAX_NODES) -> Spec:
    """`load_spec` for YAML text; `source` names it in messages."""
    from paramcalc.spec import loader

    try:
        return loader.parse_spec(text, source, default_name, overrides, max_layers, max_values,
                                 "overrides[{name!r}] = {value!r}")
    except ParamcalcError as error:
        raise in_python_words(error) from None


def check_convention(name: str) -> None:
    from paramcalc.conventions import CONVENTIONS

    if name not in CONVENTIONS:
        from paramcalc.suggest import did_you_mean

        hint = did_you_mean(name, CONVENTIONS)
        raise ValueError(f"unknown convention {name!r}" + (f"; {hint}" if hint else "") +
                         f" (the conventions are {', '.join(CONVENTIONS)})")


def load(spec: SpecSource, values: Mapping[str, Any], max_layers: int, max_values: int) -> Spec:
    """The checked spec, from whichever form it was given in."""
    from paramcalc.spec import loader
    from paramcalc.spec.model import Spec

    if isinstance(spec, Spec):
        if values:
            raise TypeError("variables cannot be set on a spec that is already loaded; pass its path or text instead")
        return spec
    if isinstance(spec, Mapping):
        from paramcalc.spec.pyspec import node_from_python

        return loader.spec_from_node(node_from_python(spec, max_values), "model", values, max_layers, SET_BY)
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and is_path(spec)):
        path = os.fspath(spec)
        if not isinstance(path, str):
            raise TypeError(f"a spec path must be text, not {type(path).__name__}")
        text, source = loader.read_source(path) if path != loader.STDIN else _missing(path)
        name = os.path.splitext(os.path.basename(source))[0]
        return loader.parse_spec(text, source, name, values, max_layers, max_values, SET_BY)
    if isinstance(spec, str):
        return loader.parse_spec(spec, "<string>", "model", values, max_layers, max_values, SET_BY)
    raise TypeError(f"a spec is a path, YAML text or a dict, not {type(spec).__name__}")


def is_path(text: str) -> bool:
    """A one-line string naming an existing file, or one that ends like a spec file; other strings
    are YAML text (`"{input: [8], layers: [Flatten]}"`)."""
    return "\n" not in text and (os.path.isfile(text) or text.lower().endswith(SPEC_SUFFIXES))


def _missing(path: str) -> tuple[str, str]:
    from paramcalc.errors import Location, SpecError

    raise SpecError(f"there is no file `{path}`", Location(path),
                    "give the path of a .yaml file, YAML text, or a dict.")


# The command line's options, as a Python caller gives the same thing.
_FLAGS = (
    (re.compile(r"--set ([A-Za-z_]\w*)=([^\s,;)]*[^\s,;).])"), r"analyze(..., \1=\2)"),
    (re.compile(r"--max-layers( N)?"), "`max_layers=`"),
    (re.compile(r"--max-yaml-values( N)?"), "`max_yaml_values=`"),
)


def in_python_words(error: ParamcalcError) -> ParamcalcError:
    """The error with the command line's flags in its wording replaced by this API's arguments."""
    for one in error.each():
        one.message = python_words(one.message)
        one.hint = python_words(one.hint) if one.hint else one.hint
        one.origin = python_words(one.origin)
    error.args = (error.message,)
    return error


def python_words(text: str) -> str:
    for pattern, replacement in _FLAGS:
        text = pattern.sub(replacement, text)
    return text
