r"""7–8. Nadam from Adam (docs/sources/seed-001.md §Nadam, docs/sources/seed-003.md §4.6, docs/sources/seed-004.md §Nadam) and NadaMax (docs/sources/seed-004.md §NadaMax)."""
import sympy as sp

from optiforge import specs
from optiforge.specs import GRAD as g, PARAM as theta, STEP as t

from ..engine import FAILS, ClaimList, approximation, identity, substitution
from ..equivalence import Dynamics, equivalent
from .adam import positivity_of_bias_corrections, with_positive_bias

CLAIMS = ClaimList()
NADAM, NADAMAX, ADAM = specs.get("nadam"), specs.get("nadamax"), specs.get("adam")
lr, beta1, beta2, eps = (NADAM.symbol(n) for n in ("lr", "beta1", "beta2", "eps"))
m, v, u = NADAM.symbol("m"), NADAM.symbol("v"), NADAMAX.symbol("u")
k = sp.Symbol("k", positive=True)  # β₁ = e^{−k}
D = sp.Symbol("D", positive=True)  # √v̂_t + ε
m_hat_prev, m_hat = sp.symbols(r"\hat{m}_{t-1} \hat{m}_t", real=True)
m_t = beta1 * m + (1 - beta1) * g
SOURCES = "docs/sources/seed-003.md §4.6 (Adam expanded, m̂_{t−1} → m̂_t); docs/sources/seed-004.md §Nadam (5.5)–(5.8); docs/sources/seed-001.md §Nadam"
SEED_DIRECTION = beta1 * m_t / (1 - beta1**t) + (1 - beta1) * g / (1 - beta1**t)  # β₁m̂_t + (1−β₁)g/(1−β₁^t)


@CLAIMS.claim("nadam.adam_expansion", "Adam: m̂_t = β₁m_{t−1}/(1−β₁^t) + (1−β₁)g_t/(1−β₁^t) (= spec `adam`)",
              "identity", SOURCES,
              specs=("adam", "nadam"))
def expansion():
    adam = ADAM.step_map()[theta]
    denominator = sp.sqrt(ADAM.step_map()[v] / (1 - beta2**t)) + eps
    expanded = theta - lr / denominator * (beta1 * m / (1 - beta1**t) + (1 - beta1) * g / (1 - beta1**t))
    return [identity("expansion equals spec `adam`'s update", adam, expanded)]


@CLAIMS.claim("nadam.approximation", "m_{t−1}/(1−β₁^t) ≈ m̂_{t−1} = m_{t−1}/(1−β₁^{t−1}), error → 0 (t → ∞)",
              "approximation", SOURCES,
              specs=("nadam",))
def approx():
    return [approximation("relative error (1−β₁^{t−1})/(1−β₁^t) − 1", m / (1 - beta1**t), m / (1 - beta1**(t - 1)),
                          t, sp.oo, rewrite={beta1: sp.exp(-k)})]


@CLAIMS.claim("nadam.nesterov_substitution", "replacing m̂_{t−1} by m̂_t gives seed (5.8)", "substitution", SOURCES,
              note="A design step (Nesterov's look-ahead idea), not an identity: it defines the new rule.",
              specs=("nadam_seed",))
def nesterov_substitution():
    before = beta1 * m_hat_prev + (1 - beta1) * g / (1 - beta1**t)
    return [substitution("m̂_{t−1} ↦ m̂_t = m_t/(1−β₁^t)", before, {m_hat_prev: m_t / (1 - beta1**t)}, SEED_DIRECTION)]


def _nadam_variant(name, theta_update, init_v=0):
    return Dynamics.from_assignments(name, [(m, beta1 * m + (1 - beta1) * g), (v, beta2 * v + (1 - beta2) * g**2),
                                            (theta, theta_update)], {m: 0, v: init_v})


v_hat = v / (1 - beta2**t)
SEED_NADAM = _nadam_variant("nadam_seed_(5.8)", theta - lr * (beta1 * m / (1 - beta1**t) + (1 - beta1) * g
                                                               / (1 - beta1**t)) / (sp.sqrt(v_hat) + eps))
SEED003_CODE = _nadam_variant("nadam_seed003_code", theta - lr * (beta1 * m / (1 - beta1**t) + (1 - beta1) * g)
                              / (1 - beta1**t) / (sp.sqrt(v_hat) + eps))
SAMPLE = {beta1: [sp.Rational(1, 2)], beta2: [sp.Rational(1, 2)], eps: [0, sp.Rational(1, 2)]}


@CLAIMS.claim("nadam.seed_form_vs_spec", "seed (5.8) β₁m̂_t ≡ spec `nadam` (Dozat: β₁m_t/(1−β₁^{t+1}))?",
              "equivalence", SOURCES + "; Dozat (2016) Alg. 2", expected=FAILS,
              specs=("nadam", "nadam_seed"))
