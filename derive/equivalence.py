r"""Equivalence of two optimizers: same parameter trajectory for every gradient sequence.

An optimizer is reduced to :class:`Dynamics`: a state vector (``theta`` first), its one-step map, its
initial values, the point where the gradient is queried (``theta`` for a spec; e.g. :math:`\theta + \mu v` for a
look-ahead form), the domains of its hyperparameters and their defaults.

* **Proof** (:func:`equivalent`): a change of variables :math:`\Phi` from A's state to B's state such that
  the gradients are queried at the same point, :math:`\Phi` maps A's initial state to B's, and
  :math:`\Phi(F_A(s, g)) = F_B(\Phi(s), g)` for symbolic state and gradient: the induction step, valid for all
  :math:`t`. ``Piecewise`` branches are compared branch by branch after their conditions are matched
  (:func:`align_conditions`; ``where=[Ne(rho, 5)]`` states that a test never sits exactly on its threshold).
  A proof is followed by a falsification sweep: exact replays at special hyperparameters (0, the domain's ends,
  the defaults) and gradients (zeros first, sign changes, 1000, 1/1000, long random runs). Bounded unrolling of k
  steps with symbolic :math:`g_1..g_k` is run as supporting evidence.
* **Refutation** (:func:`counterexample_step`): replays on rational hyperparameters (including the specs'
  defaults) and gradients, screened in 40-digit arithmetic for adaptive depth (8, 64 and 1024 steps), the first
  divergence then confirmed exactly (rationals and algebraic numbers) or by disjoint interval enclosures
  (``mpmath.iv``), reporting both values.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from optiforge.specs import GRAD, PARAM, STEP, OptimizerSpec

from . import domains as _domains
from . import kernel
from .engine import (CHECKED, INCONCLUSIVE, PROVED, REFUTED, UNPROVED, CheckTimeout, Step, code, guarded,
                     prove_equal, prove_zero, sample_values, tex, time_limit)
from .exact import Undecided, Undefined, compare, decimal_rational, defined, enclose, exact, iv
from .inference import Statement

#: Short gradient sequences (sign changes, zeros); the screen also runs the long ones of :func:`_sequences`.
GRADIENT_SEQUENCES = (
    (1, 2, -1, 3, 1, -2, 2, 1), (2, -1, 1, 1, -1, 3, 1, 2), (1, 1, 1, 1, 1, 1, 1, 1), (-3, 1, 2, -1, 1, 1, -2, 1),
    (1, 0, 0, 2, 0, 1, -1, 0), (5, -2, 4, 1, -3, 2, 1, 1),
)
#: Sequences for the sweep after a proof: a zero first gradient, tiny and huge values.
SWEEP_SEQUENCES = (
    (0, 1, -1, 2, 0, 0, 3, -1), (1, 0, 0, 0, 2, -1, 0, 1), (2, -1, sp.Rational(1, 2), 1000, sp.Rational(-1, 1000), 1, 0, 3),
    (1, 1, 1, 1, 1, 1, 1, 1),
)
#: Symbolic unrolling is supporting evidence only; it must not dominate the run time.
UNROLL_TIMEOUT = 1.5
#: Digits of the numeric screen; relative gap that marks a candidate divergence.
SCREEN_DPS, SCREEN_GAP = 40, mpmath.mpf(10)**-25
#: Sequences longer than LONG steps are replayed at the first LONG_POINTS hyperparameter points only.
LONG, LONG_POINTS = 8, 3
#: Exact replay is tried up to this many steps; beyond, the divergence is confirmed by enclosures.
EXACT_DEPTH = 16
#: Time for the search (within the step's limit) and for the sweep after a proof.
SEARCH_SECONDS, SWEEP_SECONDS = 12.0, 3.0
#: CPU seconds and hyperparameter points of the cheap screen run before the invariant: a false equivalence is
#: refuted without first waiting for SymPy to time out on its invariant.
PRESCREEN_SECONDS, PRESCREEN_POINTS = 0.5, 3


@dataclass
class Dynamics:
    """A one-step state map: ``update[x]`` is the new value of state ``x`` in terms of the old state,
    ``GRAD`` (taken at ``query``), ``STEP`` and hyperparameters. ``domains`` and ``defaults`` of the
    hyperparameters come from the spec (or are given); decimal literals are exact (:func:`derive.exact.exact`)."""

    name: str
    state: tuple
    update: dict
    init: dict
    query: sp.Expr = PARAM
    first_gradient: frozenset = field(default_factory=frozenset)  # states that start as g_1
    domains: dict = field(default_factory=dict)
    defaults: dict = field(default_factory=dict)

    def __post_init__(self):
        self.init = {x: exact(v) for x, v in self.init.items()}
        self.update = {x: exact(v) for x, v in self.update.items()}
        self.query = exact(self.query)
        self.domains = _domains.as_mapping(self.domains)
        self.defaults = {k: exact(v) for k, v in self.defaults.items()}

    @classmethod
    def from_spec(cls, spec: OptimizerSpec, fix: dict | None = None, name: str | None = None) -> "Dynamics":
        """The spec's step map, with hyperparameters fixed by ``fix`` (e.g. ``{eps: 0}``).

        A fixed value must lie in the hyperparameter's domain (ValueError naming it otherwise); a value that is a
        symbol (``{beta1: momentum}``) carries the domain over: the symbol ranges over the intersection."""
        hypers = {h.symbol: h for h in spec.hyperparameters}
        names = {str(h): h for h in hypers}

        def key(k):
            if isinstance(k, str) and k not in names:
                raise ValueError(f"fix= names {k!r}, not a hyperparameter of spec {spec.name!r} "
                                 f"(known: {', '.join(sorted(names))})")
            return names[k] if isinstance(k, str) else k
        fix = {key(k): exact(v) for k, v in (fix or {}).items()}
        carried: dict = {}
        for k, v in fix.items():
            if k not in hypers:
                raise ValueError(f"fix= names {k}, not a hyperparameter of spec {spec.name!r} "
                                 f"(known: {', '.join(sorted(map(str, hypers)))})")
            domain = hypers[k].domain
            if not v.free_symbols:
                if not _domains.contains(domain, v):
                    raise ValueError(f"fix= {k} = {v} lies outside the domain {domain} of {k} in spec {spec.name!r}")
            elif isinstance(v, sp.Symbol):
                carried[v] = carried[v].intersect(domain) if v in carried else domain
            else:  # an expression: the kernel must show it stays in the domain for every value of its symbols
                own = {s: hypers[s].domain for s in v.free_symbols if s in hypers and s not in fix}
                where = _domains.resolve(v.free_symbols, own)
                if not kernel.satisfiable_region(domain.as_relational(k).xreplace({k: v}), where).proved:
                    raise ValueError(f"fix= {k} = {v} is not shown to stay inside the domain {domain} of {k} in "
                                     f"spec {spec.name!r}")
        update = {k: exact(v).subs(fix) for k, v in spec.step_map().items()}
        state = tuple(update)
        init = {PARAM: PARAM}
        first = set()
        for s in spec.state:
            if s.init == GRAD:
                first.add(s.symbol)
                init[s.symbol] = sp.Integer(0)
            else:
                init[s.symbol] = exact(s.init).subs(fix)
        suffix = "(" + ", ".join(f"{k}={v}" for k, v in fix.items()) + ")" if fix else ""
        free = {h.symbol: h for h in spec.hyperparameters if h.symbol not in fix}
        domains = {s: h.domain for s, h in free.items()}
        for v, domain in carried.items():
            domains[v] = domains[v].intersect(domain) if v in domains else domain
        return cls(name or spec.name + suffix, state, update, init, PARAM, frozenset(first),
                   domains, {s: decimal_rational(h.default) for s, h in free.items()})

    @classmethod
    def from_assignments(cls, name: str, assignments, init: dict, query=PARAM, *, domains=None,
                         defaults=None) -> "Dynamics":
        """Pseudo-code order, as in a spec: each assignment reads the values current at that point."""
        current: dict = {}
        for target, value in assignments:
            current[target] = exact(value).xreplace(current)
        state = (PARAM,) + tuple(x for x in init if x != PARAM)
        return cls(name, state, {x: current.get(x, x) for x in state}, {PARAM: PARAM, **init}, query,
                   domains=domains or {}, defaults=defaults or {})

    def with_gradient(self, expression) -> "Dynamics":
        """The same optimizer fed ``expression`` (in ``GRAD``) instead of the gradient, e.g. ``c·g``."""
        update = {k: v.xreplace({GRAD: exact(expression)}) for k, v in self.update.items()}
        return Dynamics(f"{self.name}[g ↦ {expression}]", self.state, update, self.init, self.query,
                        self.first_gradient, self.domains, self.defaults)

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
            g = exact(g)
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
    cannot assign them different values (which would be a spurious refutation). Their domains meet in their
    intersection. Returns ``(a, b, phi)``."""
    by_name: dict = {}
    for h in sorted(a.hyperparameters() | b.hyperparameters(), key=lambda h: (h.name, str(h.assumptions0))):
        by_name.setdefault(h.name, set()).add(h)
    rank = lambda h: (bool(h.is_positive), bool(h.is_nonnegative), bool(h.is_real))
    renaming = {}
    for group in by_name.values():
        if len(group) > 1:
            keep = max(sorted(group, key=lambda h: str(h.assumptions0)), key=rank)
            renaming.update({h: keep for h in group if h != keep})
    merged = _domains.as_mapping([{renaming.get(k, k): v for k, v in d.domains.items()} for d in (a, b)])
    defaults = {renaming.get(k, k): v for d in (b, a) for k, v in d.defaults.items()}

    def rename(d: Dynamics) -> Dynamics:
        return Dynamics(d.name, d.state, {k: sp.sympify(v).xreplace(renaming) for k, v in d.update.items()},
                        {k: sp.sympify(v).xreplace(renaming) for k, v in d.init.items()},
                        sp.sympify(d.query).xreplace(renaming), d.first_gradient, merged, defaults)

    phi = {k: sp.sympify(v).xreplace(renaming) for k, v in phi.items()} if phi is not None else None
    return rename(a), rename(b), phi


