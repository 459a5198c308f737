"""Mixture of experts: `num_experts` copies of an expert (a layer, or a block of the spec's `blocks:`), of
which a router picks `top_k` for each token (Mixtral's sparse MoE block, Switch Transformer's FFN).

Params: the router's, and every expert's (num_experts x one expert). MACs of one forward: the router at
every position, and top_k experts per token, i.e. top_k x one expert's MACs over all the positions (an
expert works on each token alone, so its MACs are per token times the tokens; which tokens go to which
expert changes nothing). `active_params` is what one token uses: the router and top_k experts
(tests/fixtures/make_hf_llm_fixtures.py checks Mixtral's against transformers' modules)."""

from __future__ import annotations

from typing import Any

from paramcalc.layers.args import Arg, LayerItem, layer_or_block_item, optional, positive
from paramcalc.layers.base import Context, Derivation, LayerKind, LayerResult, Shape, format_shape
from paramcalc.layers.formula import Q
from paramcalc.layers.registry import register
from paramcalc.layers.shapes import run_item
from paramcalc.layers.traits import Cost


def params_of(result: LayerResult) -> Q:
    return result.trainable + result.non_trainable if result.non_trainable.value else result.trainable


@register
class MixtureOfExperts(LayerKind):
    name = "MixtureOfExperts"
    framework = "torch"  # (framework-neutral: no Keras arguments)
    cost = Cost.DENSE  # the router and the experts' products (an expert is a dense MLP, in every MoE model)
    doc = ("Mixture of experts (Mixtral's sparse MoE block): num_experts copies of `expert` (a layer, `{Linear: "
           "...}`, or a block of the spec with its arguments, `{swiglu: {ff: 14336}}`), of which `router` (by "
           "default a bias-free Linear to num_experts) picks top_k per token. Params: router + num_experts x "
           "expert; MACs: router + top_k x the expert's (each token goes through top_k experts); active params "
           "per token: router + top_k x expert. Out: the expert's output.")
    example, example_rank = "{num_experts: 4, top_k: 2, expert: {Linear: {out_features: 4}}}", 1
    args = (Arg("num_experts", positive), Arg("top_k", positive),
            Arg("expert", layer_or_block_item, doc="one expert, a layer or a block of the spec, as in `layers:`"),
            Arg("router", optional(layer_or_block_item), None,
                "what scores the experts for each token; by default {Linear: {out_features: num_experts, bias: "
                "false}}"))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        n, k = a["num_experts"], a["top_k"]
        if k > n:
            raise ctx.arg_error("top_k", f"is {k}, more than the {n} experts", f"pick at most {n} experts per token.")
        if not shape:
            raise ctx.fail("needs features to route; gets a scalar", "give it (positions..., features).")
        router_item = a["router"] or LayerItem("Linear", {"out_features": n, "bias": False})
        router = run_item(router_item, "router", [shape], ctx)
        if router.output_shape[-1:] != (n,):
            raise ctx.fail(f"`router` gives {format_shape(router.output_shape)}, not a score for each of the {n} "
                           "experts on its last axis", "make the router's output features num_experts.", "router")
        expert = run_item(a["expert"], "expert", [shape], ctx)
        experts, top_k = Q.of(n, "experts"), Q.of(k, "top_k")
        router_params, expert_params = params_of(router), params_of(expert)
        one = Q.of(expert_params.value, "expert_params")
        block = "" if isinstance(a["expert"], LayerItem) else f", its `{a['expert'].kind}` block's layers"
        steps = [Derivation("router params", router_params), Derivation("expert params", expert_params,
                                                                         f"(one expert{block})"),
                 Derivation("router MACs", router.macs),
                 Derivation("expert MACs", expert.macs, f"(one expert on every position{block})")]
        router_params = Q.of(router_params.value, "router_params")
        params = router_params + experts * one
        active = router_params + top_k * one
        steps.append(Derivation("active params", active, "(what one token uses: the router and top_k experts)"))
        macs = Q.of(router.macs.value, "router_MACs") + top_k * Q.of(expert.macs.value, "expert_MACs")
        frozen = router.non_trainable.value + n * expert.non_trainable.value  # (frozen weights stay frozen)
        trainable, non_trainable = (params, Q.of(0)) if frozen == 0 else (Q.of(params.value - frozen), Q.of(frozen))
        ops = dict(router.ops)
        for kind, count in expert.ops.items():
            ops[kind] = ops.get(kind, 0) + k * count
        return LayerResult(expert.output_shape, trainable, non_trainable, macs, steps=tuple(steps), ops=ops,
                           active_params=active)
