"""Sophia with a Hessian estimate the caller supplies (Liu et al. 2023), in pytorch_optimizer's SophiaH form."""
from sympy import Eq, Max, Min, Mod, Piecewise

from optiforge.specs.builder import SpecBuilder
from optiforge.specs.common import betas, epsilon, learning_rate
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, POSITIVE_INTEGER, STEP as t, TORCH_NUMERICS

spec = SpecBuilder("sophia", "Sophia (caller-supplied Hessian estimate)",
                   reference="Liu et al. (2023), Sophia: A Scalable Stochastic Second-order Optimizer for Language "
                   "Model Pre-training, Algorithm 3", source="peers (pytorch_optimizer.SophiaH)",
                   numerics=TORCH_NUMERICS,
                   peers=("pytorch_optimizer.SophiaH(weight_decay=0) with step(hessian=...) at the steps t with "
                          "(t − 1) mod k = 0",),
                   notes="The Hessian estimate ĥ is an input: Sophia-G passes the Gauss-Newton-Bartlett estimate, "
                         "Sophia-H a Hutchinson estimate. It is read every k steps ((t − 1) mod k = 0; pass it "
                         "every step, the others ignore it): h ← β₂h + (1−β₂)ĥ. θ ← θ − η·clip(m/max(h, ε), ρ).")
lr = learning_rate(spec, 6e-2)
beta1, beta2 = betas(spec, 0.96, 0.99)
rho = spec.hyper("p", 1e-2, r"\rho", NONNEGATIVE, "the largest step per element, in units of η")
period = spec.hyper("update_period", 10, "k", POSITIVE_INTEGER, "steps between reads of the Hessian estimate")
eps = epsilon(spec, 1e-12)
hessian = spec.input("hessian", r"\hat h", "the Hessian diagonal estimate (read when (t − 1) mod k = 0)")
m = spec.state("m", 0)
h = spec.state("h", 0)
spec.update(m, beta1 * m + (1 - beta1) * g)
spec.update(h, Piecewise((beta2 * h + (1 - beta2) * hessian, Eq(Mod(t - 1, period), 0)), (h, True)))
spec.update(theta, theta - lr * Min(Max(m / Max(h, eps), -rho), rho))
SPEC = spec.build()
