"""The roofline (paramcalc/roofline.py), the device presets and the `summary` options of issue 17,
worked by hand on tiny specs (no framework prints a roofline) and through the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.layers import ops
from paramcalc.memory import DTYPES, Precision
from paramcalc.roofline import ELEMENTWISE_FLOPS, FALLBACK, Device, devices, parse_rate, roofline
from tests.conftest import run_text

DENSE = """
name: one_dense
input: [100]
layers:
  - Dense: {name: fc, units: 10}
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def summary_json(spec: str, *options: str) -> dict:
    code, out, err = invoke("summary", "--format", "json", *options, spec)
    assert code == 0, err
    return json.loads(out)


def test_a_dense_layer_by_hand():
    """Dense 100 -> 10: 1,000 MACs and 10 bias adds, so 2 x 1,000 + 10 = 2,010 FLOPs. Bytes at float32:
    weights 1,010 x 4 = 4,040, input 100 x 4 = 400, output 10 x 4 = 40: 4,480. On 1 Gop/s and 1 GB/s:
    compute 2.01 us, memory 4.48 us: memory-bound, 4.48 us."""
    device = Device("x", "x", dict.fromkeys(DTYPES, 1e9), 1e9)
    (time,) = roofline(run_text(DENSE), device, Precision())
    assert (time.flops, time.bytes, time.bound) == (2010, 4480, "memory")
    assert time.seconds == pytest.approx(4.48e-6) and time.intensity == pytest.approx(2010 / 4480)
    (half,) = roofline(run_text(DENSE), device, Precision("float16", "float16"))
    assert half.bytes == 2240  # every tensor at 2 bytes


def test_a_slow_chip_makes_it_compute_bound():
    """1 Kop/s and 1 MB/s: compute 2,010 / 1,000 = 2.01 s, memory 4,480 / 1e6 = 4.48 ms."""
    (time,) = roofline(run_text(DENSE), Device("x", "x", dict.fromkeys(DTYPES, 1e3), 1e6), Precision())
    assert time.bound == "compute" and time.seconds == pytest.approx(2.01)


def test_a_view_moves_nothing_and_batch_scales_the_rest():
    text = DENSE.replace("input: [100]", "input: [10, 10]").replace("layers:\n", "layers:\n  - Flatten: {name: f}\n")
    device = Device("x", "x", dict.fromkeys(DTYPES, 1e9), 1e9)
    flat, fc = roofline(run_text(text), device, Precision())
    assert (flat.flops, flat.bytes, flat.seconds) == (0, 0, 0.0)
    assert (fc.flops, fc.bytes) == (2010, 4480)
    from paramcalc.inputs import with_batch

    _, batched = roofline(with_batch(run_text(text), 4), device, Precision())
    assert (batched.flops, batched.bytes) == (4 * 2010, 4040 + 4 * 440)  # the weights are read once


def test_the_cli_json_by_hand(spec_file):
    """--peak 1G --bandwidth 1G: the same figures in the JSON, and the total."""
    data = summary_json(spec_file(DENSE), "--peak", "1G", "--bandwidth", "1G")
    assert data["layers"][0]["roofline"] == {"flops": 2010, "bytes": 4480, "intensity": pytest.approx(2010 / 4480),
                                             "seconds": pytest.approx(4.48e-6), "bound": "memory"}
    assert data["roofline_seconds"] == pytest.approx(4.48e-6)
    assert data["device"]["key"] == "custom"


def test_the_memory_object_is_always_there(spec_file):
    data = summary_json(spec_file(DENSE))
    memory = data["memory"]
    assert memory["param_bytes"] == 4040 and memory["peak_activation_bytes"] == 440
    assert memory["peak_activation_layer"] == "fc"
    assert set(memory["training"]) >= {"parameter_bytes", "gradient_bytes", "optimizer_bytes",
                                       "saved_activation_bytes", "total_bytes"}
    assert "roofline_seconds" not in data and "roofline" not in data["layers"][0]