def _phi_old(phi: dict) -> dict:
    """Φ applied to the state *before* a step: its ``t`` (the step just completed) becomes ``t − 1``."""
    return {k: sp.sympify(v).subs(STEP, STEP - 1) for k, v in phi.items()}


def _depends_on_first_step(d: Dynamics) -> bool:
    """True if the map special-cases t = 1 (a Piecewise on ``Eq(t, 1)``) or a state starts as g₁."""
    return bool(d.first_gradient) or any(e.has(sp.Eq(STEP, 1)) for e in d.update.values())


# --- matching Piecewise conditions -------------------------------------------------------------------------
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}
_REL = {">": sp.Gt, ">=": sp.Ge, "<": sp.Lt, "<=": sp.Le, "==": sp.Eq, "!=": sp.Ne}


def align_conditions(expr, where=(), domains: dict | None = None):
    r"""Rewrite every relational in ``expr`` as :math:`D_k \mathrel{op} 0` with one real Dummy :math:`D_k` per
    quantity (:math:`\rho_t - 5` written two ways is one quantity: the difference of the two forms simplifies to
    0, or to 0 up to a sign). Hypotheses ``where`` (``Ne(q, c)``, ``Gt``, …) then decide or sharpen the tests:
    with :math:`D \ne 0`, :math:`D \ge 0` is :math:`D > 0`. Sound for proofs: an identity shown for every value
    of :math:`D_k` (consistent with the hypotheses) holds for the actual one."""
    expr = sp.sympify(expr)
    relationals = [r for r in expr.atoms(sp.core.relational.Relational)
                   if not isinstance(r, sp.logic.boolalg.BooleanAtom)]
    if not relationals and not where:
        return expr
    classes: list = []  # (representative difference, Dummy)

    def classify(difference):
        for representative, dummy in classes:
            for sign in (1, -1):
                if sp.cancel(sp.together(difference - sign * representative)) == 0 or \
                        prove_equal(difference, sign * representative, domains):
                    return dummy, sign
        dummy = sp.Dummy(f"D{len(classes)}", real=True)
        classes.append((difference, dummy))
        return dummy, 1

    knowledge: dict = {}
    for hypothesis in where:
        dummy, sign = classify(hypothesis.lhs - hypothesis.rhs)
        knowledge.setdefault(dummy, set()).add(hypothesis.rel_op if sign > 0 else _FLIP[hypothesis.rel_op])
    members: dict = {}
    for r in relationals:
        dummy, sign = classify(r.lhs - r.rhs)
        members.setdefault(dummy, []).append((r, sign))
    replacement = {}
    for dummy, group in members.items():
        if len(group) == 1 and dummy not in knowledge:
            continue  # nothing to match: SymPy keeps the test with its meaning (Eq(beta, 0) fixes beta)
        for r, sign in group:
            replacement[r] = _aligned(r, dummy, sign, knowledge.get(dummy, set()))
    return expr.xreplace(replacement)


