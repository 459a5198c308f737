"""`--convention` recipes for attention layers, the activation modules and a small GPT-2 (issue 14): each
equals what the tool printed for the same PyTorch modules (tests/fixtures/attention_conventions.json, written by
make_attention_convention_fixtures.py with torch 2.14.1, fvcore, ptflops, thop and torchinfo), and the
fused-SDPA FlopCounterMode figure of Hugging Face's GPT-2 small (generation.json)."""

from __future__ import annotations

import json

import pytest

from paramcalc.api import analyze
from tests.conftest import FIXTURES, SPECS

DATA = json.loads((FIXTURES / "attention_conventions.json").read_text())
TOOLS = {"fvcore": "fvcore", "flop-counter": "flop_counter", "ptflops": "ptflops", "ptflops-aten": "ptflops_aten",
         "thop": "thop", "torchinfo": "torchinfo"}
CASES = [(case, convention) for case in DATA["cases"] for convention in TOOLS]


def report_of(case: dict, convention: str):
    if case["spec"].endswith(".yaml"):
        return analyze(str(SPECS / case["spec"].removeprefix("specs/")), convention=convention, variables=case["set"])
    return analyze(case["spec"], convention=convention)


@pytest.mark.parametrize("case, convention", CASES, ids=[f"{c['id']}-{t}" for c, t in CASES])
def test_convention_equals_what_the_tool_printed(case, convention):
    report = report_of(case, convention)
    assert report.total_params == case["params"]
    assert report.convention_total == case[TOOLS[convention]]


def test_the_tools_disagree_on_attention():
    """Why the recipes differ: the same self-attention is 0 for thop and torchinfo (no hook, no called
    submodule with a `weight`), its MACs for fvcore, and ptflops adds its hook's extras to the batched
    products it patches, so that no two of them agree."""
    case = DATA["cases"][0]
    assert case["id"] == "MultiheadAttention/self-10x32-h4"
    assert case["thop"] == case["torchinfo"] == 0
    assert case["fvcore"] == analyze(case["spec"]).total_macs
    assert len({case[key] for key in ("fvcore", "ptflops", "ptflops_aten")}) == 3


def test_flop_counter_sdpa_is_hugging_face_gpt2_with_its_default_attention():
    """FlopCounterMode on HF GPT-2 small at 128 tokens: 32,228,179,968 FLOPs with the math kernel (eager),
    31,624,200,192 with the fused kernel PyTorch picks by default on a CPU, which counts QK^T and AV 0."""
    kernels = json.loads((FIXTURES / "generation.json").read_text())["sdpa_kernels"]
    gpt2 = str(SPECS / "gpt2.yaml")
    assert analyze(gpt2, convention="flop-counter").convention_total == kernels["sdpa/math"]["flops"]
    assert analyze(gpt2, convention="flop-counter").convention_total == kernels["eager"]["flops"]
    assert analyze(gpt2, convention="flop-counter-sdpa").convention_total == kernels["sdpa/default"]["flops"]
    assert kernels["sdpa/flash_attention"]["flops"] == kernels["sdpa/default"]["flops"]
