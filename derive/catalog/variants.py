r"""12. Variant pairs of the catalogue: where the paper and the common implementations differ (RAdam's threshold
and ε placement, AMSGrad's max, AdaBelief's ε, Yogi's initial values, Lookahead's sync schedule, ε conventions,
QHAdam's reduction to Adam, zero weight decay, Signum at β = 0), each with its verdict."""
import sympy as sp

from optiforge import specs
from optiforge.specs import PARAM as theta, STEP as t

from ..engine import FAILS, ClaimList, bound, identity, induction, roots_in
from ..equivalence import Dynamics, equivalent
from . import ada_nesterov as _ada_nesterov
from .accumulators import ADADELTA_TRICK, ADAGRAD_TRICK, RMSPROP_TRICK, rho as _rho
from .adam import BIAS, SEED_EPS_INSIDE, SEED_R0_EPS, positivity_of_bias_corrections
from .nadam import SEED_NADAM, SEED_NADAMAX

CLAIMS = ClaimList()
PEERS = "docs/sources/peers.md"
Q = sp.Rational


def spec(name, **fix):
    return Dynamics.from_spec(specs.get(name), fix=fix)


# --- RAdam ------------------------------------------------------------------------------------------------
RADAM_SRC = "Liu et al. (2020) Alg. 2 (ρ_t > 4); docs/sources/seed-002.md §3.2.3 Alg. 14; docs/sources/peers.md §1.9, §2.10, §3.1"


@CLAIMS.claim("variants.radam_paper_vs_torch", "RAdam paper (ρ_t > 4, ε on √v̂) ≡ torch RAdam (ρ_t > 5, ε on √v)?",
              "equivalence", RADAM_SRC, expected=FAILS, specs=("radam", "radam_torch"),
              note="The thresholds differ (e.g. with β₂ = 0.999, ρ₅ = 4.996: the paper rectifies at t = 5, torch "
                   "still takes the SGD step), and so does the ε placement once both rectify. Refuted by the "
                   "certified counterexample search of `equivalent` (first divergence after several agreeing steps).")
def radam_paper_vs_torch():
    return equivalent(spec("radam"), spec("radam_torch", weight_decay=0))


OPTAX_RADAM = specs.get("radam_optax")


def temporary(spec, name):
    """A spec's temporary ``name`` in terms of hyperparameters, state and t (earlier temporaries substituted),
    and its own right-hand side as written (in terms of the earlier temporaries)."""
    current: dict = {}
    for assignment in spec.assignments:
        current[assignment.target] = assignment.value.xreplace(current)
        if assignment.target.name == name:
            return current[assignment.target], assignment.value
    raise KeyError(f"{spec.name}: no temporary {name!r}")


RHO_T = temporary(OPTAX_RADAM, "rho")[0]  # ρ_t = ρ_∞ − 2tβ₂^t/(1 − β₂^t), read from spec `radam_optax`


def _tests(expr):
    """The threshold tests (relationals) of the Piecewise in a spec's θ update."""
    pieces = [p for p in sp.preorder_traversal(expr) if isinstance(p, sp.Piecewise)]
    return [c for _, c in pieces[0].args if c is not sp.true]


def _oriented(test):
    """A test ``a op b`` as (quantity, op) with op ∈ {>, ≥}: ``a − b > 0`` or ``b − a > 0``."""
    if test.rel_op in (">", ">="):
        return test.lhs - test.rhs, {">": ">", ">=": "≥"}[test.rel_op]
    return test.rhs - test.lhs, {"<": ">", "<=": "≥"}[test.rel_op]


@CLAIMS.claim("variants.radam_torch_vs_optax_eps0",
              "ε = 0: torch RAdam (ρ_t > 5, ε on √v) ≡ optax radam (ρ_t ≥ 5, ε on √v̂) wherever ρ_t ≠ 5",
              "equivalence", RADAM_SRC, specs=("radam_torch", "radam_optax"),
              note="Proved by the invariant of derive/equivalence.py on the specs' own maps, branch by branch: the "
                   "two threshold tests are matched as one quantity ρ_t − 5 (torch: > 0, optax: ≥ 0), equal "
                   "tests under the hypothesis ρ_t ≠ 5; the rectified steps agree once ε = 0 because 1 − β₂^t > 0 "
                   "for β₂ ∈ [0, 1). Where ρ_t = 5 exactly (an irrational β₂, see variants.radam_rho_equals_5) "
                   "torch takes the SGD step and optax a rectified one.")
