"""The declarative optimizer DSL.

An optimizer is a sequence of assignments over SymPy expressions, read like the
paper's pseudo-code and executed once per step :math:`t = 1, 2, \\dots`::

    spec = SpecBuilder("adam", "Adam", reference="Kingma & Ba (2015), Algorithm 1", source="004 §7")
    lr = spec.hyper("lr", 1e-3, r"\\eta", POSITIVE)
    ...
    m = spec.state("m", init=0)
    spec.update(m, beta1 * m + (1 - beta1) * GRAD)
    m_hat = spec.let("m_hat", m / (1 - beta1**STEP), r"\\hat{m}")
    spec.update(PARAM, PARAM - lr * m_hat / (sqrt(v_hat) + eps))
    SPEC = spec.build()

Semantics: assignments run in order, each reading the values current at that
point (so ``m`` after ``update(m, ...)`` is :math:`m_t`, before it :math:`m_{t-1}`).

This module holds the spec's types and domains; :class:`~specs.builder.SpecBuilder` (``specs/builder.py``)
declares and validates a spec (above :mod:`specs.validate`, which reads these types).
"""
from __future__ import annotations

import decimal
import hashlib
import math
import numbers
import sys
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .expression_dag import distinct_nodes, substitute

__all__ = [
    "SpecError", "Hyperparameter", "State", "Input", "Assignment", "OptimizerSpec",
    "PARAM", "GRAD", "STEP", "POSITIVE", "NONNEGATIVE", "UNIT_HALF_OPEN", "UNIT_OPEN", "UNIT_CLOSED",
    "REAL", "BOOLEAN", "POSITIVE_INTEGER", "interval", "normal_domain", "normal_default", "domain_contains",
    "deferred_init", "normal_domain_assumptions", "Numerics", "TORCH_NUMERICS", "TORCH_OPTIMIZER_NUMERICS",
]


class SpecError(ValueError):
    """An optimizer spec is malformed; the message names the spec and the offending symbol."""


#: The parameter :math:`\theta` being optimised (per element).
PARAM = sp.Symbol("theta", real=True)
#: The gradient :math:`g_t` at the current parameters (per element).
GRAD = sp.Symbol("g", real=True)
#: The step counter; the first step is :math:`t = 1`.
STEP = sp.Symbol("t", integer=True, positive=True)

RESERVED = {PARAM.name: PARAM, GRAD.name: GRAD, STEP.name: STEP}

POSITIVE = sp.Interval.open(0, sp.oo)
NONNEGATIVE = sp.Interval(0, sp.oo)
UNIT_HALF_OPEN = sp.Interval.Ropen(0, 1)
UNIT_OPEN = sp.Interval.open(0, 1)
UNIT_CLOSED = sp.Interval(0, 1)
REAL = sp.Interval(-sp.oo, sp.oo)
BOOLEAN = sp.FiniteSet(0, 1)
POSITIVE_INTEGER = sp.Range(1, sp.oo)


def interval(lo, hi, *, left_open=False, right_open=False) -> sp.Set:
    """A real interval as a hyperparameter domain, e.g. ``interval(0, 1, right_open=True)`` = [0, 1)."""
    return sp.Interval(lo, hi, left_open, right_open)


#: Largest finite domain written out as a set of values (a ``Range`` with a step other than 1).
MAX_FINITE_DOMAIN = 10_000


def _real_number(x) -> bool:
    """A real SymPy number, finite or ±oo (not NaN, not complex, no symbols)."""
    return isinstance(x, sp.Expr) and x.is_number and x.is_extended_real is True and x is not sp.nan


