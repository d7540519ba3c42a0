"""Nadam and NadaMax: Dozat (2016) with a constant momentum, and torch.optim.NAdam's μ_t schedule."""
from sympy import Abs, Max, Rational, sqrt

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import adam_hyperparameters, betas, ema_update, epsilon, learning_rate
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, Numerics, TORCH_NUMERICS


def _moments(spec, second: str):
    lr = learning_rate(spec, 2e-3 if spec.name != "nadam" else 1e-3)
    beta1, beta2 = betas(spec)
    m = spec.state("m", 0)
    spec.update(m, beta1 * m + (1 - beta1) * g)
    m_bar = spec.let("m_bar", beta1 * m / (1 - beta1**(t + 1)) + (1 - beta1) * g / (1 - beta1**t), r"\bar{m}")
    v = spec.state(second, 0)
    return lr, beta1, beta2, m_bar, v


nadam = SpecBuilder("nadam", "Nadam", reference="Dozat (2016), Incorporating Nesterov Momentum into Adam, "
                    "Algorithm 2 with constant μ_t = β₁", source="docs/sources/seed-004.md §9; docs/sources/seed-001.md; docs/sources/seed-003.md §4.6",
                    numerics=Numerics(averages="lerp"), peers=("optax.nadam", "torch.optim.NAdam(momentum_decay→∞)"),
                    notes="m̄ = β₁m_t/(1−β₁^{t+1}) + (1−β₁)g_t/(1−β₁^t); docs/sources/seed-004.md writes 1−β₁^t in the first "
                          "term (see derive/).")
lr, beta1, beta2, m_bar, v = _moments(nadam, "v")
eps = epsilon(nadam)
nadam.update(v, beta2 * v + (1 - beta2) * g**2)
v_hat = nadam.let("v_hat", v / (1 - beta2**t), r"\hat{v}")
nadam.update(theta, theta - lr * m_bar / (sqrt(v_hat) + eps))

nadamax = SpecBuilder("nadamax", "NadaMax", numerics=Numerics(averages="lerp"),
                      reference="Dozat (2016) §3 (Nesterov momentum with AdaMax's "
                      "infinity norm)", source="docs/sources/seed-004.md §10",
                      notes="Nadam's m̄ over AdaMax's u_t = max(β₂u_{t−1}, |g_t|); no ε, as in AdaMax.")
lr_x, beta1_x, beta2_x, m_bar_x, u = _moments(nadamax, "u")
nadamax.update(u, Max(beta2_x * u, Abs(g)))
nadamax.update(theta, theta - lr_x * m_bar_x / u)

core = SpecBuilder("nadam_torch", "NAdam (torch.optim.NAdam)", reference="torch.optim.NAdam, torch 2.13; "
                   "Dozat (2016) with the μ_t = β₁(1 − ½·0.96^{tψ}) schedule",
                   source="docs/sources/peers.md §1.8",
                   notes="Keeps the running product Π_t = ∏μ_i as scalar state (torch stores it in the default "
                         "dtype); momentum_decay = 0 gives μ = β₁/2, not plain Nadam.")
lr_t, beta1_t, beta2_t, eps_t = adam_hyperparameters(core, lr=2e-3)
psi = core.hyper("momentum_decay", 4e-3, r"\psi", NONNEGATIVE)
mu_product = core.scalar_state("mu_product", 1, r"\Pi")
m_t = core.state("m", 0)
v_t = core.state("v", 0)
mu = core.let("mu", beta1_t * (1 - Rational(1, 2) * Rational(96, 100)**(t * psi)), r"\mu_t")
mu_next = core.let("mu_next", beta1_t * (1 - Rational(1, 2) * Rational(96, 100)**((t + 1) * psi)), r"\mu_{t+1}")
core.update(mu_product, mu_product * mu)
ema_update(core, m_t, beta1_t, g)
ema_update(core, v_t, beta2_t, g**2)
denominator = core.let("d", sqrt(v_t / (1 - beta2_t**t)) + eps_t, "d")
core.update(theta, theta - lr_t * (1 - mu) / (1 - mu_product) * g / denominator
            - lr_t * mu_next / (1 - mu_product * mu_next) * m_t / denominator)
core = core.build()

SPECS = (nadam.build(), nadamax.build(),
         with_weight_decay(core, "coupled", name="nadam_torch", title="NAdam (torch.optim.NAdam)",
                           numerics=TORCH_NUMERICS, peers=("torch.optim.NAdam",)),
         with_weight_decay(core, "decoupled", name="nadamw_torch",
                           title="NAdamW (torch.optim.NAdam(decoupled_weight_decay=True))",
                           numerics=TORCH_NUMERICS, peers=("torch.optim.NAdam(decoupled_weight_decay=True)",)))
