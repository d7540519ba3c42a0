"""Per-parameter step counters and scalar state of one param group, as 0-d views of one CPU tensor each.

``state[p]["step"]`` is a float32 CPU tensor, as in torch (reading it never synchronises a device); with one
tensor behind a group's counters, a step advances them all with one operation instead of one per parameter.
"""
from __future__ import annotations

import torch

__all__ = ["GroupCounters"]


class GroupCounters:
    """``steps[k]`` and ``scalars[name][k]`` for the group's ``k``-th parameter."""

    def __init__(self, size: int, scalar_names: tuple):
        self.size = size
        self.steps = torch.zeros(size, dtype=torch.float32)
        self._steps = self.steps.numpy()  # the same memory: counting through NumPy costs a microsecond, not ten
        self.scalars = {name: torch.zeros(size, dtype=torch.float64) for name in scalar_names}

    def entry(self, k: int) -> dict:
        """Fresh state entries of parameter ``k``: step 0, scalars 0 (written at its first step)."""
        self.steps[k] = 0
        for values in self.scalars.values():
            values[k] = 0
        return {"step": self.steps[k], **{name: values[k] for name, values in self.scalars.items()}}

    def _index(self, positions: list[int]):
        return slice(None) if len(positions) == self.size else torch.tensor(positions)

    def uniform(self, positions: list[int]) -> bool:
        """Do parameters ``positions`` share one step count and one value of every scalar state?"""
        index = self._index(positions)
        return all(bool((values[index] == values[positions[0]]).all())
                   for values in (self.steps, *self.scalars.values()))

    def advance(self, positions: list[int], scalars: dict[str, list[float]]) -> None:
        """Count one step of parameters ``positions`` and store their new scalar state."""
        if len(positions) == self.size:
            self._steps += 1
        else:
            self._steps[list(positions)] += 1
        if not scalars:
            return
        index = self._index(positions)
        for name, values in scalars.items():
            self.scalars[name][index] = torch.tensor(values, dtype=torch.float64)
