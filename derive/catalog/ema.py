"""1. The exponential moving average (docs/sources/seed-001.md §2, docs/sources/seed-004.md §Momentum/Adam)."""
import sympy as sp

from optiforge.specs import STEP as t

from ..engine import ClaimList, identity, induction, limit, substitution

CLAIMS = ClaimList()
beta = sp.Symbol("beta", positive=True)
k = sp.Symbol("k", positive=True)  # β = e^{-k} encodes 0 < β < 1 for gruntz
g = sp.Function("g")
i = sp.Symbol("i", integer=True, positive=True)
c = sp.Symbol("c", real=True)  # a constant gradient


@CLAIMS.claim("ema.closed_form", "EMA unrolled: m_t = (1−β) Σ β^{t−i} g_i (m_0 = 0)", "induction",
              "docs/sources/seed-001.md §2 (指数加权移动平均值, 递推 → 展开); docs/sources/seed-004.md §RMSProp/AdaMax (r_i 展开, r_0 = 0)")
def closed_form():
    closed = (1 - beta) * sp.Sum(beta**(t - i) * g(i), (i, 1, t))
    return [induction("m_t = β m_{t−1} + (1−β) g_t", closed, lambda prev, n: beta * prev + (1 - beta) * g(n), 0)]


@CLAIMS.claim("ema.bias_correction_constant", "bias correction is exact for a constant gradient: m_t/(1−β^t) = g",
              "induction", "docs/sources/seed-001.md §2 (修正因子 1/(1−β^t)); docs/sources/seed-004.md (4.3)")
def bias_correction():
    closed = c * (1 - beta**t)
    return [induction("constant gradient: m_t = g(1−β^t)", closed, lambda prev, n: beta * prev + (1 - beta) * c, 0),
            substitution("m̂_t = m_t/(1−β^t) = g", sp.Symbol("m") / (1 - beta**t), {sp.Symbol("m"): closed}, c)]


@CLAIMS.claim("ema.one_over_e_window", "the 1/e window: lim_{ε→0}(1−ε)^{1/ε} = 1/e, so β^{1/(1−β)} → 1/e",
              "limit", "docs/sources/seed-001.md §2 (高数重要极限; 权重小于 1/e 的观测值忽略, β = 0.9 → 10 个时刻)")
def one_over_e():
    eps = sp.Symbol("epsilon", positive=True)
    return [limit("(1−ε)^{1/ε} as ε → 0⁺", (1 - eps)**(1 / eps), eps, 0, sp.exp(-1), direction="+"),
            limit("β^{1/(1−β)} as β → 1⁻", beta**(1 / (1 - beta)), beta, 1, sp.exp(-1), direction="-"),
            identity("β = 0.9: window 1/(1−β) = 10 steps", 1 / (1 - sp.Rational(9, 10)), 10)]
