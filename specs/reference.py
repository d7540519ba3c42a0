"""Reference semantics: evaluate a spec's assignments directly, in order, in float64.

This is the ground truth the generated kernels are tested against. It is deliberately naive: every
assignment is one ``lambdify``-ed SymPy expression over whole arrays, no hoisting, no CSE.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from .dsl import GRAD, PARAM, STEP, OptimizerSpec

__all__ = ["init_state", "step", "run"]


@lru_cache(maxsize=None)
def _compiled(spec: OptimizerSpec):
    """(target, argument symbols, numpy function) for each assignment."""
    out = []
    for a in spec.assignments:
        args = sorted(a.value.free_symbols, key=lambda s: s.name)
        out.append((a.target, args, sp.lambdify(args, a.value, modules="numpy")))
    return tuple(out)


def _hyperparameters(spec: OptimizerSpec, overrides: dict) -> dict[sp.Symbol, float]:
    unknown = set(overrides) - set(spec.defaults)
    if unknown:
        raise TypeError(f"{spec.name}: unknown hyperparameters {sorted(unknown)}; valid: {sorted(spec.defaults)}")
    values = {**spec.defaults, **overrides}
    return {h.symbol: float(values[h.name]) for h in spec.hyperparameters}


def init_state(spec: OptimizerSpec, param, **hyperparameters) -> dict:
    """Initial state in float64 (array state) and Python floats (scalar state)."""
    param = np.asarray(param, dtype=np.float64)
    env = {**_hyperparameters(spec, hyperparameters), PARAM: param}
    state = {}
    for s in spec.state:
        if s.init is None or s.init == GRAD:  # set at step 1
            value = np.zeros_like(param)
        else:
            value = sp.lambdify(list(env), s.init, modules="numpy")(*env.values())
        state[s.name] = float(value) if s.scalar else np.array(np.broadcast_to(value, param.shape), dtype=np.float64)
    return state


def step(spec: OptimizerSpec, param, grad, state: dict, t: int, **hyperparameters):
    """One step; returns ``(new_param, new_state)`` without modifying the inputs."""
    env: dict[sp.Symbol, object] = dict(_hyperparameters(spec, hyperparameters))
    env[PARAM] = np.array(param, dtype=np.float64)
    env[GRAD] = np.array(grad, dtype=np.float64)
    env[STEP] = int(t)
    for s in spec.state:
        env[s.symbol] = state[s.name]
        if s.init == GRAD and t == 1:
            env[s.symbol] = env[GRAD].copy()
    arrays = {PARAM} | {s.symbol for s in spec.array_state}
    with np.errstate(all="ignore"):
        for target, args, function in _compiled(spec):
            value = function(*(env[a] for a in args))
            if target in arrays:
                value = np.broadcast_to(np.asarray(value, dtype=np.float64), env[PARAM].shape).copy()
            env[target] = value
    new_state = {s.name: (float(env[s.symbol]) if s.scalar else env[s.symbol]) for s in spec.state}
    return env[PARAM], new_state


def run(spec: OptimizerSpec, param, grads, **hyperparameters):
    """Trajectory of ``len(grads)`` steps from ``param``; returns the list of parameters after each step."""
    state = init_state(spec, param, **hyperparameters)
    trajectory = []
    for t, grad in enumerate(grads, start=1):
        param, state = step(spec, param, grad, state, t, **hyperparameters)
        trajectory.append(param)
    return trajectory
