"""Generate the catalogue page ``docs/optimizers.md`` from the specs: per optimizer its equations (LaTeX from the
spec), state initialisation, defaults, source, peers and verified claims; then the optimizers out of scope.

``render_catalog()`` returns the Markdown; ``claims_for(name)`` lists the derive/ claims whose checks read the spec
(recorded while each claim runs), with their verdicts. ``optiforge build`` rewrites the page.
"""
from __future__ import annotations

import sympy as sp

from optiforge import specs
from optiforge.codegen.equations import expression_latex
from optiforge.specs.dsl import GRAD, PARAM, OptimizerSpec

__all__ = ["render_catalog", "render_spec", "claims_for", "OUT_OF_SCOPE"]


def claims_for(spec_name: str, results=None) -> list[str]:
    """The derive/ claims that read ``spec_name`` (one line each: name, title, verdict).

    ``results`` defaults to every claim's result (``derive.results()``, computed once per process)."""
    if results is None:
        from optiforge import derive

        results = derive.results()
    return [f"`{r.claim.name}`: {r.claim.title} ({r.verdict})" for r in results if spec_name in r.specs]


#: Optimizers that are not elementwise, with the reason (the DSL only has per-element and per-step scalar state).
OUT_OF_SCOPE = [
    ("LAMB", "torch_optimizer, pytorch_optimizer, optax", "layer-wise trust ratio ‖θ‖/‖update‖ (per-tensor norms)"),
    ("LARS", "torch_optimizer, pytorch_optimizer, optax", "layer-wise trust ratio from ‖θ‖ and ‖g‖"),
    ("NovoGrad", "torch_optimizer, pytorch_optimizer, optax", "second moment of the per-layer gradient norm"),
    ("Adafactor", "torch.optim, torch_optimizer, pytorch_optimizer, optax",
     "factored second moment: row and column means of g² (matrix reductions)"),
    ("SM3", "pytorch_optimizer, optax", "cover-set accumulators: max over rows/columns"),
    ("Fromage, Nero", "pytorch_optimizer, optax", "per-tensor (per-neuron) norms"),
    ("AdamP, SGDP", "torch_optimizer, pytorch_optimizer", "cosine similarity between θ and g (dot products)"),
    ("Shampoo, SOAP, Kron/PSGD, Muon", "torch.optim (Muon), pytorch_optimizer", "matrix preconditioners / orthogonalisation"),
    ("LBFGS", "torch.optim, optax", "line search and two-loop recursion over global dot products"),
    ("AdaHessian", "torch_optimizer, pytorch_optimizer", "Hessian-vector products and spatial averaging"),
    ("Apollo, A2Grad, SWATS", "torch_optimizer, pytorch_optimizer", "dot products / norms over the whole tensor"),
    ("Prodigy, D-Adaptation", "pytorch_optimizer", "global dot products for the step-size estimate"),
    ("polyak_sgd", "optax", "needs the loss value and the global gradient norm"),
    ("Ranger-style gradient centralisation, AGC, `cautious`/`adanorm` options", "pytorch_optimizer",
     "per-tensor means, norms or mask sums"),
    ("noisy_sgd", "optax", "elementwise but stochastic (needs a random stream); not a deterministic update"),
    ("SparseAdam", "torch.optim", "elementwise on the sparse gradient's values only; on dense gradients it is Adam"),
]

#: Elementwise peers not (yet) in the catalogue, with the reason.
NOT_YET = [
    ("optax.adan", "uses 1−β₂ where the paper and the official code use β₂ (an open optax bug); `adan` follows the "
                   "official code (pytorch_optimizer)"),
    ("optax.rprop", "not installable here (jax); torch's Rprop is `rprop_torch`"),
    ("torch_optimizer.SGDW", "subtracts the constant ηλ instead of ηλθ (a bug); pytorch_optimizer's SGDW is "
                             "`sgdw_po`"),
    ("the rest of pytorch_optimizer", "not reviewed one by one for this catalogue; any elementwise one is one more "
                                      "spec file (Ranger without gradient centralisation is `lookahead_radam_torch`)"),
]


def _latex(spec: OptimizerSpec, expr, target=None) -> str:
    return expression_latex(spec, expr, target)


def _init(spec: OptimizerSpec, state) -> str:
    if state.init is None:
        return "written before it is read"
    if state.init == GRAD:
        return "$g_1$ (the first gradient)"
    if state.init == PARAM:
        return r"$\theta_0$ (the initial parameters)"
    return f"${_latex(spec, state.init)}$"


