"""Spec combinators: new validated :class:`~specs.dsl.OptimizerSpec` objects built from any spec.

* :func:`with_weight_decay` adds weight decay, coupled (L2: ``g ← g + λθ`` before everything else) or decoupled
  (``θ ← θ(1 − ηλ)`` before the inner step, the torch ``AdamW`` form), so AdamW, NAdamW, LionW … are compositions.
* :func:`lookahead` wraps any spec in Lookahead (Zhang et al., 2019): slow weights φ (state, ``init=PARAM``),
  synchronised every ``k`` steps with ``θ ← φ + α(θ − φ); φ ← θ``.

Names introduced by a combinator that clash with a name of the inner spec are prefixed (``wd_``, ``lookahead_``).
"""
from __future__ import annotations

import sympy as sp

from .dsl import (GRAD, NONNEGATIVE, PARAM, POSITIVE_INTEGER, STEP, UNIT_CLOSED, Assignment, Hyperparameter,
                  Numerics, OptimizerSpec, SpecError, State, normal_domain_assumptions)
from .validate import validate

__all__ = ["with_weight_decay", "lookahead"]


def _fresh(spec: OptimizerSpec, name: str, prefix: str) -> str:
    taken = {s.name for s in spec.symbols()}
    while name in taken:
        name = prefix + name
    return name


def _hyper(name: str, default, latex: str, domain: sp.Set, doc: str = "") -> Hyperparameter:
    return Hyperparameter(sp.Symbol(name, **normal_domain_assumptions(domain)), default, latex, domain, doc)


def _rebuild(spec: OptimizerSpec, *, name, title, reference, source, notes, peers, numerics, hyperparameters,
             state, temporaries, assignments) -> OptimizerSpec:
    """The composed spec, validated; ``numerics`` None keeps the inner spec's."""
    return validate(OptimizerSpec(name, title, reference, source, tuple(hyperparameters), tuple(state),
                                  dict(temporaries), tuple(assignments), notes, tuple(peers),
                                  spec.numerics if numerics is None else numerics, spec.inputs))


def with_weight_decay(spec: OptimizerSpec, mode: str = "decoupled", *, name: str | None = None,
                      default: float = 0.0, title: str | None = None, reference: str | None = None,
                      source: str | None = None, peers: tuple[str, ...] = (), notes: str = "",
                      numerics: Numerics | None = None) -> OptimizerSpec:
    r"""``spec`` with weight decay λ (hyperparameter ``weight_decay``, default ``default``); ``numerics``
    (default: ``spec``'s) says how its kernels evaluate non-finite values (:class:`~specs.dsl.Numerics`).

    ``mode="coupled"``: the gradient is replaced everywhere by :math:`\tilde g = g + \lambda\theta_{t-1}` (L2).
    ``mode="decoupled"``: :math:`\theta \leftarrow \theta(1 - \eta\lambda)` runs before the inner assignments, so the
    inner step reads the decayed parameters (torch AdamW / NAdam / RAdam ``decoupled_weight_decay=True``, po
    ``weight_decouple=True``). It needs an ``lr`` hyperparameter; ``mode="decoupled_fixed"`` uses
    :math:`\theta(1-\lambda)` instead (po ``fixed_decay=True``).
    """
    if mode not in ("coupled", "decoupled", "decoupled_fixed"):
        raise SpecError(f"with_weight_decay({spec.name!r}): mode must be 'coupled', 'decoupled' or "
                        f"'decoupled_fixed', not {mode!r}")
    wd = _hyper(_fresh(spec, "weight_decay", "wd_"), default, r"\lambda", NONNEGATIVE, "weight decay")
    assignments = list(spec.assignments)
    temporaries = dict(spec.temporaries)
    if mode == "coupled":
        if any(isinstance(s.init, sp.Basic) and GRAD in s.init.free_symbols for s in spec.state):
            raise SpecError(f"with_weight_decay({spec.name!r}, 'coupled'): state initialised from the first "
                            "gradient would see the raw gradient; write the first step as a Piecewise on t instead")
        gd = sp.Symbol(_fresh(spec, "g_decayed", "wd_"), real=True)
        temporaries[gd] = r"\tilde{g}"
        assignments = [Assignment(gd, GRAD + wd.symbol * PARAM)] + [
            Assignment(a.target, a.value.xreplace({GRAD: gd})) for a in assignments]
        how = "coupled L2 weight decay g ← g + λθ"
    else:
        if mode == "decoupled":
            try:
                lr = spec.hyper("lr").symbol
            except KeyError:
                raise SpecError(f"with_weight_decay({spec.name!r}, 'decoupled'): the spec has no 'lr' "
                                "hyperparameter; use mode='decoupled_fixed'") from None
            factor = 1 - lr * wd.symbol
            how = "decoupled weight decay θ ← θ(1 − ηλ) before the step"
        else:
            factor = 1 - wd.symbol
            how = "decoupled weight decay θ ← θ(1 − λ) before the step"
        assignments = [Assignment(PARAM, PARAM * factor)] + assignments
    suffix = {"coupled": "_l2", "decoupled": "w", "decoupled_fixed": "_wfixed"}[mode]
    return _rebuild(
        spec, name=name or spec.name + suffix, title=title or f"{spec.title} + {how}",
        reference=reference or spec.reference, source=source or spec.source,
        notes=((notes or spec.notes) + " " if (notes or spec.notes) else "")
        + f"Composition: with_weight_decay({spec.name}, {mode!r}).",
        peers=peers, numerics=numerics, hyperparameters=spec.hyperparameters + (wd,), state=spec.state, temporaries=temporaries,
        assignments=assignments)