def normal_domain(domain) -> sp.Set:
    """The normal form of a hyperparameter domain, or ``ValueError`` saying why there is none.

    Normal forms are the sets the generated runtime checks exactly: an ``Interval`` with real-number ends,
    a ``FiniteSet`` of finite real numbers, or a ``Range`` of step 1 (integers between two ends, either
    possibly infinite). ``Integers``/``Naturals``/``Naturals0``/``Reals`` become a ``Range`` or an
    ``Interval``; a finite ``Range`` with another step becomes the ``FiniteSet`` of its values. Unions of
    disjoint pieces and other sets are refused.
    """
    fancy = {sp.S.Naturals: sp.Range(1, sp.oo), sp.S.Naturals0: sp.Range(0, sp.oo),
             sp.S.Integers: sp.Range(-sp.oo, sp.oo), sp.S.Reals: sp.Interval(-sp.oo, sp.oo)}
    if not isinstance(domain, sp.Set):
        raise ValueError(f"is not a SymPy set (got {type(domain).__name__} {domain!r})")
    domain = fancy.get(domain, domain)
    if domain.is_empty:
        return sp.S.EmptySet
    if isinstance(domain, sp.Interval):
        if not (_real_number(domain.start) and _real_number(domain.end)):
            raise ValueError(f"{domain} has an end that is not a real number")
        start, left_open = _float64_end(domain.start, domain.left_open, inward=math.inf)
        end, right_open = _float64_end(domain.end, domain.right_open, inward=-math.inf)
        return domain if (start, end) == (domain.start, domain.end) else sp.Interval(start, end, left_open, right_open)
    if isinstance(domain, sp.FiniteSet):
        for x in domain.args:
            if not _real_number(x) or not x.is_finite:
                raise ValueError(f"{domain} has an element that is not a finite real number: {x}")
        return domain
    if isinstance(domain, sp.Range):
        if domain.size.is_finite:
            if domain.size > MAX_FINITE_DOMAIN:
                raise ValueError(f"{domain} has more than {MAX_FINITE_DOMAIN} values with a step other than 1")
            return sp.FiniteSet(*domain) if abs(domain.step) != 1 else sp.Range(domain.inf, domain.sup + 1)
        if abs(domain.step) != 1:
            raise ValueError(f"{domain} is infinite with step {abs(domain.step)} (only step 1 is checked)")
        return sp.Range(domain.inf, domain.sup + 1 if domain.sup.is_finite else sp.oo)
    raise ValueError(f"{domain} is not an interval, a finite set of numbers or a range of integers "
                     "(a union of disjoint pieces cannot be checked)")


def _float64_end(end: sp.Expr, is_open: bool, inward: float) -> tuple[sp.Expr, bool]:
    r"""An interval end the run-time check (float64 comparisons against the end rounded to float64) and the
    build-time assumptions read alike: a finite nonzero end that float64 rounds to 0 or to :math:`\pm\infty`
    (``Interval(1e-400, 1)`` would admit 0.0 at run time, which the symbol's ``positive`` excludes) becomes
    the float64 nearest it inside the interval, closed; the domain then holds the same float64 values. An
    end beyond the float64 range on the inside (``Interval(1e400, oo)``) leaves no value: the domain is
    empty."""
    if not end.is_finite or end.is_zero:
        return end, is_open
    try:
        rounded = float(end)
    except OverflowError:  # (an Integer or Rational beyond the float64 range)
        rounded = math.inf if end > 0 else -math.inf
    if rounded != 0 and math.isfinite(rounded):
        return end, is_open
    if math.isinf(rounded) and math.copysign(1, rounded) == math.copysign(1, inward):
        return sp.oo if inward > 0 else -sp.oo, True  # no float64 value on the inside
    nearest = math.nextafter(0.0, inward) if rounded == 0 and (end > 0) == (inward > 0) else \
        0.0 if rounded == 0 else math.copysign(sys.float_info.max, rounded)
    return (sp.S.Zero if nearest == 0 else sp.Float(nearest, precision=53)), False


