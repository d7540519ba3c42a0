"""AdaBelief: Zhuang et al. (2020), ε inside the second moment (paper, official code, po, to, optax), a variant with
ε only in the denominator, and the weight-decay compositions."""
from sympy import sqrt

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import adam_hyperparameters
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import (GRAD as g, PARAM as theta, STEP as t, TORCH_NUMERICS, TORCH_OPTIMIZER_NUMERICS, Numerics)


def _adabelief(name, title, eps_in_state, notes):
    spec = SpecBuilder(name, title, reference="Zhuang et al. (2020), AdaBelief Optimizer: Adapting Stepsizes by the "
                       "Belief in Observed Gradients, Algorithm 2", source="docs/sources/seed-002.md §3.2.2, Algorithm 9",
                       numerics=TORCH_NUMERICS if eps_in_state else Numerics(averages="lerp"),
                       peers=("pytorch_optimizer.AdaBelief(weight_decay=0)", "torch_optimizer.AdaBelief(weight_decay=0)",
                              "optax.adabelief") if eps_in_state else (), notes=notes)
    lr, beta1, beta2, eps = adam_hyperparameters(spec, eps=1e-16)
    m = spec.state("m", 0)
    s = spec.state("s", 0)
    spec.update(m, beta1 * m + (1 - beta1) * g)
    spec.update(s, beta2 * s + (1 - beta2) * (g - m)**2 + (eps if eps_in_state else 0))
    spec.update(theta, theta - lr * (m / (1 - beta1**t)) / (sqrt(s / (1 - beta2**t)) + eps))
    return spec.build()


paper = _adabelief("adabelief", "AdaBelief", True,
                   "s_t = β₂s_{t−1} + (1−β₂)(g_t − m_t)² + ε (ε stored in the state, as in the paper and every "
                   "implementation); ε = 1e-16 is the official default (torch_optimizer defaults to 1e-8).")
SPECS = (
    paper,
    _adabelief("adabelief_eps_outside", "AdaBelief (ε only in the denominator)", False,
               "s_t = β₂s_{t−1} + (1−β₂)(g_t − m_t)² without ε (arXiv v1 and several re-implementations); not "
               "equivalent to adabelief for ε > 0."),
    with_weight_decay(paper, "coupled", name="adabelief_l2",
                      numerics=TORCH_OPTIMIZER_NUMERICS, peers=("torch_optimizer.AdaBelief (default weight_decouple=False)",
                             "pytorch_optimizer.AdaBelief(weight_decouple=False)"), title="AdaBelief + L2"),
    with_weight_decay(paper, "decoupled", name="adabeliefw",
                      numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.AdaBelief (default weight_decouple=True)",),
                      title="AdaBelief with decoupled weight decay"),
)
