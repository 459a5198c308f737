"""Fuzzing harness: mutated specs, grammar-made specs and raw bytes thrown at the loader, the
engine and the renderers. Anything but a report or paramcalc's own error is a crash.

Run for a bounded time (CI runs it for a minute; the seed makes a run repeatable):
    python tests/fuzz/fuzz_specs.py --seconds 60 [--seed 1]
It exits 1 on the first crash and prints the input; save that input under tests/cases/fuzz/
(one file per crash) so that tests/test_fuzz_regressions.py keeps it fixed."""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from paramcalc.engine import analyze  # noqa: E402
from paramcalc.errors import ParamcalcError  # noqa: E402
from paramcalc.render.explain import render_explain  # noqa: E402
from paramcalc.render.json_report import render_json  # noqa: E402
from paramcalc.render.table import render_table  # noqa: E402
from paramcalc.spec.loader import parse_spec  # noqa: E402
from paramcalc.spec.yamlnodes import decode  # noqa: E402

KINDS = ["Conv2D", "Conv2d", "Dense", "Linear", "MaxPooling2D", "MaxPool2d", "Flatten", "Add", "Concatenate",
         "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "ConvTranspose2d", "BatchNormalization",
         "Reshape", "ZeroPadding2D", "Cropping2D", "UpSampling2D", "GlobalAveragePooling2D", "AdaptiveAvgPool2d",
         "PReLU", "LayerNorm", "Upsample", "Split", "Chunk", "Unbind", "Parameter", "Mean", "Select", "SelectToken",
         "blk", "Nope", "conv2d"]
KEYS = ["filters", "kernel_size", "strides", "padding", "units", "pool_size", "name", "inputs", "repeat", "when",
        "axis", "groups", "dilation_rate", "depth_multiplier", "target_shape", "cropping", "size", "out_channels",
        "stride", "ceil_mode", "output_padding", "use_bias", "normalized_shape", "scale_factor", "chunks", "dim",
        "split_size_or_sections", "shape", "index", "keepdim", "x"]
VALUES = ["0", "1", "2", "3", "-1", "7", "1e999", "2.5", "same", "valid", "causal", "true", "null", "[1, 2]",
          "[[0, 1], [1, 0]]", "[]", "{}", "'a'", "alpha", '"alpha * 2"', '"1/0"', '"2**2**99"', "input",
          "[input, a]", "a", "&x [1]", "*x", "!!python/object:os.system", "99999999999999999999999999", "~",
          '"int(alpha)"', '"(((("', "'{i}'", '"x{i}"', "[H, W]", "1e-300", "nan", ".inf", '"a[0]"', "a[-1]",
          '["a[1]", a]', '"input[0]"', '"a[99999999999999999999]"']
TOP = ["input: [8, 8, 3]\n", "input: [H, W, 3]\n", "inputs: {a: [4], b: [4]}\n", "vars: {alpha: 1.5}\n",
       "data_format: channels_first\n", "blocks: {blk: {args: {f: 2}, layers: [{Dense: f}]}}\n",
       "expect: {params: 1}\n", "outputs: [a]\n", "name: x\n", "input: [0]\n", "input: [1e3]\n", "---\n", "\t",
       "%YAML 1.1\n", "input: [99999999999999999999, 3]\n"]


def grammar_spec(rng: random.Random) -> str:
    text = "".join(rng.choice(TOP) for _ in range(rng.randint(0, 4))) + "layers:\n"
    for _ in range(rng.randint(0, 6)):
        pairs = ", ".join(f"{rng.choice(KEYS)}: {rng.choice(VALUES)}" for _ in range(rng.randint(0, 4)))
        text += f"  - {rng.choice(KINDS)}: {{{pairs}}}\n" if pairs else f"  - {rng.choice(KINDS)}\n"
    return text


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(6)
        i = rng.randrange(len(lines))
        if choice == 0:  # delete a line
            del lines[i]
            lines = lines or [""]
        elif choice == 1:  # duplicate a line
            lines.insert(i, lines[i])
        elif choice == 2:  # swap a token for another
            line = lines[i]
            words = line.split(" ")
            words[rng.randrange(len(words))] = rng.choice(VALUES + KEYS + KINDS)
            lines[i] = " ".join(words)
        elif choice == 3:  # cut short
            lines = lines[: i + 1]
            lines[-1] = lines[-1][: rng.randint(0, len(lines[-1]))]
        elif choice == 4:  # change a number
            lines[i] = "".join(str(rng.choice([0, 1, 2, 3, 7, 10**30, -5])) if c.isdigit() and rng.random() < 0.3
                               else c for c in lines[i])
        else:  # noise
            lines[i] = lines[i][: rng.randint(0, len(lines[i]))] + rng.choice(["{", "[", ":", "'", '"', "&a", "*a",
                                                                                 "\x00", "\t", "é"]) + "\n"
    return "".join(lines)


def exercise(text: str) -> None:
    """Everything a user can reach from a spec's text: paramcalc's own errors are fine, nothing else."""
    try:
        report = analyze(parse_spec(text, "fuzz.yaml"))
        render_json(report)
        render_explain(report, list(report.rows))
        render_table(report)
    except ParamcalcError as error:
        error.describe()


def one_input(rng: random.Random, corpus: list[str]) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return grammar_spec(rng).encode()
    if kind == 1:
        return mutate(rng.choice(corpus), rng).encode()
    if kind == 2:
        return mutate(grammar_spec(rng), rng).encode()
    data = bytearray(rng.choice(corpus).encode())
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


class Hang(Exception):
    """One input took longer than PER_INPUT_SECONDS: paramcalc must never hang."""


PER_INPUT_SECONDS = 5


def _alarm(signum: int, frame: object) -> None:
    raise Hang(f"no answer within {PER_INPUT_SECONDS} s")


def run(seconds: float, seed: int) -> int:
    signal.signal(signal.SIGALRM, _alarm)
    rng = random.Random(seed)
    corpus = [p.read_text() for p in sorted((ROOT / "specs").glob("*.yaml"))]
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline:
        data = one_input(rng, corpus)
        count += 1
        signal.alarm(PER_INPUT_SECONDS)
        started = time.monotonic()
        try:
            try:
                text = decode(data, "fuzz.yaml")
            except ParamcalcError:
                continue
            exercise(text)
            if time.monotonic() - started > PER_INPUT_SECONDS:  # stuck in C, where the alarm cannot interrupt
                raise Hang(f"took {time.monotonic() - started:.0f} s")
        except Exception:  # a crash or a hang: anything that is not paramcalc's own error
            print(f"fuzz: CRASH after {count:,} inputs (seed {seed}) on this input:\n{data!r}\n", file=sys.stderr)
            traceback.print_exc()
            return 1
        finally:
            signal.alarm(0)
    print(f"fuzz: {count:,} inputs in {seconds:.0f} s (seed {seed}), no crash")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    sys.exit(run(options.seconds, options.seed))
