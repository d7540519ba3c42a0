"""3. Nesterov momentum: look-ahead form, reparametrised form, Bengio et al.'s form, docs/sources/seed-003.md §3.5.1."""
import sympy as sp

from optiforge import specs
from optiforge.specs import GRAD as g, PARAM as theta

from ..engine import FAILS, ClaimList
from ..equivalence import Dynamics, equivalent

CLAIMS = ClaimList()
SPEC = specs.get("nesterov")
lr, alpha, v = SPEC.symbol("lr"), SPEC.symbol("momentum"), SPEC.symbol("v")
NESTEROV = Dynamics.from_spec(SPEC)

#: Sutskever et al. / docs/sources/seed-004.md (5.1)–(5.2): gradient at the look-ahead point θ + αv.
LOOKAHEAD = Dynamics.from_assignments("nesterov_lookahead", [(v, alpha * v - lr * g), (theta, theta + v)], {v: 0},
                                      query=theta + alpha * v)
#: Bengio et al. (2013) §3.5: Θ_t = Θ_{t−1} − μ v_{t−1} + (1 + μ) v_t with v_t = μ v_{t−1} − ε∇f(Θ_{t−1}).
v_old = sp.Symbol("v_old", real=True)
BENGIO = Dynamics.from_assignments("nesterov_bengio", [(v_old, v), (v, alpha * v - lr * g),
                                                       (theta, theta - alpha * v_old + (1 + alpha) * v)], {v: 0})
#: docs/sources/seed-003.md §3.5.1: v ← γv + η∇J(θ); θ ← θ − (1 + γ)v (velocity with the opposite sign).
SEED003 = Dynamics.from_assignments("nesterov_seed003", [(v, alpha * v + lr * g), (theta, theta - (1 + alpha) * v)],
                                    {v: 0})


@CLAIMS.claim("nesterov.lookahead_reparametrised", "look-ahead form ≡ spec `nesterov` under φ = θ + αv",
              "equivalence", "docs/sources/seed-004.md (5.1)–(5.4); docs/sources/seed-003.md §3.5 (θ − γv with v of opposite sign)",
              specs=("nesterov",))
def lookahead():
    return equivalent(LOOKAHEAD, NESTEROV, {theta: theta + alpha * v, v: v})


@CLAIMS.claim("nesterov.bengio", "Bengio et al. form Θ − μv_{t−1} + (1+μ)v_t ≡ spec `nesterov`", "equivalence",
              "Bengio, Boulanger-Lewandowski & Pascanu (2013) §3.5 (cited by the spec); docs/sources/seed-004.md (5.4)",
              specs=("nesterov",))
def bengio():
    return equivalent(BENGIO, NESTEROV)


@CLAIMS.claim("nesterov.seed003_form", "docs/sources/seed-003.md §3.5.1 θ ← θ − (1+γ)v_t ≡ Nesterov?", "equivalence",
              "docs/sources/seed-003.md §3.5.1 (v_t = γv_{t−1} + η∇J(θ), θ = θ − v_t − γv_t)", expected=FAILS,
              note="The correct stored-gradient form is θ ← θ − γv_t − η∇J(θ) (= θ − (1+γ)v_t + γv_{t−1}).",
              specs=("nesterov",))
def seed003():
    return equivalent(SEED003, NESTEROV, {v: -v, theta: theta})


@CLAIMS.claim("nesterov.seed003_is_momentum", "the form of docs/sources/seed-003.md is plain momentum with rate (1+γ)η", "equivalence",
              "docs/sources/seed-003.md §3.5.1")
def seed003_momentum():
    heavy_ball = Dynamics.from_spec(specs.get("momentum"), fix={lr: (1 + alpha) * lr})
    return equivalent(SEED003, heavy_ball, {v: -(1 + alpha) * v, theta: theta})
