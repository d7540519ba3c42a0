"""Lowering passes preserve meaning (symbolically and numerically) and do what they claim."""
import numpy as np
import pytest
import sympy as sp
from sympy.codegen.cfunctions import Sqrt
from sympy.functions.elementary.piecewise import piecewise_fold

from optiforge import specs
from optiforge.codegen.driver import lower_and_optimize
from optiforge.codegen.ir import lower
from optiforge.codegen.numpy_backend.program import build_program
from optiforge.codegen.passes import factor_scalars, hoist_scalars
from optiforge.codegen.passes.host_bounds import Bound, bound, domain_bound, host_bounds, sign
from optiforge.codegen.passes.reduce_powers import undo_power_reduction
from optiforge.codegen.passes.skip_zero_terms import switch_cases
from optiforge.specs import STEP


def _proved_positive_as_dummies(exprs, lowered) -> dict:
    """Host-only sums proved positive by the bound analysis → positive Dummies, so that SymPy may use
    the positivity (e.g. to split :math:`\\sqrt{v/(1-\\beta^t)}`), which it cannot derive itself."""
    known, inputs, dummies = host_bounds(lowered), set(lowered.host_inputs), {}
    for expr in exprs:
        for node in sp.preorder_traversal(expr):
            if isinstance(node, sp.Add) and node.free_symbols <= inputs and node not in dummies \
                    and sign(node, known) == "positive":
                dummies[node] = sp.Dummy(positive=True)
                dummies[-node] = -dummies[node]  # SymPy writes -(1 - β) as β - 1
    return dummies


def _equal(now, then, positive: dict) -> bool:
    """Symbolic equality: identical, equal after expansion, or a difference that simplifies to 0, branch by
    branch where both sides fold into Piecewise with the same conditions (simplify on a whole Piecewise is
    slow)."""
    if now == then or sp.expand(now - then) == 0:
        return True
    # torch_sign writes sign(x) as its Piecewise, the same for every real x
    now, then = (e.replace(sp.sign, lambda x: sp.sign(x).rewrite(sp.Piecewise)) for e in (now, then))
    if now == then or sp.expand(now - then) == 0:
        return True
    now, then = piecewise_fold(now.xreplace(positive)), piecewise_fold(then.xreplace(positive))
    if isinstance(now, sp.Piecewise) and isinstance(then, sp.Piecewise) and \
            [c for _, c in now.args] == [c for _, c in then.args]:
        return all(sp.expand(a - b) == 0 or sp.simplify(a - b) == 0 for (a, _), (b, _) in zip(now.args, then.args))
    return sp.simplify(now - then) == 0


def _numeric(ir_meaning: dict, symbols, point):
    return {k: sp.lambdify(symbols, undo_power_reduction(v), "mpmath")(*point) for k, v in ir_meaning.items()}


@pytest.mark.parametrize("name", specs.names())
def test_every_pass_preserves_meaning(name):
    """Each pass against the stage before it: symbolically (identical after substitution, or a difference
    that simplifies to 0), and numerically against the unoptimised IR at a random point."""
    spec = specs.get(name)
    stages = lower_and_optimize(spec).stages
    lowered = stages[0][1]
    reference = lowered.meaning()
    symbols = sorted(set().union(*(e.free_symbols for e in reference.values())), key=lambda s: s.name)
    rng = np.random.default_rng(7)
    point = [int(rng.integers(1, 9)) if s == STEP else float(rng.uniform(0.05, 0.95)) for s in symbols]
    expected = _numeric(reference, symbols, point)
    before = reference
    for stage, ir in stages[1:]:
        meaning = ir.meaning()
        assert meaning.keys() == reference.keys()
        positive = _proved_positive_as_dummies([*meaning.values(), *before.values()], lowered)
        for key in reference:
            # Cheapest exact check first: most passes only name subexpressions (identical after substitution);
            # CSE may flip the signs of factors (expand proves it); factoring needs the proved positivity.
            if meaning[key] != before[key]:
                # Guards on switch hyperparameters (skip_zero_terms) defeat expand and simplify: check each case
                # of the switches (0, or positive so that the guard vanishes) on its own.
                for case in switch_cases(spec) or [{}]:
                    now, then = meaning[key].xreplace(case), before[key].xreplace(case)
                    assert _equal(now, then, positive), (stage, key, case)
        actual = _numeric(meaning, symbols, point)
        for key in reference:
            assert abs(actual[key] - expected[key]) <= 1e-12 * (1 + abs(expected[key])), (stage, key)
        before = meaning


