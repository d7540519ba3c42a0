"""AdaMod: Ding, Ren, Luo & Sun (2019), as in the authors' code (torch_optimizer; pytorch_optimizer with
betas=(0.9, 0.999, 0.999))."""
from sympy import Min, sqrt

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import betas, ema_update, epsilon, learning_rate
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, PARAM as theta, STEP as t, TORCH_NUMERICS, UNIT_HALF_OPEN, Numerics

spec = SpecBuilder("adamod", "AdaMod", numerics=Numerics(averages="lerp"),
                   reference="Ding, Ren, Luo & Sun (2019), An Adaptive and Momental Bound Method "
                   "for Stochastic Learning, Algorithm 1; official code", source="docs/sources/seed-002.md §3.2.3, Algorithm 13",
                   notes="η̂_t = η√(1−β₂^t)/(1−β₁^t)/(√v_t+ε); s_t = β₃s_{t−1} + (1−β₃)η̂_t (s₀ = 0, not bias "
                         "corrected); θ ← θ − min(η̂_t, s_t)·m_t. pytorch_optimizer defaults to β₃ = 0.9999 and "
                         "β₂ = 0.99.")
lr = learning_rate(spec)
beta1, beta2 = betas(spec)
beta3 = spec.hyper("beta3", 0.999, r"\beta_3", UNIT_HALF_OPEN)
eps = epsilon(spec)
m = spec.state("m", 0)
v = spec.state("v", 0)
s = spec.state("s", 0)
ema_update(spec, m, beta1, g)
ema_update(spec, v, beta2, g**2)
eta_hat = spec.let("eta_hat", lr * sqrt(1 - beta2**t) / (1 - beta1**t) / (sqrt(v) + eps), r"\hat\eta")
spec.update(s, beta3 * s + (1 - beta3) * eta_hat)
spec.update(theta, theta - Min(eta_hat, s) * m)
paper = spec.build()

SPECS = (
    paper,
    with_weight_decay(paper, "decoupled", name="adamodw", title="AdaMod with decoupled weight decay",
                      numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.AdaMod(betas=(0.9, 0.999, 0.999))",
                             "torch_optimizer.AdaMod(weight_decay>0)")),
)