def _domain(domain: sp.Set) -> str:
    return f"${sp.latex(domain)}$"


def render_spec(spec: OptimizerSpec, results=None) -> str:
    lines = [f"## `{spec.name}` — {spec.title}", ""]
    lines += [f"**Reference:** {spec.reference}  ", f"**Source:** {spec.source or '—'}  "]
    lines += [f"**Peers:** {', '.join(f'`{p}`' for p in spec.peers) if spec.peers else '— (see notes)'}", ""]
    lines += ["Per step $t = 1, 2, \\dots$ (assignments in order):", "", "$$", r"\begin{aligned}"]
    for a in spec.assignments:
        lines.append(f"{_latex(spec, a.target)} &\\leftarrow {_latex(spec, a.value, a.target)} \\\\")
    lines += [r"\end{aligned}", "$$", ""]
    if spec.state:
        lines += ["| state | kind | initial value |", "|---|---|---|"]
        lines += [f"| ${s.latex}$ (`{s.name}`) | {'scalar' if s.scalar else 'per element'} | {_init(spec, s)} |"
                  for s in spec.state]
        lines.append("")
    if spec.inputs:
        lines += ["| input (a keyword argument of `step`, shaped like $\\theta$) | symbol | meaning |", "|---|---|---|"]
        lines += [f"| `{i.name}` | ${i.latex}$ | {i.doc or '—'} |" for i in spec.inputs]
        lines.append("")
    lines += ["| hyperparameter | symbol | default | domain |", "|---|---|---|---|"]
    lines += [f"| `{h.name}` | ${h.latex}$ | {h.default!r} | {_domain(h.domain)} |" for h in spec.hyperparameters]
    lines.append("")
    if spec.notes:
        lines += [f"*Notes.* {spec.notes}", ""]
    claims = claims_for(spec.name, results)
    lines += ["*Verified claims:* " + ("none yet." if not claims else ""), ""]
    lines += [f"- {c}" for c in claims]
    if claims:
        lines.append("")
    return "\n".join(lines)


def _verdicts_note(results) -> str:
    """What the verdicts after each claim mean, and which claims are argued rather than proved."""
    from optiforge.derive.engine import ARGUED

    argued = [f"`{r.claim.name}`" for r in results if r.status == ARGUED]
    return ("Each optimizer lists the derive/ claims about its spec with their verdict: *proved* means every step "
            "was checked mechanically (the soundness policy is in docs/derivations.md); *argued* means an "
            "inference was stated but not checked, and is never counted as proved. Argued claims: "
            + (", ".join(argued) if argued else "none") + ".")


def render_catalog(results=None) -> str:
    """The whole page; ``results`` are derive/ claim results (default: run every claim once)."""
    if results is None:
        from optiforge import derive

        results = derive.results()
    all_specs = specs.all_specs()
    lines = ["# Optimizer catalogue", "",
             "<!-- Generated by optiforge/catalog_docs.py (render_catalog); do not edit by hand. -->", "",
             f"{len(all_specs)} optimizers, each declared as SymPy update equations in `specs/catalog/`. "
             "θ is the parameter, g the gradient at the stored parameters, t the step (from 1). "
             "Compositions (`with_weight_decay`, `lookahead` in `specs/combinators.py`) are listed like any spec.", "",
             _verdicts_note(results), "",
             "| name | title | peers |", "|---|---|---|"]
    lines += [f"| [`{s.name}`](#{s.name.replace('_', '_')}) | {s.title} | {len(s.peers)} |" for s in all_specs]
    lines.append("")
    for spec in all_specs:
        lines.append(render_spec(spec, results))
    lines += ["## Out of scope: optimizers that are not elementwise", "",
              "The DSL describes per-element updates with per-element and per-step scalar state. These optimizers "
              "need reductions over a tensor, a layer or all parameters, so they are not in the catalogue (yet):", "",
              "| optimizer | where | why not elementwise |", "|---|---|---|"]
    lines += [f"| {name} | {where} | {why} |" for name, where, why in OUT_OF_SCOPE]
    lines += ["", "## Elementwise peers not in the catalogue", "", "| peer | why |", "|---|---|"]
    lines += [f"| {name} | {why} |" for name, why in NOT_YET]
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m optiforge.catalog_docs > docs/optimizers.md (optiforge build does this)
    print(render_catalog(), end="")
