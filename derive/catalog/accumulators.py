r"""4. "Start the accumulator at ε and drop ε" (docs/sources/seed-004.md §AdaGrad/RMSProp/AdaDelta) and AdaDelta's units
argument (docs/sources/seed-000.md (9)–(11), docs/sources/seed-003.md §4.3)."""
import sympy as sp

from optiforge import specs
from optiforge.specs import GRAD as g, PARAM as theta, STEP as t

from ..engine import FAILS, ClaimList, definition, identity, substitution
from ..equivalence import Dynamics, equivalent

CLAIMS = ClaimList()
ADAGRAD, RMSPROP, ADADELTA = specs.get("adagrad"), specs.get("rmsprop"), specs.get("adadelta")
lr, eps, r = ADAGRAD.symbol("lr"), ADAGRAD.symbol("eps"), ADAGRAD.symbol("r")
beta = RMSPROP.symbol("beta")
rho, s = ADADELTA.symbol("rho"), ADADELTA.symbol("s")
POSITIVE_EPS = {eps: [sp.Rational(1, 2), 2]}  # the trick is about ε > 0

ADAGRAD_TRICK = Dynamics.from_assignments("adagrad_r0_eps", [(r, r + g**2), (theta, theta - lr * g / sp.sqrt(r))],
                                          {r: eps})
ADAGRAD_INSIDE = Dynamics.from_assignments("adagrad_eps_in_sqrt",
                                           [(r, r + g**2), (theta, theta - lr * g / sp.sqrt(r + eps))], {r: 0})
RMSPROP_TRICK = Dynamics.from_assignments("rmsprop_r0_eps", [(r, beta * r + (1 - beta) * g**2),
                                                             (theta, theta - lr * g / sp.sqrt(r))], {r: eps})
RMSPROP_DECAYING = Dynamics.from_assignments(
    "rmsprop_eps_beta^t_in_sqrt", [(r, beta * r + (1 - beta) * g**2),
                                   (theta, theta - lr * g / sp.sqrt(r + beta**t * eps))], {r: 0})
delta = sp.Symbol("delta", real=True)
ADADELTA_TRICK = Dynamics.from_assignments(
    "adadelta_r0_s0_eps", [(r, rho * r + (1 - rho) * g**2), (delta, -sp.sqrt(s) / sp.sqrt(r) * g),
                           (s, rho * s + (1 - rho) * delta**2), (theta, theta + delta)], {r: eps, s: eps})
ADADELTA_DECAYING = Dynamics.from_assignments(
    "adadelta_decaying_eps", [(r, rho * r + (1 - rho) * g**2),
                              (delta, -sp.sqrt(s + rho**(t - 1) * eps) / sp.sqrt(r + rho**t * eps) * g),
                              (s, rho * s + (1 - rho) * delta**2), (theta, theta + delta)], {r: 0, s: 0})
ADADELTA_R = ADADELTA.symbol("r")
SEED = "docs/sources/seed-004.md §AdaGrad (r_0 = ε, (2.2) without ε), §RMSProp, §AdaDelta (s_0 = r_0 = ε)"


@CLAIMS.claim("accumulators.adagrad_trick_vs_paper", "AdaGrad: r₀ = ε without ε ≡ ε/(ε + √r) of (2.2)?",
              "equivalence", SEED, expected=FAILS,
              specs=("adagrad",))
def adagrad_vs_paper():
    return equivalent(ADAGRAD_TRICK, Dynamics.from_spec(ADAGRAD), {r: r - eps}, sample=POSITIVE_EPS)


@CLAIMS.claim("accumulators.adagrad_trick_is_eps_in_sqrt", "AdaGrad: r₀ = ε without ε ≡ η g/√(Σg² + ε) exactly",
              "equivalence", SEED + "; docs/sources/seed-003.md §4.1 (√(G_t + ε))")
def adagrad_inside():
    return equivalent(ADAGRAD_TRICK, ADAGRAD_INSIDE, {r: r - eps})


@CLAIMS.claim("accumulators.rmsprop_trick_vs_paper", "RMSProp: r₀ = ε without ε ≡ spec `rmsprop` (ε outside √)?",
              "equivalence", SEED, expected=FAILS,
              specs=("rmsprop",))
