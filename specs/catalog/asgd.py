"""ASGD (torch.optim.ASGD): averaged SGD with the Polyak–Juditsky average and a decaying step (Bottou 2012)."""
from sympy import Eq, Max, Piecewise

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, TORCH_NUMERICS

spec = SpecBuilder("asgd_torch", "ASGD (torch.optim.ASGD)", reference="Polyak & Juditsky (1992); Bottou (2012), "
                   "Stochastic Gradient Descent Tricks; torch.optim.ASGD, torch 2.13", source="peers (torch.optim.ASGD)",
                   notes="η_t = lr/(1+λ_η·lr·(t−1))^α and μ_t = 1/max(1, t−1−t₀) are the values computed after the "
                         "previous step; θ ← θ(1−λ_η η_t) − η_t g; the average ā ← ā + μ_t(θ − ā) is state only "
                         "(torch returns θ, not ā).")
lr = spec.hyper("lr", 1e-2, r"\eta", NONNEGATIVE)
lambd = spec.hyper("lambd", 1e-4, r"\lambda_\eta", NONNEGATIVE)
alpha = spec.hyper("alpha", 0.75, r"\alpha", NONNEGATIVE)
t0 = spec.hyper("t0", 1e6, "t_0", NONNEGATIVE)
ax = spec.state("ax", 0, r"\bar{\theta}")
eta = spec.let("eta", lr / (1 + lambd * lr * (t - 1))**alpha, r"\eta_t")
mu = spec.let("mu", 1 / Max(1, t - 1 - t0), r"\mu_t")
spec.update(theta, theta * (1 - lambd * eta) - eta * g)
# torch copies θ into ā while μ_t = 1 (so an infinite θ gives ā = ∞, not ∞ − ∞ = NaN).
spec.update(ax, Piecewise((theta, Eq(mu, 1)), (ax + mu * (theta - ax), True)))
SPEC = with_weight_decay(spec.build(), "coupled", name="asgd_torch", title="ASGD (torch.optim.ASGD)",
                         numerics=TORCH_NUMERICS, peers=("torch.optim.ASGD",))
