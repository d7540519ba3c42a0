r"""12. Variant pairs of the catalogue: where the paper and the common implementations differ (RAdam's threshold
and ε placement, AMSGrad's max, AdaBelief's ε, Yogi's initial values, Lookahead's sync schedule, ε conventions,
QHAdam's reduction to Adam, zero weight decay, Signum at β = 0), each with its verdict."""
import sympy as sp

from optiforge import specs
from optiforge.specs import PARAM as theta, STEP as t

from ..engine import FAILS, REFUTED, UNPROVED, ClaimList, bound, conclude, guarded, identity, induction
from ..equivalence import Dynamics, equivalent
from . import ada_nesterov as _ada_nesterov
from .accumulators import ADADELTA_TRICK, ADAGRAD_TRICK, RMSPROP_TRICK, rho as _rho
from .adam import BIAS, SEED_EPS_INSIDE, SEED_R0_EPS, positivity_of_bias_corrections
from .nadam import SEED_NADAM, SEED_NADAMAX

CLAIMS = ClaimList()
PEERS = "/work/shared/reference/peer_semantics.md"
Q = sp.Rational


def spec(name, **fix):
    return Dynamics.from_spec(specs.get(name), fix=fix)


def _values(a: Dynamics, b: Dynamics, by_name: dict) -> dict:
    """Hyperparameter values by name for both dynamics (the specs' symbols may differ in assumptions)."""
    hypers = a.hyperparameters() | b.hyperparameters()
    missing = {h.name for h in hypers} - set(by_name)
    if missing:
        raise KeyError(f"no value for {sorted(missing)}")
    return {h: sp.nsimplify(by_name[h.name]) for h in hypers}


def replay(a: Dynamics, b: Dynamics, by_name: dict, gradients, theta0=Q(1, 3)):
    r"""Exact replay (rationals / algebraic numbers) of A and B on one gradient sequence at the given
    hyperparameters: the first step where the parameters differ refutes :math:`\theta_A \equiv \theta_B`.
    For differences that appear only after the 4 steps of :func:`counterexample_step` (RAdam's t = 5, 6)."""
    def check():
        values = _values(a, b, by_name)
        ra, rb = a.simulate(theta0, gradients, values), b.simulate(theta0, gradients, values)
        for step, (xa, xb) in enumerate(zip(ra, rb), start=1):
            difference = sp.radsimp(xa[theta] - xb[theta])  # exact (rationals, radicals): no numeric guessing
            decided = difference.is_zero
            if decided is None:
                decided = sp.simplify(difference).is_zero
            if decided is False:
                cex = {"hyperparameters": {k: str(v) for k, v in by_name.items()}, "theta0": str(theta0),
                       "gradients": [str(x) for x in gradients[:step]], "step": step,
                       a.name: str(xa[theta]), b.name: str(xb[theta]),
                       "floats": [float(xa[theta]), float(xb[theta])]}
                return (REFUTED, f"equal for t < {step}; at t = {step}: {a.name} gives ≈{float(xa[theta]):.10g}, "
                                 f"{b.name} gives ≈{float(xb[theta]):.10g}", cex)
            if decided is not True:
                return UNPROVED, f"could not decide the difference at t = {step}"
        return UNPROVED, f"no difference in {len(gradients)} steps"

    point = ", ".join(f"{k} = {v}" for k, v in by_name.items())
    return guarded("counterexample", f"exact replay {a.name} vs {b.name} at {point}",
                   f"\\exists g_{{1..{len(gradients)}}}:\\ \\theta_A \\ne \\theta_B", check)


# --- RAdam ------------------------------------------------------------------------------------------------
RADAM_SRC = "Liu et al. (2020) Alg. 2 (ρ_t > 4); seed 002 §3.2.3 Alg. 14; peer_semantics.md §1.9, §2.10, §3.1"
RADAM_POINT = {"lr": Q(1, 10), "beta1": Q(9, 10), "beta2": Q(999, 1000), "eps": Q(1, 10), "weight_decay": 0}


