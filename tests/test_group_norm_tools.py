"""nn.GroupNorm under every tool convention equals what the tool prints for the module
(tests/fixtures/group_norm_tools.json, made by make_group_norm_tool_fixtures.py): ptflops' norm hook counts
1 per value, 2 with affine; its aten backend, thop (no GroupNorm hook) and torchinfo's params-once rule
as they count any norm; fvcore 4 per value, 5 with affine."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from paramcalc.conventions import apply
from tests.conftest import FIXTURES, run_dict

TOOL_KEYS = {"ptflops": "ptflops_pytorch", "ptflops-aten": "ptflops_aten", "thop": "thop", "torchinfo": "torchinfo",
             "fvcore": "fvcore"}


@cache
def cases() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "group_norm_tools.json").read_text())["cases"]


CASES = [(c, t) for c in cases() for t in TOOL_KEYS]


@pytest.mark.parametrize(("case", "convention"), CASES,
                         ids=[f"{c['module']}-{c['spec']['input']}-{t}" for c, t in CASES])
def test_group_norm_under_each_convention_equals_the_tool(case, convention):
    assert apply(run_dict(case["spec"]), convention).convention_total == case[TOOL_KEYS[convention]]
