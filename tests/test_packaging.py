"""The packaging promises: the minimum versions that pyproject.toml declares are the ones CI tests."""

from __future__ import annotations

import re
import sys

import pytest

from tests.conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_minimums() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # What a user installs (the runtime and the test extra); the lint tools are pinned exactly instead.
    requirements = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    minimums = {}
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        assert match, f"{requirement!r}: every dependency needs a plain lower bound (name>=version) that CI tests"
        minimums[_canonical(match[1])] = match[2]
    return minimums


def pinned_minimums() -> dict[str, str]:
    pins = {}
    for line in (ROOT / ".ci" / "constraints-min.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line!r}: the constraints file pins exact versions (name==version)"
            pins[_canonical(name)] = version.strip()
    return pins


def test_ci_tests_exactly_the_declared_minimums():
    assert pinned_minimums() == declared_minimums()


def test_ci_runs_the_suite_under_the_minimum_constraints():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "constraints-min.txt" in script and "PIP_CONSTRAINT" in script


def test_license_is_an_spdx_string():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert isinstance(project["license"], str)


def test_the_lint_tools_are_pinned_and_ci_runs_them():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert extras["lint"] and all("==" in requirement for requirement in extras["lint"])
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".[lint]" in script and "ruff check" in script and "mypy" in script
