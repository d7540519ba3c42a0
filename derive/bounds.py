r"""Step kinds for inequalities: :func:`bound`, :func:`monotone`, :func:`monotone_bound`, :func:`roots_in`."""
from __future__ import annotations

import sympy as sp
from . import domains as _domains
from . import kernel

from .exact import defined, exact
from .falsify import falsify
from .inference import Statement
from .sums import RangeMax
from .timing import CheckTimeout, time_limit
from .statuses import PROVED, REFUTED, Step, UNPROVED, code, guarded, never_raises, tex
from .settling import (REFUTE_POINTS, checked_assume, checked_sample, checked_within, downgrade, exact_sample,
                       prove_equal, prove_zero, record_domain, refutation, resolve_domains, settle, within_ranges)
from .limits import continuous_limit


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
        return Statement(relation, exact(lhs).subs(assume_), exact(rhs).subs(assume_), within=within_ranges(within))

    def check():
        assume_ = {exact(k): exact(v) for k, v in (assume or {}).items()}
        lhs_, rhs_ = exact(lhs), exact(rhs)
        ranges = checked_within(within_ranges(within))
        before = resolve_domains([lhs_, rhs_], domains)
        checked_assume(assume_, before)
        lhs_, rhs_ = lhs_.subs(assume_), rhs_.subs(assume_)
        dom = resolve_domains([lhs_, rhs_] + [sp.Tuple(a, b) for _, a, b in ranges], domains)
        dom.update({j: _domains.assumption_domain(j) for j, _, _ in ranges})
        sample_ = checked_sample(sample, dom)
        if not strict:
            structural = _term_of_range(lhs_, rhs_, ranges, dom)
            ranged_ = [c for j, a, b in ranges for c in (sp.Ge(j, a), sp.Le(j, b))]
            if structural and kernel.prove_defined(lhs_, dom, hypotheses=ranged_).proved:
                return PROVED, structural
        return settle(relation, lhs_, rhs_, dom, sample=sample_, within={j: (a, b) for j, a, b in ranges} or None)

    step = guarded("bound", title, lambda: statement().latex(tex) if not strict else
                   f"{tex(statement().lhs)} < {tex(statement().rhs)}", check, statement=statement)
    return record_domain(step, [step.statement.lhs, step.statement.rhs] if step.statement else [], domains)


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
                        else continuous_limit(near, delta, 0, "+")
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
    f, start, sample = exact(f), exact(start), exact_sample(sample)
    direction = "nondecreasing" if increasing else "nonincreasing"
    statement = Statement("monotone", f, None, var=var, point=start, direction=direction)

    def check():
        dom = resolve_domains([f, start], domains)
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
            return refutation(finding) if finding else (UNPROVED, why)

        if shown is None:
            return not_shown(f"sign of f' = {code(sp.simplify(derivative))} on ({code(start)}, ∞) not shown")
        if not kernel.prove_defined(moved, on_right).proved:
            return not_shown(f"f is not shown finite on ({code(start)}, ∞): {code(moved)}")
        jump = _continuity_gap(f, var, start, dom)
        if jump:
            return not_shown(jump)
        from_right = continuous_limit(moved, d, 0, "+")
        if not kernel.prove_defined(at_start, dom).proved or from_right is None \
                or not prove_equal(from_right, at_start, dom):
            return not_shown(f"right-continuity of f at {code(start)} not shown")
        # after a proof, pairs are compared only where f can jump (elsewhere the sign of f′ settles them)
        finding, count = wrong_order(pairs=any(var in n.free_symbols for n in f.atoms(*_JUMPS)))
        if finding:
            return downgrade(finding, f"f' = {code(sp.simplify(derivative))} has the sign shown")
        return (PROVED, f"{kernel.CERTIFICATE_DECISION}: f' = {code(sp.simplify(derivative))} "
                        f"({'≥' if increasing else '≤'} 0 on ({start}, ∞)), f defined there and right-continuous at "
                        f"{code(start)}; {count} exact points agree")

    step = guarded("monotonicity", title, statement.latex(tex), check, statement=statement)
    return record_domain(step, [f, start], domains, exclude=(var,))


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
