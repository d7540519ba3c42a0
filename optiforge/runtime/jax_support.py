"""Support for the generated JAX modules (``generated/jax/<name>.py``): the lazily imported ``jax.numpy``, the
compute and host dtypes, and the argument checks that apply to traced values. A stable module: every emitted JAX
module imports it as ``_jax_runtime`` (and its ``jnp``).

Importing this module (and any ``optiforge.generated.jax.<name>``) never imports JAX: ``jnp`` loads
``jax.numpy`` on first use, and raises an ``ImportError`` naming the extra to install (``pip install
"optiforge[jax]"``) when JAX is missing.

The JAX modules are pure functions, traceable by ``jax.jit``, ``jax.vmap`` and ``jax.pmap``: hyperparameters and
the step may be traced scalars, so a new value does not retrace. Concrete values (Python numbers, NumPy scalars,
concrete 0-d JAX arrays) are checked as everywhere else (:func:`kernel_support.resolve_hyperparameters`,
:func:`kernel_support.check_step`); traced ones cannot be, and are taken as they are.
"""
from __future__ import annotations

import importlib
import numbers

import numpy

from optiforge.runtime import kernel_support

__all__ = ["jnp", "jax_module", "INSTALL_HINT", "is_traced", "compute_dtype", "host_dtype", "resolve_hyperparameters", "check_inputs",
           "check_step", "array_library"]

#: What the error raised without JAX tells the user to run.
INSTALL_HINT = 'pip install "optiforge[jax]"'


def jax_module():
    """``jax``, imported on first use; an ``ImportError`` naming the extra when it is not installed."""
    try:
        return importlib.import_module("jax")
    except ImportError as error:
        raise ImportError(f"the JAX backend needs JAX: {INSTALL_HINT} (or pip install jax optax)") from error


class _LazyModule:
    """A module imported on first attribute access (``jnp.sqrt``), so that the emitted modules import without
    JAX and read as ordinary ``jnp`` code."""

    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        if self._module is None:
            jax_module()  # the error that names the extra
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<{self._name}, imported on first use>"


#: ``jax.numpy``, imported on first use.
jnp = _LazyModule("jax.numpy")


def is_traced(value) -> bool:
    """Whether ``value`` is a JAX tracer (inside ``jit``, ``vmap``, ``grad``): its value is not known here."""
    jax = jax_module()
    return isinstance(value, jax.core.Tracer)


def compute_dtype(optimizer: str, param, what: str = "param") -> numpy.dtype:
    """The arithmetic (and state) dtype of ``param``: float64 stays, float16/bfloat16/float32 compute in float32;
    a ``TypeError`` naming ``what`` for any other dtype."""
    dtype = getattr(param, "dtype", None)
    if dtype is None:
        raise TypeError(f"{optimizer}: {what} must be a JAX array, got {kernel_support.type_name(param)}")
    return kernel_support.compute_dtype(optimizer, dtype, what)


def host_dtype() -> numpy.dtype:
    """The dtype of the per-step scalars: float64 under ``jax_enable_x64``, else float32 (JAX's widest)."""
    return numpy.dtype(numpy.float64 if jax_module().config.jax_enable_x64 else numpy.float32)


def _concrete(optimizer: str, name: str, value):
    """A concrete 0-d array as the Python number it holds (a larger array is a ``TypeError``)."""
    if isinstance(value, (numbers.Number, str)) or value is None:
        return value
    shape = getattr(value, "shape", None)
    if shape is None:
        return value
    if shape != ():
        raise TypeError(f"{optimizer}: {name} must be a scalar, got an array of shape {tuple(shape)}")
    return value.item()


def resolve_hyperparameters(optimizer: str, defaults: dict, domains: dict, given: dict) -> dict:
    """Defaults overridden by ``given``: concrete values checked against their domains (Python floats, as
    :func:`kernel_support.resolve_hyperparameters` returns them), traced values as they are."""
    traced = {name: value for name, value in given.items() if name in defaults and is_traced(value)}
    concrete = {name: _concrete(optimizer, f"hyperparameter {name}", value)
                for name, value in given.items() if name not in traced}
    values = kernel_support.resolve_hyperparameters(optimizer, defaults, domains, concrete)
    values.update(traced)
    return values


def check_step(optimizer: str, t):
    """The step ``t``: a concrete one an integer in [1, 2⁵³] (:func:`kernel_support.check_step`), a traced one
    as it is."""
    if is_traced(t):
        return t
    return kernel_support.check_step(optimizer, _concrete(optimizer, "step t", t))


def check_inputs(optimizer: str, grad, inputs: dict) -> None:
    """The declared inputs besides the gradient (name → array): each of the gradient's shape and dtype (static
    under ``jax.jit``, so checked there too: a shape that merely broadcasts would silently change the step)."""
    for name, array in inputs.items():
        shape, dtype = getattr(array, "shape", None), getattr(array, "dtype", None)
        if shape is None or tuple(shape) != tuple(grad.shape):
            raise ValueError(f"{optimizer}: {name} has shape {shape}, expected {tuple(grad.shape)} (the gradient's)")
        if dtype != grad.dtype:
            raise TypeError(f"{optimizer}: {name} has dtype {dtype}, expected {grad.dtype} (the gradient's)")


def array_library() -> kernel_support.ArrayLibrary:
    """How argument checks would see JAX arrays. The JAX modules are functional (they return new arrays), so
    :class:`optiforge.runtime.Optimizer`, which updates arrays in place, refuses them: use
    ``optiforge.optax.transform``."""
    jax = jax_module()
    return kernel_support.ArrayLibrary("jax.Array", jax.Array, (), lambda a, b: False, lambda array: 0, None,
                                       "jnp.asarray")
