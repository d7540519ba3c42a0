"""Generated kernels against the reference interpreter on random data (``optiforge build``, tests)."""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from optiforge.specs import reference
from optiforge.specs.dsl import OptimizerSpec

__all__ = ["sample_hyperparameters", "compare_with_reference", "random_gradients"]


def sample_hyperparameters(spec: OptimizerSpec, rng: np.random.Generator) -> dict[str, float]:
    """Non-default values inside each domain, so every term of the update is exercised.

    Zero defaults (weight decay, dampening, …) become small positive values; others are scaled by a random
    factor in [0.5, 1.5) (for unit intervals, the distance to 1 is scaled instead, keeping β < 1).
    """
    values = {}
    for h in spec.hyperparameters:
        domain, default = h.domain, h.default
        if not isinstance(domain, sp.Interval):
            values[h.name] = default
            continue
        factor = rng.uniform(0.5, 1.5)
        if default == 0:
            candidate = 0.05 * factor
        elif domain.end == 1:
            candidate = 1 - (1 - default) * factor
        else:
            candidate = default * factor
        values[h.name] = candidate if domain.contains(candidate) == sp.true else default
    return values


def random_gradients(rng: np.random.Generator, steps: int, size: int) -> list[np.ndarray]:
    """Gradients with varied scales and signs (never all zero), as float64."""
    scales = np.exp(rng.uniform(-3, 1, size))
    return [rng.standard_normal(size) * scales for _ in range(steps)]


def compare_with_reference(spec: OptimizerSpec, kernel, *, steps: int = 50, size: int = 1031,
                           dtype=np.float64, seed: int = 0, hyperparameters: dict | None = None) -> float:
    """Max relative error (over steps and elements, scaled by max |θ|) of ``kernel`` vs the reference."""
    rng = np.random.default_rng(seed)
    hp = sample_hyperparameters(spec, rng) if hyperparameters is None else hyperparameters
    theta0 = rng.standard_normal(size)
    param = theta0.astype(dtype)
    state = kernel.init_state(param, **hp)
    ref_param = param.astype(np.float64)
    ref_state = reference.init_state(spec, ref_param, **hp)
    worst = 0.0
    # the spec's inputs besides the gradient: gradient-like values from a stream of their own (the gradients'
    # stream stays that of a spec without inputs)
    input_rng = np.random.default_rng([seed, 1])
    for t, grad in enumerate(random_gradients(rng, steps, size), start=1):
        inputs = {i.name: random_gradients(input_rng, 1, size)[0].astype(dtype) for i in spec.inputs}
        kernel.step(param, grad.astype(dtype), state, t, **inputs, **hp)
        ref_param, ref_state = reference.step(spec, ref_param, grad.astype(dtype).astype(np.float64), ref_state,
                                              t, inputs={k: v.astype(np.float64) for k, v in inputs.items()}, **hp)
        scale = max(np.max(np.abs(ref_param)), 1e-300)
        error = np.max(np.abs(param.astype(np.float64) - ref_param)) / scale
        worst = max(worst, float(error) if not math.isnan(error) else math.inf)
    return worst
