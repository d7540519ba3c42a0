r"""Claims: a named chain of steps, its combined status, and the catalogue's ``CLAIMS`` lists."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable
from optiforge import specs
from . import domains as _domains

from .timing import CheckTimeout, time_limit
from .statuses import (APPROXIMATION, ARGUED, ARGUES, FAILS, HOLDS, PROVED, PROVING, REFUTED, UNPROVED, Step,
                       code)


#: Hard limit for a whole claim, including work done outside its steps (building expressions, ``solve``).
CLAIM_TIMEOUT = 60.0


def combine(steps: list[Step]) -> str:
    """Status of a derivation: refuted if any step is refuted; else unproved if any step is, or if no step proves
    anything (definitions and evidence prove nothing); else argued if an inference is argued; else
    approximation if any step is an approximation; else proved."""
    statuses = [s.status for s in steps]
    if REFUTED in statuses:
        return REFUTED
    if UNPROVED in statuses or not any(s in PROVING for s in statuses):
        return UNPROVED
    if ARGUED in statuses:
        return ARGUED
    return APPROXIMATION if APPROXIMATION in statuses else PROVED


_SPEC_DOMAINS: dict = {}


def claim_domains(names: frozenset) -> dict:
    """The hyperparameter domains of the named specs, met in their intersection (cached per set of names)."""
    if names not in _SPEC_DOMAINS:
        registry = {s.name: s for s in specs.all_specs()}
        _SPEC_DOMAINS[names] = _domains.as_mapping([registry[n] for n in sorted(names) if n in registry])
    return _SPEC_DOMAINS[names]


@dataclass
class Claim:
    """A named derivation: ``build()`` returns its checked steps. ``expected`` is :data:`HOLDS`, :data:`FAILS` or
    :data:`ARGUES` (an argument whose last inference is not checked mechanically); ``sources`` cites the seed
    file and formula. While it runs, the domains of the specs it is about (declared ``specs`` and the specs it
    reads) and its own ``domains`` apply to every step."""

    name: str
    title: str
    kind: str
    expected: str
    sources: str
    build: Callable[[], list[Step]]
    tags: tuple[str, ...] = ()
    note: str = ""
    #: specs the claim is about, declared (e.g. when a module looks them up at import time, which records
    #: nothing); unioned with the specs recorded while the claim runs
    specs: tuple[str, ...] = ()
    domains: dict = field(default_factory=dict)

    def matches(self, name: str) -> bool:
        """Whether ``name`` is this claim's name, its topic (the part before the first dot) or one of its tags."""
        return name == self.name or name in self.tags or self.name.startswith(name + ".")

    def run(self) -> "ClaimResult":
        start = time.perf_counter()
        with specs.recording() as used:
            declared = set(self.specs)
            with _domains.scope(lambda: claim_domains(frozenset(used | declared))), _domains.scope(self.domains):
                try:
                    with time_limit(CLAIM_TIMEOUT):
                        steps = self.build()
                except CheckTimeout as exc:  # a timeout outside a guarded step
                    steps = [Step(self.kind, self.title, "", UNPROVED, str(exc))]
                except Exception as exc:  # noqa: BLE001 - a failure while building the claim: unproved, with why
                    steps = [Step(self.kind, self.title, "", UNPROVED,
                                  f"building the claim failed: {type(exc).__name__}: {code(exc)}")]
        status = combine(steps)
        return ClaimResult(self, steps, status, time.perf_counter() - start,
                           specs=tuple(sorted(set(used) | set(self.specs))))


@dataclass
class ClaimResult:
    claim: Claim
    steps: list[Step]
    status: str
    seconds: float
    extra: dict = field(default_factory=dict)
    #: names of the specs the claim read (``specs.get`` calls during the run)
    specs: tuple[str, ...] = ()

    @property
    def as_expected(self) -> bool:
        if self.claim.expected == HOLDS:
            return self.status in PROVING
        if self.claim.expected == ARGUES:
            return self.status == ARGUED
        return self.status == REFUTED

    @property
    def downgraded(self) -> list[Step]:
        """Steps whose symbolic "proof" the falsification sweep overturned."""
        return [s for s in self.steps if s.downgraded]

    @property
    def verdict(self) -> str:
        """proved / approximation proved / argued / refuted as expected / unproved / unexpectedly refuted / …"""
        if self.status == UNPROVED:
            return UNPROVED
        if self.claim.expected == FAILS:
            return "refuted as expected" if self.status == REFUTED else f"unexpectedly {self.status}"
        if self.status == ARGUED:
            return ARGUED if self.claim.expected == ARGUES else "argued (not proved)"
        return self.status if self.status != REFUTED else "unexpectedly refuted"


class ClaimList(list):
    """A module's ``CLAIMS``: ``@CLAIMS.claim(...)`` turns a function returning steps into a :class:`Claim`."""

    def claim(self, name: str, title: str, kind: str, sources: str, expected: str = HOLDS, tags=(), note: str = "",
              specs=(), domains=None):
        """``specs``: names of the specs the claim is about (unioned with those it reads while running);
        ``domains``: extra ``{symbol: Set}`` that hold for the whole claim."""
        if isinstance(specs, str):
            specs = (specs,)
        def register(build):
            self.append(Claim(name, title, kind, expected, sources, build, tuple(tags), note, tuple(specs),
                              dict(domains or {})))
            return build
        return register
