r"""The derivation engine: steps with an explicit kind, each checked under a hard timeout.

A :class:`Claim` is a named chain of :class:`Step` results produced by the check functions below
(:func:`identity`, :func:`substitution`, :func:`approximation`, :func:`limit`, :func:`bound`,
:func:`monotone_bound`, :func:`cases`, :func:`induction`, :func:`conclude`, …; spec-vs-spec equivalence lives in
:mod:`derive.equivalence`). The soundness policy (docs/derivations.md) in short:

* a step is ``proved`` only by SymPy reducing its statement to a tautology, and every such success is followed
  by a falsification sweep (:mod:`derive.falsify`) that can only downgrade it;
* a step is ``refuted`` only by an exact counterexample (rational values, exact arithmetic or certified
  enclosures);
* a step SymPy cannot decide is ``unproved``; numeric evidence is ``checked`` (never a proof), a definition is
  ``defined`` (proves nothing), a ``conclude`` without a mechanically checked rule is ``argued``;
* a claim with no proving step is ``unproved``.

Inputs pass through :func:`derive.exact.exact` (a decimal literal is the rational of its decimal text) and
domains come from :mod:`derive.domains` (per step, per claim, per spec; never per symbol across specs).
"""
from __future__ import annotations

import functools
import itertools
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import sympy as sp

from optiforge import specs
from optiforge.specs import STEP

from . import domains as _domains
from .exact import compare, defined, evaluate, exact
from .falsify import falsify
from .inference import InferenceError, Statement
from .inference import derive as _derive_by_rule
from .timing import CheckTimeout, time_limit
from . import kernel
from .sums import RangeMax, expand_sums, is_nonnegative, normalize, ranged

# --- statuses -----------------------------------------------------------------------------------------
PROVED = "proved"
APPROXIMATION = "approximation proved"
REFUTED = "refuted"
UNPROVED = "unproved"
CHECKED = "checked"  # supporting numeric / bounded evidence: never a proof
INCONCLUSIVE = "inconclusive"  # supporting evidence that could not be obtained: neither proof nor refutation
ARGUED = "argued"  # an inference that is stated but not checked mechanically: never reported as proved
DEFINED = "defined"  # a definition: introduces notation, proves nothing
PROVING = (PROVED, APPROXIMATION)

HOLDS, FAILS, ARGUES = "holds", "refuted", "argued"  # what a claim asserts about itself

#: Per-step hard limit (seconds).
STEP_TIMEOUT = 20.0
#: Hard limit for a whole claim, including work done outside its steps (building expressions, ``solve``).
CLAIM_TIMEOUT = 60.0
#: Points tried when searching a counterexample to a statement SymPy could not prove.
REFUTE_POINTS = 120


@dataclass
class Step:
    """One checked step: ``kind`` (identity, substitution, approximation, …), a LaTeX statement, a status.

    ``statement`` is what the step proved (for :func:`conclude`'s rules); ``downgraded`` is set when the
    falsification sweep overturned a symbolic "proof"."""

    kind: str
    title: str
    latex: str
    status: str
    detail: str = ""
    counterexample: dict | None = None
    seconds: float = 0.0
    statement: Statement | None = None
    downgraded: bool = False
    #: the domains the statement was checked on ({symbol: Set}); ``conclude`` requires them to cover its own
    domain: dict | None = None


def guarded(kind: str, title: str, latex, check: Callable[[], tuple], timeout: float = STEP_TIMEOUT,
            statement=None) -> Step:
    """Run ``check() -> (status, detail[, counterexample[, downgraded]])`` under the timeout; any error becomes
    ``unproved`` with its reason (no exception leaves a step). ``latex`` and ``statement`` may be callables,
    evaluated under the same guard (reading the inputs can fail too)."""
    start = time.perf_counter()
    try:
        if callable(statement):
            statement = statement()
        if callable(latex):
            latex = latex()
    except Exception as exc:  # noqa: BLE001 - bad input: the step says so
        return Step(kind, title, "", UNPROVED, f"{type(exc).__name__}: {code(exc)}", seconds=time.perf_counter() - start)
    try:
        with time_limit(timeout):
            status, detail, *rest = check()
    except CheckTimeout as exc:
        status, detail, rest = UNPROVED, str(exc), []
    except Exception as exc:  # a SymPy failure is "could not prove", never a pass
        status, detail, rest = UNPROVED, f"{type(exc).__name__}: {code(exc)}", []
    return Step(kind, title, latex, status, detail, rest[0] if rest else None, time.perf_counter() - start,
                statement, bool(rest[1]) if len(rest) > 1 else False)


