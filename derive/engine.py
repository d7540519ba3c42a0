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
from .sums import (RangeMax, _range_forms, expand_sums, fresh_indices, is_nonnegative, nonnegative_on,
                   normalize, ranged)

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


def guarded(kind: str, title: str, latex: str, check: Callable[[], tuple], timeout: float = STEP_TIMEOUT,
            statement: Statement | None = None) -> Step:
    """Run ``check() -> (status, detail[, counterexample[, downgraded]])`` under the timeout; errors become
    ``unproved``. (Infrastructure for the step kinds: a check passed here is trusted as written.)"""
    start = time.perf_counter()
    try:
        with time_limit(timeout):
            status, detail, *rest = check()
    except CheckTimeout as exc:
        status, detail, rest = UNPROVED, str(exc), []
    except Exception as exc:  # a SymPy failure is "could not prove", never a pass
        status, detail, rest = UNPROVED, f"{type(exc).__name__}: {code(exc)}", []
    return Step(kind, title, latex, status, detail, rest[0] if rest else None, time.perf_counter() - start,
                statement, bool(rest[1]) if len(rest) > 1 else False)


def code(expr, limit: int = 200) -> str:
    """SymPy text as a Markdown code span (never bare: ``-g*lr`` would become emphasis)."""
    text = sp.sstr(expr) if isinstance(expr, sp.Basic) else str(expr)
    text = text if len(text) <= limit else text[:limit] + " …"
    return "`" + text.replace("`", "'") + "`"


def _where(point: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in point.items())


# --- exact zero tests -----------------------------------------------------------------------------------
def _cheap_forms(expr: sp.Expr):
    yield expr
    yield sp.cancel(sp.together(expr))
    yield sp.factor(sp.together(sp.radsimp(expr)))
    yield sp.expand(sp.expand_power_base(sp.powdenest(expr), deep=True))
    if expr.has(sp.Sum):  # SymPy's closed forms (Karr's convention for b < a − 1: the sweep checks small t)
        yield sp.cancel(sp.together(expr.doit()))


def _expensive_forms(expr: sp.Expr):
    yield sp.simplify(expr)
    yield sp.simplify(sp.expand(sp.powsimp(expr)))
    if expr.has(sp.Sum):
        yield sp.simplify(expand_sums(expr))
    if expr.has(RangeMax):
        yield sp.simplify(normalize(expr))
    if expr.has(sp.Abs):  # eta*Abs(g/Abs(g)) only simplifies through sign (the sweep checks g = 0)
        yield sp.simplify(expr.rewrite(sp.sign))


def _candidate_forms(expr: sp.Expr):
    yield from _cheap_forms(expr)
    yield from _expensive_forms(expr)


_UNIT_DUMMIES: dict = {}
#: Beyond this size a Piecewise whose branches did not all vanish is not handed to ``simplify`` whole.
PIECEWISE_SIMPLIFY_OPS = 150


def abstract_unit_powers(expr, domains: dict | None):
    r"""Replace each power :math:`\beta^e` with :math:`\beta \in [0, 1)` (by its domain) and :math:`e > 0` by
    :math:`1 - C`, :math:`C > 0` a Dummy. Sound for proofs: the statement is proved for every :math:`C > 0`, in
    particular for :math:`C = 1 - \beta^e \in (0, 1]` (e.g. :math:`\sqrt{v}/\sqrt{1-\beta^t} = \sqrt{v/(1-\beta^t)}`)."""
    if not domains:
        return expr
    expr = sp.sympify(expr)
    bases = _domains.unit_interval_bases({s: d for s, d in domains.items() if s in expr.free_symbols})
    if not bases:
        return expr
    atoms = {p for p in expr.atoms(sp.Pow) if p.base in bases and p.exp.is_positive}
    if not atoms:
        return expr
    replacement = {}
    for atom in sorted(atoms, key=sp.default_sort_key):
        dummy = _UNIT_DUMMIES.setdefault(atom, sp.Dummy(f"C_{atom.base}", positive=True))
        replacement[atom] = 1 - dummy
    return expr.xreplace(replacement)


