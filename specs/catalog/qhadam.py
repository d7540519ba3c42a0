"""QHAdam: Ma & Yarats (2019), quasi-hyperbolic Adam."""
from sympy import sqrt

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import betas, epsilon, learning_rate
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, PARAM as theta, UNIT_CLOSED, TORCH_OPTIMIZER_NUMERICS

spec = SpecBuilder("qhadam", "QHAdam", reference="Ma & Yarats (2019), Quasi-hyperbolic momentum and Adam for deep "
                   "learning, Algorithm 2", source="peers (torch_optimizer.QHAdam, pytorch_optimizer.QHAdam)",
                   notes="Bias correction through the weights w_t = 1 + βw_{t−1} (w₀ = 0), so m and v hold m̂, v̂; "
                         "ν₁ = ν₂ = 1 gives Adam. pytorch_optimizer keeps w in float32 (≈1e-8 relative).")
lr = learning_rate(spec)
beta1, beta2 = betas(spec)
nu1 = spec.hyper("nu1", 1.0, r"\nu_1", UNIT_CLOSED)
nu2 = spec.hyper("nu2", 1.0, r"\nu_2", UNIT_CLOSED)
eps = epsilon(spec)
w1 = spec.scalar_state("w1", 0, "w_1")
w2 = spec.scalar_state("w2", 0, "w_2")
m = spec.state("m", 0)
v = spec.state("v", 0)
spec.update(w1, 1 + beta1 * w1)
spec.update(w2, 1 + beta2 * w2)
spec.update(m, (1 - 1 / w1) * m + g / w1)
spec.update(v, (1 - 1 / w2) * v + g**2 / w2)
spec.update(theta, theta - lr * (nu1 * m + (1 - nu1) * g) / (sqrt(nu2 * v + (1 - nu2) * g**2) + eps))
SPEC = with_weight_decay(spec.build(), "coupled", name="qhadam", title="QHAdam",
                         numerics=TORCH_OPTIMIZER_NUMERICS, peers=("torch_optimizer.QHAdam", "pytorch_optimizer.QHAdam(weight_decouple=False)"),
                         notes="Coupled L2 weight decay as in the reference code.")
