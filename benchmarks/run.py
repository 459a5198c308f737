"""paramcalc benchmarks: start-up, scale, sweeps and (when installed) peers. Prints a table of
figures, each the median of several runs, and writes them to benchmarks/results.json.

    python benchmarks/run.py                  # everything (a few minutes)
    python benchmarks/run.py --quick          # fewer repeats and sizes
    python benchmarks/run.py --peers-python /path/to/venv/bin/python   # torchinfo / fvcore comparison

Timings are whole processes (what a user waits for) unless marked in-process. Memory is the
peak resident set size of the process that did the work."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Children may write and reuse bytecode (.pyc), as an installed package does: pip compiles it at
# install time. Without this, PYTHONDONTWRITEBYTECODE=1 (set on some machines) makes every run
# recompile paramcalc from source, which once tripled the start-up figures.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], repeats: int) -> float:
    """Median wall time of a whole process, in seconds, after one untimed warm-up run."""
    return timed_together({"": cmd}, repeats)[""]


def timed_together(cmds: dict[str, list[str]], repeats: int) -> dict[str, float]:
    """Median wall times of several commands run in turn (a, b, c, a, b, c, ...), so that a slow
    spell of a shared machine slows them all alike and their ratios stay meaningful."""
    runs: dict[str, list[float]] = {label: [] for label in cmds}
    for i in range(repeats + 1):
        for label, cmd in cmds.items():
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=ENV)
            if i:  # the first round warms the caches (and writes bytecode)
                runs[label].append(time.perf_counter() - start)
    return {label: statistics.median(times) for label, times in runs.items()}


MEASURE = """
import gc, resource, sys, time
gc.disable()  # as the paramcalc command does
start, cpu = time.perf_counter(), time.process_time()
from paramcalc.engine import analyze
from paramcalc.spec.loader import load_spec
from paramcalc.render.json_report import render_json
report = analyze(load_spec(sys.argv[1], max_layers=10**7), keep_formulas=False)  # as `summary` does
text = render_json(report)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(report.rows), report.total_params, cpu)
"""


def measure(path: Path, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run([PYTHON, "-c", MEASURE, str(path)], check=True, capture_output=True, text=True,
                             cwd=ROOT, env=ENV).stdout.split()
        runs.append((float(out[0]), int(out[1]), int(out[2]), int(out[3]), float(out[4])))
    return {"seconds": statistics.median(r[0] for r in runs), "cpu_seconds": statistics.median(r[4] for r in runs),
            "peak_mb": max(r[1] for r in runs) / 1024, "layers": runs[0][2], "params": runs[0][3]}


def chain_spec(n: int) -> str:
    """n layers: Dense / ReLU pairs on a 64-wide vector, written out one per line."""
    lines = ["input: [64]", "layers:"]
    for i in range(n):
        lines.append("  - Dense: {units: 64}" if i % 2 == 0 else "  - ReLU")
    return "\n".join(lines) + "\n"


def graph_spec(n: int) -> str:
    """n layers in residual units of 4: conv, BN, conv, Add reading the unit's input."""
    lines = ["input: [8, 8, 16]", "layers:", "  - Conv2D: {name: u0, filters: 16, kernel_size: 3, padding: same}"]
    for u in range(1, n // 4 + 1):
        lines += [f"  - Conv2D: {{name: a{u}, filters: 16, kernel_size: 3, padding: same}}",
                  f"  - BatchNormalization: {{name: b{u}}}",
                  f"  - Conv2D: {{name: c{u}, filters: 16, kernel_size: 3, padding: same}}",
                  f"  - Add: {{name: u{u}, inputs: [u{u - 1}, c{u}]}}"]
    return "\n".join(lines) + "\n"


def sweep_cases(quick: bool) -> list[tuple[str, str, str, str, str]]:
    """(label, alpha values, res values, format, output file): 1,000 combinations (25 x 40), 10,000
    (100 x 100, the issue's JSON target) and 1,000,000 (100 x 10,000, JSON Lines to /dev/null)."""
    def alphas(n: int) -> str:
        return ",".join(str(round(0.25 + 0.75 * i / (n - 1), 4)) for i in range(n))

    cases = [("1,000 combinations, csv", alphas(25), ",".join(str(96 + 8 * i) for i in range(40)), "csv", "-"),
             ("10,000 combinations, json", alphas(100), ",".join(str(96 + 2 * i) for i in range(100)), "json", "-")]
    if not quick:
        cases.append(("1,000,000 combinations, jsonl to /dev/null", alphas(100), "96:10095", "jsonl", os.devnull))
    return cases


def run_measured(cmd: list[str], out: str) -> dict:
    """One whole process: wall time, CPU time (user + system) and peak resident memory, its own (wait4)."""
    with open(os.devnull if out == "-" else out, "w") as sink:
        start = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.DEVNULL, cwd=ROOT, env=ENV)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)[:200]}")
    return {"seconds": elapsed, "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def sweep_spec() -> str:
    return (ROOT / "specs" / "mobilenet_v1.yaml").read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--peers-python", help="a Python with torch, torchvision, torchinfo and fvcore")
    options = parser.parse_args()
    repeats = 3 if options.quick else 7
    paramcalc = [PYTHON, "-m", "paramcalc"]
    lenet = str(ROOT / "specs" / "lenet5.yaml")
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "platform": platform.platform()}}

    print(f"1. start-up (whole process, median of {3 * repeats} runs, the commands taking turns)")
    startup = timed_together({
        "python -c pass": [PYTHON, "-c", "pass"],
        "import click, yaml, rich": [PYTHON, "-c", "import click, yaml, rich"],
        # What drawing any rich table costs: rich.console and rich.table are not part of `import rich`.
        "import ... rich.console, rich.table": [PYTHON, "-c", "import click, yaml, rich.console, rich.table"],
        "summary lenet5 (table)": [*paramcalc, "summary", lenet],
        "summary lenet5 (json)": [*paramcalc, "summary", "--format", "json", lenet],
    }, 3 * repeats)
    floor_imports = startup["import click, yaml, rich"]
    for label, seconds in startup.items():
        print(f"   {label:<36} {seconds * 1000:7.1f} ms   {seconds / floor_imports:5.2f}x the import floor")
    results["startup_seconds"] = startup

    print("2. scale (load + analyse + JSON, in one process; peak memory of that process)")
    sizes = [10, 100, 1_000, 10_000] if options.quick else [10, 100, 1_000, 10_000, 100_000]
    scale = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape, make in (("chain", chain_spec), ("graph", graph_spec)):
            for n in sizes:
                path = Path(tmp) / f"{shape}_{n}.yaml"
                path.write_text(make(n))
                figure = measure(path, 1 if n >= 100_000 else repeats)
                figure.update({"shape": shape, "requested_layers": n})
                scale.append(figure)
                per_layer = figure["seconds"] / max(figure["layers"], 1) * 1e6
                print(f"   {shape:<6} {figure['layers']:>8,} layers  {figure['seconds']:8.3f} s  "
                      f"(CPU {figure['cpu_seconds']:7.3f} s)  {figure['peak_mb']:7.1f} MB  {per_layer:6.1f} us/layer")
        gpt3 = measure(ROOT / "specs" / "gpt3.yaml", repeats)
        print(f"   GPT-3 175B via blocks and repeat: {gpt3['layers']:,} layers, {gpt3['params']:,} params "
              f"in {gpt3['seconds']:.3f} s, {gpt3['peak_mb']:.1f} MB")
        results["scale"] = scale
        results["gpt3"] = gpt3

        print("3. sweeps of MobileNet v1's alpha and res (whole process: wall time, CPU time, peak memory)")
        spec = Path(tmp) / "mobilenet_v1.yaml"
        spec.write_text(sweep_spec())
        sweeps = {}
        for label, alphas, resolutions, fmt, out in sweep_cases(options.quick):
            cmd = [*paramcalc, "summary", str(spec), "--set", f"alpha={alphas}", "--set", f"res={resolutions}",
                   "--format", fmt]
            figure = run_measured(cmd, out)
            sweeps[label] = figure
            print(f"   {label:<44} {figure['seconds']:7.2f} s  (CPU {figure['cpu_seconds']:6.2f} s)  "
                  f"{figure['peak_mb']:7.1f} MB")
        results["sweeps"] = sweeps
        results["sweep_1000_seconds"] = sweeps["1,000 combinations, csv"]["seconds"]

    if options.peers_python:
        print("4. peers: the same architecture, whole process (median)")
        peers = {}
        for model, spec_name in (("resnet50", "resnet50_torchvision.yaml"), ("mobilenet_v2", "mobilenet_v2.yaml")):
            times = timed_together({
                "paramcalc": [*paramcalc, "summary", str(ROOT / "specs" / spec_name)],
                "paramcalc json": [*paramcalc, "summary", "--format", "json", str(ROOT / "specs" / spec_name)],
                "torchinfo": [options.peers_python, "-c", "import torch, torchvision, torchinfo; "
                              f"torchinfo.summary(torchvision.models.{model}(weights=None), (1, 3, 224, 224))"],
                "fvcore": [options.peers_python, "-c", "import torch, torchvision; from fvcore.nn import "
                           f"FlopCountAnalysis as F; m = torchvision.models.{model}(weights=None).eval(); "
                           "F(m, torch.zeros(1, 3, 224, 224)).total()"],
            }, max(3, repeats // 2))
            ours, torchinfo, fvcore = times["paramcalc"], times["torchinfo"], times["fvcore"]
            peers[model] = times
            print(f"   {model:<13} paramcalc {ours * 1000:6.0f} ms   torchinfo {torchinfo * 1000:6.0f} ms "
                  f"({torchinfo / ours:4.1f}x)   fvcore {fvcore * 1000:6.0f} ms ({fvcore / ours:4.1f}x)")
            as_json = times["paramcalc json"]
            print(f"   {'':<13} paramcalc --format json {as_json * 1000:6.0f} ms "
                  f"({torchinfo / as_json:4.1f}x / {fvcore / as_json:4.1f}x faster)")
        results["peers_seconds"] = peers
    else:
        print("4. peers: skipped (give --peers-python a Python with torch, torchvision, torchinfo, fvcore)")

    # Wall times mean little on a machine busy with other work: say how busy it was (CPU times do not depend on it).
    results["machine"]["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    out = ROOT / "benchmarks" / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
