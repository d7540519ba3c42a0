r"""The derivation engine: steps with an explicit kind, each checked under a hard timeout.

A :class:`Claim` is a named chain of :class:`Step` results produced by the check functions below
(:func:`identity`, :func:`substitution`, :func:`approximation`, :func:`limit`, :func:`bound`,
:func:`induction`, …; spec-vs-spec equivalence lives in :mod:`derive.equivalence`).

Honesty rules enforced here:

* a step SymPy cannot prove is ``unproved`` (never ``proved``);
* a step is ``refuted`` only by an exact counterexample (rational values, exact arithmetic) or by a
  SymPy-computed value that provably differs from the claimed one;
* numeric spot checks give status ``checked``: they can refute, they never prove.
"""
from __future__ import annotations

import itertools
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable

import sympy as sp

from optiforge import specs
from optiforge.specs import STEP

# --- statuses -----------------------------------------------------------------------------------------
PROVED = "proved"
APPROXIMATION = "approximation proved"
REFUTED = "refuted"
UNPROVED = "unproved"
CHECKED = "checked"  # supporting numeric / bounded evidence: never a proof
INCONCLUSIVE = "inconclusive"  # supporting evidence that could not be obtained: neither proof nor refutation

HOLDS, FAILS = "holds", "refuted"  # what a claim asserts about itself

#: Per-step hard limit (seconds).
STEP_TIMEOUT = 20.0
#: Hard limit for a whole claim, including work done outside its steps (building expressions, ``solve``).
CLAIM_TIMEOUT = 60.0


class CheckTimeout(BaseException):
    """Raised by SIGALRM; a BaseException so SymPy's internal ``except Exception`` cannot swallow it."""


@contextmanager
def time_limit(seconds: float):
    """Abort the enclosed block with :class:`CheckTimeout` after ``seconds`` (main thread only).

    Nests: an inner limit never extends an outer one, and the outer timer is restored afterwards."""
    def _raise(signum, frame):
        raise CheckTimeout(f"timed out after {seconds:g} s")

    outer_remaining = signal.getitimer(signal.ITIMER_REAL)[0]
    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_remaining) if outer_remaining > 0 else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining > 0:  # the outer block keeps its own deadline
            signal.setitimer(signal.ITIMER_REAL, max(outer_remaining - (time.monotonic() - start), 1e-3))


@dataclass
class Step:
    """One checked step: ``kind`` (identity, substitution, approximation, …), a LaTeX statement, a status."""

    kind: str
    title: str
    latex: str
    status: str
    detail: str = ""
    counterexample: dict | None = None
    seconds: float = 0.0


def guarded(kind: str, title: str, latex: str, check: Callable[[], tuple], timeout: float = STEP_TIMEOUT) -> Step:
    """Run ``check() -> (status, detail[, counterexample])`` under the timeout; errors become ``unproved``."""
    start = time.perf_counter()
    try:
        with time_limit(timeout):
            status, detail, *rest = check()
    except CheckTimeout as exc:
        status, detail, rest = UNPROVED, str(exc), []
    except Exception as exc:  # a SymPy failure is "could not prove", never a pass
        status, detail, rest = UNPROVED, f"{type(exc).__name__}: {exc}", []
    return Step(kind, title, latex, status, detail, rest[0] if rest else None, time.perf_counter() - start)


# --- exact zero tests -----------------------------------------------------------------------------------
def _candidate_forms(expr: sp.Expr):
    yield expr
    yield sp.simplify(expr)
    yield sp.simplify(sp.expand(sp.powsimp(expr)))
    yield sp.factor(sp.together(sp.radsimp(expr)))
    if expr.has(sp.Sum):
        yield sp.simplify(expand_sums(expr))
    if expr.has(sp.Abs):  # eta*Abs(g/Abs(g)) only simplifies through sign
        yield sp.simplify(expr.rewrite(sp.sign))


