"""The spec builder: a spec declared in paper order (hyperparameters, state, temporaries, updates), validated
when built.

It sits above :mod:`specs.dsl` (the spec's types) and :mod:`specs.validate` (the rules, which read those
types): dsl ← validate ← builder, without a cycle.
"""
from __future__ import annotations

import sympy as sp

from .dsl import Assignment, Hyperparameter, Input, Numerics, OptimizerSpec, State, domain_assumptions
from .validate import validate

__all__ = ["SpecBuilder"]


def _declared_symbol(name, assumptions: dict) -> sp.Symbol:
    """The symbol for a declared name; a name that is not a string still gets one (validation reports it)."""
    if isinstance(name, str):
        try:
            return sp.Symbol(name, **assumptions)
        except (TypeError, ValueError):
            pass
    return sp.Symbol(f"<invalid name {name!r}>")


def _display(latex, name):
    """The LaTeX name, defaulting to the name itself."""
    return name if latex is None or (isinstance(latex, str) and not latex) else latex


class SpecBuilder:
    """Collects declarations and assignments in paper order; :meth:`build` validates them.

    The declaring methods never raise: whatever they are given is kept as given, and :meth:`build` raises
    the :class:`SpecError` naming the spec and the offending element (a name, a default, a domain, a value).
    """

    def __init__(self, name: str, title: str, *, reference: str, source: str = "", notes: str = "",
                 peers: tuple[str, ...] = (), numerics: Numerics = Numerics()):
        self.name, self.title, self.reference, self.source, self.notes = name, title, reference, source, notes
        self.peers, self.numerics = peers, numerics
        self._hyper: list[Hyperparameter] = []
        self._inputs: list[Input] = []
        self._state: list[State] = []
        self._temporaries: dict[sp.Symbol, str] = {}
        self._assignments: list[Assignment] = []

    def hyper(self, name: str, default: float, latex: str, domain: sp.Set, doc: str = "") -> sp.Symbol:
        """Declare a hyperparameter; its domain becomes SymPy assumptions and the runtime check."""
        symbol = _declared_symbol(name, domain_assumptions(domain))
        self._hyper.append(Hyperparameter(symbol, default, latex, domain, doc))
        return symbol

    def input(self, name: str, latex: str | None = None, doc: str = "") -> sp.Symbol:
        """Declare an array the caller supplies at every step besides the gradient, shaped like the parameter
        (read-only: assigning it is an error, as for ``g``); the kernels take it as the keyword argument
        ``name``."""
        symbol = _declared_symbol(name, {"real": True})
        self._inputs.append(Input(symbol, _display(latex, name), doc))
        return symbol

    def state(self, name: str, init=0, latex: str | None = None, doc: str = "") -> sp.Symbol:
        """Declare per-element state with its initial value (see :class:`State`)."""
        symbol = _declared_symbol(name, {"real": True})
        self._state.append(State(symbol, init, _display(latex, name), False, doc))
        return symbol

    def scalar_state(self, name: str, init, latex: str | None = None, doc: str = "") -> sp.Symbol:
        """Declare per-step scalar state (e.g. a running product of a momentum schedule)."""
        symbol = _declared_symbol(name, {"real": True})
        self._state.append(State(symbol, init, _display(latex, name), True, doc))
        return symbol

    def let(self, name: str, value, latex: str | None = None) -> sp.Symbol:
        """Define a named temporary (single assignment) and return its symbol."""
        symbol = _declared_symbol(name, {"real": True})
        self._temporaries[symbol] = _display(latex, name)
        self._assignments.append(Assignment(symbol, value))
        return symbol

    def update(self, target: sp.Symbol, value) -> None:
        """``target ← value`` for the parameter or a state variable."""
        self._assignments.append(Assignment(target, value))

    def build(self) -> OptimizerSpec:
        """The validated spec in normal form (see :func:`~specs.validate.validate`)."""
        peers = tuple(self.peers) if isinstance(self.peers, (tuple, list)) else self.peers
        spec = OptimizerSpec(self.name, self.title, self.reference, self.source, tuple(self._hyper),
                             tuple(self._state), dict(self._temporaries), tuple(self._assignments),
                             self.notes, peers, self.numerics, tuple(self._inputs))
        return validate(spec)
