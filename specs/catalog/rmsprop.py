"""RMSProp: Tieleman & Hinton (2012), lecture 6e, and torch.optim.RMSprop (plain and centered)."""
from sympy import sqrt

from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, UNIT_HALF_OPEN, TORCH_NUMERICS

paper = SpecBuilder("rmsprop", "RMSProp", reference="Tieleman & Hinton (2012), COURSERA lecture 6.5",
                    source="docs/sources/seed-004.md §5; docs/sources/seed-003.md §4.2", numerics=TORCH_NUMERICS, peers=("torch.optim.RMSprop(alpha=beta)",),
                    notes="ε outside the square root; no bias correction.")
lr = paper.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
beta = paper.hyper("beta", 0.9, r"\beta", UNIT_HALF_OPEN)
eps = paper.hyper("eps", 1e-8, r"\epsilon", NONNEGATIVE)
r = paper.state("r", 0)
paper.update(r, beta * r + (1 - beta) * g**2)
paper.update(theta, theta - lr * g / (sqrt(r) + eps))


def _rmsprop_torch(centered: bool):
    name = "rmsprop_torch_centered" if centered else "rmsprop_torch"
    spec = SpecBuilder(name, "RMSprop (torch.optim.RMSprop" + (", centered=True)" if centered else ")"),
                       reference="torch.optim.RMSprop, torch 2.13", source="docs/sources/peers.md §1.3",
                       numerics=TORCH_NUMERICS, peers=(f"torch.optim.RMSprop(centered={centered})",),
                       notes="Coupled weight decay; the momentum buffer excludes the learning rate and starts at 0.")
    lr = spec.hyper("lr", 1e-2, r"\eta", NONNEGATIVE)
    alpha = spec.hyper("alpha", 0.99, r"\alpha", UNIT_HALF_OPEN)
    eps = spec.hyper("eps", 1e-8, r"\epsilon", NONNEGATIVE)
    wd = spec.hyper("weight_decay", 0.0, r"\lambda", NONNEGATIVE)
    mu = spec.hyper("momentum", 0.0, r"\mu", NONNEGATIVE)
    v = spec.state("v", 0)
    b = spec.state("b", 0, doc="momentum buffer")
    gd = spec.let("g_decayed", g + wd * theta, r"\tilde{g}")
    spec.update(v, alpha * v + (1 - alpha) * gd**2)
    if centered:
        gbar = spec.state("g_avg", 0, r"\bar{g}")
        spec.update(gbar, gbar + (1 - alpha) * (gd - gbar))
        denominator = sqrt(v - gbar**2) + eps
    else:
        denominator = sqrt(v) + eps
    spec.update(b, mu * b + gd / denominator)
    spec.update(theta, theta - lr * b)
    return spec.build()


SPECS = (paper.build(), _rmsprop_torch(False), _rmsprop_torch(True))
