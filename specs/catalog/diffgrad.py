"""diffGrad: Dubey et al. (2020), paper form (docs/sources/seed-002.md), and the 'efficient Adam' form of the implementations."""
from sympy import Abs, exp, sqrt

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import adam_hyperparameters, ema_update
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import (GRAD as g, PARAM as theta, STEP as t, TORCH_NUMERICS, TORCH_OPTIMIZER_NUMERICS, Numerics)


def _diffgrad(name, title, form, notes, peers=(), numerics=Numerics()):
    spec = SpecBuilder(name, title, reference="Dubey et al. (2020), diffGrad: An Optimization Method for "
                       "Convolutional Neural Networks, Algorithm 1", source="docs/sources/seed-002.md §3.2.2, Algorithm 10",
                       notes=notes, peers=peers, numerics=numerics)
    lr, beta1, beta2, eps = adam_hyperparameters(spec)
    m = spec.state("m", 0)
    v = spec.state("v", 0)
    prev = spec.state("g_prev", 0, r"g_{t-1}")
    xi = spec.let("xi", 1 / (1 + exp(-Abs(prev - g))), r"\xi")
    ema_update(spec, m, beta1, g)
    ema_update(spec, v, beta2, g**2)
    spec.update(prev, g)
    if form == "paper":
        spec.update(theta, theta - lr * xi * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps))
    else:
        root = sqrt(v + 1e-15) if form == "po" else sqrt(v)
        spec.update(theta, theta - lr * sqrt(1 - beta2**t) / (1 - beta1**t) * xi * m / (root + eps))
    return spec.build()


SPECS = (
    _diffgrad("diffgrad", "diffGrad", "paper", "ξ_t = AbsSig(g_{t−1} − g_t) with g₀ = 0, applied to Adam's m̂/(√v̂+ε).",
              numerics=Numerics(averages="lerp")),
    with_weight_decay(
        _diffgrad("diffgrad_to", "diffGrad (torch_optimizer)", "to",
                  "Efficient-Adam form η√(1−β₂^t)/(1−β₁^t)·ξm/(√v+ε): ε acts as ε√(1−β₂^t) in paper terms."),
        "coupled", name="diffgrad_to", numerics=TORCH_OPTIMIZER_NUMERICS, peers=("torch_optimizer.DiffGrad",), title="diffGrad (torch_optimizer)"),
    with_weight_decay(
        _diffgrad("diffgrad_po", "diffGrad (pytorch_optimizer)", "po",
                  "As diffgrad_to with √(v + 1e-15) (pytorch_optimizer's apply_ams_bound)."),
        "decoupled", name="diffgrad_po", numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.DiffGrad",), title="diffGrad (pytorch_optimizer)"),
)
