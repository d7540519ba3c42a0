r"""6. AdaMax: the :math:`p\to\infty` limit of the :math:`L^p` Adam accumulator (squeeze, general t) and the
recursion :math:`u_t = \max(\beta_2 u_{t-1}, |g_t|)` (seeds 003 §4.5, 004 §AdaMax)."""
import itertools

import sympy as sp

from optiforge import specs
from optiforge.specs import GRAD as g, STEP as t

from ..engine import (CHECKED, FAILS, REFUTED, ClaimList, bound, cases, conclude, guarded, identity, limit,
                      monotone_bound)

CLAIMS = ClaimList()
ADAMAX = specs.get("adamax")
beta2, u = ADAMAX.symbol("beta2"), ADAMAX.symbol("u")
p, k, q, M = sp.symbols("p k q M", positive=True)  # β₂ = e^{−k}; M = max_i β₂^{t−i}|g_i|
i = sp.Symbol("i", integer=True, positive=True)
rest = sp.Function("r", nonnegative=True)  # (1 + q_i)^{−p} = 1/(1 + r_i), r_i ≥ 0 (lemma 1)
other = sp.Function("a", nonnegative=True)  # the non-maximal terms β₂^{t−i}|g_i| ≥ 0
SOURCES = "seed 003 §4.5 (u_t = lim (v_t)^{1/p}); seed 004 §AdaMax (r_i, ‖·‖_∞); Kingma & Ba (2015) §7.1"


@CLAIMS.claim("adamax.lp_limit_squeeze", "lim_{p→∞} ((1−β₂^p) Σ β₂^{p(t−i)}|g_i|^p)^{1/p} = max_i β₂^{t−i}|g_i|",
              "limit", SOURCES, note="General t by a squeeze: M^p ≤ S_p ≤ t·M^p with S_p = Σ (β₂^{t−i}|g_i|)^p; "
                                     "writing a term ≤ M as M/(1+q), q ≥ 0.")
def squeeze():
    s_p = M**p + sp.Sum(M**p / (1 + rest(i)), (i, 1, t - 1))  # the maximal term and t − 1 terms ≤ M^p
    lemma = monotone_bound("lemma: (M/(1+q))^p ≤ M^p, i.e. (1+q)^{−p} ≤ 1 for q ≥ 0", (1 + q)**(-p), q, 0)
    lower = bound("M^p ≤ S_p (the other t − 1 terms are ≥ 0)", M**p,
                  M**p + sp.Sum(other(i)**p, (i, 1, t - 1)))
    upper = bound("S_p ≤ t·M^p (each term ≤ M^p by the lemma)", s_p, t * M**p,
                  witness=sp.Sum(M**p * rest(i) / (1 + rest(i)), (i, 1, t - 1)))
    bias = (1 - sp.exp(-k * p))**(1 / p)
    low = limit("lower bound ((1−β₂^p) M^p)^{1/p} → M", bias * M, p, sp.oo, M)
    high = limit("upper bound ((1−β₂^p) t M^p)^{1/p} → M", bias * t**(1 / p) * M, p, sp.oo, M)
    return [lemma, lower, upper, low, high,
            conclude("squeeze: the limit exists and equals M = max_i β₂^{t−i}|g_i|",
                     r"\lim_{p\to\infty} \big((1-\beta_2^p) S_p\big)^{1/p} = M", [lemma, lower, upper, low, high],
                     kind="limit")]


@CLAIMS.claim("adamax.seed004_first_line", "seed 004 as printed: lim (1 − β^p Σ β^{p(i−j)}|g_i|^p)^{1/p} = max",
              "limit", "seed 004 §AdaMax, first line of the ‖·‖_∞ derivation", expected=FAILS,
              note="Missing parentheses: (1 − β^p)Σ… was printed as 1 − β^pΣ…. With t = 1, β = e^{−1}, |g₁| = 3/2 "
                   "the printed expression tends to 1, not to max = 3/2.")
def first_line():
    return [limit("t = 1, β = e^{−1}, |g₁| = 3/2", (1 - sp.exp(-p) * sp.Rational(3, 2)**p)**(1 / p), p, sp.oo,
                  sp.Rational(3, 2))]


@CLAIMS.claim("adamax.seed004_unrolled_lp", "seed 004: β^p r_{i−1} + (1−β^p)|g_i|^p = (1−β^p) Σ β^{i−j}|g_j|^p",
              "identity", "seed 004 §AdaMax (the L_p accumulator unrolled)", expected=FAILS,
              note="The weights must be β^{p(i−j)} (as seed 003 writes); checked at i = 2, p = 2.")
def unrolled():
    b, a1, a2 = sp.symbols("beta a_1 a_2", positive=True)  # a_j = |g_j|
    power = 2
    r1 = (1 - b**power) * a1**power
    return [identity("i = 2, p = 2", b**power * r1 + (1 - b**power) * a2**power,
                     (1 - b**power) * (b * a1**power + a2**power), sample={b: [sp.Rational(1, 2)]})]


@CLAIMS.claim("adamax.recursion", "max_i β₂^{t−i}|g_i| = max(β₂ u_{t−1}, |g_t|) = spec `adamax`'s u update",
              "induction", SOURCES, note="Induction step: u_t = max(β₂·max_{i<t} β₂^{t−1−i}|g_i|, |g_t|); "
              "the homogeneity lemma (β ≥ 0) moves β₂ inside the max, associativity of max gives max_{i≤t}.",
              specs=("adamax",))
def recursion():
    x, y, d = sp.symbols("x y d", nonnegative=True)
    b = sp.Symbol("beta", nonnegative=True)
    lemma = cases("lemma: β·max(x, y) = max(βx, βy) for β ≥ 0", b * sp.Max(x, y), sp.Max(b * x, b * y),
                  [{y: x - d}, {x: y - d}])
    spec_match = identity("the recursion is spec `adamax`'s update of u", ADAMAX.step_map()[u],
                          sp.Max(beta2 * u, sp.Abs(g)))
    return [lemma, spec_match, _bounded_recursion_check()]


def _bounded_recursion_check(horizon: int = 5):
    """Evidence (exact, rational grid): the recursion equals the closed-form max for t ≤ horizon."""
    def check():
        for b, grads in itertools.product((sp.Rational(1, 2), sp.Rational(9, 10)),
                                          ((3, -1, 0, 2, -5), (1, 4, -2, 1, 1))):
            state = sp.Integer(0)
            for step, gi in enumerate(grads[:horizon], start=1):
                state = sp.Max(b * state, sp.Abs(gi))
                closed = sp.Max(*(b**(step - j) * sp.Abs(grads[j - 1]) for j in range(1, step + 1)))
                if state != closed:
                    return REFUTED, f"differs at t = {step}, β = {b}, g = {grads}"
        return CHECKED, f"recursion = closed form for t ≤ {horizon} on a rational grid (evidence only)"
    return guarded("numeric check", "bounded unrolling on rational gradients", r"u_t = \max_i \beta^{t-i}|g_i|", check)