def radam_torch_vs_optax():
    return equivalent(spec("radam_torch", weight_decay=0, eps=0), spec("radam_optax", eps=0, threshold=5),
                      where=[sp.Ne(RHO_T, 5)])


@CLAIMS.claim("variants.radam_paper_vs_optax_threshold4",
              "RAdam paper (ρ_t > 4) ≡ optax radam(threshold = 4) (ρ_t ≥ 4, ε on √v̂ in both) wherever ρ_t ≠ 4",
              "equivalence", RADAM_SRC + "; spec `radam` peers (optax.radam(threshold=4.0))",
              specs=("radam", "radam_optax"),
              note="Proved by the invariant on the specs' maps for every ε: the same rectified step, the same SGD "
                   "fallback, the tests matched as ρ_t − 4 (> 0 vs ≥ 0), equal under ρ_t ≠ 4. They differ where "
                   "ρ_t = 4 exactly (some irrational β₂ for t = 5), so the peer listed for `radam` agrees except "
                   "there.")
def radam_paper_vs_optax4():
    return equivalent(spec("radam"), spec("radam_optax", threshold=4), where=[sp.Ne(RHO_T, 4)])


@CLAIMS.claim("variants.radam_rho_equals_5", "…but ε = 0 is not quite enough: ρ₆ = 5 exactly for a β₂ ∈ (0, 1) "
              "(≈ 0.839769), where torch (ρ > 5) takes the SGD step and optax (ρ ≥ 5) a rectified step with r₆ < 1",
              "identity", RADAM_SRC, specs=("radam_torch", "radam_optax"),
              note="Every quantity is read from the specs: ρ_t and r_t (the temporaries of spec `radam_optax`), the "
                   "two tests (the Piecewise conditions of both θ updates). ρ₆ − 5 = P(β₂)/D(β₂) with P having "
                   "exactly one root in (2/3, 1) and D none (Sturm's theorem, exact), so ρ₆ = 5 there; on (2/3, 1) "
                   "ρ_∞ > 5, and r_t² < 1 at ρ_t = 5 whenever ρ_∞ > 5. So torch RAdam ≡ optax radam iff ε = 0, "
                   "except at such isolated β₂.")
def radam_rho_equals_5():
    b2 = OPTAX_RADAM.symbol("beta2")
    rho6 = RHO_T.subs(t, 6)
    numerator, denominator = sp.fraction(sp.factor(sp.together(rho6 - 5)))
    torch_test = _oriented(_tests(spec("radam_torch", weight_decay=0, eps=0).update[theta])[0])
    optax_test = _oriented(_tests(spec("radam_optax", eps=0, threshold=5).update[theta])[0])
    rho, rho_inf = OPTAX_RADAM.symbol("rho"), OPTAX_RADAM.symbol("rho_inf")
    r_written = temporary(OPTAX_RADAM, "r")[1]  # r_t in terms of ρ_t and ρ_∞, as the spec writes it
    q, s_ = sp.symbols("q s", positive=True)
    inside = {b2: sp.Rational(2, 3) + s_ / (3 * (1 + s_))}  # β₂ ∈ (2/3, 1), s > 0
    return [identity("ρ₆ − 5 = P(β₂)/D(β₂) (ρ_t of spec `radam_optax`)", rho6 - 5, numerator / denominator),
            roots_in("P has exactly one root β₂* in (2/3, 1)", numerator, b2, sp.Rational(2, 3), 1, 1),
            roots_in("D has no root in (2/3, 1): ρ₆(β₂*) = 5", denominator, b2, sp.Rational(2, 3), 1, 0),
            identity(f"torch's test is ρ_t − 5 {torch_test[1]} 0 (false at β₂*)", torch_test[0], RHO_T - 5),
            identity(f"optax's test is ρ_t − 5 {optax_test[1]} 0 (true at β₂*)", optax_test[0], RHO_T - 5),
            bound("ρ_∞ > 5 for β₂ ∈ (2/3, 1)", 5, temporary(OPTAX_RADAM, "rho_inf")[0], assume=inside, strict=True),
            bound("r_t² < 1 at ρ_t = 5 when ρ_∞ = 5 + q > 5 (r_t of spec `radam_optax`)",
                  (r_written**2).subs(rho, 5).subs(rho_inf, 5 + q), 1, strict=True)]


