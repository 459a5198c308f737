"""`paramcalc import`: the importer's spec, computed once to be sure it reads, then written."""

from __future__ import annotations

from paramcalc.errors import ParamcalcError
from paramcalc.importers import Imported, ImportError_, import_model
from paramcalc.outputfile import text_or_file


def run_import(path: str, output: str | None) -> str:
    """The spec text for stdout ("" when it went to `output`, with a line saying so on stderr)."""
    imported = import_model(path)
    check_spec(path, imported)
    return text_or_file(imported.text, output, ImportError_)


def check_spec(path: str, imported: Imported) -> None:
    """An imported spec that paramcalc cannot compute is refused here, never written half-right; the
    error points at the model file's layer (at the argument the spec's error is at, when there is one)."""
    from paramcalc.engine import analyze
    from paramcalc.spec.loader import parse_spec

    spec = None
    try:
        spec = parse_spec(imported.text, "imported spec")
        analyze(spec, keep_formulas=False)
    except ParamcalcError as error:
        first = error.errors[0]
        where = f" at layer `{first.layer}`" if first.layer else ""
        layer = next((item for item in (spec.layers if spec else ()) if item.name == first.layer), None)
        argument = next((key for key, loc in layer.arg_locs.items() if loc == first.loc), None) if layer else None
        raise ImportError_(f"the model in {path} does not compute{where}: {first.message}",
                           imported.place(first.layer, argument), first.hint or "check the model file.") from None
