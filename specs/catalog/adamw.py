"""AdamW: Loshchilov & Hutter (2019), Algorithm 2 (decoupled weight decay), and torch.optim.AdamW."""
from sympy import sqrt

from specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, UNIT_HALF_OPEN, SpecBuilder


def _adam_moments(spec):
    lr = spec.hyper("lr", 1e-3, r"\alpha" if spec.name == "adamw" else r"\eta", NONNEGATIVE)
    beta1 = spec.hyper("beta1", 0.9, r"\beta_1", UNIT_HALF_OPEN)
    beta2 = spec.hyper("beta2", 0.999, r"\beta_2", UNIT_HALF_OPEN)
    eps = spec.hyper("eps", 1e-8, r"\epsilon", NONNEGATIVE)
    m = spec.state("m", 0)
    v = spec.state("v", 0)
    spec.update(m, beta1 * m + (1 - beta1) * g)
    spec.update(v, beta2 * v + (1 - beta2) * g**2)
    return lr, beta1, beta2, eps, m, v


paper = SpecBuilder("adamw", "AdamW (decoupled weight decay)",
                    reference="Loshchilov & Hutter (2019), Decoupled Weight Decay Regularization, Algorithm 2",
                    source="seed 002 §3.2.1", peers=("torch.optim.AdamW (λ_paper = lr·λ_torch)", "optax.adamw"),
                    notes="The paper decays by the schedule multiplier η_t·λ, not by lr·λ; the default λ = 1e-5 "
                          "equals torch's AdamW default lr·λ = 1e-3·1e-2.")
lr, beta1, beta2, eps, m, v = _adam_moments(paper)
wd = paper.hyper("weight_decay", 1e-5, r"\lambda", NONNEGATIVE)
eta_t = paper.hyper("schedule_multiplier", 1.0, r"\eta_t", NONNEGATIVE)
m_hat = paper.let("m_hat", m / (1 - beta1**t), r"\hat{m}")
v_hat = paper.let("v_hat", v / (1 - beta2**t), r"\hat{v}")
paper.update(theta, theta - eta_t * (lr * m_hat / (sqrt(v_hat) + eps) + wd * theta))

from specs.catalog.adam import SPEC as _adam  # noqa: E402
from specs.combinators import with_weight_decay  # noqa: E402

SPECS = (paper.build(),
         with_weight_decay(_adam, "decoupled", name="adamw_torch", default=1e-2, title="AdamW (torch.optim.AdamW)",
                           reference="torch.optim.AdamW, torch 2.13", source="reference/peer_semantics.md §1.6",
                           peers=("torch.optim.AdamW",),
                           notes="θ ← θ(1 − ηλ) is applied before the Adam step, with θ_{t-1}."))
