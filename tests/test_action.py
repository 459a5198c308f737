"""The GitHub Action (issue 16): action.yml is a composite action whose one step runs
action/check.sh with its inputs as environment variables; the script runs `paramcalc check
--format github` and exits with its code. Here it runs the paramcalc of this environment
(`package: none`); tests/test_release.py runs its install step with a freshly built wheel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from paramcalc import __version__
from tests.conftest import ROOT, SPECS

SCRIPT = ROOT / "action" / "check.sh"
LENET = (SPECS / "lenet5.yaml").read_text(encoding="utf-8").split("expect:")[0]


def action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


def test_action_yml_runs_the_tested_script_with_its_inputs_as_variables():
    spec = action()
    assert spec["runs"]["using"] == "composite"
    (step,) = spec["runs"]["steps"]
    assert step["shell"] == "bash" and step["run"] == 'bash "$GITHUB_ACTION_PATH/action/check.sh"'
    # Every input reaches the script as PARAMCALC_<NAME>, and no input is pasted into the script's text.
    assert step["env"] == {f"PARAMCALC_{name.upper()}": f"${{{{ inputs.{name} }}}}" for name in spec["inputs"]}
    assert {name: spec["inputs"][name]["default"] for name in spec["inputs"]} == {
        "paths": ".", "args": "", "package": "", "python": "python3"}
    script = SCRIPT.read_text(encoding="utf-8")
    assert all(f"PARAMCALC_{name.upper()}" in script for name in spec["inputs"])


def run_action(cwd: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    """action/check.sh as the action runs it, in `cwd` (the job's workspace)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PARAMCALC_")}
    env.update({f"PARAMCALC_{name.upper()}": value for name, value in inputs.items()})
    env["GITHUB_WORKSPACE"] = str(cwd)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # this paramcalc
    return subprocess.run(["bash", str(SCRIPT)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    if not (Path(sys.executable).parent / "paramcalc").exists():
        pytest.fail("install the package first (pip install '.[test]'): the console script is missing")
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "good.yaml").write_text(LENET + "expect:\n  params: 61706\n", encoding="utf-8")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n", encoding="utf-8")
    return tmp_path


def test_the_action_passes_when_every_figure_holds(workspace):
    done = run_action(workspace, package="none")  # paths: the default, the whole workspace
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [f"paramcalc, version {__version__}",
                                        "1 spec: 1 passed, 0 failed, 0 unchecked, 0 unreadable"]


def test_the_action_annotates_each_failing_spec_and_fails_the_step(workspace):
    (workspace / "specs" / "drifted.yaml").write_text(LENET + "expect:\n  params: 61000\n", encoding="utf-8")
    (workspace / "specs" / "plain.yaml").write_text(LENET, encoding="utf-8")
    done = run_action(workspace, package="none", paths="specs/", args="--strict")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith("::error file=specs/drifted.yaml,line=16,col=11,title=paramcalc check%3A 1 figure "
                               "differs::line 16: params: expected 61,000, got 61,706")
    assert lines[1].endswith("%0Ato accept the computed figures, run: paramcalc check --update specs/drifted.yaml")
    assert lines[2].startswith("::error file=specs/plain.yaml,line=1,title=paramcalc check%3A no expect%3A block::")
    assert lines[3] == "3 specs: 1 passed, 1 failed, 1 unchecked, 0 unreadable"


def test_the_action_exits_2_on_a_spec_it_cannot_read(workspace):
    (workspace / "specs" / "broken.yaml").write_text("input: [4]\nlayers: [Conv2DD]\n", encoding="utf-8")
    done = run_action(workspace, package="none", paths="specs/good.yaml specs/broken.yaml")
    assert done.returncode == 2
    assert done.stdout.splitlines()[1].startswith("::error file=specs/broken.yaml,line=2,col=10,")
