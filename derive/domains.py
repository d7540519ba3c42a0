r"""Where a claim's symbols live: domains per spec and per claim, never per symbol across the catalogue.

A symbol's domain is the set its SymPy assumptions allow (``positive`` → :math:`(0, \infty)`, ``integer`` and
``positive`` → :math:`\{1, 2, \dots\}`, …), intersected with every domain that applies *here*:

* the ``domains=`` argument of a step (a ``{symbol or name: Set}`` mapping, an :class:`OptimizerSpec`, a
  :class:`~derive.equivalence.Dynamics`, or a list of these);
* the domains of the specs a running claim is about (declared with ``specs=`` or read with ``specs.get`` while it
  runs: :func:`scope`);
* for an equivalence, the hyperparameter domains of the specs both sides came from.

Two specs that give one symbol different domains (``alpha`` is :math:`[0, 1)` in ``rmsprop_torch`` and
:math:`[0, \infty)` in ``asgd_torch``) meet in their intersection: a counterexample is only ever taken where
every spec involved allows it, and a falsification sweep only tests such points.

:func:`special_values` and :func:`generic_values` give exact test values inside a domain.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
from typing import Callable, Iterable, Mapping

import sympy as sp

__all__ = ["assumption_domain", "as_mapping", "scope", "resolve", "special_values", "generic_values",
           "contains", "unit_interval_bases"]

_SCOPE: contextvars.ContextVar[tuple] = contextvars.ContextVar("derive_domain_scope", default=())


def assumption_domain(symbol: sp.Symbol) -> sp.Set:
    """The real values a symbol's SymPy assumptions allow (a symbol without assumptions: all reals)."""
    if symbol.is_integer:
        if symbol.is_positive:
            return sp.Range(1, sp.oo)
        if symbol.is_nonnegative:
            return sp.Range(0, sp.oo)
        if symbol.is_negative:
            return sp.Range(-sp.oo, 0)
        if symbol.is_nonpositive:
            return sp.Range(-sp.oo, 1)
        if symbol.is_zero is False:
            return sp.Integers - sp.FiniteSet(0)
        return sp.Integers
    if symbol.is_positive:
        return sp.Interval.open(0, sp.oo)
    if symbol.is_nonnegative:
        return sp.Interval(0, sp.oo)
    if symbol.is_negative:
        return sp.Interval.open(-sp.oo, 0)
    if symbol.is_nonpositive:
        return sp.Interval(-sp.oo, 0)
    if symbol.is_zero is False:
        return sp.Union(sp.Interval.open(-sp.oo, 0), sp.Interval.open(0, sp.oo))
    return sp.Reals


def as_mapping(domains) -> dict:
    """Normalise a ``domains=`` argument to ``{symbol or name: Set}`` (several sources meet in their intersection)."""
    if domains is None:
        return {}
    if hasattr(domains, "hyperparameters") and hasattr(domains, "assignments"):  # an OptimizerSpec
        return {h.symbol: h.domain for h in domains.hyperparameters}
    if hasattr(domains, "domains") and hasattr(domains, "update"):  # a Dynamics
        return dict(domains.domains)
    if isinstance(domains, Mapping):
        return {k: (v if isinstance(v, sp.Set) else sp.FiniteSet(*v)) for k, v in domains.items()}
    merged: dict = {}
    for part in domains:
        for k, v in as_mapping(part).items():
            merged[k] = merged[k].intersect(v) if k in merged else v
    return merged


@contextlib.contextmanager
def scope(provider: Callable[[], Mapping] | Mapping):
    """Domains that apply to every step run inside the block (a mapping, or a callable returning one, read
    each time a step asks: a claim's scope grows as it reads specs)."""
    token = _SCOPE.set(_SCOPE.get() + (provider,))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def _lookup(mapping: Mapping, symbol: sp.Symbol):
    if symbol in mapping:
        return mapping[symbol]
    return mapping.get(symbol.name)


def resolve(symbols: Iterable[sp.Symbol], explicit=None) -> dict:
    """``{symbol: Set}``: each symbol's assumption domain ∩ the scope's domains ∩ the explicit ones."""
    sources = [p() if callable(p) else p for p in _SCOPE.get()]
    sources = [as_mapping(s) for s in sources] + [as_mapping(explicit)]
    out = {}
    for symbol in symbols:
        domain = assumption_domain(symbol)
        for source in sources:
            extra = _lookup(source, symbol)
            if extra is not None:
                domain = domain.intersect(extra)
        out[symbol] = domain
    return out


def contains(domain: sp.Set, value) -> bool:
    return _contains(domain, sp.sympify(value))


@functools.lru_cache(maxsize=65536)
def _contains(domain: sp.Set, value) -> bool:
    try:
        return domain.contains(value) == sp.true
    except (TypeError, ValueError):
        return False


