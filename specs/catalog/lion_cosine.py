"""Lion with a cosine learning-rate schedule (Loshchilov & Hutter's SGDR annealing, one period), written with cos."""
from sympy import Min, cos, pi, sign

from optiforge.specs.builder import SpecBuilder
from optiforge.specs.common import betas, learning_rate
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, POSITIVE, STEP as t, TORCH_NUMERICS

spec = SpecBuilder("lion_cosine", "Lion with a cosine learning-rate schedule",
                   reference="Chen et al. (2023), Symbolic Discovery of Optimization Algorithms, Algorithm 2; "
                   "Loshchilov & Hutter (2017), SGDR, eq. (5)", source="peers (pytorch_optimizer.Lion, "
                   "torch.optim.lr_scheduler.CosineAnnealingLR)", numerics=TORCH_NUMERICS,
                   peers=("pytorch_optimizer.Lion(weight_decay=0) with CosineAnnealingLR(T_max, eta_min) stepped "
                          "after each step",),
                   notes="η_t = η_min + (η − η_min)·(1 + cos(π·min(t − 1, T)/T))/2: the learning rate of step t is "
                         "the one CosineAnnealingLR gives after t − 1 scheduler steps, held at η_min after T.")
lr = learning_rate(spec, 1e-4)
lr_min = spec.hyper("lr_min", 0.0, r"\eta_{\min}", NONNEGATIVE, "the final learning rate")
total = spec.hyper("total_steps", 1000.0, "T", POSITIVE, "the steps over which the rate anneals")
beta1, beta2 = betas(spec, 0.9, 0.99)
m = spec.state("m", 0)
rate = spec.let("rate", lr_min + (lr - lr_min) * (1 + cos(pi * Min(t - 1, total) / total)) / 2, r"\eta_t")
c = spec.let("c", beta1 * m + (1 - beta1) * g, "c")
spec.update(theta, theta - rate * sign(c))
spec.update(m, beta2 * m + (1 - beta2) * g)
SPEC = spec.build()