def seed_vs_spec():
    return equivalent(SEED_NADAM, Dynamics.from_spec(NADAM), sample=SAMPLE)


@CLAIMS.claim("nadam.seed_form_approximates_spec", "…but the difference vanishes: (1−β₁^{t+1})/(1−β₁^t) → 1",
              "approximation", SOURCES,
              specs=("nadam", "nadam_seed"))
def seed_approx_spec():
    return [approximation("β₁m_t/(1−β₁^t) ≈ β₁m_t/(1−β₁^{t+1})", beta1 * m / (1 - beta1**t),
                          beta1 * m / (1 - beta1**(t + 1)), t, sp.oo, rewrite={beta1: sp.exp(-k)})]


@CLAIMS.claim("nadam.seed004_closed_form", "ε = 0: −η/√r̂ (αŝ + (1−α)g/(1−α^t)) = −η√(1−β^t)/(1−α^t)·(αs+(1−α)g)/√r",
              "identity", "docs/sources/seed-004.md §Nadam, last display before the code",
              specs=("nadam_seed",))
def closed_form():
    r_t = beta2 * v + (1 - beta2) * g**2
    lhs = -lr / sp.sqrt(r_t / (1 - beta2**t)) * (beta1 * m_t / (1 - beta1**t) + (1 - beta1) * g / (1 - beta1**t))
    rhs = -lr * sp.sqrt(1 - beta2**t) / (1 - beta1**t) * (beta1 * m_t + (1 - beta1) * g) / sp.sqrt(r_t)
    return [positivity_of_bias_corrections(), identity("one step-size factor", with_positive_bias(lhs),
                                                       with_positive_bias(rhs))]


@CLAIMS.claim("nadam.seed003_code", "docs/sources/seed-003.md §4.6.1 code ≡ its own formula?", "equivalence",
              "docs/sources/seed-003.md §4.6.1 (… (beta1 * mt_hat + (1 - beta1) * p2.grad) / (1 - beta1 ** self.t) …)",
              expected=FAILS, note="The code divides β₁m̂_t by (1−β₁^t) a second time.",
              specs=("nadam_seed",))
def seed003_code():
    return equivalent(SEED003_CODE, SEED_NADAM, sample=SAMPLE)


# --- NadaMax ---------------------------------------------------------------------------------------------
u_t = sp.Max(beta2 * u, sp.Abs(g))
SEED_NADAMAX = Dynamics.from_assignments("nadamax_seed004", [(m, m_t), (u, u_t), (
    theta, theta - lr / (1 - beta1**t) * (beta1 * m + (1 - beta1) * g) / u)], {m: 0, u: 0})


@CLAIMS.claim("nadamax.seed004_derivation", "(6.1) with r_i = max(βr, |g|): −η/r (αŝ + (1−α)g/(1−α^t)) = "
              "−η/(1−α^t)·(αs+(1−α)g)/r", "identity", "docs/sources/seed-004.md §NadaMax (6.1)–(6.3)", tags=("nadam",),
              specs=("nadamax_seed",))
def nadamax_derivation():
    r = sp.Symbol("r", positive=True)
    lhs = -lr / r * (beta1 * m_t / (1 - beta1**t) + (1 - beta1) * g / (1 - beta1**t))
    rhs = -lr / (1 - beta1**t) * (beta1 * m_t + (1 - beta1) * g) / r
    return [identity("one factor", lhs, rhs)]


@CLAIMS.claim("nadamax.nadam_with_adamax_denominator", "spec `nadamax` = spec `nadam` with √v̂+ε replaced by u_t",
              "identity", "docs/sources/seed-004.md §NadaMax; Dozat (2016) §3", tags=("nadam", "spec_identities"),
              specs=("nadam", "nadamax"))
def nadamax_from_nadam():
    nadam, nadamax = NADAM.step_map(), NADAMAX.step_map()
    denominator = sp.sqrt(nadam[v] / (1 - beta2**t)) + eps
    return [identity("Δ_NadaMax = Δ_Nadam·(√v̂_t+ε)/u_t", nadamax[theta] - theta,
                     (nadam[theta] - theta) * denominator / nadamax[u])]


@CLAIMS.claim("nadamax.seed004_vs_spec", "docs/sources/seed-004.md's NadaMax ≡ spec `nadamax`?", "equivalence",
              "docs/sources/seed-004.md §NadaMax (final formulas and code)", expected=FAILS, tags=("nadam",),
              specs=("nadamax", "nadamax_seed"))
def nadamax_vs_spec():
    return equivalent(SEED_NADAMAX, Dynamics.from_spec(NADAMAX), sample=SAMPLE)