@CLAIMS.claim("variants.radam_paper_vs_torch", "RAdam paper (ρ_t > 4, ε on √v̂) ≡ torch RAdam (ρ_t > 5, ε on √v)?",
              "equivalence", RADAM_SRC, expected=FAILS, specs=("radam", "radam_torch"),
              note="With β₂ = 0.999, ρ₅ = 4.996: the paper rectifies at t = 5, torch still takes the SGD step "
                   "(t ≤ 4 both take the SGD step and agree).")
def radam_paper_vs_torch():
    return [replay(spec("radam"), spec("radam_torch", weight_decay=0), RADAM_POINT, (1, 2, -1, 3, 1))]


RADAM_RHO = specs.get("radam_optax")
_b1, _b2, _eps = (RADAM_RHO.symbol(n) for n in ("beta1", "beta2", "eps"))


def _branches(expr):
    """(rectified, fallback, condition) of a RAdam θ update written as θ + Piecewise or Piecewise of θ's."""
    pieces = [p for p in sp.preorder_traversal(expr) if isinstance(p, sp.Piecewise)]
    piece = pieces[0]
    (rectified, condition), (fallback, _) = piece.args
    outside = expr.xreplace({piece: sp.Symbol("P")})
    P = sp.Symbol("P")
    return outside.subs(P, rectified), outside.subs(P, fallback), condition


@CLAIMS.claim("variants.radam_torch_vs_optax_eps0",
              "ε = 0: torch RAdam (ρ_t > 5, ε on √v) ≡ optax radam (ρ_t ≥ 5, ε on √v̂) wherever ρ_t ≠ 5 "
              "(branch by branch)",
              "equivalence", RADAM_SRC, specs=("radam_torch", "radam_optax"),
              note="Proved for each branch (rectified: the same step once ε = 0, by 1 − β^t > 0; fallback: the "
                   "same SGD step; the threshold tests are the same quantity ρ_t − 5). The tests differ in "
                   "strictness, so the trajectories can differ only at a step with ρ_t = 5 exactly (torch: SGD "
                   "step, optax: rectified step with r_t < 1), which needs a β₂ solving ρ_t(β₂) = 5 exactly "
                   "— not a default or a typical value. The moments m, v have identical updates.")
def radam_torch_vs_optax():
    torch = spec("radam_torch", weight_decay=0, eps=0)
    optax = spec("radam_optax", eps=0, threshold=5)
    t_rect, t_fall, t_cond = _branches(torch.update[theta])
    o_rect, o_fall, o_cond = _branches(optax.update[theta])
    # torch: X < −6 with X = 2tβ₂^t/(1−β₂^t) − 2/(1−β₂) (i.e. ρ_t > 5); optax: 5 ≤ ρ_t
    rho_minus_5_torch = -(t_cond.lhs - t_cond.rhs)  # −6 − X = ρ_t − 5 > 0
    rho_minus_5_optax = o_cond.rhs - o_cond.lhs  # ρ_t − 5 ≥ 0
    steps = [positivity_of_bias_corrections(),
             identity("threshold tests compare the same ρ_t − 5 (torch: > 0, optax: ≥ 0)",
                      rho_minus_5_torch, rho_minus_5_optax),
             identity("rectified branch, ε = 0: η r_t m̂ √(1−β₂^t)/√v = η r_t m̂/√v̂",
                      t_rect.subs(BIAS), o_rect.subs(BIAS)),
             identity("fallback branch: θ − η m̂ in both", t_fall, o_fall),
             *[identity(f"update of {x}", torch.update[x], optax.update[x]) for x in (sp.Symbol("m", real=True),
                                                                                    sp.Symbol("v", real=True))
               if x in torch.update]]
    return steps + [conclude("same trajectory wherever ρ_t ≠ 5", "\\theta_{torch} = \\theta_{optax}\\ "
                             "(\\epsilon = 0,\\ \\rho_t \\ne 5)", steps, kind="equivalence")]


