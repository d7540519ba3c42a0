r"""Equivalence of two optimizers: same parameter trajectory for every gradient sequence.

An optimizer is reduced to :class:`Dynamics`: a state vector (``theta`` first), its one-step map, its
initial values and the point where the gradient is queried (``theta`` for a spec; e.g.
:math:`\theta + \mu v` for a look-ahead form).

* **Proof** (:func:`equivalent`): a change of variables :math:`\Phi` from A's state to B's state such that
  the gradients are queried at the same point, :math:`\Phi` maps A's initial state to B's, and
  :math:`\Phi(F_A(s, g)) = F_B(\Phi(s), g)` for symbolic state and gradient: the induction step, valid for all
  :math:`t`. Bounded unrolling of k steps with symbolic :math:`g_1..g_k` is run as supporting evidence.
* **Refutation**: exact replay (SymPy rationals / algebraic numbers) on gradient sequences from per-step
  linear losses (the gradient does not depend on where it is queried), reporting the first step where
  B's parameter differs from :math:`\Phi_\theta` of A's state, with both values.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy as sp

from optiforge.specs import GRAD, PARAM, STEP, OptimizerSpec

from .engine import CHECKED, INCONCLUSIVE, PROVED, REFUTED, UNPROVED, Step, guarded, prove_zero, sample_values, tex

#: Gradient sequences tried (exactly) when the invariant proof fails; short, with sign changes and zeros.
GRADIENT_SEQUENCES = (
    (1, 2, -1, 3), (2, -1, 1, 1), (1, 1, 1, 1), (-3, 1, 2, -1), (1, 0, 0, 2), (5, -2, 4, 1),
)


#: Symbolic unrolling is supporting evidence only; it must not dominate the run time.
UNROLL_TIMEOUT = 1.5


@dataclass
class Dynamics:
    """A one-step state map: ``update[x]`` is the new value of state ``x`` in terms of the old state,
    ``GRAD`` (taken at ``query``), ``STEP`` and hyperparameters."""

    name: str
    state: tuple
    update: dict
    init: dict
    query: sp.Expr = PARAM
    first_gradient: frozenset = field(default_factory=frozenset)  # states that start as g_1

    def __post_init__(self):
        self.init = {x: sp.sympify(v) for x, v in self.init.items()}

    @classmethod
    def from_spec(cls, spec: OptimizerSpec, fix: dict | None = None, name: str | None = None) -> "Dynamics":
        """The spec's step map, with hyperparameters fixed by ``fix`` (e.g. ``{eps: 0}``)."""
        fix = {spec.symbol(k) if isinstance(k, str) else k: sp.sympify(v) for k, v in (fix or {}).items()}
        update = {k: v.subs(fix) for k, v in spec.step_map().items()}
        state = tuple(update)
        init = {PARAM: PARAM}
        first = set()
        for s in spec.state:
            if s.init == GRAD:
                first.add(s.symbol)
                init[s.symbol] = sp.Integer(0)
            else:
                init[s.symbol] = s.init.subs(fix)
        suffix = "(" + ", ".join(f"{k}={v}" for k, v in fix.items()) + ")" if fix else ""
        return cls(name or spec.name + suffix, state, update, init, PARAM, frozenset(first))

    @classmethod
    def from_assignments(cls, name: str, assignments, init: dict, query=PARAM) -> "Dynamics":
        """Pseudo-code order, as in a spec: each assignment reads the values current at that point."""
        current: dict = {}
        for target, value in assignments:
            current[target] = sp.sympify(value).xreplace(current)
        state = (PARAM,) + tuple(x for x in init if x != PARAM)
        return cls(name, state, {x: current.get(x, x) for x in state}, {PARAM: PARAM, **init}, query)

    def with_gradient(self, expression) -> "Dynamics":
        """The same optimizer fed ``expression`` (in ``GRAD``) instead of the gradient, e.g. ``c·g``."""
        update = {k: v.xreplace({GRAD: expression}) for k, v in self.update.items()}
        return Dynamics(f"{self.name}[g ↦ {expression}]", self.state, update, self.init, self.query,
                        self.first_gradient)

    def hyperparameters(self) -> set:
        symbols = set().union(*(v.free_symbols for v in self.update.values()),
                              *(sp.sympify(v).free_symbols for v in self.init.values()))
        return symbols - set(self.state) - {GRAD, STEP, PARAM}

    def simulate(self, theta0, gradients, values: dict) -> list[dict]:
        """Exact states after each step for the given gradient sequence and hyperparameter values."""
        env = {x: sp.sympify(v).xreplace({PARAM: theta0, **values}) for x, v in self.init.items()}
        env[PARAM] = theta0
        states = []
        for t, g in enumerate(gradients, start=1):
            g = sp.nsimplify(g)
            if t == 1:
                env.update({x: g for x in self.first_gradient})
            point = {**env, GRAD: g, STEP: sp.Integer(t), **values}
            env = {x: self.update[x].xreplace(point) for x in self.state}
            states.append(env)
        return states


