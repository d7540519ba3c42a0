"""The NumPy-only :class:`Optimizer` over the generated kernels, and the lookup of a generated kernel module
(CuPy for ``backend="cupy"``, numba for ``backend="numba"``).

>>> import numpy as np
>>> from optiforge.runtime import Optimizer
>>> w = np.ones(3, dtype=np.float32)
>>> opt = Optimizer([w], "adam", lr=0.1)
>>> opt.step([np.array([1.0, -1.0, 0.5], dtype=np.float32)])
>>> [round(float(x), 4) for x in w]
[0.9, 1.1, 0.9]

A spec object, or the name of a spec registered at run time, is built into a kernel by the code generator,
reached through the front door (``optiforge.kernel_for``): the runtime does not import the generator, and
imports SymPy only then.
"""
from __future__ import annotations

import difflib
import importlib
import pkgutil
import sys
from types import ModuleType

import numpy

from optiforge.runtime import kernel_support
from optiforge.runtime.backends import BACKENDS, FUNCTIONAL_BACKENDS
from optiforge.runtime.flat import MultiTensor, same_memory

__all__ = ["Optimizer", "kernel_module", "available", "UnknownOptimizerError", "STATE_DICT_FORMAT",
           "STATE_DICT_VERSION", "GENERATED_PACKAGE", "checked_kernel"]

#: The package of the catalogue's generated kernels: ``optiforge.generated.<backend>.<name>``.
GENERATED_PACKAGE = "optiforge.generated"


def available(backend: str = "numpy") -> list[str]:
    """Names of the optimizers generated for ``backend``."""
    package = importlib.import_module(f"{GENERATED_PACKAGE}.{backend}")
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__))


class UnknownOptimizerError(KeyError, ValueError):
    """An optimizer name that is not generated: a ``KeyError`` (a failed lookup, like ``optiforge.get``) and a
    ``ValueError`` (a bad argument value)."""

    __str__ = ValueError.__str__  # the message as written, not KeyError's repr of it


