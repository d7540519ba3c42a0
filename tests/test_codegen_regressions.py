"""Regression specs: one per failure class found by the issue's measurements, the differential campaigns
(``tests/differential.py``) and the spec fuzzer (``tests/spec_fuzz.py``), minimised; each must give the
reference's values on both backends, including a step with ``grad`` the parameter array itself.
"""
from __future__ import annotations

import pytest
import sympy as sp

from differential import Recipe, check_specs
from optiforge.codegen.cupy_backend.host_emulation import gxx
from optiforge.specs import BOOLEAN, NONNEGATIVE, POSITIVE, REAL, UNIT_HALF_OPEN, interval

pytestmark = pytest.mark.skipif(gxx() is None, reason="g++ not on PATH: cannot host-emulate the CuPy kernels")


def _recipe(name, hypers, states, steps, combinators=()):
    """A :class:`Recipe` whose values are written as text (parsed with the recipe's own symbols)."""
    recipe = Recipe(name, list(hypers), [(n, None, scalar) for n, _, scalar in states],
                    [(kind, target, None) for kind, target, _ in steps], list(combinators))
    symbols = recipe.symbols()

    def parse(text):
        return None if text is None else sp.sympify(text, locals=symbols)
    recipe.states = [(n, parse(init), scalar) for n, init, scalar in states]
    recipe.steps = [(kind, target, parse(value)) for kind, target, value in steps]
    return recipe


