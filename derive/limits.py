r"""Step kinds for limits: :func:`limit` and :func:`approximation`. SymPy (continuity, gruntz) finds the limit; it is
accepted with its parameter side conditions shown by the kernel, after a recomputation at special parameters and a
numeric screen (a *checked SymPy limit*)."""
from __future__ import annotations

import itertools
import sympy as sp
from . import domains as _domains
from . import kernel

from .exact import compare, defined, exact
from .inference import Statement
from .sums import ranged
from .timing import CheckTimeout, time_limit
from .statuses import APPROXIMATION, PROVED, REFUTED, Step, UNPROVED, code, guarded, never_raises, tex
from .settling import exact_sample, prove_zero, record_domain, resolve_domains


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


def continuous_limit(expr, var, point, direction):
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
            return continuous_limit(e, var, point, direction)
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
            value = continuous_limit(expr.xreplace(at), var, point, direction)
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
    where = resolve_domains([expr, expected], dom)
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
            value = continuous_limit(expr.xreplace(at), var, point, direction)
            if value is None or value.has(sp.oo, -sp.oo, sp.zoo, sp.nan, sp.AccumBounds, sp.sign) \
                    or target.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
                return None
            difference = sp.simplify(value - target)
            if difference.is_number and defined(difference) and compare(difference, 0) == "differ":
                return value, target
    except (CheckTimeout, TypeError, ValueError, NotImplementedError, ZeroDivisionError, AttributeError):
        return None
    return None


def _side_conditions(expr, var, domains: dict, point=sp.oo, direction="+-") -> str | None:
    r"""The parameter side conditions of a limit, made explicit: every subterm free of ``var`` (a constant of
    the limit, e.g. :math:`1/(\rho_\infty - 4)`) must be defined on the parameters' domain, shown by the
    kernel; a parameter value where one is undefined makes the limit's statement meaningless there. Returns why
    not, or None."""
    nodes = [n for n in sp.preorder_traversal(expr) if isinstance(n, sp.Expr) and n.free_symbols
             and var not in n.free_symbols and not n.is_Atom]
    outer = [n for n in nodes if not any(n is not m and m.has(n) for m in nodes)]
    for n in sorted(set(outer), key=sp.default_sort_key):
        verdict = kernel.prove_defined(n, resolve_domains([n], domains))
        if not verdict.proved:
            where = f" (e.g. at {code(', '.join(f'{k} = {v}' for k, v in verdict.model.items()))})" \
                if verdict.model else ""
            return f"side condition not shown: {code(n)} defined on the parameters' domain{where}"
    if point in (sp.oo, -sp.oo):
        return None
    # at a finite point, a denominator whose limit depends on the parameters must have a nonzero limit on the
    # whole domain: SymPy reads parameters generically (x/(sin x + (a − 3)²) → 0 is wrong at a = 3)
    denominators = {p.base for p in sp.preorder_traversal(expr) if isinstance(p, sp.Pow) and p.exp.is_negative
                    and var in p.base.free_symbols}
    for d in sorted(denominators, key=sp.default_sort_key):
        try:
            with time_limit(2.0):
                value = continuous_limit(d, var, point, direction)
        except (CheckTimeout, OneSidedLimitsDiffer, TypeError, ValueError, NotImplementedError):
            value = None
        if value is not None and not value.free_symbols:
            continue
        if value is None or not kernel.prove_relation("!=", value, sp.Integer(0), resolve_domains([value], domains)):
            return f"side condition not shown: the limit of the denominator {code(d)} is not shown nonzero"
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
    expr, expected, point, sample = exact(expr), exact(expected), exact(point), exact_sample(sample)
    statement = Statement("limit", expr, expected, var=var, point=point)

    def check():
        dom = resolve_domains([expr, expected], domains)
        direction_ = _approach(var, point, direction, dom)
        values = []
        for description, case in _unit_interval_cases(expr, var, point, dom):
            try:
                value = continuous_limit(expr.xreplace(case), var, point, direction_)
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
        missing = _side_conditions(expr, var, dom, point, direction_)
        if missing:
            return UNPROVED, f"SymPy's limit agrees, but {missing}"
        disagreement = _limit_disagrees(expr, expected, var, point, direction_, dom, sample)
        if disagreement:
            return UNPROVED, f"SymPy's limit {code(values[0][1])} is contradicted by a {disagreement}", None, True
        cases_text = "; ".join(f"{code(d)}: {code(v)}" for d, v in values if d) or code(values[0][1])
        return PROVED, f"limit = {cases_text}"

    step = guarded("limit", title, statement.latex(tex), check, statement=statement)
    return record_domain(step, [expr, expected], domains, exclude=(var,))


@never_raises("approximation")
def approximation(title: str, exact_value, approx, var, point, *, relative: bool = True, rewrite: dict | None = None,
                  sample: dict | None = None, domains=None) -> Step:
    r"""``exact ≈ approx``: states the error term (relative by default) and proves it → 0 as ``var → point``.

    ``rewrite`` re-expresses symbols for gruntz (e.g. :math:`\beta = e^{-k}`); it is part of the statement.
    """
    exact_value, approx, sample = exact(exact_value), exact(approx), exact_sample(sample)
    error = sp.simplify(exact_value / approx - 1 if relative else exact_value - approx)
    gruntz_form = error.subs(rewrite or {})

    def check():
        dom = resolve_domains([gruntz_form], domains)
        side = _approach(var, point, "+-", dom)
        try:
            value = continuous_limit(gruntz_form, var, point, side)
        except OneSidedLimitsDiffer as exc:
            return (REFUTED, f"the error {code(error)} has no limit: {exc}",
                    {"left": str(exc.left), "right": str(exc.right)})
        if value is None:
            return UNPROVED, f"SymPy could not evaluate the limit of the error {code(error)}"
        if prove_zero(value, dom):
            special = _limit_at_special_parameters(gruntz_form, sp.Integer(0), var, point, side, dom)
            if special:
                return special
            missing = _side_conditions(gruntz_form, var, dom, point, side)
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
