"""A user's own folders: spec files (each defines ``SPEC`` or ``SPECS``) and claim modules (each defines ``CLAIMS``).

The files import from ``optiforge`` (``from optiforge.specs import SpecBuilder, …``) and may import each other
relatively (``from . import _common``); files whose name starts with ``_`` are helpers, not specs. A folder is
imported as a private package of its own, so a user folder called ``specs/`` shadows nothing, and each load
reads the files afresh (edit a spec, load it again).
"""
from __future__ import annotations

import importlib
import itertools
import sys
import types
from pathlib import Path

__all__ = ["FolderError", "load_specs", "load_claims", "register_specs"]

_LOADS = itertools.count()
#: names registered by :func:`register_specs` (a new load of the same spec replaces it)
_FROM_FOLDERS: set[str] = set()


class FolderError(ValueError):
    """A user folder that cannot be loaded: missing, empty, a file that fails to import or defines nothing."""


def _modules(path: str | Path, kind: str) -> list[types.ModuleType]:
    """Import every ``*.py`` of the folder ``path`` (or the one file ``path``) not starting with ``_``."""
    path = Path(path)
    if not path.exists():
        raise FolderError(f"--{kind} {path}: no such file or folder")
    folder = path.parent if path.is_file() else path
    files = [path] if path.is_file() else sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
    if not files:
        raise FolderError(f"--{kind} {path}: no {kind} files (*.py not starting with _)")
    folder = folder.resolve()
    package = f"_optiforge_{kind}_{next(_LOADS)}"  # a fresh package per load: the files as they are now
    module = types.ModuleType(package, f"the {kind} folder {folder.name}/")
    module.__path__ = [str(folder)]
    sys.modules[package] = module
    out = []
    for file in files:
        try:
            out.append(importlib.import_module(f"{package}.{file.stem}"))
        except Exception as error:  # a user's file: say which one, keep the cause
            raise FolderError(f"{folder.name}/{file.name}: {type(error).__name__}: {error}") from error
    return out


def load_specs(path: str | Path) -> list:
    """The specs defined in the folder (or file) ``path``, validated, in file order; names must be unique."""
    from optiforge.specs import OptimizerSpec, validate

    found = []
    for module in _modules(path, "specs"):
        file = Path(module.__file__).name
        if hasattr(module, "SPECS"):
            defined = tuple(module.SPECS)
        elif hasattr(module, "SPEC"):
            defined = (module.SPEC,)
        else:
            raise FolderError(f"{file}: defines neither SPEC nor SPECS")
        for spec in defined:
            if not isinstance(spec, OptimizerSpec):
                raise FolderError(f"{file}: SPEC/SPECS must hold OptimizerSpec objects (SpecBuilder(...).build()), "
                                  f"got {type(spec).__name__}")
            validate(spec)
            found.append(spec)
    return _unique(found, "specs", path)


def _unique(found: list, kind: str, path) -> list:
    """``found`` (specs or claims), unless two share a name."""
    names = [item.name for item in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise FolderError(f"--{kind} {path}: {kind} defined twice: {', '.join(twice)}")
    return found


def register_specs(path: str | Path) -> list:
    """Load the specs of ``path`` and add them to the registry (``optiforge.get(name)`` finds them). A spec
    loaded from a folder before is replaced by its new version; any other name already registered (the
    catalogue's, or one you registered yourself) is an error."""
    from optiforge import specs

    loaded = load_specs(path)
    taken = [s.name for s in loaded if s.name in specs.names() and s.name not in _FROM_FOLDERS]
    if taken:
        raise FolderError(f"{Path(path).name}/: {', '.join(map(repr, taken))} already registered (the catalogue "
                          "has it, or it was registered another way): give your spec another name")
    for spec in loaded:
        specs.register(spec, replace=True)
        _FROM_FOLDERS.add(spec.name)
    return loaded


def load_claims(path: str | Path) -> list:
    """The claims defined in the folder (or file) ``path`` (each module's ``CLAIMS``); names must be unique."""
    from optiforge.derive import Claim

    found = []
    for module in _modules(path, "claims"):
        file = Path(module.__file__).name
        if not hasattr(module, "CLAIMS"):
            raise FolderError(f"{file}: defines no CLAIMS")
        for claim in module.CLAIMS:
            if not isinstance(claim, Claim):
                raise FolderError(f"{file}: CLAIMS must hold Claim objects, got {type(claim).__name__}")
            found.append(claim)
    return _unique(found, "claims", path)
