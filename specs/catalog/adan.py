"""Adan: Xie et al. (2022/2024), Algorithm 1 with the official code's restart-free form (pytorch_optimizer.Adan)."""
from sympy import sqrt

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import betas, epsilon, learning_rate
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, UNIT_HALF_OPEN, TORCH_NUMERICS


def _adan(name, proximal):
    spec = SpecBuilder(name, "Adan", reference="Xie, Zhou, Li, Lin & Yan (2024), Adan: Adaptive Nesterov Momentum "
                       "Algorithm for Faster Optimizing Deep Models, Algorithm 1 (official code)",
                       source="peers (pytorch_optimizer.Adan)",
                       numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.Adan(weight_decouple=False)",) if proximal else (),
                       notes="β's are EMA factors (the paper's 1−β): d_t = g_t − g_{t−1} with d₁ = 0; "
                             "n ← β₃n + (1−β₃)(g + β₂d)²; bias-corrected steps on m and on the difference EMA. "
                             "Weight decay is the paper's proximal θ/(1+ηλ). optax.adan uses the coefficient 1−β₂ "
                             "instead of β₂ (a known bug) and is not matched.")
    lr = learning_rate(spec)
    beta1, beta2 = betas(spec, 0.98, 0.92)
    beta3 = spec.hyper("beta3", 0.99, r"\beta_3", UNIT_HALF_OPEN)
    eps = epsilon(spec)
    wd = spec.hyper("weight_decay", 0.0, r"\lambda", NONNEGATIVE) if proximal else 0
    m = spec.state("m", 0)
    v = spec.state("v", 0, doc="EMA of gradient differences")
    n = spec.state("n_ema", 0, "n")
    prev = spec.state("g_prev", g, r"g_{t-1}", doc="previous gradient (g₁ at the first step, so d₁ = 0)")
    d = spec.let("d", g - prev, "d")
    spec.update(m, beta1 * m + (1 - beta1) * g)
    spec.update(v, beta2 * v + (1 - beta2) * d)
    spec.update(n, beta3 * n + (1 - beta3) * (g + beta2 * d)**2)
    denominator = spec.let("denominator", sqrt(n) / sqrt(1 - beta3**t) + eps, r"\delta")
    step = theta - lr / (1 - beta1**t) * m / denominator - lr * beta2 / (1 - beta2**t) * v / denominator
    spec.update(theta, step / (1 + lr * wd))
    spec.update(prev, g)
    return spec.build()


SPECS = (
    _adan("adan", True),
    with_weight_decay(_adan("adanw", False), "decoupled", name="adanw", title="Adan with decoupled weight decay",
                      numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.Adan(weight_decouple=True)",)),
)
