"""Package attributes loaded on first access (PEP 562 module ``__getattr__``): each public name comes from the
module that defines it, so importing the package costs nothing until a name is used."""
from __future__ import annotations

import importlib

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, exports: dict[str, str], namespace: dict):
    """``__getattr__`` and ``__dir__`` for ``package``: ``exports`` maps a public name to the module defining it;
    a name read once is stored in ``namespace`` (the package's globals), so later reads skip the hook."""

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
