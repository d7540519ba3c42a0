"""Import aliases for kernel packages emitted by optiforge 0.1.0 (users' ``optiforge generate --out``
packages), which import the runtime from where it used to live, inside the output folder:

* ``optiforge.generated._runtime`` → :mod:`optiforge.runtime.kernel_support`,
  ``optiforge.generated._numba_runtime`` → :mod:`optiforge.runtime.numba_support`,
  ``optiforge.generated._cupy_runtime`` → :mod:`optiforge.runtime.cupy_support`,
  ``optiforge.generated._flat`` → :mod:`optiforge.runtime.flat`: the same module objects, so state and caches
  are shared with new modules;
* the names ``optiforge.generated`` exported (``Optimizer``, ``kernel_module``, ``available``,
  ``UnknownOptimizerError``, ``STATE_DICT_FORMAT``, ``STATE_DICT_VERSION``, ``BACKENDS``): read from
  :mod:`optiforge.runtime` on first access.

A finder on ``sys.meta_path`` (installed by ``import optiforge``, which every import of a submodule runs
first) resolves the old module names without any file under ``generated/``: that folder holds emitted files
only. New code imports :mod:`optiforge.runtime`; these aliases are kept for packages already written.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

__all__ = ["MODULE_ALIASES", "ATTRIBUTE_ALIASES", "LegacyRuntimeFinder", "install"]

#: old module name → the runtime module it now is
MODULE_ALIASES = {
    "optiforge.generated._runtime": "optiforge.runtime.kernel_support",
    "optiforge.generated._numba_runtime": "optiforge.runtime.numba_support",
    "optiforge.generated._cupy_runtime": "optiforge.runtime.cupy_support",
    "optiforge.generated._flat": "optiforge.runtime.flat",
}

#: names the old ``optiforge.generated/__init__.py`` defined → the module that defines them now
ATTRIBUTE_ALIASES = {
    **dict.fromkeys(("Optimizer", "kernel_module", "available", "UnknownOptimizerError", "STATE_DICT_FORMAT",
                     "STATE_DICT_VERSION"), "optiforge.runtime.optimizer"),
    "BACKENDS": "optiforge.runtime.backends",
}

_GENERATED = "optiforge.generated"


def _generated_attribute(name: str):
    """``__getattr__`` of the ``optiforge.generated`` package: the old runtime names, from the runtime."""
    module = ATTRIBUTE_ALIASES.get(name) or MODULE_ALIASES.get(f"{_GENERATED}.{name}")
    if module is None:
        raise AttributeError(f"module {_GENERATED!r} has no attribute {name!r}")
    target = importlib.import_module(module)
    return target if f"{_GENERATED}.{name}" in MODULE_ALIASES else getattr(target, name)


class _AliasLoader(importlib.abc.Loader):
    """Loads an old module name as the (imported) module it now is."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module) -> None:
        pass  # the target ran when it was imported


class _GeneratedLoader(importlib.abc.Loader):
    """The package's own loader, then :func:`_generated_attribute` as the package's ``__getattr__``."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        module.__dict__.setdefault("__getattr__", _generated_attribute)

    def __getattr__(self, name: str):  # get_source, is_package, get_resource_reader, …: the package's loader
        return getattr(self.loader, name)


class LegacyRuntimeFinder(importlib.abc.MetaPathFinder):
    """Finds the old runtime module names (:data:`MODULE_ALIASES`) and gives ``optiforge.generated`` the old
    names (:data:`ATTRIBUTE_ALIASES`)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MODULE_ALIASES:
            return importlib.util.spec_from_loader(fullname, _AliasLoader(MODULE_ALIASES[fullname]))
        if fullname != _GENERATED:
            return None
        for finder in sys.meta_path:  # the package as the other finders see it (editable installs included)
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _GeneratedLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once per process)."""
    if not any(isinstance(f, LegacyRuntimeFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, LegacyRuntimeFinder())
