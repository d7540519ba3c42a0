"""AdamW: Loshchilov & Hutter (2019), Algorithm 2 (decoupled weight decay), and torch.optim.AdamW."""
from sympy import sqrt

from optiforge.specs.common import adam_hyperparameters, adam_moments
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import NONNEGATIVE, PARAM as theta, STEP as t, TORCH_NUMERICS


paper = SpecBuilder("adamw", "AdamW (decoupled weight decay)",
                    reference="Loshchilov & Hutter (2019), Decoupled Weight Decay Regularization, Algorithm 2",
                    source="docs/sources/seed-002.md §3.2.1", numerics=TORCH_NUMERICS, peers=("torch.optim.AdamW (λ_paper = lr·λ_torch)", "optax.adamw"),
                    notes="The paper decays by the schedule multiplier η_t·λ, not by lr·λ; the default λ = 1e-5 "
                          "equals torch's AdamW default lr·λ = 1e-3·1e-2. The step θ − η_t(αm̂/(√v̂ + ε) + λθ) is "
                          "computed as θ(1 − η_tλ) − η_tαm̂/(√v̂ + ε), as torch does (an infinite θ stays infinite; "
                          "optax's θ − η(u + λθ) gives NaN there).")
lr, beta1, beta2, eps = adam_hyperparameters(paper, lr_latex=r"\alpha")
m, v = adam_moments(paper, beta1, beta2)
wd = paper.hyper("weight_decay", 1e-5, r"\lambda", NONNEGATIVE)
eta_t = paper.hyper("schedule_multiplier", 1.0, r"\eta_t", NONNEGATIVE)
m_hat = paper.let("m_hat", m / (1 - beta1**t), r"\hat{m}")
v_hat = paper.let("v_hat", v / (1 - beta2**t), r"\hat{v}")
# θ − η_t(α m̂/(√v̂ + ε) + λθ), written in torch's order: θ(1 − η_tλ) first, so an infinite θ stays infinite.
paper.update(theta, theta * (1 - eta_t * wd) - eta_t * lr * m_hat / (sqrt(v_hat) + eps))

from optiforge.specs.catalog.adam import SPEC as _adam  # noqa: E402
from optiforge.specs.combinators import with_weight_decay  # noqa: E402

SPECS = (paper.build(),
         with_weight_decay(_adam, "decoupled", name="adamw_torch", default=1e-2, title="AdamW (torch.optim.AdamW)",
                           reference="torch.optim.AdamW, torch 2.13", source="docs/sources/peers.md §1.6",
                           numerics=TORCH_NUMERICS, peers=("torch.optim.AdamW",),
                           notes="θ ← θ(1 − ηλ) is applied before the Adam step, with θ_{t-1}."))
