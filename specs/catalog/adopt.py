"""ADOPT: Taniguchi et al. (2024), Algorithm 2 with the clipping of its §4 (pytorch_optimizer's default)."""
from sympy import Eq, Max, Min, Piecewise, Rational, sqrt

from optiforge.specs.builder import SpecBuilder
from optiforge.specs.common import betas, epsilon, learning_rate
from optiforge.specs.dsl import GRAD as g, PARAM as theta, STEP as t, TORCH_NUMERICS

spec = SpecBuilder("adopt", "ADOPT", reference="Taniguchi et al. (2024), ADOPT: Modified Adam Can Converge with Any "
                   "β₂ with the Optimal Rate, Algorithm 2", source="peers (pytorch_optimizer.ADOPT)",
                   numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.ADOPT(weight_decay=0)",),
                   notes="Step 1 only sets v = g² (no update). Then the gradient is normalised by the previous "
                         "second moment, max(√v, ε), and clipped to ±t^¼ before the momentum: m ← β₁m + (1−β₁)·"
                         "clip(g/max(√v, ε), t^¼); θ ← θ − η·m; v ← β₂v + (1−β₂)g² last.")
lr = learning_rate(spec, 1e-3)
beta1, beta2 = betas(spec, 0.9, 0.9999)
eps = epsilon(spec, 1e-6)
m = spec.state("m", 0)
v = spec.state("v", 0)
first = Eq(t, 1)
clip = spec.let("clip", t**Rational(1, 4), r"c_t")
n = spec.let("n", Min(Max(g / Max(sqrt(v), eps), -clip), clip), r"\tilde g")
spec.update(m, Piecewise((m, first), (beta1 * m + (1 - beta1) * n, True)))
spec.update(theta, Piecewise((theta, first), (theta - lr * m, True)))
spec.update(v, Piecewise((g**2, first), (beta2 * v + (1 - beta2) * g**2, True)))
SPEC = spec.build()
