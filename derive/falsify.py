r"""The falsification sweep: exact evaluation of a statement at the points where symbolic proofs go wrong.

Every symbolic success is followed by a sweep; it can only downgrade (a point where the statement fails turns
``proved`` into ``refuted``, and the step says that SymPy's proof was wrong there). It also drives the search for
counterexamples when no proof was found. The points, per symbol and within its domain (:mod:`derive.domains`):

* a generic point (3/7, 5/3, …: no coincidences), then each symbol in turn at its special values: 0, ±1, the
  domain's endpoints, just inside open ends, 2, 1/2, 1000, 1/1000, …; the step ``t`` at 1…8, 10, 12, 16, 50, 100
  and 1000;
* coincidences: all symbols at 0, at 1, at −1, …;
* singular points: where a denominator, a logarithm's or root's argument, the argument of ``sign``/``Abs``, the gap
  between two arguments of ``Max``/``Min`` vanishes, or a ``Piecewise`` condition switches (solved exactly for one
  symbol at a time, the others generic);
* for an inequality, one point in each interval where rhs − lhs keeps its sign (between its real roots, and
  beyond the outermost ones);
* seeded random combinations of the above.

Undefined functions (``g(i)``) are replaced by concrete sequences consistent with their assumptions. A value is
exact (:mod:`derive.exact`): sums are conventional (empty = 0). At a point where one side is a finite real number
and the other is undefined (0/0, division by 0, √ of a negative number), the statement fails as well: θ − ηg/|g| is
not θ − η·sign(g) at g = 0.
"""
from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from . import domains as _domains
from .exact import compare, defined, evaluate, sign_of
from .sums import ranged
from .timing import CheckTimeout, time_limit

__all__ = ["Finding", "points", "falsify", "critical_expressions", "sequences_for", "undefined_functions",
           "SWEEP_POINTS", "SWEEP_SECONDS"]

#: Points tried by a sweep after a symbolic success, and the time it may take (whichever ends first).
SWEEP_POINTS = 90
SWEEP_SECONDS = 1.0
#: Time one point may take (a sum to t = 1000 of algebraic terms is skipped, not waited for).
POINT_SECONDS = 0.25
#: In statements with finite sums or range maxima, integer symbols are tested up to this value.
RANGED_LARGEST = 50


@dataclass
class Finding:
    """A point where a statement fails: the exact values of both sides there and why."""

    point: dict
    functions: dict
    lhs: object
    rhs: object
    reason: str
    extra: dict = field(default_factory=dict)

    def where(self) -> str:
        parts = [f"{k} = {v}" for k, v in self.point.items()]
        parts += [f"{f} = ({_sequence_text(l)})" for f, l in self.functions.items()]
        return "`" + ", ".join(parts) + "`"

    def counterexample(self) -> dict:
        return {"point": {str(k): str(v) for k, v in self.point.items()},
                **({"functions": {str(f): _sequence_text(l) for f, l in self.functions.items()}}
                   if self.functions else {}),
                "lhs": str(self.lhs), "rhs": str(self.rhs), **self.extra}


def _sequence_text(l: sp.Lambda) -> str:
    return f"{', '.join(map(str, l.variables))} ↦ {l.expr}"


def undefined_functions(exprs) -> list:
    found = set()
    for e in exprs:
        found |= {a.func for a in sp.sympify(e).atoms(AppliedUndef)}
    return sorted(found, key=lambda f: str(f))


def sequences_for(function) -> list:
    """Concrete exact sequences for an undefined function, consistent with its assumptions."""
    arity = next(iter(function.nargs)) if function.nargs and function.nargs != sp.S.Naturals0 else 1
    n = sp.symbols(f"n0:{arity}", integer=True)
    x = sum(n)
    probe = function(*[sp.Dummy() for _ in range(arity)])
    if probe.is_positive:
        bodies = [sp.Integer(1), 1 / (x**2 + 1), x**2 + 1, sp.Rational(3, 2) + (-1)**x / 2, sp.Integer(1000)]
    elif probe.is_nonnegative:
        bodies = [sp.Integer(1), sp.Integer(0), sp.Abs(x - 2), 1 / (x**2 + 1), x**2]
    else:
        bodies = [sp.Integer(1), sp.Integer(0), (-1)**x, x - 2, 1 / (x**2 + 1), (2 * x - 5) / 3, -x**2]
    return [sp.Lambda(n, b) for b in bodies]