def prove_zero(expr: sp.Expr) -> bool:
    """True iff a simplification chain reduces ``expr`` to exactly 0 (a proof); False means 'not shown'.

    A float evaluation at a rational point that is clearly non-zero skips the (slow, hopeless) simplification:
    it only ever makes the answer 'not shown', never 'proved'."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    if looks_nonzero(expr):
        return False
    return any(form == 0 for form in _candidate_forms(expr))


def looks_nonzero(expr: sp.Expr) -> bool:
    """Heuristic screen (never a proof of anything): |expr| > 1e-9 at a generic rational point."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    point = {s: v for s, v in zip(symbols, (sample_values(s)[0] + sp.Rational(k, 97) for k, s in enumerate(symbols)))}
    try:
        value = complex(expr.xreplace(point).evalf(30))
    except (TypeError, ValueError, ZeroDivisionError):
        return False
    return abs(value) > 1e-9 and value == value


_DOMAINS: dict = {}


def hyperparameter_domain(symbol: sp.Symbol):
    """The declared domain of a spec hyperparameter with this symbol (e.g. β ∈ [0, 1)), or None."""
    if not _DOMAINS:
        from optiforge import specs
        for spec in specs.all_specs():
            for h in spec.hyperparameters:
                _DOMAINS.setdefault(h.symbol, h.domain)
    return _DOMAINS.get(symbol)


def sample_values(symbol: sp.Symbol, sample: dict | None = None) -> list:
    """Exact rational test values consistent with the symbol's assumptions and, for a spec hyperparameter, its
    declared domain (a refutation outside the domain would be unsound); or the claim's own list."""
    if sample and symbol in sample:
        return [sp.nsimplify(v) for v in sample[symbol]]
    if symbol.is_integer and symbol.is_positive:
        candidates = [sp.Integer(v) for v in (2, 3, 1)]
    elif symbol.is_positive:
        candidates = [sp.Rational(1, 2), sp.Integer(2), sp.Rational(3, 7)]
    elif symbol.is_nonnegative:
        candidates = [sp.Rational(1, 2), sp.Integer(2), sp.Integer(0)]
    else:
        candidates = [sp.Rational(3, 2), sp.Rational(-2, 3), sp.Integer(2)]
    domain = hyperparameter_domain(symbol)
    if domain is not None:
        candidates = [c for c in candidates + [sp.Rational(1, 3), sp.Rational(9, 10)] if domain.contains(c) == sp.true]
    return candidates


def exact_nonzero_point(expr: sp.Expr, sample: dict | None = None, tries: int = 40) -> dict | None:
    """A rational assignment (within the assumptions / ``sample`` lists) where ``expr`` is provably ≠ 0."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    pools = [sample_values(s, sample) for s in symbols]
    for values in itertools.islice(itertools.product(*pools), tries):
        point = dict(zip(symbols, values))
        try:
            value = expr.xreplace(point)
            value = sp.nsimplify(value) if value.is_Float else value
        except (ZeroDivisionError, TypeError):
            continue
        if value.is_finite and value.is_zero is False:
            return {"point": point, "value": value}
    return None


def _fmt_point(point: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in point.items())


_LATEX_NAMES: dict = {}


def tex(expr) -> str:
    """LaTeX with the specs' own symbol names (``momentum`` → :math:`\\alpha`, ``eps`` → :math:`\\epsilon`)."""
    if not isinstance(expr, sp.Basic):
        return str(expr)
    if not _LATEX_NAMES:
        from optiforge import specs
        for spec in reversed(specs.all_specs()):  # first spec wins on a shared name
            _LATEX_NAMES.update({k: v for k, v in spec.latex_names().items() if isinstance(k, sp.Symbol)})
    names = {s: _LATEX_NAMES[s] for s in expr.free_symbols if s in _LATEX_NAMES}
    return sp.latex(expr, symbol_names=names)


