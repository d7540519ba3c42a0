"""Schedule-Free AdamW: Defazio et al. (2024), Algorithm 1, in pytorch_optimizer's form (train mode: θ is y)."""
from sympy import Float, Max, Min, Range, oo, sqrt

from optiforge.specs.builder import SpecBuilder
from optiforge.specs.common import betas, epsilon
from optiforge.specs.dsl import (GRAD as g, INITIAL_PARAM, NONNEGATIVE, PARAM as theta, POSITIVE, REAL, STEP as t,
                                 TORCH_NUMERICS)

spec = SpecBuilder("schedule_free_adamw", "Schedule-Free AdamW",
                   reference="Defazio et al. (2024), The Road Less Scheduled, Algorithm 1",
                   source="peers (pytorch_optimizer.ScheduleFreeAdamW)", numerics=TORCH_NUMERICS,
                   peers=("pytorch_optimizer.ScheduleFreeAdamW (train mode)",),
                   notes="θ is the point y where the gradient is taken; z the base iterate (z₀ = θ₀); x, the "
                         "average the paper evaluates, is (y − (1−β₁)z)/β₁. Warmup η_t = η·min(t/W, 1); the "
                         "average's weight c_t = w_t/Σw with w_t = t^r·(max η)^p. Weight decay is added to the "
                         "normalised gradient (the peer's form). 10⁻¹⁵ under the root is the peer's.")
lr = spec.hyper("lr", 2.5e-3, r"\eta", POSITIVE, "η > 0, so that every weight w_t > 0 (the peer's c = 0 when Σw = 0 "
                "never applies)")
beta1, beta2 = betas(spec, 0.9, 0.999)
weight_decay = spec.hyper("weight_decay", 0.0, r"\lambda", NONNEGATIVE)
r = spec.hyper("r", 0.0, "r", REAL, "the power of t in the averaging weights")
power = spec.hyper("weight_lr_power", 2.0, "p", REAL, "the power of the largest learning rate in the weights")
warmup = spec.hyper("warmup_steps", 0, "W", Range(0, oo), "linear warmup steps (0: none)")
eps = epsilon(spec, 1e-8)
z = spec.state("z", INITIAL_PARAM, "z", "the base iterate")
v = spec.state("v", 0)
lr_max = spec.scalar_state("lr_max", -1, r"\eta_{\max}", "the largest learning rate so far")
weight_sum = spec.scalar_state("weight_sum", 0, r"\Sigma w", "the sum of the averaging weights")
# min(t/max(W, 1), 1): the peer's t/W while t < W, else 1 (no division by W = 0)
rate = spec.let("rate", lr * Min(t / Max(warmup, 1), 1), r"\eta_t")
spec.update(lr_max, Max(rate, lr_max))
weight = spec.let("weight", t**r * lr_max**power, "w_t")
spec.update(weight_sum, weight_sum + weight)
c = spec.let("c", weight / weight_sum, "c_t")
spec.update(v, beta2 * v + (1 - beta2) * g**2)
# the peer's √(v/(1 − β₂ᵗ) + 10⁻¹⁵) with the bias correction outside the root, as the kernels compute it
u = spec.let("u", g / (sqrt(v + Float(1e-15) * (1 - beta2**t)) / sqrt(1 - beta2**t) + eps) + weight_decay * theta,
             "u")
spec.update(theta, theta + c * (z - theta))
spec.update(theta, theta + rate * (beta1 * (1 - c) - 1) * u)
spec.update(z, z - rate * u)
SPEC = spec.build()
