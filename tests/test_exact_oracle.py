"""The exact oracle (``tests/exact_oracle.py``) on its own: sound (correctly rounded evaluations of random
expressions, in any summation order, lie in its bounds) and sharp enough (deliberately wrong kernels are
caught: the issue's cancelling moving average, a constant printed with 15 digits, NaN where the value is
finite)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exact_oracle as oracle
from sympy.functions.elementary.piecewise import ExprCondPair
from optiforge.specs import GRAD, PARAM, UNIT_CLOSED, SpecBuilder, reference
from optiforge.specs.expression_dag import SYMPY_REFUSALS
from optiforge.specs.validate import ELEMENTARY_FUNCTIONS

X, Y = sp.symbols("x y", real=True)

_floats = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=64),
                    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, 1e300, 5e-324, 3.0, -2.5]))


def _safely(f, *args):
    try:
        return f(*args)
    except SYMPY_REFUSALS:  # SymPy refused to build it (say, Max of a complex number)
        return args[0]


def _unary(e):
    return st.sampled_from([sp.sqrt, sp.Abs, sp.sign, sp.exp, sp.log, sp.tanh, sp.floor, sp.ceiling,
                            lambda a: a ** 2, lambda a: a ** 3, lambda a: a ** -1, lambda a: a ** -2,
                            lambda a: sp.Abs(a) ** sp.Rational(3, 2), sp.Heaviside,
                            lambda a: sp.Mod(a, 3), lambda a: sp.Mod(a, sp.Rational(-3, 2))]).map(lambda f: _safely(f, e))


def _binary(a, b):
    return st.sampled_from([lambda p, q: p + q, lambda p, q: p - q, lambda p, q: p * q, lambda p, q: p / q,
                            lambda p, q: sp.Max(p, q), lambda p, q: sp.Min(p, q),
                            lambda p, q: sp.Piecewise((p, p > q), (q, True)),
                            lambda p, q: sp.Piecewise((p, sp.Eq(q, 0)), (q + 1, True)),
                            lambda p, q: (sp.Abs(p) + 1) ** q]).map(lambda f: _safely(f, a, b))


_leaves = st.sampled_from([X, Y, sp.Rational(1, 10), sp.Integer(3), sp.Float(0.9), sp.pi, sp.Integer(-2)])
_expressions = st.recursive(_leaves, lambda inner: st.one_of(inner.flatmap(_unary),
                                                             st.tuples(inner, inner).flatmap(lambda p: _binary(*p))),
                            max_leaves=6)


_ALLOWED = (sp.Add, sp.Mul, sp.Pow, sp.exp, sp.log, sp.tanh, sp.Abs, sp.sign, sp.floor, sp.ceiling, sp.Max, sp.Min,
            sp.Mod, sp.Heaviside, sp.Piecewise, ExprCondPair, sp.core.relational.Relational, sp.And, sp.Or, sp.Not)


def _safe(expression):
    return isinstance(expression, sp.Expr) and not expression.has(sp.I, sp.zoo, sp.nan, sp.oo, -sp.oo) and \
        expression.free_symbols <= {X, Y} and \
        all(isinstance(node, _ALLOWED) for node in sp.preorder_traversal(expression) if node.args)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(_expressions.filter(_safe), _floats, _floats)
def test_a_float64_evaluation_lies_in_the_bounds(expression, x, y):
    """The reference interpreter evaluates node by node in float64 (each operation rounded once, library
    functions within an ulp): a legitimate kernel, so its value must be in the oracle's bounds."""
    with np.errstate(all="ignore"):
        value = reference.evaluate(expression, {X: np.float64(x), Y: np.float64(y)})
    bounds = oracle.evaluate(expression, {X: oracle.value_of(x), Y: oracle.value_of(y)}, oracle.FLOAT64)
    assert oracle.verdict(bounds, value) == "correct", (expression, x, y, value, bounds)


@settings(max_examples=300, deadline=None)
@given(st.lists(_floats, min_size=2, max_size=5), st.randoms(use_true_random=False),
       st.sampled_from(["float64", "float32"]))
