r"""5. Adam: docs/sources/seed-004.md's one-factor step size, ε conventions, rescaling invariance, the first step, and the
effective-step bounds of Kingma & Ba (2015) §2.1."""
from fractions import Fraction

import numpy as np
import sympy as sp

from optiforge import specs
from optiforge.specs import GRAD as g, PARAM as theta, STEP as t
from optiforge.specs.reference import run as reference_run

from ..engine import (CHECKED, FAILS, REFUTED, UNPROVED, ClaimList, guarded, identity, monotone_bound,
                      numeric)
from ..equivalence import Dynamics, equivalent

CLAIMS = ClaimList()
ADAM = specs.get("adam")
lr, beta1, beta2, eps = (ADAM.symbol(n) for n in ("lr", "beta1", "beta2", "eps"))
m, v = ADAM.symbol("m"), ADAM.symbol("v")
STEP_MAP = ADAM.step_map()
m_t, v_t = STEP_MAP[m], STEP_MAP[v]
# Side condition 0 < 1 − β^t (β ∈ [0, 1), t ≥ 1) is proved once (positivity_of_bias_corrections) and then
# used by substituting positive Dummies for the bias-correction factors.
C1, C2 = sp.Dummy("C1", positive=True), sp.Dummy("C2", positive=True)
BIAS = {beta1**t: 1 - C1, beta2**t: 1 - C2}
SEED004 = "docs/sources/seed-004.md §Adam, (4.1)–(4.5) and the r_0 = ε rewriting"
q = sp.Symbol("q", positive=True)


def positivity_of_bias_corrections():
    r"""Side condition: :math:`(1+q)^{-t} \le 1` for :math:`q \ge 0`, i.e. :math:`1 - \beta^t > 0` for
    :math:`\beta = 1/(1+q) \in (0, 1)` (and :math:`1 - 0^t = 1` for :math:`\beta = 0`)."""
    return monotone_bound("side condition 1 − β^t > 0 (β = 1/(1+q))", (1 + q)**(-t), q, 0)


def with_positive_bias(expr):
    return sp.sympify(expr).subs(BIAS)


@CLAIMS.claim("adam.seed004_one_factor", "ε = 0: −η m̂/√v̂ = −η √(1−β₂^t)/(1−β₁^t) · m/√v = spec `adam`",
              "identity", SEED004,
              specs=("adam",))
def one_factor():
    seed = theta - lr * sp.sqrt(1 - beta2**t) / (1 - beta1**t) * m_t / sp.sqrt(v_t)
    paper = theta - lr * (m_t / (1 - beta1**t)) / sp.sqrt(v_t / (1 - beta2**t))
    return [positivity_of_bias_corrections(),
            identity("bias corrections folded into one factor", with_positive_bias(paper), with_positive_bias(seed)),
            identity("equals spec `adam` at ε = 0", with_positive_bias(STEP_MAP[theta].subs(eps, 0)),
                     with_positive_bias(seed))]


EPS_HAT = eps * sp.sqrt(1 - beta2**t)


@CLAIMS.claim("adam.keras_epsilon_hat", "paper ε ≡ TF/Keras form η_t m/(√v + ε̂) with ε̂_t = ε√(1−β₂^t)",
              "identity", SEED004 + "; Kingma & Ba (2015) §2 (ε̂ remark); docs/sources/peers.md (torch folds the same way)",
              specs=("adam",))
def keras_hat():
    keras = theta - lr * sp.sqrt(1 - beta2**t) / (1 - beta1**t) * m_t / (sp.sqrt(v_t) + EPS_HAT)
    return [positivity_of_bias_corrections(),
            identity("spec `adam` = Keras form with ε̂_t", with_positive_bias(STEP_MAP[theta]), with_positive_bias(keras))]


def _adam_variant(name, theta_update, init_v=0):
    """Adam's moments with another parameter update (pseudo-code order, like the spec)."""
    return Dynamics.from_assignments(name, [(m, beta1 * m + (1 - beta1) * g), (v, beta2 * v + (1 - beta2) * g**2),
                                            (theta, theta_update)], {m: 0, v: init_v})


KERAS_CONSTANT = _adam_variant("adam_keras_constant_eps_hat", theta - lr * sp.sqrt(1 - beta2**t) / (1 - beta1**t)
                               * m / (sp.sqrt(v) + eps))
SEED_R0_EPS = _adam_variant("adam_seed004_r0_eps", theta - lr * sp.sqrt(1 - beta2**t) / (1 - beta1**t)
                            * m / sp.sqrt(v), init_v=eps)
SEED_EPS_INSIDE = _adam_variant("adam_seed004_(4.5)", theta - lr * (m / (1 - beta1**t))
                                / sp.sqrt(v / (1 - beta2**t) + eps))
POSITIVE_EPS = {eps: [sp.Rational(1, 2), 2], beta1: [sp.Rational(1, 2)], beta2: [sp.Rational(1, 2)]}


@CLAIMS.claim("adam.keras_constant_epsilon", "a constant ε̂ = ε in the Keras form ≡ spec `adam`?", "equivalence",
              SEED004 + "; TF/Keras Adam", expected=FAILS,
              specs=("adam",))
