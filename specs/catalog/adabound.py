"""AdaBound: Luo, Xiong, Liu & Sun (2019), in the form of the authors' code (as torch_optimizer and
pytorch_optimizer implement it), with coupled L2 weight decay."""
from sympy import Max, Min, sqrt

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import adam_moments, betas, epsilon, learning_rate
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import NONNEGATIVE, PARAM as theta, POSITIVE, STEP as t, TORCH_NUMERICS, TORCH_OPTIMIZER_NUMERICS


def _adabound(name, root_shift):
    spec = SpecBuilder(name, "AdaBound", reference="Luo et al. (2019), Adaptive Gradient Methods with Dynamic "
                       "Bound of Learning Rate; official code", source="docs/sources/seed-002.md §3.2.3, Algorithm 12")
    lr = learning_rate(spec)
    beta1, beta2 = betas(spec)
    final_lr = spec.hyper("final_lr", 0.1, r"\eta^{*}", NONNEGATIVE)
    gamma = spec.hyper("gamma", 1e-3, r"\gamma", POSITIVE)
    eps = epsilon(spec)
    m, v = adam_moments(spec, beta1, beta2)
    lower = spec.let("lower", final_lr * (1 - 1 / (gamma * t + 1)), r"\eta_l")
    upper = spec.let("upper", final_lr * (1 + 1 / (gamma * t)), r"\eta_u")
    step = spec.let("step_size", lr * sqrt(1 - beta2**t) / (1 - beta1**t) / (sqrt(v + root_shift) + eps), r"\hat\eta")
    spec.update(theta, theta - Min(Max(step, lower), upper) * m)
    return spec.build()


_notes = ("θ ← θ − clip(η√(1−β₂^t)/(1−β₁^t)/(√v+ε), η*(1−1/(γt+1)), η*(1+1/(γt)))·m, the official code's form: "
          "the paper's Algorithm 2 writes the clip without the Adam bias corrections and with an extra 1/√t. "
          "final_lr is used as given (the peers rescale it by lr/base_lr under a schedule).")
SPECS = (
    with_weight_decay(_adabound("adabound", 0), "coupled", name="adabound", title="AdaBound",
                      numerics=TORCH_OPTIMIZER_NUMERICS, peers=("torch_optimizer.AdaBound", "pytorch_optimizer.AdaBound(weight_decouple=False) (√(v+1e-15))"),
                      notes=_notes),
    with_weight_decay(_adabound("adaboundw_po", 1e-15), "decoupled", name="adaboundw_po",
                      title="AdaBound (pytorch_optimizer, decoupled weight decay, √(v+1e-15))",
                      numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.AdaBound",), notes=_notes),
)
