r"""The :func:`induction` step kind: closed forms of recurrences, base case and step decided by the kernel."""
from __future__ import annotations

from typing import Callable
import sympy as sp
from optiforge.specs import STEP
from . import domains as _domains
from . import kernel

from .exact import compare, defined, evaluate, exact
from .falsify import falsify
from .inference import Statement
from .statuses import PROVED, REFUTED, Step, UNPROVED, code, guarded, never_raises, tex
from .settling import REFUTE_POINTS, checked_sample, confirmed, conventional_value, refutation, resolve_domains


#: Terms of the recurrence replayed exactly against the closed form (beyond the base), and one far term.
INDUCTION_TERMS, INDUCTION_FAR = 10, 24


def _induction_sweep(closed_form, recurrence, base_value, base_at, n, domains, sample):
    """Replay the recurrence from the base and compare with the closed form at n = base … base + 12 and at a far
    term, at a few exact points, undefined functions replaced by concrete sequences."""
    from .falsify import points, sequences_for, undefined_functions
    previous = sp.Dummy("previous")
    exprs = [closed_form, sp.sympify(base_value), recurrence(previous, n)]
    functions = undefined_functions(exprs)
    sequences = {f: sequences_for(f) for f in functions}
    params = {s: domains[s] for s in domains if s != n}
    terms = list(range(int(base_at), int(base_at) + INDUCTION_TERMS + 1)) + [int(base_at) + INDUCTION_FAR]
    # ``previous`` at a generic nonzero value: 0 would hide the hyperparameters multiplying it (β·u_{n−1})
    probes = [e.xreplace({n: sp.Integer(base_at + 1), previous: sp.Rational(7, 3)}) for e in exprs]
    hyper_points = list(points(probes, params, sample=sample, budget=4))
    runs = [(point, {f: seq[(k + shift) % len(seq)] for f, seq in sequences.items()})
            for shift in range(2 if sequences else 1) for k, point in enumerate(hyper_points)]
    for point, assignment in runs:
        value = evaluate(base_value, point, assignment)
        for m in range(int(base_at), terms[-1] + 1):
            if m > int(base_at):
                value = evaluate(recurrence(value, sp.Integer(m)), point, assignment)
            if m not in terms:
                continue
            closed = evaluate(closed_form.xreplace({n: sp.Integer(m)}), point, assignment)
            dv, dc = defined(value), defined(closed)
            if dv is None or dc is None or (not dv and not dc):
                break
            if dv != dc or compare(value, closed) == "differ":
                from .falsify import Finding
                return Finding({**point, n: sp.Integer(m)}, assignment, closed, value,
                               "the closed form differs from the recurrence")
    return None


def _step_sweep(closed_form, recurrence, base_at, n, domains, sample):
    r"""The induction step :math:`c(n) = F(c(n-1), n)` swept as an identity over the integers :math:`n > n_0`
    (its singular points solved exactly: a recurrence undefined at :math:`n = 40` is found at 40, not only by a
    replay that stops at :math:`n_0 + 24`). A failure at some :math:`n` refutes the claim: were the closed form
    right at :math:`n - 1` and at :math:`n`, the step would hold there."""
    m = sp.Dummy("n", integer=True)
    lhs = closed_form.xreplace({n: m})
    rhs = recurrence(closed_form.xreplace({n: m - 1}), m)
    where = {**{s: d for s, d in domains.items() if s != n},
             **resolve_domains([lhs, rhs], {s: d for s, d in domains.items() if s != n})}
    where[m] = sp.Range(int(base_at) + 1, sp.oo).intersect(_domains.assumption_domain(n)) \
        if sp.sympify(base_at).is_Integer else sp.Range(1, sp.oo)
    finding, _ = falsify("=", lhs, rhs, where, sample=sample)
    if finding:
        finding.point = {(n if k == m else k): v for k, v in finding.point.items()}
        finding.reason = f"the induction step fails ({finding.reason})"
    return finding


@never_raises("induction")
def induction(title: str, closed_form, recurrence: Callable, base_value, *, base_at=0, n=STEP,
              sample: dict | None = None, domains=None) -> Step:
    r"""Closed form of a recurrence: base case :math:`c(n_0) = x_{n_0}` and step :math:`c(n) = F(c(n-1), n)` for
    symbolic :math:`n > n_0`; both must simplify to 0 (finite sums and range maxima in normal form). The proof is
    then swept by replaying the recurrence exactly for :math:`n \le n_0 + 12` and at :math:`n_0 + 40`."""
    closed_form, base_value, base_at = exact(closed_form), exact(base_value), exact(base_at)
    statement = Statement("closed form", closed_form, base_value, var=n, point=base_at)

    def check():
        previous = sp.Dummy("previous")  # the recurrence's hyperparameters need domains too (β in βu_{n−1})
        dom = resolve_domains([closed_form, base_value, recurrence(previous, n)], domains)
        dom.pop(previous, None)
        dom[n] = _domains.assumption_domain(n)
        if not (sp.sympify(base_at).is_Integer and isinstance(n, sp.Symbol) and n.is_integer):
            return UNPROVED, f"induction needs an integer variable and an integer base (got {n}, {base_at})"
        sample_ = checked_sample(sample, dom)
        at_base = conventional_value(closed_form.xreplace({n: base_at}))
        base = kernel.decide("=", at_base, base_value, resolve_domains([at_base, base_value], dom))
        if base.proved and not kernel.prove_defined(at_base, resolve_domains([at_base], dom)).proved:
            base = kernel.Verdict("unknown", "the closed form is not shown defined at the base")
        if not base.proved:
            finding = confirmed(base, "=", at_base, base_value, dom)
            if not finding:
                finding, _ = falsify("=", at_base, base_value, resolve_domains([at_base, base_value], dom), sample=sample_,
                                     budget=REFUTE_POINTS)
            return (REFUTED, f"base case fails at {finding.where()}: {code(finding.lhs)} ≠ {code(finding.rhs)}",
                    finding.counterexample()) if finding else (UNPROVED, f"base case not shown ({base.reason})")
        m = sp.Dummy("m", integer=True)  # n > n₀: m ∈ {n₀ + 1, n₀ + 2, …}
        later, earlier = closed_form.xreplace({n: m}), recurrence(closed_form.xreplace({n: m - 1}), m)
        where = {**{s: d for s, d in dom.items() if s != n}, m: sp.Range(int(base_at) + 1, sp.oo)}
        where = {**where, **resolve_domains([later, earlier], where)}
        step = kernel.decide("=", later, earlier, where)
        if step.proved:  # the recurrence's values are numbers: the closed form must be defined at every n > n₀
            defined_later = kernel.prove_defined(later, where)
            if not defined_later.proved:
                step = kernel.Verdict(defined_later.status, f"the closed form is not shown defined for every "
                                      f"{n} > {base_at} ({defined_later.reason})", defined_later.model)
        if step.proved:
            return PROVED, f"{kernel.CERTIFICATE_DECISION}: base case and induction step ({step.reason})"
        finding = _induction_sweep(closed_form, recurrence, base_value, base_at, n, dom, sample_) \
            or _step_sweep(closed_form, recurrence, base_at, n, dom, sample_)
        if finding:
            return refutation(finding)
        return UNPROVED, f"induction step not shown ({step.reason})"

    latex = (f"x_{{{tex(n)}}} = {tex(closed_form)}\\quad(\\text{{base }} {tex(n)}={tex(base_at)}, "
             f"\\text{{step }} {tex(n)}-1 \\to {tex(n)})")
    return guarded("induction", title, latex, check, statement=statement)
