"""Declarations shared by the Adam family of specs (boilerplate only).

Each helper appends to a :class:`~specs.builder.SpecBuilder` exactly the declarations or assignments a spec would
otherwise write out, in the same order, so a spec built with them is identical to the written-out one. The lines
that distinguish an optimizer (its step, its own moments) stay in its catalogue file.
"""
from __future__ import annotations

from .builder import SpecBuilder
from .dsl import GRAD, NONNEGATIVE, UNIT_HALF_OPEN

__all__ = ["learning_rate", "betas", "epsilon", "adam_hyperparameters", "ema_update", "adam_moments"]


def learning_rate(spec: SpecBuilder, default: float = 1e-3, latex: str = r"\eta"):
    """``lr``: the step size η ≥ 0."""
    return spec.hyper("lr", default, latex, NONNEGATIVE)


def betas(spec: SpecBuilder, beta1: float = 0.9, beta2: float = 0.999):
    """``beta1``, ``beta2``: the decay rates β₁, β₂ ∈ [0, 1) of the first and second moments."""
    return (spec.hyper("beta1", beta1, r"\beta_1", UNIT_HALF_OPEN),
            spec.hyper("beta2", beta2, r"\beta_2", UNIT_HALF_OPEN))


def epsilon(spec: SpecBuilder, default: float = 1e-8, domain=NONNEGATIVE):
    """``eps``: the ε added for numerical stability."""
    return spec.hyper("eps", default, r"\epsilon", domain)


def adam_hyperparameters(spec: SpecBuilder, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                         eps: float = 1e-8, *, lr_latex: str = r"\eta", eps_domain=NONNEGATIVE):
    """Adam's hyperparameters in Adam's order: ``lr``, ``beta1``, ``beta2``, ``eps``; returns their symbols."""
    lr_ = learning_rate(spec, lr, lr_latex)
    beta1_, beta2_ = betas(spec, beta1, beta2)
    return lr_, beta1_, beta2_, epsilon(spec, eps, eps_domain)


def ema_update(spec: SpecBuilder, state, beta, value) -> None:
    """``state ← β·state + (1 − β)·value``: an exponential moving average."""
    spec.update(state, beta * state + (1 - beta) * value)


def adam_moments(spec: SpecBuilder, beta1, beta2, *, v_init=0):
    """Adam's moments: declares ``m`` (m₀ = 0) and ``v`` (v₀ = ``v_init``), then
    ``m ← β₁m + (1−β₁)g`` and ``v ← β₂v + (1−β₂)g²``; returns ``(m, v)``."""
    m = spec.state("m", 0)
    v = spec.state("v", v_init)
    ema_update(spec, m, beta1, GRAD)
    ema_update(spec, v, beta2, GRAD**2)
    return m, v
