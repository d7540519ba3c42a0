"""Validation of an :class:`~specs.dsl.OptimizerSpec`: every rule raises :class:`SpecError` naming the
spec and the offending element; a spec that passes is returned in normal form.

Normal form (what every later stage may rely on):

* names are Python identifiers in NFKC normal form (the form Python itself reads them in), not starting
  with ``_``, not keywords, builtins the generated modules call or their other names, distinct; every symbol of an
  expression is the declared symbol of its name;
* defaults are ``int`` or finite ``float``; domains are an ``Interval`` with real-number ends, a
  ``FiniteSet`` of finite reals or a ``Range`` of step 1 (see :func:`~specs.dsl.normal_domain`), and each
  default lies in its domain as the generated runtime checks it;
* values and initial values are real-valued SymPy expressions built from the elementwise functions below,
  with finite real float64 constants (``Float`` at double precision), conditions only inside
  ``Piecewise``; text fields are strings.
"""
from __future__ import annotations

import keyword
import math
import unicodedata
import weakref

import mpmath
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.functions.elementary.piecewise import ExprCondPair

from .dsl import (GRAD, PARAM, RESERVED, STEP, Assignment, Hyperparameter, Input, Numerics, OptimizerSpec,
                  SpecError, State,                   domain_contains, normal_default, normal_domain, normal_domain_assumptions)
from .expression_dag import SYMPY_REFUSALS, distinct_nodes, free_symbols, rebuild

__all__ = ["validate", "ELEMENTWISE_FUNCTIONS", "ELEMENTARY_FUNCTIONS", "BOOLEAN_FUNCTIONS", "RESERVED_NAMES",
           "EMITTED_BUILTINS"]

#: The elementary functions of one argument beyond exp, log and tanh, by the name of the NumPy ufunc that
#: computes them (numba compiles the same ufuncs, CuPy's kernels call C's function of SymPy's name). Each is
#: a function every backend has: ``erf``, for one, is not (NumPy has no ``erf`` ufunc).
ELEMENTARY_FUNCTIONS = {
    sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.asin: "arcsin", sp.acos: "arccos", sp.atan: "arctan",
    sp.sinh: "sinh", sp.cosh: "cosh", sp.asinh: "arcsinh", sp.acosh: "arccosh", sp.atanh: "arctanh",
    log1p: "log1p", expm1: "expm1",
}
#: Expression nodes allowed in update expressions: all act elementwise (or on scalars).
ELEMENTWISE_FUNCTIONS = (
    sp.Add, sp.Mul, sp.Pow, sp.Abs, sp.sign, sp.Max, sp.Min, sp.exp, sp.log, sp.tanh, sp.Piecewise,
    sp.floor, sp.ceiling, sp.Mod, sp.Heaviside, *ELEMENTARY_FUNCTIONS,
)
#: Truth-valued nodes allowed in the conditions of a ``Piecewise``.
BOOLEAN_FUNCTIONS = (sp.And, sp.Or, sp.Not, sp.Xor, sp.ITE, sp.Implies, sp.Equivalent, sp.Nand, sp.Nor)
_RELATIONS = (sp.Eq, sp.Ne, sp.Lt, sp.Le, sp.Gt, sp.Ge)
#: Names the generated modules define or import at module level or in ``init_state``/``step``
#: (their other locals all start with ``_``).
GENERATED_MODULE_NAMES = frozenset({
    "param", "grad", "state", "hyperparameters", "numpy", "math", "cupy", "NAME", "HYPERPARAMETERS", "DOMAINS",
    "STATE", "SCALAR_STATE", "KERNELS", "init_state", "step", "stream", "INPUTS", "inputs",
})
#: Python builtins the generated modules call, or may: a local of that name would shadow the builtin in
#: ``step`` (tests/test_spec_fuzz.py checks that the generated modules call no other builtin). Other
#: builtins are fine as names (``adagrad_torch`` keeps torch's state name ``sum``).
EMITTED_BUILTINS = frozenset({
    "min", "max", "range", "float", "bool", "int", "len", "isinstance", "zip", "any", "all", "abs", "id", "dict",
    "tuple", "list", "set", "type", "iter", "next", "enumerate", "object", "super", "print", "repr", "str",
    "ValueError", "TypeError", "KeyError", "RuntimeError", "NotImplementedError", "getattr", "hasattr",
})
#: Every name a spec may not declare (besides theta, g, t), and why.
RESERVED_NAMES = {
    **{name: "a Python builtin the generated modules use" for name in EMITTED_BUILTINS},
    **{name: "reserved: generated kernels use it" for name in GENERATED_MODULE_NAMES},
}
_ALLOWED_FUNCTIONS_TEXT = ("+, *, **, sqrt, Abs, sign, Max, Min, exp, log, tanh, Piecewise, floor, ceiling, Mod, "
                           "Heaviside, " + ", ".join(f.__name__ for f in ELEMENTARY_FUNCTIONS)
                           + " (log1p and expm1 from sympy.codegen.cfunctions)")