@CLAIMS.claim("variants.radam_torch_vs_optax_eps", "ε > 0: torch RAdam ≡ optax radam?", "equivalence", RADAM_SRC,
              expected=FAILS, specs=("radam_torch", "radam_optax"),
              note="Once rectified (t = 6 at β₂ = 9/10), ε is added to √v in torch and to √v̂ = √v/√(1−β₂^t) "
                   "in optax: ε√(1−β₂^t) ≠ ε. Refuted by the certified counterexample search of `equivalent` "
                   "(the steps before rectification agree).")
def radam_torch_vs_optax_eps():
    eps = specs.get("radam_torch").symbol("eps")  # ε = 1/10: a difference far above float64 rounding
    return equivalent(spec("radam_torch", weight_decay=0), spec("radam_optax", threshold=5), sample={eps: [Q(1, 10)]})


@CLAIMS.claim("variants.radam_po_vs_torch", "pytorch_optimizer RAdam (default) ≡ torch RAdam?", "equivalence",
              RADAM_SRC, expected=FAILS, specs=("radam_po", "radam_torch"),
              note="po's default degenerated_to_sgd=False leaves θ unchanged while ρ_t < 5; torch takes an SGD "
                   "step with bias-corrected momentum (ρ₁ = 1, so they already differ at t = 1).")
def radam_po_vs_torch():
    return equivalent(spec("radam_po", weight_decay=0), spec("radam_torch", weight_decay=0))


# --- AMSGrad, AdaBelief, Yogi, Lookahead, diffGrad -------------------------------------------------------------
@CLAIMS.claim("variants.amsgrad_vhat_vs_raw", "AMSGrad: max of v̂ (optax, spec `amsgrad`) ≡ max of raw v (torch)?",
              "equivalence", "Reddi et al. (2018) Alg. 2; docs/sources/peers.md §1.5, §2.8", expected=FAILS,
              specs=("amsgrad", "amsgrad_torch"),
              note="max_s v_s/(1−β₂^s) ≠ (max_s v_s)/(1−β₂^t) once an earlier v̂_s is the maximum, e.g. β₂ = 1/2, "
                   "g = 1, 2, −1: v̂₃ = 13/7 < v̂₂ = 3, while torch uses max(v)/(1−β₂³) = 18/7.")
def amsgrad():
    return equivalent(spec("amsgrad"), spec("amsgrad_torch", weight_decay=0))


@CLAIMS.claim("variants.adabelief_eps_inside_vs_outside", "AdaBelief: ε added inside s_t (official) ≡ ε only in the "
              "denominator?", "equivalence", "Zhuang et al. (2020) Alg. 2; docs/sources/peers.md §2.2", expected=FAILS,
              specs=("adabelief", "adabelief_eps_outside"))
def adabelief():
    return equivalent(spec("adabelief"), spec("adabelief_eps_outside"))


YOGI_SRC = "Zaheer et al. (2018) Alg. 2; docs/sources/peers.md §2.1 (po/to: m₀ = v₀ = initial_accumulator = 1e-6)"


@CLAIMS.claim("variants.yogi_vs_po_default", "Yogi (m₀ = v₀ = 0) ≡ pytorch_optimizer Yogi (m₀ = v₀ = 10⁻⁶)?",
              "equivalence", YOGI_SRC, expected=FAILS, specs=("yogi", "yogi_po"),
              note="po (and to) start both moments at initial_accumulator = 10⁻⁶; already the first step differs.")
def yogi_default():
    return equivalent(spec("yogi"), spec("yogi_po", weight_decay=0, initial_accumulator=Q(1, 10**6)))


@CLAIMS.claim("variants.yogi_vs_po_zero_init", "Yogi ≡ pytorch_optimizer Yogi with initial_accumulator = 0, λ = 0",
              "equivalence", YOGI_SRC, specs=("yogi", "yogi_po"))
def yogi_zero():
    return equivalent(spec("yogi_po", weight_decay=0, initial_accumulator=0), spec("yogi"))


@CLAIMS.claim("variants.lookahead_paper_vs_to_schedule", "Lookahead: sync after t = k, 2k, … (paper, po, optax) ≡ "
              "after t = 1, 1+k, … (torch_optimizer)?", "equivalence",
              "Zhang et al. (2019) Alg. 1; docs/sources/peers.md §2.6", expected=FAILS,
              specs=("lookahead_adam_torch", "lookahead_adam_torch_to"),
              note="With k = 2 the paper interpolates after step 2, torch_optimizer does not (its syncs are "
                   "after steps 1, 3, 5, … and the first is a no-op).")
def lookahead():
    return equivalent(spec("lookahead_adam_torch", weight_decay=0), spec("lookahead_adam_torch_to", weight_decay=0))


