"""AdaDB: Khan, Jawad & Khan (2021), diffGrad with a friction coefficient from the last three gradient differences
and a sign-dependent form, as given in docs/sources/seed-002.md Algorithm 11 (the adaptive batch-size part is not an update rule)."""
from sympy import Abs, Piecewise, exp, sqrt

from optiforge.specs.common import betas, ema_update, epsilon, learning_rate
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, UNIT_HALF_OPEN, Numerics

spec = SpecBuilder(
    "adadb", "AdaDB", numerics=Numerics(averages="lerp"), reference="Khan, Jawad & Khan (2021), AdaDB: Adaptive Diff-Batch Optimization Technique for "
    "Gradient Descent, IEEE Access 9:99581-99588", source="docs/sources/seed-002.md §3.2.2, Algorithm 11",
    notes="Δg_t = β₃(g_{t−1} − g_t) + β₃²(g_{t−2} − g_{t−1}) + β₃³(g_{t−3} − g_{t−2}) with g₀ = g₋₁ = g₋₂ = 0; "
          "ξ_t = AbsSig(Δg_t) when g_t·g_{t−1} < 0 (opposite signs: friction) and ξ_t = 1 + λ·AbsSig(Δg_t) "
          "otherwise (same sign: acceleration), AbsSig(x) = 1/(1+e^{−|x|}). The seed's text is a damaged PDF "
          "extraction and gives no defaults: β₃ = 0.9 and λ = 0.1 are this library's choices, and the reading "
          "1 + λ·AbsSig(·) follows the seed's statement that AdaDB can increase the step (diffGrad cannot). "
          "No peer implements AdaDB; it is tested against a hand-written float64 reference.")
lr = learning_rate(spec)
beta1, beta2 = betas(spec)
beta3 = spec.hyper("beta3", 0.9, r"\beta_3", UNIT_HALF_OPEN)
lam = spec.hyper("lam", 0.1, r"\lambda", NONNEGATIVE)
eps = epsilon(spec)
m = spec.state("m", 0)
v = spec.state("v", 0)
g1 = spec.state("g_prev1", 0, r"g_{t-1}")
g2 = spec.state("g_prev2", 0, r"g_{t-2}")
g3 = spec.state("g_prev3", 0, r"g_{t-3}")
dg = spec.let("delta_g", beta3 * (g1 - g) + beta3**2 * (g2 - g1) + beta3**3 * (g3 - g2), r"\Delta g")
abs_sig = spec.let("abs_sig", 1 / (1 + exp(-Abs(dg))), r"\sigma_{|\cdot|}")
xi = spec.let("xi", Piecewise((abs_sig, g * g1 < 0), (1 + lam * abs_sig, True)), r"\xi")
ema_update(spec, m, beta1, g)
ema_update(spec, v, beta2, g**2)
spec.update(g3, g2)
spec.update(g2, g1)
spec.update(g1, g)
spec.update(theta, theta - lr * xi * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps))
SPEC = spec.build()