def keras_constant():
    return equivalent(KERAS_CONSTANT, Dynamics.from_spec(ADAM), sample=POSITIVE_EPS)


@CLAIMS.claim("adam.seed004_r0_eps", "docs/sources/seed-004.md: r₀ = ε and drop ε ≡ spec `adam`?", "equivalence", SEED004,
              expected=FAILS,
              specs=("adam",))
def r0_eps():
    return equivalent(SEED_R0_EPS, Dynamics.from_spec(ADAM), {v: v - beta2**t * eps}, sample=POSITIVE_EPS)


@CLAIMS.claim("adam.seed004_eps_in_sqrt", "docs/sources/seed-004.md (4.5) √(r̂ + ε) ≡ the paper's √v̂ + ε?", "equivalence",
              SEED004 + " (4.5)", expected=FAILS,
              specs=("adam",))
def eps_inside():
    return equivalent(SEED_EPS_INSIDE, Dynamics.from_spec(ADAM), sample=POSITIVE_EPS)


c = sp.Symbol("c", positive=True)


@CLAIMS.claim("adam.rescaling_invariance", "ε = 0: gradients c·g (c > 0) give the same trajectory", "equivalence",
              "Kingma & Ba (2015) §2.1 (invariant to diagonal rescaling); docs/sources/seed-002.md §3.2.1, Algorithm 6",
              specs=("adam",))
def rescaling():
    adam0 = Dynamics.from_spec(ADAM, fix={eps: 0})
    return equivalent(adam0.with_gradient(c * g), adam0, {m: m / c, v: v / c**2, theta: theta},
                      assume=BIAS, unroll=0)


@CLAIMS.claim("adam.rescaling_with_eps", "ε > 0: gradients c·g give the same trajectory?", "equivalence",
              "Kingma & Ba (2015) §2.1", expected=FAILS,
              specs=("adam",))
def rescaling_eps():
    adam = Dynamics.from_spec(ADAM)
    return equivalent(adam.with_gradient(c * g), adam, {m: m / c, v: v / c**2, theta: theta},
                      sample={**POSITIVE_EPS, c: [2]})


@CLAIMS.claim("adam.first_step", "ε = 0, g₁ ≠ 0: |Δ₁| = η exactly", "identity",
              "Kingma & Ba (2015) §2.1; docs/sources/seed-004.md (4.3)–(4.5)",
              specs=("adam",))
def first_step():
    g1 = sp.Symbol("g", real=True, nonzero=True)
    step = (STEP_MAP[theta] - theta).subs({eps: 0, m: 0, v: 0, t: 1, g: g1})
    return [identity("|θ₁ − θ₀| = η", sp.Abs(step), lr)]


# --- Kingma & Ba §2.1 bounds -----------------------------------------------------------------------------
def _ratio_squared(b1: Fraction, b2: Fraction, grads) -> list[Fraction]:
    r"""Exact :math:`(\hat m_t/\sqrt{\hat v_t})^2 = |\Delta_t/\eta|^2` for ε = 0, every t (Fractions)."""
    mm = vv = Fraction(0)
    out = []
    for step, gi in enumerate(grads, start=1):
        mm = b1 * mm + (1 - b1) * gi
        vv = b2 * vv + (1 - b2) * gi * gi
        out.append((mm / (1 - b1**step))**2 / (vv / (1 - b2**step)))
    return out


def _candidate_sequences(b1: Fraction, b2: Fraction, horizon: int):
    """The impulse (large then zero) and the Cauchy–Schwarz extremal g_i ∝ (β₁/β₂)^{T−i}, for each T."""
    yield "impulse 1, 0, 0, …", [Fraction(1)] + [Fraction(0)] * (horizon - 1)
    for T in sorted({2, 3, 5, 10, 20, 40, 80, 160, 320} & set(range(2, horizon + 1))):
        yield f"g_i = (β₁/β₂)^({T}−i)", [(b1 / b2)**(T - i) for i in range(1, T + 1)]


def kb_bound_step(case: str, b1: Fraction, b2: Fraction, horizon: int = 40, found: dict | None = None):
    r"""Search an exact violation of the stated bound on :math:`|\Delta_t|/\eta` (bias-corrected, ε = 0);
    the violating gradients and step are left in ``found`` for the float replay."""
    def check():
        big = (1 - b1)**2 / (1 - b2)  # (bound/η)² of case 1
        in_case1 = (1 - b1)**2 > (1 - b2)  # (1 − β₁) > √(1 − β₂), squared (both sides ≥ 0)
        if (case == "case1") != in_case1:
            return UNPROVED, "hyperparameters are not in the stated case"
        limit = big if case == "case1" else Fraction(1)
        for label, grads in _candidate_sequences(b1, b2, horizon):
            for step, value in enumerate(_ratio_squared(b1, b2, grads), start=1):
                if value > limit:
                    if found is not None:
                        found.update(grads=grads[:step], step=step, bound=float(limit)**0.5)
                    cex = {"beta1": str(b1), "beta2": str(b2), "gradients": label, "t": step,
                           "(|Δ_t|/η)²": f"{float(value):.6g}", "(bound/η)²": f"{float(limit):.6g}",
                           "|Δ_t|/η": f"{float(value)**0.5:.6g}", "bound/η": f"{float(limit)**0.5:.6g}"}
                    return (REFUTED, f"{label}: at t = {step}, |Δ_t|/η = {float(value) ** 0.5:.6g} > "
                                     f"{float(limit) ** 0.5:.6g} (exact rational comparison of squares)", cex)
        return UNPROVED, "no violation found"

    stated = (r"|\Delta_t| \le \eta\,\frac{1-\beta_1}{\sqrt{1-\beta_2}}" if case == "case1" else
              r"|\Delta_t| \le \eta")
    return guarded("bound", f"Kingma & Ba §2.1 {case} at β₁ = {b1}, β₂ = {b2}", stated, check)