DIFFGRAD_SRC = "Dubey et al. (2019) Alg. 1; docs/sources/peers.md §2.3 (to: ε on √v, √(1−β₂^t) in the step size)"


@CLAIMS.claim("variants.diffgrad_vs_to_eps0", "ε = 0: diffGrad (ε on √v̂) ≡ torch_optimizer DiffGrad (ε on √v), λ = 0",
              "equivalence", DIFFGRAD_SRC, specs=("diffgrad", "diffgrad_to"))
def diffgrad_eps0():
    return [positivity_of_bias_corrections(),
            *equivalent(spec("diffgrad", eps=0), spec("diffgrad_to", eps=0, weight_decay=0), assume=BIAS)]


@CLAIMS.claim("variants.diffgrad_vs_to_eps", "ε > 0: diffGrad ≡ torch_optimizer DiffGrad (λ = 0)?", "equivalence",
              DIFFGRAD_SRC, expected=FAILS, specs=("diffgrad", "diffgrad_to"),
              note="ε on √v equals ε√(1−β₂^t) on √v̂: a different, decaying ε.")
def diffgrad_eps():
    return equivalent(spec("diffgrad"), spec("diffgrad_to", weight_decay=0))


# --- ε conventions -------------------------------------------------------------------------------------------
@CLAIMS.claim("variants.adagrad_eps_in_sqrt_is_r0_eps", "spec `adagrad_eps_in_sqrt` ≡ docs/sources/seed-004.md's r₀ = ε form "
              "(no ε in the step) under r = G + ε", "equivalence",
              "docs/sources/seed-004.md §AdaGrad (r₀ = ε); docs/sources/seed-003.md §4.1 (√(G_t + ε))", specs=("adagrad_eps_in_sqrt",),
              note="The seed form is accumulators.ADAGRAD_TRICK (not a spec); accumulators.adagrad_trick_is_eps_in_sqrt "
                   "proves the same against a hand-written form, this claim against the catalogue's spec.")
def adagrad_eps():
    spec_ = specs.get("adagrad_eps_in_sqrt")
    r = ADAGRAD_TRICK.state[1]  # the seed form's accumulator (starts at ε)
    return equivalent(spec("adagrad_eps_in_sqrt"), ADAGRAD_TRICK, {r: spec_.symbol("G") + spec_.symbol("eps")})


@CLAIMS.claim("variants.rmsprop_r0eps_vs_optax", "RMSProp r₀ = ε (docs/sources/seed-004.md) ≡ optax rmsprop (ε inside √, ν₀ = 0)?",
              "equivalence", "docs/sources/seed-004.md §RMSProp; docs/sources/peers.md §3.1 (optax rmsprop)", expected=FAILS,
              specs=("rmsprop_r0eps", "rmsprop_optax"),
              note="r₀ = ε leaves β^t ε inside the root (a protection that decays); optax adds a constant ε.")
def rmsprop_r0eps():
    beta = specs.get("rmsprop_r0eps").symbol("beta")
    return equivalent(spec("rmsprop_r0eps"), spec("rmsprop_optax", momentum=0, initial_scale=0, decay=beta),
                      sample={specs.get("rmsprop_r0eps").symbol("eps"): [Q(1, 2), 2]})


@CLAIMS.claim("variants.rmsprop_r0eps_is_optax_initial_scale", "RMSProp r₀ = ε (docs/sources/seed-004.md) ≡ optax rmsprop with "
              "initial_scale = ε, eps = 0 (momentum 0)", "equivalence",
              "docs/sources/seed-004.md §RMSProp; docs/sources/peers.md §3.1 (optax rmsprop initial_scale)",
              specs=("rmsprop_r0eps", "rmsprop_optax"),
              note="What is true instead of rmsprop_r0eps_vs_optax: the seed's trick is optax's initial_scale. "
                   "optax's momentum buffer b is dropped from the state: with momentum = 0 nothing reads it.")
def rmsprop_r0eps_initial_scale():
    r0 = specs.get("rmsprop_r0eps")
    optax = spec("rmsprop_optax", momentum=0, eps=0, initial_scale=r0.symbol("eps"), decay=r0.symbol("beta"))
    nu, b = specs.get("rmsprop_optax").symbol("nu"), specs.get("rmsprop_optax").symbol("b")
    kept = (theta, nu)
    assert not any(optax.update[x].has(b) for x in kept)  # b is write-only at momentum 0
    reduced = Dynamics(optax.name + " without b", kept, {x: optax.update[x] for x in kept},
                       {x: optax.init[x] for x in kept})
    return equivalent(spec("rmsprop_r0eps"), reduced, {nu: r0.symbol("r")})