def unify_hyperparameters(a: Dynamics, b: Dynamics, phi: dict | None = None):
    """A hyperparameter name means one value in a comparison: where A and B use different SymPy symbols for the
    same name (e.g. ``eps`` declared positive in one spec, nonnegative in another), both get one symbol, the more
    restrictive one (positive over nonnegative over real), so a proof can match them and a counterexample search
    cannot assign them different values (which would be a spurious refutation). Returns ``(a, b, phi)``."""
    by_name: dict = {}
    for h in sorted(a.hyperparameters() | b.hyperparameters(), key=lambda h: (h.name, str(h.assumptions0))):
        by_name.setdefault(h.name, set()).add(h)
    rank = lambda h: (bool(h.is_positive), bool(h.is_nonnegative), bool(h.is_real))
    renaming = {}
    for group in by_name.values():
        if len(group) > 1:
            keep = max(sorted(group, key=lambda h: str(h.assumptions0)), key=rank)
            renaming.update({h: keep for h in group if h != keep})
    if not renaming:
        return a, b, phi

    def rename(d: Dynamics) -> Dynamics:
        return Dynamics(d.name, d.state, {k: sp.sympify(v).xreplace(renaming) for k, v in d.update.items()},
                        {k: sp.sympify(v).xreplace(renaming) for k, v in d.init.items()},
                        sp.sympify(d.query).xreplace(renaming), d.first_gradient)

    phi = {k: sp.sympify(v).xreplace(renaming) for k, v in phi.items()} if phi is not None else None
    return rename(a), rename(b), phi


def _phi_old(phi: dict) -> dict:
    """Φ applied to the state *before* a step: its ``t`` (the step just completed) becomes ``t − 1``."""
    return {k: sp.sympify(v).subs(STEP, STEP - 1) for k, v in phi.items()}


def _depends_on_first_step(d: Dynamics) -> bool:
    """True if the map special-cases t = 1 (a Piecewise on ``Eq(t, 1)``) or a state starts as g₁."""
    return bool(d.first_gradient) or any(e.has(sp.Eq(STEP, 1)) for e in d.update.values())


def invariant_step(a: Dynamics, b: Dynamics, phi: dict, assume: dict | None = None) -> Step:
    r"""Induction on :math:`t` with invariant :math:`s_B = \Phi(s_A)`: initial states, query points and the
    one-step maps must agree exactly (``assume`` substitutes side conditions, e.g. positive Dummies).

    Maps that special-case the first step (torch's momentum buffer starts as g₁) are checked in two phases:
    step 1 from the initial states, then the generic step for t ≥ 2 (t ↦ t + 1 with t ≥ 1, so ``Eq(t, 1)``
    evaluates to false)."""
    phi = {x: sp.sympify(phi.get(x, x)) for x in b.state}
    zero = lambda expr: prove_zero(sp.sympify(expr).subs(assume or {}))

    def check():
        old = _phi_old(phi)
        overwritten = set(b.first_gradient)  # their initial value is never read
        init = {x: v.subs(STEP, 0).xreplace(a.init) - b.init[x] for x, v in phi.items() if x not in overwritten}
        bad = [x for x, d in init.items() if not zero(d)]
        if bad:  # Φ may simply be the wrong map: not a refutation of the equivalence itself
            return UNPROVED, f"Φ does not map the initial state: {bad}"
        query = a.query - b.query.xreplace(old)
        if not zero(query):
            return UNPROVED, f"gradients are queried at different points: {sp.sstr(query)}"
        if _depends_on_first_step(a) or _depends_on_first_step(b):
            first_a = {**a.init, **{x: GRAD for x in a.first_gradient}, STEP: sp.Integer(1)}
            first_b = {**b.init, **{x: GRAD for x in b.first_gradient}, STEP: sp.Integer(1)}
            for x in b.state:
                lhs = phi[x].subs(STEP, 1).xreplace({y: a.update[y].xreplace(first_a) for y in a.state})
                if not zero(lhs - b.update[x].xreplace(first_b)):
                    return UNPROVED, f"first step: invariant not established for {x}"
            later = {STEP: STEP + 1}  # t ≥ 2 written as t + 1 with t ≥ 1
            updates_a = {y: e.xreplace(later) for y, e in a.update.items()}
            updates_b = {y: e.xreplace(later) for y, e in b.update.items()}
            phi_new = {y: e.xreplace(later) for y, e in phi.items()}
            phi_prev = {y: e.xreplace(later) for y, e in old.items()}
        else:
            updates_a, updates_b, phi_new, phi_prev = a.update, b.update, phi, old
        for x in b.state:
            lhs = phi_new[x].xreplace(updates_a)  # Φ(F_A(s, g))
            rhs = updates_b[x].xreplace(phi_prev)  # F_B(Φ(s), g)
            if not zero(lhs - rhs):
                return UNPROVED, f"invariant not preserved for {x}: residue {sp.sstr(lhs - rhs)[:160]}"
        return PROVED, "Φ maps initial states, query points agree, Φ∘F_A = F_B∘Φ (induction step, all t)"

    latex = ", ".join(f"{tex(x)}_B = {tex(v)}" for x, v in phi.items())
    return guarded("equivalence", f"invariant {a.name} → {b.name}", latex, check)