def normal_default(value) -> int | float:
    """A default as a Python ``int`` (integers) or ``float`` (any other real number type: NumPy scalars,
    ``Fraction``, ``Decimal``, SymPy numbers such as ``pi/10``), or ``ValueError``."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_, sp.logic.boolalg.BooleanAtom)):
        raise ValueError(f"{value!r} is a boolean (use 0 or 1)")
    try:
        if isinstance(value, numbers.Integral):
            normal = int(value)
        elif isinstance(value, (numbers.Real, decimal.Decimal)):
            normal = float(value)
        elif isinstance(value, sp.Expr) and _real_number(value):
            normal = int(value) if value.is_Integer else float(value)
        else:
            raise ValueError(f"{value!r} is not a real number ({type(value).__name__})")
        finite = math.isfinite(float(normal))
    except (OverflowError, TypeError, decimal.InvalidOperation):
        finite = False
    if not finite:
        raise ValueError(f"{value!r} is not a finite float64 number")
    return normal


def domain_contains(domain: sp.Set, value: float) -> bool:
    """Membership of ``value`` in a normal-form domain, decided as the generated runtime decides it (in
    float64, against ends rounded to float64)."""
    value = float(value)
    if isinstance(domain, sp.Interval):
        lo, hi = float(domain.start), float(domain.end)
        return (value > lo if domain.left_open else value >= lo) and (value < hi if domain.right_open else value <= hi)
    if isinstance(domain, sp.FiniteSet):
        return value in {float(x) for x in domain.args}
    if isinstance(domain, sp.Range):
        return value.is_integer() and float(domain.inf) <= value <= float(domain.sup)
    return False


def normal_domain_assumptions(domain: sp.Set) -> dict:
    """SymPy assumptions implied by a (normal-form) domain (used in proofs and simplification)."""
    assumptions = {"real": True}
    if domain.is_empty:  # reported by validation, with the spec's name
        return assumptions
    if isinstance(domain, sp.Range) or (isinstance(domain, sp.FiniteSet) and all(x.is_integer for x in domain)):
        assumptions["integer"] = True
    infimum = domain.inf
    if infimum.is_finite and infimum >= 0:
        assumptions["nonnegative"] = True
        if infimum > 0 or not domain.contains(infimum) == sp.true:
            assumptions["positive"] = True
    return assumptions


def domain_assumptions(domain) -> dict:
    """:func:`normal_domain_assumptions` of the normal form of ``domain``; only ``real`` when it has none
    (validation then reports the domain)."""
    try:
        return normal_domain_assumptions(normal_domain(domain))
    except (ValueError, TypeError, AttributeError):
        return {"real": True}


@dataclass(frozen=True)
class Hyperparameter:
    """A per-step constant with a default, a LaTeX symbol and a valid domain."""

    symbol: sp.Symbol
    default: float
    latex: str
    domain: sp.Set
    doc: str = ""

    @property
    def name(self) -> str:
        return self.symbol.name


#: Initial value marker: the state starts as the first gradient :math:`g_1` (torch's SGD momentum buffer).
FIRST_GRADIENT = GRAD
#: Initial value marker: the state starts as the initial parameter :math:`\theta_0` (Lookahead's slow weights).
INITIAL_PARAM = PARAM


@dataclass(frozen=True)
class State:
    r"""A state variable: per element (``scalar=False``) or one value per step (``scalar=True``).

    ``init`` is the value before step 1: an expression in hyperparameters and constants, or ``None`` (no
    initial value: the state must be written before it is read). Array state may also start from the data:
    ``PARAM`` (the initial parameter, copied by ``init_state``) or any expression reading ``GRAD`` and/or
    ``PARAM`` (e.g. ``GRAD`` for torch's momentum buffer, ``2*GRAD``, ``PARAM + 1``): it is evaluated at
    step 1 from that step's gradient and parameter, before the step's assignments run (``init_state``
    returns 0 for it; see :func:`deferred_init`).
    """

    symbol: sp.Symbol
    init: sp.Expr | None
    latex: str
    scalar: bool = False
    doc: str = ""

    @property
    def name(self) -> str:
        return self.symbol.name


def deferred_init(state: State) -> bool:
    """Whether ``state``'s initial value is computed at step 1 (it reads the gradient, or the parameter
    in any form other than ``PARAM`` itself, which ``init_state`` copies)."""
    return (not state.scalar and isinstance(state.init, sp.Basic) and state.init != PARAM
            and bool(state.init.free_symbols & {GRAD, PARAM}))


@dataclass(frozen=True)
class Input:
    r"""An array the caller supplies at every step besides the gradient, shaped like the parameter (Sophia's
    Hessian estimate :math:`\hat h_t`, a second gradient): read-only, per element, like :data:`GRAD`."""

    symbol: sp.Symbol
    latex: str
    doc: str = ""

    @property
    def name(self) -> str:
        return self.symbol.name


@dataclass(frozen=True)
class Assignment:
    """``target ← value``; ``target`` is the parameter, a state variable or a temporary."""

    target: sp.Symbol
    value: sp.Expr


@dataclass(frozen=True)
class Numerics:
    r"""How the kernels evaluate what IEEE arithmetic leaves open, so that NaN and ±inf land where a peer's do.

    Every choice is the same real number on the whole domain; only non-finite inputs and overflow tell them
    apart (``docs/sources/peers.md`` §1 and §2 give the peers' arithmetic). The default is the spec as written.

    * ``averages``: ``"as_written"`` keeps :math:`\beta\,x + (1-\beta)\,y`; ``"lerp"`` evaluates a moving
      average of a state towards the gradient as torch's ``lerp`` does, :math:`x + (1-\beta)(y - x)` (an
      infinite :math:`x` then gives NaN).
    * ``sign_of_nan``: ``"nan"`` (NumPy, JAX: :math:`\operatorname{sign}(\mathrm{NaN}) = \mathrm{NaN}`) or
      ``"zero"`` (``torch.sign``).
    * ``squares``: ``"as_written"`` groups a host scalar :math:`c` with the first factor of :math:`c\,a\,a` only
      where :math:`|c| \le 1`; ``"addcmul"`` always, as torch's ``addcmul_(a, a, value=c)`` computes
      :math:`(c\,a)\,a`.
    """

    averages: str = "as_written"
    sign_of_nan: str = "nan"
    squares: str = "as_written"

    #: field → the values it accepts (the first is the default)
    CHOICES = {"averages": ("as_written", "lerp"), "sign_of_nan": ("nan", "zero"),
               "squares": ("as_written", "addcmul")}

    def describe(self) -> str:
        """The fields that differ from the default, ``averages=lerp, …`` (empty for the default)."""
        return ", ".join(f"{k}={getattr(self, k)}" for k, values in self.CHOICES.items()
                         if getattr(self, k) != values[0])


#: torch.optim and pytorch_optimizer: ``lerp_`` moving averages, ``torch.sign``, ``addcmul_`` squares.
TORCH_NUMERICS = Numerics(averages="lerp", sign_of_nan="zero", squares="addcmul")
#: torch_optimizer's own optimizers: ``mul_(β).add_(g, alpha=1 − β)`` averages, ``torch.sign``, ``addcmul_``.
TORCH_OPTIMIZER_NUMERICS = Numerics(averages="as_written", sign_of_nan="zero", squares="addcmul")


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer as ordered SymPy assignments; construct with ``SpecBuilder``."""

    name: str
    title: str
    reference: str
    source: str
    hyperparameters: tuple[Hyperparameter, ...]
    state: tuple[State, ...]
    temporaries: dict = field(hash=False, compare=False)  # symbol -> latex
    assignments: tuple[Assignment, ...]
    notes: str = ""
    #: the peers, as text for the documents (the kernels read ``numerics``, never these)
    peers: tuple[str, ...] = ()
    #: how the kernels evaluate non-finite values and overflow (:class:`Numerics`)
    numerics: Numerics = Numerics()
    #: arrays the caller supplies at every step besides the gradient (:class:`Input`), in declaration order
    inputs: tuple[Input, ...] = ()

    # --- lookups -------------------------------------------------------------
    @property
    def defaults(self) -> dict[str, float]:
        return {h.name: h.default for h in self.hyperparameters}

    @property
    def array_state(self) -> tuple[State, ...]:
        return tuple(s for s in self.state if not s.scalar)

    @property
    def scalar_state(self) -> tuple[State, ...]:
        return tuple(s for s in self.state if s.scalar)

    def hyper(self, name: str) -> Hyperparameter:
        for h in self.hyperparameters:
            if h.name == name:
                return h
        raise KeyError(name)

    def symbol(self, name: str) -> sp.Symbol:
        """The SymPy symbol of a hyperparameter, state variable, temporary or reserved name."""
        for s in self.symbols():
            if s.name == name:
                return s
        raise KeyError(f"{self.name}: no symbol {name!r}")

    def symbols(self) -> list[sp.Symbol]:
        return ([PARAM, GRAD, STEP] + [h.symbol for h in self.hyperparameters] + [i.symbol for i in self.inputs]
                + [s.symbol for s in self.state] + list(self.temporaries))

    def latex_names(self) -> dict[sp.Symbol, str]:
        names = {PARAM: r"\theta", GRAD: "g", STEP: "t"}
        names.update({h.symbol: h.latex for h in self.hyperparameters})
        names.update({i.symbol: i.latex for i in self.inputs})
        names.update({s.symbol: s.latex for s in self.state})
        names.update(self.temporaries)
        return names

    def step_map(self) -> dict[sp.Symbol, sp.Expr]:
        r"""The one-step map: new value of :math:`\theta` and of every state variable, in terms of the
        old values, the gradient, ``t`` and the hyperparameters (assignments forward-substituted).

        Initial-value rules (``GRAD``/``PARAM`` inits) are not applied here; see ``codegen.ir``.
        """
        current: dict[sp.Symbol, sp.Expr] = {}
        for a in self.assignments:
            current[a.target] = substitute(a.value, current)
        outputs = [PARAM] + [s.symbol for s in self.state]
        return {o: current.get(o, o) for o in outputs}

    def fingerprint(self) -> str:
        """SHA-256 of everything that determines generated code (stable across runs; each expression is
        serialised as its DAG of distinct subexpressions, so shared subexpressions are written once)."""
        parts = [self.name, self.title]
        parts += [f"H {h.name} {h.default!r} {_serialise(h.domain)}" for h in self.hyperparameters]
        parts += [f"I {i.name}" for i in self.inputs]  # none: the fingerprint of a spec without inputs is unchanged
        parts += [f"S {s.name} {s.scalar} {_serialise(s.init)}" for s in self.state]
        parts += [f"A {a.target.name} {_serialise(a.value)}" for a in self.assignments]
        if isinstance(self.numerics, Numerics) and self.numerics.describe():  # the default adds nothing
            parts.append(f"N {self.numerics.describe()}")
        # surrogatepass: a text field may hold a lone surrogate (the generated file escapes it)
        return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _serialise(expr) -> str:
    """``expr`` as numbered distinct nodes: atoms by ``srepr``, other nodes by class and argument numbers."""
    if not isinstance(expr, sp.Basic):
        return repr(expr)
    index: dict[sp.Basic, int] = {}
    lines = []
    for node in distinct_nodes(expr):
        index[node] = len(index)
        lines.append(sp.srepr(node) if not node.args else
                     f"{type(node).__name__}({','.join(str(index[a]) for a in node.args)})")
    return ";".join(lines)