@CLAIMS.claim("variants.adam_r0eps_vs_eps_in_sqrt", "Adam r₀ = ε (docs/sources/seed-004.md) ≡ Adam with √(v̂ + ε) (docs/sources/seed-004.md (4.5))?",
              "equivalence", "docs/sources/seed-004.md §Adam (4.5) and the r₀ = ε rewriting", expected=FAILS,
              specs=("adam_r0eps", "adam_eps_in_sqrt"),
              note="r₀ = ε puts β₂^t ε/(1−β₂^t) into v̂, not ε.")
def adam_r0eps():
    return equivalent(spec("adam_r0eps"), spec("adam_eps_in_sqrt"),
                      sample={specs.get("adam_r0eps").symbol("eps"): [Q(1, 2), 2]})


# --- Nadam / NadaMax seed forms --------------------------------------------------------------------------------
@CLAIMS.claim("variants.nadam_seed_spec_is_seed_formula", "spec `nadam_seed` ≡ seed (5.8) as checked in "
              "nadam.seed_form_vs_spec", "equivalence", "docs/sources/seed-004.md (5.8)", specs=("nadam_seed",),
              note="Ties the refutation nadam.seed_form_vs_spec (seed (5.8) ≢ spec `nadam` at finite t) to the "
                   "catalogue's spec `nadam_seed`; the refutation is not repeated here.")
def nadam_seed():
    return equivalent(SEED_NADAM, spec("nadam_seed"))


@CLAIMS.claim("variants.nadamax_seed_spec_is_seed_formula", "spec `nadamax_seed` ≡ docs/sources/seed-004.md's NadaMax as checked in "
              "nadamax.seed004_vs_spec", "equivalence", "docs/sources/seed-004.md §NadaMax", specs=("nadamax_seed",),
              note="Ties the refutation nadamax.seed004_vs_spec to the catalogue's spec `nadamax_seed`.")
def nadamax_seed():
    return equivalent(SEED_NADAMAX, spec("nadamax_seed"))


# --- the seed forms checked elsewhere are the catalogue's specs ----------------------------------------------------
LINKS = [  # (name, spec, seed form, fix, Φ (B = the spec's state from the seed form's), where the seed form is checked)
    ("adam_r0eps_spec_is_seed_form", "adam_r0eps", lambda: SEED_R0_EPS, {}, {}, "adam.seed004_r0_eps"),
    ("adam_eps_in_sqrt_spec_is_seed_form", "adam_eps_in_sqrt", lambda: SEED_EPS_INSIDE, {}, {},
     "adam.seed004_eps_in_sqrt"),
    ("rmsprop_r0eps_spec_is_seed_form", "rmsprop_r0eps", lambda: RMSPROP_TRICK, {}, {},
     "accumulators.rmsprop_trick_vs_paper"),
    ("adadelta_r0eps_spec_is_seed_form", "adadelta_r0eps", lambda: ADADELTA_TRICK, {"beta": _rho}, {}, "accumulators.adadelta_trick_vs_paper"),
    ("ada_nesterov_spec_is_reparametrised_12", "ada_nesterov", lambda: _ada_nesterov.REPARAMETRISED,
     {"momentum": _ada_nesterov.rho, "decay": _ada_nesterov.gamma},
     {sp.Symbol("delta", real=True): _ada_nesterov.dtheta, sp.Symbol("acc_delta", real=True): _ada_nesterov.Ed},
     "ada_nesterov.reparametrised"),
]


def _link(name, fix, form, phi):
    return lambda: equivalent(form(), spec(name, **fix), phi)


for _name, _spec, _form, _fix, _phi, _where in LINKS:
    CLAIMS.claim(f"variants.{_name}", f"spec `{_spec}` ≡ the seed form checked in {_where}", "equivalence",
                 f"specs/catalog ({_spec}); derive/catalog {_where}", specs=(_spec,),
                 note=f"Ties {_where} (stated for a hand-written form) to the catalogue's spec `{_spec}`.")(
        _link(_spec, _fix, _form, _phi))


# --- QHAdam ------------------------------------------------------------------------------------------------------
QH = specs.get("qhadam")


