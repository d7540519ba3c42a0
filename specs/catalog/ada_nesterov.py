"""Ada_Nesterov: Nesterov momentum with AdaDelta's per-element learning rate RMS[Δθ]_{t−1} (docs/sources/seed-000.md, eq. (12)),
reparametrised so the gradient is an ordinary gradient at the stored parameters."""
from sympy import sqrt

from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, PARAM as theta, POSITIVE, UNIT_HALF_OPEN

spec = SpecBuilder(
    "ada_nesterov", "Ada_Nesterov", reference="Ada_Nesterov momentum algorithm (docs/sources/seed-000.md), eq. (12) and Algorithm 1",
    source="docs/sources/seed-000.md §3, eqs. (10)-(12)",
    notes="Eq. (12): Δθ_t = ρΔθ_{t−1} − RMS[Δθ]_{t−1}·∇L(θ_{t−1} + ρΔθ_{t−1}), θ_t = θ_{t−1} + Δθ_t, with "
          "E[Δθ²]_t = γE[Δθ²]_{t−1} + (1−γ)Δθ_t² and RMS[Δθ] = √(E[Δθ²] + ε). The stored parameter is the look-ahead "
          "point φ = θ + ρΔθ, so g = ∇L(φ) and φ_t = φ_{t−1} + ρΔθ_t − RMS[Δθ]_{t−1}·g_t (as for `nesterov`). "
          "Defaults: ρ = 0.5 and ε = 1e-5 from the paper's experiments; γ = 0.95 (AdaDelta's), because the paper's "
          "'decay coefficient 0.001' is not identifiable with γ. No peer implements it; tested against a "
          "hand-written float64 reference of eq. (12) in the original (non-reparametrised) form.")
rho = spec.hyper("momentum", 0.5, r"\rho", UNIT_HALF_OPEN)
gamma = spec.hyper("decay", 0.95, r"\gamma", UNIT_HALF_OPEN)
eps = spec.hyper("eps", 1e-5, r"\epsilon", POSITIVE)
delta = spec.state("delta", 0, r"\Delta\theta")
acc = spec.state("acc_delta", 0, r"E[\Delta\theta^2]")
rate = spec.let("rate", sqrt(acc + eps), r"\mathrm{RMS}[\Delta\theta]_{t-1}")
spec.update(delta, rho * delta - rate * g)
spec.update(acc, gamma * acc + (1 - gamma) * delta**2)
spec.update(theta, theta + rho * delta - rate * g)
SPEC = spec.build()