@CLAIMS.claim("variants.radam_paper_vs_optax_threshold4",
              "RAdam paper (ρ_t > 4) ≡ optax radam(threshold = 4) (ρ_t ≥ 4, ε on √v̂ in both) wherever ρ_t ≠ 4",
              "equivalence", RADAM_SRC + "; spec `radam` peers (optax.radam(threshold=4.0))",
              specs=("radam", "radam_optax"),
              note="Branch by branch, for every ε: the same rectified step, the same SGD fallback, the same test "
                   "quantity ρ_t − 4. As with torch vs optax at 5, the strict and non-strict tests differ where "
                   "ρ_t = 4 exactly (some irrational β₂ for t = 5), so the peer listed for `radam` agrees except there.")
def radam_paper_vs_optax4():
    paper = spec("radam")
    optax = spec("radam_optax", threshold=4)
    p_rect, p_fall, p_cond = _branches(paper.update[theta])
    o_rect, o_fall, o_cond = _branches(optax.update[theta])
    steps = [identity("threshold tests compare the same ρ_t − 4 (paper: > 0, optax: ≥ 0)",
                      -(p_cond.lhs - p_cond.rhs), o_cond.rhs - o_cond.lhs),
             identity("rectified branch: θ − η r_t m̂/(√v̂ + ε) in both", p_rect, o_rect),
             identity("fallback branch: θ − η m̂ in both", p_fall, o_fall),
             *[identity(f"update of {x}", paper.update[x], optax.update[x]) for x in paper.state if x != theta]]
    return steps + [conclude("same trajectory wherever ρ_t ≠ 4", "\\theta_{paper} = \\theta_{optax(4)}\\ "
                             "(\\rho_t \\ne 4)", steps, kind="equivalence")]


@CLAIMS.claim("variants.radam_rho_equals_5", "…but ε = 0 is not quite enough: ρ₆ = 5 exactly for a β₂ ∈ (0, 1) "
              "(≈ 0.839769), where torch (ρ > 5) takes the SGD step and optax (ρ ≥ 5) a rectified step with r₆ < 1",
              "identity", RADAM_SRC, specs=("radam_torch", "radam_optax"),
              note="So torch RAdam ≡ optax radam iff ε = 0, except at the (irrational, isolated) β₂ where some ρ_t = 5 "
                   "exactly. An exact replay at that algebraic β₂ (a CRootOf) is beyond SymPy within the step limit, "
                   "so this is shown by its parts: ρ₆ − 5 = P(β₂)/D(β₂) with P(0) < 0 < P(1), D ≠ 0 on (0, 1) "
                   "(a root by the intermediate value theorem), and 1 − r_t² > 0 at ρ_t = 5 when ρ_∞ > 5.")
def radam_rho_equals_5():
    optax = specs.get("radam_optax")
    b2 = optax.symbol("beta2")
    _, _, condition = _branches(spec("radam_optax").update[theta])
    rho_t = condition.rhs  # threshold <= ρ_t
    rho6 = rho_t.subs(t, 6)
    numerator, denominator = sp.fraction(sp.factor(sp.together(rho6 - 5)))
    rho_inf, R = sp.symbols("rho_inf R", positive=True)
    r_squared = (R - 4) * (R - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * R)  # the spec's r_t², ρ_t = R
    return [identity("ρ₆ − 5 = P(β₂)/D(β₂)", rho6 - 5, numerator / denominator),
            bound("P(0) < 0", numerator.subs(b2, 0), -1),
            bound("P(1) > 0", 1, numerator.subs(b2, 1)),
            bound("D(β₂) ≥ 1 > 0 for β₂ ≥ 0, so ρ₆ = 5 at the root of P in (0, 1)", 1, sp.expand(denominator)),
            identity("1 − r_t² at ρ_t = 5 is (ρ_∞ − 5)(5ρ_∞ − 8)/(5(ρ_∞ − 4)(ρ_∞ − 2)) (> 0 for ρ_∞ > 5)",
                     1 - r_squared.subs(R, 5), (rho_inf - 5) * (5 * rho_inf - 8) / (5 * (rho_inf - 4) * (rho_inf - 2)))]