@pytest.mark.parametrize("name", specs.names())
def test_body_has_no_step_dependent_scalar_work(name):
    """After hoisting, nothing per element depends on t, and no power has a symbolic exponent."""
    ir = lower_and_optimize(specs.get(name)).ir
    for _, expr in ir.body:
        assert STEP not in expr.free_symbols
        for node in sp.preorder_traversal(expr):
            if isinstance(node, sp.Pow):
                assert node.exp.is_Number, node


def test_hoisting_moves_bias_corrections_to_the_host():
    ir = lower_and_optimize(specs.get("adam")).ir
    host_text = " ".join(sp.sstr(e) for _, e in ir.host)
    assert "beta1**t" in host_text and "beta2**t" in host_text
    assert len(ir.body) == 5  # m, v and theta plus the two shared moments


def test_cse_shares_the_new_moments():
    ir = lower_and_optimize(specs.get("adam")).ir
    body = dict(ir.body)
    m_new = body[sp.Symbol("m_new", real=True)]
    assert isinstance(m_new, sp.Symbol)  # m_new is a shared temporary, reused inside theta_new
    assert m_new in body[sp.Symbol("theta_new", real=True)].free_symbols


def test_reduce_powers_leaves_no_square_or_square_root_pow():
    for name in specs.names():
        for _, expr in lower_and_optimize(specs.get(name)).ir.body:
            for node in sp.preorder_traversal(expr):
                if isinstance(node, sp.Pow):
                    assert node.exp not in (2, sp.S.Half, -sp.S.Half), (name, node)
    body = dict(lower_and_optimize(specs.get("adam")).ir.body)
    assert any(isinstance(n, Sqrt) for e in body.values() for n in sp.preorder_traversal(e))


def test_bound_analysis_proves_bias_corrections_positive():
    spec = specs.get("adam")
    beta1, beta2 = spec.symbol("beta1"), spec.symbol("beta2")
    known = host_bounds(lower(spec))
    # β ∈ [0, 1) is a double: β <= 1 − 2^-53; t >= 1: β^t ∈ [0, 1 − 2^-53], 1 − β^t >= 2^-53
    below_one = 1 - sp.Rational(1, 2 ** 53)
    assert bound(beta1 ** STEP, known) == Bound(0, below_one, False, False)
    assert bound(1 - beta1 ** STEP, known) == Bound(1 - below_one, 1, False, False)
    assert sign(1 - beta1 ** STEP, known) == "positive"
    assert sign(1 / (1 - beta2 ** STEP), known) == "positive"
    assert sign(sp.sqrt(1 - beta2 ** STEP) / (1 - beta1 ** STEP), known) == "positive"
    assert sign(1 - beta1 ** (STEP + 1), known) == "positive"
    # RAdam-like: ρ_t = ρ_∞ − 2tβ^t/(1 − β^t) has no sign, but its pieces do.
    assert sign(2 * STEP * beta2 ** STEP / (1 - beta2 ** STEP), known) == "nonnegative"
    assert sign(spec.symbol("lr"), known) == "nonnegative"


def test_bound_analysis_refuses_what_can_be_negative_or_zero():
    spec = specs.get("adam")
    beta1, eps = spec.symbol("beta1"), spec.symbol("eps")
    known = host_bounds(lower(spec))
    assert sign(1 - 2 * beta1, known) is None
    assert sign(beta1 - beta1 ** 2, known) is None  # nonnegative in truth; intervals lose the correlation
    assert sign(eps, known) == "nonnegative"  # eps = 0 is allowed: not positive
    assert sign(1 / eps, known) is None
    assert sign(sp.sqrt(beta1 - 1), known) is None