def test_dtype_optimizer_and_batch_reach_the_json(spec_file):
    """int4 weights, float16 activations, batch 8, SGD: params 1,010 / 2 = 505 B; activations of 8
    samples at 2 bytes: (100 + 10) x 8 x 2 = 1,760 B; Dense keeps its input, 800 x 2 = 1,600 B."""
    data = summary_json(spec_file(DENSE), "--batch", "8", "--weights-dtype", "int4", "--activations-dtype",
                        "float16", "--optimizer", "sgd")
    memory = data["memory"]
    assert (memory["batch"], memory["param_bytes"], memory["peak_activation_bytes"]) == (8, 505, 1760)
    assert memory["training"] == {"optimizer": "sgd", "mixed_precision": False, "parameter_bytes": 505,
                                  "gradient_bytes": 505, "optimizer_bytes": 0, "saved_activation_bytes": 1600,
                                  "total_bytes": 2610}
    assert memory["file_bytes"]["int8"] == 1010


def test_the_table_shows_memory_and_time_when_asked(spec_file):
    path = spec_file(DENSE)
    code, out, _ = invoke("summary", path)
    assert "Memory (" not in out and "Time on" not in out
    code, out, _ = invoke("summary", "--device", "t4", "--dtype", "float16", path)
    assert code == 0
    assert "Memory (batch 1, float16)" in out and "Time on NVIDIA T4" in out and "Time (roofline)" in out


@pytest.mark.parametrize("args, said", [
    (["--device", "h100"], "no device preset named `h100`"),
    (["--peak", "fast", "--bandwidth", "1T"], "--peak 'fast' is not a rate"),
    (["--peak", "1T"], "--bandwidth is missing"),
    (["--mixed-precision"], "--mixed-precision"),
])
def test_bad_options_are_refused_in_one_paragraph(spec_file, args, said):
    code, out, err = invoke("summary", *args, spec_file(DENSE))
    assert code == 2 and said in err and "Traceback" not in err and out == ""


def test_parse_rate():
    assert [parse_rate(t, "--peak") for t in ("312T", "2.0T", "900g", "1.5e12", "7")] == [
        312e12, 2e12, 900e9, 1.5e12, 7.0]


def test_devices_command_lists_every_preset_with_a_source():
    code, out, _ = invoke("devices", "--format", "json")
    assert code == 0
    rows = json.loads(out)["rows"]
    assert {row["device"] for row in rows} == set(devices())
    assert all(row["source"] for row in rows)


@pytest.mark.parametrize("key", list(devices()))
def test_every_preset_is_well_formed(key):
    device = devices()[key]
    assert device.bandwidth > 0 and device.peak and set(device.peak) <= set(DTYPES)
    assert all(rate > 0 for rate in device.peak.values())
    for dtype in DTYPES:  # every dtype runs somewhere on every device
        assert device.rate(dtype)[1] in FALLBACK[dtype]


def test_every_operation_has_a_flop_weight():
    """Each operation layers/ops.py reports is weighed (0 where it restates another figure)."""
    names = {value for name, value in vars(ops).items() if name.isupper() and isinstance(value, str)}
    assert names == set(ELEMENTWISE_FLOPS)


def test_free_dimensions_give_a_formula(spec_file):
    data = summary_json(spec_file("name: f\ninput: [N]\nlayers:\n  - Dense: {name: fc, units: 10}\n"),
                        "--peak", "1G", "--bandwidth", "1G")
    time = data["layers"][0]["roofline"]
    assert time["flops"] == "20*N + 10" and time["bytes"] == "44*N + 80"
    assert "N" in time["seconds"] and time["bound"] in ("memory", "memory or compute")


# ---- compare --device ------------------------------------------------------------------------------

