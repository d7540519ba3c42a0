"""Optimizer specs: the single source of truth.

Every module in :mod:`specs.catalog` defines ``SPEC`` (or ``SPECS``, a tuple); adding an optimizer is adding
one such file. ``register`` adds a user-defined spec at run time.
"""
from __future__ import annotations

import contextlib
import difflib
import importlib
import pkgutil

from .builder import SpecBuilder
from .dsl import (BOOLEAN, GRAD, NONNEGATIVE, PARAM, POSITIVE, POSITIVE_INTEGER, REAL, STEP, UNIT_CLOSED,
                  UNIT_HALF_OPEN, UNIT_OPEN, Assignment, Hyperparameter, Input, Numerics, OptimizerSpec, SpecError,
                  State, interval)
from .validate import validate

__all__ = [
    "get", "names", "all_specs", "register", "recording", "SpecBuilder", "SpecError", "OptimizerSpec", "Hyperparameter",
    "State", "Input", "Assignment", "Numerics", "validate", "PARAM", "GRAD", "STEP", "POSITIVE", "NONNEGATIVE",
    "UNIT_HALF_OPEN", "UNIT_OPEN", "UNIT_CLOSED", "REAL", "BOOLEAN", "POSITIVE_INTEGER", "interval",
]

_REGISTRY: dict[str, OptimizerSpec] = {}
_LOADED = False
_RECORDERS: list[set[str]] = []


def _load_catalog() -> None:
    global _LOADED
    if _LOADED:
        return
    from . import catalog

    found: dict[str, OptimizerSpec] = {}
    for info in sorted(pkgutil.iter_modules(catalog.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{catalog.__name__}.{info.name}")
        specs = getattr(module, "SPECS", None) or (module.SPEC,)
        for spec in specs:
            if spec.name in found:
                raise SpecError(f"spec {spec.name!r} is defined twice (second time in {module.__name__})")
            found[spec.name] = spec
    _REGISTRY.update({k: found[k] for k in sorted(found)})
    _LOADED = True


def register(spec: OptimizerSpec, *, replace: bool = False) -> OptimizerSpec:
    """Add a (validated) user spec to the registry."""
    _load_catalog()
    spec = validate(spec)
    if spec.name in _REGISTRY and not replace:
        raise SpecError(f"spec {spec.name!r} already exists (pass replace=True to override it)")
    _REGISTRY[spec.name] = spec
    return spec


def names() -> list[str]:
    """Names of all registered specs, sorted."""
    _load_catalog()
    return sorted(_REGISTRY)


def all_specs() -> list[OptimizerSpec]:
    return [_REGISTRY[n] for n in names()]


def get(name: str) -> OptimizerSpec:
    """The spec called ``name``; an unknown name raises ``KeyError`` listing the closest matches."""
    _load_catalog()
    for recorder in _RECORDERS:
        recorder.add(name)
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, _REGISTRY, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"unknown optimizer {name!r}{hint} (see `optiforge list`)") from None


@contextlib.contextmanager
def recording():
    """Collect the names passed to :func:`get` inside the block (which specs a derivation used)."""
    names: set[str] = set()
    _RECORDERS.append(names)
    try:
        yield names
    finally:
        _RECORDERS.remove(names)
