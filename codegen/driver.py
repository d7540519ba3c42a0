"""Lower a spec and run the pass pipeline, keeping every stage for inspection."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from optiforge.specs.dsl import OptimizerSpec

from .ir import KernelIR, lower
from .names import display_names
from .passes import PIPELINE

__all__ = ["Lowered", "lower_and_optimize"]


@dataclass(frozen=True)
class Lowered:
    """The final IR plus each stage: ``stages[0]`` is the unoptimised IR, then one per pass."""

    ir: KernelIR
    stages: tuple[tuple[str, KernelIR], ...]

    @functools.cached_property
    def names(self) -> dict[sp.Symbol, str]:
        """The names the emitted code prints for the final IR's symbols (:func:`~.names.display_names`)."""
        return display_names(self.ir)


def lower_and_optimize(spec: OptimizerSpec, passes=PIPELINE) -> Lowered:
    """``spec`` lowered and run through ``passes`` (the standard pipeline's result is cached per spec: every
    backend renders from the same IR)."""
    return _pipeline(spec) if passes is PIPELINE else _run(spec, passes)


@functools.lru_cache(maxsize=64)
def _pipeline(spec: OptimizerSpec) -> Lowered:
    return _run(spec, PIPELINE)


def _run(spec: OptimizerSpec, passes) -> Lowered:
    ir = lower(spec)
    stages = [("lower", ir)]
    for name, apply in passes:
        ir = apply(ir)
        stages.append((name, ir))
    return Lowered(ir, tuple(stages))