def never_raises(kind: str):
    """Decorator for the public step kinds: an exception (bad input, a SymPy failure outside the guarded check)
    becomes an ``unproved`` step with the reason; the step's checked domain is recorded (:attr:`Step.domain`)."""
    def wrap(function):
        @functools.wraps(function)
        def step(title, *args, **kwargs):
            start = time.perf_counter()
            try:
                return function(title, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                return Step(kind, str(title), "", UNPROVED, f"{type(exc).__name__}: {code(exc)}",
                            seconds=time.perf_counter() - start)
        return step
    return wrap


def _record_domain(step: Step, exprs, domains, exclude=()) -> Step:
    """Set ``step.domain`` to the domains of the statement's symbols (those in ``exclude`` are bound)."""
    try:
        step.domain = {k: v for k, v in _resolve([e for e in exprs if isinstance(e, sp.Basic)], domains).items()
                       if k not in exclude}
    except Exception:  # noqa: BLE001 - unknown domain: conclude then trusts the scope
        step.domain = None
    return step


def code(expr, limit: int = 200) -> str:
    """SymPy text as a Markdown code span (never bare: ``-g*lr`` would become emphasis)."""
    text = sp.sstr(expr) if isinstance(expr, sp.Basic) else str(expr)
    text = text if len(text) <= limit else text[:limit] + " …"
    return "`" + text.replace("`", "'") + "`"


def _where(point: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in point.items())


# --- the kernel's zero test -----------------------------------------------------------------------------
def prove_zero(expr: sp.Expr, domains: dict | None = None, **_) -> bool:
    """True iff the kernel (:mod:`derive.kernel`) proves ``expr`` defined and equal to 0 on the domain (the
    declared ``domains`` met with the scope's and the symbols' assumptions)."""
    expr = sp.sympify(expr)
    return kernel.prove_zero(expr, _resolve([expr], domains))


def prove_equal(lhs, rhs, domains: dict | None = None, **kw) -> bool:
    """True iff the kernel proves ``lhs`` and ``rhs`` defined at the same points of the domain and equal there."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    return kernel.prove_equal(lhs, rhs, _resolve([lhs, rhs], domains), **kw)


def conventional_value(expr):
    from .exact import conventional
    return conventional(expr)


def sample_values(symbol: sp.Symbol, sample: dict | None = None, domains=None) -> list:
    """Exact test values for a symbol: the claim's own list, or generic then special values of its domain
    (assumptions ∩ the scope's and the given domains)."""
    if sample and symbol in sample:
        return [exact(v) for v in sample[symbol]]
    domain = _domains.resolve([symbol], domains)[symbol]
    values = _domains.generic_values(domain) + _domains.special_values(domain)
    return list(dict.fromkeys(values))


def _resolve(exprs, domains) -> dict:
    symbols = set()
    for e in exprs:
        symbols |= sp.sympify(e).free_symbols
    return _domains.resolve(symbols, domains)


def _exact_sample(sample: dict | None) -> dict | None:
    return {k: [exact(v) for v in vs] for k, vs in sample.items()} if sample else None


def _within(within: dict | None) -> tuple:
    return tuple((i, sp.sympify(a), sp.sympify(b)) for i, (a, b) in sorted((within or {}).items(),
                                                                            key=lambda kv: kv[0].name))


_LATEX_NAMES: dict = {}


def tex(expr) -> str:
    """LaTeX with the specs' own symbol names (``momentum`` → :math:`\\alpha`, ``eps`` → :math:`\\epsilon`)."""
    if not isinstance(expr, sp.Basic):
        return str(expr)
    if not _LATEX_NAMES:
        for spec in reversed(specs.all_specs()):  # first spec wins on a shared name
            _LATEX_NAMES.update({k: v for k, v in spec.latex_names().items() if isinstance(k, sp.Symbol)})
    names = {s: _LATEX_NAMES[s] for s in expr.free_symbols if s in _LATEX_NAMES}
    return sp.latex(expr, symbol_names=names)


# --- settling equations and inequalities ------------------------------------------------------------------
def _downgrade(finding, proof: str) -> tuple:
    return (REFUTED, f"falsification sweep overturned SymPy's proof ({proof}): {finding.reason} at "
                     f"{finding.where()}: lhs = {code(finding.lhs)}, rhs = {code(finding.rhs)}",
            finding.counterexample(), True)


def _refutation(finding) -> tuple:
    return (REFUTED, f"{finding.reason} at {finding.where()}: lhs = {code(finding.lhs)}, rhs = {code(finding.rhs)}",
            finding.counterexample())


def _confirmed(verdict, relation, lhs, rhs, domains, hypotheses=()):
    """The kernel's model of the negation as a :class:`~derive.falsify.Finding`, if it lies in every declared
    domain, satisfies the hypotheses and fails the statement in exact arithmetic; else None."""
    from .falsify import Finding, failure_at
    point = verdict.model
    symbols = set().union(*(sp.sympify(e).free_symbols for e in (lhs, rhs)))
    if verdict.status != "counterexample" or not symbols <= set(point):
        return None
    point = {s: point[s] for s in sorted(symbols, key=lambda v: v.name)}
    if not all(_domains.contains(domains.get(s, _domains.assumption_domain(s)), v) for s, v in point.items()):
        return None
    if any(sp.sympify(h).xreplace(point) is not sp.true for h in hypotheses):
        return None
    try:
        with time_limit(2.0):
            finding = failure_at(relation, lhs, rhs, point, {})
    except (CheckTimeout, ZeroDivisionError, TypeError, ValueError, RecursionError):
        return None
    return finding if isinstance(finding, Finding) else None


def settle(relation: str, lhs, rhs, domains: dict, *, sample=None, within=None, hypotheses=(),
           refute: bool = True) -> tuple:
    """The common tail of every equation / inequality step: the kernel decides the statement (a proof is its
    certificate); otherwise the kernel's model of the negation, then a sweep of exact points, are re-checked
    exactly for a counterexample inside the domains; otherwise ``unproved``."""
    hypotheses = tuple(hypotheses) + tuple(c for j, (a, b) in (within or {}).items() for c in (sp.Ge(j, a), sp.Le(j, b)))
    verdict = kernel.decide(relation, lhs, rhs, domains, hypotheses=hypotheses)
    if verdict.proved:
        return PROVED, f"{kernel.CERTIFICATE_DECISION}: {verdict.reason}"
    if not refute:
        return UNPROVED, f"not shown: {verdict.reason}"
    finding = _confirmed(verdict, relation, lhs, rhs, domains, hypotheses)
    count = 1 if finding else 0
    if not finding:
        finding, count = falsify(relation, lhs, rhs, domains, sample=sample, within=within, budget=REFUTE_POINTS)
    if finding:
        return _refutation(finding)
    return UNPROVED, f"the kernel did not decide it ({verdict.reason}); no counterexample at {count} exact points"


def _checked_sample(sample: dict | None, domains: dict) -> dict | None:
    """``sample`` values, exact, each inside its symbol's domain (ValueError naming the first that is not)."""
    sample = _exact_sample(sample)
    for symbol, values in (sample or {}).items():
        domain = domains.get(symbol, _domains.assumption_domain(symbol)) if isinstance(symbol, sp.Symbol) else None
        for v in values:
            if domain is not None and not _domains.contains(domain, v):
                raise ValueError(f"sample value {symbol} = {v} lies outside the domain {domain} of {symbol}")
    return sample


def _checked_within(ranges: tuple) -> tuple:
    for j, a, b in ranges:
        if not (isinstance(j, sp.Symbol) and j.is_integer):
            raise ValueError(f"within= index {j} must be an integer symbol (declare it with integer=True)")
    return ranges


# --- step kinds -----------------------------------------------------------------------------------------
@never_raises("identity")
def identity(title: str, lhs, rhs, *, sample: dict | None = None, domains=None, kind: str = "identity",
             within: dict | None = None) -> Step:
    r"""Prove :math:`\mathrm{lhs} = \mathrm{rhs}` with the kernel (both sides defined at the same points of the
    domain and equal there), or refute it at an exact point of the domain; otherwise ``unproved``.
    ``within={j: (a, b)}`` states :math:`a \le j \le b` for an integer index."""
    def check():
        lhs_, rhs_ = exact(lhs), exact(rhs)
        ranges = _checked_within(_within(within))
        dom = _resolve([lhs_, rhs_] + [sp.Tuple(a, b) for _, a, b in ranges], domains)
        dom.update({j: _domains.assumption_domain(j) for j, _, _ in ranges})
        sample_ = _checked_sample(sample, dom)
        return settle("=", lhs_, rhs_, dom, sample=sample_, within={j: (a, b) for j, a, b in ranges} or None)

    step = guarded(kind, title, lambda: Statement("=", exact(lhs), exact(rhs), within=_within(within)).latex(tex),
                   check, statement=lambda: Statement("=", exact(lhs), exact(rhs), within=_within(within)))
    return _record_domain(step, [exact(lhs), exact(rhs)], domains)


@never_raises("substitution")
def substitution(title: str, expr, replacements: dict, result, *, sample: dict | None = None, domains=None) -> Step:
    r"""Replace symbols by their definitions in ``expr``; the result must equal ``result`` exactly."""
    expr = exact(expr)
    replacements = {exact(k): exact(v) for k, v in replacements.items()}
    defs = ", ".join(f"{tex(k)} \\mapsto {tex(v)}" for k, v in replacements.items())
    step = identity(title, expr.subs(replacements), result, sample=sample, domains=domains, kind="substitution")
    step.latex = f"\\left.{tex(expr)}\\right|_{{{defs}}} = {tex(exact(result))}"
    return step


@never_raises("definition")
def definition(title: str, symbol, value) -> Step:
    """A definition: introduces notation, proves nothing (status ``defined``; a claim of definitions and
    evidence alone is ``unproved``)."""
    return Step("definition", title, f"{tex(exact(symbol))} := {tex(exact(value))}", DEFINED,
                "definition (notation only)")


# --- limits ---------------------------------------------------------------------------------------------
#: Time a single SymPy ``limit`` call may take inside a limit step before the step gives up on it.
LIMIT_CALL_TIMEOUT = 8.0


class OneSidedLimitsDiffer(ValueError):
    """A two-sided limit that does not exist: the one-sided limits are parameter-free and differ."""

    def __init__(self, left, right):
        super().__init__(f"from the left {left}, from the right {right}")
        self.left, self.right = left, right


def _sympy_limit(expr, var, point, direction):
    r"""SymPy's ``limit``; at a finite point, ``"+-"`` is two-sided: both one-sided limits are computed (SymPy's
    default is the right one: :math:`\lim_{x\to 0} \lfloor x\rfloor` would be 0) and must agree; one-sided
    limits that are numbers and differ raise :class:`OneSidedLimitsDiffer`, others that are not shown equal give
    None."""
    if point not in (sp.oo, -sp.oo) and direction == "+-":
        right = _sympy_limit(expr, var, point, "+")
        left = _sympy_limit(expr, var, point, "-") if right is not None else None
        if right is None or left is None:
            return None
        if right == left or (not right.has(sp.oo, -sp.oo, sp.zoo) and not left.has(sp.oo, -sp.oo, sp.zoo)
                             and sp.simplify(right - left) == 0):
            return right
        if left.is_number and right.is_number and not left.free_symbols and not right.free_symbols \
                and (left.has(sp.oo, -sp.oo, sp.zoo) or right.has(sp.oo, -sp.oo, sp.zoo)
                     or compare(left, right) == "differ"):
            raise OneSidedLimitsDiffer(left, right)
        return None
    kwargs = {} if point in (sp.oo, -sp.oo) else {"dir": direction}
    with time_limit(LIMIT_CALL_TIMEOUT):
        value = sp.limit(sp.expand(expr), var, point, **kwargs)
    if isinstance(value, sp.Limit) or value.has(sp.AccumBounds, sp.nan) or value.has(sp.Limit):
        return None
    return value


def _continuous_limit(expr, var, point, direction):
    r"""The limit by continuity where it applies (:math:`\lim F(u_1, u_2) = F(\lim u_1, \lim u_2)` for
    :math:`F` continuous there: sums and products of finite limits, powers with a positive base, Max, Min, Abs,
    exp, log of a positive limit, sign of a nonzero one); other nodes go to SymPy's ``limit``, smaller and faster
    than the whole expression (the direct limit of RAdam's :math:`r_t` times out; through ``Max`` it raises)."""
    expr = sp.sympify(expr)
    if var not in expr.free_symbols:
        return expr
    if expr == var:
        return sp.sympify(point)

    def sub(e):  # a part without a limit says nothing about the whole (x·⌊x⌋ → 0): SymPy then takes the node
        try:
            return _continuous_limit(e, var, point, direction)
        except OneSidedLimitsDiffer:
            return None

    def finite(l):  # generic parameters: finite unless SymPy knows otherwise
        return l is not None and not l.has(sp.oo, -sp.oo, sp.zoo, sp.nan) and l.is_finite is not False

    if isinstance(expr, (sp.Add, sp.Mul, sp.Max, sp.Min, sp.Abs, sp.exp)):
        limits = [sub(a) for a in expr.args]
        if all(finite(l) for l in limits):
            return expr.func(*limits)
    elif isinstance(expr, sp.Pow):
        base, power = sub(expr.base), sub(expr.exp)
        if finite(base) and finite(power):
            constant_exponent = var not in expr.exp.free_symbols
            # a parameter-dependent denominator counts as nonzero unless it is identically 0: the generic
            # reading of parameters that SymPy's own limit makes (the numeric screen then checks sample values)
            nonzero = base.is_zero is False or (base.is_zero is None and sp.simplify(base) != 0)
            if base.is_positive or (constant_exponent and power.is_Integer and (power > 0 or nonzero)) \
                    or (constant_exponent and power.is_positive and base.is_nonnegative):
                return base ** power
    elif isinstance(expr, sp.log):
        arg = sub(expr.args[0])
        if finite(arg) and arg.is_positive:
            return sp.log(arg)
    elif isinstance(expr, sp.sign):
        arg = sub(expr.args[0])
        if finite(arg) and arg.is_zero is False:
            return sp.sign(arg)
    return _sympy_limit(expr, var, point, direction)


def _unit_interval_cases(expr, var, point, domains: dict):
    r"""For :math:`t \to \infty`, a base :math:`\beta \in [0, 1)` of a power :math:`\beta^{f(t)}` is split into the
    cases :math:`\beta = 0` (if allowed) and :math:`\beta = e^{-k}`, :math:`k > 0` (a bijection onto
    :math:`(0, 1)`), the form gruntz can decide. Yields ``(description, substitution)``."""
    if point not in (sp.oo, -sp.oo):
        yield "", {}
        return
    bases = sorted({p.base for p in expr.atoms(sp.Pow) if p.base in _domains.unit_interval_bases(domains)
                    and var in p.exp.free_symbols}, key=lambda s: s.name)
    if not bases:
        yield "", {}
        return
    options = []
    for b in bases:
        k = sp.Symbol(f"k_{b.name}", positive=True)
        choices = [(f"{b} = e^(-{k})", {b: sp.exp(-k)})]
        if _domains.contains(domains[b], 0):
            choices.append((f"{b} = 0", {b: sp.Integer(0)}))
        options.append(choices)
    import itertools
    for combo in itertools.product(*options):
        yield "; ".join(c[0] for c in combo), {k: v for c in combo for k, v in c[1].items()}


def _limit_disagrees(expr, expected, var, point, direction, domains, sample) -> str | None:
    """Numeric screen of a proved limit (mpmath, 50 digits): at a few parameter points of the domain, far
    along the approach, the distance to the claimed value neither is small nor shrinks. Downgrades to
    ``unproved`` only (a finite evaluation cannot refute a limit)."""
    import mpmath
    from sympy.core.function import AppliedUndef
    if expr.has(AppliedUndef) or ranged(expr):
        return None
    params = sorted((expr.free_symbols | sp.sympify(expected).free_symbols) - {var}, key=lambda s: s.name)
    if point == sp.oo:
        approaches = [[sp.Integer(10)**3, sp.Integer(10)**6, sp.Integer(10)**12]]
    elif point == -sp.oo:
        approaches = [[-sp.Integer(10)**3, -sp.Integer(10)**6, -sp.Integer(10)**12]]
    else:  # a two-sided limit is screened from both sides
        sides = {"+": (1,), "-": (-1,)}.get(direction, (1, -1))
        approaches = [[point + side * sp.Rational(1, 10**k) for k in (4, 8, 12)] for side in sides]
    try:
        f = sp.lambdify([var, *params], expr, modules=["mpmath"])
        c = sp.lambdify(params, expected, modules=["mpmath"])
    except Exception:  # noqa: BLE001 - nothing to screen with
        return None
    resolved = _domains.resolve(params, domains)
    checked = 0
    with mpmath.workdps(50):
        for k in range(4):
            values = []
            for j, s in enumerate(params):
                pool = (sample or {}).get(s) or _domains.generic_values(resolved[s])
                if not pool:
                    return None
                values.append(pool[(j + k) % len(pool)])
            try:
                target = c(*[mpmath.mpf(sp.Rational(v).p) / sp.Rational(v).q if v.is_Rational else mpmath.mpf(float(v))
                             for v in values])
                args = [mpmath.mpf(v.p) / v.q if v.is_Rational else mpmath.mpf(float(v)) for v in values]
            except (ZeroDivisionError, TypeError, ValueError, OverflowError):
                continue
            for approach in approaches:
                try:
                    distances = [abs(f(mpmath.mpf(x.p) / x.q, *args) - target) for x in approach]
                except (ZeroDivisionError, TypeError, ValueError, OverflowError):
                    continue
                if any(not mpmath.isfinite(d) or isinstance(d, mpmath.mpc) for d in distances):
                    continue
                checked += 1
                scale = 1 + abs(target)
                if all(d > 1e-6 * scale for d in distances) and distances[-1] > distances[0] / 2:
                    point_text = ", ".join(f"{s} = {v}" for s, v in zip(params, values))
                    return (f"numeric screen disagrees: at {code(point_text) if point_text else 'the claim'}, the "
                            f"distance to the claimed value is {code(mpmath.nstr(distances[-1], 5))} at "
                            f"{code(f'{var} = {approach[-1]}')}")
    return None


#: Parameter values at which a proved limit is recomputed, and the time each recomputation may take.
SPECIAL_LIMIT_POINTS, SPECIAL_LIMIT_SECONDS = 8, 2.0


def _parameter_special_points(expr, var, params, dom) -> list:
    r"""``(symbol, value)`` pairs where a limit in ``var`` may change form: 0, ±1 and the ends of each
    parameter's domain, and the roots (in one parameter) of the coefficients of ``var`` in the numerator and
    denominator of ``expr`` and of its critical subexpressions (:math:`1/(1 + a t)` changes at :math:`a = 0`)."""
    from .falsify import real_roots, critical_expressions
    pairs = []
    for s in params:
        pairs += [(s, v) for v in _domains.special_values(dom[s])[:4]]
    pieces = [sp.numer(sp.together(expr)), sp.denom(sp.together(expr))] + critical_expressions([expr], limit=8)
    for piece in pieces:
        try:
            coefficients = sp.Poly(piece, var).coeffs() if piece.is_polynomial(var) else []
        except (sp.PolynomialError, sp.GeneratorsNeeded):
            coefficients = []
        for c in coefficients:
            for s in sorted(c.free_symbols & set(params), key=lambda v: v.name):
                others = {o: _domains.generic_values(dom[o])[0] for o in c.free_symbols - {s}
                          if _domains.generic_values(dom[o])}
                pairs += [(s, r) for r in real_roots(c.xreplace(others), s, dom[s])]
    unique = []
    for pair in pairs:
        if pair not in unique:
            unique.append(pair)
    return unique


def _concrete_limit_differs(expr, expected, var, point, direction, at: dict):
    """``(limit, claimed)`` if the limit of ``expr`` with the parameters ``at`` substituted is a number (or ±∞)
    that provably differs from ``expected`` there; None otherwise (including: not computable in time)."""
    target = exact(expected).xreplace(at)
    try:
        with time_limit(SPECIAL_LIMIT_SECONDS):
            value = _continuous_limit(expr.xreplace(at), var, point, direction)
            if value is None or value.free_symbols or not value.is_number:
                return None
            if target.free_symbols or not target.is_number:
                return None
            if value in (sp.oo, -sp.oo) or target in (sp.oo, -sp.oo):
                return (value, target) if value != target and defined(target) is not False else None
            if defined(value) is not True:
                return None  # SymPy's own placeholder (nan, AccumBounds, exp(oo·sign(…))): no value to compare
            if defined(target) is False:
                return value, target  # a finite limit, an undefined claimed value
            return (value, target) if compare(value, target) == "differ" else None
    except (CheckTimeout, TypeError, ValueError, NotImplementedError, ZeroDivisionError, AttributeError):
        return None


def _limit_refutation(expr, expected, var, point, direction, dom, sample) -> tuple | None:
    r"""A refutation of ``lim expr = expected`` for every parameter value: the limit computed at concrete
    parameters (a generic point, singular and special points of the domain) differs from the claimed value
    there. A generic limit is never evaluated at a point: :math:`a\,e^{\infty\cdot\operatorname{sign}(\log(1-a))}`
    says nothing at :math:`a = 0`."""
    from .falsify import points
    params = sorted((expr.free_symbols | expected.free_symbols) - {var}, key=lambda s: s.name)
    where = _resolve([expr, expected], dom)
    candidates = list(points([expr, expected], where, sample=sample, budget=8)) if params else [{}]
    for at in candidates:
        at = {k: v for k, v in at.items() if k != var}
        found = _concrete_limit_differs(expr, expected, var, point, direction, at)
        if found:
            value, target = found
            place = f" at {code(', '.join(f'{k} = {v}' for k, v in at.items()))}" if at else ""
            return (REFUTED, f"limit is {code(value)}, not {code(target)}{place}",
                    {"limit": str(value), "claimed": str(target), **({"point": {str(k): str(v) for k, v in at.items()}}
                                                                   if at else {})})
    return None


def _limit_at_special_parameters(expr, expected, var, point, direction, dom):
    """A limit proved for generic parameters is recomputed with one parameter at a time set to a special value
    of its domain (SymPy's ``limit`` reads parameters generically: it gives 0 for :math:`1/(1 + a t)`, wrong at
    :math:`a = 0`). A limit that provably differs from the claimed value there refutes; one that cannot be
    computed there says nothing."""
    params = sorted((expr.free_symbols | expected.free_symbols) - {var}, key=lambda s: s.name)
    if not params or ranged(expr):
        return None
    for s, v in _parameter_special_points(expr, var, params, dom)[:SPECIAL_LIMIT_POINTS * len(params)]:
        others = {o: _domains.generic_values(dom[o])[0] for o in params if o != s and _domains.generic_values(dom[o])}
        for at in ({s: v}, {**others, s: v}):  # the others kept symbolic, then at a generic point
            found = _concrete_limit_differs(expr, expected, var, point, direction, at) if len(at) == len(params) \
                else _symbolic_limit_differs(expr, expected, var, point, direction, at, dom)
            if found:
                value, target = found
                where = ", ".join(f"{k} = {w}" for k, w in at.items())
                return (REFUTED, f"at {code(where)} the limit is {code(value)}, not {code(target)} (SymPy's limit "
                                 f"for generic parameters does not hold there)",
                        {"parameter": {str(k): str(w) for k, w in at.items()}, "limit": str(value),
                         "claimed": str(target)}, True)
    return None


def _symbolic_limit_differs(expr, expected, var, point, direction, at, dom):
    """As :func:`_concrete_limit_differs`, with other parameters left symbolic: the difference must be a nonzero
    number (a difference that still depends on them is decided at concrete points only)."""
    target = exact(expected).xreplace(at)
    try:
        with time_limit(SPECIAL_LIMIT_SECONDS):
            value = _continuous_limit(expr.xreplace(at), var, point, direction)
            if value is None or value.has(sp.oo, -sp.oo, sp.zoo, sp.nan, sp.AccumBounds, sp.sign) \
                    or target.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
                return None
            difference = sp.simplify(value - target)
            if difference.is_number and defined(difference) and compare(difference, 0) == "differ":
                return value, target
    except (CheckTimeout, TypeError, ValueError, NotImplementedError, ZeroDivisionError, AttributeError):
        return None
    return None


def _side_conditions(expr, var, domains: dict) -> str | None:
    r"""The parameter side conditions of a limit, made explicit: every subterm free of ``var`` (a constant of
    the limit, e.g. :math:`1/(\rho_\infty - 4)`) must be defined on the parameters' domain, shown by the
    kernel; a parameter value where one is undefined makes the limit's statement meaningless there. Returns why
    not, or None."""
    nodes = [n for n in sp.preorder_traversal(expr) if isinstance(n, sp.Expr) and n.free_symbols
             and var not in n.free_symbols and not n.is_Atom]
    outer = [n for n in nodes if not any(n is not m and m.has(n) for m in nodes)]
    for n in sorted(set(outer), key=sp.default_sort_key):
        verdict = kernel.prove_defined(n, _resolve([n], domains))
        if not verdict.proved:
            where = f" (e.g. at {code(', '.join(f'{k} = {v}' for k, v in verdict.model.items()))})" \
                if verdict.model else ""
            return f"side condition not shown: {code(n)} defined on the parameters' domain{where}"
    return None


def _approach(var, point, direction: str, domains: dict) -> str:
    r"""The side from which ``var`` can reach a finite ``point`` inside its domain: a two-sided limit at the left
    end of the domain (:math:`x \to 0` for :math:`x \in [0, 1]`) is the right one."""
    domain = domains.get(var, _domains.assumption_domain(var))
    if direction != "+-" or point in (sp.oo, -sp.oo) or not isinstance(domain, sp.Interval):
        return direction
    if (domain.inf - point).is_nonnegative:
        return "+"
    if (point - domain.sup).is_nonnegative:
        return "-"
    return direction


@never_raises("limit")
def limit(title: str, expr, var, point, expected, *, direction: str = "+-", sample: dict | None = None,
          domains=None) -> Step:
    r"""Compute :math:`\lim_{var\to point} expr` (by continuity where it applies, else SymPy's ``limit``; for
    :math:`t \to \infty` a base :math:`\beta \in [0, 1)` is split into :math:`\beta = 0` and
    :math:`\beta = e^{-k}`) and compare it with ``expected`` exactly. A proved limit is screened numerically."""
    expr, expected, point, sample = exact(expr), exact(expected), exact(point), _exact_sample(sample)
    statement = Statement("limit", expr, expected, var=var, point=point)

    def check():
        dom = _resolve([expr, expected], domains)
        direction_ = _approach(var, point, direction, dom)
        values = []
        for description, case in _unit_interval_cases(expr, var, point, dom):
            try:
                value = _continuous_limit(expr.xreplace(case), var, point, direction_)
            except OneSidedLimitsDiffer as exc:
                return (REFUTED, f"the limit does not exist: {exc}"
                                 f"{' (' + code(description) + ')' if description else ''}",
                        {"left": str(exc.left), "right": str(exc.right)})
            if value is None:
                return UNPROVED, f"SymPy could not compute the limit{' for ' + code(description) if description else ''}"
            target = expected.xreplace(case)
            if not prove_zero(value - target, dom):
                found = _limit_refutation(expr.xreplace(case), target, var, point, direction_, dom, sample)
                if found:
                    status, detail, cex = found
                    return status, detail + (f" ({code(description)})" if description else ""), \
                        {**cex, **({"case": description} if description else {})}
                return UNPROVED, f"limit {code(value)} not shown equal to {code(target)}"
            values.append((description, value))
        special = _limit_at_special_parameters(expr, expected, var, point, direction_, dom)
        if special:
            return special
        missing = _side_conditions(expr, var, dom)
        if missing:
            return UNPROVED, f"SymPy's limit agrees, but {missing}"
        disagreement = _limit_disagrees(expr, expected, var, point, direction_, dom, sample)
        if disagreement:
            return UNPROVED, f"SymPy's limit {code(values[0][1])} is contradicted by a {disagreement}", None, True
        cases_text = "; ".join(f"{code(d)}: {code(v)}" for d, v in values if d) or code(values[0][1])
        return PROVED, f"limit = {cases_text}"

    step = guarded("limit", title, statement.latex(tex), check, statement=statement)
    return _record_domain(step, [expr, expected], domains, exclude=(var,))


@never_raises("approximation")
def approximation(title: str, exact_value, approx, var, point, *, relative: bool = True, rewrite: dict | None = None,
                  sample: dict | None = None, domains=None) -> Step:
    r"""``exact ≈ approx``: states the error term (relative by default) and proves it → 0 as ``var → point``.

    ``rewrite`` re-expresses symbols for gruntz (e.g. :math:`\beta = e^{-k}`); it is part of the statement.
    """
    exact_value, approx, sample = exact(exact_value), exact(approx), _exact_sample(sample)
    error = sp.simplify(exact_value / approx - 1 if relative else exact_value - approx)
    gruntz_form = error.subs(rewrite or {})

    def check():
        dom = _resolve([gruntz_form], domains)
        side = _approach(var, point, "+-", dom)
        try:
            value = _continuous_limit(gruntz_form, var, point, side)
        except OneSidedLimitsDiffer as exc:
            return (REFUTED, f"the error {code(error)} has no limit: {exc}",
                    {"left": str(exc.left), "right": str(exc.right)})
        if value is None:
            return UNPROVED, f"SymPy could not evaluate the limit of the error {code(error)}"
        if prove_zero(value, dom):
            special = _limit_at_special_parameters(gruntz_form, sp.Integer(0), var, point, side, dom)
            if special:
                return special
            missing = _side_conditions(gruntz_form, var, dom)
            if missing:
                return UNPROVED, f"SymPy's limit of the error is 0, but {missing}"
            disagreement = _limit_disagrees(gruntz_form, sp.Integer(0), var, point, side, dom, sample)
            if disagreement:
                return UNPROVED, f"SymPy's limit 0 of the error is contradicted by a {disagreement}", None, True
            return APPROXIMATION, f"error term {code(error)} → 0"
        found = _limit_refutation(gruntz_form, sp.Integer(0), var, point, side, dom, sample)
        if found:
            status, detail, cex = found
            return REFUTED, f"error term {code(error)}: {detail}", {"error_limit": cex["limit"], **cex}
        return UNPROVED, f"error limit {code(value)} not shown to be 0"

    kind_of_error = "relative error" if relative else "error"
    latex = (f"{tex(exact_value)} \\approx {tex(approx)};\\quad \\text{{{kind_of_error}}}\\ {tex(error)} "
             f"\\xrightarrow[{tex(var)} \\to {tex(point)}]{{}} 0")
    return guarded("approximation", title, latex, check,
                   statement=Statement("approximation", exact_value, approx, var=var, point=point))


# --- bounds ---------------------------------------------------------------------------------------------
def _term_of_range(lhs, rhs, within: tuple, domains: dict) -> str | None:
    r"""Structural facts about a term :math:`f(j)` with :math:`a \le j \le b` (a hypothesis of the step):
    :math:`f(j) \le \max_{i=a}^{b} f(i)` (definition of the range maximum) and, for :math:`f \ge 0` on the range,
    :math:`f(j) \le \sum_{i=a}^{b} f(i)`."""
    rhs = sp.sympify(rhs)
    if not isinstance(rhs, (RangeMax, sp.Sum)) or len(rhs.limits) != 1:
        return None
    index, low, high = rhs.limits[0]
    for j, a, b in within:
        if a != low or b != high or not _same_expr(rhs.function.xreplace({index: j}), lhs):
            continue
        if isinstance(rhs, RangeMax):
            return "a term of its range is ≤ the range maximum"
        i = sp.Dummy("i", integer=True)
        if kernel.prove_relation("<=", sp.Integer(0), rhs.function.xreplace({index: i}), domains,
                                 hypotheses=(sp.Ge(i, low), sp.Le(i, high))):
            return "a term of a sum of terms ≥ 0 (on its range) is ≤ the sum"
    return None


def _same_expr(a, b) -> bool:
    return sp.sympify(a) == sp.sympify(b) or prove_equal(a, b)


def _checked_assume(assume: dict, domains: dict) -> None:
    r"""Each ``assume`` substitution :math:`v \mapsto e` states a hypothesis that must stay inside :math:`v`'s
    domain: the kernel must show that :math:`e` lies in it for every value of its own symbols (in their
    domains). ValueError naming it otherwise."""
    for v, e in assume.items():
        if not isinstance(v, sp.Symbol):
            raise ValueError(f"assume= key {v} is not a symbol")
        domain = domains.get(v, _domains.assumption_domain(v))
        if domain == sp.Reals:
            continue
        e = sp.sympify(e)
        inside = kernel.satisfiable_region(domain.as_relational(v).xreplace({v: e}), _resolve([e], None))
        if not inside.proved:
            raise ValueError(f"assume= {v} -> {e} is not shown to stay inside the domain {domain} of {v} "
                             f"({inside.reason})")


@never_raises("bound")
def bound(title: str, lhs, rhs, *, assume: dict | None = None, witness=None, sample: dict | None = None,
          domains=None, within: dict | None = None, strict: bool = False) -> Step:
    r"""Prove :math:`\mathrm{lhs} \le \mathrm{rhs}` (``strict``: :math:`<`) with the kernel: both sides defined on
    the domain and the inequality holds there (``within={j: (a, b)}`` states :math:`a \le j \le b` for an
    integer index; a term of a range is ≤ its range maximum by definition). ``assume`` substitutions must cover
    their symbol's domain; ``witness`` is a hint only. An exact point of the domain with lhs > rhs refutes."""
    relation = "<" if strict else "<="

    def statement():
        assume_ = {exact(k): exact(v) for k, v in (assume or {}).items()}
        return Statement(relation, exact(lhs).subs(assume_), exact(rhs).subs(assume_), within=_within(within))

    def check():
        assume_ = {exact(k): exact(v) for k, v in (assume or {}).items()}
        lhs_, rhs_ = exact(lhs), exact(rhs)
        ranges = _checked_within(_within(within))
        before = _resolve([lhs_, rhs_], domains)
        _checked_assume(assume_, before)
        lhs_, rhs_ = lhs_.subs(assume_), rhs_.subs(assume_)
        dom = _resolve([lhs_, rhs_] + [sp.Tuple(a, b) for _, a, b in ranges], domains)
        dom.update({j: _domains.assumption_domain(j) for j, _, _ in ranges})
        sample_ = _checked_sample(sample, dom)
        if not strict:
            structural = _term_of_range(lhs_, rhs_, ranges, dom)
            ranged_ = [c for j, a, b in ranges for c in (sp.Ge(j, a), sp.Le(j, b))]
            if structural and kernel.prove_defined(lhs_, dom, hypotheses=ranged_).proved:
                return PROVED, structural
        return settle(relation, lhs_, rhs_, dom, sample=sample_, within={j: (a, b) for j, a, b in ranges} or None)

    step = guarded("bound", title, lambda: statement().latex(tex) if not strict else
                   f"{tex(statement().lhs)} < {tex(statement().rhs)}", check, statement=statement)
    return _record_domain(step, [step.statement.lhs, step.statement.rhs] if step.statement else [], domains)


#: Nodes through which a function may jump: a sign of its derivative shows nothing across their switch points.
_JUMPS = (sp.Piecewise, sp.sign, sp.Heaviside, sp.floor, sp.ceiling, sp.frac, sp.Mod)


def _continuity_gap(f, var, start, dom) -> str | None:
    r"""Why :math:`f` is not shown continuous on :math:`(x_0, \infty)`, or None. Without jump nodes
    (:data:`_JUMPS`) in ``var`` it is (where finite); otherwise each switch point (a Piecewise test, the argument
    of sign/Heaviside) must be found exactly, without parameters, and there both one-sided limits must equal the
    value (:math:`\operatorname{Piecewise}((-x, x < 1), (1 - x, \top))` has :math:`f' = -1` and jumps up at 1)."""
    nodes = [n for n in sp.preorder_traversal(f) if isinstance(n, _JUMPS) and var in n.free_symbols]
    if not nodes:
        return None
    if any(isinstance(n, (sp.floor, sp.ceiling, sp.frac, sp.Mod)) for n in nodes):
        return f"f jumps wherever an integer part in it does ({code(f)})"
    switches = []
    for n in nodes:
        if isinstance(n, sp.Piecewise):
            for _, condition in n.args:
                switches += [r.lhs - r.rhs for r in sp.sympify(condition).atoms(sp.core.relational.Relational)]
        else:
            switches.append(n.args[0])
    where = sp.Interval.open(start, sp.oo)
    for e in switches:
        if var not in e.free_symbols:
            continue
        if e.free_symbols != {var} or start.free_symbols:
            return f"the switch point of {code(e)} depends on parameters: continuity of f not shown"
        try:
            with time_limit(2.0):
                roots = sp.solveset(e, var, where)
        except (CheckTimeout, NotImplementedError, TypeError, ValueError):
            return f"the switch points of {code(e)} not found: continuity of f not shown"
        if not isinstance(roots, sp.FiniteSet):
            return f"the switch points of {code(e)} not found: continuity of f not shown"
        for r in roots:
            value = f.xreplace({var: r})
            for side in (-1, 1):
                # x = r ± δ, δ > 0 decides the tests next to r (SymPy's limit of a Piecewise reads its value at r)
                delta = sp.Dummy("delta", positive=True)
                near = f.xreplace({var: r + side * delta})
                try:
                    one_sided = None if any(n.has(delta) for n in near.atoms(*_JUMPS)) \
                        else _continuous_limit(near, delta, 0, "+")
                except ValueError:
                    one_sided = None
                if one_sided is None or defined(value) is not True or not prove_zero(one_sided - value, dom):
                    return f"f is not shown continuous at {code(var)} = {code(r)} (a switch of {code(e)})"
    return None


@never_raises("monotonicity")
def monotone(title: str, f, var, start, *, increasing: bool = False, sample: dict | None = None,
             domains=None) -> Step:
    r"""Prove that :math:`x \mapsto f(x)` is nonincreasing (``increasing=True``: nondecreasing) on
    :math:`[x_0, \infty)`, whatever the declared domain of :math:`x`: with :math:`x = x_0 + d`, :math:`d > 0`,
    SymPy must show the sign of :math:`f'` and that :math:`f` is finite there, and :math:`f` must be
    right-continuous at :math:`x_0`. Swept at exact points :math:`x \ge x_0`."""
    f, start, sample = exact(f), exact(start), _exact_sample(sample)
    direction = "nondecreasing" if increasing else "nonincreasing"
    statement = Statement("monotone", f, None, var=var, point=start, direction=direction)

    def check():
        dom = _resolve([f, start], domains)
        d = sp.Dummy("d", positive=True)
        moved = f.xreplace({var: start + d})
        derivative = sp.diff(f, var).xreplace({var: start + d})
        on_right = {**dom, d: sp.Interval.open(0, sp.oo)}
        signed = kernel.decide("<=" if increasing else ">=", sp.Integer(0), derivative, on_right)
        shown = derivative if signed.proved else None
        at_start = f.xreplace({var: start})
        shifted = {**dom, d: sp.Interval.open(0, sp.oo)}
        earlier, later = (at_start, moved) if increasing else (moved, at_start)

        e = sp.Dummy("e", positive=True)  # two points x₀ + d < x₀ + d + e in the wrong order refute as well
        pair = (f.xreplace({var: start + d}), f.xreplace({var: start + d + e}))
        pair_earlier, pair_later = pair if increasing else pair[::-1]
        paired = {**shifted, e: sp.Interval.open(0, sp.oo)}

        def wrong_order(budget=None, pairs=True):
            finding, count = falsify("<=", earlier, later, shifted, sample=sample,
                                     **({"budget": budget} if budget else {}))
            if not finding and pairs:
                finding, more = falsify("<=", pair_earlier, pair_later, paired, sample=sample,
                                        **({"budget": budget} if budget else {}))
                count += more
            return finding, count

        def not_shown(why):  # f(x₀ + d) on the wrong side of f(x₀) refutes monotonicity on [x₀, ∞)
            finding, _ = wrong_order(REFUTE_POINTS)
            return _refutation(finding) if finding else (UNPROVED, why)

        if shown is None:
            return not_shown(f"sign of f' = {code(sp.simplify(derivative))} on ({code(start)}, ∞) not shown")
        if not kernel.prove_defined(moved, on_right).proved:
            return not_shown(f"f is not shown finite on ({code(start)}, ∞): {code(moved)}")
        jump = _continuity_gap(f, var, start, dom)
        if jump:
            return not_shown(jump)
        from_right = _continuous_limit(moved, d, 0, "+")
        if not kernel.prove_defined(at_start, dom).proved or from_right is None \
                or not prove_equal(from_right, at_start, dom):
            return not_shown(f"right-continuity of f at {code(start)} not shown")
        # after a proof, pairs are compared only where f can jump (elsewhere the sign of f′ settles them)
        finding, count = wrong_order(pairs=any(var in n.free_symbols for n in f.atoms(*_JUMPS)))
        if finding:
            return _downgrade(finding, f"f' = {code(sp.simplify(derivative))} has the sign shown")
        return (PROVED, f"f' = {code(sp.simplify(derivative))} ({'≥' if increasing else '≤'} 0 on ({start}, ∞)), "
                        f"f finite there and right-continuous at {code(start)}; sweep: {count} exact points")

    step = guarded("monotonicity", title, statement.latex(tex), check, statement=statement)
    return _record_domain(step, [f, start], domains, exclude=(var,))


@never_raises("bound")
def monotone_bound(title: str, f, var, start, *, sample: dict | None = None, domains=None) -> Step:
    r"""Prove :math:`f(x) \le f(x_0)` for every :math:`x \ge x_0` from :math:`f` nonincreasing on
    :math:`[x_0, \infty)` (:func:`monotone`; the start point and the domain where :math:`f' \le 0` is shown are
    the same interval by construction)."""
    step = monotone(title, f, var, start, increasing=False, sample=sample, domains=domains)
    f, start = exact(f), exact(start)
    at_start = f.xreplace({var: start})
    step.kind = "bound"
    step.latex = f"{tex(f)} \\le {tex(sp.simplify(at_start))}\\quad({tex(var)} \\ge {tex(start)})"
    if step.status == PROVED:
        step.detail += f"; f({start}) = {code(sp.simplify(at_start))}"
    return step


@never_raises("roots")
def roots_in(title: str, polynomial, var, low, high, count: int, *, closed: bool = False) -> Step:
    r"""Exactly ``count`` real roots of a polynomial with rational coefficients in :math:`(a, b)` (``closed``:
    :math:`[a, b]`), counted exactly by Sturm sequences (SymPy's ``count_roots``); the roots are isolated in
    rational intervals for the report. Any other count refutes."""
    polynomial, low, high = exact(polynomial), exact(low), exact(high)
    where = f"[{tex(low)}, {tex(high)}]" if closed else f"({tex(low)}, {tex(high)})"
    statement = Statement("roots", polynomial, sp.Integer(count), var=var, point=(low, high))

    def check():
        poly = sp.Poly(sp.expand(polynomial), var)
        if not poly.domain.is_QQ and not poly.domain.is_ZZ:
            return UNPROVED, f"not a polynomial with rational coefficients in {var}: {code(polynomial)}"
        found = poly.count_roots(low, high)
        if not closed:
            found -= int(poly.eval(low) == 0) + int(poly.eval(high) == 0)
        intervals = [(a, b) for (a, b), _ in poly.intervals(eps=sp.Rational(1, 10**8))
                     if (a >= low and b <= high)]
        isolated = ", ".join(code(f"[{float(a):.8g}, {float(b):.8g}]") for a, b in intervals)
        if found == count:
            return PROVED, f"{found} root(s) by Sturm's theorem{'; isolated in ' + isolated if isolated else ''}"
        return REFUTED, f"{found} root(s), not {count}", {"roots": found, "isolating intervals": isolated}

    return guarded("roots", title, "\\#\\{" + f"{tex(var)} \\in {where} : {tex(polynomial)} = 0" + "\\} = " + str(count), check,
                   statement=statement)


# --- case splits ----------------------------------------------------------------------------------------
_TRICHOTOMY = {">": ("P",), ">=": ("P", "Z"), "<": ("N",), "<=": ("N", "Z"), "==": ("Z",), "!=": ("P", "N")}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}


def _canonical(difference):
    """(E, sign) with E the primitive, sign-normalised form of ``difference`` (E·sign = difference/content)."""
    e = sp.expand(difference)
    _, e = e.as_content_primitive()
    if e.could_extract_minus_sign():
        return sp.expand(-e), -1
    return e, 1


def _relation_of_substitution(case: dict, original: set):
    r"""The condition a substitution case covers: :math:`v \mapsto e_0 + c\,d` with one fresh real parameter
    :math:`d` of known sign covers :math:`(v - e_0)/c \gtrless 0`; :math:`v \mapsto e_0` covers :math:`v = e_0`."""
    conditions = []
    for v, e in case.items():
        e = sp.sympify(e)
        fresh = e.free_symbols - original
        if not fresh:
            conditions.append(sp.Eq(v, e))
            continue
        if len(fresh) != 1:
            return None
        d = fresh.pop()
        if d.is_integer or not d.is_real:
            return None
        c = sp.diff(e, d)
        if d in c.free_symbols or not c.is_number or c == 0:
            return None
        e0 = e.xreplace({d: 0})
        x = (v - e0) / c
        if d.is_positive:
            conditions.append(sp.Gt(x, 0))
        elif d.is_nonnegative:
            conditions.append(sp.Ge(x, 0))
        elif d.is_negative:
            conditions.append(sp.Lt(x, 0))
        elif d.is_nonpositive:
            conditions.append(sp.Le(x, 0))
        else:
            return sp.true  # d ranges over all reals: no restriction
    return sp.And(*conditions)


def _substitution_of_condition(condition, original: set):
    """A substitution that encodes a relational case (one symbol solved linearly), or None."""
    if not isinstance(condition, sp.core.relational.Relational):
        return None
    difference = condition.lhs - condition.rhs
    for v in sorted(difference.free_symbols & original, key=lambda s: s.name):
        c = sp.diff(difference, v)
        if v in c.free_symbols or not c.is_number or c == 0:
            continue
        rest = difference - c * v
        op = condition.rel_op if c > 0 else _FLIP[condition.rel_op]
        assumptions = {">": {"positive": True}, ">=": {"nonnegative": True}, "<": {"negative": True},
                       "<=": {"nonpositive": True}}.get(op)
        if op == "==":
            return {v: -rest / c}
        if assumptions is None:
            return None
        d = sp.Dummy("d", real=True, **assumptions)
        return {v: (d - rest) / c}
    return None


def _exhaustive(conditions, domains: dict) -> bool:
    """Whether the cases cover every point: relational atoms are mapped to the trichotomy of their canonical
    difference (E > 0, E = 0, E < 0, exactly one holds), with signs known from the domains; then a SAT check."""
    atoms: dict = {}

    def atom(kind, e):
        key = (kind, e)
        if key not in atoms:
            atoms[key] = sp.Symbol(f"{kind}{len(atoms)}")
        return atoms[key]

    def translate(c):
        if c is sp.true or c is True:
            return sp.true
        if c is sp.false or c is False:
            return sp.false
        if isinstance(c, sp.core.relational.Relational):
            e, s = _canonical(c.lhs - c.rhs)
            op = c.rel_op if s > 0 else _FLIP[c.rel_op]
            return sp.Or(*[atom(k, e) for k in _TRICHOTOMY[op]])
        if isinstance(c, (sp.And, sp.Or, sp.Not)):
            return c.func(*[translate(a) for a in c.args])
        raise ValueError(f"unsupported case condition {c}")

    covered = sp.Or(*[translate(c) for c in conditions])
    constraints = []
    for e in {e for _, e in atoms}:
        p, z, n = atom("P", e), atom("Z", e), atom("N", e)
        constraints.append(sp.Or(p, z, n))
        constraints += [sp.Not(sp.And(p, z)), sp.Not(sp.And(p, n)), sp.Not(sp.And(z, n))]
        if e.is_positive:
            constraints.append(p)
        elif e.is_negative:
            constraints.append(n)
        elif e.is_nonnegative:
            constraints.append(sp.Not(n))
        elif e.is_nonpositive:
            constraints.append(sp.Not(p))
        elif e.is_zero is False:
            constraints.append(sp.Not(z))
    return not sp.logic.inference.satisfiable(sp.And(*constraints, sp.Not(covered)))


@never_raises("identity")
def cases(title: str, lhs, rhs, splits: Iterable, *, kind: str = "identity", sample: dict | None = None,
          domains=None) -> Step:
    r"""Prove ``lhs = rhs`` by a case split. Each case is a condition (``x >= y``), a substitution that encodes
    one (:math:`y \mapsto x - d`, :math:`d \ge 0` for :math:`x \ge y`), or a ``(condition, substitution)`` pair.
    The split must be shown exhaustive (every point of the domain is in some case), every case must simplify to
    0, and the statement is then swept (its boundaries, e.g. :math:`u = w`, are among the test points)."""
    lhs, rhs = exact(lhs), exact(rhs)
    splits = list(splits)
    statement = Statement("=", lhs, rhs)

    def check():
        original = lhs.free_symbols | rhs.free_symbols
        dom = _resolve([lhs, rhs], domains)
        sample_ = _checked_sample(sample, dom)
        conditions = []

        def not_shown(why):
            finding, _ = falsify("=", lhs, rhs, dom, sample=sample_, budget=REFUTE_POINTS)
            return _refutation(finding) if finding else (UNPROVED, why)

        for case in splits:
            if isinstance(case, tuple):  # the condition is the case; the substitution is a hint only
                condition = sp.sympify(case[0])
            elif isinstance(case, dict):
                condition = _relation_of_substitution({exact(k): exact(v) for k, v in case.items()}, original)
            else:
                condition = sp.sympify(case)
            if condition is None:
                return UNPROVED, f"cannot tell which part of the domain the case {code(case)} covers"
            conditions.append(condition)
        covering = kernel.satisfiable_region(sp.Or(*conditions), dom)
        if not covering.proved:
            return not_shown(f"the split {code(', '.join(map(str, conditions)))} is not shown to be exhaustive "
                             f"({covering.reason})")
        for condition in conditions:
            verdict = kernel.decide("=", lhs, rhs, dom, hypotheses=(condition,))
            if not verdict.proved:
                return not_shown(f"case {code(condition)} not shown ({verdict.reason})")
        _ = sample_
        return PROVED, (f"{kernel.CERTIFICATE_DECISION}: exhaustive split {code(' ∨ '.join(map(str, conditions)))} "
                        f"(shown by the kernel), every case decided by the kernel")

    return guarded(kind, title, statement.latex(tex), check, statement=statement)


# --- induction ------------------------------------------------------------------------------------------
#: Terms of the recurrence replayed exactly against the closed form (beyond the base), and one far term.
INDUCTION_TERMS, INDUCTION_FAR = 10, 24


def _induction_sweep(closed_form, recurrence, base_value, base_at, n, domains, sample):
    """Replay the recurrence from the base and compare with the closed form at n = base … base + 12 and at a far
    term, at a few exact points, undefined functions replaced by concrete sequences."""
    from .falsify import points, sequences_for, undefined_functions
    previous = sp.Dummy("previous")
    exprs = [closed_form, sp.sympify(base_value), recurrence(previous, n)]
    functions = undefined_functions(exprs)
    sequences = {f: sequences_for(f) for f in functions}
    params = {s: domains[s] for s in domains if s != n}
    terms = list(range(int(base_at), int(base_at) + INDUCTION_TERMS + 1)) + [int(base_at) + INDUCTION_FAR]
    # ``previous`` at a generic nonzero value: 0 would hide the hyperparameters multiplying it (β·u_{n−1})
    probes = [e.xreplace({n: sp.Integer(base_at + 1), previous: sp.Rational(7, 3)}) for e in exprs]
    hyper_points = list(points(probes, params, sample=sample, budget=4))
    runs = [(point, {f: seq[(k + shift) % len(seq)] for f, seq in sequences.items()})
            for shift in range(2 if sequences else 1) for k, point in enumerate(hyper_points)]
    for point, assignment in runs:
        value = evaluate(base_value, point, assignment)
        for m in range(int(base_at), terms[-1] + 1):
            if m > int(base_at):
                value = evaluate(recurrence(value, sp.Integer(m)), point, assignment)
            if m not in terms:
                continue
            closed = evaluate(closed_form.xreplace({n: sp.Integer(m)}), point, assignment)
            dv, dc = defined(value), defined(closed)
            if dv is None or dc is None or (not dv and not dc):
                break
            if dv != dc or compare(value, closed) == "differ":
                from .falsify import Finding
                return Finding({**point, n: sp.Integer(m)}, assignment, closed, value,
                               "the closed form differs from the recurrence")
    return None


def _step_sweep(closed_form, recurrence, base_at, n, domains, sample):
    r"""The induction step :math:`c(n) = F(c(n-1), n)` swept as an identity over the integers :math:`n > n_0`
    (its singular points solved exactly: a recurrence undefined at :math:`n = 40` is found at 40, not only by a
    replay that stops at :math:`n_0 + 24`). A failure at some :math:`n` refutes the claim: were the closed form
    right at :math:`n - 1` and at :math:`n`, the step would hold there."""
    m = sp.Dummy("n", integer=True)
    lhs = closed_form.xreplace({n: m})
    rhs = recurrence(closed_form.xreplace({n: m - 1}), m)
    where = {**{s: d for s, d in domains.items() if s != n},
             **_resolve([lhs, rhs], {s: d for s, d in domains.items() if s != n})}
    where[m] = sp.Range(int(base_at) + 1, sp.oo).intersect(_domains.assumption_domain(n)) \
        if sp.sympify(base_at).is_Integer else sp.Range(1, sp.oo)
    finding, _ = falsify("=", lhs, rhs, where, sample=sample)
    if finding:
        finding.point = {(n if k == m else k): v for k, v in finding.point.items()}
        finding.reason = f"the induction step fails ({finding.reason})"
    return finding


@never_raises("induction")
def induction(title: str, closed_form, recurrence: Callable, base_value, *, base_at=0, n=STEP,
              sample: dict | None = None, domains=None) -> Step:
    r"""Closed form of a recurrence: base case :math:`c(n_0) = x_{n_0}` and step :math:`c(n) = F(c(n-1), n)` for
    symbolic :math:`n > n_0`; both must simplify to 0 (finite sums and range maxima in normal form). The proof is
    then swept by replaying the recurrence exactly for :math:`n \le n_0 + 12` and at :math:`n_0 + 40`."""
    closed_form, base_value, base_at = exact(closed_form), exact(base_value), exact(base_at)
    statement = Statement("closed form", closed_form, base_value, var=n, point=base_at)

    def check():
        previous = sp.Dummy("previous")  # the recurrence's hyperparameters need domains too (β in βu_{n−1})
        dom = _resolve([closed_form, base_value, recurrence(previous, n)], domains)
        dom.pop(previous, None)
        dom[n] = _domains.assumption_domain(n)
        if not (sp.sympify(base_at).is_Integer and isinstance(n, sp.Symbol) and n.is_integer):
            return UNPROVED, f"induction needs an integer variable and an integer base (got {n}, {base_at})"
        sample_ = _checked_sample(sample, dom)
        at_base = conventional_value(closed_form.xreplace({n: base_at}))
        base = kernel.decide("=", at_base, base_value, _resolve([at_base, base_value], dom))
        if base.proved and not kernel.prove_defined(at_base, _resolve([at_base], dom)).proved:
            base = kernel.Verdict("unknown", "the closed form is not shown defined at the base")
        if not base.proved:
            finding = _confirmed(base, "=", at_base, base_value, dom)
            if not finding:
                finding, _ = falsify("=", at_base, base_value, _resolve([at_base, base_value], dom), sample=sample_,
                                     budget=REFUTE_POINTS)
            return (REFUTED, f"base case fails at {finding.where()}: {code(finding.lhs)} ≠ {code(finding.rhs)}",
                    finding.counterexample()) if finding else (UNPROVED, f"base case not shown ({base.reason})")
        m = sp.Dummy("m", integer=True)  # n > n₀: m ∈ {n₀ + 1, n₀ + 2, …}
        later, earlier = closed_form.xreplace({n: m}), recurrence(closed_form.xreplace({n: m - 1}), m)
        where = {**{s: d for s, d in dom.items() if s != n}, m: sp.Range(int(base_at) + 1, sp.oo)}
        where = {**where, **_resolve([later, earlier], where)}
        step = kernel.decide("=", later, earlier, where)
        if step.proved:  # the recurrence's values are numbers: the closed form must be defined at every n > n₀
            defined_later = kernel.prove_defined(later, where)
            if not defined_later.proved:
                step = kernel.Verdict(defined_later.status, f"the closed form is not shown defined for every "
                                      f"{n} > {base_at} ({defined_later.reason})", defined_later.model)
        if step.proved:
            return PROVED, f"{kernel.CERTIFICATE_DECISION}: base case and induction step ({step.reason})"
        finding = _induction_sweep(closed_form, recurrence, base_value, base_at, n, dom, sample_) \
            or _step_sweep(closed_form, recurrence, base_at, n, dom, sample_)
        if finding:
            return _refutation(finding)
        return UNPROVED, f"induction step not shown ({step.reason})"

    latex = (f"x_{{{tex(n)}}} = {tex(closed_form)}\\quad(\\text{{base }} {tex(n)}={tex(base_at)}, "
             f"\\text{{step }} {tex(n)}-1 \\to {tex(n)})")
    return guarded("induction", title, latex, check, statement=statement)


# --- conclusions, evidence, combination -------------------------------------------------------------------
def _uncovered(premises: list, conclusion_domain: dict) -> str | None:
    """A premise whose checked domain does not contain the conclusion's (for a symbol they share), or None."""
    for p in premises:
        for symbol, domain in (p.domain or {}).items():
            wanted = conclusion_domain.get(symbol)
            if wanted is None:
                continue
            if wanted.is_subset(domain) is not True:
                return (f"step {p.title!r} holds for {symbol} in {domain}, the conclusion is asked for {symbol} in "
                        f"{wanted}")
    return None


def conclude(title: str, latex: str | None, premises: list[Step], kind: str = "bound", *, rule: str | None = None,
             over: tuple | None = None, domains=None) -> Step:
    r"""A conclusion from earlier steps. With ``rule`` (``chain``, ``squeeze``, ``monotone``, ``termwise``,
    ``max_le``; see :mod:`derive.inference`) the inference is checked mechanically and the conclusion shown is the
    one derived from the premises (``proved`` only if every premise is, and every premise's domain covers the
    conclusion's: the ``domains`` given here met with the scope's). Without a rule the inference is not
    checked: the step is ``argued``, which is never reported as proved."""
    start = time.perf_counter()
    try:
        names = ", ".join(p.title for p in premises)
        if rule is None:
            return Step(kind, title, latex or "", ARGUED,
                        f"argued, not checked: the inference from steps {names} is not verified mechanically")
        pending = [p.title for p in premises if p.status != PROVED]
        if pending:  # the conclusion is still derived where the rule applies (later steps read it), unproved
            try:
                with time_limit(STEP_TIMEOUT):
                    statement, _ = _derive_by_rule(rule, premises, over=over, domains={})
            except Exception:  # noqa: BLE001 - nothing to show
                statement = None
            return Step(kind, title, statement.latex(tex) if statement else latex or "", UNPROVED,
                        f"premises not proved: {', '.join(pending)}", seconds=time.perf_counter() - start,
                        statement=statement)
        exprs = [e for p in premises if p.statement is not None for e in (p.statement.lhs, p.statement.rhs)
                 if isinstance(e, sp.Basic)]
        dom = _resolve(exprs, domains)
        with time_limit(STEP_TIMEOUT):
            statement, how = _derive_by_rule(rule, premises, over=over, domains=dom)
            concluded = _resolve([e for e in (statement.lhs, statement.rhs) if isinstance(e, sp.Basic)], domains)
            gap = _uncovered(premises, {**dom, **concluded})
        if gap:
            return Step(kind, title, statement.latex(tex), UNPROVED, f"the premises' domains do not cover the "
                        f"conclusion's: {gap}", seconds=time.perf_counter() - start)
        step = Step(kind, title, statement.latex(tex), PROVED, f"{how} (rule {rule!r}, from steps {names})",
                    seconds=time.perf_counter() - start, statement=statement)
        step.domain = {s: d for s, d in concluded.items()}
        return step
    except (InferenceError, CheckTimeout) as exc:
        return Step(kind, title, latex or "", UNPROVED, f"rule {rule!r} does not apply: {exc}",
                    seconds=time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - no exception leaves a step
        return Step(kind, title, latex if isinstance(latex, str) else "", UNPROVED,
                    f"{type(exc).__name__}: {code(exc)}", seconds=time.perf_counter() - start)


@never_raises("numeric check")
def numeric(title: str, function: Callable[[], tuple]) -> Step:
    """A numeric sanity check: status ``checked`` or ``refuted`` (a ``proved`` it returns is read as ``checked``);
    never counts as a proof."""
    step = guarded("numeric check", title, title, function)
    if step.status in PROVING:
        step.status = CHECKED
    return step


def combine(steps: list[Step]) -> str:
    """Status of a derivation: refuted if any step is refuted; else unproved if any step is, or if no step proves
    anything (definitions and evidence prove nothing); else argued if an inference is argued; else
    approximation if any step is an approximation; else proved."""
    statuses = [s.status for s in steps]
    if REFUTED in statuses:
        return REFUTED
    if UNPROVED in statuses or not any(s in PROVING for s in statuses):
        return UNPROVED
    if ARGUED in statuses:
        return ARGUED
    return APPROXIMATION if APPROXIMATION in statuses else PROVED


# --- claims ---------------------------------------------------------------------------------------------
_SPEC_DOMAINS: dict = {}


def _claim_domains(names: frozenset) -> dict:
    """The hyperparameter domains of the named specs, met in their intersection (cached per set of names)."""
    if names not in _SPEC_DOMAINS:
        registry = {s.name: s for s in specs.all_specs()}
        _SPEC_DOMAINS[names] = _domains.as_mapping([registry[n] for n in sorted(names) if n in registry])
    return _SPEC_DOMAINS[names]


@dataclass
class Claim:
    """A named derivation: ``build()`` returns its checked steps. ``expected`` is :data:`HOLDS`, :data:`FAILS` or
    :data:`ARGUES` (an argument whose last inference is not checked mechanically); ``sources`` cites the seed
    file and formula. While it runs, the domains of the specs it is about (declared ``specs`` and the specs it
    reads) and its own ``domains`` apply to every step."""

    name: str
    title: str
    kind: str
    expected: str
    sources: str
    build: Callable[[], list[Step]]
    tags: tuple[str, ...] = ()
    note: str = ""
    #: specs the claim is about, declared (e.g. when a module looks them up at import time, which records
    #: nothing); unioned with the specs recorded while the claim runs
    specs: tuple[str, ...] = ()
    domains: dict = field(default_factory=dict)

    def run(self) -> "ClaimResult":
        start = time.perf_counter()
        with specs.recording() as used:
            declared = set(self.specs)
            with _domains.scope(lambda: _claim_domains(frozenset(used | declared))), _domains.scope(self.domains):
                try:
                    with time_limit(CLAIM_TIMEOUT):
                        steps = self.build()
                except CheckTimeout as exc:  # a timeout outside a guarded step
                    steps = [Step(self.kind, self.title, "", UNPROVED, str(exc))]
                except Exception as exc:  # noqa: BLE001 - a failure while building the claim: unproved, with why
                    steps = [Step(self.kind, self.title, "", UNPROVED,
                                  f"building the claim failed: {type(exc).__name__}: {code(exc)}")]
        status = combine(steps)
        return ClaimResult(self, steps, status, time.perf_counter() - start,
                           specs=tuple(sorted(set(used) | set(self.specs))))


@dataclass
class ClaimResult:
    claim: Claim
    steps: list[Step]
    status: str
    seconds: float
    extra: dict = field(default_factory=dict)
    #: names of the specs the claim read (``specs.get`` calls during the run)
    specs: tuple[str, ...] = ()

    @property
    def as_expected(self) -> bool:
        if self.claim.expected == HOLDS:
            return self.status in PROVING
        if self.claim.expected == ARGUES:
            return self.status == ARGUED
        return self.status == REFUTED

    @property
    def downgraded(self) -> list[Step]:
        """Steps whose symbolic "proof" the falsification sweep overturned."""
        return [s for s in self.steps if s.downgraded]

    @property
    def verdict(self) -> str:
        """proved / approximation proved / argued / refuted as expected / unproved / unexpectedly refuted / …"""
        if self.status == UNPROVED:
            return UNPROVED
        if self.claim.expected == FAILS:
            return "refuted as expected" if self.status == REFUTED else f"unexpectedly {self.status}"
        if self.status == ARGUED:
            return ARGUED if self.claim.expected == ARGUES else "argued (not proved)"
        return self.status if self.status != REFUTED else "unexpectedly refuted"


class ClaimList(list):
    """A module's ``CLAIMS``: ``@CLAIMS.claim(...)`` turns a function returning steps into a :class:`Claim`."""

    def claim(self, name: str, title: str, kind: str, sources: str, expected: str = HOLDS, tags=(), note: str = "",
              specs=(), domains=None):
        """``specs``: names of the specs the claim is about (unioned with those it reads while running);
        ``domains``: extra ``{symbol: Set}`` that hold for the whole claim."""
        if isinstance(specs, str):
            specs = (specs,)
        def register(build):
            self.append(Claim(name, title, kind, expected, sources, build, tuple(tags), note, tuple(specs),
                              dict(domains or {})))
            return build
        return register