_SPECIAL_REAL = [0, 1, -1, 2, sp.Rational(1, 2), -sp.Rational(1, 2), -2, 3, sp.Rational(1, 3), sp.Rational(9, 10),
                 10, sp.Rational(1, 10), -sp.Rational(3, 2), 1000, sp.Rational(1, 1000), -1000]
_SPECIAL_INTEGER = [1, 2, 3, 4, 5, 6, 7, 8, 0, -1, 10, 12, 16, 50, 100, 1000, -2]
_GENERIC_REAL = [sp.Rational(3, 7), sp.Rational(5, 3), sp.Rational(-2, 3), sp.Rational(7, 11), sp.Rational(13, 5),
                 sp.Rational(2, 9), sp.Rational(-5, 4), sp.Rational(11, 13)]
_GENERIC_INTEGER = [3, 5, 2, 7, 4, 9]


def _near_open_ends(domain: sp.Set) -> list:
    """Values just inside an open, finite end of an interval (β → 1⁻ of [0, 1), …)."""
    out = []
    for part in (domain.args if isinstance(domain, sp.Union) else (domain,)):
        if isinstance(part, sp.Interval):
            if part.right_open and part.end.is_finite:
                out += [part.end - sp.Rational(1, 10), part.end - sp.Rational(1, 1000)]
            if part.left_open and part.start.is_finite:
                out += [part.start + sp.Rational(1, 10), part.start + sp.Rational(1, 1000)]
    return out


def _endpoints(domain: sp.Set) -> list:
    ends = []
    for part in (domain.args if isinstance(domain, sp.Union) else (domain,)):
        if isinstance(part, sp.Interval):
            ends += [e for e in (part.start, part.end) if e.is_finite]
        elif isinstance(part, sp.Range) and part.size is not sp.oo and part.size > 0:
            ends += [part.inf, part.sup]
        elif isinstance(part, sp.Range) and part.inf.is_finite:
            ends.append(part.inf)
        elif isinstance(part, sp.FiniteSet):
            ends += list(part)
    return ends


def _is_integer_domain(domain: sp.Set) -> bool:
    return isinstance(domain, sp.Range) or domain == sp.Integers or (
        isinstance(domain, sp.FiniteSet) and all(x.is_integer for x in domain)) or (
        isinstance(domain, sp.Complement) and _is_integer_domain(domain.args[0]))


def special_values(domain: sp.Set) -> list:
    return list(_special_values(domain))


@functools.lru_cache(maxsize=4096)
def _special_values(domain: sp.Set) -> tuple:
    """Exact values in ``domain`` where claims tend to break: 0, ±1, the endpoints, just inside open ends, small
    and large integers, 1/2, 1000, …; ordered by priority, without repetitions."""
    pool = _SPECIAL_INTEGER if _is_integer_domain(domain) else _SPECIAL_REAL
    candidates = [sp.Integer(0), sp.Integer(1), sp.Integer(-1)] + _endpoints(domain) + _near_open_ends(domain) \
        + [sp.sympify(v) for v in pool]
    return tuple(_unique(c for c in candidates if contains(domain, c)))


def generic_values(domain: sp.Set) -> list:
    return list(_generic_values(domain))


@functools.lru_cache(maxsize=4096)
def _generic_values(domain: sp.Set) -> tuple:
    """Exact values in ``domain`` unlikely to hit a coincidence (3/7, 5/3, …; 3, 5, … for integers)."""
    pool = _GENERIC_INTEGER if _is_integer_domain(domain) else _GENERIC_REAL
    found = [sp.sympify(v) for v in pool if contains(domain, sp.sympify(v))]
    if not found:  # a bounded domain such as [0, 1) or {0, 1}
        found = [v for v in _near_open_ends(domain) + special_values(domain)]
        if isinstance(domain, sp.Interval) and domain.start.is_finite and domain.end.is_finite:
            found = [domain.start + (domain.end - domain.start) * sp.Rational(k, 7) for k in (3, 5, 2, 6)] + found
        found = [v for v in found if contains(domain, v)]
    return tuple(_unique(found))


def _unique(values) -> list:
    out = []
    for v in values:
        v = sp.sympify(v)
        if v not in out:
            out.append(v)
    return out


def unit_interval_bases(domains: Mapping) -> set:
    """Symbols whose domain lies in :math:`[0, 1)`: for them :math:`0 \\le \\beta^e < 1` whenever :math:`e > 0`."""
    return {s for s, d in domains.items() if isinstance(s, sp.Symbol) and _within_unit(d)}


def _within_unit(domain: sp.Set) -> bool:
    try:
        return bool(domain.is_subset(sp.Interval.Ropen(0, 1)))
    except (TypeError, ValueError):
        return False