def critical_expressions(exprs, limit: int = 16) -> list:
    """Subexpressions whose zeros are special: denominators, arguments of roots, logs, sign/Abs, gaps of
    Max/Min arguments, the two sides of every relational (Piecewise conditions)."""
    found: list = []

    def add(c):
        c = sp.sympify(c)
        if c.free_symbols and not c.has(AppliedUndef) and c not in found and -c not in found:
            found.append(c)

    for e in exprs:
        for node in sp.preorder_traversal(sp.sympify(e)):
            if len(found) >= limit:
                return found
            if isinstance(node, sp.Pow) and (node.exp.is_negative or not node.exp.is_integer):
                add(node.base)
            elif isinstance(node, (sp.log, sp.Abs, sp.sign, sp.Heaviside)):
                add(node.args[0])
            elif isinstance(node, (sp.Max, sp.Min)):
                for a, b in itertools.islice(itertools.combinations(node.args, 2), 3):
                    add(a - b)
            elif isinstance(node, sp.core.relational.Relational):
                add(node.lhs - node.rhs)
    return found


#: Time spent solving one critical expression for one symbol (factoring, ``roots``, ``solve``).
ROOT_SECONDS = 0.3


def real_roots(expr, symbol, domain, transcendental: bool = True) -> list:
    """Exact real roots of a univariate expression inside ``domain``: every factor of its numerator is solved on
    its own, a polynomial factor of any degree SymPy can solve in radicals (x⁴ − 2), another factor by ``solve``
    (2 sin x − 1 → π/6, 5π/6; skipped unless ``transcendental``: ``solve`` costs a tenth of a second even where
    it finds nothing); each factor within :data:`ROOT_SECONDS`. For an integer symbol, the integers next to each
    root."""
    try:
        with time_limit(ROOT_SECONDS * 2):
            numerator = sp.numer(sp.together(expr))
            if symbol not in numerator.free_symbols or numerator.free_symbols != {symbol}:
                return []
            factors = [f for f, _ in sp.factor_list(numerator)[1]] if numerator.is_polynomial(symbol) \
                else [numerator]
    except (CheckTimeout, sp.PolynomialError, sp.GeneratorsNeeded, ValueError, TypeError, NotImplementedError):
        return []
    roots = []
    for factor in factors:
        if symbol not in factor.free_symbols:
            continue
        try:
            with time_limit(ROOT_SECONDS):
                if factor.is_polynomial(symbol):
                    poly = sp.Poly(factor, symbol)
                    if poly.degree() < 1:
                        continue
                    found = list(sp.roots(poly, filter="R"))
                elif transcendental:
                    found = sp.solve(factor, symbol)
                else:
                    continue
        except (CheckTimeout, sp.PolynomialError, sp.GeneratorsNeeded, ValueError, TypeError, NotImplementedError,
                RecursionError, AttributeError):
            continue
        roots += [r for r in found[:8] if isinstance(r, sp.Expr) and r.is_number and r.is_real]
    out = []
    integer = symbol.is_integer
    for r in roots:
        candidates = [r]
        if integer and not r.is_integer:
            candidates = [sp.floor(r), sp.ceiling(r)]
        if integer:
            candidates += [c + 1 for c in candidates] + [c - 1 for c in candidates]
        out += [c for c in candidates if _domains.contains(domain, c)]
    return out


def _singular_points(exprs, base: dict, domains: dict) -> list:
    out = []
    for c in critical_expressions(exprs):
        for s in sorted(c.free_symbols & set(base), key=lambda s: s.name)[:3]:
            others = {k: v for k, v in base.items() if k != s}
            for r in real_roots(c.xreplace(others), s, domains[s]):
                out.append({**base, s: r})
    return out


