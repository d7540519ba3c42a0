r"""6. AdaMax: the :math:`p\to\infty` limit of the :math:`L^p` Adam accumulator (a squeeze, general t, every step
checked) and the recursion :math:`u_t = \max(\beta_2 u_{t-1}, |g_t|)` (a real induction on t, docs/sources/seed-003.md §4.5,
004 §AdaMax)."""
import sympy as sp

from optiforge import specs
from optiforge.specs import GRAD as g, STEP as t

from ..engine import FAILS, ClaimList, bound, cases, conclude, identity, induction, limit, monotone
from ..sums import RangeMax

CLAIMS = ClaimList()
ADAMAX = specs.get("adamax")
beta2, u = ADAMAX.symbol("beta2"), ADAMAX.symbol("u")
p = sp.Symbol("p", positive=True)
i, j = sp.symbols("i j", integer=True)
x = sp.Symbol("x", nonnegative=True)
grad = sp.Function("g", real=True)  # the gradient sequence g_1, g_2, …
SOURCES = "docs/sources/seed-003.md §4.5 (u_t = lim (v_t)^{1/p}); docs/sources/seed-004.md §AdaMax (r_i, ‖·‖_∞); Kingma & Ba (2015) §7.1"


def term(k):
    r""":math:`a_k = \beta_2^{t-k}|g_k|`, the terms whose maximum is :math:`u_t`."""
    return beta2**(t - k) * sp.Abs(grad(k))


M = RangeMax(term(i), (i, 1, t))  # max_{1≤i≤t} β₂^{t−i}|g_i|
S = sp.Sum(beta2**(p * (t - i)) * sp.Abs(grad(i))**p, (i, 1, t))  # the L^p accumulator without (1 − β₂^p)
SCALE = (1 - beta2**p)**(1 / p)


@CLAIMS.claim("adamax.lp_limit_squeeze", "lim_{p→∞} ((1−β₂^p) Σ β₂^{p(t−i)}|g_i|^p)^{1/p} = max_i β₂^{t−i}|g_i|",
              "limit", SOURCES, specs=("adamax",),
              note="General t by a squeeze, each step checked and each inference by a rule of derive/inference.py: "
                   "with a_j = β₂^{t−j}|g_j| and M = max_j a_j, a_j ≤ M gives S_p ≤ t·M^p (x ↦ x^p is nondecreasing, "
                   "termwise sum), a_j^p ≤ S_p gives M ≤ S_p^{1/p} (x ↦ x^{1/p}, max_le); multiplying by "
                   "(1−β₂^p)^{1/p} squeezes F_p = ((1−β₂^p)S_p)^{1/p} between (1−β₂^p)^{1/p}M and "
                   "(1−β₂^p)^{1/p}t^{1/p}M, both → M (β₂ = 0 and β₂ = e^{−k} separately).")
def squeeze():
    F = ((1 - beta2**p) * S)**(1 / p)
    power = identity("a_j^p = β₂^{p(t−j)}|g_j|^p on the range", term(j)**p, S.function.xreplace({i: j}),
                     within={j: (1, t)})
    below_max = bound("a_j ≤ M (a term of its range)", term(j), M, within={j: (1, t)})
    x_p = monotone("x ↦ x^p is nondecreasing on [0, ∞)", x**p, x, 0, increasing=True)
    term_p = conclude("a_j^p ≤ M^p", None, [x_p, below_max], rule="monotone")
    summand = conclude("β₂^{p(t−j)}|g_j|^p ≤ M^p", None, [power, term_p], rule="chain")
    summed = conclude("S_p ≤ Σ_{j≤t} M^p", None, [summand], rule="termwise", over=(j, 1, t))
    count = identity("Σ_{j=1}^{t} M^p = t·M^p", sp.Sum(M**p, (j, 1, t)), t * M**p)
    upper = conclude("S_p ≤ t·M^p", None, [summed, count], rule="chain")
    in_sum = bound("β₂^{p(t−j)}|g_j|^p ≤ S_p (a term of a sum of terms ≥ 0)", S.function.xreplace({i: j}), S,
                   within={j: (1, t)})
    term_in_sum = conclude("a_j^p ≤ S_p", None, [power, in_sum], rule="chain")
    root = monotone("x ↦ x^{1/p} is nondecreasing on [0, ∞)", x**(1 / p), x, 0, increasing=True)
    rooted = conclude("(a_j^p)^{1/p} ≤ S_p^{1/p}", None, [root, term_in_sum], rule="monotone")
    unroot = identity("(a_j^p)^{1/p} = a_j", (term(j)**p)**(1 / p), term(j))
    term_root = conclude("a_j ≤ S_p^{1/p}", None, [unroot, rooted], rule="chain")
    max_root = conclude("M ≤ S_p^{1/p}", None, [term_root], rule="max_le", over=(j, 1, t))
    scale = monotone("x ↦ (1−β₂^p)^{1/p} x is nondecreasing", SCALE * x, x, 0, increasing=True)
    scaled = conclude("(1−β₂^p)^{1/p} M ≤ (1−β₂^p)^{1/p} S_p^{1/p}", None, [scale, max_root], rule="monotone")
    split = identity("F_p = (1−β₂^p)^{1/p} S_p^{1/p}", F, SCALE * S**(1 / p))
    lower = conclude("L_p = (1−β₂^p)^{1/p} M ≤ F_p", None, [scaled, split], rule="chain")
    accumulate = monotone("x ↦ ((1−β₂^p) x)^{1/p} is nondecreasing", ((1 - beta2**p) * x)**(1 / p), x, 0,
                          increasing=True)
    image = conclude("F_p ≤ ((1−β₂^p) t M^p)^{1/p}", None, [accumulate, upper], rule="monotone")
    upper_form = identity("((1−β₂^p) t M^p)^{1/p} = (1−β₂^p)^{1/p} t^{1/p} M", ((1 - beta2**p) * (t * M**p))**(1 / p),
                          SCALE * t**(1 / p) * M)
    upper_bound = conclude("F_p ≤ U_p = (1−β₂^p)^{1/p} t^{1/p} M", None, [image, upper_form], rule="chain")
    low_limit = limit("L_p → M", SCALE * M, p, sp.oo, M)
    high_limit = limit("U_p → M", SCALE * t**(1 / p) * M, p, sp.oo, M)
    steps = [power, below_max, x_p, term_p, summand, summed, count, upper, in_sum, term_in_sum, root, rooted,
             unroot, term_root, max_root, scale, scaled, split, lower, accumulate, image, upper_form, upper_bound,
             low_limit, high_limit]
    return steps + [conclude("squeeze: lim F_p = M", None, [lower, upper_bound, low_limit, high_limit],
                             rule="squeeze", kind="limit")]