def test_a_sum_in_any_order_lies_in_the_bounds(values, random, precision):
    """Reassociating a sum is legitimate: every order's rounded result is within the bounds of the sum."""
    target = oracle.TARGETS[precision]
    dtype = np.dtype(precision).type
    with np.errstate(all="ignore"):
        values = [float(dtype(v)) for v in values]
        order = list(range(len(values)))
        random.shuffle(order)
        total = dtype(values[order[0]])
        for i in order[1:]:
            total = dtype(total + dtype(values[i]))
    bounds = oracle.add([oracle.value_of(v) for v in values], target)
    assert oracle.verdict(bounds, total) == "correct", (values, order, total, bounds)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=2, max_size=4),
       st.randoms(use_true_random=False))
def test_a_float32_product_in_any_order_lies_in_the_bounds(values, random):
    with np.errstate(all="ignore"):
        order = list(range(len(values)))
        random.shuffle(order)
        total = np.float32(values[order[0]])
        for i in order[1:]:
            total = np.float32(total * np.float32(values[i]))
    bounds = oracle.multiply([oracle.value_of(v) for v in values], oracle.FLOAT32)
    assert oracle.verdict(bounds, total) == "correct", (values, order, total, bounds)


def _moving_average():
    spec = SpecBuilder("ema", "moving average", reference="tests/test_exact_oracle.py")
    beta = spec.hyper("beta", 0.9, r"\beta", UNIT_CLOSED)
    m = spec.state("m", 0)
    spec.update(m, beta * m + (1 - beta) * GRAD)
    spec.update(PARAM, PARAM - m / 10)
    return spec.build()


@pytest.mark.parametrize("precision, m, g", [("float64", 1e20, 1.0), ("float32", 1e4, 1e-3)])
def test_the_cancelling_moving_average_is_caught(precision, m, g):
    """The issue's examples: m ← βm + (1 − β)g at β = 0 is g; the rewrite m + (1 − β)(g − m) gives 0 (float64,
    m = 1e20) and 9.77e-4 (float32, m = 1e4, g = 1e-3)."""
    dtype = np.dtype(precision).type
    m, g = dtype(m), dtype(g)
    bounds = oracle.step_bounds(_moving_average(), dtype(1), g, {"m": m}, 1, {"beta": 0.0},
                                oracle.TARGETS[precision])
    as_written = dtype(dtype(0.0) * m + dtype(1.0) * g)
    rewritten = dtype(m + dtype(1.0) * dtype(g - m))
    assert oracle.verdict(bounds["m"], as_written) == "correct"
    assert oracle.verdict(bounds["m"], rewritten) == "wrong", (bounds["m"], rewritten)


def test_a_constant_printed_with_15_digits_is_caught():
    """log(1/10) printed as -2.30258509299405 (15 digits) is 17 units off."""
    bounds = oracle.evaluate(sp.log(sp.Rational(1, 10)), {}, oracle.FLOAT64)
    assert oracle.verdict(bounds, math.log(0.1)) == "correct"
    assert oracle.verdict(bounds, -2.30258509299405) == "wrong"


def test_nan_or_inf_where_the_value_is_finite_is_caught():
    x = oracle.value_of(2.0)
    bounds = oracle.evaluate(sp.sqrt(sp.Abs(X) * Y), {X: oracle.value_of(0.0), Y: x}, oracle.FLOAT64)
    assert oracle.verdict(bounds, 0.0) == "correct"
    assert oracle.verdict(bounds, math.nan) == "nan_where_finite"
    assert oracle.verdict(bounds, math.inf) == "nan_where_finite"


def test_undefined_values_allow_nan_and_poles_allow_infinity():
    tiny_negative = oracle.evaluate(sp.sqrt(X - Y), {X: oracle.value_of(0.1), Y: oracle.value_of(0.1)}, oracle.FLOAT64)
    assert oracle.verdict(tiny_negative, 0.0) == "correct"  # exactly 0 here: sqrt(0)
    straddling = oracle.evaluate(sp.sqrt(X + Y - sp.Rational(3, 10)),
                                 {X: oracle.value_of(0.1), Y: oracle.value_of(0.2)}, oracle.FLOAT64)
    assert straddling.nan and oracle.verdict(straddling, math.nan) == "correct"  # 0.1 + 0.2 − 0.3 may round < 0
    pole = oracle.evaluate(1 / X, {X: oracle.value_of(0.0)}, oracle.FLOAT64)
    assert oracle.verdict(pole, math.inf) == "correct" and oracle.verdict(pole, -math.inf) == "correct"
    overflow = oracle.evaluate(sp.exp(X), {X: oracle.value_of(1000.0)}, oracle.FLOAT64)
    assert oracle.verdict(overflow, math.inf) == "correct" and not overflow.nan
    assert oracle.verdict(overflow, math.nan) == "nan_where_finite" or not overflow.nan