# --- step kinds -----------------------------------------------------------------------------------------
def identity(title: str, lhs, rhs, *, sample: dict | None = None, kind: str = "identity") -> Step:
    r"""Prove :math:`\mathrm{lhs} = \mathrm{rhs}` by simplifying the difference to 0, or refute it at an
    exact rational point; otherwise ``unproved``."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)

    def check():
        difference = lhs - rhs
        if prove_zero(difference):
            return PROVED, "difference simplifies to 0"
        witness = exact_nonzero_point(difference, sample)
        if witness:
            return (REFUTED, f"differs at {_fmt_point(witness['point'])}: lhs − rhs = {witness['value']}",
                    {"point": {str(k): str(v) for k, v in witness["point"].items()},
                     "lhs": str(lhs.xreplace(witness["point"])), "rhs": str(rhs.xreplace(witness["point"]))})
        return UNPROVED, f"difference did not simplify to 0: {sp.sstr(difference)[:200]}"

    return guarded(kind, title, f"{tex(lhs)} = {tex(rhs)}", check)


def substitution(title: str, expr, replacements: dict, result, *, sample: dict | None = None) -> Step:
    r"""Replace symbols by their definitions in ``expr``; the result must equal ``result`` exactly."""
    expr = sp.sympify(expr)
    defs = ", ".join(f"{tex(k)} \\mapsto {tex(v)}" for k, v in replacements.items())
    step = identity(title, expr.subs(replacements), result, sample=sample, kind="substitution")
    step.latex = f"\\left.{tex(expr)}\\right|_{{{defs}}} = {tex(result)}"
    return step


def definition(title: str, symbol, value) -> Step:
    """A definition: introduces notation, nothing to prove (always ``proved``)."""
    return Step("definition", title, f"{tex(symbol)} := {tex(value)}", PROVED, "definition")


def limit(title: str, expr, var, point, expected, *, direction: str = "+-", sample: dict | None = None) -> Step:
    r"""Compute :math:`\lim_{var\to point} expr` with SymPy and compare it with ``expected`` exactly."""
    expr, expected = sp.sympify(expr), sp.sympify(expected)

    def check():
        kwargs = {} if point in (sp.oo, -sp.oo) or direction == "+-" else {"dir": direction}
        value = sp.limit(sp.expand(expr), var, point, **kwargs)
        if isinstance(value, sp.Limit) or value.has(sp.AccumBounds):
            return UNPROVED, f"SymPy returned {value}"
        if prove_zero(value - expected):
            return PROVED, f"limit = {value}"
        witness = exact_nonzero_point(value - expected, sample)
        if witness or (value - expected).is_zero is False:
            where = f" (e.g. at {_fmt_point(witness['point'])})" if witness else ""
            return (REFUTED, f"limit is {value}, not {expected}{where}",
                    {"limit": str(value), "claimed": str(expected),
                     **({"point": {str(k): str(v) for k, v in witness["point"].items()}} if witness else {})})
        return UNPROVED, f"limit {value} not shown equal to {expected}"

    return guarded("limit", title, f"\\lim_{{{tex(var)} \\to {tex(point)}}} {tex(expr)} = {tex(expected)}", check)


def approximation(title: str, exact, approx, var, point, *, relative: bool = True, rewrite: dict | None = None,
                  sample: dict | None = None) -> Step:
    r"""``exact ≈ approx``: states the error term (relative by default) and proves it → 0 as ``var → point``.

    ``rewrite`` re-expresses symbols for gruntz (e.g. :math:`\beta = e^{-k}`); it is part of the statement.
    """
    exact, approx = sp.sympify(exact), sp.sympify(approx)
    error = sp.simplify(exact / approx - 1 if relative else exact - approx)
    gruntz_form = error.subs(rewrite or {})

    def check():
        value = sp.limit(sp.expand(gruntz_form), var, point)
        if value == 0:
            return APPROXIMATION, f"error term {sp.sstr(error)} → 0"
        if isinstance(value, sp.Limit):
            return UNPROVED, f"SymPy could not evaluate the limit of the error {sp.sstr(error)}"
        if value.is_zero is False or exact_nonzero_point(value, sample):
            return REFUTED, f"error term {sp.sstr(error)} tends to {value}, not 0", {"error_limit": str(value)}
        return UNPROVED, f"error limit {value} not shown to be 0"

    kind_of_error = "relative error" if relative else "error"
    latex = (f"{tex(exact)} \\approx {tex(approx)};\\quad \\text{{{kind_of_error}}}\\ {tex(error)} "
             f"\\xrightarrow[{tex(var)} \\to {tex(point)}]{{}} 0")
    return guarded("approximation", title, latex, check)


def is_nonnegative(expr: sp.Expr) -> bool:
    """SymPy's ``is_nonnegative``, extended: a finite sum of nonnegative summands (possibly empty) is ≥ 0,
    and sums/products of such expressions are ≥ 0."""
    if expr.is_nonnegative:
        return True
    if isinstance(expr, sp.Sum):
        return is_nonnegative(expr.function)
    if isinstance(expr, (sp.Add, sp.Mul)):
        return all(is_nonnegative(a) for a in expr.args)
    return False


def bound(title: str, lhs, rhs, *, assume: dict | None = None, witness=None, sample: dict | None = None) -> Step:
    r"""Prove :math:`\mathrm{lhs} \le \mathrm{rhs}`: ``rhs − lhs`` (after ``assume`` substitutions that encode
    the hypotheses, e.g. a positive Dummy) must be SymPy-nonnegative, or equal a given nonnegative
    ``witness``. A rational point with ``lhs > rhs`` refutes."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)

    def check():
        gap = (rhs - lhs).subs(assume or {})
        if witness is not None:
            if is_nonnegative(sp.sympify(witness)) and prove_zero(gap - witness):
                return PROVED, f"rhs − lhs = {witness} ≥ 0"
        for form in _candidate_forms(gap):
            if is_nonnegative(form):
                return PROVED, f"rhs − lhs = {sp.sstr(form)} ≥ 0"
        for form in (sp.factor(gap),):
            if form.is_negative is False and form.is_real:
                return PROVED, f"rhs − lhs = {sp.sstr(form)} ≥ 0"
        point = exact_nonzero_point(sp.Piecewise((1, gap < 0), (0, True)), sample)
        if point:
            return REFUTED, f"lhs > rhs at {_fmt_point(point['point'])}", {
                "point": {str(k): str(v) for k, v in point["point"].items()}}
        return UNPROVED, "nonnegativity of rhs − lhs not shown"

    return guarded("bound", title, f"{tex(lhs)} \\le {tex(rhs)}", check)