def kernel_module(name: str, backend: str = "numpy") -> ModuleType:
    """The generated module ``optiforge.generated.<backend>.<name>``; unknown names list the closest matches."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    names = available(backend)
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownOptimizerError(f"unknown optimizer {name!r}{hint}")
    return importlib.import_module(f"{GENERATED_PACKAGE}.{backend}.{name}")


#: ``state_dict()["format"]`` and ``["version"]``: what :meth:`Optimizer.load_state_dict` reads (README, "State
#: dicts").
STATE_DICT_FORMAT = "optiforge.Optimizer"
STATE_DICT_VERSION = 1
_STATE_DICT_KEYS = ("format", "version", "name", "t", "hyperparameters", "state")
_KERNEL_ATTRIBUTES = ("NAME", "HYPERPARAMETERS", "DOMAINS", "STATE", "SCALAR_STATE", "array_library", "init_state",
                      "step", "step_unchecked")


def _kernel(name, backend: str) -> ModuleType:
    """``name``'s kernel: a kernel module as is (checked for what a generated module has); a generated
    optimizer's name → its module; a spec object, or the name of a spec registered at run time → built in
    memory and cached (these import SymPy)."""
    if hasattr(name, "HYPERPARAMETERS"):  # a kernel module (generated, or built by load_module)
        return checked_kernel(name)
    if isinstance(name, str) and "optiforge.specs" not in sys.modules:  # nothing can have been registered
        return kernel_module(name, backend)
    from optiforge import kernel_for  # the code generator, through the front door (imports SymPy)

    try:
        return kernel_for(name, backend)
    except KeyError as error:  # specs.get: an unknown name
        raise UnknownOptimizerError(error.args[0] if error.args else f"unknown optimizer {name!r}") from None


class Optimizer:
    """Keeps the step counter and per-parameter state for a list of arrays and updates them in place.

    ``Optimizer(params, "adam", backend="numpy", lr=1e-3)``. ``name`` is an optimizer's name (generated, or
    registered with ``optiforge.register``), an ``OptimizerSpec`` (its kernel is built in memory once) or a
    kernel module. ``flat=True`` keeps all parameters, gradients and state in one buffer each, so one kernel
    call (one launch on CuPy) updates every tensor.

    Every call checks all of its arguments before it writes anything: a rejected call (ValueError or
    TypeError naming the argument) leaves every parameter, gradient buffer, state array and ``t`` as they were.
    ``hyperparameters`` may be changed between steps (a schedule); each step checks them again. Instances
    are independent: optimizers over different arrays can step in different threads at once.
    """

    def __init__(self, params, name, *, backend: str = "numpy", flat: bool = False, **hyperparameters):
        if backend in FUNCTIONAL_BACKENDS:
            raise ValueError(f"backend {backend!r} computes new arrays instead of updating them in place: use "
                             "optiforge.optax.transform (an optax GradientTransformation)")
        self.kernel = _kernel(name, backend)
        self.name, self.backend = self.kernel.NAME, getattr(self.kernel, "BACKEND", backend)
        if self.backend in FUNCTIONAL_BACKENDS:
            raise ValueError(f"{self.name}: the {self.backend} kernel computes new arrays instead of updating them "
                             "in place: use optiforge.optax.transform (an optax GradientTransformation)")
        if not isinstance(flat, bool):
            raise TypeError(f"{self.name}: flat must be True or False, got {kernel_support.shown(flat)}")
        self._library = self.kernel.array_library()
        self.hyperparameters = kernel_support.resolve_hyperparameters(
            self.name, self.kernel.HYPERPARAMETERS, self.kernel.DOMAINS, hyperparameters)
        params = kernel_support.check_params(self.name, params, self._library)
        if flat:
            # One buffer for all parameters (and one per state): one kernel call updates the whole model.
            # The parameters are copied in; use ``self.params`` (views of the buffer) from now on.
            self._flat = MultiTensor(self.kernel, params, **self.hyperparameters)
            self.params = self._flat.params
            views = self._flat.state
            self.state = [{key: views[key][i] for key in self.kernel.STATE} for i in range(len(self.params))]
            self._memory = kernel_support.Extents(self.name, self._flat.buffers.items(), self._library)
        else:
            self._flat = None
            self.params = params
            self.state = [self.kernel.init_state(p, **self.hyperparameters) for p in params]
            self._layout = None  # the arrays self._memory describes (see _check_layout)
        self.t = 0

    # ---- checks (none of these writes anything) ----------------------------------------------------------
    def _checked_scalars(self) -> tuple[dict, int]:
        """The hyperparameters (the user may have changed them) and the next step."""
        hyperparameters = kernel_support.resolve_hyperparameters(
            self.name, self.kernel.HYPERPARAMETERS, self.kernel.DOMAINS, self.hyperparameters,
            source="Optimizer.hyperparameters")
        t = kernel_support.check_integer(self.name, "Optimizer.t", self.t, 0, kernel_support.MAX_STEP - 1) + 1
        return hyperparameters, t

    def _checked_grads(self, grads) -> list:
        if isinstance(grads, self._library.ndarray) or not isinstance(grads, (list, tuple)):
            raise TypeError(f"{self.name}: grads must be a list (one gradient per parameter), got "
                            f"{type(grads).__name__}")
        if len(grads) != len(self.params):
            raise ValueError(f"{self.name}: got {len(grads)} gradients for {len(self.params)} parameters")
        return list(grads)

    def _tensor_state(self, i: int) -> dict:
        """Parameter ``i``'s array state (with flat=True: views of the state buffers, whatever ``self.state``
        holds now)."""
        if self._flat is None:
            return {key: self.state[i][key] for key in self.kernel.STATE}
        return {key: views[i] for key, views in self._flat.state.items()}

    def _check_layout(self) -> None:
        """(flat=False) ``params``, ``state`` and their arrays: checked, and no two arrays sharing memory.
        Rechecked in full only when an array was replaced since the last check."""
        kernel = self.kernel
        if not isinstance(self.params, list) or not isinstance(self.state, list) or \
                len(self.params) != len(self.state) or not all(isinstance(s, dict) for s in self.state):
            raise TypeError(f"{self.name}: params and state must stay lists of equal length (state: dicts)")
        layout = self.params + [s.get(key) for s in self.state for key in kernel.STATE]
        if self._layout is not None and len(layout) == len(self._layout) and \
                all(a is b for a, b in zip(layout, self._layout)):
            return
        for i, (p, s) in enumerate(zip(self.params, self.state)):
            dtype = kernel_support.check_param(self.name, p, self._library, what=f"params[{i}]", writeable=True)
            kernel_support.check_state(self.name, p, dtype, s, kernel.STATE, kernel.SCALAR_STATE, self._library,
                                 [(f"params[{i}]", p)], f"state[{i}]")
        self._memory = kernel_support.Extents(
            self.name, [(f"params[{i}]", p) for i, p in enumerate(self.params)]
            + [(f"state[{i}][{key!r}]", s[key]) for i, s in enumerate(self.state) for key in kernel.STATE],
            self._library)
        self._layout = layout

    def _check_own_memory(self, what: str, values, indices) -> None:
        """None of ``values`` (``what[i]`` for i in ``indices``) shares memory with a parameter or state array
        (or, with flat=True, any flat buffer)."""
        for i, value in zip(indices, values):
            shared = self._memory.overlap(value)
            if shared is not None:
                raise ValueError(f"{self.name}: {what}[{i}] shares memory with {shared} (pass an array of its own)")

    # ---- the step ----------------------------------------------------------------------------------------
    def _checked_inputs(self, inputs: dict) -> dict:
        """The spec's inputs besides the gradient (``kernel.INPUTS``), each a list with one array per parameter."""
        expected = tuple(getattr(self.kernel, "INPUTS", ()))
        unknown = sorted(set(inputs) - set(expected))
        if unknown:
            accepted = f"it takes {', '.join(expected)}" if expected else "it takes none besides the gradients"
            raise TypeError(f"{self.name}: step() got unknown input(s) {', '.join(unknown)} ({accepted})")
        checked = {}
        for name in expected:
            values = inputs.get(name)
            if values is None and self._flat is None:
                raise TypeError(f"{self.name}: step() needs the input {name!r} (a list with one array per parameter, "
                                f"step(grads, {name}=[...]))")
            if values is not None:
                if isinstance(values, self._library.ndarray) or not isinstance(values, (list, tuple)):
                    raise TypeError(f"{self.name}: {name} must be a list (one array per parameter), got "
                                    f"{type(values).__name__}")
                if len(values) != len(self.params):
                    raise ValueError(f"{self.name}: got {len(values)} arrays for {name} for {len(self.params)} "
                                     "parameters")
                checked[name] = list(values)
        return checked

    def _copy_into_views(self, what: str, values: list, views: list) -> list:
        """(flat=True) The (index, value) pairs of ``values`` (checked) to copy into the flat buffer's ``views``:
        ``views[i]`` itself (or an array of exactly its memory) is used where it is; another array sharing
        memory with the optimizer's is an error."""
        attribute = what if what == "grads" else f"inputs[{what!r}]"
        copies = []
        for i, value in enumerate(values):
            if value is views[i]:
                continue
            shared = self._memory.overlap(value)
            if shared is None:
                copies.append((i, value))
            elif not same_memory(value, views[i]):
                raise ValueError(f"{self.name}: {what}[{i}] shares memory with {shared} (pass an array of "
                                 f"its own, or Optimizer.{attribute}[i])")
        for i, _ in copies:
            if not views[i].flags.writeable:
                raise ValueError(f"{self.name}: {what}[{i}] must be copied into Optimizer.{attribute}[{i}], which "
                                 "is read-only")
        return copies

    def step(self, grads=None, **inputs) -> None:
        """Apply one update with ``grads[i]`` the gradient of ``params[i]`` (a C-contiguous floating array of
        its shape; its dtype may differ from the param's). A spec with inputs besides the gradient (the
        kernel's ``INPUTS``, e.g. Sophia's ``hessian``) takes each as a list of arrays like ``grads``, in the
        gradients' dtype: ``step(grads, hessian=[...])``.

        With ``flat=True``, gradients written into ``self.grads`` (views of the flat gradient buffer) are
        used when ``grads`` is None, and inputs written into ``self.inputs[name]`` when ``name`` is not
        given; given ones are copied there first, except those that are these views (no copy, no extra
        launch)."""
        hyperparameters, t = self._checked_scalars()
        kernel, library = self.kernel, self._library
        inputs = self._checked_inputs(inputs)
        if self._flat is None:
            if grads is None:
                raise ValueError(f"{self.name}: step() needs the gradients (only flat=True keeps a gradient buffer)")
            grads = self._checked_grads(grads)
            self._check_layout()
            names = [(f"params[{i}]", f"grads[{i}]", f"state[{i}]") for i in range(len(self.params))]
            dtypes = [kernel_support.check_arrays(self.name, p, g, s, kernel.STATE, kernel.SCALAR_STATE, library,
                                                  names[i])
                      for i, (p, g, s) in enumerate(zip(self.params, grads, self.state))]
            per_tensor = [{name: values[i] for name, values in inputs.items()} for i in range(len(self.params))]
            if inputs:
                for i, (p, g, s) in enumerate(zip(self.params, grads, self.state)):
                    kernel_support.check_inputs(self.name, p, g, s, kernel.STATE, per_tensor[i], library, names[i])
            self._check_own_memory("grads", grads, range(len(grads)))
            for name, values in inputs.items():
                self._check_own_memory(name, values, range(len(values)))
            for p, g, s, dtype, extra in zip(self.params, grads, self.state, dtypes, per_tensor):
                kernel.step_unchecked(p, g, s, t, hyperparameters, dtype, **extra)
        else:
            given = ([("grads", self._checked_grads(grads), self._flat.grads)] if grads is not None else []) \
                + [(name, values, self._flat.inputs[name]) for name, values in inputs.items()]
            for what, values, views in given:
                for i, (value, view) in enumerate(zip(values, views)):
                    kernel_support.check_grad(self.name, value, view.shape, library, what=f"{what}[{i}]")
            copies = [(views, self._copy_into_views(what, values, views)) for what, values, views in given]
            with numpy.errstate(over="ignore", invalid="ignore"):  # float64 → float16 may round to inf
                for views, pairs in copies:
                    for i, value in pairs:
                        views[i][...] = value
            self._flat.step_unchecked(t, hyperparameters)
        self.t = t

    @property
    def inputs(self) -> dict:
        """With ``flat=True``: the spec's inputs besides the gradient, name → per-parameter views of its flat
        buffer, to write each step's values into."""
        if self._flat is None:
            raise AttributeError("inputs exists only with flat=True")
        return self._flat.inputs

    @property
    def grads(self) -> list:
        """With ``flat=True``: per-parameter views of the flat gradient buffer, to write gradients into."""
        if self._flat is None:
            raise AttributeError("grads exists only with flat=True")
        return self._flat.grads

    # ---- state dict --------------------------------------------------------------------------------------
    def _scalar_state(self, i: int) -> dict:
        if self._flat is not None:
            return dict(self._flat.scalar_state)
        return {key: self.state[i][key] for key in self.kernel.SCALAR_STATE}

    def state_dict(self) -> dict:
        """A copy of everything needed to resume, in the documented, versioned format (README, "State dicts"):
        ``format``, ``version``, ``name``, ``t`` (steps taken), ``hyperparameters`` (every one, as floats) and
        ``state`` (per parameter, a dict of array copies and scalar state)."""
        hyperparameters, t = self._checked_scalars()
        if self._flat is None:
            self._check_layout()
        return {"format": STATE_DICT_FORMAT, "version": STATE_DICT_VERSION, "name": self.name, "t": t - 1,
                "hyperparameters": hyperparameters,
                "state": [{**{key: value.copy() for key, value in self._tensor_state(i).items()},
                           **self._scalar_state(i)} for i in range(len(self.params))]}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore from :meth:`state_dict` (values copied into the existing state arrays). Every field is checked
        before anything is written, and the dict must be complete: no field falls back to a default."""
        name, kernel = self.name, self.kernel
        if not isinstance(state_dict, dict):
            raise TypeError(f"{name}: state_dict must be a dict from Optimizer.state_dict(), got "
                            f"{type(state_dict).__name__}")
        if "format" not in state_dict and "param_groups" in state_dict:
            raise ValueError(f"{name}: state_dict looks like a torch.optim state dict (it has 'param_groups'); "
                             f"Optimizer reads the dicts of Optimizer.state_dict() (format {STATE_DICT_FORMAT!r})")
        missing = [key for key in _STATE_DICT_KEYS if key not in state_dict]
        if missing:
            raise ValueError(f"{name}: state_dict lacks {', '.join(map(repr, missing))}; Optimizer.state_dict() "
                             f"has {', '.join(map(repr, _STATE_DICT_KEYS))}")
        unknown = sorted(map(repr, state_dict.keys() - set(_STATE_DICT_KEYS)))
        if unknown:
            raise ValueError(f"{name}: state_dict has unknown key(s) {', '.join(unknown)}")
        if state_dict["format"] != STATE_DICT_FORMAT:
            raise ValueError(f"{name}: state_dict['format'] is {kernel_support.shown(state_dict['format'])}, "
                             f"expected {STATE_DICT_FORMAT!r}")
        version = state_dict["version"]
        if type(version) is not int or version != STATE_DICT_VERSION:
            raise ValueError(f"{name}: state_dict['version'] is {kernel_support.shown(version)}; this optiforge reads "
                             f"version {STATE_DICT_VERSION}")
        if state_dict["name"] != name:
            raise ValueError(f"{name}: state_dict is for {kernel_support.shown(state_dict['name'])}, "
                             f"not {name!r}")
        t = kernel_support.check_integer(name, "state_dict['t']", state_dict["t"], 0, kernel_support.MAX_STEP - 1)
        hyperparameters = kernel_support.resolve_hyperparameters(
            name, kernel.HYPERPARAMETERS, kernel.DOMAINS, state_dict["hyperparameters"],
            source="state_dict['hyperparameters']")
        states = state_dict["state"]
        if isinstance(states, self._library.ndarray) or not isinstance(states, (list, tuple)):
            raise TypeError(f"{name}: state_dict['state'] must be a list (one dict per parameter), got "
                            f"{type(states).__name__}")
        if len(states) != len(self.params):
            raise ValueError(f"{name}: state_dict['state'] has state for {len(states)} parameters, expected "
                             f"{len(self.params)}")
        if self._flat is None:
            self._check_layout()
        writes, scalars = [], []
        for i, theirs in enumerate(states):
            writes += self._checked_tensor_state(i, theirs)
            scalars.append({key: kernel_support.check_scalar_state(name, f"state_dict['state'][{i}][{key!r}]",
                                                                   theirs[key])
                            for key in kernel.SCALAR_STATE})
        if self._flat is not None and any(s != scalars[0] for s in scalars):
            raise ValueError(f"{name}: state_dict['state'] holds different scalar state "
                             f"({', '.join(kernel.SCALAR_STATE)}) for different parameters; with flat=True it is "
                             "shared")
        # Everything is checked: now write. A value sharing memory with the optimizer's arrays is copied first,
        # so that no write changes a value not yet read.
        staged = [(target, value.copy() if self._shares_own_memory(value) else value) for target, value in writes]
        for target, value in staged:
            target[...] = value
        if self._flat is not None:
            self._flat.load_scalar_state(scalars[0])
        else:
            for mine, values in zip(self.state, scalars):
                mine.update(values)
        self.hyperparameters, self.t = hyperparameters, t

    def _checked_tensor_state(self, i: int, theirs) -> list:
        """(destination, value) pairs for parameter ``i``'s array state, every value checked."""
        name, kernel, where = self.name, self.kernel, f"state_dict['state'][{i}]"
        if not isinstance(theirs, dict):
            raise TypeError(f"{name}: {where} must be a dict, got {type(theirs).__name__}")
        expected = set(kernel.STATE) | set(kernel.SCALAR_STATE)
        if set(theirs) != expected:
            raise ValueError(f"{name}: {where} has keys {sorted(map(str, theirs))}, expected {sorted(expected)}")
        library, pairs = self._library, []
        for key, target in self._tensor_state(i).items():
            value, what = theirs[key], f"{where}[{key!r}]"
            if not isinstance(value, (numpy.ndarray, library.ndarray)) or \
                    isinstance(value, kernel_support.NUMPY.rejected + library.rejected):
                accepted = library.name + ("" if library.ndarray is numpy.ndarray else " or numpy.ndarray")
                raise TypeError(f"{name}: {what} must be an array ({accepted}), got {type(value).__name__}")
            if value.dtype != target.dtype:
                raise TypeError(f"{name}: {what} has dtype {value.dtype}, expected {target.dtype}")
            if value.shape != target.shape:
                raise ValueError(f"{name}: {what} has shape {value.shape}, expected {target.shape}")
            pairs.append((target, value))
        return pairs

    def _shares_own_memory(self, value) -> bool:
        """Whether a state-dict value may share memory with this optimizer's arrays (non-contiguous: assume so)."""
        if not isinstance(value, self._library.ndarray):
            return False  # a NumPy array for a CuPy optimizer: host memory
        return not value.flags.c_contiguous or self._memory.overlap(value) is not None


def checked_kernel(module):
    """A kernel module given instead of a name: it must have what a generated module has."""
    missing = [a for a in _KERNEL_ATTRIBUTES if not hasattr(module, a)]
    if missing:
        raise TypeError(f"name must be an optimizer name or a generated kernel module, got {type(module).__name__}"
                        f" (lacking {', '.join(missing)})")
    return module