def test_compare_grid_time_by_hand():
    """N=4, M=8, K=3, size 10 (D = 10, 100 positions) on 1 Gop/s and 1 GB/s, float32.
    Standard: 100 x 9 x 4 x 8 = 28,800 MACs = 57,600 FLOPs -> 57.6 us; bytes 288 weights x 4 + (400 in +
    800 out) x 4 = 5,952 -> 5.95 us: 57.6 us. Depthwise: 3,600 MACs -> 7.2 us (bytes 36 x 4 + 800 x 4 =
    3,344 -> 3.34 us); pointwise: 3,200 MACs -> 6.4 us (bytes 32 x 4 + 1,200 x 4 = 4,928 -> 4.93 us).
    Separable 13.6 us; ratio 13.6 / 57.6 = 0.236111 (the MACs' ratio is 0.236111 too: compute-bound)."""
    code, out, err = invoke("compare", "--in", "4", "--out", "8", "--kernel", "3", "--size", "10",
                            "--peak", "1G", "--bandwidth", "1G", "--format", "json")
    assert code == 0, err
    (row,) = json.loads(out)["rows"]
    assert row["standard_seconds"] == pytest.approx(57.6e-6)
    assert row["separable_seconds"] == pytest.approx(13.6e-6)
    assert row["time_ratio"] == pytest.approx(0.236111)


def test_compare_spec_in_time_agrees_with_summary():
    """MobileNet v1 at 224 on an A100 in bfloat16: the network as written takes the summary's roofline
    total; its depthwise layers are 3.1% of the MACs but a larger share of the time (memory-bound);
    and all-separable saves far less time than MACs."""
    from tests.conftest import SPECS

    spec = str(SPECS / "mobilenet_v1.yaml")
    options = ("--device", "a100-80gb", "--dtype", "bfloat16")
    code, out, err = invoke("compare", spec, *options, "--format", "json")
    assert code == 0, err
    table = json.loads(out)
    written, standard, separable = table["totals"]
    assert written["standard_seconds"] == pytest.approx(summary_json(spec, *options)["roofline_seconds"])
    assert separable["time_ratio"] > 4 * separable["ratio"]
    note = next(n for n in table["notes"] if "Depthwise layers" in n)
    assert "3.1% of the MACs" in note
    share = float(note.split("MACs, ")[1].split("%")[0])
    assert share > 10


def test_compare_dtype_needs_a_device():
    code, _, err = invoke("compare", "--in", "4", "--out", "8", "--kernel", "3", "--size", "10", "--dtype", "int8")
    assert code == 2 and "--device" in err


def test_csv_rows_carry_each_layers_roofline(spec_file):
    code, out, _ = invoke("summary", "--format", "csv", "--peak", "1G", "--bandwidth", "1G", spec_file(DENSE))
    assert code == 0
    header, row = out.splitlines()[:2]
    cells = dict(zip(header.split(","), row.split(",")))
    assert (cells["flops"], cells["bytes_moved"], cells["bound"]) == ("2010", "4480", "memory")
    assert float(cells["seconds"]) == pytest.approx(4.48e-6)


def test_by_type_shows_each_types_share_of_time():
    """MobileNet v1: the depthwise 3x3 layers, 3.06% of the MACs, take a larger share of the roofline
    time; the shares add up to 100% and the total is the summary's."""
    from tests.conftest import SPECS

    spec = str(SPECS / "mobilenet_v1.yaml")
    code, out, err = invoke("summary", "--by-type", "--format", "json", "--device", "t4", "--dtype", "float16", spec)
    assert code == 0, err
    table = json.loads(out)
    depthwise = next(row for row in table["rows"] if row["type"] == "Conv DW 3x3")
    assert depthwise["macs_share"] == pytest.approx(3.0569, abs=1e-3) and depthwise["time_share"] > 10
    assert sum(row["time_share"] for row in table["rows"]) == pytest.approx(100, abs=0.01)
    total = summary_json(spec, "--device", "t4", "--dtype", "float16")["roofline_seconds"]
    assert table["totals"][0]["seconds"] == pytest.approx(total)


@pytest.mark.parametrize("view", ["--conventions", "--by-type"])
def test_views_without_the_figures_refuse_the_options(spec_file, view):
    code, _, err = invoke("summary", view, "--dtype", "float16", spec_file(DENSE))
    assert code == 2 and view in err


def test_the_time_columns_stay_with_the_run_that_asked_for_them():
    """Adding columns must not change the module's shared lists: a later run without --device has none."""
    from tests.conftest import SPECS

    spec = str(SPECS / "mobilenet_v1.yaml")
    assert "Time %" in invoke("summary", "--by-type", "--device", "t4", spec)[1]
    assert "Time" not in invoke("summary", "--by-type", spec)[1]
    assert "Time" not in invoke("compare", spec)[1]
