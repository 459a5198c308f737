"""`paramcalc import`: the importer's spec, computed once to be sure it reads, then written."""

from __future__ import annotations

from paramcalc.errors import Location, ParamcalcError
from paramcalc.importers import ImportError_, import_file
from paramcalc.outputfile import text_or_file


def run_import(path: str, output: str | None) -> str:
    """The spec text for stdout ("" when it went to `output`, with a line saying so on stderr)."""
    text = import_file(path)
    check_spec(path, text)
    return text_or_file(text, output, ImportError_)


def check_spec(path: str, text: str) -> None:
    """An imported spec that paramcalc cannot compute is refused here, never written half-right."""
    from paramcalc.engine import analyze
    from paramcalc.spec.loader import parse_spec

    try:
        analyze(parse_spec(text, "imported spec"), keep_formulas=False)
    except ParamcalcError as error:
        first = error.errors[0]
        where = f" at layer `{first.layer}`" if first.layer else ""
        raise ImportError_(f"the model in {path} does not compute{where}: {first.message}", Location(path),
                           first.hint or "check the model file.") from None
