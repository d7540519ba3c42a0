"""2. Momentum: the velocity form v ← αv − ηg vs the EMA form with a learning rate (docs/sources/seed-004.md §Momentum)."""
import sympy as sp

from optiforge import specs
from optiforge.specs import GRAD as g, PARAM as theta, STEP as t

from ..engine import FAILS, ClaimList, induction, limit
from ..equivalence import Dynamics, counterexample_step, equivalent, necessary_hyper_conditions

CLAIMS = ClaimList()
SPEC = specs.get("momentum")
lr, alpha, v = SPEC.symbol("lr"), SPEC.symbol("momentum"), SPEC.symbol("v")
lr_ema = sp.Symbol("lr_ema", positive=True)  # η' of the EMA form
m = sp.Symbol("m", real=True)
SOURCE = "docs/sources/seed-004.md §Momentum, eq. (1.6) and the 指数加权平均 form v_i = αv_{i−1} + (1−α)g_i, Δw = −ηv_i"

#: docs/sources/seed-004.md's EMA form: m ← αm + (1−α)g, θ ← θ − η' m.
EMA_FORM = Dynamics.from_assignments("momentum_ema", [(m, alpha * m + (1 - alpha) * g), (theta, theta - lr_ema * m)],
                                     {m: 0})


@CLAIMS.claim("momentum.forms_equivalent", "velocity form with η = η'(1−α) ≡ EMA form with rate η'", "equivalence",
              SOURCE,
              specs=("momentum",))
def forms_equivalent():
    velocity = Dynamics.from_spec(SPEC, fix={lr: lr_ema * (1 - alpha)})
    return equivalent(velocity, EMA_FORM, {m: -v / lr_ema, theta: theta})


@CLAIMS.claim("momentum.forms_only_if", "…and only if η = η'(1−α) (coefficients of g₁, g₂)", "equivalence", SOURCE,
              specs=("momentum",))
def forms_only_if():
    return [necessary_hyper_conditions(Dynamics.from_spec(SPEC), EMA_FORM, lr, lr_ema * (1 - alpha))]


@CLAIMS.claim("momentum.forms_same_rate", "the two forms with the same rate η = η' differ", "equivalence", SOURCE,
              expected=FAILS,
              specs=("momentum",))
def forms_same_rate():
    return [counterexample_step(Dynamics.from_spec(SPEC, fix={lr: lr_ema}), EMA_FORM)]


k = sp.Symbol("k", positive=True)  # α = e^{-k}
c = sp.Symbol("c", real=True)
closed = -lr * c * (1 - alpha**t) / (1 - alpha)


@CLAIMS.claim("momentum.steady_state", "constant g: v_t = −ηg(1−α^t)/(1−α) → −ηg/(1−α)", "limit", SOURCE,
              specs=("momentum",))
def steady_state():
    return [induction("v_t for constant g", closed, lambda prev, n: alpha * prev - lr * c, 0),
            limit("t → ∞ (α = e^{−k})", closed.subs(alpha, sp.exp(-k)), t, sp.oo, -lr * c / (1 - sp.exp(-k)))]


@CLAIMS.claim("momentum.seed004_steady_state_sign", "docs/sources/seed-004.md: v_i → ηg/(1−α) (sign)", "limit", SOURCE,
              expected=FAILS, note="The limit is −ηg/(1−α): v accumulates −ηg. The magnitude is right, the sign is not.",
              specs=("momentum",))
def seed_sign():
    return [limit("t → ∞ (α = e^{−k})", closed.subs(alpha, sp.exp(-k)), t, sp.oo, lr * c / (1 - sp.exp(-k)),
                  sample={c: [1], lr: [1], k: [1]})]
