r"""The trusted kernel: a statement is ``proved`` only when a decision procedure says so.

A SymPy statement :math:`\mathrm{lhs} \mathrel{R} \mathrm{rhs}` on a domain :math:`D` (a box of intervals, integer
ranges, finite sets) is translated into real arithmetic for Z3 (``z3-solver``; its nlsat procedure is complete for
polynomial real arithmetic, with exact rationals):

* polynomials, rational functions, :math:`\sqrt{\cdot}` and rational powers (a fresh :math:`r \ge 0` with
  :math:`r^q = x`), :math:`|\cdot|`, Max/Min, sign, Heaviside (its value at 0 as SymPy states it), Piecewise (an
  if-chain), floor/ceiling/frac/Mod (a fresh integer :math:`k \le x < k + 1`) are encoded exactly;
* a non-algebraic atom (:math:`\beta^t` with symbolic exponent, :math:`e^x`, :math:`\log x`, sums, range maxima,
  undefined sequences, sin/cos/tanh, …) becomes a fresh variable with *sound* side constraints only
  (:math:`0 < \beta^t < 1` for :math:`0 < \beta < 1 \wedge t > 0`, :math:`\beta^{t+1} = \beta\,\beta^t`,
  :math:`e^x \ge 1 + x`, :math:`\log x \le x - 1`, :math:`\sum_{i=a}^{b} f = \sum_{i=a}^{b-1} f + f(b)`, …): every
  value of the original satisfies them, so a proof of the abstraction is a proof of the original.

**Definedness** is first-class: every term comes with the condition under which it is a real number (denominators
:math:`\ne 0`, radicands :math:`\ge 0`, log arguments :math:`> 0`, a Piecewise condition that holds, integer
exponents of negative bases). An equation is proved when both sides are defined at the same points of :math:`D` and
equal wherever defined; an inequality when both sides are defined on all of :math:`D` and it holds there.

A satisfiable negation is only a *candidate* counterexample: its rational values are re-checked exactly on the
original statement (:mod:`derive.exact`) and inside every declared domain before anything is refuted.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp
import z3
from sympy.core.function import AppliedUndef

from .sums import RangeMax
from .timing import CheckTimeout, time_limit

__all__ = ["Verdict", "Untranslatable", "decide", "prove_zero", "prove_equal", "prove_relation", "prove_defined",
           "CERTIFICATE_DECISION", "certificates", "satisfiable_region"]

#: What the kernel's proofs are counted as (docs/derivations.md: certificate kinds).
CERTIFICATE_DECISION = "decision procedure"
#: Milliseconds one Z3 query may take (a query that runs out is "unknown": never a proof).
QUERY_MS = 4000


class Untranslatable(ValueError):
    """The expression contains something the kernel cannot encode (it is then not proved)."""


@dataclass
class Verdict:
    """``status``: ``"proved"``, ``"counterexample"`` (a candidate: re-check it exactly) or ``"unknown"``."""

    status: str
    reason: str = ""
    model: dict = field(default_factory=dict)

    @property
    def proved(self) -> bool:
        return self.status == "proved"


#: Counts of kernel proofs, per certificate kind (read by the report and the tests).
_COUNTS: dict = {}


def certificates() -> dict:
    return dict(_COUNTS)


#: Nesting of kernel subqueries (closed forms, ratios): deeper ones are not attempted (no endless recursion).
_DEPTH, MAX_DEPTH = 0, 2
#: Time SymPy may take to propose a closed form for a sum.
CLOSED_FORM_SECONDS = 2.0

_STATS = None  # a list to collect Z3's resource counts into (calibration)


def _count(kind: str) -> None:
    _COUNTS[kind] = _COUNTS.get(kind, 0) + 1


def _nested(query, otherwise):
    """Run a kernel subquery one level deeper; beyond :data:`MAX_DEPTH`, or on failure, ``otherwise``."""
    global _DEPTH
    if _DEPTH >= MAX_DEPTH:
        return otherwise
    _DEPTH += 1
    try:
        return query()
    except Exception:  # noqa: BLE001 - a failed subquery shows nothing
        return otherwise
    finally:
        _DEPTH -= 1


class _Encoder:
    """SymPy → Z3 with definedness; ``side`` collects the sound side constraints of abstracted atoms."""

    def __init__(self, domains: dict, opaque=frozenset(), integers: bool = False):
        self.integer_mode = integers  # integer symbols as Z3 integers (linear integer reasoning) instead of reals
        self.ctx = z3.Context()  # a fresh context per query: Z3's answer does not depend on earlier queries
        self.domains = domains
        self.opaque = opaque
        self.symbols: dict = {}
        self.integers: set = set()
        self.atoms: dict = {}
        self.side: list = []
        self.cache: dict = {}
        self.powers: dict = {}  # base -> [(exponent, variable)]
        self.sums: dict = {}  # (function, index, low) -> [(high, variable)]
        self.fresh = itertools.count()
        self.index = sp.Dummy("i", integer=True)

    def variable(self, name: str, integral: bool) -> z3.ArithRef:
        """A fresh real variable; in integer mode, an integral one is a Z3 integer (read as a real)."""
        if integral and self.integer_mode:
            return z3.ToReal(z3.Int(name, self.ctx))
        return z3.Real(name, self.ctx)

    def rational(self, value) -> z3.ArithRef:
        value = sp.Rational(value)
        return z3.RealVal(f"{value.p}/{value.q}", self.ctx)

    # -- symbols and domains --------------------------------------------------------------------------------
    def symbol(self, s: sp.Symbol) -> z3.ArithRef:
        if s not in self.symbols:
            name = f"{s.name}!{len(self.symbols)}"  # by order of appearance: no Dummy index in the name
            domain = self.domains.get(s)
            integral = s.is_integer or isinstance(domain, sp.Range) or domain in (sp.Integers, sp.Naturals,
                                                                                  sp.Naturals0)
            v = self.variable(name, integral)
            self.symbols[s] = v
            self.side.extend(self.membership(v, self.domains.get(s), s))
        return self.symbols[s]

    def membership(self, v, domain, s=None) -> list:
        out = []
        if s is not None:
            if s.is_integer:
                out.append(z3.IsInt(v))
                self.integers.add(s)
            if s.is_positive:
                out.append(v > 0)
            elif s.is_nonnegative:
                out.append(v >= 0)
            if s.is_negative:
                out.append(v < 0)
            elif s.is_nonpositive:
                out.append(v <= 0)
            if s.is_zero is False and s.is_real:
                out.append(v != 0)
        if domain is not None and domain != sp.Reals:
            out.append(self.set_condition(v, domain))
        return out

    def set_condition(self, v, domain) -> z3.BoolRef:
        if isinstance(domain, sp.Interval):
            parts = []
            if domain.start.is_finite:
                parts.append(v > self.value(domain.start) if domain.left_open else v >= self.value(domain.start))
            if domain.end.is_finite:
                parts.append(v < self.value(domain.end) if domain.right_open else v <= self.value(domain.end))
            return z3.And(*parts, self.ctx) if parts else z3.BoolVal(True, self.ctx)
        if isinstance(domain, sp.Range):
            if domain.step not in (1, -1):
                raise Untranslatable(f"range with step {domain.step}")
            parts = [z3.IsInt(v)]
            if domain.inf.is_finite:
                parts.append(v >= self.value(domain.inf))
            if domain.sup.is_finite:
                parts.append(v <= self.value(domain.sup))
            return z3.And(*parts, self.ctx)
        if domain in (sp.Integers, sp.Naturals, sp.Naturals0):
            lowest = {sp.Naturals: 1, sp.Naturals0: 0}.get(domain)
            return z3.And(z3.IsInt(v), *([v >= lowest] if lowest is not None else []))
        if domain == sp.Reals:
            return z3.BoolVal(True, self.ctx)
        if isinstance(domain, sp.FiniteSet):
            return z3.Or(*[v == self.value(e) for e in domain.args], self.ctx) if domain.args else z3.BoolVal(False, self.ctx)
        if isinstance(domain, sp.Union):
            return z3.Or(*[self.set_condition(v, a) for a in domain.args], self.ctx)
        if isinstance(domain, sp.Intersection):
            return z3.And(*[self.set_condition(v, a) for a in domain.args], self.ctx)
        if isinstance(domain, sp.Complement):
            return z3.And(self.set_condition(v, domain.args[0]), z3.Not(self.set_condition(v, domain.args[1])))
        if domain is sp.S.EmptySet:
            return z3.BoolVal(False, self.ctx)
        raise Untranslatable(f"domain {domain}")

    def value(self, e) -> z3.ArithRef:
        value, ok = self.term(sp.sympify(e))
        if not z3.is_true(z3.simplify(ok)):
            self.side.append(ok)
        return value

    # -- terms --------------------------------------------------------------------------------------------
    def term(self, e) -> tuple:
        """(value, defined) of a real-valued SymPy expression."""
        key = e
        if key in self.cache:
            return self.cache[key]
        result = self._term(e)
        if e in self.opaque:  # generalised: its definedness kept, its value a fresh variable
            y = z3.Real(f"opaque{len(self.cache)}", self.ctx)
            self.side.extend(self._sign_facts(e, y))
            result = (y, result[1])
        self.cache[key] = result
        return result

    def _sign_facts(self, e, y) -> list:
        """What the kernel shows about the sign of a generalised subterm (where it is defined), for its variable."""
        if isinstance(e, (sp.Abs, RangeMax)) or (isinstance(e, sp.Max) and 0 in e.args) or \
                (isinstance(e, sp.Pow) and e.exp.is_Rational and e.exp.q == 2):
            return [y >= 0]
        for relation, fact in (("<", y > 0), ("<=", y >= 0), (">", y < 0), (">=", y <= 0)):
            shown = _nested(lambda: _where_defined(relation, sp.Integer(0), e, self.domains), False)
            if shown:
                return [fact]
        return []

    def _term(self, e):
        T = z3.BoolVal(True, self.ctx)
        if isinstance(e, sp.Symbol):
            if e.is_real is False:
                raise Untranslatable(f"non-real symbol {e}")
            return self.symbol(e), T
        if e.is_Rational:
            return self.rational(e), T
        if isinstance(e, sp.Float):
            from .exact import decimal_rational
            return self.rational(decimalself.rational(e)), T
        if e in (sp.nan, sp.zoo, sp.oo, -sp.oo) or e.has(sp.I):
            return z3.RealVal(0, self.ctx), z3.BoolVal(False, self.ctx)
        if e is sp.pi or e is sp.E or isinstance(e, sp.NumberSymbol):
            return self.atom(e, lambda v: [v > self.rational(sp.floor(e)), v < self.rational(sp.floor(e) + 1)]), T
        if isinstance(e, sp.Add):
            parts = [self.term(a) for a in e.args]
            return sum((p[0] for p in parts[1:]), parts[0][0]), z3.And(*[p[1] for p in parts], self.ctx)
        if isinstance(e, sp.Mul):
            parts = [self.term(a) for a in e.args]
            value = parts[0][0]
            for p in parts[1:]:
                value = value * p[0]
            return value, z3.And(*[p[1] for p in parts], self.ctx)
        if isinstance(e, sp.Pow):
            return self.power(e)
        if isinstance(e, sp.Abs):
            a, d = self.term(e.args[0])
            return z3.If(a >= 0, a, -a), d
        if isinstance(e, sp.sign):
            a, d = self.term(e.args[0])
            return z3.If(a > 0, z3.RealVal(1, self.ctx), z3.If(a < 0, z3.RealVal(-1, self.ctx), z3.RealVal(0, self.ctx))), d
        if isinstance(e, sp.Heaviside):
            a, d = self.term(e.args[0])
            h0 = e.args[1] if len(e.args) > 1 else sp.Rational(1, 2)
            h, dh = self.term(sp.sympify(h0))
            return z3.If(a > 0, z3.RealVal(1, self.ctx), z3.If(a < 0, z3.RealVal(0, self.ctx), h)), z3.And(d, dh)
        if isinstance(e, (sp.Max, sp.Min)):
            parts = [self.term(a) for a in e.args]
            value = parts[0][0]
            for p in parts[1:]:
                value = z3.If(p[0] > value, p[0], value) if isinstance(e, sp.Max) else z3.If(p[0] < value, p[0], value)
            return value, z3.And(*[p[1] for p in parts], self.ctx)
        if isinstance(e, sp.Piecewise):
            value, ok = z3.RealVal(0, self.ctx), z3.BoolVal(False, self.ctx)
            for branch, condition in reversed(e.args):
                c, dc = self.boolean(condition)
                b, db = self.term(branch)
                value, ok = z3.If(c, b, value), z3.And(dc, z3.If(c, db, ok))
            return value, ok
        if isinstance(e, (sp.floor, sp.ceiling, sp.frac)):
            a, d = self.term(e.args[0])
            k = self.variable(f"k!{next(self.fresh)}", True)
            self.side.append(z3.IsInt(k))
            if isinstance(e, sp.ceiling):
                self.side += [z3.Implies(d, z3.And(k >= a, k < a + 1))]
                return k, d
            self.side += [z3.Implies(d, z3.And(k <= a, a < k + 1))]
            return (k if isinstance(e, sp.floor) else a - k), d
        if isinstance(e, sp.Mod):
            a, da = self.term(e.args[0])
            b, db = self.term(e.args[1])
            k = self.variable(f"k!{next(self.fresh)}", True)
            self.side += [z3.IsInt(k), z3.Implies(z3.And(da, db, b > 0), z3.And(k * b <= a, a < (k + 1) * b)),
                          z3.Implies(z3.And(da, db, b < 0), z3.And(k * b >= a, a > (k + 1) * b))]
            return a - k * b, z3.And(da, db, b != 0)
        if isinstance(e, sp.exp):
            x, d = self.term(e.args[0])
            return self.atom(e, lambda v: [v > 0, v >= 1 + x, z3.Implies(x == 0, v == 1), z3.Implies(x > 0, v > 1),
                                           z3.Implies(x < 0, v < 1)]), d
        if isinstance(e, sp.log) and len(e.args) == 1:
            x, d = self.term(e.args[0])
            return self.atom(e, lambda v: [z3.Implies(x > 0, z3.And(v <= x - 1, v * x >= x - 1)),
                                           z3.Implies(x == 1, v == 0), z3.Implies(x > 1, v > 0),
                                           z3.Implies(z3.And(x > 0, x < 1), v < 0)]), z3.And(d, x > 0)
        if isinstance(e, (sp.sin, sp.cos)):
            x, d = self.term(e.args[0])
            v = self.atom(e, lambda v: [v >= -1, v <= 1])
            partner = (sp.cos if isinstance(e, sp.sin) else sp.sin)(e.args[0])
            if partner in self.atoms:  # sin² + cos² = 1
                self.side.append(v * v + self.atoms[partner] * self.atoms[partner] == 1)
            return v, d
        if isinstance(e, sp.tanh):
            x, d = self.term(e.args[0])
            return self.atom(e, lambda v: [v > -1, v < 1, z3.Implies(x > 0, v > 0), z3.Implies(x < 0, v < 0),
                                           z3.Implies(x == 0, v == 0)]), d
        if isinstance(e, AppliedUndef):  # a real sequence / function: total, otherwise unknown
            args = [self.term(a) for a in e.args]
            return self.atom(e, lambda v: []), z3.And(*[a[1] for a in args], self.ctx)
        if isinstance(e, (sp.Sum, RangeMax)):
            return self.sum_atom(e)
        raise Untranslatable(f"{type(e).__name__}: {sp.sstr(e)[:80]}")

    def atom(self, e, constraints) -> z3.ArithRef:
        if e not in self.atoms:
            v = z3.Real(f"atom{len(self.atoms)}", self.ctx)
            self.atoms[e] = v
            self.side.extend(constraints(v))
        return self.atoms[e]

    def power(self, e):
        base, exponent = e.base, e.exp
        if exponent.is_Integer:
            b, d = self.term(base)
            n = int(exponent)
            if n == 0:
                return z3.RealVal(1, self.ctx), d
            value = b
            for _ in range(abs(n) - 1):
                value = value * b
            return (value, d) if n > 0 else (1 / value, z3.And(d, b != 0))
        if exponent.is_Rational:  # principal real root: the base must be ≥ 0 (SymPy's (-8)**(1/3) is complex)
            b, d = self.term(base)
            p, q = int(exponent.p), int(exponent.q)
            root = self.atom(sp.Pow(base, sp.Rational(1, q), evaluate=False), lambda r: [])
            self.side.append(z3.Implies(z3.And(d, b >= 0), z3.And(root >= 0, self._ipow(root, q) == b)))
            value = self._ipow(root, abs(p))
            ok = z3.And(d, b >= 0)
            return (value, ok) if p > 0 else (1 / value, z3.And(ok, b != 0))
        if base is sp.E:
            return self.term(sp.exp(exponent))
        canonical = sp.Pow(base, sp.expand(exponent), evaluate=False)
        if canonical != e:
            return self.term(canonical)
        return self.symbolic_power(e)

    @staticmethod
    def _ipow(v, n):
        out = v
        for _ in range(n - 1):
            out = out * v
        return out

    def symbolic_power(self, e):
        r""":math:`\beta^{u}`, :math:`u` not a number: an atom with its sound side constraints."""
        base, exponent = e.base, e.exp
        b, db = self.term(base)
        u, du = self.term(exponent)
        integral = z3.BoolVal(True, self.ctx) if exponent.is_integer else z3.BoolVal(False, self.ctx)
        ok = z3.And(db, du, z3.Or(b > 0, z3.And(b == 0, u >= 0), z3.And(integral, b != 0)))  # 0^0 = 1

        def constraints(v):
            out = [z3.Implies(b > 0, v > 0), z3.Implies(z3.And(b == 0, u > 0), v == 0),
                   z3.Implies(u == 0, v == 1), z3.Implies(b == 1, v == 1),
                   z3.Implies(z3.And(b > 0, b < 1, u > 0), v < 1), z3.Implies(z3.And(b > 1, u > 0), v > 1),
                   z3.Implies(z3.And(b > 0, b < 1, u < 0), v > 1), z3.Implies(z3.And(b > 1, u < 0), v < 1),
                   z3.Implies(z3.And(b >= 0, b <= 1, u >= 1), v <= b), z3.Implies(z3.And(b >= 1, u >= 1), v >= b),
                   z3.Implies(z3.And(b > 0, u == 1), v == b)]
            if exponent.is_integer:
                out.append(z3.Implies(z3.And(u > 0, b >= 0), v >= 0))
            return out

        v = self.atom(e, constraints)
        self._power_rules(e, v, b, u)
        # relations between powers of the same base: β^{u+k} = β^k·β^u (k an integer), β^{cu} = (β^u)^c
        known = self.powers.setdefault(base, [])
        for other_exponent, w in known:
            shift = sp.expand(exponent - other_exponent)
            if shift.is_Integer and shift != 0:
                k = int(shift)
                high, low = (v, w) if k > 0 else (w, v)
                low_exponent, _ = self.term(other_exponent if k > 0 else exponent)
                factor = self._ipow(b, abs(k))
                self.side.append(z3.Implies(z3.Or(b > 0, z3.And(b == 0, low_exponent >= 0)), high == factor * low))
                continue
            ratio = sp.cancel(exponent / other_exponent)
            if ratio.is_Integer and ratio > 1:
                self.side.append(z3.Implies(b > 0, v == self._ipow(w, int(ratio))))
            elif ratio.is_Rational and (1 / ratio).is_Integer and 1 / ratio > 1:
                self.side.append(z3.Implies(b > 0, w == self._ipow(v, int(1 / ratio))))
        known.append((exponent, v))
        return v, ok

    def _power_rules(self, e, v, b, u):
        r"""Conditional laws of real powers: :math:`(\prod_k f_k)^u = \prod_k f_k^u` and
        :math:`(a^w)^u = a^{wu}` where every base is :math:`> 0` (or :math:`\ge 0` with :math:`u, w > 0`)."""
        base, exponent = e.base, e.exp
        if isinstance(base, sp.Mul):
            factors = [self.term(f) for f in base.args]
            powers = [self.term(sp.Pow(f, exponent)) for f in base.args]
            product = powers[0][0]
            for w, _ in powers[1:]:
                product = product * w
            self.side.append(z3.Implies(z3.And(*[d for _, d in factors], *[d for _, d in powers],
                                               z3.Or(z3.And(*[f > 0 for f, _ in factors], self.ctx),
                                                     z3.And(u > 0, *[f >= 0 for f, _ in factors]))),
                                        v == product))
        elif isinstance(base, sp.Pow):
            a, da = self.term(base.base)
            w, dw = self.term(base.exp)
            merged, dm = self.term(sp.Pow(base.base, sp.expand(base.exp * exponent)))
            self.side.append(z3.Implies(z3.And(da, dw, dm, z3.Or(a > 0, z3.And(a >= 0, w > 0, u > 0))),
                                        v == merged))

    def sum_atom(self, e):
        r"""A finite sum / range maximum (:class:`~derive.sums.RangeMax`, which includes 0) with integer limits,
        conventional (an empty range gives 0): an atom. Two ranges :math:`[a, b]` and :math:`[a, b-1]` of summands
        :math:`f_b(i)`, :math:`f_{b-1}(i)` with :math:`f_b(i) = r\,f_{b-1}(i)` for :math:`a \le i \le b - 1`
        (:math:`r` free of :math:`i`, proposed by SymPy and shown by the kernel) are related by
        :math:`S_b = r\,S_{b-1} + f_b(b)` for :math:`b \ge a` (a maximum: :math:`\max(r\,M_{b-1}, f_b(b))`,
        :math:`r \ge 0`)."""
        if len(e.limits) != 1:
            raise Untranslatable("nested range")
        index, low, high = e.limits[0]
        if not (sp.sympify(low).is_integer and sp.sympify(high).is_integer):
            raise Untranslatable(f"range with limits not shown integer: {sp.sstr(e)[:60]}")
        a, da = self.term(low)
        h, dh = self.term(high)
        i = self.index  # one index for every range: summands compare directly
        function = e.function.xreplace({index: i})
        is_sum = isinstance(e, sp.Sum)
        defined = self._summand_defined(function, i, low, high)
        v = self.atom(e, lambda v: [z3.Implies(h < a, v == 0)] + ([v >= 0] if not is_sum else []))
        if index not in e.function.free_symbols:  # a constant summand: (b − a + 1)·f
            c, dc = self.term(e.function)
            self.side.append(z3.Implies(z3.And(dc, h >= a - 1), v == (h - a + 1) * c if is_sum else
                                        v == z3.If(z3.And(h >= a, c > 0), c, z3.RealVal(0, self.ctx))))
        else:
            if is_sum and self._nonnegative_on(function, i, low, high):
                self.side.append(v >= 0)
            closed = self._closed_form(e) if is_sum else None
            if closed is not None:
                c, dc = self.term(closed)
                self.side.append(z3.Implies(z3.And(dc, h >= a - 1), v == c))
        known = self.sums.setdefault((type(e), low), [])
        for other_high, other_function, w in known:
            shift = sp.expand(high - other_high)
            if shift not in (1, -1):
                continue
            (top, top_high, top_f), (below, below_f) = ((v, high, function), (w, other_function)) if shift == 1 \
                else ((w, other_high, other_function), (v, function))
            ratio = self._ratio(top_f, below_f, i, low, top_high - 1)
            if ratio is None:
                continue
            r, dr = self.term(ratio)
            t_, _ = self.term(top_high)
            last, dl = self.term(top_f.xreplace({i: top_high}))
            grow = top == r * below + last if is_sum else z3.And(r >= 0, top == z3.If(last > r * below, last, r * below))
            self.side.append(z3.Implies(z3.And(t_ >= a, dl, dr), grow) if is_sum else
                             z3.Implies(z3.And(t_ >= a, dl, dr, r >= 0), grow))
        known.append((high, function, v))
        return v, z3.And(da, dh, defined)

    def _closed_form(self, e):
        r"""SymPy's closed form :math:`C(h)` of :math:`\sum_{i=a}^{h} f(i)` (``doit``), accepted only when the
        kernel checks it by induction on :math:`h`: :math:`C(a-1) = 0` and :math:`C(h) - C(h-1) = f(h)` for every
        integer :math:`h \ge a`. Returned with the sum's own upper limit substituted; None otherwise."""
        index, low, high = e.limits[0]
        if _DEPTH >= MAX_DEPTH or e.function.has(sp.Sum, RangeMax):
            return None
        top = sp.Dummy("h", integer=True)
        try:
            with time_limit(CLOSED_FORM_SECONDS):
                candidate = sp.Sum(e.function, (index, low, top)).doit()
        except CheckTimeout:
            return None
        except Exception:  # noqa: BLE001 - no candidate
            return None
        if candidate.has(sp.Sum, sp.Piecewise) or not isinstance(candidate, sp.Expr):
            return None

        def checked():
            empty = decide_exactly("=", candidate.xreplace({top: low - 1}), sp.Integer(0), self.domains,
                                   ms=QUERY_MS // 4)
            step = decide_exactly("=", candidate - candidate.xreplace({top: top - 1}),
                                  e.function.xreplace({index: top}), {**self.domains, top: sp.Integers},
                                  ms=QUERY_MS // 4, hypotheses=(sp.Ge(top, low),))
            return empty.proved and step.proved
        return candidate.xreplace({top: high}) if _nested(checked, False) else None

    def _nonnegative_on(self, f, i, low, high) -> bool:
        return _nested(lambda: decide_exactly("<=", sp.Integer(0), f, self.domains, ms=QUERY_MS // 8,
                                              hypotheses=(sp.Ge(i, low), sp.Le(i, high))).proved, False)

    def _ratio(self, f, g, i, low, high):
        """r free of i with f(i) = r·g(i) for low ≤ i ≤ high (SymPy proposes, a kernel subquery checks), or None."""
        if f == g:
            return sp.Integer(1)
        try:
            ratio = sp.powsimp(sp.cancel(f / g), force=False)
            if i in ratio.free_symbols:
                ratio = sp.simplify(ratio)
            if i in ratio.free_symbols:
                return None
        except Exception:  # noqa: BLE001 - no relation
            return None
        proved = _nested(lambda: decide("=", f, ratio * g, self.domains, ms=QUERY_MS // 4,
                                        hypotheses=(sp.Ge(i, low), sp.Le(i, high))).proved, False)
        return ratio if proved else None

    def _summand_defined(self, f_i, i, low, high):
        if _DEPTH >= MAX_DEPTH:
            return z3.Bool(f"summand_defined!{next(self.fresh)}", self.ctx)
        sub = _Encoder(self.domains)
        try:
            _, ok = sub.term(f_i)
            iv = sub.symbol(i)
            lo, _ = sub.term(sp.sympify(low))
            hi, _ = sub.term(sp.sympify(high))
            solver = _solver(QUERY_MS // 4, sub.ctx)
            solver.add(*sub.side, iv >= lo, iv <= hi, z3.Not(ok))
            if solver.check() == z3.unsat:
                return z3.BoolVal(True, self.ctx)
        except (Untranslatable, z3.Z3Exception, RecursionError):
            pass
        return z3.Bool(f"summand_defined!{next(self.fresh)}", self.ctx)

    # -- conditions ---------------------------------------------------------------------------------------
    def boolean(self, c) -> tuple:
        """(truth, defined) of a condition."""
        T = z3.BoolVal(True, self.ctx)
        if c is sp.true or c is True:
            return T, T
        if c is sp.false or c is False:
            return z3.BoolVal(False, self.ctx), T
        if isinstance(c, sp.core.relational.Relational):
            a, da = self.term(c.lhs)
            b, db = self.term(c.rhs)
            op = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[c.rel_op]
            return op, z3.And(da, db)
        if isinstance(c, (sp.And, sp.Or)):
            parts = [self.boolean(a) for a in c.args]
            join = z3.And if isinstance(c, sp.And) else z3.Or
            return join(*[p[0] for p in parts], self.ctx), z3.And(*[p[1] for p in parts], self.ctx)
        if isinstance(c, sp.Not):
            a, d = self.boolean(c.args[0])
            return z3.Not(a), d
        raise Untranslatable(f"condition {c}")


#: Z3 resource units per millisecond of budget: queries are bounded by ``rlimit`` (deterministic, whatever the
#: load of the machine), with a wall-clock timeout of ten times the budget as a safety net.
RLIMIT_PER_MS = 2000


def _solver(ms: int = QUERY_MS, ctx=None) -> z3.Solver:
    solver = z3.Solver(ctx=ctx)
    solver.set("rlimit", int(ms) * RLIMIT_PER_MS)
    solver.set("timeout", 10 * int(ms))
    return solver


def _check(encoder: _Encoder, goal_negation, ms: int) -> Verdict:
    """Unsatisfiability of domain ∧ side constraints ∧ ``goal_negation``; first with integers relaxed to reals
    (pure nonlinear real arithmetic: nlsat decides it), then with integrality (in integer mode, directly)."""
    relaxed = [c for c in encoder.side if not _is_integrality(c)]
    passes = (encoder.side,) if encoder.integer_mode or len(relaxed) == len(encoder.side) else (relaxed, encoder.side)
    for constraints in passes:
        solver = _solver(ms, encoder.ctx)
        solver.add(*constraints, goal_negation)
        try:
            answer = solver.check()
        except z3.Z3Exception as exc:
            return Verdict("unknown", f"Z3: {exc}")
        if _STATS is not None:
            _STATS.append(solver.statistics().get_key_value("rlimit count"))
        if answer == z3.unsat:
            return Verdict("proved", "Z3 (nonlinear real arithmetic): the negation is unsatisfiable on the domain")
        if answer == z3.sat and constraints is encoder.side:
            return Verdict("counterexample", "Z3 found a model of the negation", _model(encoder, solver.model()))
        if answer == z3.unknown:  # out of time: integrality constraints would only make it harder
            break
    return Verdict("unknown", "Z3 neither proved the statement nor found a model of its negation in time")


def _is_integrality(c) -> bool:
    return z3.is_app_of(c, z3.Z3_OP_IS_INT)


def _model(encoder: _Encoder, model) -> dict:
    out = {}
    for s, v in encoder.symbols.items():
        value = model.eval(v, model_completion=True)
        if z3.is_rational_value(value):
            out[s] = sp.Rational(value.numerator_as_long(), value.denominator_as_long())
        elif z3.is_algebraic_value(value):  # an irrational model value: its 40-digit rational neighbour is tried
            out[s] = sp.Rational(Fraction(value.as_decimal(40).rstrip("?")))
    return out


def _common_subterms(lhs, rhs) -> frozenset:
    """Compound subterms (with symbols) common to both sides: the maximal ones, then those still common once
    the maximal ones are set aside (``1 − β^t`` inside a shared root and outside it), and so on."""
    def subterms(e):
        return {n for n in sp.preorder_traversal(e) if isinstance(n, sp.Expr) and n.free_symbols
                and not n.is_Atom and not isinstance(n, (sp.Symbol, AppliedUndef))}
    found: set = set()
    for _ in range(4):
        common = subterms(lhs) & subterms(rhs)
        maximal = [n for n in common if not any(n is not m and m.has(n) for m in common)]
        if not maximal:
            break
        found.update(maximal)
        hidden = {n: sp.Dummy("common") for n in maximal}
        lhs, rhs = lhs.xreplace(hidden), rhs.xreplace(hidden)
    return frozenset(found)


def decide(relation: str, lhs, rhs, domains: dict, *, ms: int = QUERY_MS, where_defined: bool = False,
           hypotheses=()) -> Verdict:
    r"""As :func:`decide_exactly`; first with the subterms common to both sides generalised (each a fresh
    variable, its definedness kept: a proof for every value is a proof for the actual one), which is fast when
    an identity holds by its structure."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    common = _common_subterms(lhs, rhs) if relation == "=" else frozenset()
    if common and lhs != rhs:
        verdict = decide_exactly(relation, lhs, rhs, domains, ms=ms, where_defined=where_defined,
                                 hypotheses=hypotheses, opaque=common)
        if verdict.proved:
            return verdict
    return decide_exactly(relation, lhs, rhs, domains, ms=ms, where_defined=where_defined, hypotheses=hypotheses)


def decide_exactly(relation: str, lhs, rhs, domains: dict, *, ms: int = QUERY_MS, where_defined: bool = False,
                   hypotheses=(), opaque=frozenset()) -> Verdict:
    """As :func:`decide_in_mode` over the reals; if that neither proves nor refutes and integers occur, again with
    integer symbols as Z3 integers (⌈t/2⌉ + ⌊t/2⌋ = t is linear integer arithmetic)."""
    verdict, integral = decide_in_mode(relation, lhs, rhs, domains, ms=ms, where_defined=where_defined,
                                       hypotheses=hypotheses, opaque=opaque)
    if verdict.proved or verdict.status == "counterexample" or not integral:
        return verdict
    again, _ = decide_in_mode(relation, lhs, rhs, domains, ms=ms // 2, where_defined=where_defined,
                              hypotheses=hypotheses, opaque=opaque, integers=True)
    return again if again.status != "unknown" else verdict


def decide_in_mode(relation: str, lhs, rhs, domains: dict, *, ms: int = QUERY_MS, where_defined: bool = False,
                   hypotheses=(), opaque=frozenset(), integers: bool = False) -> tuple:
    r"""Decide ``lhs relation rhs`` (``=``, ``<=``, ``<``, ``!=``) on ``domains``.

    ``=``: both sides defined at the same points and equal where defined (``where_defined``: only where both
    are). Inequalities: both sides defined on the whole domain and the relation holds. ``hypotheses``: SymPy
    conditions that restrict the domain (e.g. :math:`a \le j \le b` for an index). Returns the verdict and
    whether integrality constraints occurred."""
    encoder = _Encoder(domains, opaque, integers)
    try:
        for h in hypotheses:
            c, ok = encoder.boolean(sp.sympify(h))
            encoder.side.append(z3.And(c, ok))
        a, da = encoder.term(sp.sympify(lhs))
        b, db = encoder.term(sp.sympify(rhs))
        for s in sorted(domains, key=sp.default_sort_key):  # a declared domain restricts even an absent symbol
            if isinstance(s, sp.Symbol):
                encoder.symbol(s)
    except (Untranslatable, z3.Z3Exception, RecursionError, TypeError, ValueError) as exc:
        return Verdict("unknown", f"not in the kernel's language ({exc})"), False
    integral = any(_is_integrality(c) for c in encoder.side)
    if relation == "=":
        if not where_defined:
            alike = _check(encoder, da != db, ms)
            if not alike.proved:
                reason = "the two sides are not shown defined at the same points"
                return Verdict(alike.status, f"{reason} ({alike.reason})", alike.model), integral
        # equal in every model, defined or not (Z3's division is total), is a proof for the defined points:
        # a cheap first try for identities that hold by their algebra
        verdict = _check(encoder, a != b, ms // 4)
        if not verdict.proved:
            verdict = _check(encoder, z3.And(da, db, a != b), ms)
    else:
        defined = _check(encoder, z3.Not(z3.And(da, db)), ms)
        if not defined.proved:
            return Verdict(defined.status, f"a side is not shown defined on the whole domain ({defined.reason})",
                           defined.model), integral
        holds = {"<=": a <= b, "<": a < b, "!=": a != b, ">=": a >= b, ">": a > b}[relation]
        verdict = _check(encoder, z3.Not(holds), ms)
    if verdict.proved:
        _count(CERTIFICATE_DECISION)
    return verdict, integral


def _where_defined(relation, lhs, rhs, domains) -> bool:
    """``lhs relation rhs`` at every point of the domain where ``rhs`` is defined (a short query)."""
    encoder = _Encoder(domains)
    a, _ = encoder.term(sp.sympify(lhs))
    b, db = encoder.term(sp.sympify(rhs))
    holds = {"<=": a <= b, "<": a < b, ">=": a >= b, ">": a > b}[relation]
    return _check(encoder, z3.And(db, z3.Not(holds)), QUERY_MS // 8).proved


def prove_relation(relation: str, lhs, rhs, domains: dict, **kw) -> bool:
    return decide(relation, lhs, rhs, domains, **kw).proved


def prove_equal(lhs, rhs, domains: dict, **kw) -> bool:
    return decide("=", lhs, rhs, domains, **kw).proved


def prove_zero(expr, domains: dict | None = None, **kw) -> bool:
    r"""``expr`` is defined on the whole domain and equal to 0 there."""
    return decide("=", expr, sp.Integer(0), domains or {}, **kw).proved


def prove_defined(expr, domains: dict, ms: int = QUERY_MS, hypotheses=()) -> Verdict:
    """Whether ``expr`` is a real number at every point of ``domains`` (where ``hypotheses`` hold)."""
    encoder = _Encoder(domains)
    try:
        for h in hypotheses:
            c, ok = encoder.boolean(sp.sympify(h))
            encoder.side.append(z3.And(c, ok))
        _, ok = encoder.term(sp.sympify(expr))
    except (Untranslatable, z3.Z3Exception, RecursionError, TypeError, ValueError) as exc:
        return Verdict("unknown", f"not in the kernel's language ({exc})")
    return _check(encoder, z3.Not(ok), ms)


def satisfiable_region(condition, domains: dict, ms: int = QUERY_MS) -> Verdict:
    """``proved`` iff ``condition`` (a SymPy boolean) holds at every point of ``domains``."""
    encoder = _Encoder(domains)
    try:
        c, ok = encoder.boolean(condition)
        for s in domains:
            if isinstance(s, sp.Symbol):
                encoder.symbol(s)
    except (Untranslatable, z3.Z3Exception, RecursionError, TypeError, ValueError) as exc:
        return Verdict("unknown", f"not in the kernel's language ({exc})")
    return _check(encoder, z3.Not(z3.And(ok, c)), ms)
