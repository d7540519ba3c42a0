r"""9. Ada_Nesterov (docs/sources/seed-000.md §3): AdaDelta's per-dimension rate (11) put into Nesterov's update (2) gives (12);
and (12) reparametrised so that a kernel only needs the gradient at the stored parameters."""
import sympy as sp

from optiforge.specs import GRAD as g, PARAM as theta

from ..engine import FAILS, ClaimList, identity, substitution
from ..equivalence import Dynamics, equivalent

CLAIMS = ClaimList()
rho = sp.Symbol("rho", nonnegative=True)  # momentum factor ρ
gamma = sp.Symbol("gamma", nonnegative=True)  # decay of the running averages, eqs. (7)–(8)
eps = sp.Symbol("eps", positive=True)  # the constant term (常数项)
dtheta, Eg, Ed = sp.symbols(r"Delta_theta E_g2 E_dtheta2", real=True)  # Δθ (velocity), E[g²], E[Δθ²]
eta = sp.Symbol("eta", positive=True)
rms_g, rms_dx = sp.symbols(r"RMS[g]_t RMS[\Delta\theta]_{t-1}", positive=True)
grad_lookahead = sp.Symbol(r"\nabla_\theta L(\theta+\rho\Delta\theta)", real=True)
SOURCES = "docs/sources/seed-000.md §2.4 eq. (2), §2.6 eqs. (7)–(9), §3 eqs. (10)–(12)"
SAMPLE = {rho: [sp.Rational(1, 2)], gamma: [sp.Rational(1, 2)], eps: [sp.Rational(1, 4)]}

RMS_DX = sp.sqrt(Ed + eps)


def _ada_nesterov(name, step_factor, query):
    """Velocity Δθ ← ρΔθ − step_factor·g, averages (7)–(8), θ ← θ + Δθ (look-ahead query by default)."""
    return Dynamics.from_assignments(name, [
        (Eg, gamma * Eg + (1 - gamma) * g**2), (dtheta, rho * dtheta - step_factor * g),
        (Ed, gamma * Ed + (1 - gamma) * dtheta**2), (theta, theta + dtheta)], {dtheta: 0, Eg: 0, Ed: 0}, query=query)


#: (12) as printed: look-ahead gradient, rate RMS[Δθ]_{t−1} on the raw gradient.
EQ12 = _ada_nesterov("ada_nesterov_(12)", RMS_DX, theta + rho * dtheta)
#: Nesterov driven by AdaDelta's per-dimension step (9): rate RMS[Δθ]_{t−1}/RMS[g]_t.
WITH_RMS_G = _ada_nesterov("nesterov_with_adadelta_step_(9)", RMS_DX / sp.sqrt(gamma * Eg + (1 - gamma) * g**2 + eps),
                           theta + rho * dtheta)
#: (12) reparametrised: φ = θ + ρΔθ stored, ordinary gradient g = ∇L(φ).
REPARAMETRISED = Dynamics.from_assignments("ada_nesterov_reparametrised", [
    (Eg, gamma * Eg + (1 - gamma) * g**2), (sp.Symbol("R"), RMS_DX), (dtheta, rho * dtheta - RMS_DX * g),
    (Ed, gamma * Ed + (1 - gamma) * dtheta**2), (theta, theta + rho * dtheta - sp.Symbol("R") * g)],
    {dtheta: 0, Eg: 0, Ed: 0})


@CLAIMS.claim("ada_nesterov.rate_11", "(9) and (10) agree iff η = RMS[Δθ]_{t−1} (11)", "identity", SOURCES,
              specs=("ada_nesterov",))
def rate():
    solved = sp.solve(sp.Eq(-eta / rms_g * g, -rms_dx / rms_g * g), eta)
    return [identity("solve (10) = (9) for η", solved[0] if len(solved) == 1 else sp.nan, rms_dx)]


@CLAIMS.claim("ada_nesterov.substitution_12", "(11) substituted into Nesterov's (2) gives (12)", "substitution",
              SOURCES,
              specs=("ada_nesterov",))
def substitution_12():
    return [substitution("η ↦ RMS[Δθ]_{t−1} in Δθ ← ρΔθ − η∇L(θ+ρΔθ)", rho * dtheta - eta * grad_lookahead,
                         {eta: rms_dx}, rho * dtheta - rms_dx * grad_lookahead)]


@CLAIMS.claim("ada_nesterov.keeps_adadelta_rate", "(12) ≡ Nesterov with AdaDelta's per-dimension step (9)?",
              "equivalence", SOURCES, expected=FAILS,
              note="(11) was read off (9)/(10), where η multiplies g/RMS[g]_t; in (2) η multiplies the raw gradient, "
                   "so (12) silently drops the 1/RMS[g]_t factor and the units argument no longer holds.",
              specs=("ada_nesterov",))
def keeps_rate():
    return equivalent(EQ12, WITH_RMS_G, sample=SAMPLE)


@CLAIMS.claim("ada_nesterov.reparametrised", "(12) ≡ stored-gradient form under φ = θ + ρΔθ (kernel-ready)",
              "equivalence", SOURCES + "; same change of variables as nesterov.lookahead_reparametrised",
              specs=("ada_nesterov",))
def reparametrised():
    return equivalent(EQ12, REPARAMETRISED, {theta: theta + rho * dtheta})