#: Functions that act elementwise but that some backend lacks, and which backend.
_MISSING_FUNCTIONS = {sp.erf: "NumPy has no erf ufunc", sp.erfc: "NumPy has no erfc ufunc",
                      sp.gamma: "NumPy has no gamma ufunc", sp.loggamma: "NumPy has no lgamma ufunc"}
_FLOAT64_MAX = 1.7976931348623157e308


class _Checker:
    """One validation: ``fail`` raises with the spec's name."""

    def __init__(self, spec):
        self.spec = spec
        self.label = spec.name if isinstance(spec.name, str) else repr(spec.name)

    def fail(self, message: str):
        raise SpecError(f"spec {self.label!r}: {message}")

    # --- fields ------------------------------------------------------------------------------------
    def text(self, value, what: str) -> str:
        if not isinstance(value, str):
            self.fail(f"{what} must be a string, got {type(value).__name__} {value!r}")
        return value

    def name(self, symbol, what: str) -> str:
        if type(symbol) is not sp.Symbol:
            self.fail(f"{what} must be a SymPy Symbol (the one spec.hyper/state/let returns), "
                      f"got {type(symbol).__name__} {symbol!r}")
        name = symbol.name
        if name.startswith("<invalid name "):
            self.fail(f"{what} {name[len('<invalid name '):-1]} is not a string")
        normal = unicodedata.normalize("NFKC", name)
        if normal != name:
            self.fail(f"{what} {name!r} is not in NFKC normal form: Python reads it as {normal!r} "
                      "(write it that way)")
        if not name.isidentifier() or name.startswith("_") or keyword.iskeyword(name):
            self.fail(f"{name!r} is not a valid name (a Python identifier not starting with '_')")
        return name

    def expression(self, value, where: str, *, allow_none=False) -> sp.Expr | None:
        """``value`` sympified and checked: real-valued, elementwise, finite constants (Floats at double
        precision); conditions only inside Piecewise."""
        if value is None and allow_none:
            return None
        if isinstance(value, str):
            self.fail(f"{where} is a string {value!r}: pass a SymPy expression or a number")
        try:
            expr = sp.sympify(value, strict=True)
        except (sp.SympifyError, TypeError, ValueError, AttributeError) as error:
            self.fail(f"{where} is not a SymPy expression: {type(value).__name__} {value!r} ({error})")
        if (isinstance(expr, sp.logic.boolalg.Boolean) and not isinstance(expr, sp.Symbol)) \
                or not isinstance(expr, sp.Expr):
            self.fail(f"{where} is truth-valued or not an expression: {expr} ({type(expr).__name__}); "
                      "use Piecewise((1, condition), (0, True)) for a 0/1 value")
        self._nodes(expr, where)
        folded = self._fold_constants(expr, where)
        if folded is not expr:  # an unevaluated constant, e.g. Pow(0, -1, evaluate=False), is now zoo
            self._nodes(folded, where)
        return folded

    def _nodes(self, expr, where: str):
        booleans = self._boolean_positions(expr)
        for node in reversed(list(distinct_nodes(expr))):  # outermost first: report the outermost culprit
            self._node(node, node in booleans, where)

    def _fold_constants(self, expr, where: str):
        """``expr`` with every operation on numbers evaluated (SymPy evaluates what users build, not what
        they build with ``evaluate=False``; the later stages evaluate when they rebuild) and Floats at the
        precision the kernels compute in (a float32 constant is its exact value)."""
        def fold(node, args):
            if node.is_Float:
                return sp.Float(float(node), precision=53)
            if args and all(isinstance(a, (sp.Number, sp.NumberSymbol, sp.logic.boolalg.BooleanAtom)) for a in args) \
                    and not isinstance(node, ExprCondPair):
                try:
                    return node.func(*args)
                except SYMPY_REFUSALS as error:
                    self.fail(f"{where}: the constant {node} cannot be evaluated ({type(error).__name__}: {error})")
            return None
        return rebuild(expr, fold)

    @staticmethod
    def _boolean_positions(expr) -> set:
        """Nodes in truth-valued positions: Piecewise conditions and the arguments of logic functions."""
        positions = set()
        for node in distinct_nodes(expr):
            if isinstance(node, ExprCondPair):
                positions.add(node.cond)
            elif isinstance(node, BOOLEAN_FUNCTIONS):
                positions.update(node.args)
        return positions

    def _node(self, node, boolean_position: bool, where: str):
        # (a Symbol is a SymPy Boolean too, but every declared symbol is a real number)
        is_boolean = isinstance(node, sp.logic.boolalg.Boolean) and not isinstance(node, sp.Symbol)
        if boolean_position != is_boolean:
            what = "a truth value" if is_boolean else "a number"
            self.fail(f"{where}: {node} is {what} where {'a condition' if boolean_position else 'a number'} "
                      "is expected")
        if isinstance(node, sp.Symbol) or isinstance(node, ExprCondPair):
            return
        if isinstance(node, sp.logic.boolalg.BooleanAtom) or isinstance(node, _RELATIONS + BOOLEAN_FUNCTIONS):
            return
        if node is sp.I or isinstance(node, sp.core.numbers.ImaginaryUnit):
            self.fail(f"{where} has the complex constant I (values must be real)")
        if node.is_Number or isinstance(node, sp.NumberSymbol):
            self._constant(node, where)
            return
        if isinstance(node, ELEMENTWISE_FUNCTIONS):
            if isinstance(node, sp.Heaviside) and len(node.args) not in (1, 2):
                self.fail(f"{where}: Heaviside takes one or two arguments, got {node}")
            return
        if isinstance(node, sp.logic.boolalg.BooleanFunction) or isinstance(node, sp.core.relational.Relational):
            self.fail(f"{where}: the logic function {type(node).__name__} is not supported "
                      f"(allowed: relations, {', '.join(f.__name__ for f in BOOLEAN_FUNCTIONS)})")
        func = getattr(node, "func", type(node))
        name = getattr(func, '__name__', func)
        if isinstance(node, sp.core.function.AppliedUndef):
            self.fail(f"undefined function {name} in {where} is not a function the kernels compute "
                      f"(supported: {_ALLOWED_FUNCTIONS_TEXT})")
        if isinstance(node, tuple(_MISSING_FUNCTIONS)):
            self.fail(f"function {name} in {where} is not supported: {_MISSING_FUNCTIONS[func]} "
                      f"(supported: {_ALLOWED_FUNCTIONS_TEXT})")
        if isinstance(node, sp.Function) and len(node.args) == 1:  # elementwise, but no backend form
            self.fail(f"function {name} in {where} is not supported by every backend "
                      f"(supported: {_ALLOWED_FUNCTIONS_TEXT})")
        self.fail(f"function {name} in {where} is not elementwise or not supported "
                  f"(supported: {_ALLOWED_FUNCTIONS_TEXT})")

    def _constant(self, node, where: str):
        if node.is_extended_real is not True or node.is_finite is not True:
            self.fail(f"{where} has the constant {_constant_text(node)}, which is not a finite real number")
        parts = (node.p, node.q) if node.is_Rational else (node,)
        try:
            finite = all(abs(float(part)) <= _FLOAT64_MAX for part in parts)
        except (OverflowError, TypeError, ValueError, ArithmeticError):
            finite = False
        if not finite:
            self.fail(f"{where} has the constant {_constant_text(node)}, which is outside the float64 range")

    # --- the spec ----------------------------------------------------------------------------------
    def hyperparameter(self, h) -> Hyperparameter:
        if not isinstance(h, Hyperparameter):
            self.fail(f"hyperparameters must be Hyperparameter objects, got {type(h).__name__} {h!r}")
        name = self.name(h.symbol, "hyperparameter name")
        try:
            domain = normal_domain(h.domain)
        except ValueError as error:
            self.fail(f"hyperparameter {name!r}: domain {error}")
        if domain.is_empty:
            self.fail(f"hyperparameter {name!r} has an empty domain {h.domain}")
        try:
            default = normal_default(h.default)
        except ValueError as error:
            self.fail(f"default of hyperparameter {name!r}: {error}")
        if not domain_contains(domain, default):
            self.fail(f"default {name}={default!r} is outside its domain {domain}")
        self.assumptions(h.symbol, normal_domain_assumptions(domain),
                         f"hyperparameter {name!r} (domain {domain})")
        return Hyperparameter(h.symbol, default, self.text(h.latex, f"LaTeX name of {name!r}"), domain,
                              self.text(h.doc, f"doc of {name!r}"))

    def assumptions(self, symbol: sp.Symbol, implied: dict, what: str):
        """A symbol may assume less than its declaration implies (weaker simplification), never more."""
        allowed = sp.Symbol(symbol.name, **implied).assumptions0
        extra = sorted(k for k, v in symbol.assumptions0.items() if allowed.get(k) != v)
        if extra:
            self.fail(f"symbol {symbol.name!r} assumes {', '.join(f'{k}={symbol.assumptions0[k]}' for k in extra)}, "
                      f"which {what} does not imply")

    def input(self, i) -> Input:
        if not isinstance(i, Input):
            self.fail(f"inputs must be Input objects, got {type(i).__name__} {i!r}")
        name = self.name(i.symbol, "input name")
        self.assumptions(i.symbol, {"real": True}, f"input {name!r}")
        return Input(i.symbol, self.text(i.latex, f"LaTeX name of {name!r}"), self.text(i.doc, f"doc of {name!r}"))

    def state(self, s) -> State:
        if not isinstance(s, State):
            self.fail(f"state must be State objects, got {type(s).__name__} {s!r}")
        name = self.name(s.symbol, "state name")
        if not isinstance(s.scalar, bool):
            self.fail(f"state {name!r}: 'scalar' must be True or False, got {s.scalar!r}")
        self.assumptions(s.symbol, {"real": True}, f"state {name!r}")
        init = self.expression(s.init, f"the initial value of {name!r}", allow_none=True)
        return State(s.symbol, init, self.text(s.latex, f"LaTeX name of {name!r}"), s.scalar,
                     self.text(s.doc, f"doc of {name!r}"))


