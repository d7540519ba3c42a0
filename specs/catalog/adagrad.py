"""AdaGrad: Duchi, Hazan & Singer (2011), diagonal form, and torch.optim.Adagrad."""
from sympy import sqrt

from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, TORCH_NUMERICS

paper = SpecBuilder("adagrad", "AdaGrad", reference="Duchi, Hazan & Singer (2011), diagonal AdaGrad",
                    source="docs/sources/seed-004.md §4, eqs. (2.1)-(2.2)", numerics=TORCH_NUMERICS, peers=("torch.optim.Adagrad (defaults)",),
                    notes="ε outside the square root, accumulator starts at 0.")
lr = paper.hyper("lr", 1e-2, r"\eta", NONNEGATIVE)
eps = paper.hyper("eps", 1e-10, r"\epsilon", NONNEGATIVE)
r = paper.state("r", 0)
paper.update(r, r + g**2)
paper.update(theta, theta - lr * g / (eps + sqrt(r)))

torch = SpecBuilder("adagrad_torch", "AdaGrad (torch.optim.Adagrad)", reference="torch.optim.Adagrad, torch 2.13",
                    source="docs/sources/peers.md §1.2", numerics=TORCH_NUMERICS, peers=("torch.optim.Adagrad",),
                    notes="Learning-rate decay η/(1+(t−1)·lr_decay), coupled weight decay, accumulator starting "
                          "at initial_accumulator_value, ε outside the square root.")
lr_ = torch.hyper("lr", 1e-2, r"\eta", NONNEGATIVE)
lr_decay = torch.hyper("lr_decay", 0.0, r"\delta", NONNEGATIVE)
wd = torch.hyper("weight_decay", 0.0, r"\lambda", NONNEGATIVE)
r0 = torch.hyper("initial_accumulator_value", 0.0, "r_0", NONNEGATIVE)
eps_ = torch.hyper("eps", 1e-10, r"\epsilon", NONNEGATIVE)
s = torch.state("sum", r0, "s")
gd = torch.let("g_decayed", g + wd * theta, r"\tilde{g}")
torch.update(s, s + gd**2)
torch.update(theta, theta - lr_ / (1 + (t - 1) * lr_decay) * gd / (sqrt(s) + eps_))

SPECS = (paper.build(), torch.build())
