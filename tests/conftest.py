"""Shared helpers: run a spec given as text or as a dict, find the repository's files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from paramcalc.engine import analyze
from paramcalc.report import Report
from paramcalc.spec.loader import load_spec, parse_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
