"""Generated optimizer kernels and a small runtime over them (needs NumPy only; CuPy for ``backend="cupy"``,
numba for ``backend="numba"``).

>>> import numpy as np
>>> from optiforge.generated import Optimizer
>>> w = np.ones(3, dtype=np.float32)
>>> opt = Optimizer([w], "adam", lr=0.1)
>>> opt.step([np.array([1.0, -1.0, 0.5], dtype=np.float32)])
>>> [round(float(x), 4) for x in w]
[0.9, 1.1, 0.9]
"""
from __future__ import annotations

import difflib
import importlib
import pkgutil
import sys
from types import ModuleType

from . import _runtime

__all__ = ["Optimizer", "kernel_module", "available"]

BACKENDS = ("numpy", "cupy", "numba")


def available(backend: str = "numpy") -> list[str]:
    """Names of the optimizers generated for ``backend``."""
    package = importlib.import_module(f"{__name__}.{backend}")
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__))


def kernel_module(name: str, backend: str = "numpy") -> ModuleType:
    """The generated module ``generated.<backend>.<name>``; unknown names list the closest matches."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    names = available(backend)
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"unknown optimizer {name!r}{hint}")
    return importlib.import_module(f"{__name__}.{backend}.{name}")


def _kernel(name, backend: str) -> ModuleType:
    """``name``'s kernel: a kernel module as is; a generated optimizer's name → its module (NumPy only); a spec
    object, or the name of a spec registered at run time → built in memory and cached (these import SymPy)."""
    if hasattr(name, "HYPERPARAMETERS"):  # a kernel module (generated, or built by load_module)
        return name
    if isinstance(name, str) and "optiforge.specs" not in sys.modules:  # nothing can have been registered
        return kernel_module(name, backend)
    from optiforge.codegen.generate import kernel_for

    return kernel_for(name, backend)


class Optimizer:
    """Keeps the step counter and per-parameter state for a list of arrays and updates them in place.

    ``Optimizer(params, "adam", backend="numpy", lr=1e-3)``; hyperparameters are checked here, once.
    ``name`` is an optimizer's name (generated, or registered with ``optiforge.register``), an ``OptimizerSpec``
    (its kernel is built in memory once) or a kernel module. ``flat=True`` keeps all parameters, gradients
    and state in one buffer each, so one kernel call (one launch on CuPy) updates every tensor.
    """

    def __init__(self, params, name, *, backend: str = "numpy", flat: bool = False, **hyperparameters):
        self.kernel = _kernel(name, backend)
        self.name, self.backend = self.kernel.NAME, backend
        self.hyperparameters = _runtime.resolve_hyperparameters(
            self.name, self.kernel.HYPERPARAMETERS, self.kernel.DOMAINS, hyperparameters)
        self.t = 0
        if flat:
            # One buffer for all parameters (and one per state): one kernel call updates the whole model.
            # The parameters are copied in; use ``self.params`` (views of the buffer) from now on.
            from ._flat import MultiTensor

            self._flat = MultiTensor(self.kernel, list(params), **self.hyperparameters)
            self.params = self._flat.params
            views = self._flat.state
            self.state = [{name: views[name][i] for name in self.kernel.STATE} for i in range(len(self.params))]
        else:
            self._flat = None
            self.params = list(params)
            self.state = [self.kernel.init_state(p, **self.hyperparameters) for p in self.params]

    def step(self, grads=None) -> None:
        """Apply one update with ``grads[i]`` the gradient of ``params[i]``.

        With ``flat=True``, gradients written into ``self.grads`` (views of the flat gradient buffer) are
        used when ``grads`` is None; given ``grads`` are copied there first, except those that are these
        views (no copy, no extra launch)."""
        if grads is None and self._flat is None:
            raise ValueError(f"{self.name}: step() needs the gradients (only flat=True keeps a gradient buffer)")
        if grads is not None:
            grads = list(grads)
            if len(grads) != len(self.params):
                raise ValueError(f"{self.name}: got {len(grads)} gradients for {len(self.params)} parameters")
            for i, (p, g) in enumerate(zip(self.params, grads)):  # all checked before any update
                if getattr(g, "shape", None) != p.shape:
                    raise ValueError(f"{self.name}: grads[{i}] has shape {getattr(g, 'shape', None)}, "
                                     f"expected {p.shape}")
        t = self.t + 1
        if self._flat is not None:
            from ._flat import same_memory

            for view, g in zip(self._flat.grads, grads or ()):
                if not same_memory(view, g):  # gradients written into self.grads are used where they are
                    view[...] = g
            self._flat.step(t, **self.hyperparameters)
        else:
            for p, g, s in zip(self.params, grads, self.state):
                self.kernel.step(p, g, s, t, **self.hyperparameters)
        self.t = t

    @property
    def grads(self) -> list:
        """With ``flat=True``: per-parameter views of the flat gradient buffer, to write gradients into."""
        if self._flat is None:
            raise AttributeError("grads exists only with flat=True")
        return self._flat.grads

    def _scalar_state(self) -> dict:
        return self._flat.scalar_state if self._flat is not None else {}

    def state_dict(self) -> dict:
        """A copy of everything needed to resume: name, step, hyperparameters and state."""
        return {"name": self.name, "t": self.t, "hyperparameters": dict(self.hyperparameters),
                "state": [{**{k: (v.copy() if hasattr(v, "copy") else v) for k, v in s.items()}, **self._scalar_state()}
                          for s in self.state]}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore from :meth:`state_dict` (copied into the existing state arrays)."""
        if state_dict.get("name") != self.name:
            raise ValueError(f"state_dict is for {state_dict.get('name')!r}, not {self.name!r}")
        if len(state_dict["state"]) != len(self.state):
            raise ValueError(f"state_dict has state for {len(state_dict['state'])} parameters, "
                             f"expected {len(self.state)}")
        hyperparameters = _runtime.resolve_hyperparameters(
            self.name, self.kernel.HYPERPARAMETERS, self.kernel.DOMAINS, state_dict["hyperparameters"])
        t = int(state_dict["t"])
        if t < 0:
            raise ValueError(f"state_dict step t must be >= 0, got {t}")
        for i, (mine, theirs) in enumerate(zip(self.state, state_dict["state"])):
            if set(mine) | set(self._scalar_state()) != set(theirs):
                raise ValueError(f"state_dict state[{i}] has keys {sorted(theirs)}, expected {sorted(mine)}")
            for key, value in theirs.items():
                if key in mine and hasattr(mine[key], "shape") and getattr(value, "shape", None) != mine[key].shape:
                    raise ValueError(f"state_dict state[{i}][{key!r}] has shape {getattr(value, 'shape', None)}, "
                                     f"expected {mine[key].shape}")
        for mine, theirs in zip(self.state, state_dict["state"]):
            for key, value in theirs.items():
                if key in self._scalar_state():  # shared by every tensor of the flat buffer
                    self._flat._state[key] = float(value)
                elif hasattr(mine[key], "shape"):
                    mine[key][...] = value
                else:
                    mine[key] = float(value)
        self.hyperparameters, self.t = hyperparameters, t