def _unify(checker: _Checker, expr, declared: dict, where: str):
    """``expr`` with every Symbol that names a declared symbol replaced by that symbol (e.g. a plain
    ``Symbol('lr')`` written by hand); a Symbol assuming more than its declaration is refused."""
    if expr is None:
        return None
    mapping = {}
    for symbol in free_symbols(expr):
        target = declared.get(symbol.name)
        if target is None or target == symbol or type(symbol) is not sp.Symbol:
            continue
        allowed = target.assumptions0
        if any(allowed.get(k) != v for k, v in symbol.assumptions0.items()):
            checker.fail(f"symbol {symbol.name!r} in {where} assumes {symbol.assumptions0} but is declared "
                         f"with {allowed} (use the symbol that spec.hyper/state/let returned)")
        mapping[symbol] = target
    return rebuild(expr, lambda node, args: mapping.get(node)) if mapping else expr


def _normalise(spec) -> OptimizerSpec:
    checker = _Checker(spec)
    if not isinstance(spec, OptimizerSpec):
        raise SpecError(f"not an OptimizerSpec: {type(spec).__name__} {spec!r}")
    name = spec.name
    if not isinstance(name, str) or not name.isascii() or not name.isidentifier() or name.startswith("_") \
            or keyword.iskeyword(name):
        raise SpecError(f"spec name {name!r} is not a valid identifier (ASCII letters, digits and '_', "
                        "not starting with '_' or a digit, not a Python keyword)")
    for field_name in ("title", "reference", "source", "notes"):
        checker.text(getattr(spec, field_name), field_name)
    if not isinstance(spec.peers, tuple):
        checker.fail(f"peers must be a tuple of strings, got {type(spec.peers).__name__}")
    for peer in spec.peers:
        checker.text(peer, "each peer")
    _check_numerics(checker, spec.numerics)
    for what, value, kind in (("hyperparameters", spec.hyperparameters, tuple), ("state", spec.state, tuple),
                              ("assignments", spec.assignments, tuple), ("temporaries", spec.temporaries, dict),
                              ("inputs", spec.inputs, tuple)):
        if not isinstance(value, kind):
            checker.fail(f"{what} must be a {kind.__name__}, got {type(value).__name__}")
    hyperparameters = tuple(checker.hyperparameter(h) for h in spec.hyperparameters)
    inputs = tuple(checker.input(i) for i in spec.inputs)
    state = [checker.state(s) for s in spec.state]
    temporaries = {}
    for symbol, latex in spec.temporaries.items():
        temporary = checker.name(symbol, "temporary name")
        checker.assumptions(symbol, {"real": True}, f"temporary {temporary!r}")
        temporaries[symbol] = checker.text(latex, f"LaTeX name of {temporary!r}")
    _check_names(checker, hyperparameters, state, temporaries, inputs)
    declared = {s.name: s for s in [PARAM, GRAD, STEP] + [h.symbol for h in hyperparameters]
                + [i.symbol for i in inputs] + [s.symbol for s in state] + list(temporaries)}
    state = tuple(State(s.symbol, _unify(checker, s.init, declared, f"the initial value of {s.name!r}"), s.latex,
                        s.scalar, s.doc) for s in state)
    assignments = []
    for index, a in enumerate(spec.assignments, start=1):
        if not isinstance(a, Assignment):
            checker.fail(f"assignment #{index} must be an Assignment, got {type(a).__name__} {a!r}")
        target = a.target
        if type(target) is not sp.Symbol:
            checker.fail(f"the target of assignment #{index} must be a declared symbol (the parameter, a state "
                         f"variable or a temporary), got {type(target).__name__} {target!r}")
        target = declared.get(target.name, target)
        where = f"the update of {target.name!r}"
        assignments.append(Assignment(target, _unify(checker, checker.expression(a.value, where), declared, where)))
    return OptimizerSpec(name, spec.title, spec.reference, spec.source, hyperparameters, state, temporaries,
                         tuple(assignments), spec.notes, spec.peers, spec.numerics, inputs)


