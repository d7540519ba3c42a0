"""AMSGrad: Reddi, Kale & Kumar (2018) as written in docs/sources/seed-002.md (max over the bias-corrected v̂), and torch's
``Adam(amsgrad=True)`` (max over the raw v, bias correction after the max), coupled and decoupled."""
from sympy import Max, sqrt

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import adam_hyperparameters, adam_moments
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import PARAM as theta, STEP as t, Numerics, TORCH_NUMERICS


paper = SpecBuilder("amsgrad", "AMSGrad (max of bias-corrected v̂)",
                    reference="Reddi, Kale & Kumar (2018), On the Convergence of Adam and Beyond, Algorithm 2, "
                              "with Adam's bias corrections as in docs/sources/seed-002.md",
                    source="docs/sources/seed-002.md §3.2.2, Algorithm 8", numerics=Numerics(averages="lerp"), peers=("optax.amsgrad",),
                    notes="v̂max_t = max(v̂max_{t−1}, v_t/(1−β₂^t)); ε outside the square root. torch takes the max "
                          "over the raw v instead (amsgrad_torch); the two are not equivalent.")
lr, beta1, beta2, eps = adam_hyperparameters(paper)
m, v = adam_moments(paper, beta1, beta2)
v_max = paper.state("v_hat_max", 0, r"\hat{v}^{\max}")
paper.update(v_max, Max(v_max, v / (1 - beta2**t)))
paper.update(theta, theta - lr * (m / (1 - beta1**t)) / (sqrt(v_max) + eps))

core = SpecBuilder("amsgrad_torch", "AMSGrad (torch.optim.Adam(amsgrad=True))",
                   reference="torch.optim.Adam(amsgrad=True), torch 2.13", source="docs/sources/peers.md §1.5, §2.8")
lr_, beta1_, beta2_, eps_ = adam_hyperparameters(core)
m_, v_ = adam_moments(core, beta1_, beta2_)
v_max_ = core.state("v_max", 0, r"v^{\max}")
core.update(v_max_, Max(v_max_, v_))
core.update(theta, theta - lr_ / (1 - beta1_**t) * m_ / (sqrt(v_max_) / sqrt(1 - beta2_**t) + eps_))
core = core.build()

SPECS = (
    paper.build(),
    with_weight_decay(core, "coupled", name="amsgrad_torch", numerics=TORCH_NUMERICS, peers=("torch.optim.Adam(amsgrad=True)",),
                      title="AMSGrad (torch.optim.Adam(amsgrad=True))",
                      notes="The max is over the raw v; the bias correction 1/√(1−β₂^t) is applied after it."),
    with_weight_decay(core, "decoupled", name="adamw_amsgrad_torch", default=1e-2,
                      numerics=TORCH_NUMERICS, peers=("torch.optim.AdamW(amsgrad=True)",), title="AMSGrad with decoupled weight decay "
                      "(torch.optim.AdamW(amsgrad=True))"),
)