LR = ("lr", 0.1, POSITIVE)
REGRESSIONS = {
    # --- the examples --------------------------------------------------------------------------------
    # NumPy: the else-branch write overwrote θ before the masked copy read it
    "select_reads_its_destination": _recipe("select_reads_its_destination", [LR], [], [
        ("update", "theta", "Piecewise((theta, g > 0), (theta - lr*g, True))")]),
    # NumPy: "no ufunc for ITE" (a state initialised with g, then a condition on a hyperparameter)
    "condition_on_a_hyperparameter": _recipe("condition_on_a_hyperparameter", [LR, ("b", 0.5, REAL)], [("m", "g", False)], [
        ("update", "m", "Piecewise((g, b > 0), (0, True))"), ("update", "theta", "theta - lr*m")]),
    # both: "not comparable" / "Invalid comparison of non-real" after power reduction
    "min_of_a_square_root": _recipe("min_of_a_square_root", [LR], [], [
        ("update", "theta", "theta - lr*Min(sqrt(g**2 + 1), 1)")]),
    "square_root_in_a_condition": _recipe("square_root_in_a_condition", [LR], [], [
        ("update", "theta", "theta - lr*Piecewise((g, sqrt(g**2 + 1) > theta), (0, True))")]),
    # reference: a condition on the step and an element at once
    "elementwise_and_step_condition": _recipe("elementwise_and_step_condition", [LR], [], [
        ("update", "theta", "theta - lr*Piecewise((g, (g > 0) & (t > 2)), (0, True))")]),
    # CuPy: t read in the kernel, undeclared
    "step_in_the_kernel": _recipe("step_in_the_kernel", [LR], [], [("update", "theta", "theta - lr*Min(1, t*g)")]),
    # CuPy: scalar state read before its update
    "scalar_state_read_before_its_update": _recipe("scalar_state_read_before_its_update", [LR], [("q", "1", True)], [
        ("update", "theta", "theta - lr*q*g"), ("update", "q", "9*q/10")]),
    # data-dependent initial values (2g, θ + 1, g²), read at step 1
    "data_dependent_initial_values": _recipe("data_dependent_initial_values", [LR], [
        ("m", "2*g", False), ("v", "theta + 1", False), ("w", "g**2", False)], [
        ("update", "m", "m/2 + g"), ("update", "v", "v/2"), ("update", "w", "w/2 + g**2"),
        ("update", "theta", "theta - lr*(m + v)/(1 + sqrt(w))")]),
    # --- the fuzzer --------------------------------------------------------------------------------------------
    # NumPy, grad is param: a select whose "then" operand is g was written into θ, first pass first
    "select_of_the_gradient_into_theta": _recipe("select_of_the_gradient_into_theta", [LR], [], [
        ("update", "theta", "Piecewise((g, g > 0), (0, True))")]),
    "piecewise_without_else_into_theta": _recipe("piecewise_without_else_into_theta", [LR], [], [
        ("update", "theta", "Piecewise((g, g > 0))")]),
    # NumPy/CuPy host code: Python's 0**-1.0 raised (scalar state constant 1, or t = 1)
    "division_by_zero_on_the_host": _recipe("division_by_zero_on_the_host", [LR], [("p", "1", True)], [
        ("update", "p", "1"), ("update", "theta", "theta - lr*g/(1 - p) - lr*g/(1 - t)")]),
    "large_power_of_the_step_on_the_host": _recipe("large_power_of_the_step_on_the_host", [LR], [], [
        ("update", "theta", "theta - lr*g*2**(1000*t)")]),
    # reassociated products at the top of the float64 range (the comparison must not call it wrong)
    "huge_learning_rate": _recipe("huge_learning_rate", [("lr", 1e308, POSITIVE), ("beta", 0.9, UNIT_HALF_OPEN)],
                                  [("m", "0", False)], [
        ("update", "m", "beta*m + (1 - beta)*g"), ("let", "d", "m/(1 + Abs(m))"), ("update", "theta", "theta - lr*d")]),
    # --- the differential campaigns ----------------------------------------------------------------------------
    # sign(exp(-g²)) is 1 in exact algebra, though exp(-g²) underflows to 0 at g = 50
    "sign_of_an_underflowing_exponential": _recipe("sign_of_an_underflowing_exponential", [LR], [], [
        ("let", "z", "exp(-g**2)"), ("update", "theta", "theta - lr*sign(z)")]),
    # substitution made |exp(tanh(√g))| into exp(re(…)) with atan2 inside, which no backend computes
    "absolute_value_of_an_exponential": _recipe("absolute_value_of_an_exponential", [LR], [], [
        ("let", "e", "exp(tanh(sqrt(g)))"), ("update", "theta", "theta - lr*Abs(e)")]),
    # reduce_powers: an unevaluated product asked tanh(…) whether it commutes, which re-evaluated a Max
    # around a Sqrt SymPy cannot compare
    "max_around_a_reduced_square_root": _recipe("max_around_a_reduced_square_root", [LR], [("w", "0", False)], [
        ("update", "w", "w/2 + g"), ("let", "f", "exp(-Max(sqrt(2)/2, sqrt(theta**2 + 1))**2)"),
        ("update", "theta", "theta - lr*Max(2*w*tanh(f), sqrt((w - lr)**2 + 1))")]),
    # host printer: SymPy's printer rewrote Heaviside of a Piecewise (and an ITE condition) into logic it
    # then refused to build (as found)
    "heaviside_of_a_host_piecewise": _recipe("heaviside_of_a_host_piecewise", [
        ("nu", 1, BOOLEAN), ("gamma", 1.5002445396552433, POSITIVE), ("beta", -2.181910565008935, REAL),
        ("kappa", 1.1317633881043994, NONNEGATIVE)], [("z", "g", False), ("w", "0", False)], [
        ("let", "a", "Piecewise((Min(sqrt(gamma), nu*t, Piecewise((nu, Eq(Mod(t, 3), 1)), (2, True))), "
                      "(beta > 1/2) | Ne(t, 2)), (Min(gamma, -gamma + t), True))"),
        ("update", "z", "Max(g, w)"),
        ("update", "theta", "-kappa*tanh(sqrt(theta**2 + 1)/(Heaviside(a, 1)**2 + 1)) + theta"),
        ("update", "w", "Piecewise((w, Eq(Mod(t, 2), 0)), (nu, kappa < theta), (theta, True))")]),
    "ite_condition": _recipe("ite_condition", [LR, ("beta", 2, POSITIVE)], [("w", "2*g", False)], [
        ("update", "w", "Piecewise((w - g, ITE(Eq(Mod(t, 2), 0), t < sqrt(Abs(w) + 1), beta < sqrt(Abs(w) + 1))), "
                        "(theta, True))"),
        ("update", "theta", "theta - lr*Piecewise((w, ITE(g > 0, t > 1, beta > 3)), (g, True))")]),
    # 1 + tanh(g) cancels (g ≈ −4 with coupled weight decay, grad is param): rounding, not a wrong kernel
    # (as found)
    "cancellation_after_tanh": _recipe("cancellation_after_tanh", [
        ("nu", 0, BOOLEAN), ("lr", 0.6623942141590575, interval(-0.83760578584094247, 2.1623942141590575,
                                                                right_open=True))], [("u", "lr", False)], [
        ("let", "p", "Abs(g - u)/(Piecewise((Piecewise((u**2, Eq(Mod(t, 3), 1)), (theta**2, (g < t) & Ne(t, 3)), "
                     "(g**2, True)), u < 1/10), ((lr + u)**2, lr < u), (theta**2, True)) + 1)"),
        ("update", "theta", "-lr*p + theta"), ("update", "u", "theta**2*u/(10*(tanh(g) + 1)) + 9*u/10")],
        [("weight_decay", "coupled")]),
    # --- the merge of the runtime's passes (issue 11) with SSA lowering --------------------------------------------
    # CuPy: θ accumulated one term at a time, (θ − g/10) + s printed as "s - (g/10 + theta)" (SymPy's sum
    # printer read the grouped sum's leading "-" as its sign)
    "grouped_sum_with_a_leading_minus": _recipe("grouped_sum_with_a_leading_minus", [], [], [
        ("update", "theta", "theta - g/10 + sign(g)/10 - tanh(g)/10")]),
    # both: squared_temporaries substituted a Piecewise without a default into a condition SymPy cannot
    # decide ("conditions must cover all reals")
    "piecewise_without_a_default": _recipe("piecewise_without_a_default", [LR], [], [
        ("let", "s", "Piecewise((t, Eq(t, 1)))"), ("let", "d", "g*s"),
        ("update", "theta", "theta - lr*d**2*Piecewise((1, s > 1/2), (g, True))")]),
    # both: a scalar state a step made NaN was refused as input to the next step
    "scalar_state_becomes_nan": _recipe("scalar_state_becomes_nan", [LR], [("q", "lr", True)], [
        ("update", "q", "Piecewise((lr, Ne(Mod(t, 2), 0)))"), ("update", "theta", "theta - lr*g")]),
    # --- the campaign after the merge of numba (seed 7) ----------------------------------------------------------
    # numba: Heaviside's branches built as relations of its operand, which SymPy folded with the Piecewise inside
    # ("Invalid comparison of non-real")
    "heaviside_of_a_piecewise_sum": _recipe("heaviside_of_a_piecewise_sum", [LR], [("w", "g", False)], [
        ("let", "r", "log(1 + Piecewise((w**2, t >= w), (81/100, True))/(Abs(Min(theta, g*theta)) + 1/2)**2)"),
        ("update", "theta", "theta - lr*Heaviside(r + w, 1)"), ("update", "w", "w/2 + g")]),
    # evaluation_order rebuilt a Min of CSE symbols with evaluation ("not comparable")
    "min_of_shared_subexpressions": _recipe("min_of_shared_subexpressions", [LR], [("m", "g", False)], [
        ("update", "theta", "theta - lr*Heaviside(Min(m - 1, log((m + theta)**2 + 1)), 1) - lr*(m + theta)**2/100"),
        ("update", "m", "m/2 + g")]),
    # numba, grad is param: the compiled loop read the gradient after it stored the parameter
    "numba_loop_with_grad_the_param": _recipe("numba_loop_with_grad_the_param", [
        ("beta", 3, REAL), ("delta", 0.33583699040254844, REAL)], [("w", "theta", False), ("m", "theta", False)], [
        ("update", "theta", "w"), ("update", "w", "delta*w + (1 - delta)*Min(beta, w)"),
        ("update", "theta", "-delta*m + theta"), ("update", "m", "delta*m + g*(1 - delta)"),
        ("update", "m", "g - theta*sqrt(w) + w")]),
    # evaluation_order shared a repeated expression with an evaluated xreplace (a Max of a sign: "not comparable")
    "shared_expression_under_a_max": _recipe("shared_expression_under_a_max", [
        ("lam", 0.4571821568668606, UNIT_HALF_OPEN), ("gamma", 0.28644499647058425, POSITIVE)],
        [("z", "g**2", False), ("u", "lam + Abs(g)", False), ("q", "0", True)], [
        ("let", "e", "q + t/10 + Max(3/4, lam**t)"),
        ("update", "q", "9*q/10 + Max(e - sqrt(t), Piecewise((3, gamma > 1/2), (-1, Eq(Mod(t, 3), 1)), (e, True)))/10"),
        ("let", "c", "log(g**2*(-g + u)**2 + 1)"), ("update", "u", "lam*u + (1 - lam)*(-c + theta)"),
        ("update", "theta", "g/(c**2 + 1) + t + tanh(sign(theta))")]),
    # CuPy operand naming rebuilt a Piecewise whose condition SymPy rewrote from an ITE into comparisons
    "piecewise_rebuilt_with_a_rewritten_condition": _recipe("piecewise_rebuilt_with_a_rewritten_condition", [
        ("delta", 0, NONNEGATIVE), ("lr", 1.0344235950079845, interval(-0.46557640499201547, 2.5344235950079845,
                                                                          right_open=True))],
        [("z", "0", False), ("u", "g*theta", False), ("w", "g", False)], [
        ("update", "w", "9*w/10 + Piecewise((Piecewise((g*t, Ne(t, 1)), (delta + theta, True)), sign(w) > t**(1/3)), "
                        "(Max(t, theta)/tanh(3), Mod(u, 2) <= log(w**2 + 1)), (log(u**2/(lr**2 + 1)**2 + 1), True))/10"),
        ("update", "z", "9*z/10 + Piecewise((Mod(-Max(g, t, theta), 3/2), (t > 2) & Ne(g, 1)), "
                        "(Max(delta**(t/2), log(w**2 + 1), tanh(z)), t < g*t))/10"),
        ("update", "w", "9*w/10 + Abs(log(theta**2 + 1) + Min(g, t, w))**(3/2)/10"),
        ("update", "theta", "w + floor(2*theta) + 1 - 1/sqrt(Abs(u) + 1)")]),
}


def test_regressions_match_the_reference():
    results = check_specs(list(REGRESSIONS.values()), steps=6, size=24)
    wrong = {r.recipe.name: (r.outcomes, r.details) for r in results if set(r.outcomes.values()) != {"correct"}}
    assert not wrong