def _aligned(r, dummy, sign, known):
    op = r.rel_op if sign > 0 else _FLIP[r.rel_op]
    if "!=" in known or ">" in known or "<" in known:
        op = {">=": ">", "<=": "<"}.get(op, op)
        if op == "==":
            return sp.false
        if op == "!=":
            return sp.true
    return _REL[op](dummy, 0)


def invariant_step(a: Dynamics, b: Dynamics, phi: dict, assume: dict | None = None, *, where=(), sample=None,
                   domains=None, sweep: bool = True) -> Step:
    r"""Induction on :math:`t` with invariant :math:`s_B = \Phi(s_A)`: initial states, query points and the
    one-step maps must agree exactly (``assume`` substitutes side conditions, e.g. positive Dummies; ``where``
    states hypotheses on the Piecewise tests, see :func:`align_conditions`). A proof is then swept by exact
    replays (:func:`replay_sweep`) and overturned if they differ.

    Maps that special-case the first step (torch's momentum buffer starts as g₁) are checked in two phases:
    step 1 from the initial states, then the generic step for t ≥ 2 (t ↦ t + 1 with t ≥ 1, so ``Eq(t, 1)``
    evaluates to false)."""
    phi = {x: exact(phi.get(x, x)) for x in b.state}
    assume = {exact(k): exact(v) for k, v in (assume or {}).items()}
    where = tuple(exact(w) for w in where)
    hypers = a.hyperparameters() | b.hyperparameters()
    statement = Statement("equivalence", a.name, b.name)

    def check():
        dom = _domains.resolve(hypers | {STEP}, [a.domains, b.domains, _domains.as_mapping(domains)])

        def equal(lhs, rhs):  # defined at the same points and equal there (the kernel)
            pair = align_conditions(sp.Tuple(sp.sympify(lhs), sp.sympify(rhs)).subs(assume), where, dom)
            return prove_equal(pair[0], pair[1], dom)

        old = _phi_old(phi)
        overwritten = set(b.first_gradient)  # their initial value is never read
        init = {x: (v.subs(STEP, 0).xreplace(a.init), b.init[x]) for x, v in phi.items() if x not in overwritten}
        bad = [x for x, (l, r) in init.items() if not equal(l, r)]
        if bad:  # Φ may simply be the wrong map: not a refutation of the equivalence itself
            return UNPROVED, f"Φ does not map the initial state: {code(bad)}"
        if not equal(a.query, b.query.xreplace(old)):
            return UNPROVED, f"gradients are queried at different points: {code(a.query - b.query.xreplace(old))}"
        if _depends_on_first_step(a) or _depends_on_first_step(b):
            first_a = {**a.init, **{x: GRAD for x in a.first_gradient}, STEP: sp.Integer(1)}
            first_b = {**b.init, **{x: GRAD for x in b.first_gradient}, STEP: sp.Integer(1)}
            for x in b.state:
                lhs = phi[x].subs(STEP, 1).xreplace({y: a.update[y].xreplace(first_a) for y in a.state})
                if not equal(lhs, b.update[x].xreplace(first_b)):
                    return UNPROVED, f"first step: invariant not established for `{x}`"
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
            if not equal(lhs, rhs):
                return UNPROVED, f"invariant not preserved for `{x}`: residue {code(lhs - rhs, 160)}"
        how = (f"{kernel.CERTIFICATE_DECISION}: Φ maps initial states, query points agree, Φ∘F_A = F_B∘Φ "
               f"(induction step, all t; both sides defined alike)")
        if not sweep:
            return PROVED, how
        found = replay_sweep(a, b, phi.get(PARAM, PARAM), dom, sample, where)
        if found is None:
            return PROVED, how + "; exact replays at special points agree"
        status, detail, cex = found
        return status, f"an exact replay contradicts the kernel's proof ({how}): {detail}", cex, True

    latex = ", ".join(f"{tex(x)}_B = {tex(v)}" for x, v in phi.items())
    if where:
        latex += "\\quad(" + ",\\ ".join(tex(w) for w in where) + ")"
    return guarded("equivalence", f"invariant {a.name} → {b.name}", latex, check, statement=statement)


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
            if not prove_equal(phi_theta.subs(STEP, t).xreplace(sa), sb[PARAM]):
                return UNPROVED, f"parameters not shown equal symbolically at step {t}"
        return CHECKED, f"θ agrees for {k} symbolic steps (evidence only)"

    step = guarded("unrolling", f"{k}-step symbolic unrolling", f"\\theta_B = \\Phi_\\theta(s_A),\\ t \\le {k}",
                   check, timeout=UNROLL_TIMEOUT)
    if step.status == UNPROVED and fix is None:
        # Sign conditions at concrete t (1 − β² > 0, …) block SymPy; retry at rational hyperparameters.
        hypers = sorted(a.hyperparameters() | b.hyperparameters(), key=lambda h: h.name)
        merged = [a.domains, b.domains]
        point = {h: sample_values(h, None, merged)[0] for h in hypers}
        retry = unrolling_step(a, b, phi, k, point)
        retry.title = f"{k}-step unrolling, symbolic gradients, hyperparameters {point}"
        retry.seconds += step.seconds
        return retry
    if step.status == UNPROVED:  # evidence not obtained: says nothing either way
        step.status = INCONCLUSIVE
    return step