@CLAIMS.claim("variants.radam_torch_vs_optax_eps", "ε > 0: torch RAdam ≡ optax radam?", "equivalence", RADAM_SRC,
              expected=FAILS, specs=("radam_torch", "radam_optax"),
              note="Once rectified (t = 6 at β₂ = 9/10), ε is added to √v in torch and to √v̂ = √v/√(1−β₂^t) "
                   "in optax: ε√(1−β₂^t) ≠ ε.")
def radam_torch_vs_optax_eps():
    point = {**RADAM_POINT, "beta2": Q(9, 10), "threshold": 5}
    return [replay(spec("radam_torch", weight_decay=0), spec("radam_optax"), point, (1, 2, -1, 3, 1, 2))]


@CLAIMS.claim("variants.radam_po_vs_torch", "pytorch_optimizer RAdam (default) ≡ torch RAdam?", "equivalence",
              RADAM_SRC, expected=FAILS, specs=("radam_po", "radam_torch"),
              note="po's default degenerated_to_sgd=False leaves θ unchanged while ρ_t < 5; torch takes an SGD "
                   "step with bias-corrected momentum (ρ₁ = 1, so they already differ at t = 1).")
def radam_po_vs_torch():
    return equivalent(spec("radam_po", weight_decay=0), spec("radam_torch", weight_decay=0))


# --- AMSGrad, AdaBelief, Yogi, Lookahead, diffGrad -------------------------------------------------------------
@CLAIMS.claim("variants.amsgrad_vhat_vs_raw", "AMSGrad: max of v̂ (optax, spec `amsgrad`) ≡ max of raw v (torch)?",
              "equivalence", "Reddi et al. (2018) Alg. 2; peer_semantics.md §1.5, §2.8", expected=FAILS,
              specs=("amsgrad", "amsgrad_torch"),
              note="max_s v_s/(1−β₂^s) ≠ (max_s v_s)/(1−β₂^t) once an earlier v̂_s is the maximum, e.g. β₂ = 1/2, "
                   "g = 1, 2, −1: v̂₃ = 13/7 < v̂₂ = 3, while torch uses max(v)/(1−β₂³) = 18/7.")
def amsgrad():
    return equivalent(spec("amsgrad"), spec("amsgrad_torch", weight_decay=0))


@CLAIMS.claim("variants.adabelief_eps_inside_vs_outside", "AdaBelief: ε added inside s_t (official) ≡ ε only in the "
              "denominator?", "equivalence", "Zhuang et al. (2020) Alg. 2; peer_semantics.md §2.2", expected=FAILS,
              specs=("adabelief", "adabelief_eps_outside"))
def adabelief():
    return equivalent(spec("adabelief"), spec("adabelief_eps_outside"))


YOGI_SRC = "Zaheer et al. (2018) Alg. 2; peer_semantics.md §2.1 (po/to: m₀ = v₀ = initial_accumulator = 1e-6)"


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
              "Zhang et al. (2019) Alg. 1; peer_semantics.md §2.6", expected=FAILS,
              specs=("lookahead_adam_torch", "lookahead_adam_torch_to"),
              note="With k = 2 the paper interpolates after step 2, torch_optimizer does not (its syncs are "
                   "after steps 1, 3, 5, … and the first is a no-op).")
def lookahead():
    return equivalent(spec("lookahead_adam_torch", weight_decay=0), spec("lookahead_adam_torch_to", weight_decay=0))