def _nonzero(expr) -> bool:
    from .engine import exact_nonzero_point
    return exact_nonzero_point(sp.sympify(expr)) is not None


def unrolling_step(a: Dynamics, b: Dynamics, phi: dict, k: int = 3, fix: dict | None = None) -> Step:
    r"""Supporting evidence: unroll k steps with symbolic :math:`g_1..g_k` (``CHECKED``, not a proof)."""
    phi_theta = sp.sympify(phi.get(PARAM, PARAM))

    def check():
        gs = sp.symbols(f"g1:{k + 1}", real=True)
        sa = {x: sp.sympify(v).subs(fix or {}) for x, v in a.init.items()}
        sb = {x: sp.sympify(v).subs(fix or {}) for x, v in b.init.items()}
        for t, g in enumerate(gs, start=1):
            if t == 1:
                sa.update({x: g for x in a.first_gradient})
                sb.update({x: g for x in b.first_gradient})
            sa = {x: a.update[x].subs(fix or {}).xreplace({**sa, GRAD: g, STEP: t}) for x in a.state}
            sb = {x: b.update[x].subs(fix or {}).xreplace({**sb, GRAD: g, STEP: t}) for x in b.state}
            if not prove_zero(phi_theta.subs(STEP, t).xreplace(sa) - sb[PARAM]):
                return REFUTED if _nonzero(phi_theta.subs(STEP, t).xreplace(sa) - sb[PARAM]) else UNPROVED, \
                    f"parameters differ symbolically at step {t}"
        return CHECKED, f"θ agrees for {k} symbolic steps (evidence only)"

    step = guarded("unrolling", f"{k}-step symbolic unrolling", f"\\theta_B = \\Phi_\\theta(s_A),\\ t \\le {k}",
                   check, timeout=UNROLL_TIMEOUT)
    if step.status == UNPROVED and fix is None:
        # Sign conditions at concrete t (1 − β² > 0, …) block SymPy; retry at rational hyperparameters.
        hypers = sorted(a.hyperparameters() | b.hyperparameters(), key=lambda h: h.name)
        point = {h: sample_values(h)[0] for h in hypers}
        retry = unrolling_step(a, b, phi, k, point)
        retry.title = f"{k}-step unrolling, symbolic gradients, hyperparameters {point}"
        retry.seconds += step.seconds
        return retry
    if step.status == UNPROVED:  # evidence not obtained: says nothing either way
        step.status = INCONCLUSIVE
    return step


