"""The catalogue of bad specs: tests/bad_specs/*.yaml, one mistake (or one set of mistakes) per file.

Each file starts with the errors `paramcalc summary FILE` must print, in order, one comment line each:

    # error: LINE:COLUMN: text that the message must contain (written whole, as printed)
    # hint: text that the error's `Fix:` part must contain (optional)

and must fail with exit code 2, nothing on stdout, no traceback, and exactly those errors on stderr,
each one paragraph `FILE:LINE:COLUMN: error: message. Fix: hint`. Other comment lines are free.
A file is a valid input on its own: `paramcalc summary tests/bad_specs/zero_stride.yaml` shows the error.
(They are not under tests/cases/, whose files tests/test_yaml_events.py reads as well-formed YAML.)"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli

BAD_SPECS = Path(__file__).resolve().parent / "bad_specs"
FILES = sorted(BAD_SPECS.glob("*.yaml"))
ERROR = re.compile(r"# error: (\d+):(\d+): (.+)")
HINT = re.compile(r"# hint: (.+)")


@dataclass
class Expected:
    line: int
    column: int
    message: str
    hint: str | None = None


def expected_errors(path: Path) -> list[Expected]:
    """The `# error:` / `# hint:` lines of the file's leading comments (the file may not be UTF-8)."""
    found: list[Expected] = []
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        if not line.startswith("#"):
            break
        if error := ERROR.fullmatch(line):
            found.append(Expected(int(error[1]), int(error[2]), error[3]))
        elif hint := HINT.fullmatch(line):
            assert found and found[-1].hint is None, f"{path.name}: a `# hint:` line belongs after its `# error:` line"
            found[-1].hint = hint[1]
    return found


def test_the_catalogue_is_complete():
    # 44 cases moved here from test_errors.py and test_cli.py; add to the catalogue, never shrink it
    # without saying why.
    assert len(FILES) >= 44
    for path in FILES:
        assert expected_errors(path), f"{path.name} has no `# error: LINE:COLUMN: message` header"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_bad_spec(path):
    expected = expected_errors(path)
    result = CliRunner().invoke(cli, ["summary", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected), f"expected {len(expected)} error(s), got:\n{result.stderr}"
    for line, want in zip(lines, expected):
        place = f"{path}:{want.line}:{want.column}: error: "
        assert line.startswith(place), f"expected at {want.line}:{want.column}:\n{line}"
        message, fix, hint = line[len(place):].partition(" Fix: ")
        assert fix, f"every error says how to fix it:\n{line}"
        assert want.message in message, f"expected the message {want.message!r}:\n{line}"
        if want.hint is not None:
            assert want.hint in hint, f"expected the hint {want.hint!r}:\n{line}"


def test_the_header_reader(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("# error: 3:5: first\n# hint: do this\n# a remark\n# error: 4:1: second\ninput: [4]\n"
                    "# error: 9:9: not in the header\n")
    assert expected_errors(path) == [Expected(3, 5, "first", "do this"), Expected(4, 1, "second")]