def prove_zero(expr: sp.Expr, domains: dict | None = None, *, splits: int = 2) -> bool:
    """True iff a simplification chain reduces ``expr`` to exactly 0 (a proof); False means 'not shown'.

    Also tried: each branch of a folded ``Piecewise``, (with ``domains``) :func:`abstract_unit_powers` and the
    cases of a bounded domain (:func:`_domain_cases`), and up to ``splits`` sign splits (:func:`_sign_cases`). A
    float evaluation at a generic point of the domain that is clearly non-zero skips the (slow, hopeless)
    simplification: it only ever makes the answer 'not shown', never 'proved'."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    if ranged(expr):
        expr = fresh_indices(expr)
    if looks_nonzero(expr, domains):
        return False
    if expr.has(sp.Piecewise):  # branch by branch first: each branch is far smaller than the whole
        folded = sp.piecewise_fold(expr)
        if folded == 0:
            return True
        if isinstance(folded, sp.Piecewise):
            if all(prove_zero(_on_branch(e, c), domains) for e, c in folded.args):
                return True
            if sp.count_ops(expr) > PIECEWISE_SIMPLIFY_OPS:
                return False
    abstracted = abstract_unit_powers(expr, domains)
    variants = list(dict.fromkeys([_opaque(abstracted), abstracted, _opaque(expr), expr]))
    if any(_vanishes(_cheap_forms(v)) for v in variants) or any(_vanishes(_expensive_forms(v)) for v in variants):
        return True
    cases_ = _domain_cases(expr, domains)
    if cases_ and all(prove_zero(expr.xreplace(case), splits=splits) for case in cases_):
        return True
    if splits <= 0:
        return False
    cases_ = _sign_cases(expr)
    return bool(cases_) and all(prove_zero(expr.xreplace(case), domains, splits=splits - 1) for case in cases_)


def _sign_cases(expr) -> list:
    r"""Two substitutions that together cover every real value of a symbol on which a sign decision in ``expr``
    depends: for ``Abs(D)``, ``sign(D)``, ``Max(a, b)``, ``Min(a, b)`` with :math:`D` (or :math:`a - b`) of the form
    :math:`c\,s + r` (c a nonzero number, s real), :math:`s = (\pm d - r)/c` with :math:`d \ge 0`. Every point of
    the domain is an instance of one of them (:math:`d = |D|`), so a zero shown in both cases is a zero everywhere."""
    nodes = [n for n in sp.preorder_traversal(expr)
             if isinstance(n, (sp.Abs, sp.sign)) or (isinstance(n, (sp.Max, sp.Min)) and len(n.args) == 2)]
    for node in sorted(nodes, key=sp.default_sort_key):
        decided = node.args[0] if isinstance(node, (sp.Abs, sp.sign)) else node.args[0] - node.args[1]
        for symbol in sorted(decided.free_symbols, key=lambda v: v.name):
            if not (isinstance(symbol, sp.Symbol) and symbol.is_real):
                continue
            coefficient = sp.diff(decided, symbol)
            if not coefficient.is_number or coefficient == 0:
                continue
            rest = sp.expand(decided - coefficient * symbol)
            if rest.has(symbol):
                continue
            d = sp.Dummy("d", nonnegative=True)
            return [{symbol: (d - rest) / coefficient}, {symbol: (-d - rest) / coefficient}]
    return []


def _domain_cases(expr, domains: dict | None) -> list:
    r"""Substitutions that together cover the bounded domains of the symbols whose sign matters in ``expr``
    (inside Abs, sign, Max, Min, Piecewise or a root): :math:`x = a + (b-a)rac{s}{1+s}` with :math:`s \ge 0`
    covers :math:`[a, b)` (:math:`s > 0`: the open end too), :math:`x = a + s` covers :math:`[a, \infty)`, and a
    closed right end is its own case. A bijection onto the domain: sound for a zero test."""
    if not domains or not expr.has(sp.Abs, sp.sign, sp.Max, sp.Min, sp.Piecewise, sp.Pow):
        return []
    chosen = []
    for symbol in sorted(expr.free_symbols, key=lambda s: s.name):
        domain = domains.get(symbol)
        if not isinstance(domain, sp.Interval) or symbol.is_integer:
            continue
        a, b = domain.start, domain.end
        if not a.is_finite or (not b.is_finite and a == 0):
            continue  # (−∞, …) or [0, ∞): the symbol's own assumptions already say all that is known
        s = sp.Dummy("s", nonnegative=not domain.left_open, positive=domain.left_open)
        options = [{symbol: a + (b - a) * s / (1 + s)}] if b.is_finite else [{symbol: a + s}]
        if b.is_finite and not domain.right_open:
            options.append({symbol: b})
        chosen.append(options)
        if len(chosen) == 2:
            break
    if not chosen:
        return []
    return [dict(kv for option in combo for kv in option.items()) for combo in itertools.product(*chosen)]


#: Time one simplification may take inside a zero test before the next one is tried.
FORM_TIMEOUT = 6.0


def _vanishes(forms) -> bool:
    """Whether one of the (lazily computed) forms is 0; a form that takes too long is skipped (if the step's own
    deadline passed meanwhile, its timer fires again right after)."""
    iterator = iter(forms)
    while True:
        try:
            with time_limit(FORM_TIMEOUT):
                form = next(iterator)
        except StopIteration:
            return False
        except CheckTimeout:
            continue
        except (TypeError, ValueError, NotImplementedError, sp.PolynomialError, RecursionError):
            continue
        if form == 0:
            return True


def _opaque(expr):
    r"""Each outermost ``Max``/``Min``, finite sum and range maximum replaced by a Dummy carrying its known sign
    (the same node, the same Dummy; a sum's sign read on its range). Sound for a zero test (a generalisation:
    shown for every value, it holds for the actual one), and fast: ``simplify`` spends its time re-deciding Max
    arguments, and cannot split :math:`(c\sum_i f_i)^{1/p}` without knowing the sum is ≥ 0."""
    kinds = (sp.Max, sp.Min, sp.Sum, RangeMax)
    nodes = [n for n in sp.preorder_traversal(expr) if isinstance(n, kinds)]
    outer = [n for n in nodes if not any(n is not m and m.has(n) for m in nodes)]
    if not outer:
        return expr
    replacement = {}
    for n in outer:
        assumptions = {"real": True} if n.is_real or isinstance(n, (sp.Sum, RangeMax)) else {}
        if n.is_positive:
            assumptions["positive"] = True
        elif n.is_nonnegative or is_nonnegative(n):
            assumptions["nonnegative"] = True
        replacement[n] = sp.Dummy("X", **assumptions)
    return expr.xreplace(replacement)


def _on_branch(value, condition):
    """A Piecewise branch's value where its condition fixes symbols (``Eq(x, 0)``: x = 0 in the branch)."""
    fixed = {}
    for c in (condition.args if isinstance(condition, sp.And) else (condition,)):
        if isinstance(c, sp.Eq) and isinstance(c.lhs, sp.Symbol) and not c.rhs.has(c.lhs):
            fixed[c.lhs] = c.rhs
        elif isinstance(c, sp.Eq) and isinstance(c.rhs, sp.Symbol) and not c.lhs.has(c.rhs):
            fixed[c.rhs] = c.lhs
    return value.subs(fixed) if fixed else value


