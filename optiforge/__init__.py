"""optiforge: deep-learning optimizers declared as SymPy update equations, verified, and compiled to kernels.

The names below load on first use, so ``import optiforge`` (and ``import optiforge.generated``, and every
generated kernel module) costs NumPy only; SymPy is imported when a spec, a claim or the code generator is.

>>> import numpy as np, optiforge
>>> w = np.ones(3, dtype=np.float32)
>>> opt = optiforge.Optimizer([w], "adam", lr=0.1)
>>> opt.step([np.array([1.0, -1.0, 0.5], dtype=np.float32)])
>>> [round(float(x), 4) for x in w]
[0.9, 1.1, 0.9]

Subpackages: :mod:`optiforge.specs` (the DSL, validation, reference interpreter, catalogue),
:mod:`optiforge.derive` (the derivation checker), :mod:`optiforge.codegen` (lowering, passes, backends),
:mod:`optiforge.generated` (the emitted kernels) and :mod:`optiforge.runtime` (what the emitted kernels import,
and the NumPy :class:`Optimizer`).
"""
from __future__ import annotations

from optiforge.runtime import legacy as _legacy
from optiforge.runtime.lazy import lazy_attributes

__version__ = "0.1.0"

# Packages emitted by optiforge 0.1.0 import ``optiforge.generated._runtime`` and its siblings: aliases of the
# runtime modules now (optiforge/runtime/legacy.py). Installing the finder imports nothing else.
_legacy.install()

#: the public names by topic (the API reference, docs/api.md, follows this order): name → the module that
#: defines it, imported on first access
PUBLIC_NAMES: dict[str, dict[str, str]] = {
    "Running optimizers (NumPy only)": {
        "Optimizer": "optiforge.runtime.optimizer",
        "kernel_module": "optiforge.runtime.optimizer",
        "available": "optiforge.runtime.optimizer",
    },
    "Declaring optimizers": {
        "SpecBuilder": "optiforge.specs",
        "OptimizerSpec": "optiforge.specs",
        "Numerics": "optiforge.specs",
        "SpecError": "optiforge.specs",
        "get": "optiforge.specs",
        "names": "optiforge.specs",
        "all_specs": "optiforge.specs",
        "register": "optiforge.specs",
        "interval": "optiforge.specs",
        "PARAM": "optiforge.specs",
        "GRAD": "optiforge.specs",
        "STEP": "optiforge.specs",
        "POSITIVE": "optiforge.specs",
        "NONNEGATIVE": "optiforge.specs",
        "UNIT_HALF_OPEN": "optiforge.specs",
        "UNIT_OPEN": "optiforge.specs",
        "UNIT_CLOSED": "optiforge.specs",
        "REAL": "optiforge.specs",
        "BOOLEAN": "optiforge.specs",
        "POSITIVE_INTEGER": "optiforge.specs",
    },
    "Your own folders of specs and claims": {
        "load_specs": "optiforge.folders",
        "register_specs": "optiforge.folders",
        "load_claims": "optiforge.folders",
    },
    "Checking derivations": {
        "verify": "optiforge.derive",
        "Claim": "optiforge.derive",
    },
    "Compiling": {
        "load_module": "optiforge.codegen.generate",
        "kernel_for": "optiforge.codegen.generate",
        "compare_with_reference": "optiforge.codegen.selfcheck",
    },
}
_EXPORTS = {name: module for group in PUBLIC_NAMES.values() for name, module in group.items()}

__all__ = ["__version__", *_EXPORTS]

__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS, globals())
