"""`paramcalc export`: the code, to stdout or a file."""

from __future__ import annotations

from paramcalc.export import ExportError, export_spec
from paramcalc.outputfile import text_or_file


def run_export(spec: str, target: str, output: str | None) -> str:
    """The code for stdout ("" when it went to `output`, with a line saying so on stderr)."""
    code = export_spec(spec, target)
    return text_or_file(code, output, ExportError)
