"""optax 0.2.8 as a peer: every catalogue spec whose peers include optax, with the optax call that runs the same
update, and trajectories of both over pytrees (imported by the tests; needs jax and optax, the test extra).

A case is (spec, the optax call as text, the spec's hyperparameters, a factory of the optax transform with the
same values). Non-default values everywhere, so a hyperparameter mapped to the wrong name shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import numpy as np
import optax

import optiforge.optax

ADAM = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6)


@dataclass(frozen=True)
class OptaxCase:
    spec: str
    call: str  # the optax call, as the conformance table shows it
    hyper: dict
    factory: Callable[[], optax.GradientTransformation]


CASES = [
    OptaxCase("adabelief", "optax.adabelief(b1, b2, eps, eps_root=eps)", dict(ADAM, eps=1e-10),
              lambda: optax.adabelief(0.01, 0.8, 0.99, eps=1e-10, eps_root=1e-10)),
    OptaxCase("adadelta_torch", "optax.adadelta(rho, eps, weight_decay)", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.01),
              lambda: optax.adadelta(0.5, rho=0.8, eps=1e-5, weight_decay=0.01)),
    OptaxCase("adagrad_optax", "optax.adagrad", dict(lr=0.05, initial_accumulator_value=0.2, eps=1e-5),
              lambda: optax.adagrad(0.05, initial_accumulator_value=0.2, eps=1e-5)),
    OptaxCase("adam", "optax.adam", ADAM, lambda: optax.adam(0.01, 0.8, 0.99, 1e-6)),
    OptaxCase("adamax_torch", "optax.adamax", dict(ADAM, weight_decay=0.0), lambda: optax.adamax(0.01, 0.8, 0.99, 1e-6)),
    OptaxCase("adamaxw", "optax.adamaxw", dict(ADAM, weight_decay=0.1),
              lambda: optax.adamaxw(0.01, 0.8, 0.99, 1e-6, weight_decay=0.1)),
    OptaxCase("adamw", "optax.adamw (λ_spec = lr·λ_optax)", dict(ADAM, weight_decay=0.01 * 0.1),
              lambda: optax.adamw(0.01, 0.8, 0.99, 1e-6, weight_decay=0.1)),
    OptaxCase("amsgrad", "optax.amsgrad", ADAM, lambda: optax.amsgrad(0.01, 0.8, 0.99, 1e-6)),
    OptaxCase("lion", "optax.lion(weight_decay=0)", dict(lr=3e-3, beta1=0.8, beta2=0.95),
              lambda: optax.lion(3e-3, 0.8, 0.95, weight_decay=0.0)),
    OptaxCase("lionw", "optax.lion", dict(lr=3e-3, beta1=0.8, beta2=0.95, weight_decay=0.5),
              lambda: optax.lion(3e-3, 0.8, 0.95, weight_decay=0.5)),
    OptaxCase("nadam", "optax.nadam", dict(lr=0.01, beta1=0.85, beta2=0.99, eps=1e-6),
              lambda: optax.nadam(0.01, 0.85, 0.99, 1e-6)),
    OptaxCase("nadamw", "optax.nadamw", dict(lr=0.01, beta1=0.85, beta2=0.99, eps=1e-6, weight_decay=0.1),
              lambda: optax.nadamw(0.01, 0.85, 0.99, 1e-6, weight_decay=0.1)),
    OptaxCase("optimistic_gd_optax", "optax.optimistic_gradient_descent", dict(lr=0.02, alpha=0.8, beta=0.6),
              lambda: optax.optimistic_gradient_descent(0.02, alpha=0.8, beta=0.6)),
    OptaxCase("radam", "optax.radam(threshold=4)", dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6),
              lambda: optax.radam(0.01, 0.9, 0.99, 1e-6, threshold=4.0)),
    OptaxCase("radam_optax", "optax.radam", dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6, threshold=6.0),
              lambda: optax.radam(0.01, 0.9, 0.99, 1e-6, threshold=6.0)),
    OptaxCase("rmsprop_optax", "optax.rmsprop(eps_in_sqrt=True)",
              dict(lr=0.01, decay=0.8, eps=1e-5, initial_scale=0.1, momentum=0.7),
              lambda: optax.rmsprop(0.01, 0.8, 1e-5, 0.1, eps_in_sqrt=True, momentum=0.7)),
    OptaxCase("rmsprop_optax_centered", "optax.rmsprop(eps_in_sqrt=True, centered=True)",
              dict(lr=0.01, decay=0.8, eps=1e-5, initial_scale=0.1, momentum=0.7),
              lambda: optax.rmsprop(0.01, 0.8, 1e-5, 0.1, eps_in_sqrt=True, centered=True, momentum=0.7)),
    OptaxCase("sgd", "optax.sgd", dict(lr=0.01), lambda: optax.sgd(0.01)),
    OptaxCase("signsgd", "optax.sign_sgd", dict(lr=0.01), lambda: optax.sign_sgd(0.01)),
    OptaxCase("signum", "optax.signum", dict(lr=0.01, momentum=0.8), lambda: optax.signum(0.01, beta=0.8)),
    OptaxCase("yogi_po", "optax.yogi", dict(lr=0.02, beta1=0.85, beta2=0.99, eps=1e-4, initial_accumulator=1e-6),
              lambda: optax.yogi(0.02, 0.85, 0.99, 1e-4)),
]

BY_SPEC = {case.spec: case for case in CASES}


def trajectory(transform: optax.GradientTransformation, params, grads: list, *, jit: bool = True) -> list:
    """The parameters after each step of ``transform`` (one jitted update, or op by op), ``grads`` a list of
    pytrees."""
    state = transform.init(params)
    update = jax.jit(transform.update) if jit else transform.update
    out = []
    for grad in grads:
        updates, state = update(grad, state, params)
        params = optax.apply_updates(params, updates)
        out.append(params)
    return out


def both(case: OptaxCase, params, grads: list, *, jit: bool = True) -> tuple[list, list]:
    """(optiforge's trajectory, optax's) for ``case`` from the same parameters and gradients."""
    return (trajectory(optiforge.optax.transform(case.spec, **case.hyper), params, grads, jit=jit),
            trajectory(case.factory(), params, grads, jit=jit))


def flat(trajectory_: list) -> np.ndarray:
    """A trajectory of pytrees as one float64 array (steps × all leaves' elements)."""
    return np.array([np.concatenate([np.asarray(leaf, np.float64).ravel() for leaf in jax.tree_util.tree_leaves(p)])
                     for p in trajectory_])


def reference(case: OptaxCase) -> Callable:
    """``case``'s optax transform as a float64 reference ``(param, grads, **hyper) -> trajectory`` of a 1-D
    parameter, in the form of ``tests/test_conformance.py``'s hand-written references (``hyper`` is the spec's,
    which the optax call already holds)."""
    computed: dict[bytes, np.ndarray] = {}  # per input: each engine's run compares with the same trajectory

    def run(param, grads, **hyper):
        assert hyper == case.hyper, (hyper, case.hyper)
        param, grads = np.asarray(param, np.float64), np.asarray(grads, np.float64)
        key = param.tobytes() + grads.tobytes()
        if key not in computed:
            with jax.enable_x64(True):
                computed[key] = flat(trajectory(case.factory(), jax.numpy.asarray(param),
                                                [jax.numpy.asarray(g) for g in grads]))
        return computed[key].copy()
    return run
