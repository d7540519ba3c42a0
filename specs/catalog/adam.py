"""Adam: Kingma & Ba (2015), Algorithm 1."""
from sympy import sqrt

from optiforge.specs.common import adam_hyperparameters
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, PARAM as theta, STEP as t, TORCH_NUMERICS

spec = SpecBuilder("adam", "Adam", reference="Kingma & Ba (2015), Adam: A Method for Stochastic Optimization, Algorithm 1",
                   source="docs/sources/seed-004.md §7, eqs. (4.1)-(4.5); docs/sources/seed-002.md §3.2.1, Algorithm 6", numerics=TORCH_NUMERICS, peers=("torch.optim.Adam", "optax.adam"),
                   notes="ε outside the square root of the bias-corrected v̂ (the paper's form; torch and optax agree).")
lr, beta1, beta2, eps = adam_hyperparameters(spec)
# Written out (not specs.common.adam_moments): this file is the reference example of a spec.
m = spec.state("m", 0)
v = spec.state("v", 0)
spec.update(m, beta1 * m + (1 - beta1) * g)
spec.update(v, beta2 * v + (1 - beta2) * g**2)
m_hat = spec.let("m_hat", m / (1 - beta1**t), r"\hat{m}")
v_hat = spec.let("v_hat", v / (1 - beta2**t), r"\hat{v}")
spec.update(theta, theta - lr * m_hat / (sqrt(v_hat) + eps))
SPEC = spec.build()
