"""AdaMax: Kingma & Ba (2015), Algorithm 2, and torch.optim.Adamax."""
from sympy import Abs, Max

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import adam_hyperparameters, betas, learning_rate
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, PARAM as theta, STEP as t, Numerics, TORCH_NUMERICS

paper = SpecBuilder("adamax", "AdaMax", numerics=Numerics(averages="lerp"),
                    reference="Kingma & Ba (2015), Algorithm 2 (§7.1)",
                    source="docs/sources/seed-004.md §8, eqs. (6.2)-(6.3); docs/sources/seed-003.md §4.5",
                    notes="No ε: u_t = max(β₂u_{t−1}, |g_t|) is 0 while all gradients are 0.")
lr = learning_rate(paper, 2e-3)
beta1, beta2 = betas(paper)
m = paper.state("m", 0)
u = paper.state("u", 0)
paper.update(m, beta1 * m + (1 - beta1) * g)
paper.update(u, Max(beta2 * u, Abs(g)))
paper.update(theta, theta - lr / (1 - beta1**t) * m / u)

core = SpecBuilder("adamax_torch", "AdaMax (torch.optim.Adamax)", reference="torch.optim.Adamax, torch 2.13",
                   source="docs/sources/peers.md §1.7; docs/sources/seed-003.md §4.5 (code: |g| + ε)")
lr_, beta1_, beta2_, eps = adam_hyperparameters(core, lr=2e-3)
m_ = core.state("m", 0)
u_ = core.state("u", 0)
core.update(m_, beta1_ * m_ + (1 - beta1_) * g)
core.update(u_, Max(beta2_ * u_, Abs(g) + eps))
core.update(theta, theta - lr_ / (1 - beta1_**t) * m_ / u_)
core = core.build()

SPECS = (paper.build(),
         with_weight_decay(core, "coupled", name="adamax_torch", title="AdaMax (torch.optim.Adamax)",
                           numerics=TORCH_NUMERICS, peers=("torch.optim.Adamax", "optax.adamax"),
                           notes="ε inside the max (|g| + ε, as in docs/sources/seed-003.md's code) and coupled weight decay."),
         with_weight_decay(core, "decoupled", name="adamaxw", default=1e-4,
                           title="AdaMax with decoupled weight decay (optax.adamaxw)", numerics=Numerics(averages="lerp"), peers=("optax.adamaxw",),
                           notes="optax.adamaxw: u = m̂/ν + λθ, θ ← θ − ηu ≡ θ(1−ηλ) − ηm̂/ν."))