def test_bounds_of_powers_with_the_step_as_exponent():
    x = sp.Symbol("x", real=True)
    for base, expected in ((Bound(1, 1), Bound(1, 1)), (Bound(sp.Rational(1, 2), 1), Bound(0, 1, True, False)),
                           (Bound(2, 3), Bound(2, sp.oo, False, True)), (Bound(0, 2), Bound(0, sp.oo, False, True))):
        assert bound(x ** STEP, {x: base, STEP: Bound(1, sp.oo)}) == expected, base
    assert bound(x ** STEP, {x: Bound(-1, 1), STEP: Bound(1, sp.oo)}) == Bound(-sp.oo, sp.oo)


def test_domain_bounds_keep_open_and_closed_ends():
    # A hyperparameter is a double: an open end is the nearest double inside, attained.
    assert domain_bound(sp.Interval.Ropen(0, 1)) == Bound(0, 1 - sp.Rational(1, 2 ** 53), False, False)
    assert domain_bound(sp.Interval.open(0, sp.oo)) == Bound(sp.Rational(1, 2 ** 1074), sp.oo, False, True)
    assert domain_bound(sp.Interval.open(0, sp.oo)).is_positive
    assert domain_bound(sp.Interval.open(-1, 1)) == Bound(-1 + sp.Rational(1, 2 ** 53), 1 - sp.Rational(1, 2 ** 53))
    assert domain_bound(sp.FiniteSet(0, 1)) == Bound(0, 1)
    assert domain_bound(sp.Range(1, sp.oo)) == Bound(1, sp.oo, False, True)


def _with_body(ir, body_expr):
    """``ir`` with ``body_expr`` as the new θ, scalars hoisted (as factor_scalars finds them)."""
    theta_new = dict(ir.array_outputs)["theta"]
    return hoist_scalars(ir.with_(body=tuple((s, body_expr if s == theta_new else e) for s, e in ir.body)))


def test_factor_scalars_moves_a_positive_scalar_out_of_root_and_denominator():
    ir = lower(specs.get("adam"))
    spec = ir.spec
    beta1, beta2, eps = (spec.symbol(n) for n in ("beta1", "beta2", "eps"))
    theta, g, v = spec.symbol("theta"), spec.symbol("g"), spec.symbol("v")
    c = 1 / (1 - beta2 ** STEP)
    factored = factor_scalars(_with_body(ir, theta + g / (eps + sp.sqrt(c * v))))
    theta_new = dict(factored.body)[dict(factored.array_outputs)["theta"]]
    host = {}
    for symbol, expr in factored.host:
        host[symbol] = expr.xreplace(host)
    k, e, root = sp.Wild("k"), sp.Wild("e"), sp.Wild("r")
    match = theta_new.match(theta + k * g / (e + root))
    assert match and match[root] == sp.sqrt(v), theta_new
    assert sp.simplify(match[e].xreplace(host) - eps / sp.sqrt(c)) == 0


def test_factor_scalars_leaves_unproved_signs_alone():
    ir = lower(specs.get("adam"))
    spec = ir.spec
    beta1, eps, theta, g, v = (spec.symbol(n) for n in ("beta1", "eps", "theta", "g", "v"))
    for unproved in (1 - 2 * beta1, eps - 1):
        untouched = _with_body(ir, theta + g / (eps + sp.sqrt(unproved * v)))
        assert factor_scalars(untouched).body == untouched.body
    # eps >= 0 may be 0: a square root may drop it, a denominator may not divide by it.
    dividing = _with_body(ir, theta + g / (1 + eps * v))
    assert factor_scalars(dividing).body == dividing.body


