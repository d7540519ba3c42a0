r"""Reference semantics: evaluate a spec's assignments directly, in order, in float64.

This is the ground truth the generated kernels are tested against. It is deliberately naive: every
assignment is evaluated node by node with NumPy's float64 functions over whole arrays (scalars broadcast
against arrays as NumPy does), no hoisting, no CSE, no substitution between assignments. Each distinct
subexpression is evaluated once, so an expression that shares subexpressions costs its distinct nodes.

A step can also report where float64 arithmetic was *exceptional*: an operation gave an infinite or NaN
value, or a product, power or exponential of nonzero finite operands rounded below the smallest normal
number (underflow). There the exact value of the expression and its float64 evaluation part ways
(:math:`\operatorname{sign}(e^{-g^2})` is 1, yet :math:`e^{-g^2}` rounds to 0 for :math:`|g| > 27.3`, and
is 0 for :math:`g = \infty`), so a kernel that simplified exactly may differ.
"""
from __future__ import annotations

import functools

import numpy as np
import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair

from .dsl import GRAD, PARAM, STEP, OptimizerSpec, deferred_init
from .expression_dag import distinct_nodes
from .validate import ELEMENTARY_FUNCTIONS

__all__ = ["init_state", "step", "run", "evaluate"]

_UNARY = {sp.Abs: np.abs, sp.sign: np.sign, sp.exp: np.exp, sp.log: np.log, sp.tanh: np.tanh,
          sp.floor: np.floor, sp.ceiling: np.ceil,
          **{function: getattr(np, ufunc) for function, ufunc in ELEMENTARY_FUNCTIONS.items()}}
_COMPARISONS = {sp.StrictGreaterThan: np.greater, sp.GreaterThan: np.greater_equal, sp.StrictLessThan: np.less,
                sp.LessThan: np.less_equal, sp.Equality: np.equal, sp.Unequality: np.not_equal}
_FOLDS = {sp.Max: np.maximum, sp.Min: np.minimum, sp.And: np.logical_and,
          sp.Or: np.logical_or, sp.Xor: np.logical_xor}


def _power(base, exponent):
    if np.ndim(exponent) == 0 and exponent == 0.5:
        return np.sqrt(base)
    if isinstance(base, int):  # t**t: a float, not an exact (and unbounded) integer
        base = np.float64(base)
    return base ** exponent


def _product(node, values, env):
    """A product as it reads, ``a*b/(c*d)``: factors with a negative exponent divide (one rounding each,
    as ``x/y``), the others multiply, in print order."""
    numerator, denominator = [], []
    for factor in node.as_ordered_factors():
        if factor.is_Pow and factor.exp.is_Number and factor.exp.is_negative:
            base = values[factor.base] if factor.base in values else evaluate(factor.base, env)
            denominator.append(base if factor.exp == -1 else _power(base, np.float64(-float(factor.exp))))
        else:
            numerator.append(values[factor] if factor in values else evaluate(factor, env))
    result = functools.reduce(np.multiply, numerator) if numerator else np.float64(1.0)
    return result / functools.reduce(np.multiply, denominator) if denominator else result


def _piecewise(node, values):
    result = np.float64(np.nan)  # no branch applies: NaN
    for pair in reversed(node.args):
        result = np.where(values[pair.cond], values[pair.expr], result)
    return result


def _node_value(node, values, env):
    kind = type(node)
    if isinstance(node, sp.Symbol):
        return env[node]
    if isinstance(node, sp.logic.boolalg.BooleanAtom):
        return np.bool_(bool(node))
    if node.is_Number or isinstance(node, sp.NumberSymbol):
        return np.float64(float(node))
    args = [values[a] for a in node.args] if not isinstance(node, sp.Piecewise) else None
    if kind is sp.Add:  # in the order the expression prints (and a reader reads) it
        return functools.reduce(np.add, [values[a] if a in values else evaluate(a, env) for a in node.as_ordered_terms()])
    if kind is sp.Mul:
        return _product(node, values, env)
    if kind in _FOLDS:
        return functools.reduce(_FOLDS[kind], args)
    if kind in _UNARY:
        return _UNARY[kind](args[0])
    if kind in _COMPARISONS:
        return _COMPARISONS[kind](*args)
    if kind is sp.Pow:
        return _power(*args)
    if kind is sp.Piecewise:
        return _piecewise(node, values)
    if kind is sp.Not:
        return np.logical_not(args[0])
    if kind is sp.ITE:
        return np.where(*args)
    if kind is sp.Implies:
        return np.logical_or(np.logical_not(args[0]), args[1])
    if kind is sp.Equivalent:
        return functools.reduce(np.logical_and, [np.equal(args[0], a) for a in args[1:]], np.bool_(True))
    if kind is sp.Mod:
        return np.mod(*args)
    if kind is sp.Heaviside:
        return np.heaviside(args[0], args[1] if len(args) > 1 else np.float64(0.5))
    raise TypeError(f"the reference cannot evaluate {kind.__name__} in {node}")  # validation rejects it


@functools.lru_cache(maxsize=1024)
def _evaluation_order(expr: sp.Basic) -> tuple:
    # A Piecewise reads its pairs' parts directly: the pairs themselves have no value.
    return tuple(node for node in distinct_nodes(expr) if not isinstance(node, ExprCondPair))


_TINY = np.finfo(np.float64).tiny
_ROUNDING = (sp.Mul, sp.Pow, sp.exp)  # the nodes whose float64 value can round to 0 from a nonzero exact value