# --- replays ----------------------------------------------------------------------------------------------
_NUMERIC = {"Max": max, "Min": min}


class _Numeric:
    """A Dynamics' one-step map and Φ_θ, lambdified for mpmath (the screen)."""

    def __init__(self, d: Dynamics, hypers: list, phi_theta=None):
        self.d, self.hypers = d, hypers
        args = list(d.state) + [GRAD, STEP] + hypers
        modules = [_NUMERIC, "mpmath"]
        self.update = [sp.lambdify(args, d.update[x], modules=modules) for x in d.state]
        self.init = [sp.lambdify([PARAM] + hypers, d.init.get(x, x), modules=modules) for x in d.state]
        self.phi = sp.lambdify(list(d.state) + [STEP] + hypers, phi_theta, modules=modules) \
            if phi_theta is not None else None

    def run(self, theta0, grads, values):
        """θ (or Φ_θ) after each step; None from the first undefined value on."""
        try:
            env = [f(theta0, *values) for f in self.init]
        except (ZeroDivisionError, ValueError, TypeError):
            return [None] * len(grads)
        out = []
        alive = True
        for t, g in enumerate(grads, start=1):
            if alive:
                if t == 1:
                    env = [g if x in self.d.first_gradient else v for x, v in zip(self.d.state, env)]
                try:
                    env = [f(*env, g, t, *values) for f in self.update]
                    result = self.phi(*env, t, *values) if self.phi else env[0]
                    if isinstance(result, mpmath.mpc) or not mpmath.isfinite(result):
                        alive = False
                except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                    alive = False
            out.append(result if alive else None)
        return out


def _mp(value):
    value = sp.sympify(value)
    return mpmath.mpf(value.p) / value.q if value.is_Rational else mpmath.mpf(str(sp.N(value, SCREEN_DPS + 10)))


def _sequences(seed: int = 0):
    """Gradient sequences for the search: short ones, then 64 and 1024 steps (constant, alternating, random)."""
    rng = random.Random(seed)
    randoms = [sp.Rational(rng.randint(-30, 30), rng.choice((1, 2, 3, 5, 10))) for _ in range(1024)]
    yield from GRADIENT_SEQUENCES
    yield tuple([1] * 64)
    yield tuple((-1)**k for k in range(64))
    yield tuple(randoms[:64])
    yield tuple([1] * 1024)
    yield tuple(randoms)


