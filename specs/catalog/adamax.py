"""AdaMax: Kingma & Ba (2015), Algorithm 2, and torch.optim.Adamax."""
from sympy import Abs, Max

from specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, UNIT_HALF_OPEN, SpecBuilder

paper = SpecBuilder("adamax", "AdaMax", reference="Kingma & Ba (2015), Algorithm 2 (§7.1)",
                    source="seed 004 §8, eqs. (6.2)-(6.3); seed 003 §3.6",
                    notes="No ε: u_t = max(β₂u_{t−1}, |g_t|) is 0 while all gradients are 0.")
lr = paper.hyper("lr", 2e-3, r"\eta", NONNEGATIVE)
beta1 = paper.hyper("beta1", 0.9, r"\beta_1", UNIT_HALF_OPEN)
beta2 = paper.hyper("beta2", 0.999, r"\beta_2", UNIT_HALF_OPEN)
m = paper.state("m", 0)
u = paper.state("u", 0)
paper.update(m, beta1 * m + (1 - beta1) * g)
paper.update(u, Max(beta2 * u, Abs(g)))
paper.update(theta, theta - lr / (1 - beta1**t) * m / u)

torch = SpecBuilder("adamax_torch", "AdaMax (torch.optim.Adamax)", reference="torch.optim.Adamax, torch 2.13",
                    source="reference/peer_semantics.md §1.7", peers=("torch.optim.Adamax", "optax.adamax"),
                    notes="ε inside the max (|g| + ε) and coupled weight decay.")
lr_ = torch.hyper("lr", 2e-3, r"\eta", NONNEGATIVE)
beta1_ = torch.hyper("beta1", 0.9, r"\beta_1", UNIT_HALF_OPEN)
beta2_ = torch.hyper("beta2", 0.999, r"\beta_2", UNIT_HALF_OPEN)
eps = torch.hyper("eps", 1e-8, r"\epsilon", NONNEGATIVE)
wd = torch.hyper("weight_decay", 0.0, r"\lambda", NONNEGATIVE)
m_ = torch.state("m", 0)
u_ = torch.state("u", 0)
gd = torch.let("g_decayed", g + wd * theta, r"\tilde{g}")
torch.update(m_, beta1_ * m_ + (1 - beta1_) * gd)
torch.update(u_, Max(beta2_ * u_, Abs(gd) + eps))
torch.update(theta, theta - lr_ / (1 - beta1_**t) * m_ / u_)

SPECS = (paper.build(), torch.build())
