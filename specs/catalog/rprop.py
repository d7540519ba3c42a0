"""Rprop (torch.optim.Rprop): resilient backpropagation with per-element step sizes (Riedmiller & Braun, 1993)."""
from sympy import Max, Min, Piecewise, sign

from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, POSITIVE, interval, TORCH_NUMERICS

spec = SpecBuilder("rprop_torch", "Rprop (torch.optim.Rprop)", reference="Riedmiller & Braun (1993), RPROP; "
                   "torch.optim.Rprop, torch 2.13 (the iRprop− variant)", source="peers (torch.optim.Rprop)",
                   numerics=TORCH_NUMERICS, peers=("torch.optim.Rprop",),
                   notes="Per-element step sizes start at lr and are multiplied by η₊ (same sign as the previous "
                         "gradient) or η₋ (sign change), clipped to [Γ_min, Γ_max]; on a sign change the gradient "
                         "is zeroed for this step and for the next comparison. sign(g) is torch's (the torch_sign pass): 0 for a NaN gradient.")
lr = spec.hyper("lr", 1e-2, r"\eta", POSITIVE)
eta_minus = spec.hyper("eta_minus", 0.5, r"\eta_-", interval(0, 1, left_open=True, right_open=True))
eta_plus = spec.hyper("eta_plus", 1.2, r"\eta_+", interval(1, float("inf"), left_open=True))
step_min = spec.hyper("step_size_min", 1e-6, r"\Gamma_{\min}", NONNEGATIVE)
step_max = spec.hyper("step_size_max", 50.0, r"\Gamma_{\max}", POSITIVE)
prev = spec.state("g_prev", 0, r"g_{t-1}")
step = spec.state("step_size", lr, r"\Gamma")
product = spec.let("p", g * prev, "p")
spec.update(step, Min(Max(step * Piecewise((eta_plus, product > 0), (eta_minus, product < 0), (1, True)),
                          step_min), step_max))
g_used = spec.let("g_used", Piecewise((0, product < 0), (g, True)), r"\tilde{g}")
spec.update(theta, theta - sign(g_used) * step)
spec.update(prev, g_used)
SPEC = spec.build()
