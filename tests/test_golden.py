"""Golden output: whole outputs of the commands, compared with tests/golden/<name>.txt.

Each file is a transcript (the command, stdout, stderr, exit code) of a run from the repository root
with NO_COLOR, a fixed --width and no terminal (see `snapshot` in conftest.py). When an output is meant
to change, `python -m pytest --update-snapshots` rewrites the files; review their diff before committing.
The inputs that are not bundled specs live in tests/cases/golden/."""

from __future__ import annotations

import re

import pytest

from tests.conftest import GOLDEN, ROOT, Snapshot

LENET = "specs/lenet5.yaml"
ALEXNET_224 = "tests/cases/golden/alexnet_224.yaml"
TINY_RESNET = "tests/cases/golden/tiny_resnet.yaml"
DRIFTED = "tests/cases/golden/lenet5_drifted.yaml"
WIDTH = ["--width", "140"]  # wide enough that rich elides no number or shape in these tables

# (golden file name, exit code, command arguments)
CASES = [
    ("summary_lenet5_table", 0, ["summary", *WIDTH, LENET]),
    ("summary_lenet5_csv", 0, ["summary", "--format", "csv", LENET]),
    ("summary_lenet5_markdown", 0, ["summary", "--format", "markdown", LENET]),
    ("summary_lenet5_json", 0, ["summary", "--format", "json", LENET]),
    ("summary_alexnet_224_table", 0, ["summary", *WIDTH, ALEXNET_224]),  # the floor warning under the table
    ("summary_alexnet_224_json", 0, ["summary", "--format", "json", ALEXNET_224]),
    ("summary_tiny_resnet_table", 0, ["summary", *WIDTH, TINY_RESNET]),  # a graph: the "Connected to" column
    ("summary_tiny_resnet_csv", 0, ["summary", "--format", "csv", TINY_RESNET]),
    ("summary_mobilenet_v1_depth0_table", 0, ["summary", *WIDTH, "--depth", "0", "specs/mobilenet_v1.yaml"]),
    ("summary_mobilenet_v1_depth0_markdown", 0, ["summary", "--format", "markdown", "--depth", "0",
                                                 "specs/mobilenet_v1.yaml"]),
    ("explain_lenet5", 0, ["explain", LENET]),
    ("explain_lenet5_conv2d_1", 0, ["explain", LENET, "conv2d_1"]),
    ("check_pass_text", 0, ["check", LENET]),
    ("check_text", 1, ["check", LENET, DRIFTED]),
    ("check_json", 1, ["check", "--format", "json", LENET, DRIFTED]),
    ("check_junit", 1, ["check", "--format", "junit", LENET, DRIFTED]),
    ("check_github", 1, ["check", "--format", "github", LENET, DRIFTED]),
]


# What differs from run to run: JUnit's timings.
MASKS = {"check_junit": {r'time="[0-9.]+"': 'time="T"'}}


@pytest.mark.parametrize("name, exit_code, args", CASES, ids=[c[0] for c in CASES])
def test_golden_output(snapshot, name, exit_code, args):
    result = snapshot(name, *args, masks=MASKS.get(name))
    assert result.exit_code == exit_code


def test_every_golden_file_is_used():
    """A golden file that no test names is stale: delete it, or name it in a test."""
    sources = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "tests").rglob("test_*.py"))
    unused = [path.name for path in sorted(GOLDEN.glob("*.txt")) if f'"{path.stem}"' not in sources]
    assert not unused, f"golden files that no test uses: {unused}"


def test_golden_tables_are_not_elided():
    """rich shortens a cell that does not fit with "…": a golden table must show every figure whole."""
    for name, _, args in CASES:
        if "--width" in args:
            assert "…" not in (GOLDEN / f"{name}.txt").read_text(encoding="utf-8"), name


# -- the snapshot fixture itself ---------------------------------------------------------------------------

def test_snapshot_passes_on_equal_output_and_fails_on_a_change(tmp_path):
    (tmp_path / "lenet.txt").write_text("$ paramcalc summary\nsomething else\n--- exit code 0 ---\n",
                                        encoding="utf-8")
    snap = Snapshot(tmp_path, update=False)
    with pytest.raises(pytest.fail.Exception) as failed:
        snap("lenet", "summary", "--format", "csv", LENET)
    message = str(failed.value)
    assert "the output differs from" in message and "lenet.txt" in message
    assert "-something else" in message and "+conv2d,Conv2D," in message  # a unified diff
    assert "--update-snapshots" in message

    Snapshot(tmp_path, update=True)("lenet", "summary", "--format", "csv", LENET)  # rewrites the file
    written = (tmp_path / "lenet.txt").read_text(encoding="utf-8")
    assert written.startswith(f"$ paramcalc summary --format csv {LENET}\nname,type,") and \
        written.endswith("--- exit code 0 ---\n")
    snap("lenet", "summary", "--format", "csv", LENET)  # and now it matches

    (tmp_path / "lenet.txt").write_text(written.replace("61,706", "61,707").replace("61706", "61707"),
                                        encoding="utf-8")
    with pytest.raises(pytest.fail.Exception):
        snap("lenet", "summary", "--format", "csv", LENET)  # one changed figure is enough


def test_snapshot_without_a_golden_file_fails_and_says_how_to_write_it(tmp_path):
    with pytest.raises(pytest.fail.Exception, match=re.escape("run `python -m pytest --update-snapshots`")):
        Snapshot(tmp_path, update=False)("missing", "layers", "Dense")
    assert not (tmp_path / "missing.txt").exists()


def test_snapshot_records_stderr_and_the_exit_code(tmp_path):
    Snapshot(tmp_path, update=True)("bad", "summary", "-", input="input: [4]\nlayers: [Conv2DD]\n")
    text = (tmp_path / "bad.txt").read_text(encoding="utf-8")
    assert text.startswith("$ paramcalc summary -\n--- stderr ---\n<stdin>:2:10: error: unknown layer kind `Conv2DD`")
    assert text.endswith("\n--- exit code 2 ---\n")
