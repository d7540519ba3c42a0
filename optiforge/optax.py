r"""Any optiforge optimizer as an optax ``GradientTransformation``, run by the generated JAX kernels.

``transform("adamw", lr=1e-3)`` is an ``optax.GradientTransformation`` over any pytree of float16, bfloat16,
float32 or float64 arrays (float64 under ``jax_enable_x64``): ``init`` gives each leaf the kernel's state,
``update(grads, state, params)`` runs the kernel on each leaf and returns the *update* that
``optax.apply_updates`` adds to the parameters, so it composes with optax's own transforms
(``optax.chain(optax.clip_by_global_norm(1.0), transform("adamw"))``). It is pure and traceable: ``jax.jit``,
``jax.vmap`` and ``jax.pmap`` apply, and hyperparameters given as arrays (``optax.inject_hyperparams``, through
:func:`factory`) are traced, so changing them does not recompile.

**The update and its rounding.** A spec computes the new parameter :math:`\theta'`; optax wants
:math:`u` with :math:`\theta + u = \theta'`. The update is :math:`u = \theta' - \theta` in the parameter's dtype
(:math:`u = 0` where :math:`\theta' = \theta`, so an infinite :math:`\theta` that the step leaves infinite stays
infinite instead of becoming :math:`\infty - \infty`), computed in the compute dtype: float32 for float16 and
bfloat16 parameters, whose difference float32 holds exactly (unless their exponents differ by more than 13), so
``optax.apply_updates`` (which adds in float32 and rounds back) gives :math:`\theta'` bit for bit. For float32 and
float64 parameters :math:`u` has their dtype: where :math:`\theta'` lies within a factor 2 of :math:`\theta`
(every ordinary step) the subtraction is exact (Sterbenz) and ``apply_updates`` gives :math:`\theta'` bit for
bit; elsewhere (a parameter crossing zero or halving in one step) :math:`\theta + u` is within one rounding of
:math:`\theta'`.

The step count is the transform's own (``count``, int32 as optax keeps it); the first update is ``t = 1``.
JAX and optax are optional: without them this module's functions raise an ``ImportError`` naming the extra
(``pip install "optiforge[jax]"``).
"""
from __future__ import annotations

import importlib
import inspect
from types import ModuleType
from typing import Any, NamedTuple

from optiforge.runtime import jax_support

__all__ = ["transform", "factory", "TransformState", "kernel"]


def _optax():
    jax_support.jax_module()
    try:
        return importlib.import_module("optax")
    except ImportError as error:
        raise ImportError(f"optiforge.optax needs optax: {jax_support.INSTALL_HINT}") from error


class TransformState(NamedTuple):
    """The state of :func:`transform`: the steps taken (int32) and, per parameter leaf, the kernel's state dict
    (in the parameters' tree structure)."""

    count: Any
    state: Any


def kernel(name_or_spec) -> ModuleType:
    """The JAX kernel module of an optimizer name, an ``OptimizerSpec`` or a JAX kernel module (returned as
    is): the generated ``optiforge.generated.jax.<name>`` when it was written from that spec, else one built in
    memory."""
    if isinstance(name_or_spec, ModuleType):
        if getattr(name_or_spec, "BACKEND", None) != "jax":
            raise TypeError(f"expected a JAX kernel module (BACKEND 'jax'), got {name_or_spec.__name__} "
                            f"(BACKEND {getattr(name_or_spec, 'BACKEND', None)!r})")
        return name_or_spec
    from optiforge import kernel_for  # the code generator (imports SymPy)

    return kernel_for(name_or_spec, "jax")


def transform(name_or_spec, **hyperparameters):
    """``optax.GradientTransformation`` running ``name_or_spec`` (a name, an ``OptimizerSpec`` or a JAX kernel
    module) with ``hyperparameters`` (the spec's names; the rest take their defaults). Concrete values are
    checked here (ValueError/TypeError naming the hyperparameter and its range); arrays traced by
    ``optax.inject_hyperparams`` are taken as they are."""
    optax = _optax()
    jax = jax_support.jax_module()
    jnp = jax.numpy
    module = kernel(name_or_spec)
    resolved = jax_support.resolve_hyperparameters(module.NAME, module.HYPERPARAMETERS, module.DOMAINS,
                                                   hyperparameters)

    def init_fn(params):
        leaves, treedef = jax.tree_util.tree_flatten(params)
        states = [module.init_state(p, **resolved) for p in leaves]
        return TransformState(count=jnp.zeros([], jnp.int32), state=treedef.unflatten(states))

    names = getattr(module, "INPUTS", ())

    def update_fn(updates, state, params=None, **extra_args):
        if params is None:
            raise ValueError(f"{module.NAME}: update needs params (optax's update(updates, state, params)): the "
                             "kernel computes the new parameter from the old one")
        missing = [name for name in names if name not in extra_args]
        if missing:
            raise ValueError(f"{module.NAME}: update needs {', '.join(missing)} (a pytree like params, given as "
                             f"update(updates, state, params, {missing[0]}=...))")
        leaves, treedef = jax.tree_util.tree_flatten(params)
        grads = treedef.flatten_up_to(updates)
        states = treedef.flatten_up_to(state.state)
        inputs = {name: treedef.flatten_up_to(extra_args[name]) for name in names}
        count = optax.safe_increment(state.count)
        new_updates, new_states = [], []
        for k, (param, grad, leaf_state) in enumerate(zip(leaves, grads, states)):
            param, grad = jnp.asarray(param), jnp.asarray(grad)
            given = {name: jnp.asarray(values[k]) for name, values in inputs.items()}
            jax_support.check_inputs(module.NAME, grad, given)
            new_param, new_state = module.step_unchecked(param, grad, leaf_state, count, resolved, **given)
            # in the compute dtype: two float16/bfloat16 numbers differ by a float32 (almost always exactly)
            dtype = jax_support.compute_dtype(module.NAME, param)
            old, new = param.astype(dtype), new_param.astype(dtype)
            new_updates.append(jnp.where(new == old, jnp.zeros((), dtype), new - old))
            new_states.append(new_state)
        return treedef.unflatten(new_updates), TransformState(count=count, state=treedef.unflatten(new_states))

    if names:  # the inputs travel as optax's extra arguments (they reach it through optax.chain too)
        return optax.GradientTransformationExtraArgs(init_fn, update_fn)
    return optax.GradientTransformation(init_fn, update_fn)


def factory(name_or_spec):
    """``transform`` with the hyperparameters as named keyword arguments (the spec's names and defaults), for
    ``optax.inject_hyperparams``, which reads them from the signature::

        opt = optax.inject_hyperparams(optiforge.optax.factory("adam"))(lr=optax.linear_schedule(1e-3, 0, 100))
    """
    module = kernel(name_or_spec)

    def make(**hyperparameters):
        return transform(module, **hyperparameters)

    make.__signature__ = inspect.Signature([inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=value)
                                            for name, value in module.HYPERPARAMETERS.items()])
    make.__name__ = make.__qualname__ = module.NAME
    make.__doc__ = f"optiforge.optax.transform({module.NAME!r}, **hyperparameters)"
    return make