#: Lookahead synchronisation schedules: the condition (on t and k) under which step t ends with a sync.
SCHEDULES = {
    # Zhang et al. (2019) Algorithm 1, pytorch_optimizer, optax: after inner steps t = k, 2k, ...; φ_0 = θ_0.
    "paper": lambda t, k: sp.Eq(sp.Mod(t, k), 0),
    # torch_optimizer 0.3: after inner steps t = 1, 1+k, 1+2k, ...; φ is set to θ_1 at the first sync.
    "to": lambda t, k: sp.Eq(sp.Mod(t - 1, k), 0),
}


def lookahead(spec: OptimizerSpec, k: int = 5, alpha: float = 0.5, schedule: str = "paper", *,
              name: str | None = None, peers: tuple[str, ...] = (), notes: str = "",
              numerics: Numerics | None = None) -> OptimizerSpec:
    r"""Lookahead over ``spec``: after the inner step, on sync steps :math:`\theta \leftarrow \phi + \alpha(\theta-\phi)`
    and :math:`\phi \leftarrow \theta`. ``k`` and ``alpha`` become hyperparameters with these defaults;
    ``numerics`` (default: ``spec``'s) as in :func:`with_weight_decay`.

    ``schedule="paper"`` syncs after t = k, 2k, … with φ₀ = θ₀; ``schedule="to"`` (torch_optimizer) syncs after
    t = 1, 1+k, … and anchors φ at θ₁ (the first sync is a no-op interpolation).
    """
    if schedule not in SCHEDULES:
        raise SpecError(f"lookahead({spec.name!r}): schedule must be one of {sorted(SCHEDULES)}, not {schedule!r}")
    kk = _hyper(_fresh(spec, "k", "lookahead_"), k, "k", POSITIVE_INTEGER, "synchronisation period")
    aa = _hyper(_fresh(spec, "alpha", "lookahead_"), alpha, r"\alpha_{\mathrm{la}}", UNIT_CLOSED, "slow step size")
    slow = State(sp.Symbol(_fresh(spec, "slow", "lookahead_"), real=True), PARAM, r"\phi", False, "slow weights")
    sync = SCHEDULES[schedule](STEP, kk.symbol)
    phi, th = slow.symbol, PARAM
    # Each peer's own arithmetic, so that NaN and inf land alike: pytorch_optimizer's torch.lerp(θ, φ, 1 − α)
    # (θ + (1 − α)(φ − θ) for 1 − α < 1/2, else φ − α(φ − θ)); torch_optimizer's θα + φ(1 − α).
    a = aa.symbol
    if schedule == "paper":
        interpolate = sp.Piecewise((th + (1 - a) * (phi - th), a > sp.Rational(1, 2)), (phi - a * (phi - th), True))
    else:
        interpolate = th * a + phi * (1 - a)
    if schedule == "to":
        new_theta = sp.Piecewise((th, sp.Eq(STEP, 1)), (interpolate, sync), (th, True))
    else:
        new_theta = sp.Piecewise((interpolate, sync), (th, True))
    assignments = list(spec.assignments) + [Assignment(PARAM, new_theta),
                                            Assignment(phi, sp.Piecewise((th, sync), (phi, True)))]
    default_name = f"lookahead_{spec.name}" + ("" if schedule == "paper" else f"_{schedule}")
    return _rebuild(
        spec, name=name or default_name, title=f"Lookahead({spec.title})",
        reference="Zhang, Lucas, Hinton & Ba (2019), Lookahead Optimizer: k steps forward, 1 step back, "
                  f"Algorithm 1; inner: {spec.reference}",
        source="docs/sources/seed-002.md §3.2.3, Algorithm 15", peers=peers, numerics=numerics,
        notes=(notes + " " if notes else "") + f"Composition: lookahead({spec.name}, schedule={schedule!r}).",
        hyperparameters=spec.hyperparameters + (kk, aa), state=spec.state + (slow,),
        temporaries=spec.temporaries, assignments=assignments)
