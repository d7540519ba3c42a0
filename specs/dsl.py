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
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import sympy as sp

__all__ = [
    "SpecError", "Hyperparameter", "State", "Assignment", "OptimizerSpec", "SpecBuilder",
    "PARAM", "GRAD", "STEP", "POSITIVE", "NONNEGATIVE", "UNIT_HALF_OPEN", "UNIT_OPEN", "UNIT_CLOSED",
    "REAL", "BOOLEAN", "POSITIVE_INTEGER", "interval",
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


def _assumptions(domain: sp.Set) -> dict:
    """SymPy assumptions implied by a domain (used in proofs and simplification)."""
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
    """A state variable: per element (``scalar=False``) or one value per step (``scalar=True``).

    ``init`` is an expression in hyperparameters and constants, ``GRAD`` (the first gradient, taken at
    step 1 before the updates run), ``PARAM`` (the initial parameter), or ``None`` (no initial value:
    the state must be written before it is read).
    """

    symbol: sp.Symbol
    init: sp.Expr | None
    latex: str
    scalar: bool = False
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
class OptimizerSpec:
    """An optimizer as ordered SymPy assignments; construct with :class:`SpecBuilder`."""

    name: str
    title: str
    reference: str
    source: str
    hyperparameters: tuple[Hyperparameter, ...]
    state: tuple[State, ...]
    temporaries: dict = field(hash=False, compare=False)  # symbol -> latex
    assignments: tuple[Assignment, ...]
    notes: str = ""
    peers: tuple[str, ...] = ()

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
        return ([PARAM, GRAD, STEP] + [h.symbol for h in self.hyperparameters]
                + [s.symbol for s in self.state] + list(self.temporaries))

    def latex_names(self) -> dict[sp.Symbol, str]:
        names = {PARAM: r"\theta", GRAD: "g", STEP: "t"}
        names.update({h.symbol: h.latex for h in self.hyperparameters})
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
            current[a.target] = a.value.xreplace(current)
        outputs = [PARAM] + [s.symbol for s in self.state]
        return {o: current.get(o, o) for o in outputs}

    def fingerprint(self) -> str:
        """SHA-256 of everything that determines generated code (stable across runs)."""
        parts = [self.name, self.title]
        parts += [f"H {h.name} {h.default!r} {sp.srepr(h.domain)}" for h in self.hyperparameters]
        parts += [f"S {s.name} {s.scalar} {sp.srepr(s.init)}" for s in self.state]
        parts += [f"A {a.target.name} {sp.srepr(a.value)}" for a in self.assignments]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class SpecBuilder:
    """Collects declarations and assignments in paper order; :meth:`build` validates them."""

    def __init__(self, name: str, title: str, *, reference: str, source: str = "", notes: str = "",
                 peers: tuple[str, ...] = ()):
        self.name, self.title, self.reference, self.source, self.notes = name, title, reference, source, notes
        self.peers = tuple(peers)
        self._hyper: list[Hyperparameter] = []
        self._state: list[State] = []
        self._temporaries: dict[sp.Symbol, str] = {}
        self._assignments: list[Assignment] = []

    def hyper(self, name: str, default: float, latex: str, domain: sp.Set, doc: str = "") -> sp.Symbol:
        """Declare a hyperparameter; its domain becomes SymPy assumptions and the runtime check."""
        symbol = sp.Symbol(name, **_assumptions(domain))
        self._hyper.append(Hyperparameter(symbol, default, latex, domain, doc))
        return symbol

    def state(self, name: str, init=0, latex: str | None = None, doc: str = "") -> sp.Symbol:
        """Declare per-element state with its initial value (see :class:`State`)."""
        symbol = sp.Symbol(name, real=True)
        self._state.append(State(symbol, None if init is None else sp.sympify(init), latex or name, False, doc))
        return symbol

    def scalar_state(self, name: str, init, latex: str | None = None, doc: str = "") -> sp.Symbol:
        """Declare per-step scalar state (e.g. a running product of a momentum schedule)."""
        symbol = sp.Symbol(name, real=True)
        self._state.append(State(symbol, sp.sympify(init), latex or name, True, doc))
        return symbol

    def let(self, name: str, value, latex: str | None = None) -> sp.Symbol:
        """Define a named temporary (single assignment) and return its symbol."""
        symbol = sp.Symbol(name, real=True)
        self._temporaries[symbol] = latex or name
        self._assignments.append(Assignment(symbol, sp.sympify(value)))
        return symbol

    def update(self, target: sp.Symbol, value) -> None:
        """``target ← value`` for the parameter or a state variable."""
        self._assignments.append(Assignment(target, sp.sympify(value)))

    def build(self) -> OptimizerSpec:
        from .validate import validate  # late import: validate depends on this module

        spec = OptimizerSpec(self.name, self.title, self.reference, self.source, tuple(self._hyper),
                             tuple(self._state), dict(self._temporaries), tuple(self._assignments),
                             self.notes, self.peers)
        validate(spec)
        return spec
