"""The weight-decay and Lookahead combinators: compositions equal the hand-written specs and the definitions."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from optiforge import specs
from optiforge.specs import reference
from optiforge.specs.combinators import lookahead, with_weight_decay
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD, NONNEGATIVE, PARAM, SpecError

from catalog_support import relative_error


def _data(n=12, steps=60, seed=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=n), rng.normal(size=(steps, n)) + 0.2


def _run(spec, param, grads, **hyper):
    return np.array(reference.run(spec, param, grads, **hyper))


def test_decoupled_adam_is_adamw_torch():
    composed = with_weight_decay(specs.get("adam"), "decoupled")
    assert composed.name == "adamw"  # default name: inner name + "w" (not registered)
    param, grads = _data()
    hyper = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.2)
    assert relative_error(_run(composed, param, grads, **hyper),
                          _run(specs.get("adamw_torch"), param, grads, **hyper)) < 1e-14


def test_coupled_adam_is_adam_torch():
    composed = with_weight_decay(specs.get("adam"), "coupled", name="adam_l2")
    param, grads = _data()
    hyper = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.2)
    assert relative_error(_run(composed, param, grads, **hyper),
                          _run(specs.get("adam_torch"), param, grads, **hyper)) < 1e-14


def test_coupled_sgd_is_sgd_torch_without_momentum():
    composed = with_weight_decay(specs.get("sgd"), "coupled")
    param, grads = _data()
    assert relative_error(_run(composed, param, grads, lr=0.1, weight_decay=0.3),
                          _run(specs.get("sgd_torch"), param, grads, lr=0.1, weight_decay=0.3)) < 1e-15


def test_decoupled_fixed_and_zero_decay():
    base = specs.get("lion")
    fixed = with_weight_decay(base, "decoupled_fixed")
    param, grads = _data()
    ours = _run(fixed, param, grads, weight_decay=0.01)
    theta, m, out = param.copy(), np.zeros_like(param), []
    for g in grads:  # θ(1−λ), then Lion
        theta = theta * (1 - 0.01)
        c = 0.9 * m + 0.1 * g
        theta = theta - 1e-4 * np.sign(c)
        m = 0.99 * m + 0.01 * g
        out.append(theta)
    assert relative_error(ours, out) < 1e-14
    for mode in ("coupled", "decoupled"):  # λ = 0 is the inner optimizer
        assert relative_error(_run(with_weight_decay(base, mode), param, grads), _run(base, param, grads)) == 0


def test_weight_decay_errors_and_name_clashes():
    with pytest.raises(SpecError, match="no 'lr'"):
        with_weight_decay(specs.get("adadelta"), "decoupled")
    with pytest.raises(SpecError, match="mode"):
        with_weight_decay(specs.get("adam"), "sideways")
    first_gradient = SpecBuilder("buf", "buf", reference="test")
    lr = first_gradient.hyper("lr", 0.1, r"\eta", NONNEGATIVE)
    b = first_gradient.state("b", GRAD)
    first_gradient.update(b, 0.5 * b + GRAD)
    first_gradient.update(PARAM, PARAM - lr * b)
    with pytest.raises(SpecError, match="first gradient"):
        with_weight_decay(first_gradient.build(), "coupled")
    twice = with_weight_decay(specs.get("adam_torch"), "coupled", name="adam_torch_l2_twice")
    assert "wd_weight_decay" in twice.defaults and "weight_decay" in twice.defaults
    assert "wd_g_decayed" in {s.name for s in twice.temporaries}


def _lookahead_by_hand(inner, param, grads, k, alpha, **hyper):
    """Zhang et al. (2019) Algorithm 1 around the inner optimizer's reference step."""
    fast, slow = np.array(param, float), np.array(param, float)
    state = reference.init_state(inner, param, **hyper)
    out = []
    for t, g in enumerate(grads, start=1):
        fast, state = reference.step(inner, fast, g, state, t, **hyper)
        if t % k == 0:
            fast = slow + alpha * (fast - slow)
            slow = fast.copy()
        out.append(fast)
    return np.array(out)


@pytest.mark.parametrize("inner", ["adam", "rprop_torch", "lion", "ada_nesterov", "nadam_torch", "adadb"])
def test_lookahead_matches_algorithm_1(inner):
    inner_spec = specs.get(inner)
    wrapped = lookahead(inner_spec)
    la_hyper = {n for n in wrapped.defaults if n not in inner_spec.defaults}
    k_name, alpha_name = sorted(la_hyper, key=lambda n: "alpha" in n)
    param, grads = _data()
    ours = _run(wrapped, param, grads, **{k_name: 3, alpha_name: 0.4})
    assert relative_error(ours, _lookahead_by_hand(inner_spec, param, grads, 3, 0.4)) < 1e-14


def test_lookahead_degenerate_cases_and_every_spec():
    param, grads = _data()
    for spec in specs.all_specs():  # Lookahead wraps *any* spec, including Lookahead itself
        wrapped = lookahead(spec)
        assert wrapped.name == f"lookahead_{spec.name}"
    adam = specs.get("adam")
    # α = 1: the slow weights never pull back; k = 1, α = 0: θ never moves
    assert relative_error(_run(lookahead(adam), param, grads, alpha=1.0), _run(adam, param, grads)) < 1e-15
    frozen = _run(lookahead(adam), param, grads, k=1, alpha=0.0)
    assert np.array_equal(frozen[-1], param)
    nested = lookahead(specs.get("lookahead_adam_torch"))
    assert {"lookahead_k", "lookahead_alpha", "lookahead_slow"} <= {s.name for s in nested.symbols()}


def test_lookahead_to_schedule_syncs_after_1_and_1_plus_k():
    spec = lookahead(specs.get("sgd"), schedule="to")
    param, grads = _data()
    ours = _run(spec, param, grads, lr=0.1, k=4, alpha=0.5)
    fast, slow, out = param.copy(), None, []
    for t, g in enumerate(grads, start=1):
        fast = fast - 0.1 * g
        if (t - 1) % 4 == 0:
            slow = fast.copy() if slow is None else slow
            fast = slow + 0.5 * (fast - slow)
            slow = fast.copy()
        out.append(fast)
    assert relative_error(ours, out) < 1e-14
    with pytest.raises(SpecError, match="schedule"):
        lookahead(specs.get("sgd"), schedule="sometimes")


def test_lookahead_sync_is_a_scalar_condition_on_t():
    spec = specs.get("lookahead_adam_torch")
    final = [a for a in spec.assignments if a.target == PARAM][-1]
    assert isinstance(final.value, sp.Piecewise)
    condition = final.value.args[0][1]
    assert condition.free_symbols == {specs.STEP, spec.symbol("k")}
