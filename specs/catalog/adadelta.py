"""AdaDelta: Zeiler (2012), Algorithm 1, and torch.optim.Adadelta."""
from sympy import sqrt

from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, UNIT_HALF_OPEN, TORCH_NUMERICS

paper = SpecBuilder("adadelta", "AdaDelta", reference="Zeiler (2012), ADADELTA: An Adaptive Learning Rate Method, "
                    "Algorithm 1", source="docs/sources/seed-004.md §6; docs/sources/seed-000.md §2; docs/sources/seed-003.md §4.3",
                    notes="No learning rate: the step is RMS[Δθ]_{t−1}/RMS[g]_t · g, ε inside both square roots.")
rho = paper.hyper("rho", 0.95, r"\rho", UNIT_HALF_OPEN)
eps = paper.hyper("eps", 1e-6, r"\epsilon", NONNEGATIVE)
r = paper.state("r", 0, r"E[g^2]")
s = paper.state("s", 0, r"E[\Delta\theta^2]")
paper.update(r, rho * r + (1 - rho) * g**2)
delta = paper.let("delta", -sqrt(s + eps) / sqrt(r + eps) * g, r"\Delta\theta")
paper.update(s, rho * s + (1 - rho) * delta**2)
paper.update(theta, theta + delta)

torch = SpecBuilder("adadelta_torch", "AdaDelta (torch.optim.Adadelta)", reference="torch.optim.Adadelta, torch 2.13",
                    source="docs/sources/peers.md §1.4", numerics=TORCH_NUMERICS, peers=("torch.optim.Adadelta", "optax.adadelta"),
                    notes="Adds a learning rate (default 1.0) applied after the Δ² accumulation, and coupled "
                          "weight decay; ρ defaults to 0.9.")
lr = torch.hyper("lr", 1.0, r"\eta", NONNEGATIVE)
rho_ = torch.hyper("rho", 0.9, r"\rho", UNIT_HALF_OPEN)
eps_ = torch.hyper("eps", 1e-6, r"\epsilon", NONNEGATIVE)
wd = torch.hyper("weight_decay", 0.0, r"\lambda", NONNEGATIVE)
v = torch.state("v", 0)
u = torch.state("u", 0)
gd = torch.let("g_decayed", g + wd * theta, r"\tilde{g}")
torch.update(v, rho_ * v + (1 - rho_) * gd**2)
delta_ = torch.let("delta", sqrt(u + eps_) / sqrt(v + eps_) * gd, r"\Delta")
torch.update(u, rho_ * u + (1 - rho_) * delta_**2)
torch.update(theta, theta - lr * delta_)

SPECS = (paper.build(), torch.build())
