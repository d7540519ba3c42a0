"""RAdam: Liu et al. (2020). The paper rectifies when ρ_t > 4 (docs/sources/seed-002.md Algorithm 14); torch and the official code
when ρ_t > 5 with ε on √v (not √v̂); pytorch_optimizer (default) does not move θ at all before rectification."""
from sympy import Max, Piecewise, sqrt

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import adam_hyperparameters, adam_moments
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import NONNEGATIVE, PARAM as theta, STEP as t, TORCH_NUMERICS, Numerics


def _radam(name, title, form, notes, peers=(), numerics=Numerics()):
    spec = SpecBuilder(name, title, reference="Liu et al. (2020), On the Variance of the Adaptive Learning Rate and "
                       "Beyond, Algorithm 2", source="docs/sources/seed-002.md §3.2.3, Algorithm 14", notes=notes, peers=peers, numerics=numerics)
    lr, beta1, beta2, eps = adam_hyperparameters(spec)
    m, v = adam_moments(spec, beta1, beta2)
    m_hat = spec.let("m_hat", m / (1 - beta1**t), r"\hat{m}")
    rho_inf = spec.let("rho_inf", 2 / (1 - beta2) - 1, r"\rho_\infty")
    rho = spec.let("rho", rho_inf - 2 * t * beta2**t / (1 - beta2**t), r"\rho_t")
    # max(0, ·): r_t is only used when ρ_t > 4, but the scalar prologue of a kernel evaluates it every step
    r = spec.let("r", sqrt(Max(0, (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))), "r_t")
    if form == "paper":
        rectified = theta - lr * r * m_hat / (sqrt(v / (1 - beta2**t)) + eps)
        spec.update(theta, Piecewise((rectified, rho > 4), (theta - lr * m_hat, True)))
    else:
        base = theta
        if form == "po":  # decoupled decay, applied only on steps that move θ
            wd = spec.hyper("weight_decay", 0.0, r"\lambda", NONNEGATIVE)
            base = theta * (1 - lr * wd)
        rectified = base - lr * m_hat * r * sqrt(1 - beta2**t) / (sqrt(v) + eps)
        fallback = theta - lr * m_hat if form == "torch" else theta
        spec.update(theta, Piecewise((rectified, rho > 5 if form == "torch" else rho >= 5), (fallback, True)))
    return spec.build()


_torch = _radam("radam_torch", "RAdam (torch.optim.RAdam)", "torch",
                "Rectifies when ρ_t > 5 (so from t = 6 with β₂ = 0.999, one step later than the paper); ε is added "
                "to √v, the rectified step carries √(1−β₂^t); otherwise SGD with bias-corrected momentum.")
_po = _radam("radam_po", "RAdam (pytorch_optimizer)", "po",
             "pytorch_optimizer's default degenerated_to_sgd=False: θ is left unchanged while ρ_t < 5 (the moments "
             "still advance) and so is the decoupled weight decay θ(1−ηλ), which pytorch_optimizer applies only on "
             "steps that update θ (so radam_po is not with_weight_decay(…)); rectified steps as in radam_torch.",
             numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.RAdam",))
SPECS = (
    _radam("radam", "RAdam", "paper",
           "Rectifies when ρ_t > 4 (the paper; from t = 5 with β₂ = 0.999), ε on √v̂; otherwise θ ← θ − ηm̂.",
           numerics=Numerics(averages="lerp"), peers=("optax.radam(threshold=4.0)",)),
    with_weight_decay(_torch, "coupled", name="radam_torch", title="RAdam (torch.optim.RAdam)",
                      numerics=TORCH_NUMERICS, peers=("torch.optim.RAdam", "pytorch_optimizer.RAdam(degenerated_to_sgd=True, weight_decay=0)")),
    with_weight_decay(_torch, "decoupled", name="radamw_torch",
                      title="RAdam with decoupled weight decay (torch.optim.RAdam(decoupled_weight_decay=True))",
                      numerics=TORCH_NUMERICS, peers=("torch.optim.RAdam(decoupled_weight_decay=True)",
                             "pytorch_optimizer.RAdam(degenerated_to_sgd=True)")),
    _po,
)
