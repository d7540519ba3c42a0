"""Yogi: Zaheer et al. (2018), as in docs/sources/seed-002.md (m₀ = v₀ = 0), and the peers' form (m₀ = v₀ = 1e-6)."""
from sympy import sign, sqrt

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import adam_hyperparameters
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, TORCH_NUMERICS, Numerics


def _yogi(spec, init):
    lr, beta1, beta2, eps = adam_hyperparameters(spec, lr=1e-2, eps=1e-3)
    if init is not None:
        init = spec.hyper("initial_accumulator", init, "v_0", NONNEGATIVE)
    m = spec.state("m", init or 0)
    v = spec.state("v", init or 0)
    spec.update(m, beta1 * m + (1 - beta1) * g)
    spec.update(v, v - (1 - beta2) * sign(v - g**2) * g**2)
    spec.update(theta, theta - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps))
    return spec.build()


paper = SpecBuilder("yogi", "Yogi", numerics=Numerics(averages="lerp"),
                    reference="Zaheer, Reddi, Sachan, Kale & Kumar (2018), Adaptive Methods for "
                    "Nonconvex Optimization, Algorithm 2", source="docs/sources/seed-002.md §3.2.2, Algorithm 7",
                    notes="v_t = v_{t−1} − (1−β₂)·sign(v_{t−1} − g²)·g²; both moments start at 0 as in docs/sources/seed-002.md "
                          "(sign(0 − g²) = −1, so the first step is Adam's). The peers start at 1e-6 (yogi_po).")
peer = SpecBuilder("yogi_po", "Yogi (pytorch_optimizer / torch_optimizer / optax)",
                   reference="pytorch_optimizer 4.1 Yogi, torch_optimizer 0.3 Yogi, optax.yogi",
                   source="docs/sources/peers.md §2.1",
                   notes="Both moments start at initial_accumulator = 1e-6; ε = 1e-3 outside √v̂.")
SPECS = (
    _yogi(paper, None),
    with_weight_decay(_yogi(peer, 1e-6), "coupled", name="yogi_po",
                      numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.Yogi(weight_decouple=False)", "torch_optimizer.Yogi", "optax.yogi"),
                      title="Yogi (pytorch_optimizer / torch_optimizer / optax)"),
)
