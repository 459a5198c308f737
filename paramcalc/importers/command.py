"""`paramcalc import`: the importer's spec, computed once to be sure it reads, then written."""

from __future__ import annotations

from pathlib import Path

from paramcalc.errors import Location, ParamcalcError
from paramcalc.importers import ImportError_, import_file


def run_import(path: str, output: str | None) -> str:
    """The spec text for stdout ("" when it went to `output`, with a line saying so on stderr)."""
    text = import_file(path)
    check_spec(path, text)
    if output is None:
        return text
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise ImportError_(f"cannot write {output}: {error.strerror}", Location(output),
                           "give a path in a directory you can write to.") from None
    import click

    click.echo(f"wrote {output}", err=True)
    return ""


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
