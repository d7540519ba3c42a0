r"""10. Coupled L2 regularisation vs decoupled weight decay (docs/sources/seed-002.md §3.2.1; Loshchilov & Hutter 2019)."""
import sympy as sp

from optiforge import specs
from optiforge.specs import GRAD as g, PARAM as theta

from ..engine import FAILS, ClaimList
from ..equivalence import Dynamics, equivalent, necessary_hyper_conditions
from .adam import BIAS, positivity_of_bias_corrections

CLAIMS = ClaimList()
lr = sp.Symbol("lr", real=True, nonnegative=True)
l2 = sp.Symbol("weight_decay", real=True, nonnegative=True)  # λ of the coupled (L2) form, torch's name
decay = sp.Symbol("decoupled_decay", real=True, nonnegative=True)  # per-step decoupled factor λ'
SOURCES = "docs/sources/seed-002.md §3.2.1 (L2 正则化和权重衰减: 对 SGD 等价, 对 Adam 不等价; AdamW)"

SGD_L2 = Dynamics.from_assignments("sgd_l2", [(theta, theta - lr * (g + l2 * theta))], {})
SGD_DECOUPLED = Dynamics.from_assignments("sgd_decoupled", [(theta, theta - lr * g - decay * theta)], {})
ADAM_TORCH, ADAMW_TORCH, ADAMW = specs.get("adam_torch"), specs.get("adamw_torch"), specs.get("adamw")
SAMPLE = {sp.Symbol("beta1", real=True, nonnegative=True): [sp.Rational(1, 2)],
          sp.Symbol("beta2", real=True, nonnegative=True): [sp.Rational(1, 2)],
          sp.Symbol("eps", real=True, nonnegative=True): [0], lr: [sp.Rational(1, 2)], l2: [sp.Rational(1, 2)]}


@CLAIMS.claim("weight_decay.sgd_equivalent", "SGD: L2 coefficient λ ≡ decoupled decay λ' = ηλ", "equivalence", SOURCES)
def sgd_equivalent():
    return equivalent(SGD_L2, Dynamics.from_assignments("sgd_decoupled(λ'=ηλ)",
                                                        [(theta, theta - lr * g - lr * l2 * theta)], {}))


@CLAIMS.claim("weight_decay.sgd_only_if", "…and only if λ' = ηλ", "equivalence", SOURCES)
def sgd_only_if():
    return [necessary_hyper_conditions(SGD_L2, SGD_DECOUPLED, decay, lr * l2, k=2)]


@CLAIMS.claim("weight_decay.adam_not_equivalent", "Adam + L2 (torch Adam, λ) ≡ AdamW (torch, same λ)?",
              "equivalence", SOURCES + "; Loshchilov & Hutter (2019) §2", expected=FAILS,
              note="In Adam the L2 term λθ is divided by √v̂ with the gradient, so large-gradient weights are "
                   "decayed less; AdamW decays every weight by the same factor 1 − ηλ.",
              specs=("adam_torch", "adamw_torch"))
def adam_not_equivalent():
    return equivalent(Dynamics.from_spec(ADAM_TORCH), Dynamics.from_spec(ADAMW_TORCH), sample=SAMPLE)


@CLAIMS.claim("weight_decay.adam_vs_paper_adamw", "Adam + L2 (λ) ≡ AdamW paper form with λ_paper = ηλ (the SGD map)?",
              "equivalence", SOURCES, expected=FAILS,
              specs=("adam_torch", "adamw"))
def adam_vs_paper():
    adamw = Dynamics.from_spec(ADAMW, fix={"weight_decay": lr * l2, "schedule_multiplier": 1})
    return equivalent(Dynamics.from_spec(ADAM_TORCH), adamw, sample=SAMPLE)


@CLAIMS.claim("weight_decay.adamw_paper_vs_torch", "AdamW paper (η_t = 1, λ_paper = η·λ) ≡ torch AdamW (λ)",
              "equivalence", "Loshchilov & Hutter (2019) Alg. 2; docs/sources/peers.md §1.6; spec `adamw` notes",
              tags=("spec_identities",),
              specs=("adamw", "adamw_torch"))
def adamw_paper_vs_torch():
    adamw = Dynamics.from_spec(ADAMW, fix={"weight_decay": lr * l2, "schedule_multiplier": 1})
    return [positivity_of_bias_corrections(),
            *equivalent(adamw, Dynamics.from_spec(ADAMW_TORCH), assume=BIAS)]