@CLAIMS.claim("adamax.seed004_first_line", "docs/sources/seed-004.md as printed: lim (1 − β^p Σ β^{p(i−j)}|g_i|^p)^{1/p} = max",
              "limit", "docs/sources/seed-004.md §AdaMax, first line of the ‖·‖_∞ derivation", expected=FAILS,
              note="Missing parentheses: (1 − β^p)Σ… was printed as 1 − β^pΣ…. With t = 1, β = e^{−1}, |g₁| = 3/2 "
                   "the printed expression tends to 1, not to max = 3/2.")
def first_line():
    return [limit("t = 1, β = e^{−1}, |g₁| = 3/2", (1 - sp.exp(-p) * sp.Rational(3, 2)**p)**(1 / p), p, sp.oo,
                  sp.Rational(3, 2))]


@CLAIMS.claim("adamax.seed004_unrolled_lp", "docs/sources/seed-004.md: β^p r_{i−1} + (1−β^p)|g_i|^p = (1−β^p) Σ β^{i−j}|g_j|^p",
              "identity", "docs/sources/seed-004.md §AdaMax (the L_p accumulator unrolled)", expected=FAILS,
              note="The weights must be β^{p(i−j)} (as docs/sources/seed-003.md writes); checked at i = 2, p = 2.")
def unrolled():
    b, a1, a2 = sp.symbols("beta a_1 a_2", positive=True)  # a_j = |g_j|
    power = 2
    r1 = (1 - b**power) * a1**power
    return [identity("i = 2, p = 2", b**power * r1 + (1 - b**power) * a2**power,
                     (1 - b**power) * (b * a1**power + a2**power), sample={b: [sp.Rational(1, 2)]})]


@CLAIMS.claim("adamax.recursion", "max_i β₂^{t−i}|g_i| = max(β₂ u_{t−1}, |g_t|) = spec `adamax`'s u update",
              "induction", SOURCES, specs=("adamax",),
              note="A real induction on t: the closed form u_t = max_{1≤i≤t} β₂^{t−i}|g_i| (a range maximum, 0 for "
                   "t = 0) satisfies the recurrence read from spec `adamax` (u ← max(β₂u, |g|), u₀ = 0). The "
                   "induction step peels the last term and moves β₂ ≥ 0 inside the maximum (the normal form of "
                   "derive/sums.py; its binary case is the lemma).")
def recursion():
    y, d = sp.symbols("y d", nonnegative=True)
    b = sp.Symbol("beta", nonnegative=True)
    lemma = cases("lemma: β·max(x, y) = max(βx, βy) for β ≥ 0", b * sp.Max(x, y), sp.Max(b * x, b * y),
                  [{y: x - d}, {x: y - d}])
    update = ADAMAX.step_map()[u]
    return [lemma, induction("u_t = max_{1≤i≤t} β₂^{t−i}|g_i|, u_0 = 0 (the spec's recurrence)", M,
                             lambda previous, n: update.xreplace({u: previous, g: grad(n)}), 0)]