def rmsprop_vs_paper():
    return equivalent(RMSPROP_TRICK, Dynamics.from_spec(RMSPROP), {r: r - beta**t * eps}, sample=POSITIVE_EPS)


@CLAIMS.claim("accumulators.rmsprop_trick_decaying_eps", "RMSProp: r₀ = ε ≡ ε_t = β^t ε inside √ (protection decays)",
              "equivalence", SEED, note="Quantified: the trick's ε shrinks geometrically, so after ~1/(1−β) steps of "
              "near-zero gradients the denominator is no longer protected.")
def rmsprop_decaying():
    return equivalent(RMSPROP_TRICK, RMSPROP_DECAYING, {r: r - beta**t * eps})


@CLAIMS.claim("accumulators.adadelta_trick_vs_paper", "AdaDelta: s₀ = r₀ = ε without ε ≡ spec `adadelta`?",
              "equivalence", SEED, expected=FAILS,
              specs=("adadelta",))
def adadelta_vs_paper():
    return equivalent(ADADELTA_TRICK, Dynamics.from_spec(ADADELTA), {ADADELTA_R: r - rho**t * eps,
                                                                     s: s - rho**t * eps}, sample=POSITIVE_EPS)


@CLAIMS.claim("accumulators.adadelta_trick_decaying_eps", "AdaDelta: the trick ≡ ε_r = ρ^t ε, ε_s = ρ^{t−1} ε",
              "equivalence", SEED)
def adadelta_decaying():
    return equivalent(ADADELTA_TRICK, ADADELTA_DECAYING, {r: r - rho**t * eps, s: s - rho**t * eps})


@CLAIMS.claim("accumulators.adadelta_simplified_s", "docs/sources/seed-004.md: s_i = βs_{i−1} + (s_{i−1}/r_i)(1−β)g_i²",
              "substitution", "docs/sources/seed-004.md §AdaDelta (after (3.1))")
def simplified_s():
    sp_, rp = sp.symbols("s_prev r_t", positive=True)
    dw = sp.Symbol(r"\Delta w", real=True)
    return [substitution("Δw = −√(s_{i−1}/r_i) g_i into s_i = βs + (1−β)Δw²", rho * sp_ + (1 - rho) * dw**2,
                         {dw: -sp.sqrt(sp_ / rp) * g}, rho * sp_ + sp_ / rp * (1 - rho) * g**2)]


@CLAIMS.claim("accumulators.adadelta_units", "η = RMS[Δθ]_{t−1} turns the RMSProp step into the AdaDelta step",
              "substitution", "docs/sources/seed-000.md (9), (10), (11); docs/sources/seed-003.md §4.3 (Δθ_t = −RMS[Δθ]_{t−1}/RMS[g]_t g_t)",
              specs=("adadelta",))
def units():
    eta = sp.Symbol("eta", positive=True)
    rms_g, rms_dx = sp.symbols(r"RMS[g]_t RMS[\Delta\theta]_{t-1}", positive=True)
    r_t = rho * ADADELTA_R + (1 - rho) * g**2  # E[g²]_t
    update = ADADELTA.step_map()[theta]
    solved = sp.solve(sp.Eq(-eta / rms_g * g, -rms_dx / rms_g * g), eta)
    return [definition("RMS[g]_t", rms_g, sp.sqrt(r_t + eps)),
            definition("RMS[Δθ]_{t−1}", rms_dx, sp.sqrt(s + eps)),
            identity("(9) = (10) ⇔ η = RMS[Δθ]_{t−1} (11)", solved[0] if len(solved) == 1 else sp.nan, rms_dx),
            substitution("RMSProp step (10) with η ↦ RMS[Δθ]_{t−1}", theta - eta / rms_g * g, {eta: rms_dx},
                         theta - rms_dx / rms_g * g),
            substitution("the RMS definitions: the result is spec `adadelta`'s update exactly",
                         theta - rms_dx / rms_g * g, {rms_dx: sp.sqrt(s + eps), rms_g: sp.sqrt(r_t + eps)}, update)]
