"""Judge paramcalc's roofline against hardware: time each layer of a torchvision model on a GPU and
print the measured time beside paramcalc's estimate (`summary --device`) and their ratio.

    python benchmarks/roofline.py --model resnet50 --device a100-80gb [--dtype float16] [--batch 32]
    python benchmarks/roofline.py --model mobilenet_v3_large --device t4 --repeats 50
    /venv/with/torch/bin/python benchmarks/roofline.py --paramcalc-python python3 ...

Needs PyTorch and torchvision with CUDA; without a GPU it says so and exits 0 (`--allow-cpu` times
on the CPU instead, against --peak/--bandwidth or a preset, to try the script anywhere).

Method: every leaf module gets a forward pre-hook and hook that record CUDA events around it; after
warm-up, each layer's time is the median over the repeats. The spec's layers are paired with the
module calls of the same class in execution order (the i-th Conv2d row with the i-th Conv2d call);
layers the model runs as functions (torchvision's residual `+=`, `torch.flatten`) have no module and
are left out of both columns. The estimate is a lower bound: a ratio measured / estimate of 1 means
the layer runs at the device's peak or bandwidth, larger means launch overhead, poor utilisation,
or caches and fusion the model does not know.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# torchvision constructor -> the zoo spec that builds the same model
MODELS = {
    "resnet18": "resnet18.yaml",
    "resnet50": "resnet50_torchvision.yaml",
    "vgg16": "vgg16_torchvision.yaml",
    "mobilenet_v3_large": "mobilenet_v3_large_torchvision.yaml",
    "efficientnet_b0": "efficientnet_b0_torchvision.yaml",
    "squeezenet1_1": "squeezenet1_1.yaml",
    "shufflenet_v2_x1_0": "shufflenet_v2.yaml",
    "mobilenet_v1": "mobilenet_v1.yaml",  # not in torchvision: built below, its modules named as the spec's layers
}


def mobilenet_v1():
    """MobileNet v1 (alpha 1) as keras.applications.MobileNet lays it out, its modules named after the
    spec's layers (as tests/fixtures/make_torchvision_fixtures.py builds it)."""
    from collections import OrderedDict

    from torch import nn

    layers: OrderedDict[str, nn.Module] = OrderedDict()
    layers["conv1_pad"] = nn.ZeroPad2d((0, 1, 0, 1))
    layers["conv1"] = nn.Conv2d(3, 32, 3, stride=2, bias=False)
    layers["conv1_bn"] = nn.BatchNorm2d(32)
    layers["conv1_relu"] = nn.ReLU6()
    channels = 32
    for block, out in enumerate([64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024], start=1):
        if block in (2, 4, 6, 12):
            layers[f"conv_pad_{block}"] = nn.ZeroPad2d((0, 1, 0, 1))
            layers[f"conv_dw_{block}"] = nn.Conv2d(channels, channels, 3, stride=2, groups=channels, bias=False)
        else:
            layers[f"conv_dw_{block}"] = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        layers[f"conv_dw_{block}_bn"] = nn.BatchNorm2d(channels)
        layers[f"conv_dw_{block}_relu"] = nn.ReLU6()
        layers[f"conv_pw_{block}"] = nn.Conv2d(channels, out, 1, bias=False)
        layers[f"conv_pw_{block}_bn"] = nn.BatchNorm2d(out)
        layers[f"conv_pw_{block}_relu"] = nn.ReLU6()
        channels = out
    layers["global_average_pooling2d"] = nn.AdaptiveAvgPool2d(1)
    layers["dropout"] = nn.Dropout(1e-3)
    layers["conv_preds"] = nn.Conv2d(1024, 1000, 1)
    layers["flatten"] = nn.Flatten()
    layers["predictions"] = nn.Softmax(dim=1)
    return nn.Sequential(layers)


TORCH_DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16"}


def estimate(model: str, device: str | None, dtype: str, batch: int, peak: str | None, bandwidth: str | None,
             python: str):
    """paramcalc's rows and per-layer roofline, through its own JSON (as a user gets it)."""
    import json

    args = [python, "-m", "paramcalc", "summary", "--format", "json", "--batch", str(batch),
            "--dtype", dtype, str(ROOT / "specs" / MODELS[model])]
    for option, value in (("--device", device), ("--peak", peak), ("--bandwidth", bandwidth)):
        if value is not None:
            args += [option, value]
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(done.stderr.strip())
    return json.loads(done.stdout)