DIFFGRAD_SRC = "Dubey et al. (2019) Alg. 1; peer_semantics.md §2.3 (to: ε on √v, √(1−β₂^t) in the step size)"


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
@CLAIMS.claim("variants.adagrad_eps_in_sqrt_is_r0_eps", "spec `adagrad_eps_in_sqrt` ≡ seed 004's r₀ = ε form "
              "(no ε in the step) under r = G + ε", "equivalence",
              "seed 004 §AdaGrad (r₀ = ε); seed 003 §4.1 (√(G_t + ε))", specs=("adagrad_eps_in_sqrt",),
              note="The seed form is accumulators.ADAGRAD_TRICK (not a spec); accumulators.adagrad_trick_is_eps_in_sqrt "
                   "proves the same against a hand-written form, this claim against the catalogue's spec.")
def adagrad_eps():
    spec_ = specs.get("adagrad_eps_in_sqrt")
    r = ADAGRAD_TRICK.state[1]  # the seed form's accumulator (starts at ε)
    return equivalent(spec("adagrad_eps_in_sqrt"), ADAGRAD_TRICK, {r: spec_.symbol("G") + spec_.symbol("eps")})


@CLAIMS.claim("variants.rmsprop_r0eps_vs_optax", "RMSProp r₀ = ε (seed 004) ≡ optax rmsprop (ε inside √, ν₀ = 0)?",
              "equivalence", "seed 004 §RMSProp; peer_semantics.md §3.1 (optax rmsprop)", expected=FAILS,
              specs=("rmsprop_r0eps", "rmsprop_optax"),
              note="r₀ = ε leaves β^t ε inside the root (a protection that decays); optax adds a constant ε.")
def rmsprop_r0eps():
    beta = specs.get("rmsprop_r0eps").symbol("beta")
    return equivalent(spec("rmsprop_r0eps"), spec("rmsprop_optax", momentum=0, initial_scale=0, decay=beta),
                      sample={specs.get("rmsprop_r0eps").symbol("eps"): [Q(1, 2), 2]})


@CLAIMS.claim("variants.rmsprop_r0eps_is_optax_initial_scale", "RMSProp r₀ = ε (seed 004) ≡ optax rmsprop with "
              "initial_scale = ε, eps = 0 (momentum 0)", "equivalence",
              "seed 004 §RMSProp; peer_semantics.md §3.1 (optax rmsprop initial_scale)",
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


@CLAIMS.claim("variants.adam_r0eps_vs_eps_in_sqrt", "Adam r₀ = ε (seed 004) ≡ Adam with √(v̂ + ε) (seed 004 (4.5))?",
              "equivalence", "seed 004 §Adam (4.5) and the r₀ = ε rewriting", expected=FAILS,
              specs=("adam_r0eps", "adam_eps_in_sqrt"),
              note="r₀ = ε puts β₂^t ε/(1−β₂^t) into v̂, not ε.")
def adam_r0eps():
    return equivalent(spec("adam_r0eps"), spec("adam_eps_in_sqrt"),
                      sample={specs.get("adam_r0eps").symbol("eps"): [Q(1, 2), 2]})


# --- Nadam / NadaMax seed forms --------------------------------------------------------------------------------
@CLAIMS.claim("variants.nadam_seed_spec_is_seed_formula", "spec `nadam_seed` ≡ seed (5.8) as checked in "
              "nadam.seed_form_vs_spec", "equivalence", "seed 004 (5.8)", specs=("nadam_seed",),
              note="Ties the refutation nadam.seed_form_vs_spec (seed (5.8) ≢ spec `nadam` at finite t) to the "
                   "catalogue's spec `nadam_seed`; the refutation is not repeated here.")
def nadam_seed():
    return equivalent(SEED_NADAM, spec("nadam_seed"))


@CLAIMS.claim("variants.nadamax_seed_spec_is_seed_formula", "spec `nadamax_seed` ≡ seed 004's NadaMax as checked in "
              "nadamax.seed004_vs_spec", "equivalence", "seed 004 §NadaMax", specs=("nadamax_seed",),
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
              "Ma & Yarats (2019) §4 (QHAdam recovers Adam); peer_semantics.md §2.9", specs=("qhadam", "adam"),
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
WD_SRC = "specs/combinators.py with_weight_decay (λ = 0 is the inner spec); peer_semantics.md"
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