def _sign_regions(gaps, base: dict, domains: dict) -> list:
    """One point inside each interval where a gap keeps its sign, for one symbol at a time (the others generic):
    between consecutive real roots, and beyond the outermost ones (an inequality can only fail in such a region)."""
    out = []
    for gap in gaps:
        for s in sorted(sp.sympify(gap).free_symbols & set(base), key=lambda s: s.name)[:3]:
            others = {k: v for k, v in base.items() if k != s}
            roots = sorted(set(real_roots(sp.sympify(gap).xreplace(others), s, sp.Reals)), key=sp.default_sort_key)
            roots = sorted(roots, key=lambda r: float(r))
            if not roots:
                continue
            inside = [(a + b) / 2 for a, b in zip(roots, roots[1:])] + [roots[0] - 1, roots[-1] + 1]
            out += [{**base, s: sp.nsimplify(v) if s.is_integer else v} for v in inside
                    if _domains.contains(domains[s], v)]
    return out


def points(exprs, domains: dict, *, sample: dict | None = None, within: dict | None = None, budget: int = SWEEP_POINTS,
           seed: int = 0, extra: list | None = None, gaps: list | None = None):
    """Test points (dicts symbol → exact value) for the free symbols of ``exprs``, in the order described in the
    module docstring; ``within`` maps an index to its (low, high) range, evaluated at each point; ``gaps``:
    expressions whose sign regions are each visited (:func:`_sign_regions`)."""
    within = within or {}
    symbols = sorted(set().union(*(sp.sympify(e).free_symbols for e in exprs)) - set(within), key=lambda s: s.name)
    symbols += [s for lo_hi in within.values() for s in sp.sympify(sp.Tuple(*lo_hi)).free_symbols
                if s not in symbols and s not in within]
    sample = {k: [sp.nsimplify(v) for v in vs] for k, vs in (sample or {}).items()}
    summed = any(ranged(e) for e in exprs)
    special, generic = {}, {}
    for k, s in enumerate(symbols):
        if s in sample:
            special[s] = generic[s] = sample[s]
            continue
        special[s] = _domains.special_values(domains[s])
        if summed and s.is_integer:  # a sum to t = 1000 of algebraic terms costs more than it can show
            special[s] = [v for v in special[s] if abs(v) <= RANGED_LARGEST]
        pool = _domains.generic_values(domains[s]) or special[s]
        generic[s] = pool[k % len(pool):] + pool[:k % len(pool)] if pool else []
    if any(not generic[s] for s in symbols):
        return  # an empty domain: nothing to test
    base = {s: generic[s][0] for s in symbols}
    seen: set = set()

    def emit(point):
        for index, (lo, hi) in within.items():
            lo_v, hi_v = sp.sympify(lo).xreplace(point), sp.sympify(hi).xreplace(point)
            if not (lo_v.is_Integer and hi_v.is_Integer) or hi_v < lo_v:
                continue
            for value in _unique_list([lo_v, hi_v, (lo_v + hi_v) // 2]):
                yield {**point, index: value}
            return
        if not within:
            yield point

    def candidates():
        yield base
        for p in extra or []:
            yield {**base, **p}
        for p in _singular_points(exprs, base, domains):
            yield p
        for p in _sign_regions(gaps or [], base, domains):
            yield p
        for s in symbols:
            for v in special[s][:12]:
                yield {**base, s: v}
        for v in (0, 1, -1, 2, sp.Rational(1, 2)):
            yield {s: (sp.sympify(v) if _domains.contains(domains[s], v) and s not in sample else base[s])
                   for s in symbols}
        rng = random.Random(seed)
        for _ in range(4 * budget):
            yield {s: rng.choice(special[s] + generic[s]) for s in symbols}

    count = 0
    for candidate in candidates():
        for point in emit(candidate):
            key = tuple(sorted((str(k), str(v)) for k, v in point.items()))
            if key in seen:
                continue
            seen.add(key)
            yield point
            count += 1
            if count >= budget:
                return


def _unique_list(values):
    out = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def falsify(relation: str, lhs, rhs, domains: dict, *, sample: dict | None = None, within: dict | None = None,
            budget: int = SWEEP_POINTS, seconds: float = SWEEP_SECONDS, extra: list | None = None) -> tuple:
    r"""Look for a point where ``lhs relation rhs`` fails (relation ``"="``, ``"<="`` or ``"<"``).

    Returns ``(finding or None, number of points evaluated)``."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    functions = undefined_functions([lhs, rhs])
    sequences = {f: sequences_for(f) for f in functions}
    deadline = time.process_time() + seconds  # CPU time: the same points on a loaded machine
    tried = 0
    gaps = [rhs - lhs] if relation != "=" and not ranged(rhs - lhs) else None
    for k, point in enumerate(points([lhs, rhs], domains, sample=sample, within=within, budget=budget, extra=extra,
                                     gaps=gaps)):
        if time.process_time() > deadline:
            break
        assignment = {f: seq[k % len(seq)] for f, seq in sequences.items()}
        try:
            with time_limit(POINT_SECONDS):
                finding = failure_at(relation, lhs, rhs, point, assignment)
        except CheckTimeout:
            continue
        except (ZeroDivisionError, TypeError, ValueError, RecursionError):
            continue
        if finding is None:
            continue
        tried += 1
        if finding is not True:
            return finding, tried
    return None, tried


def failure_at(relation, lhs, rhs, point, assignment):
    """A :class:`Finding` if the statement fails at the point, True if it holds (for an equation: or both sides
    are undefined), None if the point says nothing (not every symbol got a value). An inequality fails where a
    side is undefined: an undefined value is not ≤ anything."""
    a, b = evaluate(lhs, point, assignment), evaluate(rhs, point, assignment)
    da, db = defined(a), defined(b)
    if da is None or db is None:
        return None
    da = da and not _undefined_inside(lhs, point, assignment)
    db = db and not _undefined_inside(rhs, point, assignment)
    if not da and not db:
        if relation == "=":
            return True
        return Finding(point, assignment, a, b, "both sides are undefined there")
    if da != db:
        side = "the left-hand side" if not da else "the right-hand side"
        return Finding(point, assignment, a, b, f"{side} is undefined ({a if not da else b}) there")
    if relation == "=":
        if compare(a, b) == "differ":
            return Finding(point, assignment, a, b, "the two sides differ")
    elif relation == "<=" and sign_of(sp.sympify(b) - a) == -1:
        return Finding(point, assignment, a, b, "lhs > rhs")
    elif relation == "<" and sign_of(sp.sympify(b) - a) in (-1, 0):
        return Finding(point, assignment, a, b, "lhs ≥ rhs")
    return True


_OPAQUE_NODES = (sp.Piecewise, sp.Sum, sp.Product, sp.Subs, sp.Derivative, sp.Integral)


def _real_branch_points(expr) -> tuple:
    """The arguments of the real-valued partial operations in ``expr``: bases of even roots (√·, ·^{1/4}, …:
    must be ≥ 0) and of negative fractional powers (> 0), arguments of logarithms (> 0). Not looked for inside a
    Piecewise branch (which may not be taken) nor a range (its index has no value)."""
    found = []

    def walk(node):
        if isinstance(node, _OPAQUE_NODES) or not isinstance(node, sp.Basic):
            return
        if isinstance(node, sp.Pow) and node.exp.is_Rational and not node.exp.is_Integer \
                and node.exp.q % 2 == 0 and node.base.free_symbols:
            found.append((node.base, node.exp.is_negative))
        elif isinstance(node, sp.log) and node.args[0].free_symbols:
            found.append((node.args[0], True))
        for arg in node.args:
            walk(arg)

    walk(sp.sympify(expr))
    return tuple(found)


def _undefined_inside(expr, point, assignment) -> bool:
    """True if an intermediate value is not a real number at the point although the whole evaluates to one
    (|√x|² at x = −1 is 1, but √−1 is not real): in the reals the expression is undefined there."""
    for argument, strict in _real_branch_points(expr):
        value = evaluate(argument, point, assignment)
        if defined(value) is not True:
            continue  # undefined already shows in the whole, or not a number
        sign = sign_of(value)
        if sign == -1 or (strict and sign == 0):
            return True
    return False
