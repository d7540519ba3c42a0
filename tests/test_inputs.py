"""Inputs besides the gradient (``SpecBuilder.input``): declared, validated, evaluated by the reference, taken by
every backend's kernels, the NumPy ``Optimizer`` and the torch adapter, with clear errors before anything is
written."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import optiforge.torch as ot
from optiforge.codegen.cupy_backend.host_emulation import HostRuntime, emulate, gxx
from optiforge.codegen.generate import BACKENDS, __version__
from optiforge.runtime import Optimizer
from optiforge.specs import GRAD as g, PARAM as theta, POSITIVE, SpecBuilder, SpecError, reference


def _builder(name="with_inputs"):
    b = SpecBuilder(name, "Two inputs", reference="tests/test_inputs.py")
    lr = b.hyper("lr", 0.1, r"\eta", POSITIVE)
    hessian = b.input("hessian", r"\hat h", "a Hessian estimate")
    other = b.input("other")
    m = b.state("m", 0)
    return b, lr, hessian, other, m


def _spec():
    b, lr, hessian, other, m = _builder()
    b.update(m, m / 2 + hessian * g + sp.cos(other))
    b.update(theta, theta - lr * m / (1 + sp.Abs(hessian)))
    return b.build()


def _load(spec, backend):
    import types
    module = types.ModuleType(f"{spec.name}_{backend}")
    exec(compile(BACKENDS[backend](spec, __version__), module.__name__, "exec"), module.__dict__)
    return emulate(module, HostRuntime(module.KERNELS)) if backend == "cupy" else module


# --- the spec ---------------------------------------------------------------------------------------------------
def test_an_input_is_read_only():
    b, lr, hessian, other, m = _builder()
    b.update(hessian, 2 * g)
    b.update(theta, theta - lr * hessian)
    with pytest.raises(SpecError, match="assignment to input 'hessian' .*read-only"):
        b.build()


def test_an_initial_value_may_not_read_an_input():
    b = SpecBuilder("bad", "Bad", reference="test")
    hessian = b.input("hessian")
    m = b.state("m", 2 * hessian)
    b.update(theta, theta - m)
    with pytest.raises(SpecError, match="initial value of 'm' reads input 'hessian'"):
        b.build()


def test_an_input_name_is_declared_once():
    b, lr, hessian, other, m = _builder()
    b.hyper("other", 1.0, "o", POSITIVE)
    b.update(theta, theta - lr * g)
    with pytest.raises(SpecError, match="'other' is declared twice"):
        b.build()


def test_inputs_are_part_of_the_fingerprint():
    b, lr, hessian, other, m = _builder()
    b.update(theta, theta - lr * g)
    without = SpecBuilder("with_inputs", "Two inputs", reference="tests/test_inputs.py")
    without.hyper("lr", 0.1, r"\eta", POSITIVE)
    without.state("m", 0)
    without.update(theta, theta - sp.Symbol("lr", positive=True) * g)
    assert b.build().fingerprint() != without.build().fingerprint()


def test_the_reference_needs_every_input_of_the_parameter_shape():
    spec = _spec()
    state = reference.init_state(spec, np.zeros(3))
    with pytest.raises(TypeError, match=r"missing \['other'\]"):
        reference.step(spec, np.zeros(3), np.ones(3), state, 1, inputs={"hessian": np.ones(3)})
    with pytest.raises(ValueError, match="input 'other' has shape"):
        reference.step(spec, np.zeros(3), np.ones(3), state, 1, inputs={"hessian": np.ones(3), "other": np.ones(2)})


# --- the kernels ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["numpy", "numba", "cupy"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_backend_reads_the_inputs_like_the_reference(backend, dtype):
    if backend == "cupy" and gxx() is None:
        pytest.skip("g++ not on PATH: cannot host-emulate the CuPy kernels")
    spec, rng = _spec(), np.random.default_rng(0)
    module = _load(spec, backend)
    assert module.INPUTS == ("hessian", "other")
    param = rng.standard_normal(50)
    ours, state = param.astype(dtype), module.init_state(param.astype(dtype))
    ref_state = reference.init_state(spec, param)
    for t in range(1, 4):
        grad, hessian, other = (rng.standard_normal(50).astype(dtype) for _ in range(3))
        module.step(ours, grad, state, t, hessian=hessian, other=other)
        param, ref_state = reference.step(spec, param, grad, ref_state, t, inputs={"hessian": hessian, "other": other})
    tolerance = 1e-15 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(ours, param, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(state["m"], ref_state["m"], rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("call, error, message", [
    (lambda k, p, g, s, h: k.step(p, g, s, 1, other=h), TypeError, "missing 1 required keyword-only argument: 'hessian'"),
    (lambda k, p, g, s, h: k.step(p, g, s, 1, hessian=h[:2], other=h), ValueError, r"hessian has shape \(2,\)"),
    (lambda k, p, g, s, h: k.step(p, g, s, 1, hessian=h.astype(np.float32), other=h), TypeError,
     "hessian has dtype float32, expected float64 .the gradient's."),
    (lambda k, p, g, s, h: k.step(p, g, s, 1, hessian=p, other=h), ValueError, "hessian shares memory with param"),
    (lambda k, p, g, s, h: k.step(p, g, s, 1, hessian=h, other=s["m"]), ValueError,
     r"other shares memory with state\['m'\]"),
])
def test_a_kernel_refuses_a_bad_input_before_writing(call, error, message):
    module = _load(_spec(), "numpy")
    param, grad, hessian = np.ones(3), np.ones(3), np.ones(3)
    state = module.init_state(param)
    with pytest.raises(error, match=message):
        call(module, param, grad, state, hessian)
    assert np.all(param == 1) and np.all(state["m"] == 0)


# --- the NumPy Optimizer ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("flat", [False, True])
def test_optimizer_takes_one_input_array_per_parameter(flat):
    spec, rng = _spec(), np.random.default_rng(1)
    shapes = [(3, 4), (5,)]
    params = [rng.standard_normal(s) for s in shapes]
    opt = Optimizer([p.copy() for p in params], spec, flat=flat)
    states = [reference.init_state(spec, p) for p in params]
    for t in range(1, 4):
        grads, hessians, others = ([rng.standard_normal(s) for s in shapes] for _ in range(3))
        opt.step(grads, hessian=hessians, other=others)
        for k in range(2):
            params[k], states[k] = reference.step(spec, params[k], grads[k], states[k], t,
                                                  inputs={"hessian": hessians[k], "other": others[k]})
    for mine, expected in zip(opt.params, params):
        np.testing.assert_allclose(mine, expected, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("inputs, error, message", [
    ({"other": [np.ones(2)]}, TypeError, "needs the input 'hessian'"),
    ({"hessian": [np.ones(2)], "other": [np.ones(2)], "third": [np.ones(2)]}, TypeError, "unknown input.s. third"),
    ({"hessian": [np.ones(2), np.ones(2)], "other": [np.ones(2)]}, ValueError, "got 2 arrays for hessian for 1"),
    ({"hessian": np.ones(2), "other": [np.ones(2)]}, TypeError, "hessian must be a list"),
    ({"hessian": [np.ones(3)], "other": [np.ones(2)]}, ValueError, r"hessian\[0\] has shape \(3,\)"),
])
def test_optimizer_refuses_bad_inputs_before_writing(inputs, error, message):
    opt = Optimizer([np.ones(2)], _spec())
    with pytest.raises(error, match=message):
        opt.step([np.ones(2)], **inputs)
    assert opt.t == 0 and np.all(opt.params[0] == 1) and np.all(opt.state[0]["m"] == 0)


def test_a_spec_without_inputs_takes_none():
    with pytest.raises(TypeError, match="unknown input.s. hessian .it takes none besides the gradients."):
        Optimizer([np.ones(2)], "adam").step([np.ones(2)], hessian=[np.ones(2)])


# --- the torch adapter ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flat", [False, True])
def test_torch_step_takes_the_inputs_as_a_list_or_a_dict(flat):
    spec, gen = _spec(), torch.Generator().manual_seed(3)
    params = [torch.nn.Parameter(torch.randn(3, 4, generator=gen, dtype=torch.float64)),
              torch.nn.Parameter(torch.randn(5, generator=gen, dtype=torch.float64))]
    expected = [p.detach().numpy().copy() for p in params]
    states = [reference.init_state(spec, e) for e in expected]
    opt = ot.Optimizer(params, spec, flat=flat)
    assert opt.input_names == ("hessian", "other")
    for t in range(1, 4):
        grads, hessians, others = ([torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in params]
                                   for _ in range(3))
        for p, grad in zip(params, grads):
            p.grad = grad.clone()
        opt.step(hessian=hessians if t % 2 else dict(zip(params, hessians)), other=others)
        for k in range(2):
            expected[k], states[k] = reference.step(spec, expected[k], grads[k].numpy(), states[k], t,
                                                    inputs={"hessian": hessians[k].numpy(), "other": others[k].numpy()})
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-15, atol=1e-15)


def test_torch_step_refuses_bad_inputs_before_writing():
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = ot.Optimizer([p], _spec())
    p.grad = torch.ones(3, dtype=torch.float64)
    good = torch.ones(3, dtype=torch.float64)
    for inputs, error, message in [
        ({"other": [good]}, TypeError, "needs the input 'hessian'"),
        ({"hessian": [good], "other": [good], "third": [good]}, TypeError, "unknown input.s. third"),
        ({"hessian": [good, good], "other": [good]}, ValueError, "got 2 tensors for hessian for 1"),
        ({"hessian": [good.float()], "other": [good]}, ValueError, "hessian is .3,. torch.float32"),
        ({"hessian": [torch.ones(2, dtype=torch.float64)], "other": [good]}, ValueError, "expected .3,."),
        ({"hessian": [p.detach()], "other": [good]}, ValueError, "hessian shares memory with the parameter"),
    ]:
        with pytest.raises(error, match=message):
            opt.step(**inputs)
        assert torch.all(p == 1) and not opt.state[p]


def test_torch_init_state_creates_the_state_that_the_first_step_keeps():
    b = SpecBuilder("starts_at_one", "m starts at 1", reference="tests/test_inputs.py")
    lr = b.hyper("lr", 0.5, r"\eta", POSITIVE)
    m = b.state("m", lr * 2)
    b.update(m, m + g)
    b.update(theta, theta - lr * m)
    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    opt = ot.Optimizer([p], b.build())
    assert not opt.state[p]
    opt.init_state()
    assert torch.equal(opt.state[p]["m"], torch.ones(2, dtype=torch.float64)) and int(opt.state[p]["step"]) == 0
    opt.state[p]["m"].fill_(3.0)  # written before the first step: kept
    p.grad = torch.ones(2, dtype=torch.float64)
    opt.step()
    assert torch.equal(opt.state[p]["m"], torch.full((2,), 4.0, dtype=torch.float64))
    assert torch.equal(p.detach(), torch.full((2,), -2.0, dtype=torch.float64))


def test_torch_closure_may_compute_the_inputs():
    """The inputs are read after the closure ran: a closure can fill the list it was given."""
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = ot.Optimizer([p], _spec())
    hessian, other = [], []

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        hessian[:] = [torch.full_like(p, 2.0).detach()]  # the exact Hessian diagonal of ‖p‖²
        other[:] = [torch.zeros_like(p)]
        return loss

    assert float(opt.step(closure, hessian=hessian, other=other).detach()) == 3.0
    expected, _ = reference.step(_spec(), np.ones(3), 2 * np.ones(3), reference.init_state(_spec(), np.ones(3)), 1,
                                 inputs={"hessian": 2 * np.ones(3), "other": np.zeros(3)})
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-15)


def _reading_an_input(recipe):
    """``recipe``'s spec with every read of g in its updates read from a declared input ``h`` instead (initial
    values keep g: an input may not be read there), or None for a recipe whose metamorphic twin is not plain
    (combinators, which add their own reads of g; initial values that read g)."""
    if recipe.combinators or any(init is not None and sp.sympify(init).has(g) for _, init, _ in recipe.states):
        return None
    spec = SpecBuilder(f"{recipe.name}_h", "g read from an input", reference="tests/test_inputs.py")
    h = spec.input("h")
    for name, default, domain in recipe.hypers:
        spec.hyper(name, default, name, domain)
    symbols = recipe.symbols()
    for name, init, scalar in recipe.states:
        (spec.scalar_state if scalar else spec.state)(name, init)
    for kind, target, value in recipe.steps:
        value = sp.sympify(value, locals=symbols).xreplace({g: h})
        if kind == "let":
            spec.let(target, value)
        else:
            spec.update(theta if target == "theta" else symbols[target], value)
    return spec.build()


def test_random_specs_read_an_input_as_they_read_g():
    """Metamorphic, on seeded random specs of the differential grammar: the spec with its reads of g moved to an
    input h, run with h = G and a different gradient, leaves the bits the original leaves with g = G, on every
    backend (CuPy host-emulated) and in float32 and float64 (NaN, ±inf, zeros and huge values in G). Recipes
    whose twin is not plain (combinators, initial values reading g) or that validation rejects are passed over;
    at least 8 of the first 30 are checked."""
    from differential import SpecGenerator

    if gxx() is None:
        pytest.skip("g++ not on PATH: cannot host-emulate the CuPy kernels")
    checked = 0
    for index in range(30):
        recipe = SpecGenerator(4242).recipe(index)
        try:
            original = recipe.build()
            moved = _reading_an_input(recipe)
        except SpecError:
            continue
        if moved is None:
            continue
        _check_input_twin(recipe, original, moved, np.random.default_rng(index))
        checked += 1
    assert checked >= 8


def _check_input_twin(recipe, original, moved, rng):
    for backend in ("numpy", "numba", "cupy"):
        modules = [_load(spec, backend) for spec in (original, moved)]
        for dtype in (np.float64, np.float32):
            theta0 = rng.standard_normal(9).astype(dtype)
            grads = [rng.standard_normal(9).astype(dtype) for _ in range(3)]
            grads[1][:5] = [0.0, -0.0, np.nan, np.inf, 1e30]
            params = [theta0.copy(), theta0.copy()]
            states = [module.init_state(p) for module, p in zip(modules, params)]
            with np.errstate(all="ignore"):
                for t, grad in enumerate(grads, start=1):
                    modules[0].step(params[0], grad, states[0], t)
                    modules[1].step(params[1], -grad[::-1].copy(), states[1], t, h=grad)
            assert np.array_equal(params[0], params[1], equal_nan=True), (recipe.source(), backend, dtype)
            for name in modules[0].STATE:
                assert np.array_equal(states[0][name], states[1][name], equal_nan=True), (name, backend, dtype)
