"""Helpers shared by the catalogue tests: step a spec with a chosen engine.

``ENGINES`` lists the engines a spec's trajectory is checked with: ``"reference"`` is :mod:`specs.reference`
(float64, the ground truth) and ``"numpy"`` runs the generated ``generated/numpy/<name>.py`` in place; every
conformance and convergence test runs against both.
"""
from __future__ import annotations

import importlib

import numpy as np

from optiforge import specs
from optiforge.specs import reference

ENGINES = ["reference", "numpy"]


def trajectory(name: str, param, grads, engine: str = "reference", dtype=np.float64, *, inputs=None,
               **hyper) -> np.ndarray:
    """Parameters after each of ``len(grads)`` steps of optimizer ``name`` (array of shape (steps, *param.shape)),
    as float64; ``dtype`` is the generated kernel's parameter dtype (the reference always computes in float64).
    ``inputs``: for a spec with inputs besides the gradient, one dict name → array per step."""
    spec = specs.get(name)
    if engine == "reference":
        return np.array(reference.run(spec, param, grads, inputs=inputs, **hyper))
    if engine == "numpy":
        module = importlib.import_module(f"optiforge.generated.numpy.{name}")
        p = np.array(param, dtype=dtype)
        state = module.init_state(p, **hyper)
        out = []
        for t, g in enumerate(grads, start=1):
            extra = {k: np.asarray(v, dtype=dtype) for k, v in (inputs[t - 1] if inputs else {}).items()}
            module.step(p, np.asarray(g, dtype=dtype), state, t, **extra, **hyper)
            out.append(p.astype(np.float64))
        return np.array(out)
    raise ValueError(f"unknown engine {engine!r}")


def problem_inputs(spec, gradient):
    """θ → the spec's inputs besides the gradient on a real problem: ``hessian`` is the Hessian's diagonal by
    central differences of ``gradient`` (what Sophia's estimators approximate); another input is refused."""
    unknown = [i.name for i in spec.inputs if i.name != "hessian"]
    if unknown:
        raise ValueError(f"{spec.name}: no model of the input(s) {unknown} on a real problem")

    def inputs(p):
        if not spec.inputs:
            return {}
        step = 1e-5
        diagonal = np.empty_like(p)
        for i in range(p.size):
            up, down = p.copy(), p.copy()
            up.flat[i] += step
            down.flat[i] -= step
            diagonal.flat[i] = (gradient(up).flat[i] - gradient(down).flat[i]) / (2 * step)
        return {"hessian": diagonal}
    return inputs


def run_with_gradient(name: str, param, gradient, steps: int, engine: str = "reference", **hyper) -> np.ndarray:
    """Trajectory on a real problem: ``gradient(θ)`` is evaluated at the current parameters every step (and the
    spec's inputs by :func:`problem_inputs`)."""
    spec = specs.get(name)
    inputs = problem_inputs(spec, gradient)
    p = np.array(param, dtype=np.float64)
    out = []
    if engine == "reference":
        state = reference.init_state(spec, p, **hyper)
        for t in range(1, steps + 1):
            p, state = reference.step(spec, p, gradient(p), state, t, inputs=inputs(p), **hyper)
            out.append(p)
    elif engine == "numpy":
        module = importlib.import_module(f"optiforge.generated.numpy.{name}")
        state = module.init_state(p, **hyper)
        for t in range(1, steps + 1):
            module.step(p, gradient(p.copy()), state, t, **inputs(p.copy()), **hyper)
            out.append(p.copy())
    else:
        raise ValueError(f"unknown engine {engine!r}")
    return np.array(out)


def relative_error(actual, expected) -> float:
    """Normwise relative error of a whole trajectory: max |actual − expected| / max |expected|."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return float(np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), 1e-300))


def one_step_errors(name: str, param, gradient, steps: int, engine: str, **hyper) -> float:
    """Max relative error of ``engine``'s single step taken from the reference's own parameters and state, along
    the reference trajectory on a real problem. Unlike comparing whole trajectories, this is not amplified by the
    problem's dynamics (sign-like updates near an optimum make 1e-17 differences grow exponentially)."""
    spec = specs.get(name)
    inputs = problem_inputs(spec, gradient)
    p = np.array(param, dtype=np.float64)
    state = reference.init_state(spec, p, **hyper)
    worst = 0.0
    module = None if engine == "reference" else importlib.import_module(f"optiforge.generated.numpy.{name}")
    for t in range(1, steps + 1):
        g, extra = gradient(p), inputs(p)
        new_p, new_state = reference.step(spec, p, g, state, t, inputs=extra, **hyper)
        if module is not None:
            q = p.copy()
            s = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}
            module.step(q, g.copy(), s, t, **extra, **hyper)
            scale = max(np.max(np.abs(new_p)), 1e-300)
            worst = max(worst, float(np.max(np.abs(q - new_p)) / scale))
        p, state = new_p, new_state
    return worst


def step_inputs(module, make) -> dict:
    """A module's inputs besides the gradient (``module.INPUTS``), each ``make()`` (an array like the gradient);
    none for a spec without inputs (so that its random draws are as before)."""
    return {name: make() for name in getattr(module, "INPUTS", ())}


def check_grad_may_be_param(module, spec, dtype: str, arrays=None, steps: int = 6) -> None:
    """``module.step(w, w, …)`` (the gradient is the parameter array itself) gives exactly what
    ``step(w, w.copy(), …)`` gives, step after step: every kernel reads θ and g before it writes θ.
    ``arrays(dtype, values)`` makes the arrays (default: NumPy arrays of ``dtype``)."""
    arrays = arrays or (lambda name, values: np.asarray(values, dtype=name))
    chosen = {"weight_decay": 0.01, "momentum": 0.9}  # switch the optional terms on
    hp = {h.name: chosen[h.name] for h in spec.hyperparameters if h.name in chosen}
    rng = np.random.default_rng(11)
    aliased = arrays(dtype, rng.standard_normal(257) * 2)
    separate = aliased.copy()
    aliased_state, separate_state = module.init_state(aliased, **hp), module.init_state(separate, **hp)
    for t in range(1, steps + 1):
        inputs = step_inputs(module, lambda: arrays(dtype, rng.standard_normal(257)))
        module.step(aliased, aliased, aliased_state, t, **inputs, **hp)
        module.step(separate, separate.copy(), separate_state, t, **inputs, **hp)
        np.testing.assert_array_equal(aliased, separate, err_msg=f"{spec.name} t={t}")
        for key, value in separate_state.items():
            np.testing.assert_array_equal(aliased_state[key], value, err_msg=f"{spec.name} t={t} {key}")
