r"""The derivation engine, as one import: statuses, the step kinds, claims (a façade over the modules below).

A :class:`Claim` is a named chain of :class:`Step` results produced by the step kinds: :func:`identity`,
:func:`substitution`, :func:`definition`, :func:`cases` (:mod:`derive.identities`); :func:`limit`,
:func:`approximation` (:mod:`derive.limits`); :func:`bound`, :func:`monotone`, :func:`monotone_bound`,
:func:`roots_in` (:mod:`derive.bounds`); :func:`induction` (:mod:`derive.induction`); :func:`conclude`,
:func:`numeric` (:mod:`derive.conclusions`); spec-vs-spec equivalence lives in :mod:`derive.equivalence`. The
soundness policy (docs/derivations.md) in short:

* a step is ``proved`` only when the trusted kernel (:mod:`derive.kernel`, a decision procedure for nonlinear real
  arithmetic with sound abstractions of non-algebraic atoms) proves its statement, definedness included; a limit
  is a *checked SymPy limit*: SymPy's value, its parameter side conditions shown by the kernel;
* a step is ``refuted`` only by an exact counterexample inside every declared domain, re-checked exactly;
* what the kernel cannot decide is ``unproved``; numeric evidence is ``checked`` (never a proof), a definition is
  ``defined`` (proves nothing), a ``conclude`` without a mechanically checked rule is ``argued``; no exception
  leaves a step kind: a failure makes the step ``unproved`` with the reason;
* a claim with no proving step is ``unproved``.
"""
from __future__ import annotations

from .bounds import bound, monotone, monotone_bound, roots_in
from .claim import CLAIM_TIMEOUT, Claim, ClaimList, ClaimResult, combine
from .conclusions import conclude, numeric
from .identities import cases, definition, identity, substitution
from .induction import induction
from .limits import OneSidedLimitsDiffer, approximation, limit
from .settling import REFUTE_POINTS, prove_equal, prove_zero, sample_values, settle
from .statuses import (APPROXIMATION, ARGUED, ARGUES, CHECKED, DEFINED, FAILS, HOLDS, INCONCLUSIVE,
                       PROVED, PROVING, REFUTED, STEP_TIMEOUT, UNPROVED, Step, code, guarded, never_raises, tex)
from .timing import CheckTimeout, time_limit

__all__ = ["APPROXIMATION", "ARGUED", "ARGUES", "CHECKED", "CLAIM_TIMEOUT", "DEFINED", "FAILS", "HOLDS",
           "INCONCLUSIVE", "PROVED", "PROVING", "REFUTED", "REFUTE_POINTS", "STEP_TIMEOUT", "UNPROVED",
           "CheckTimeout", "Claim", "ClaimList", "ClaimResult", "OneSidedLimitsDiffer", "Step", "approximation",
           "bound", "cases", "code", "combine", "conclude", "definition", "guarded", "identity", "induction", "limit",
           "monotone", "monotone_bound", "never_raises", "numeric", "prove_equal", "prove_zero", "roots_in",
           "sample_values", "settle", "substitution", "tex", "time_limit"]