def cases(title: str, lhs, rhs, splits: Iterable[dict], *, kind: str = "identity") -> Step:
    r"""Prove ``lhs = rhs`` by an exhaustive case split: each case is a substitution that encodes it
    (e.g. :math:`y = x - d,\ d \ge 0` for :math:`x \ge y`); every case must simplify to 0."""
    lhs, rhs, splits = sp.sympify(lhs), sp.sympify(rhs), list(splits)

    def check():
        for case in splits:
            if not prove_zero((lhs - rhs).subs(case)):
                return UNPROVED, f"case {case} not shown"
        return PROVED, f"all {len(splits)} cases simplify to 0"

    return guarded(kind, title, f"{tex(lhs)} = {tex(rhs)}", check)


def induction(title: str, closed_form, recurrence: Callable, base_value, *, base_at=0, n=STEP) -> Step:
    r"""Closed form of a recurrence: base case :math:`c(n_0) = x_{n_0}` and step
    :math:`c(n) = F(c(n-1), n)` for symbolic :math:`n`; both must simplify to 0."""
    closed_form = sp.sympify(closed_form)

    def check():
        base = closed_form.subs(n, base_at) - base_value
        if not prove_zero(base):
            return REFUTED if exact_nonzero_point(base) else UNPROVED, f"base case fails: {sp.sstr(base)}"
        step = closed_form - recurrence(closed_form.subs(n, n - 1), n)
        step = expand_sums(step)
        if prove_zero(step):
            return PROVED, "base case and induction step simplify to 0"
        return UNPROVED, f"induction step residue {sp.sstr(step)[:200]}"

    latex = f"x_{{{tex(n)}}} = {tex(closed_form)}\\quad(\\text{{base }} {tex(n)}={tex(base_at)}, \\text{{step }} {tex(n)}-1 \\to {tex(n)})"
    return guarded("induction", title, latex, check)


def expand_sums(expr: sp.Expr) -> sp.Expr:
    r"""Normal form for finite sums with a symbolic upper limit: peel the last term of each
    :math:`\sum_{i=a}^{n}` so all sums run to the same limit, push scalar factors inside, merge sums with
    equal limits and expand the summand (SymPy does not merge :math:`\beta\sum f + \sum h` by itself)."""
    sums = list(expr.atoms(sp.Sum))
    if not sums:
        return expr
    uppers = {s.limits[0][2] for s in sums}
    # peel every sum down to the smallest upper limit (differences are integers)
    lowest = min(uppers, key=lambda u: sp.simplify(u - STEP) if u.has(STEP) else 0)
    replacements = {}
    for s in sums:
        (i, a, b), f = s.limits[0], s.function
        peeled = sp.Integer(0)
        while sp.simplify(b - lowest) != 0:
            peeled += f.subs(i, b)
            b = b - 1
        replacements[s] = sp.Sum(f, (i, a, b)) + peeled
    expr = sp.expand(expr.xreplace(replacements))
    merged: dict = {}
    rest = sp.Integer(0)
    for term in sp.Add.make_args(expr):
        inner = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum)]
        if len(inner) == 1:
            s = inner[0]
            coefficient = term / s
            key = s.limits
            merged[key] = merged.get(key, 0) + coefficient * s.function
        else:
            rest += term
    total = rest
    for limits, summand in merged.items():
        summand = sp.simplify(sp.expand(sp.powsimp(sp.expand(summand), force=False)))
        if summand != 0:
            total += sp.Sum(summand, *limits).doit() if not summand.has(limits[0][0]) else sp.Sum(summand, *limits)
    return total


