"""Validation of an :class:`~specs.dsl.OptimizerSpec`: every rule raises :class:`SpecError` naming the
spec and the offending symbol or expression."""
from __future__ import annotations

import keyword

import sympy as sp

from .dsl import GRAD, PARAM, RESERVED, STEP, OptimizerSpec, SpecError

#: Node types allowed in update expressions: all act elementwise (or on scalars).
ELEMENTWISE_FUNCTIONS = (
    sp.Add, sp.Mul, sp.Pow, sp.Abs, sp.sign, sp.Max, sp.Min, sp.exp, sp.log, sp.tanh, sp.Piecewise,
    sp.floor, sp.ceiling, sp.Mod, sp.Heaviside,
)
#: Names the generated modules' API and imports use (their other locals all start with '_').
KERNEL_API_NAMES = frozenset({"param", "grad", "state", "hyperparameters", "numpy", "math", "cupy", "stream"})
_LOGIC = (sp.And, sp.Or, sp.Not, sp.core.relational.Relational, sp.logic.boolalg.BooleanAtom)
_ATOMS = (sp.Symbol, sp.Number, sp.NumberSymbol, sp.core.numbers.ImaginaryUnit)


def _fail(spec: OptimizerSpec, message: str) -> None:
    raise SpecError(f"spec {spec.name!r}: {message}")


def _check_names(spec: OptimizerSpec) -> None:
    seen: set[str] = set()
    for symbol in [h.symbol for h in spec.hyperparameters] + [s.symbol for s in spec.state] + list(spec.temporaries):
        if symbol.name in RESERVED:
            _fail(spec, f"{symbol.name!r} is reserved for the {'parameter' if symbol.name == 'theta' else 'gradient' if symbol.name == 'g' else 'step counter'}")
        if symbol.name in KERNEL_API_NAMES:
            _fail(spec, f"{symbol.name!r} is reserved: generated kernels use it (reserved: "
                        f"{', '.join(sorted(KERNEL_API_NAMES))})")
        if symbol.name in seen:
            _fail(spec, f"{symbol.name!r} is declared twice")
        if not symbol.name.isidentifier() or symbol.name.startswith("_") or keyword.iskeyword(symbol.name):
            _fail(spec, f"{symbol.name!r} is not a valid name (a Python identifier not starting with '_')")
        seen.add(symbol.name)


def _check_domains(spec: OptimizerSpec) -> None:
    for h in spec.hyperparameters:
        if h.domain.is_empty:
            _fail(spec, f"hyperparameter {h.name!r} has an empty domain {h.domain}")
        if h.domain.contains(sp.sympify(h.default)) != sp.true:
            _fail(spec, f"default {h.name}={h.default!r} is outside its domain {h.domain}")


def _check_functions(spec: OptimizerSpec, where: str, expr: sp.Basic) -> None:
    for node in sp.preorder_traversal(expr):
        if isinstance(node, _ATOMS + _LOGIC) or isinstance(node, ELEMENTWISE_FUNCTIONS):
            continue
        if isinstance(node, sp.logic.boolalg.BooleanFunction) or type(node).__name__ == "ExprCondPair":
            continue
        kind = "undefined function" if isinstance(node, sp.core.function.AppliedUndef) else "function"
        _fail(spec, f"{kind} {getattr(node.func, '__name__', node.func)} in {where} is not elementwise "
                    f"(allowed: +, *, **, sqrt, Abs, sign, Max, Min, exp, log, tanh, Piecewise, floor, ceiling, Mod)")


def _check_inits(spec: OptimizerSpec) -> None:
    hypers = {h.symbol for h in spec.hyperparameters}
    states = {s.symbol: s for s in spec.state}
    for s in spec.state:
        if s.init is None:
            continue
        _check_functions(spec, f"the initial value of {s.name!r}", s.init)
        for symbol in s.init.free_symbols:
            if symbol in states:
                _fail(spec, f"the initial value of {s.name!r} reads state {symbol.name!r} "
                            "(state is read before initialisation)")
            allowed = hypers if s.scalar else hypers | {GRAD, PARAM}
            if symbol not in allowed:
                what = "undefined symbol" if symbol not in (GRAD, PARAM, STEP) else "symbol"
                _fail(spec, f"{what} {symbol.name!r} in the initial value of {s.name!r}")


def _temporary_cycle(spec: OptimizerSpec) -> list[str] | None:
    """A cycle among temporaries' definitions, if any (only possible in a hand-built spec)."""
    definitions = {a.target: a.value for a in spec.assignments if a.target in spec.temporaries}
    graph = {t: [s for s in v.free_symbols if s in definitions] for t, v in definitions.items()}
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node.name)
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                return stack[stack.index(nxt.name):] + [nxt.name]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in graph:
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def _check_assignments(spec: OptimizerSpec) -> None:
    hypers = {h.symbol: h for h in spec.hyperparameters}
    states = {s.symbol: s for s in spec.state}
    if cycle := _temporary_cycle(spec):
        _fail(spec, "cycle among temporaries: " + " -> ".join(cycle))
    defined = {PARAM, GRAD, STEP, *hypers} | {s for s, st in states.items() if st.init is not None}
    assigned_temporaries: set[sp.Symbol] = set()
    scalar = {STEP, *hypers} | {s for s, st in states.items() if st.scalar}
    for a in spec.assignments:
        target = a.target
        where = f"the update of {target.name!r}"
        if target in hypers:
            _fail(spec, f"assignment to hyperparameter {target.name!r} (hyperparameters are read-only)")
        if target == GRAD:
            _fail(spec, "assignment to the gradient 'g' (the gradient is an input)")
        if target == STEP:
            _fail(spec, "assignment to the step counter 't'")
        if target not in states and target not in spec.temporaries and target != PARAM:
            _fail(spec, f"assignment to undeclared symbol {target.name!r}")
        if target in spec.temporaries:
            if target in assigned_temporaries:
                _fail(spec, f"temporary {target.name!r} is assigned twice (temporaries are single-assignment)")
            assigned_temporaries.add(target)
        _check_functions(spec, where, a.value)
        for symbol in a.value.free_symbols:
            if symbol in defined:
                continue
            if symbol in states:
                _fail(spec, f"state {symbol.name!r} is read in {where} before initialisation "
                            "(it has no initial value and is not assigned earlier in the step)")
            if symbol in spec.temporaries:
                _fail(spec, f"temporary {symbol.name!r} is read in {where} before its definition")
            _fail(spec, f"undefined symbol {symbol.name!r} in {where}: {sp.sstr(a.value)}")
        defined.add(target)
        if target in states and states[target].scalar and not a.value.free_symbols <= scalar:
            elementwise = sorted(s.name for s in a.value.free_symbols - scalar)
            _fail(spec, f"scalar state {target.name!r} is assigned an elementwise expression (reads {elementwise})")
        if target in spec.temporaries and a.value.free_symbols <= scalar:
            scalar.add(target)
    if PARAM not in {a.target for a in spec.assignments}:
        _fail(spec, "the parameter 'theta' is never updated")


def validate(spec: OptimizerSpec) -> OptimizerSpec:
    """Check a spec; return it unchanged or raise :class:`SpecError`."""
    if not spec.name.isidentifier():
        raise SpecError(f"spec name {spec.name!r} is not a valid identifier")
    _check_names(spec)
    _check_domains(spec)
    _check_inits(spec)
    _check_assignments(spec)
    return spec
