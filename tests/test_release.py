"""Ready to publish (issue 16): one version, which `paramcalc --version` prints and the metadata
reads; a changelog entry for it; the license as an SPDX expression; and a wheel and sdist that
build, install in a fresh environment outside the checkout, and run with the model zoo."""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from paramcalc import __version__
from paramcalc.cli import cli
from tests.conftest import ROOT, SPECS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
ZOO = sorted(path.name for path in SPECS.glob("*.yaml"))


def test_the_version_paramcalc_prints_is_the_package_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]  # read from paramcalc.__version__
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"paramcalc, version {__version__}\n"


def test_the_changelog_has_an_entry_for_the_version():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(__version__)}\b", changelog, re.MULTILINE)


def test_the_metadata_a_package_index_shows():
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    classifiers = PROJECT["classifiers"]
    assert not any(c.startswith("License ::") for c in classifiers)  # PEP 639: the SPDX expression says it
    tested = {f"Programming Language :: Python :: 3.{minor}" for minor in range(10, 14)}
    assert tested <= set(classifiers) and PROJECT["requires-python"] == ">=3.10"


def copy_source(to: Path) -> Path:
    """What a checkout holds of the package's sources, copied (building writes into its source folder)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "*.egg-info")
    for name in ("paramcalc", "specs", "tests"):
        shutil.copytree(ROOT / name, to / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, to / name)
    return to


def quiet_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PARAMCALC_TRACEBACK")}
    env.update(extra)
    return env


@pytest.mark.packaging
def test_the_wheel_and_sdist_build_install_and_run_outside_the_checkout(tmp_path):
    """One test, about 30 s: build both distributions (the wheel from the sdist, so that the sdist is
    complete), install the wheel through the GitHub Action's own install step into a fresh virtual
    environment, and run it from a folder that is not the checkout."""
    source = copy_source(tmp_path / "source")
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
                           capture_output=True, text=True, env=quiet_env(), timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel, sdist = dist / f"paramcalc-{__version__}-py3-none-any.whl", dist / f"paramcalc-{__version__}.tar.gz"
    assert sorted(dist.iterdir()) == sorted([wheel, sdist])

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = email.message_from_bytes(archive.read(f"paramcalc-{__version__}.dist-info/METADATA"))
    assert {f"paramcalc/zoo/{name}" for name in ZOO} <= names and "paramcalc/modelzoo.py" in names
    assert "paramcalc/data/devices.json" in names  # the --device presets
    assert not any(name.startswith(("specs/", "tests/")) for name in names)
    assert metadata["Version"] == __version__ and metadata["License-Expression"] == "MIT"
    assert f"paramcalc-{__version__}.dist-info/licenses/LICENSE" in names
    with tarfile.open(sdist) as archive:
        members = {member.name.split("/", 1)[1] for member in archive.getmembers() if "/" in member.name}
    assert {"CHANGELOG.md", "LICENSE", "setup.py", "specs/lenet5.yaml", "tests/schemas/junit-10.xsd"} <= members

    elsewhere = tmp_path / "elsewhere"  # not the checkout: nothing of it on the import path
    elsewhere.mkdir()
    runner = tmp_path / "runner"
    runner.mkdir()
    installed = subprocess.run(
        ["bash", str(ROOT / "action" / "check.sh")], cwd=elsewhere, capture_output=True, text=True, timeout=600,
        env=quiet_env(RUNNER_TEMP=str(runner), PARAMCALC_PACKAGE=str(wheel), PARAMCALC_PYTHON=sys.executable,
                      PARAMCALC_PATHS="zoo:lenet5 zoo:resnet50", PARAMCALC_ARGS="--strict"))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert installed.stdout.splitlines() == [f"paramcalc, version {__version__}",
                                             "2 specs: 2 passed, 0 failed, 0 unchecked, 0 unreadable"]

    paramcalc = runner / "paramcalc-venv" / "bin" / "paramcalc"

    def run(*args: str) -> str:
        done = subprocess.run([str(paramcalc), *args], cwd=elsewhere, capture_output=True, text=True,
                              env=quiet_env(), timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    assert run("--version") == f"paramcalc, version {__version__}\n"
    summary = run("summary", "--width", "120", "zoo:lenet5")
    assert "Total params: 61,706 (241.04 KB)" in summary and "Total MACs: 416,520" in summary
    assert len(run("zoo", "--format", "csv").splitlines()) == len(ZOO) + 1
    assert "a100-80gb" in run("devices", "--format", "csv")
    python = runner / "paramcalc-venv" / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import paramcalc.modelzoo as z; print(z.zoo_dir())"], cwd=elsewhere,
                           capture_output=True, text=True, env=quiet_env(), check=True).stdout.strip()
    assert Path(where).is_relative_to(runner) and Path(where).name == "zoo"  # the installed copy, not specs/
