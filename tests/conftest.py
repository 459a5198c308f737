"""Shared helpers: run a spec given as text or as a dict, find the repository's files, and compare
a command's output with a golden file (the `snapshot` fixture, `pytest --update-snapshots`)."""

from __future__ import annotations

import difflib
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from paramcalc.engine import analyze
from paramcalc.report import Report
from paramcalc.spec.loader import load_spec, parse_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"


def run_text(text: str, source: str = "test.yaml") -> Report:
    return analyze(parse_spec(text, source))


def run_dict(spec: dict[str, Any]) -> Report:
    return run_text(yaml.safe_dump(spec, sort_keys=False))


def run_file(name: str) -> Report:
    return analyze(load_spec(str(SPECS / name)))


@pytest.fixture
def spec_file(tmp_path: Path):
    """Write spec text to a file and return its path as a string."""

    def write(text: str, name: str = "spec.yaml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


# -- golden output files -------------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-snapshots", action="store_true", default=False,
                     help="rewrite the golden files in tests/golden/ with the current output instead of comparing.")


# The environment of every snapshot run: no colour, a fixed width, nothing that forces a terminal.
STABLE_ENV: dict[str, str | None] = {"NO_COLOR": "1", "COLUMNS": "120", "LINES": "40", "FORCE_COLOR": None,
                                     "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None, "PARAMCALC_TRACEBACK": None}


def transcript(args: list[str], result: Result) -> str:
    """A command's run as the golden file holds it: the command, stdout, stderr, the exit code.

    Trailing spaces are dropped from every line (rich pads some lines to the console width)."""
    parts = [f"$ paramcalc {shlex.join(args)}\n", result.stdout]
    if result.stderr:
        parts += ["--- stderr ---\n", result.stderr]
    text = "".join(parts)
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(lines) + f"\n--- exit code {result.exit_code} ---\n"


@dataclass
class Snapshot:
    """Compares output with `directory/<name>.txt`; with `update`, rewrites the file instead."""

    directory: Path
    update: bool

    def __call__(self, name: str, *args: str, input: str | None = None, masks: dict[str, str] | None = None) -> Result:
        """Run `paramcalc ARGS` from the repository root, in a stable environment, and compare its
        transcript with the golden file `name`; `masks` (regular expression -> replacement) hide what
        differs from run to run, such as JUnit's timings."""
        from paramcalc.cli import cli

        cwd = os.getcwd()
        os.chdir(ROOT)  # spec paths in the output are as given: relative, the same on every machine
        try:
            result = CliRunner(env=STABLE_ENV).invoke(cli, list(args), input=input)
        finally:
            os.chdir(cwd)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        text = transcript(list(args), result)
        for pattern, replacement in (masks or {}).items():
            text = re.sub(pattern, replacement, text)
        self.compare(name, text)
        return result

    def compare(self, name: str, text: str) -> None:
        path = self.directory / f"{name}.txt"
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        old = path.read_bytes().decode("utf-8") if path.exists() else None
        if self.update:
            if old != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(text.encode("utf-8"))
            return
        if old is None:
            pytest.fail(f"there is no golden file {shown}; run `python -m pytest --update-snapshots` to write it "
                        "from the current output, and review it.", pytrace=False)
        if old != text:
            diff = "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True), f"{shown} (golden)",
                                                "current output"))
            pytest.fail(f"the output differs from {shown}:\n{diff}\nIf the change is intended, run "
                        "`python -m pytest --update-snapshots` and review the diff of tests/golden/.", pytrace=False)


@pytest.fixture
def snapshot(request: pytest.FixtureRequest) -> Snapshot:
    """`snapshot("name", "summary", "--width", "120", "specs/lenet5.yaml")` runs the command and
    compares its transcript with tests/golden/name.txt (`pytest --update-snapshots` rewrites it)."""
    return Snapshot(GOLDEN, bool(request.config.getoption("--update-snapshots")))


def refusal(path: Path) -> str:
    """The one-paragraph located error of a spec file paramcalc refuses: exit 2, no traceback, `FILE:L:C:`."""
    from click.testing import CliRunner

    from paramcalc.cli import cli

    result = CliRunner().invoke(cli, ["summary", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and (result.exception is None or isinstance(result.exception, SystemExit))
    message = result.stderr.strip()
    assert message.startswith(f"{path}:") and ": error: " in message and "Fix: " in message, message
    assert "\n" not in message, message  # one paragraph
    return message


def located_text(path: Path, message: str) -> str:
    """The spec text at the line and column the error names."""
    line, column = (int(n) for n in message[len(str(path)) + 1:].split(":")[:2])
    return path.read_text().splitlines()[line - 1][column - 1:]
