"""Start-up stays cheap by importing only what a command needs. These tests check *which* modules a
command loads, never how long it takes (timings live in benchmarks/run.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from paramcalc.record import Record
from tests.conftest import SPECS

# Run a command in a fresh interpreter and list the modules it ended up with.
_MODULES_AFTER = """
import io, json, sys, contextlib
from paramcalc import cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        cli.cli.main(args=sys.argv[1:], prog_name="paramcalc", standalone_mode=False)
    except SystemExit:
        pass
print(json.dumps(sorted(sys.modules)))
"""


def modules_after(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", _MODULES_AFTER, *args], capture_output=True, text=True,
                          check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


# Needed only by other commands, other formats, other conventions, or on the error path.
NOT_FOR_A_JSON_SUMMARY = {"rich.console", "rich.table", "paramcalc.compare", "paramcalc.conventions",
                          "paramcalc.check", "paramcalc.update", "paramcalc.render.table", "difflib",
                          "sympy", "csv", "dataclasses"}  # (pathlib: an editable install imports it)


def test_json_summary_imports_no_renderer_or_other_command() -> None:
    loaded = modules_after("summary", "--format", "json", str(SPECS / "lenet5.yaml"))
    assert "paramcalc.engine" in loaded  # it did run
    assert not loaded & NOT_FOR_A_JSON_SUMMARY, loaded & NOT_FOR_A_JSON_SUMMARY


def test_table_summary_imports_rich_but_not_other_commands() -> None:
    loaded = modules_after("summary", str(SPECS / "mobilenet_v1.yaml"))
    assert {"rich.console", "rich.table"} <= loaded
    assert not loaded & {"paramcalc.compare", "paramcalc.conventions", "paramcalc.check", "difflib", "sympy"}


def test_help_imports_neither_the_engine_nor_yaml() -> None:
    loaded = modules_after("--help")
    assert not loaded & {"paramcalc.engine", "paramcalc.layers", "yaml", "rich.console"}


class Point(Record):
    __slots__ = ("x", "y")

    def __init__(self, x: int, y: int = 0) -> None:
        self.x = x
        self.y = y


def test_record_compares_by_value_and_replaces_like_a_dataclass() -> None:
    p = Point(1, 2)
    assert p == Point(1, 2) and p != Point(1, 3) and hash(p) == hash(Point(1, 2))
    assert p.replace(y=5) == Point(1, 5) and p == Point(1, 2)  # the original is unchanged
    assert repr(p) == "Point(x=1, y=2)"
    assert (p == (1, 2)) is False
    with pytest.raises(AttributeError):
        p.z = 3  # type: ignore[attr-defined]  # slotted: no stray fields
