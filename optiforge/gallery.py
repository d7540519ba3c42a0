r"""The gallery (``optiforge gallery``): trajectories of the catalogue's optimizer families on two test problems.

* Rosenbrock, :math:`f(x, y) = (1 - x)^2 + 100 (y - x^2)^2` from :math:`(-1.2, 1)`: a curved valley.
* A noisy ill-conditioned quadratic, :math:`f(z) = \tfrac12 z^\top A z` with :math:`A` of condition number 50
  rotated by 30°, the gradient :math:`A z + \sigma \xi` with seeded Gaussian noise :math:`\xi` (the same noise
  for every optimizer).

Each optimizer runs the generated NumPy kernel at the learning rate, from a fixed grid, that reaches the lowest
mean loss over its last tenth of steps (optimizers without ``lr`` run at their defaults). Needs matplotlib
(``pip install 'optiforge[docs]'``); deterministic for a given matplotlib.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from optiforge.runtime import Optimizer, kernel_module

__all__ = ["FAMILIES", "PROBLEMS", "LEARNING_RATES", "render"]

#: family → the catalogue optimizers plotted together
FAMILIES: dict[str, tuple[str, ...]] = {
    "momentum": ("sgd", "momentum", "nesterov", "aggmo", "qhm"),
    "adaptive": ("adagrad", "rmsprop", "adadelta", "rprop_torch"),
    "adam": ("adam", "amsgrad", "nadam", "radam", "adamax"),
    "adam_variants": ("adabelief", "yogi", "adabound", "adamod", "diffgrad", "adan"),
    "sign": ("signsgd", "signum", "lion"),
    "composed": ("adam_torch", "lookahead_adam_torch", "lookahead_radam_torch", "madgrad", "pid_to"),
}

LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)


@dataclass(frozen=True)
class Problem:
    name: str
    title: str
    start: tuple[float, float]
    minimum: tuple[float, float]
    steps: int
    window: tuple[float, float, float, float]  # x0, x1, y0, y1
    loss: Callable[[np.ndarray, np.ndarray], np.ndarray]
    gradient: Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_gradient(z, rng):
    x, y = z
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


_ANGLE = np.deg2rad(30)
_ROTATION = np.array([[np.cos(_ANGLE), -np.sin(_ANGLE)], [np.sin(_ANGLE), np.cos(_ANGLE)]])
_HESSIAN = _ROTATION @ np.diag([1.0, 50.0]) @ _ROTATION.T
_NOISE = 2.0


def _quadratic(x, y):
    z = np.stack([x, y])
    return 0.5 * np.einsum("i...,ij,j...->...", z, _HESSIAN, z)


def _quadratic_gradient(z, rng):
    return _HESSIAN @ z + _NOISE * rng.standard_normal(2)


PROBLEMS = (
    Problem("rosenbrock", "Rosenbrock from (−1.2, 1)", (-1.2, 1.0), (1.0, 1.0), 1000, (-2.0, 2.0, -1.0, 3.0),
            _rosenbrock, _rosenbrock_gradient),
    Problem("quadratic", f"noisy quadratic, condition number 50, gradient noise σ = {_NOISE:g}", (-3.0, 2.5),
            (0.0, 0.0), 300, (-4.0, 4.0, -3.0, 3.0), _quadratic, _quadratic_gradient),
)


def _trajectory(problem: Problem, name: str, lr: float | None, steps: int) -> np.ndarray:
    """Points (steps + 1, 2) visited by optimizer ``name`` (NaN after a divergence)."""
    rng = np.random.default_rng(0)
    z = np.array(problem.start, dtype=np.float64)
    optimizer = Optimizer([z], name, **({} if lr is None else {"lr": lr}))
    points = np.full((steps + 1, 2), np.nan)
    points[0] = z
    with np.errstate(all="ignore"):
        for k in range(1, steps + 1):
            optimizer.step([problem.gradient(z, rng)])
            if not np.all(np.isfinite(z)) or np.abs(z).max() > 1e6:
                break
            points[k] = z
    return points


def _losses(problem: Problem, points: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return problem.loss(points[:, 0], points[:, 1])


def _best(problem: Problem, name: str, steps: int) -> tuple[float | None, np.ndarray]:
    """(learning rate, trajectory) with the lowest mean loss over the last tenth of the steps."""
    if "lr" not in kernel_module(name).HYPERPARAMETERS:
        return None, _trajectory(problem, name, None, steps)
    best = None
    for lr in LEARNING_RATES:
        points = _trajectory(problem, name, lr, steps)
        tail = _losses(problem, points)[-max(1, steps // 10):]
        score = float(np.mean(tail)) if np.all(np.isfinite(tail)) else np.inf
        if best is None or score < best[0]:
            best = (score, lr, points)
    return best[1], best[2]


def _figure(problem: Problem, family: str, runs: list[tuple[str, float | None, np.ndarray]]):
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    x0, x1, y0, y1 = problem.window
    grid_x, grid_y = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    surface = problem.loss(grid_x, grid_y)
    figure, (paths, curves) = plt.subplots(1, 2, figsize=(11, 4.4), dpi=90, width_ratios=(1.1, 1))
    paths.contour(grid_x, grid_y, np.log10(surface + 1e-3), levels=18, colors="0.75", linewidths=0.6)
    paths.plot(*problem.start, marker="o", color="black", markersize=5, zorder=5)
    paths.plot(*problem.minimum, marker="*", color="black", markersize=11, zorder=5)
    for (name, lr, points), color in zip(runs, plt.cm.tab10.colors):
        label = f"{name} (lr={lr:g})" if lr is not None else f"{name} (defaults)"
        paths.plot(points[:, 0], points[:, 1], color=color, linewidth=1.2, alpha=0.9, label=label)
        losses = _losses(problem, points)
        curves.semilogy(np.arange(len(losses)), np.maximum(losses, 1e-12), color=color, linewidth=1.2, label=label)
    paths.set_xlim(x0, x1)
    paths.set_ylim(y0, y1)
    paths.set_title(f"{family}: {problem.title}", fontsize=10)
    paths.set_xlabel("θ₁")
    paths.set_ylabel("θ₂")
    paths.legend(fontsize=8, loc="best")
    curves.set_title("loss", fontsize=10)
    curves.set_xlabel("step")
    curves.grid(True, which="major", color="0.9")
    figure.tight_layout()
    return figure


def render(root: Path, *, steps: int | None = None, progress=print) -> list[Path]:
    """Write ``<problem>_<family>.png`` for every problem and family into ``root``, and ``README.md`` showing
    them with the learning rates chosen; return the paths. ``steps`` overrides each problem's step count."""
    import matplotlib.pyplot as plt  # before any work: without matplotlib, fail at once

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    grid = ", ".join(f"{lr:g}" for lr in LEARNING_RATES)
    written, index = [], [
        "# Gallery", "", "<!-- Written by `optiforge gallery` (optiforge/gallery.py); do not edit. -->", "",
        "Trajectories of the catalogue's optimizer families, each run by its generated NumPy kernel, on the "
        "Rosenbrock function $f(x, y) = (1 - x)^2 + 100 (y - x^2)^2$ and on a noisy ill-conditioned quadratic "
        r"$f(z) = \tfrac12 z^\top A z$ ($A$ of condition number 50 rotated by 30°, gradient $Az + \sigma\xi$ with "
        "seeded Gaussian noise, the same for every optimizer). Each optimizer uses the learning rate from "
        f"{{{grid}}} with the lowest mean loss over its last tenth of steps; optimizers without `lr` run at their "
        "defaults. Regenerate with `optiforge gallery` (needs `pip install 'optiforge[docs]'`).", ""]
    for problem in PROBLEMS:
        count = steps or problem.steps
        index += [f"## {problem.title}, {count} steps", ""]
        for family, names in FAMILIES.items():
            progress(f"gallery: {problem.name} / {family} ({', '.join(names)})")
            runs = [(name, *_best(problem, name, count)) for name in names]
            figure = _figure(problem, family, runs)
            path = root / f"{problem.name}_{family}.png"
            figure.savefig(path, metadata={"Software": None})
            plt.close(figure)
            written.append(path)
            chosen = ", ".join(f"`{name}` lr={lr:g}" if lr is not None else f"`{name}` (defaults)"
                               for name, lr, _ in runs)
            index += [f"### {family}", "", f"![{family} on {problem.name}]({path.name})", "", chosen, ""]
    (root / "README.md").write_text("\n".join(index), encoding="utf-8")
    return [*written, root / "README.md"]