# adam_torch: 14 + 1 for the weight_decay = 0 guard (skip_zero_terms)
@pytest.mark.parametrize("name, calls", [("adam", 12), ("adamw", 15), ("adam_torch", 15), ("nadam", 15)])
def test_factoring_removes_a_multiply_per_element(name, calls):
    assert len(build_program(lower_and_optimize(specs.get(name)).ir).calls) <= calls


def test_kernels_read_the_numerics_never_the_peers():
    """Every catalogue module is the same text with the spec's ``peers`` reversed behind a torch_optimizer peer
    (which once decided the arithmetic, as the first peer) or with no peers at all: the peers are documents."""
    import dataclasses

    from optiforge.codegen.generate import BACKENDS

    for name in specs.names():
        spec = specs.get(name)
        for peers in (("torch_optimizer.Other",) + spec.peers[::-1], ()):
            shuffled = dataclasses.replace(spec, peers=peers)
            for backend, render in BACKENDS.items():
                assert render(shuffled, "x") == render(spec, "x"), (name, backend, peers)


def _moving_average_spec(numerics):
    builder = specs.SpecBuilder("average", "An average", reference="test", numerics=numerics)
    beta = builder.hyper("beta", 0.0, r"\beta", specs.UNIT_HALF_OPEN)
    m = builder.state("m", 0)
    builder.update(m, beta * m + (1 - beta) * specs.GRAD)
    builder.update(specs.PARAM, specs.PARAM - m)
    return builder.build()


def test_a_spec_without_numerics_averages_as_written():
    r""":math:`\beta m + (1-\beta) g` with :math:`\beta = 0` is exactly :math:`g`; torch's lerp form
    :math:`m + (g - m)` cancels for a large :math:`m` (1e20 + (1 − 1e20) = 0), so it is used only where the spec
    asks for it."""
    from optiforge.codegen.generate import load_module

    results = {}
    for averages in ("as_written", "lerp"):
        kernel = load_module(_moving_average_spec(specs.Numerics(averages=averages)))
        param, state = np.zeros(1), {"m": np.array([1e20])}
        kernel.step(param, np.array([1.0]), state, 2)
        results[averages] = state["m"][0]
    assert results == {"as_written": 1.0, "lerp": 0.0}


def test_checked_rewrite_conditions_are_decided_from_the_domains():
    """The side conditions of codegen/passes/checked_rewrites.py: proved from the declared domains (as float64
    values), and not proved where a domain end or an unbounded factor breaks them."""
    from optiforge.codegen.passes.checked_rewrites import (AtMostOne, Facts, InFloatRange, Nonnegative, Positive,
                                                           SafeScaling, holds)
    spec = specs.get("adam")
    facts = Facts(lower(spec))
    beta1, beta2, lr, eps = (spec.symbol(n) for n in ("beta1", "beta2", "lr", "eps"))
    g = spec.symbol("g")
    assert holds(Positive(1 - beta2 ** STEP), facts) and not holds(Positive(g ** 2), facts)  # an array may be 0
    assert holds(Nonnegative(g ** 2 * sp.Abs(g)), facts) and not holds(Nonnegative(g * (1 - beta1)), facts)
    assert holds(AtMostOne(1 - beta2), facts) and not holds(AtMostOne(lr), facts)
    assert holds(InFloatRange(sp.sqrt(1 - beta2 ** STEP)), facts)  # >= 2^-26.5
    assert not holds(InFloatRange(lr), facts)  # lr in (0, ∞)
    # a factor >= 1 cannot underflow, <= 1 cannot overflow; beyond the headroom both must be proved
    assert holds(SafeScaling(beta1, 1 / (1 - beta2 ** STEP)), facts)  # [1, 2^53] onto [0, 1)
    assert not holds(SafeScaling(lr, sp.Rational(1, 10 ** 30)), facts)  # lr·1e-30 underflows for tiny lr
    assert holds(SafeScaling(1 + beta1, sp.Rational(1, 10 ** 30)), facts)  # [1, 2)·1e-30 is normal