def _check_numerics(checker: _Checker, numerics) -> None:
    if not isinstance(numerics, Numerics):
        checker.fail(f"numerics must be a Numerics, got {type(numerics).__name__} {numerics!r}")
    for field_name, allowed in Numerics.CHOICES.items():
        value = getattr(numerics, field_name)
        if not isinstance(value, str) or value not in allowed:
            checker.fail(f"numerics.{field_name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def _check_names(checker: _Checker, hyperparameters, state, temporaries, inputs=()) -> None:
    seen: set[str] = set()
    for symbol in ([h.symbol for h in hyperparameters] + [i.symbol for i in inputs] + [s.symbol for s in state]
                   + list(temporaries)):
        name = symbol.name
        if name in RESERVED:
            role = {"theta": "parameter", "g": "gradient", "t": "step counter"}[name]
            checker.fail(f"{name!r} is reserved for the {role}")
        if name in GENERATED_MODULE_NAMES:
            checker.fail(f"{name!r} is reserved: generated kernels use it (reserved: "
                         f"{', '.join(sorted(GENERATED_MODULE_NAMES))})")
        if name in RESERVED_NAMES:
            checker.fail(f"{name!r} is {RESERVED_NAMES[name]}, which the generated modules may use; choose "
                         "another name")
        if name in seen:
            checker.fail(f"{name!r} is declared twice")
        seen.add(name)


def _check_inits(checker: _Checker, spec: OptimizerSpec) -> None:
    hypers = {h.symbol for h in spec.hyperparameters}
    states = {s.symbol: s for s in spec.state}
    for s in spec.state:
        if s.init is None:
            continue
        for symbol in sorted(free_symbols(s.init), key=lambda x: x.name):
            if symbol in states:
                checker.fail(f"the initial value of {s.name!r} reads state {symbol.name!r} "
                             "(state is read before initialisation)")
            allowed = hypers if s.scalar else hypers | {GRAD, PARAM}
            if symbol in {i.symbol for i in spec.inputs}:
                checker.fail(f"the initial value of {s.name!r} reads input {symbol.name!r} (an initial value may "
                             "read hyperparameters, the parameter and the gradient; assign the state from the "
                             "input in the step instead)")
            if symbol not in allowed:
                what = "undefined symbol" if symbol not in (GRAD, PARAM, STEP) else "symbol"
                reads = "hyperparameters" if s.scalar else "hyperparameters, the parameter and the gradient"
                checker.fail(f"{what} {symbol.name!r} in the initial value of {s.name!r} (it may read {reads})")


def _temporary_cycle(spec: OptimizerSpec) -> list[str] | None:
    """A cycle among temporaries' definitions, if any (only possible in a hand-built spec)."""
    definitions = {a.target: a.value for a in spec.assignments if a.target in spec.temporaries}
    graph = {t: sorted((s for s in free_symbols(v) if s in definitions), key=lambda x: x.name)
             for t, v in definitions.items()}
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


def _check_assignments(checker: _Checker, spec: OptimizerSpec) -> None:
    hypers = {h.symbol: h for h in spec.hyperparameters}
    states = {s.symbol: s for s in spec.state}
    inputs = {i.symbol for i in spec.inputs}
    if cycle := _temporary_cycle(spec):
        checker.fail("cycle among temporaries: " + " -> ".join(cycle))
    defined = {PARAM, GRAD, STEP, *hypers, *inputs} | {s for s, st in states.items() if st.init is not None}
    assigned_temporaries: set[sp.Symbol] = set()
    scalar = {STEP, *hypers} | {s for s, st in states.items() if st.scalar}
    for a in spec.assignments:
        target = a.target
        where = f"the update of {target.name!r}"
        if target in hypers:
            checker.fail(f"assignment to hyperparameter {target.name!r} (hyperparameters are read-only)")
        if target == GRAD:
            checker.fail("assignment to the gradient 'g' (the gradient is an input)")
        if target in inputs:
            checker.fail(f"assignment to input {target.name!r} (inputs are read-only, like the gradient)")
        if target == STEP:
            checker.fail("assignment to the step counter 't'")
        if target not in states and target not in spec.temporaries and target != PARAM:
            checker.fail(f"assignment to undeclared symbol {target.name!r}")
        if target in spec.temporaries:
            if target in assigned_temporaries:
                checker.fail(f"temporary {target.name!r} is assigned twice (temporaries are single-assignment)")
            assigned_temporaries.add(target)
        reads = free_symbols(a.value)
        for symbol in sorted(reads, key=lambda x: x.name):
            if symbol in defined:
                continue
            if symbol in states:
                checker.fail(f"state {symbol.name!r} is read in {where} before initialisation "
                             "(it has no initial value and is not assigned earlier in the step)")
            if symbol in spec.temporaries:
                checker.fail(f"temporary {symbol.name!r} is read in {where} before its definition")
            checker.fail(f"undefined symbol {symbol.name!r} in {where}: {_short(a.value)}")
        defined.add(target)
        if target in states and states[target].scalar and not reads <= scalar:
            elementwise = sorted(s.name for s in reads - scalar)
            checker.fail(f"scalar state {target.name!r} is assigned an elementwise expression (reads {elementwise})")
        if target in spec.temporaries and reads <= scalar:
            scalar.add(target)
    if PARAM not in {a.target for a in spec.assignments}:
        checker.fail("the parameter 'theta' is never updated")


def _short(expr, limit: int = 200) -> str:
    """``sstr(expr)`` unless the expression is large (its text could be exponential in its DAG size)."""
    if sum(1 for _ in distinct_nodes(expr)) > 50:
        return f"<expression of {sum(1 for _ in distinct_nodes(expr))} distinct nodes>"
    text = sp.sstr(expr)
    return text if len(text) <= limit else text[:limit] + "…"


#: The specs :func:`validate` returned (by id, while they live): validating one again returns it as it is.
_NORMAL_FORMS: "weakref.WeakValueDictionary[int, OptimizerSpec]" = weakref.WeakValueDictionary()


def _constant_text(node) -> str:
    """A constant as a message shows it: its text, shortened to its ends and digit count when long, or its
    magnitude when even the text cannot be made (a Float beyond the decimal module's exponents, an integer
    beyond Python's digit limit for string conversion)."""
    if node.is_Rational:
        parts = [abs(int(node.p)), int(node.q)]
        if max(parts).bit_length() > 200:  # print neither: ~60 digits or more
            digits = [int(part.bit_length() * math.log10(2)) + 1 for part in parts]
            sign = "-" if node.p < 0 else ""
            return sign + ("/".join(f"(an integer of about {d} digits)" if d > 60 else str(part)
                                    for d, part in zip(digits, parts)) if node.q != 1 else
                           f"(an integer of about {digits[0]} digits)")
    try:
        text = sp.sstr(node)
    except (ValueError, ArithmeticError, OverflowError):
        text = None
    if node.is_Float and (text is None or len(text) > 60):
        return mpmath.nstr(mpmath.mpf(node._mpf_), 6)
    if text is None:
        return f"<a {type(node).__name__} that cannot be printed>"
    return text if len(text) <= 60 else f"{text[:25]}…{text[-25:]} ({len(text)} characters)"


def validate(spec: OptimizerSpec) -> OptimizerSpec:
    """Check a spec; return it in normal form (an equal spec, or one with normalised defaults, domains,
    constants and symbols) or raise :class:`SpecError`. A spec in normal form (one this function returned)
    comes back as the same object."""
    if _NORMAL_FORMS.get(id(spec)) is spec:
        return spec
    normal = _normalise(spec)
    checker = _Checker(normal)
    _check_inits(checker, normal)
    _check_assignments(checker, normal)
    _NORMAL_FORMS[id(normal)] = normal
    return normal