def test_an_undecided_condition_takes_both_arms():
    expression = sp.Piecewise((1, X + Y > sp.Rational(3, 10)), (2, True))
    bounds = oracle.evaluate(expression, {X: oracle.value_of(0.1), Y: oracle.value_of(0.2)}, oracle.FLOAT64)
    assert (bounds.lo, bounds.hi) == (1, 2)
    decided = oracle.evaluate(expression, {X: oracle.value_of(1.0), Y: oracle.value_of(0.2)}, oracle.FLOAT64)
    assert (decided.lo, decided.hi) == (1, 1)


def test_a_deliberately_wrong_kernel_fails_the_campaign_check():
    """A NumPy kernel whose θ is off by 8 units in the last place, and one that returns NaN at g = 0."""
    import oracle_differential
    from optiforge.codegen.generate import BACKENDS, __version__

    builder = SpecBuilder("tame", "a tame step", reference="tests/test_exact_oracle.py")
    lr = builder.hyper("lr", 0.1, r"\eta", UNIT_CLOSED)
    builder.update(PARAM, PARAM - lr * GRAD / (1 + sp.Abs(GRAD)))
    spec = builder.build()
    module = oracle_differential.differential._load(BACKENDS["numpy"](spec, __version__), "tame_numpy")

    class OffByUlps:
        def __init__(self, how):
            self.how = how

        def init_state(self, param, **hp):
            return module.init_state(param, **hp)

        def step(self, param, grad, state, t, **hp):
            zero = grad == 0
            module.step(param, grad, state, t, **hp)
            if self.how == "ulps":
                param *= 1 + 8 * np.finfo(param.dtype).eps
            else:
                param[zero] = np.nan
    for how, outcome in (("ulps", "wrong"), ("nan", "nan_where_finite")):
        checker = oracle_differential._Checker(spec, {"numpy": module, "bad": OffByUlps(how)}, "float64",
                                               {"lr": 0.1}, np.random.default_rng(0), 12)
        checker.run(3)
        assert "numpy" not in checker.outcomes, checker.details
        assert checker.outcomes["bad"] == outcome, checker.details


_ELEMENTARY_POINTS = [0.0, -0.0, 1e-300, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 1.5707963267948966, 3.141592653589793,
                      4.71238898038469, 10.0, -30.0, 100.0, 1e10, -1e20, 1e300, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("function", sorted(ELEMENTARY_FUNCTIONS, key=lambda f: f.__name__))
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_numpy_elementary_functions_lie_in_the_bounds(function, precision):
    """NumPy's ufunc (the reference's and the NumPy kernels') in either precision is within the oracle's bounds
    at ordinary points, domain ends, poles' neighbours, huge arguments and ±∞/NaN; a value off by a relative
    1e-5 at an ordinary point is not."""
    dtype = np.dtype(precision).type
    ufunc = getattr(np, ELEMENTARY_FUNCTIONS[function])
    with np.errstate(all="ignore"):
        points = [dtype(x) for x in _ELEMENTARY_POINTS] + [dtype(x) for x in np.linspace(-3, 3, 41)]
        for x in points:
            value = ufunc(x)
            bounds = oracle.evaluate(function(X), {X: oracle.value_of(float(x))}, oracle.TARGETS[precision])
            assert oracle.verdict(bounds, value) == "correct", (function, precision, x, value, bounds)
        x = dtype(1.3 if function is sp.acosh else 0.3)
        off = ufunc(x) * (1 + 1e-5)
        bounds = oracle.evaluate(function(X), {X: oracle.value_of(float(x))}, oracle.TARGETS[precision])
        assert oracle.verdict(bounds, off) == "wrong", (function, off, bounds)