def measure(model_name: str, dtype: str, batch: int, repeats: int, on_gpu: bool) -> dict[str, list[float]]:
    """Seconds per call of each leaf module, in execution order: {class name: [median, ...]}, and
    {module name: [median]} too (the spec's layer names, for MobileNet v1)."""
    import time

    import torch
    import torchvision

    device = torch.device("cuda" if on_gpu else "cpu")
    build = mobilenet_v1 if model_name == "mobilenet_v1" else getattr(torchvision.models, model_name)
    model = (build() if model_name == "mobilenet_v1" else build(weights=None)).eval().to(device, getattr(torch, dtype))
    names = {id(module): name for name, module in model.named_modules()}
    x = torch.zeros(batch, 3, 224, 224, device=device, dtype=getattr(torch, dtype))
    calls: list[tuple[str, object, object]] = []

    def before(module, inputs):
        calls.append((f"{type(module).__name__} {names[id(module)]}", clock(), None))

    def after(module, inputs, output):
        name, start, _ = calls[-1]
        calls[-1] = (name, start, clock())

    def clock():
        if on_gpu:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    for module in model.modules():
        if not list(module.children()):
            module.register_forward_pre_hook(before)
            module.register_forward_hook(after)
    runs: list[list[tuple[str, float]]] = []
    with torch.no_grad():
        for i in range(repeats + 5):
            calls.clear()
            model(x)
            if on_gpu:
                torch.cuda.synchronize()
                timed = [(n, s.elapsed_time(e) / 1e3) for n, s, e in calls]
            else:
                timed = [(n, e - s) for n, s, e in calls]
            if i >= 5:  # warm-up done
                runs.append(timed)
    found: dict[str, list[float]] = defaultdict(list)
    for k, (call, _) in enumerate(runs[0]):
        kind, name = call.split(" ", 1)
        took = statistics.median(run[k][1] for run in runs)
        found[kind].append(took)
        found[name].append(took)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="resnet50")
    parser.add_argument("--device", help="paramcalc's preset for the estimate (`paramcalc devices`)")
    parser.add_argument("--peak", help="or the device's peak, e.g. 312T")
    parser.add_argument("--bandwidth", help="and its bandwidth, e.g. 2.0T")
    parser.add_argument("--dtype", choices=sorted(TORCH_DTYPES), default="float32")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--allow-cpu", action="store_true", help="time on the CPU when there is no GPU")
    parser.add_argument("--paramcalc-python", default=sys.executable,
                        help="a Python with paramcalc's dependencies, when PyTorch's lacks them (default: this one)")
    args = parser.parse_args()
    try:
        import torch
        import torchvision  # noqa: F401
    except ImportError:
        print("benchmarks/roofline.py needs PyTorch and torchvision; skipped.")
        return
    on_gpu = torch.cuda.is_available()
    if not on_gpu and not args.allow_cpu:
        print("No CUDA GPU here: nothing to measure (--allow-cpu times on the CPU instead); skipped.")
        return
    if args.device is None and (args.peak is None or args.bandwidth is None):
        parser.error("give --device, or --peak and --bandwidth, for the estimate")
    report = estimate(args.model, args.device, args.dtype, args.batch, args.peak, args.bandwidth,
                      args.paramcalc_python)
    measured = measure(args.model, args.dtype, args.batch, args.repeats, on_gpu)
    seen: dict[str, int] = defaultdict(int)
    total_measured = total_estimate = 0.0
    print(f"{args.model}, batch {args.batch}, {args.dtype}, on {'the GPU' if on_gpu else 'the CPU'} vs "
          f"{report['device']['name']}")
    print(f"{'layer':42} {'type':18} {'bound':8} {'estimate':>12} {'measured':>12} {'ratio':>8}")
    for layer in report["layers"]:
        kind = layer["type"]
        if layer["name"] in measured:  # a module named as the layer (MobileNet v1)
            took = measured[layer["name"]][0]
        else:  # the i-th layer of a kind is the i-th call of the module class of that name
            calls = measured.get(kind, [])
            if seen[kind] >= len(calls):
                continue  # run as a function in torchvision (no module to time)
            took = calls[seen[kind]]
            seen[kind] += 1
        guess = layer["roofline"]["seconds"]
        total_measured += took
        total_estimate += guess
        ratio = took / guess if guess else float("inf")
        print(f"{layer['name'][:42]:42} {kind[:18]:18} {layer['roofline']['bound']:8} {guess * 1e6:10.2f}us "
              f"{took * 1e6:10.2f}us {ratio:8.2f}")
    print(f"{'timed layers in total':70} {total_estimate * 1e6:10.2f}us {total_measured * 1e6:10.2f}us "
          f"{total_measured / total_estimate if total_estimate else float('inf'):8.2f}")


if __name__ == "__main__":
    main()
