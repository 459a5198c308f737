"""`paramcalc export`: the code, to stdout or a file."""

from __future__ import annotations

from pathlib import Path

from paramcalc.errors import Location
from paramcalc.export import ExportError, export_spec


def run_export(spec: str, target: str, output: str | None) -> str:
    """The code for stdout ("" when it went to `output`, with a line saying so on stderr)."""
    code = export_spec(spec, target)
    if output is None:
        return code
    try:
        Path(output).write_text(code, encoding="utf-8")
    except OSError as error:
        raise ExportError(f"cannot write {output}: {error.strerror}", Location(output),
                          "give a path in a directory you can write to.") from None
    import click

    click.echo(f"wrote {output}", err=True)
    return ""