@CLAIMS.claim("variants.qhadam_nu1_is_adam", "QHAdam(ν₁ = ν₂ = 1, λ = 0) ≡ Adam", "equivalence",
              "Ma & Yarats (2019) §4 (QHAdam recovers Adam); docs/sources/peers.md §2.9", specs=("qhadam", "adam"),
              note="QHAdam's weights w_t = βw_{t−1} + 1 are proved to equal (1−β^t)/(1−β) by induction; with that "
                   "closed form its m, v are Adam's m̂, v̂ (Φ: m_Adam = (1−β₁^t) m_QH, v_Adam = (1−β₂^t) v_QH).")
def qhadam():
    b1, b2 = QH.symbol("beta1"), QH.symbol("beta2")
    w1, w2, m, v = (QH.symbol(n) for n in ("w1", "w2", "m", "v"))
    n = sp.Symbol("n", integer=True, nonnegative=True)
    steps = [induction(f"w_n = (1−{b.name}^n)/(1−{b.name}) for w_n = {b.name} w_(n−1) + 1, w_0 = 0",
                       (1 - b**n) / (1 - b), lambda prev, _n, b=b: b * prev + 1, 0, n=n) for b in (b1, b2)]
    qh = spec("qhadam", nu1=1, nu2=1, weight_decay=0)
    closed = {w1: (1 - b1**(t - 1)) / (1 - b1), w2: (1 - b2**(t - 1)) / (1 - b2)}  # the old weights at step t
    reduced = Dynamics("qhadam(ν₁=ν₂=1, λ=0, w closed form)", (theta, m, v),
                       {x: qh.update[x].xreplace(closed) for x in (theta, m, v)}, {theta: theta, m: 0, v: 0})
    adam = spec("adam")
    am, av = specs.get("adam").symbol("m"), specs.get("adam").symbol("v")
    return [*steps, positivity_of_bias_corrections(),
            *equivalent(reduced, adam, {am: (1 - b1**t) * m, av: (1 - b2**t) * v}, assume=BIAS)]


# --- zero weight decay, Signum ----------------------------------------------------------------------------------
WD_SRC = "specs/combinators.py with_weight_decay (λ = 0 is the inner spec); docs/sources/peers.md"
SIMPLE = [  # (name, title, A, B, specs)
    ("nadamw_zero_decay", "NAdamW (optax form, λ = 0) ≡ Nadam", lambda: spec("nadamw", weight_decay=0),
     lambda: spec("nadam"), ("nadamw", "nadam")),
    ("lionw_zero_decay", "LionW(λ = 0) ≡ Lion", lambda: spec("lionw", weight_decay=0), lambda: spec("lion"),
     ("lionw", "lion")),
    ("adanw_zero_decay", "AdanW(λ = 0) ≡ Adan(λ = 0)", lambda: spec("adanw", weight_decay=0),
     lambda: spec("adan", weight_decay=0), ("adanw", "adan")),
    ("adamaxw_zero_decay", "AdamaxW(λ = 0) ≡ torch Adamax(λ = 0) (ε inside the max)",
     lambda: spec("adamaxw", weight_decay=0), lambda: spec("adamax_torch", weight_decay=0),
     ("adamaxw", "adamax_torch")),
    ("radamw_torch_zero_decay", "torch RAdam(decoupled, λ = 0) ≡ torch RAdam(λ = 0)",
     lambda: spec("radamw_torch", weight_decay=0), lambda: spec("radam_torch", weight_decay=0),
     ("radamw_torch", "radam_torch")),
    ("adabeliefw_zero_decay", "AdaBeliefW(λ = 0) ≡ AdaBelief", lambda: spec("adabeliefw", weight_decay=0),
     lambda: spec("adabelief"), ("adabeliefw", "adabelief")),
    ("nadamw_torch_zero_decay", "torch NAdam(decoupled, λ = 0) ≡ torch NAdam(λ = 0)",
     lambda: spec("nadamw_torch", weight_decay=0), lambda: spec("nadam_torch", weight_decay=0),
     ("nadamw_torch", "nadam_torch")),
    ("signum_zero_momentum", "Signum(β = 0) ≡ signSGD", lambda: spec("signum", momentum=0), lambda: spec("signsgd"),
     ("signum", "signsgd")),
]


def _simple(a, b):
    return lambda: equivalent(a(), b())


for _name, _title, _a, _b, _specs in SIMPLE:
    CLAIMS.claim(f"variants.{_name}", _title, "equivalence",
                 "Bernstein et al. (2018) Alg. 3 (Signum, β = 0 is signSGD)" if _name.startswith("signum") else WD_SRC,
                 tags=("spec_identities",), specs=_specs)(_simple(_a, _b))
