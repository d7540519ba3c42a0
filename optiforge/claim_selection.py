"""Choosing claims by name, written once: ``optiforge verify NAME …`` reads it.

A name is a claim's name, its topic (``adam`` for ``adam.*``), one of its tags, or an optimizer's name: the
claims about that optimizer, those that declare it (``Claim.specs``) or read it (``specs.get``) while they run.
What a claim reads is known once it ran; before, :func:`specs_named_by` over-approximates it from the claim's
code (the spec names among the constants, closures, defaults and module-level helpers its ``build`` reaches),
so that ``optiforge verify adamw`` runs only the claims that may be about adamw, then keeps those that were
(:meth:`ClaimSelection.keeps`). ``tests/test_cli.py`` checks the over-approximation on every catalogue claim.
"""
from __future__ import annotations

import difflib
import functools
import types
from dataclasses import dataclass

__all__ = ["ClaimSelection", "specs_named_by", "select_claims"]


def specs_named_by(claim, spec_names) -> set[str]:
    """The names in ``spec_names`` that ``claim`` declares or that its ``build`` may look up: string constants
    of its code and of the functions it reaches (nested functions, closures, defaults, ``functools.partial``
    arguments, and module-level functions of the project it names), and the names of spec objects among them."""
    spec_names = frozenset(spec_names)
    found: set[str] = set(claim.specs) & spec_names
    seen: set[int] = set()

    def visit(value) -> None:
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, str):
            if value in spec_names:
                found.add(value)
        elif isinstance(value, (tuple, list, frozenset, set)):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif isinstance(value, types.CodeType):
            for constant in value.co_consts:
                visit(constant)
        elif isinstance(value, types.MethodType):
            visit(value.__func__)
        elif isinstance(value, functools.partial):
            visit(value.func)
            visit(value.args)
            visit(value.keywords)
        elif isinstance(value, types.FunctionType):
            visit(value.__code__)
            visit(value.__defaults__ or ())
            visit(value.__kwdefaults__ or {})
            for cell in value.__closure__ or ():
                try:
                    visit(cell.cell_contents)
                except ValueError:  # an empty cell
                    pass
            for name in _names_used(value.__code__):
                referenced = value.__globals__.get(name)
                if _of_the_project(referenced):
                    visit(referenced)
        elif getattr(value, "fingerprint", None) is not None and isinstance(getattr(value, "name", None), str):
            visit(value.name)  # a spec object

    visit(claim.build)
    return found


def _names_used(code: types.CodeType) -> set[str]:
    """Global names read by ``code`` and the code nested in it."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_used(constant)
    return names


def _of_the_project(value) -> bool:
    """Functions and spec objects the search follows: those of optiforge's modules or of the claim's own folder
    (anything but libraries: SymPy's functions name no spec)."""
    if isinstance(value, (types.FunctionType, functools.partial)):
        module = getattr(value, "__module__", None) or getattr(getattr(value, "func", None), "__module__", "")
        return not module.split(".")[0] in _LIBRARIES
    return isinstance(value, (str, tuple)) or getattr(value, "fingerprint", None) is not None


#: top-level packages whose functions never look up a spec
_LIBRARIES = frozenset({"sympy", "numpy", "mpmath", "z3", "builtins", "functools", "itertools", "math"})


@dataclass(frozen=True)
class ClaimSelection:
    """The claims to run for some names: ``direct`` (claim names chosen by name, topic or tag) and, for the
    ``optimizers`` named, the claims that may be about them."""

    run: tuple
    direct: frozenset
    optimizers: frozenset

    def keeps(self, result) -> bool:
        """Whether a result of :attr:`run` answers the names: chosen directly, or about a named optimizer."""
        return result.claim.name in self.direct or bool(self.optimizers & set(result.specs))


def select_claims(claims, names, spec_names) -> ClaimSelection:
    """The claims of ``claims`` that ``names`` choose (every claim when ``names`` is empty); ``spec_names``: the
    registered optimizers. An unknown name raises ``KeyError`` naming the closest names."""
    claims, names, spec_names = list(claims), list(names), set(spec_names)
    if not names:
        return ClaimSelection(tuple(claims), frozenset(c.name for c in claims), frozenset())
    optimizers = {n for n in names if n in spec_names}
    unknown = [n for n in names if n not in optimizers and not any(c.matches(n) for c in claims)]
    if unknown:
        candidates = sorted({c.name for c in claims} | {c.name.split(".")[0] for c in claims}
                            | {t for c in claims for t in c.tags} | spec_names)
        hints = []
        for n in unknown:
            close = difflib.get_close_matches(n, candidates, n=3, cutoff=0.6)
            hints.append(f"{n!r}" + (f" (did you mean {', '.join(map(repr, close))}?)" if close else ""))
        raise KeyError(f"no claim, topic, tag or optimizer matches {', '.join(hints)} (see `optiforge list`)")
    direct = frozenset(c.name for c in claims if any(c.matches(n) for n in names))
    run = tuple(c for c in claims if c.name in direct or optimizers & specs_named_by(c, spec_names))
    return ClaimSelection(run, direct, frozenset(optimizers))