def _hypotheses_hold(where, values, steps: int) -> bool:
    for t in range(1, steps + 1):
        for w in where:
            truth = sp.sympify(w).xreplace({**values, STEP: sp.Integer(t)})
            if truth is not sp.true:
                return False
    return True


def _confirm(a: Dynamics, b: Dynamics, phi_theta, values, theta0, grads, step: int, where) -> tuple | None:
    """Certify that θ_B ≠ Φ_θ(s_A) at ``step`` (exactly, else by disjoint enclosures): the counterexample dict."""
    if where and not _hypotheses_hold(where, values, step):
        return None
    grads = list(grads[:step])
    expected = got = None
    how = "exact arithmetic"
    if step <= EXACT_DEPTH:
        try:
            with time_limit(4.0):
                xa, xb = a.simulate(theta0, grads, values)[-1], b.simulate(theta0, grads, values)[-1]
                expected = phi_theta.subs(STEP, step).xreplace({**xa, **values})
                got = xb[PARAM]
                de, dg = defined(expected), defined(got)
                if de is None or dg is None:
                    return None
                if de and dg:
                    if compare(expected, got) != "differ":
                        return None
                elif not de and not dg:
                    return None
        except CheckTimeout:
            expected = got = None
    if expected is None:
        how = "interval arithmetic (disjoint enclosures)"
        interval = _enclosed(a, b, phi_theta, values, theta0, grads)
        if interval is None:
            return None
        expected, got = interval
    floats = [_float(expected), _float(got)]
    return {"hyperparameters": {str(k): str(v) for k, v in values.items()}, "theta0": str(theta0),
            "gradients": [str(g) for g in grads], "step": step, a.name: _text(expected), b.name: _text(got),
            "floats": floats, "certified by": how}


class _Enclosure:
    """An interval result (or 'undefined') with a short text and its midpoint."""

    def __init__(self, value):
        self.value = value

    def __str__(self):
        if isinstance(self.value, str):
            return self.value
        low, high = (mpmath.mpf(e) for e in self.value._mpi_)
        return f"[{mpmath.nstr(low, 20)}, {mpmath.nstr(high, 20)}]"

    def __float__(self):
        if isinstance(self.value, str):
            return float("nan")
        low, high = (mpmath.mpf(e) for e in self.value._mpi_)
        return float((low + high) / 2)


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _text(value) -> str:
    return value if isinstance(value, str) else str(value)


def _enclosed(a, b, phi_theta, values, theta0, grads):
    """Enclosures of Φ_θ(s_A) and θ_B after the last gradient (200 bits): disjoint, or one certainly undefined."""
    saved = iv.prec
    iv.prec = 200
    try:
        def run(d, want_phi):
            env = {x: enclose(sp.sympify(v).xreplace({PARAM: theta0, **values}), {}) for x, v in d.init.items()}
            env[PARAM] = enclose(theta0, {})
            hyper_env = {k: enclose(v, {}) for k, v in values.items()}
            for t, g in enumerate(grads, start=1):
                g_iv = enclose(exact(g), {})
                if t == 1:
                    env.update({x: g_iv for x in d.first_gradient})
                point = {**env, GRAD: g_iv, STEP: iv.mpf(t), **hyper_env}
                env = {x: enclose(d.update[x], point) for x in d.state}
            if want_phi:
                return enclose(phi_theta.subs(STEP, len(grads)), {**env, **hyper_env})
            return env[PARAM]

        results = []
        for d, want in ((a, True), (b, False)):
            try:
                results.append(run(d, want))
            except Undefined:
                results.append("undefined")
        first, second = results
        if isinstance(first, str) and isinstance(second, str):
            return None
        if isinstance(first, str) or isinstance(second, str) or first.b < second.a or second.b < first.a:
            return _Enclosure(first), _Enclosure(second)
        return None
    except Undecided:
        return None
    finally:
        iv.prec = saved


def _hyper_points(a: Dynamics, b: Dynamics, hypers: list, dom: dict, sample: dict | None, budget: int, seed=0,
                  extra=None):
    """Hyperparameter points: the defaults, a generic point, each hyperparameter at its special values, seeded
    combinations (all inside the domains; ``sample`` lists override); ``extra``: partial points tried right after
    the generic one (a hyperparameter where a map is singular)."""
    from .falsify import points as sweep_points
    sample = {k: [exact(v) for v in vs] for k, vs in (sample or {}).items()}
    seen, out = set(), []

    def add(point):
        key = tuple(str(point[h]) for h in hypers)
        if key not in seen and all(_domains.contains(dom[h], point[h]) or h in sample for h in hypers):
            seen.add(key)
            out.append(point)

    defaults = {**b.defaults, **a.defaults}
    generated = list(sweep_points([sp.Tuple(*hypers)], {h: dom[h] for h in hypers}, sample=sample, budget=budget,
                                  seed=seed, extra=extra))
    if generated:  # a generic point first: its counterexamples are the easiest to read
        add(generated[0])
    if hypers and all(h in defaults or h in sample for h in hypers):
        add({h: sample[h][0] if h in sample and defaults.get(h) not in sample[h] else defaults[h] for h in hypers})
    for p in generated[1:]:
        add(p)
    return out[:budget] if hypers else [{}]


