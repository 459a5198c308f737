"""The sequence-model figures (paramcalc/generation.py) in the summary: footer lines for the table, keys
for the JSON report, and the view `summary --context N` shows (the summary plus the generation figures)."""

from __future__ import annotations

import json
from typing import Any

from paramcalc.render.formats import SummaryView
from paramcalc.render.numbers import formula, readable_bytes, thousands
from paramcalc.report import Report

Line = list[tuple[str, str]]
LABELS = {"embeddings": "embeddings", "attention": "attention", "mlp": "MLP", "norms": "norms", "head": "head",
          "other": "other"}


def json_keys(report: Report) -> dict[str, Any]:
    """`attention_products` (null without attention) and `params_by_component`, for the JSON report."""
    from paramcalc.generation import attention_products, params_by_component

    return {"attention_products": attention_products(report), "params_by_component": params_by_component(report)}


def footer_lines(report: Report) -> list[Line]:
    """For a model with attention: its products apart from the rest of the MACs (the term quadratic in
    the length), and its params by component."""
    from paramcalc.generation import attention_products, params_by_component

    products = attention_products(report)
    if products is None:
        return []
    parts = params_by_component(report)
    shown = ", ".join(f"{LABELS[k]} {thousands(v)}" for k, v in parts.items() if v or k == "head")
    tied = sum(r.tied[1] for r in report.rows if r.tied)
    lines: list[Line] = [
        [(f" Attention products: {thousands(products['macs'])} MACs", ""),
         (f"  (QK^T {thousands(products['score_macs'])} + AV {thousands(products['value_macs'])}, quadratic in the "
          f"length; projections and other layers {thousands(products['other_macs'])})", "dim")],
        [(f" Params by component: {shown}", ""),
         (f"  (tied weights counted once; {thousands(tied)} more if each tied layer lists its own)" if tied else "",
          "dim")]]
    return lines


def generation_lines(found: dict[str, Any]) -> list[Line]:
    n = found["context"]
    return [[(f" Per generated token at context {n:,} (KV cache): {thousands(found['macs_per_token'])} MACs", "bold"),
              (f"  ({thousands(found['linear_macs_per_token'])} at one position + attention over {n:,} cached "
               f"positions {thousands(found['attention_macs_per_token'])})", "dim")],
             [(f" KV cache: {thousands(found['kv_cache_values_per_token'])} values per token "
               f"({readable_bytes(found['kv_cache_bytes_per_token'])}), {readable_bytes(found['kv_cache_bytes'])} "
               f"at {n:,} tokens", ""), (f"  ({found['dtype']}, --kv-dtype; per sequence)", "dim")]]


class GenerationView(SummaryView):
    """`summary --context N`: the summary, then the figures of generating one token at context N."""

    __slots__ = ("generation",)

    def __init__(self, view: SummaryView, generation: dict[str, Any]) -> None:
        super().__init__(view.report, view.depth, view.counted_by, view.short_units, view.warnings)
        self.generation = generation

    def rich(self) -> Any:
        from rich.console import Group

        from paramcalc.render.fit import Prose

        return Group(super().rich(), Prose(generation_lines(self.generation)))

    def json(self) -> str:
        data = json.loads(super().json())
        data["generation"] = self.generation
        return json.dumps(data, indent=2 if len(self.report.rows) <= 2000 else None, default=formula)
