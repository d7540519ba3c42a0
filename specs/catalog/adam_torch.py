"""torch.optim.Adam (for-loop path): Adam with coupled L2 weight decay added to the gradient."""
from sympy import sqrt

from specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, UNIT_HALF_OPEN, SpecBuilder

spec = SpecBuilder("adam_torch", "Adam (torch.optim.Adam)", reference="torch.optim.Adam, torch 2.13 (amsgrad=False)",
                   source="reference/peer_semantics.md §1.5", peers=("torch.optim.Adam",),
                   notes="Identical to `adam` when weight_decay = 0; weight decay is coupled (g ← g + λθ).")
lr = spec.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
beta1 = spec.hyper("beta1", 0.9, r"\beta_1", UNIT_HALF_OPEN)
beta2 = spec.hyper("beta2", 0.999, r"\beta_2", UNIT_HALF_OPEN)
eps = spec.hyper("eps", 1e-8, r"\epsilon", NONNEGATIVE)
wd = spec.hyper("weight_decay", 0.0, r"\lambda", NONNEGATIVE)
m = spec.state("m", 0)
v = spec.state("v", 0)
gd = spec.let("g_decayed", g + wd * theta, r"\tilde{g}")
spec.update(m, beta1 * m + (1 - beta1) * gd)
spec.update(v, beta2 * v + (1 - beta2) * gd**2)
spec.update(theta, theta - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps))
SPEC = spec.build()