def counterexample_step(a: Dynamics, b: Dynamics, phi_theta=PARAM, sample: dict | None = None,
                        steps: int = 4, combos: int = 12) -> Step:
    r"""Search rational hyperparameters and gradients for the first step where :math:`\theta_B \ne
    \Phi_\theta(s_A)` (exact arithmetic); found → ``REFUTED`` with both values, else ``UNPROVED``."""
    a, b, unified = unify_hyperparameters(a, b, {PARAM: phi_theta})
    phi_theta = sp.sympify(unified[PARAM])
    hypers = sorted(a.hyperparameters() | b.hyperparameters() | (phi_theta.free_symbols - set(a.state) - {STEP}),
                    key=lambda s: s.name)

    def check():
        pools = [sample_values(h, sample) for h in hypers]
        theta0 = sp.Rational(1, 3)
        for values in itertools.islice(itertools.product(*pools), combos):
            values = dict(zip(hypers, values))
            for grads in GRADIENT_SEQUENCES:
                try:
                    ra = a.simulate(theta0, grads[:steps], values)
                    rb = b.simulate(theta0, grads[:steps], values)
                except (ZeroDivisionError, TypeError, ValueError):
                    continue
                for t, (xa, xb) in enumerate(zip(ra, rb), start=1):
                    expected = phi_theta.subs(STEP, t).xreplace({**xa, **values})
                    got = xb[PARAM]
                    difference = sp.nsimplify(expected - got) if (expected - got).is_Float else expected - got
                    if difference.has(sp.nan, sp.zoo, sp.oo) or not (expected.is_finite and got.is_finite):
                        break
                    if difference.is_zero is False:
                        cex = {"hyperparameters": {str(k): str(v) for k, v in values.items()},
                               "theta0": str(theta0), "gradients": [str(g) for g in grads[:t]], "step": t,
                               a.name: str(sp.nsimplify(expected)), b.name: str(got),
                               "floats": [float(expected), float(got)]}
                        return (REFUTED, f"first difference at t = {t}: {a.name} gives {expected} "
                                         f"(≈{float(expected):.6g}), {b.name} gives {got} (≈{float(got):.6g})", cex)
        return UNPROVED, "no counterexample found in the searched grid"

    return guarded("counterexample", f"exact replay {a.name} vs {b.name}",
                   f"\\exists g_{{1..{steps}}}:\\ \\theta_B \\ne {tex(phi_theta)}", check)


def equivalent(a: Dynamics, b: Dynamics, phi: dict | None = None, *, assume: dict | None = None,
               unroll: int = 3, unroll_fix: dict | None = None, sample: dict | None = None) -> list[Step]:
    r"""Steps proving (or refuting) that A and B have the same trajectory under :math:`\Phi` (default:
    identity on B's state names). If the invariant is not proved, an exact counterexample is searched."""
    a, b, phi = unify_hyperparameters(a, b, dict(phi or {}))
    proof = invariant_step(a, b, phi, assume)
    if proof.status == PROVED:
        steps = [proof]
        if unroll:
            steps.append(unrolling_step(a, b, phi, unroll, unroll_fix))
        return steps
    refutation = counterexample_step(a, b, phi.get(PARAM, PARAM), sample)
    if refutation.status == REFUTED:
        proof.status, proof.detail = CHECKED, "invariant not provable (expected: the forms differ): " + proof.detail
        return [proof, refutation]
    return [proof, refutation]


def necessary_hyper_conditions(a: Dynamics, b: Dynamics, unknown: sp.Symbol, expected, k: int = 2) -> Step:
    r"""'Only if': unroll k steps with symbolic gradients and require :math:`\theta_A = \theta_B` coefficient by
    coefficient in :math:`g_1..g_k`; the solution for ``unknown`` must be exactly ``expected``."""

    def check():
        gs = sp.symbols(f"g1:{k + 1}", real=True)
        ta, tb = a.simulate(PARAM, gs, {}), b.simulate(PARAM, gs, {})
        equations = []
        for xa, xb in zip(ta, tb):
            poly = sp.Poly(sp.expand(xa[PARAM] - xb[PARAM]), *gs, PARAM)
            equations += [c for c in poly.coeffs() if c != 0]
        solutions = sp.solve(equations, unknown, dict=True)
        if len(solutions) == 1 and prove_zero(solutions[0][unknown] - expected):
            return PROVED, f"the only solution is {unknown} = {solutions[0][unknown]}"
        return UNPROVED, f"solutions {solutions}"

    return guarded("equivalence", f"necessity of {unknown} = {expected}",
                   f"\\theta_A \\equiv \\theta_B\\ \\forall g \\Rightarrow {tex(unknown)} = {tex(expected)}", check)