def _search(a, b, phi_theta, hypers, dom, sample, where, sequences, budget, seconds, theta0=sp.Rational(1, 3),
            extra_points=None):
    """Screen replays numerically, confirm the first divergence: ``(cex, None)`` or ``(None, unconfirmed)``."""
    deadline = time.process_time() + seconds  # CPU time: the same search on a loaded machine
    numeric_a, numeric_b = _Numeric(a, hypers, phi_theta), _Numeric(b, hypers)
    unconfirmed = None
    with mpmath.workdps(SCREEN_DPS):
        for rank, values in enumerate(_hyper_points(a, b, hypers, dom, sample, budget, extra=extra_points)):
            args = [_mp(values[h]) for h in hypers]
            for grads in sequences():
                if len(grads) > LONG and rank >= LONG_POINTS:
                    continue  # long replays at the first points only (generic, defaults)
                if time.process_time() > deadline:
                    return None, unconfirmed
                mp_grads = [_mp(exact(g)) for g in grads]
                ra = numeric_a.run(_mp(theta0), mp_grads, args)
                rb = numeric_b.run(_mp(theta0), mp_grads, args)
                for t, (xa, xb) in enumerate(zip(ra, rb), start=1):
                    if xa is None and xb is None:
                        break
                    if xa is not None and xb is not None and abs(xa - xb) <= SCREEN_GAP * (1 + abs(xa)):
                        continue
                    cex = _confirm(a, b, phi_theta, values, theta0, grads, t, where)
                    if cex:
                        return cex, None
                    unconfirmed = unconfirmed or (values, grads[:t], t)
                    break
    return None, unconfirmed


#: Singular steps up to this one are replayed; a map undefined on one side at a later step only is not
#: trusted (the proof becomes unproved: no replay reaches it).
SINGULAR_DEPTH = 5000
#: Critical subexpressions looked at, and the time the whole analysis may take.
SINGULAR_EXPRESSIONS, SINGULAR_SECONDS = 24, 2.0


@dataclass
class Singular:
    """Where a subexpression of either map is undefined or changes form, whatever the state (found at two
    generic states): gradients, steps and hyperparameter values."""

    gradients: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    hypers: list = field(default_factory=list)

    def sequences(self, random_tail):
        out = []
        for g in self.gradients[:4]:
            out += [tuple([g] * 8), (1, g, 2, g, -1, g, 1, g)]
        for t in sorted(k for k in self.steps if k <= SINGULAR_DEPTH)[:3]:
            out += [tuple([1] * int(t)), tuple(random_tail[k % len(random_tail)] for k in range(int(t)))]
        return tuple(out)


