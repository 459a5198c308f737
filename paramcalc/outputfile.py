"""Writing a command's text (an imported spec, exported code) to the file `-o` names."""

from __future__ import annotations

from pathlib import Path

from paramcalc.errors import Location, ParamcalcError


def text_or_file(text: str, output: str | None, error: type[ParamcalcError]) -> str:
    """`text` for stdout, or "" once it is written to `output` (a line on stderr says so); a file that
    cannot be written is `error`, located at the path."""
    if output is None:
        return text
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as failure:
        raise error(f"cannot write {output}: {failure.strerror}", Location(output),
                    "give a path in a directory you can write to.") from None
    import click

    click.echo(f"wrote {output}", err=True)
    return ""