def kb_float_replay(b1: Fraction, b2: Fraction, found: dict):
    """Sanity: replay the exact violation with the float64 reference interpreter of spec `adam`."""
    def check():
        if not found:
            return UNPROVED, "no exact violation to replay"
        grads, step = found["grads"], found["step"]
        traj = reference_run(ADAM, np.zeros(1), [np.array([float(x)]) for x in grads], lr=1.0, beta1=float(b1),
                             beta2=float(b2), eps=0.0)
        delta = abs(float(traj[step - 1][0] - (traj[step - 2][0] if step > 1 else 0.0)))
        return ((CHECKED if delta > found["bound"] else REFUTED),
                f"float64 replay of spec `adam`: |Δ_{step}|/η = {delta:.6g} vs bound {found['bound']:.6g}")
    return numeric(f"float64 replay of the violation (β₁ = {b1}, β₂ = {b2})", check)


def kb_claim(case: str, b1: Fraction, b2: Fraction, horizon: int = 40):
    found: dict = {}
    return [kb_bound_step(case, b1, b2, horizon, found), kb_float_replay(b1, b2, found)]


KB = "Kingma & Ba (2015) §2.1 (effective step size bounds), for the bias-corrected update with ε = 0"


@CLAIMS.claim("adam.kb_bound_case1", "|Δ_t| ≤ η(1−β₁)/√(1−β₂) when (1−β₁) > √(1−β₂)", "bound", KB, expected=FAILS,
              note="The Cauchy–Schwarz extremal sequence reaches η(1−β₁)/√(1−β₂)·√((1−β₂^t)(1−γ^t)/(1−γ))/(1−β₁^t), "
                   "γ = β₁²/β₂, which exceeds the stated bound for large t.",
              specs=("adam",))
def kb_case1():
    return kb_claim("case1", Fraction(1, 2), Fraction(4, 5))


@CLAIMS.claim("adam.kb_bound_case2", "|Δ_t| ≤ η when (1−β₁) ≤ √(1−β₂)", "bound", KB, expected=FAILS,
              note="With β₁² > β₂ the first moment remembers an old gradient longer than the second: an impulse "
                   "followed by zeros gives |Δ_t|/η ∝ (β₁/√β₂)^t.",
              specs=("adam",))
def kb_case2():
    return kb_claim("case2", Fraction(9, 10), Fraction(1, 2))


@CLAIMS.claim("adam.kb_bound_case1_defaults", "the case-1 bound at the defaults β₁ = 0.9, β₂ = 0.999", "bound", KB,
              expected=FAILS, note="Even at the default hyperparameters the bound η(1−β₁)/√(1−β₂) ≈ 3.16η is exceeded "
                                   "after a few hundred steps of geometrically growing gradients.",
              specs=("adam",))
def kb_defaults():
    return kb_claim("case1", Fraction(9, 10), Fraction(999, 1000), horizon=320)


alpha_i, beta_i = sp.symbols("alpha_i beta_i", real=True)
SEED004_CODE = Dynamics.from_assignments("adam_seed004_code", [
    (m, beta1 * m + (1 - beta1) * g), (v, beta2 * v + (1 - beta2) * g**2), (alpha_i, alpha_i * beta1),
    (beta_i, beta_i * beta_i), (theta, theta - lr * sp.sqrt(1 - beta_i) / (1 - alpha_i) * m / sp.sqrt(v))],
    {m: 0, v: eps, alpha_i: 1, beta_i: 1})


@CLAIMS.claim("adam.seed004_code_beta_power", "docs/sources/seed-004.md's code (beta_i *= beta_i) implements its formula?",
              "equivalence", "docs/sources/seed-004.md §Adam and §Nadam code: self.beta_i *= self.beta_i", expected=FAILS,
              note="beta_i starts at 1 and 1·1 = 1, so √(1 − beta_i) = 0: the code never moves the parameters "
                   "(intended: beta_i *= self.beta).")
def code_slip():
    from ..engine import induction
    return [induction("the code's beta_i stays 1: b_t = b_{t−1}², b_0 = 1", sp.Integer(1),
                      lambda prev, n: prev * prev, 1),
            *equivalent(SEED004_CODE, SEED_R0_EPS, sample=POSITIVE_EPS)]