def singular_values(a: Dynamics, b: Dynamics, phi_theta, hypers, dom) -> Singular:
    r"""Gradients, steps and hyperparameters at which a denominator, a root's or log's argument, an ``Abs``/``sign``
    argument or a ``Piecewise`` test of A's or B's map or initial state vanishes at two generic states (so at
    every state): an invariant that cancels :math:`(g - 7)/|g - 7|` against :math:`\operatorname{sign}(g - 7)`, or
    :math:`(t^2 - 10^4)/((t - 100)(t + 100))` against 1, is only tested where it can fail."""
    from .falsify import real_roots, critical_expressions
    found = Singular()
    exprs = [*a.update.values(), *b.update.values(), sp.sympify(phi_theta), a.query, b.query, *a.init.values(),
             *b.init.values()]
    states = sorted(set(a.state) | set(b.state), key=lambda v: v.name)
    generic = [sp.Rational(3, 7), sp.Rational(5, 3), sp.Rational(-2, 3), sp.Rational(7, 11), sp.Rational(13, 5)]
    envs = []
    for shift in (0, 2):
        env = {x: generic[(k + shift) % len(generic)] for k, x in enumerate(states)}
        env[GRAD] = sp.Rational(2, 9) if shift == 0 else sp.Rational(-7, 5)
        env[STEP] = sp.Integer(3 if shift == 0 else 7)
        for k, h in enumerate(hypers):
            pool = _domains.generic_values(dom[h]) if h in dom else []
            if pool:
                env[h] = pool[(k + shift // 2) % len(pool)]
        envs.append(env)
    targets = [(GRAD, sp.Reals), (STEP, _domains.assumption_domain(STEP))] + [(h, dom[h]) for h in hypers if h in dom]
    deadline = time.process_time() + SINGULAR_SECONDS
    for c in critical_expressions(exprs, limit=SINGULAR_EXPRESSIONS):
        for symbol, domain in targets:
            if symbol not in c.free_symbols or time.process_time() > deadline:
                continue
            roots = None
            for env in envs:
                here = set(real_roots(c.xreplace({k: v for k, v in env.items() if k != symbol}), symbol, domain,
                                        transcendental=False))
                roots = here if roots is None else roots & here
                if not roots:
                    break
            for r in sorted(roots or (), key=sp.default_sort_key):
                if symbol == GRAD and r not in found.gradients:
                    found.gradients.append(r)
                elif symbol == STEP and r not in found.steps:
                    found.steps.append(r)
                elif symbol in hypers and {symbol: r} not in found.hypers:
                    found.hypers.append({symbol: r})
    return found


def _far_singularity(a: Dynamics, b: Dynamics, phi_theta, singular: Singular, dom) -> int | None:
    """A step beyond :data:`SINGULAR_DEPTH` at which one map is undefined and the other is not (at a generic state):
    a replay cannot reach it, so a proof cannot be trusted."""
    from .exact import defined as is_defined
    far = sorted(k for k in singular.steps if k > SINGULAR_DEPTH)
    if not far:
        return None
    states = sorted(set(a.state) | set(b.state), key=lambda v: v.name)
    hypers = sorted(a.hyperparameters() | b.hyperparameters(), key=lambda h: h.name)
    env = {x: sp.Rational(3 + k, 7) for k, x in enumerate(states)}
    env[GRAD] = sp.Rational(2, 9)
    for h in hypers:
        pool = _domains.generic_values(dom[h]) if h in dom else []
        env[h] = pool[0] if pool else sp.Rational(1, 2)
    for t in far[:3]:
        point = {**env, STEP: sp.Integer(t)}
        side_a = all(is_defined(sp.sympify(e).xreplace(point)) is not False for e in a.update.values())
        side_b = all(is_defined(sp.sympify(e).xreplace(point)) is not False for e in b.update.values())
        if side_a != side_b:
            return int(t)
    return None


def replay_sweep(a: Dynamics, b: Dynamics, phi_theta, dom: dict, sample=None, where=()) -> tuple | None:
    """After a proof: replays at special hyperparameters and gradients (:data:`SWEEP_SEQUENCES`). Returns
    ``(status, detail, counterexample)`` when they differ (refuted if certified, unproved if the difference
    could not be certified), else None."""
    hypers = sorted(a.hyperparameters() | b.hyperparameters() | (sp.sympify(phi_theta).free_symbols
                                                                  - set(a.state) - {STEP}), key=lambda s: s.name)
    dom = {**dom, **_domains.resolve([h for h in hypers if h not in dom], [a.domains, b.domains])}
    long_random = tuple(sp.Rational(random.Random(1).randint(-20, 20), 4) for _ in range(48))
    singular = singular_values(a, b, phi_theta, hypers, dom)
    far = _far_singularity(a, b, phi_theta, singular, dom)
    if far is not None:
        return UNPROVED, (f"one map is undefined at `t = {far}` and the other is not, a step no replay reaches: the "
                          f"symbolic proof is not trusted"), None
    steered = singular.sequences(long_random)
    cex, unconfirmed = _search(a, b, sp.sympify(phi_theta), hypers, dom, sample, where,
                               lambda: iter(SWEEP_SEQUENCES + (long_random,) + steered), budget=10,
                               seconds=SWEEP_SECONDS, extra_points=singular.hypers)
    if cex:
        return REFUTED, (f"at `t = {cex['step']}` {a.name} gives {code(cex[a.name])}, {b.name} gives "
                         f"{code(cex[b.name])} (hyperparameters {code(cex['hyperparameters'])}, gradients "
                         f"{code(cex['gradients'])}; {cex['certified by']})"), cex
    if unconfirmed:
        values, grads, t = unconfirmed
        return UNPROVED, (f"a 40-digit replay differs at `t = {t}` (hyperparameters {code(values)}, gradients "
                          f"{code(list(map(str, grads)))}) and the difference could not be certified"), None
    return None


def counterexample_step(a: Dynamics, b: Dynamics, phi_theta=PARAM, sample: dict | None = None,
                        steps: int | None = None, combos: int = 16, *, where=(), domains=None,
                        seconds: float = SEARCH_SECONDS) -> Step:
    r"""Search rational hyperparameters (the defaults first) and gradients for the first step where
    :math:`\theta_B \ne \Phi_\theta(s_A)`: screened at adaptive depth (``steps`` caps it), confirmed exactly or by
    enclosures; found → ``REFUTED`` with both values, else ``UNPROVED``. ``seconds``: CPU time of the search."""
    a, b, unified = unify_hyperparameters(a, b, {PARAM: phi_theta})
    phi_theta = exact(unified[PARAM])
    hypers = sorted(a.hyperparameters() | b.hyperparameters() | (phi_theta.free_symbols - set(a.state) - {STEP}),
                    key=lambda s: s.name)
    where = tuple(exact(w) for w in where)

    def check():
        dom = _domains.resolve(hypers, [a.domains, b.domains, _domains.as_mapping(domains)])
        singular = singular_values(a, b, phi_theta, hypers, dom)
        steered = singular.sequences(GRADIENT_SEQUENCES[0])

        def sequences():
            for s in (*_sequences(), *steered):
                yield s[:steps] if steps else s

        cex, unconfirmed = _search(a, b, phi_theta, hypers, dom, sample, where, sequences, combos, seconds,
                                   extra_points=singular.hypers)
        if cex:
            return (REFUTED, f"first difference at `t = {cex['step']}`: {a.name} gives {code(cex[a.name])} "
                             f"(≈{cex['floats'][0]:.6g}), {b.name} gives {code(cex[b.name])} "
                             f"(≈{cex['floats'][1]:.6g}); {cex['certified by']}", cex)
        if unconfirmed:
            values, grads, t = unconfirmed
            return UNPROVED, (f"a 40-digit replay differs at `t = {t}` (hyperparameters {code(values)}), but the "
                              f"difference could not be certified")
        return UNPROVED, "no counterexample found in the searched replays"

    return guarded("counterexample", f"exact replay {a.name} vs {b.name}",
                   f"\\exists g_{{1..T}}:\\ \\theta_B \\ne {tex(phi_theta)}", check)


def equivalent(a: Dynamics, b: Dynamics, phi: dict | None = None, *, assume: dict | None = None,
               unroll: int = 0, unroll_fix: dict | None = None, sample: dict | None = None, where=(),
               domains=None) -> list[Step]:
    r"""Steps proving (or refuting) that A and B have the same trajectory under :math:`\Phi` (default:
    identity on B's state names), for every gradient sequence and every hyperparameter value in the domains
    (``where``: hypotheses on the Piecewise tests, e.g. ``[Ne(rho_t, 5)]``). If the invariant is not proved, an
    exact counterexample is searched. A short screen (:data:`PRESCREEN_SECONDS`, the first
    :data:`PRESCREEN_POINTS` hyperparameter points, 8 steps) runs first: a certified divergence there refutes the
    claim without the invariant's (then useless) attempt."""
    try:
        return _equivalent(a, b, phi, assume=assume, unroll=unroll, unroll_fix=unroll_fix, sample=sample,
                           where=where, domains=domains)
    except Exception as exc:  # noqa: BLE001 - no exception leaves the public API: unproved, with why
        return [Step("equivalence", f"{getattr(a, 'name', a)} ≡ {getattr(b, 'name', b)}", "", UNPROVED,
                     f"{type(exc).__name__}: {code(exc)}")]


def _equivalent(a, b, phi, *, assume, unroll, unroll_fix, sample, where, domains) -> list[Step]:
    a, b, phi = unify_hyperparameters(a, b, dict(phi or {}))
    screen = counterexample_step(a, b, phi.get(PARAM, PARAM), sample, steps=LONG, combos=PRESCREEN_POINTS,
                                 where=where, domains=domains, seconds=PRESCREEN_SECONDS)
    if screen.status == REFUTED:
        return [screen]
    proof = invariant_step(a, b, phi, assume, where=where, sample=sample, domains=domains)
    if proof.status == PROVED:
        steps = [proof]
        if unroll:
            steps.append(unrolling_step(a, b, phi, unroll, unroll_fix))
        return steps
    if proof.status == REFUTED:  # the sweep overturned the symbolic proof: its replay is the counterexample
        return [proof]
    refutation = counterexample_step(a, b, phi.get(PARAM, PARAM), sample, where=where, domains=domains)
    if refutation.status == REFUTED:
        proof.status, proof.detail = CHECKED, "invariant not provable (expected: the forms differ): " + proof.detail
    return [proof, refutation]


def necessary_hyper_conditions(a: Dynamics, b: Dynamics, unknown: sp.Symbol, expected, k: int = 2) -> Step:
    r"""'Only if': unroll k steps with symbolic gradients and require :math:`\theta_A = \theta_B` coefficient by
    coefficient in :math:`g_1..g_k`; the solution for ``unknown`` must be exactly ``expected`` (and ``expected``
    must satisfy every coefficient equation)."""
    expected = exact(expected)

    def check():
        gs = sp.symbols(f"g1:{k + 1}", real=True)
        ta, tb = a.simulate(PARAM, gs, {}), b.simulate(PARAM, gs, {})
        equations = []
        for xa, xb in zip(ta, tb):
            poly = sp.Poly(sp.expand(xa[PARAM] - xb[PARAM]), *gs, PARAM)
            equations += [c for c in poly.coeffs() if c != 0]
        if not equations:
            return UNPROVED, "the trajectories agree for every value: no condition to derive"
        solutions = sp.solve(equations, unknown, dict=True)
        if not all(prove_zero(e.xreplace({unknown: expected})) for e in equations):
            return UNPROVED, f"{code(sp.Eq(unknown, expected))} does not satisfy the coefficient equations"
        if len(solutions) == 1 and prove_zero(solutions[0][unknown] - expected):
            # SymPy's solution is a candidate: the kernel shows that the equations force it
            forced = kernel.decide("=", unknown, expected, _domains.resolve(
                set().union(*(e.free_symbols for e in equations)) | expected.free_symbols | {unknown}, [a.domains,
                                                                                                      b.domains]),
                hypotheses=[sp.Eq(e, 0) for e in equations])
            if forced.proved:
                return PROVED, (f"{kernel.CERTIFICATE_DECISION}: the coefficient equations force "
                                f"{code(sp.Eq(unknown, solutions[0][unknown]))}")
            return UNPROVED, f"SymPy's only solution {code(solutions[0])} is not shown forced ({forced.reason})"
        return UNPROVED, f"solutions {code(solutions)}"

    return guarded("equivalence", f"necessity of {unknown} = {expected}",
                   f"\\theta_A \\equiv \\theta_B\\ \\forall g \\Rightarrow {tex(unknown)} = {tex(expected)}", check)