def _underflowed(node, values):
    """Where ``values[node]`` rounded below the smallest normal float64 though its exact value is nonzero."""
    operands = [values[a] for a in node.args[:1 if isinstance(node, sp.Pow) else None]]  # a power: its base
    exact_nonzero = functools.reduce(np.logical_and, [(a != 0) & np.isfinite(a) for a in operands], True)
    with np.errstate(invalid="ignore"):
        return exact_nonzero & (np.abs(values[node]) < _TINY)


def evaluate(expr: sp.Basic, env: dict, exceptional: list | None = None, rounding=None):
    """``expr`` in float64 (booleans for conditions), symbols taken from ``env``. ``exceptional``, when
    given, receives for each operation where it was exceptional (see the module docstring); ``rounding``,
    when given, is applied to the value of every operation (a model of the rounding in which
    implementations differ)."""
    values: dict = {}
    for node in _evaluation_order(expr):
        value = _node_value(node, values, env)
        floating = bool(node.args) and np.asarray(value).dtype.kind == "f"
        if rounding is not None and floating:
            value = rounding(value)
        values[node] = value
        if exceptional is not None and floating:
            exceptional.append(~np.isfinite(value) | _underflowed(node, values) if isinstance(node, _ROUNDING)
                               else ~np.isfinite(value))
    return values[expr]


def _hyperparameters(spec: OptimizerSpec, overrides: dict) -> dict[sp.Symbol, float]:
    unknown = set(overrides) - set(spec.defaults)
    if unknown:
        raise TypeError(f"{spec.name}: unknown hyperparameters {sorted(unknown)}; valid: {sorted(spec.defaults)}")
    values = {**spec.defaults, **overrides}
    return {h.symbol: np.float64(values[h.name]) for h in spec.hyperparameters}


def init_state(spec: OptimizerSpec, param, **hyperparameters) -> dict:
    """Initial state in float64 (array state) and Python floats (scalar state). State without an initial
    value, or whose initial value reads the first gradient or the parameter (other than the parameter
    itself), is 0 here and set at step 1 (see :func:`step`)."""
    param = np.asarray(param, dtype=np.float64)
    env = {**_hyperparameters(spec, hyperparameters), PARAM: param}
    state = {}
    with np.errstate(all="ignore"):
        for s in spec.state:
            value = np.float64(0.0) if s.init is None or deferred_init(s) else evaluate(s.init, env)
            state[s.name] = float(value) if s.scalar else np.array(np.broadcast_to(value, param.shape),
                                                                  dtype=np.float64)
    return state


def _inputs(spec: OptimizerSpec, inputs: dict | None, shape) -> dict:
    """The spec's declared inputs (name → array shaped like the parameter) in float64, by symbol."""
    inputs = dict(inputs or {})
    declared = [i.name for i in spec.inputs]
    if set(inputs) != set(declared):
        missing, unknown = sorted(set(declared) - set(inputs)), sorted(set(inputs) - set(declared))
        raise TypeError(f"{spec.name}: inputs {declared} expected"
                        + (f"; missing {missing}" if missing else "") + (f"; unknown {unknown}" if unknown else ""))
    values = {}
    for i in spec.inputs:
        value = np.array(inputs[i.name], dtype=np.float64)
        if value.shape != shape:
            raise ValueError(f"{spec.name}: input {i.name!r} has shape {value.shape}, the parameter {shape}")
        values[i.symbol] = value
    return values


def step(spec: OptimizerSpec, param, grad, state: dict, t: int, *, trace: list | None = None,
         exceptional: list | None = None, rounding=None, inputs: dict | None = None, **hyperparameters):
    """One step; returns ``(new_param, new_state)`` without modifying the inputs. ``inputs``: the spec's
    declared inputs, name → array shaped like the parameter. ``trace``, when given, receives the value of every
    assignment (and of every initial value read at step 1), in order; ``exceptional`` and ``rounding`` are
    passed to :func:`evaluate`."""
    env: dict[sp.Symbol, object] = dict(_hyperparameters(spec, hyperparameters))
    env[PARAM] = np.array(param, dtype=np.float64)
    env[GRAD] = np.array(grad, dtype=np.float64)
    env.update(_inputs(spec, inputs, env[PARAM].shape))
    env[STEP] = int(t)  # an int, as the generated host code has it (β**t rounds as there)
    shape = env[PARAM].shape
    arrays = {PARAM} | {s.symbol for s in spec.array_state}
    with np.errstate(all="ignore"):
        for s in spec.state:
            env[s.symbol] = np.float64(state[s.name]) if s.scalar else np.array(state[s.name], dtype=np.float64)
        if int(t) == 1:  # initial values read at step 1, before its assignments run
            for s in spec.state:
                if deferred_init(s):
                    env[s.symbol] = np.array(np.broadcast_to(evaluate(s.init, env, exceptional, rounding), shape),
                                             dtype=np.float64)
                    if trace is not None:
                        trace.append(env[s.symbol])
        for a in spec.assignments:
            value = np.asarray(evaluate(a.value, env, exceptional, rounding), dtype=np.float64)
            env[a.target] = np.broadcast_to(value, shape).copy() if a.target in arrays else value
            if trace is not None:
                trace.append(env[a.target])
    new_state = {s.name: (float(env[s.symbol]) if s.scalar else env[s.symbol]) for s in spec.state}
    return env[PARAM], new_state


def run(spec: OptimizerSpec, param, grads, *, inputs: list | None = None, **hyperparameters):
    """Trajectory of ``len(grads)`` steps from ``param``; returns the list of parameters after each step.
    ``inputs``: one dict of the spec's inputs per step."""
    state = init_state(spec, param, **hyperparameters)
    trajectory = []
    for t, grad in enumerate(grads, start=1):
        param, state = step(spec, param, grad, state, t, inputs=None if inputs is None else inputs[t - 1],
                            **hyperparameters)
        trajectory.append(param)
    return trajectory