def conclude(title: str, latex: str, premises: list[Step], kind: str = "bound") -> Step:
    """A logical conclusion from earlier steps (e.g. a squeeze): its status is that of its premises."""
    status = combine(premises)
    return Step(kind, title, latex, status, f"follows from steps: {', '.join(p.title for p in premises)}")


def numeric(title: str, function: Callable[[], tuple]) -> Step:
    """A numeric sanity check (status ``checked`` or ``refuted``); never counts as a proof."""
    return guarded("numeric check", title, title, function)


def combine(steps: list[Step]) -> str:
    """Status of a derivation: refuted if any step is refuted, else unproved if any step is, else
    approximation if any step is an approximation, else proved. Needs at least one proving step."""
    statuses = [s.status for s in steps]
    if REFUTED in statuses:
        return REFUTED
    if UNPROVED in statuses or not any(s in (PROVED, APPROXIMATION) for s in statuses):
        return UNPROVED
    return APPROXIMATION if APPROXIMATION in statuses else PROVED


# --- claims ---------------------------------------------------------------------------------------------
@dataclass
class Claim:
    """A named derivation: ``build()`` returns its checked steps. ``expected`` is :data:`HOLDS` or
    :data:`FAILS`; ``sources`` cites the seed file and formula."""

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

    def run(self) -> "ClaimResult":
        start = time.perf_counter()
        with specs.recording() as used:
            try:
                with time_limit(CLAIM_TIMEOUT):
                    steps = self.build()
            except CheckTimeout as exc:  # a timeout outside a guarded step
                steps = [Step(self.kind, self.title, "", UNPROVED, str(exc))]
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
            return self.status in (PROVED, APPROXIMATION)
        return self.status == REFUTED

    @property
    def verdict(self) -> str:
        """proved / approximation proved / refuted as expected / unproved / unexpectedly refuted / …"""
        if self.status == UNPROVED:
            return UNPROVED
        if self.claim.expected == FAILS:
            return "refuted as expected" if self.status == REFUTED else f"unexpectedly {self.status}"
        return self.status if self.status != REFUTED else "unexpectedly refuted"


class ClaimList(list):
    """A module's ``CLAIMS``: ``@CLAIMS.claim(...)`` turns a function returning steps into a :class:`Claim`."""

    def claim(self, name: str, title: str, kind: str, sources: str, expected: str = HOLDS, tags=(), note: str = "",
              specs=()):
        """``specs``: names of the specs the claim is about (unioned with those it reads while running)."""
        if isinstance(specs, str):
            specs = (specs,)
        def register(build):
            self.append(Claim(name, title, kind, expected, sources, build, tuple(tags), note, tuple(specs)))
            return build
        return register


def monotone_bound(title: str, f, var, start, *, sample: dict | None = None) -> Step:
    r"""Prove :math:`f(x) \le f(x_0)` for :math:`x \ge x_0` (``var`` declared nonnegative/positive above
    ``start``): SymPy must show :math:`f'(x) \le 0`; the bound value :math:`f(x_0)` is reported."""
    f = sp.sympify(f)

    def check():
        derivative = sp.simplify(sp.diff(f, var))
        if derivative.is_nonpositive:
            return PROVED, f"f' = {sp.sstr(derivative)} ≤ 0 and f({start}) = {sp.simplify(f.subs(var, start))}"
        return UNPROVED, f"sign of f' = {sp.sstr(derivative)} not shown"

    return guarded("bound", title, f"{tex(f)} \\le {tex(sp.simplify(f.subs(var, start)))}\\quad({tex(var)} \\ge {tex(start)})",
                   check)