def looks_nonzero(expr: sp.Expr, domains: dict | None = None) -> bool:
    """Heuristic screen (never a proof of anything): |expr| > 1e-9 at a generic point of the domain."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    resolved = _domains.resolve(symbols, domains)
    point = {}
    for k, s in enumerate(symbols):
        pool = _domains.generic_values(resolved[s])
        if not pool:
            return False
        point[s] = pool[k % len(pool)]
    try:
        value = complex(conventional_value(expr.xreplace(point)).evalf(30))
    except (TypeError, ValueError, ZeroDivisionError):
        return False
    return abs(value) > 1e-9 and value == value


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


def settle(relation: str, lhs, rhs, proved: Callable[[], str | None], domains: dict, *, sample=None, within=None,
           refute: bool = True) -> tuple:
    """The common tail of every equation / inequality step: ``proved()`` returns the proof's description or
    None; a proof is swept (and may be overturned), a failure is searched for a counterexample."""
    how = proved()
    if how:
        finding, count = falsify(relation, lhs, rhs, domains, sample=sample, within=within)
        if finding:
            return _downgrade(finding, how)
        return PROVED, f"{how}; falsification sweep: no counterexample at {count} exact points"
    if not refute:
        return UNPROVED, "not shown"
    finding, count = falsify(relation, lhs, rhs, domains, sample=sample, within=within, budget=REFUTE_POINTS)
    if finding:
        return _refutation(finding)
    gap = sp.sympify(rhs) - sp.sympify(lhs)
    what = "difference did not simplify to 0" if relation == "=" else "nonnegativity of rhs − lhs not shown"
    return UNPROVED, f"{what} ({code(gap)}); no counterexample at {count} exact points"


# --- step kinds -----------------------------------------------------------------------------------------
def identity(title: str, lhs, rhs, *, sample: dict | None = None, domains=None, kind: str = "identity",
             within: dict | None = None) -> Step:
    r"""Prove :math:`\mathrm{lhs} = \mathrm{rhs}` by simplifying the difference to 0 (then swept), or refute it at
    an exact point of the domain; otherwise ``unproved``. ``within={j: (a, b)}`` states :math:`a \le j \le b` for
    an index (the zero test then also reads :math:`j = a + k` and :math:`j = b - k`, :math:`k \ge 0`)."""
    lhs, rhs, sample, ranges = exact(lhs), exact(rhs), _exact_sample(sample), _within(within)
    statement = Statement("=", lhs, rhs, within=ranges)

    def proof(dom):
        difference = lhs - rhs
        if prove_zero(difference, dom):
            return "difference simplifies to 0"
        for j, a, b in ranges:
            for form in _range_forms(difference, j, a, b):
                if prove_zero(form, dom):
                    return f"difference simplifies to 0 for every {code(j)} in {code([a, b])}"
        return None

    def check():
        dom = _resolve([lhs, rhs] + [sp.Tuple(a, b) for _, a, b in ranges], domains)
        dom.update({j: _domains.assumption_domain(j) for j, _, _ in ranges})
        return settle("=", lhs, rhs, lambda: proof(dom), dom, sample=sample,
                      within={j: (a, b) for j, a, b in ranges} or None)

    return guarded(kind, title, statement.latex(tex), check, statement=statement)


def substitution(title: str, expr, replacements: dict, result, *, sample: dict | None = None, domains=None) -> Step:
    r"""Replace symbols by their definitions in ``expr``; the result must equal ``result`` exactly."""
    expr = exact(expr)
    replacements = {exact(k): exact(v) for k, v in replacements.items()}
    defs = ", ".join(f"{tex(k)} \\mapsto {tex(v)}" for k, v in replacements.items())
    step = identity(title, expr.subs(replacements), result, sample=sample, domains=domains, kind="substitution")
    step.latex = f"\\left.{tex(expr)}\\right|_{{{defs}}} = {tex(exact(result))}"
    return step


def definition(title: str, symbol, value) -> Step:
    """A definition: introduces notation, proves nothing (status ``defined``; a claim of definitions and
    evidence alone is ``unproved``)."""
    return Step("definition", title, f"{tex(exact(symbol))} := {tex(exact(value))}", DEFINED,
                "definition (notation only)")


# --- limits ---------------------------------------------------------------------------------------------
#: Time a single SymPy ``limit`` call may take inside a limit step before the step gives up on it.
LIMIT_CALL_TIMEOUT = 8.0


def _sympy_limit(expr, var, point, direction):
    kwargs = {} if point in (sp.oo, -sp.oo) or direction == "+-" else {"dir": direction}
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

    def sub(e):
        return _continuous_limit(e, var, point, direction)

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
        approach = [sp.Integer(10)**3, sp.Integer(10)**6, sp.Integer(10)**12]
    elif point == -sp.oo:
        approach = [-sp.Integer(10)**3, -sp.Integer(10)**6, -sp.Integer(10)**12]
    else:
        side = -1 if direction == "-" else 1
        approach = [point + side * sp.Rational(1, 10**k) for k in (4, 8, 12)]
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
                distances = [abs(f(mpmath.mpf(x.p) / x.q, *args) - target) for x in approach]
            except (ZeroDivisionError, TypeError, ValueError, OverflowError):
                continue
            if any(not mpmath.isfinite(d) or isinstance(d, mpmath.mpc) for d in distances):
                continue
            checked += 1
            scale = 1 + abs(target)
            if all(d > 1e-6 * scale for d in distances) and distances[-1] > distances[0] / 2:
                point_text = ", ".join(f"{s} = {v}" for s, v in zip(params, values))
                return (f"numeric screen disagrees: at {code(point_text) if point_text else 'the claim'}, the distance "
                        f"to the claimed value is {code(mpmath.nstr(distances[-1], 5))} at "
                        f"{code(f'{var} = {approach[-1]}')}")
    return None


def limit(title: str, expr, var, point, expected, *, direction: str = "+-", sample: dict | None = None,
          domains=None) -> Step:
    r"""Compute :math:`\lim_{var\to point} expr` (by continuity where it applies, else SymPy's ``limit``; for
    :math:`t \to \infty` a base :math:`\beta \in [0, 1)` is split into :math:`\beta = 0` and
    :math:`\beta = e^{-k}`) and compare it with ``expected`` exactly. A proved limit is screened numerically."""
    expr, expected, point, sample = exact(expr), exact(expected), exact(point), _exact_sample(sample)
    statement = Statement("limit", expr, expected, var=var, point=point)

    def check():
        dom = _resolve([expr, expected], domains)
        values = []
        for description, case in _unit_interval_cases(expr, var, point, dom):
            value = _continuous_limit(expr.xreplace(case), var, point, direction)
            if value is None:
                return UNPROVED, f"SymPy could not compute the limit{' for ' + code(description) if description else ''}"
            target = expected.xreplace(case)
            if not prove_zero(value - target, dom):
                difference = sp.simplify(value - target)
                if difference.is_zero is False:
                    return (REFUTED, f"limit is {code(value)}, not {code(target)}"
                                     f"{' (' + code(description) + ')' if description else ''}",
                            {"limit": str(value), "claimed": str(target), **({"case": description} if description else {})})
                finding, _ = falsify("=", value, target, _resolve([value, target], dom), sample=sample,
                                     budget=REFUTE_POINTS)
                if finding:
                    return (REFUTED, f"limit is {code(value)}, not {code(target)}: they differ at {finding.where()}",
                            {"limit": str(value), "claimed": str(target), **finding.counterexample()})
                return UNPROVED, f"limit {code(value)} not shown equal to {code(target)}"
            values.append((description, value))
        disagreement = _limit_disagrees(expr, expected, var, point, direction, dom, sample)
        if disagreement:
            return UNPROVED, f"SymPy's limit {code(values[0][1])} is contradicted by a {disagreement}", None, True
        cases_text = "; ".join(f"{code(d)}: {code(v)}" for d, v in values if d) or code(values[0][1])
        return PROVED, f"limit = {cases_text}"

    return guarded("limit", title, statement.latex(tex), check, statement=statement)


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
        value = _continuous_limit(gruntz_form, var, point, "+-")
        if value is None:
            return UNPROVED, f"SymPy could not evaluate the limit of the error {code(error)}"
        if prove_zero(value, dom):
            disagreement = _limit_disagrees(gruntz_form, sp.Integer(0), var, point, "+-", dom, sample)
            if disagreement:
                return UNPROVED, f"SymPy's limit 0 of the error is contradicted by a {disagreement}", None, True
            return APPROXIMATION, f"error term {code(error)} → 0"
        finding, _ = falsify("=", value, sp.Integer(0), _resolve([value], dom), sample=sample, budget=REFUTE_POINTS)
        if sp.simplify(value).is_zero is False or finding:
            return REFUTED, f"error term {code(error)} tends to {code(value)}, not 0", {"error_limit": str(value)}
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
        if is_nonnegative(sp.Sum(rhs.function, (index, low, high))):
            return "a term of a sum of terms ≥ 0 (on its range) is ≤ the sum"
    return None


def _same_expr(a, b) -> bool:
    return sp.sympify(a) == sp.sympify(b) or sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


def bound(title: str, lhs, rhs, *, assume: dict | None = None, witness=None, sample: dict | None = None,
          domains=None, within: dict | None = None, strict: bool = False) -> Step:
    r"""Prove :math:`\mathrm{lhs} \le \mathrm{rhs}`: ``rhs − lhs`` (after ``assume`` substitutions that encode the
    hypotheses, e.g. a positive Dummy) must be nonnegative by SymPy (sums read on their ranges), or equal a given
    nonnegative ``witness``; ``within={j: (a, b)}`` states :math:`a \le j \le b` for an index. Swept after a proof;
    an exact point with lhs > rhs refutes."""
    assume = {exact(k): exact(v) for k, v in (assume or {}).items()}
    lhs, rhs = exact(lhs).subs(assume), exact(rhs).subs(assume)
    sample, ranges = _exact_sample(sample), _within(within)
    statement = Statement("<=", lhs, rhs, within=ranges)

    def proof(dom):
        if strict:
            gap = rhs - lhs
            for form in (gap, sp.factor(gap), sp.simplify(gap), abstract_unit_powers(sp.factor(gap), dom)):
                if form.is_positive:
                    return f"rhs − lhs = {code(form)} > 0"
            return None
        structural = _term_of_range(lhs, rhs, ranges, dom)
        if structural:
            return structural
        gap = rhs - lhs
        if witness is not None:
            w = exact(witness)
            if is_nonnegative(w) and prove_zero(gap - w, dom):
                return f"rhs − lhs = {code(w)} ≥ 0"
        for form in _candidate_forms(gap):
            if nonnegative_on(form, ranges):
                return f"rhs − lhs = {code(form)} ≥ 0"
        abstracted = abstract_unit_powers(gap, dom)
        for form in ((sp.factor(gap), abstracted, sp.factor(abstracted)) if abstracted != gap else (sp.factor(gap),)):
            if is_nonnegative(form) or (not ranged(form) and form.is_negative is False and form.is_real):
                return f"rhs − lhs = {code(form)} ≥ 0"
        return None

    def check():
        dom = _resolve([lhs, rhs] + [sp.Tuple(a, b) for _, a, b in ranges], domains)
        dom.update({j: _domains.assumption_domain(j) for j, _, _ in ranges})
        return settle("<" if strict else "<=", lhs, rhs, lambda: proof(dom), dom, sample=sample,
                      within={j: (a, b) for j, a, b in ranges} or None)

    if strict:
        statement = Statement("<", lhs, rhs, within=ranges)
    latex = statement.latex(tex) if not strict else f"{tex(lhs)} < {tex(rhs)}"
    return guarded("bound", title, latex, check, statement=statement)


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
        oriented = derivative if increasing else -derivative
        shown = None
        for form in (oriented, sp.simplify(oriented), sp.factor(oriented)):
            for candidate in (form, abstract_unit_powers(form, dom)):
                if is_nonnegative(candidate):
                    shown = candidate
                    break
            if shown is not None:
                break
        at_start = f.xreplace({var: start})
        shifted = {**dom, d: sp.Interval.open(0, sp.oo)}
        earlier, later = (at_start, moved) if increasing else (moved, at_start)

        def not_shown(why):  # f(x₀ + d) on the wrong side of f(x₀) refutes monotonicity on [x₀, ∞)
            finding, _ = falsify("<=", earlier, later, shifted, sample=sample, budget=REFUTE_POINTS)
            return _refutation(finding) if finding else (UNPROVED, why)

        if shown is None:
            return not_shown(f"sign of f' = {code(sp.simplify(derivative))} on ({code(start)}, ∞) not shown")
        if moved.is_finite is not True and abstract_unit_powers(moved, dom).is_finite is not True:
            return not_shown(f"f is not shown finite on ({code(start)}, ∞): {code(moved)}")
        from_right = _continuous_limit(moved, d, 0, "+")
        if at_start.is_finite is not True or from_right is None or not prove_zero(from_right - at_start, dom):
            return not_shown(f"right-continuity of f at {code(start)} not shown")
        finding, count = falsify("<=", earlier, later, shifted, sample=sample)
        if finding:
            return _downgrade(finding, f"f' = {code(sp.simplify(derivative))} has the sign shown")
        return (PROVED, f"f' = {code(sp.simplify(derivative))} ({'≥' if increasing else '≤'} 0 on ({start}, ∞)), "
                        f"f finite there and right-continuous at {code(start)}; sweep: {count} exact points")

    return guarded("monotonicity", title, statement.latex(tex), check, statement=statement)


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


def cases(title: str, lhs, rhs, splits: Iterable, *, kind: str = "identity", sample: dict | None = None,
          domains=None) -> Step:
    r"""Prove ``lhs = rhs`` by a case split. Each case is a condition (``x >= y``), a substitution that encodes
    one (:math:`y \mapsto x - d`, :math:`d \ge 0` for :math:`x \ge y`), or a ``(condition, substitution)`` pair.
    The split must be shown exhaustive (every point of the domain is in some case), every case must simplify to
    0, and the statement is then swept (its boundaries, e.g. :math:`u = w`, are among the test points)."""
    lhs, rhs, sample = exact(lhs), exact(rhs), _exact_sample(sample)
    splits = list(splits)
    statement = Statement("=", lhs, rhs)

    def check():
        original = lhs.free_symbols | rhs.free_symbols
        dom = _resolve([lhs, rhs], domains)
        conditions, substitutions = [], []

        def not_shown(why):
            finding, _ = falsify("=", lhs, rhs, dom, sample=sample, budget=REFUTE_POINTS)
            return _refutation(finding) if finding else (UNPROVED, why)

        for case in splits:
            if isinstance(case, tuple):
                condition, substitution_ = case
                covered = _relation_of_substitution(substitution_, original)
                try:  # the substitution must reach every point of its condition: condition ⇒ covered
                    reaches = covered is not None and _exhaustive([sp.Not(condition), covered], dom)
                except ValueError:
                    reaches = False
                if not reaches:
                    return not_shown(f"the substitution {code(substitution_)} is not shown to cover its case "
                                     f"{code(condition)}")
            elif isinstance(case, dict):
                condition, substitution_ = _relation_of_substitution(case, original), case
            else:
                condition, substitution_ = case, _substitution_of_condition(case, original)
            if condition is None:
                return UNPROVED, f"cannot tell which part of the domain the case {code(case)} covers"
            if substitution_ is None:
                return UNPROVED, f"no substitution encodes the case {code(case)}"
            conditions.append(condition)
            substitutions.append(substitution_)
        try:
            exhaustive = _exhaustive(conditions, dom)
        except ValueError as exc:
            return UNPROVED, str(exc)
        if not exhaustive:
            return not_shown(f"the split {code(', '.join(map(str, conditions)))} is not shown to be exhaustive")
        for case, substitution_ in zip(conditions, substitutions):
            if not prove_zero((lhs - rhs).subs(substitution_), dom):
                return not_shown(f"case {code(case)} not shown")
        return settle("=", lhs, rhs, lambda: f"exhaustive split {code(' ∨ '.join(map(str, conditions)))}, every case "
                                             f"simplifies to 0", dom, sample=sample)

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


def induction(title: str, closed_form, recurrence: Callable, base_value, *, base_at=0, n=STEP,
              sample: dict | None = None, domains=None) -> Step:
    r"""Closed form of a recurrence: base case :math:`c(n_0) = x_{n_0}` and step :math:`c(n) = F(c(n-1), n)` for
    symbolic :math:`n > n_0`; both must simplify to 0 (finite sums and range maxima in normal form). The proof is
    then swept by replaying the recurrence exactly for :math:`n \le n_0 + 12` and at :math:`n_0 + 40`."""
    closed_form, base_value, base_at, sample = exact(closed_form), exact(base_value), exact(base_at), \
        _exact_sample(sample)
    statement = Statement("closed form", closed_form, base_value, var=n, point=base_at)

    def check():
        previous = sp.Dummy("previous")  # the recurrence's hyperparameters need domains too (β in βu_{n−1})
        dom = _resolve([closed_form, base_value, recurrence(previous, n)], domains)
        dom.pop(previous, None)
        dom[n] = _domains.assumption_domain(n)
        base = conventional_value(closed_form.xreplace({n: base_at})) - base_value
        if not prove_zero(base, dom):
            finding, _ = falsify("=", conventional_value(closed_form.xreplace({n: base_at})), base_value,
                                 _resolve([base], dom), sample=sample, budget=REFUTE_POINTS)
            return (REFUTED, f"base case fails at {finding.where()}: {code(finding.lhs)} ≠ {code(finding.rhs)}",
                    finding.counterexample()) if finding else (UNPROVED, f"base case not shown: {code(base)}")
        m = n
        lowest = _domains.assumption_domain(n).inf
        if not (lowest.is_finite and lowest >= base_at + 1):
            m = sp.Dummy("m", integer=True, nonnegative=True) + base_at + 1  # n > n₀ written as n₀ + 1 + m
        step = closed_form.xreplace({n: m}) - recurrence(closed_form.xreplace({n: m - 1}), m)
        forms = [step, expand_sums(step) if step.has(sp.Sum) else step]
        if step.has(RangeMax):
            forms.append(normalize(step))
        if any(prove_zero(form, dom) for form in forms):
            finding = _induction_sweep(closed_form, recurrence, base_value, base_at, n, dom, sample)
            if finding:
                return _downgrade(finding, "base case and induction step simplify to 0")
            return PROVED, "base case and induction step simplify to 0; recurrence replayed exactly against it"
        finding = _induction_sweep(closed_form, recurrence, base_value, base_at, n, dom, sample)
        if finding:
            return _refutation(finding)
        return UNPROVED, f"induction step residue {code(forms[-1])}"

    latex = (f"x_{{{tex(n)}}} = {tex(closed_form)}\\quad(\\text{{base }} {tex(n)}={tex(base_at)}, "
             f"\\text{{step }} {tex(n)}-1 \\to {tex(n)})")
    return guarded("induction", title, latex, check, statement=statement)


# --- conclusions, evidence, combination -------------------------------------------------------------------
def conclude(title: str, latex: str | None, premises: list[Step], kind: str = "bound", *, rule: str | None = None,
             over: tuple | None = None, domains=None) -> Step:
    r"""A conclusion from earlier steps. With ``rule`` (``chain``, ``squeeze``, ``monotone``, ``termwise``,
    ``max_le``; see :mod:`derive.inference`) the inference is checked mechanically and the conclusion shown is the
    one derived from the premises (``proved`` only if every premise is). Without a rule the inference is not
    checked: the step is ``argued``, which is never reported as proved."""
    names = ", ".join(p.title for p in premises)
    if rule is None:
        return Step(kind, title, latex or "", ARGUED,
                    f"argued, not checked: the inference from steps {names} is not verified mechanically")
    start = time.perf_counter()
    pending = [p.title for p in premises if p.status != PROVED]
    if pending:
        return Step(kind, title, latex or "", UNPROVED, f"premises not proved: {', '.join(pending)}",
                    seconds=time.perf_counter() - start)
    try:
        with time_limit(STEP_TIMEOUT):
            statement, how = _derive_by_rule(rule, premises, over=over,
                                             domains=_resolve([p.statement.lhs for p in premises
                                                               if p.statement is not None and p.statement.lhs is not None],
                                                              domains))
    except (InferenceError, CheckTimeout) as exc:
        return Step(kind, title, latex or "", UNPROVED, f"rule {rule!r} does not apply: {exc}",
                    seconds=time.perf_counter() - start)
    return Step(kind, title, statement.latex(tex), PROVED, f"{how} (rule {rule!r}, from steps {names})",
                seconds=time.perf_counter() - start, statement=statement)


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
