"""Elementwise SGD-family optimizers of torch_optimizer 0.3: QHM, AggMo, AccSGD, PID, MADGRAD (coupled L2
weight decay, as in that library, through with_weight_decay)."""
from sympy import Eq, Piecewise, Rational, sqrt

from optiforge.specs.builder import SpecBuilder
from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.dsl import (GRAD as g, NONNEGATIVE, PARAM as theta, POSITIVE, STEP as t, TORCH_OPTIMIZER_NUMERICS,
                                 UNIT_CLOSED, UNIT_HALF_OPEN, UNIT_OPEN)

SOURCE = "peers (torch_optimizer 0.3)"

qhm = SpecBuilder("qhm", "QHM (quasi-hyperbolic momentum)", reference="Ma & Yarats (2019), Quasi-hyperbolic momentum "
                  "and Adam for deep learning, eq. (3)", source=SOURCE,
                  notes="b ← βb + (1−β)g; θ ← θ − η(νb + (1−ν)g). Defaults are the paper's recommendation "
                        "(β = 0.999, ν = 0.7); torch_optimizer defaults to momentum = 0.")
lr = qhm.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
beta = qhm.hyper("momentum", 0.999, r"\beta", UNIT_HALF_OPEN)
nu = qhm.hyper("nu", 0.7, r"\nu", UNIT_CLOSED)
b = qhm.state("b", 0)
qhm.update(b, beta * b + (1 - beta) * g)
qhm.update(theta, theta - lr * (nu * b + (1 - nu) * g))

aggmo = SpecBuilder("aggmo", "AggMo (aggregated momentum)", reference="Lucas, Sun, Zemel & Grosse (2019), "
                    "Aggregated Momentum: Stability Through Passive Damping, Algorithm 1", source=SOURCE,
                    notes="Three velocities b_i ← β_i b_i + g (β = 0, 0.9, 0.99), θ ← θ − η/3·Σb_i.")
lr_a = aggmo.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
betas = [aggmo.hyper(f"beta{i}", d, rf"\beta_{i}", UNIT_HALF_OPEN) for i, d in enumerate((0.0, 0.9, 0.99))]
bufs = [aggmo.state(f"b{i}", 0, f"b_{i}") for i in range(3)]
for beta_i, buf in zip(betas, bufs):
    aggmo.update(buf, beta_i * buf + g)
# θ − η/3·Σb_i one velocity at a time, as torch_optimizer subtracts them: summed first, three huge velocities
# overflow where each step alone does not.
aggmo.update(theta, theta - lr_a / 3 * bufs[0] - lr_a / 3 * bufs[1] - lr_a / 3 * bufs[2])

accsgd = SpecBuilder("accsgd", "AccSGD", reference="Kidambi, Netrapalli, Jain & Kakade (2018), On the insufficiency "
                     "of existing momentum schemes for Stochastic Optimization, Algorithm 1 (Jain et al. 2018)",
                     source=SOURCE,
                     notes="With η̄ = ηκ/c, α = 1 − c²ξ/κ, β = 1 − α, ζ = c/(c+β): ā ← (1−β)ā − βη̄g + βθ "
                           "(ā₀ = θ₀), θ ← ζ(θ − ηg) + (1−ζ)ā.")
lr_c = accsgd.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
kappa = accsgd.hyper("kappa", 1000.0, r"\kappa", POSITIVE)
xi = accsgd.hyper("xi", 10.0, r"\xi", POSITIVE)
c = accsgd.hyper("small_const", 0.7, "c", POSITIVE)
avg = accsgd.state("bar_a", theta, r"\bar{a}")
large_lr = accsgd.let("large_lr", lr_c * kappa / c, r"\bar\eta")
beta_c = accsgd.let("beta", c**2 * xi / kappa, r"\beta")
zeta = accsgd.let("zeta", c / (c + beta_c), r"\zeta")
accsgd.update(avg, beta_c * (avg * (1 / beta_c - 1) - large_lr * g + theta))
accsgd.update(theta, zeta * (theta - lr_c * g) + (1 - zeta) * avg)

pid = SpecBuilder("pid_to", "PID controller optimizer (torch_optimizer.PID)", reference="An, Wang, Sun, Zhang & Zhou (2018), A PID Controller "
                  "Approach for Stochastic Optimization of Deep Networks", source=SOURCE,
                  notes="I ← μI + (1−τ)g (I₁ = g), D ← μD + (1−μ)(g − g_{t−1}) (D₁ = 0), θ ← θ − η(g + K_i I + "
                        "K_d D). torch_optimizer writes its previous-gradient buffer only from step 2, so g_{t−1} is still 0 "
                        "at step 2 (D₂ = (1−μ)g₂) — kept here, hence the _to suffix. torch_optimizer's momentum = 0 "
                        "is plain SGD; this spec needs μ > 0.")
lr_p = pid.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
mu = pid.hyper("momentum", 0.9, r"\mu", UNIT_OPEN)
tau = pid.hyper("dampening", 0.0, r"\tau", UNIT_CLOSED)
k_i = pid.hyper("integral", 5.0, "K_i", NONNEGATIVE)
k_d = pid.hyper("derivative", 10.0, "K_d", NONNEGATIVE)
i_buf = pid.state("i_buf", 0, "I")
d_buf = pid.state("d_buf", 0, "D")
prev = pid.state("g_prev", 0, r"g_{t-1}")
pid.update(i_buf, Piecewise((g, Eq(t, 1)), (mu * i_buf + (1 - tau) * g, True)))
pid.update(d_buf, Piecewise((0, Eq(t, 1)), (mu * d_buf + (1 - mu) * (g - prev), True)))
pid.update(prev, Piecewise((0, Eq(t, 1)), (g, True)))
pid.update(theta, theta - lr_p * (g + k_i * i_buf + k_d * d_buf))

madgrad = SpecBuilder("madgrad", "MADGRAD", reference="Defazio & Jelassi (2021), Adaptivity without Compromise: A "
                      "Momentumized, Adaptive, Dual Averaged Gradient Method, Algorithm 1", source=SOURCE,
                      notes="λ_t = (η+ε)√t (torch_optimizer adds ε to η); ν ← ν + λg², s ← s + λg, "
                            "z = θ₀ − s/(ν^{1/3} + ε), θ ← μθ + (1−μ)z with θ₀ the initial parameters (momentum > 0).")
lr_m = madgrad.hyper("lr", 1e-2, r"\eta", NONNEGATIVE)
mom = madgrad.hyper("momentum", 0.9, r"\mu", UNIT_HALF_OPEN)
eps = madgrad.hyper("eps", 1e-6, r"\epsilon", NONNEGATIVE)
x0 = madgrad.state("x0", theta, r"\theta_0")
nu_m = madgrad.state("nu", 0, r"\nu")
s = madgrad.state("s", 0)
lam = madgrad.let("lam", (lr_m + eps) * sqrt(t), r"\lambda_t")
madgrad.update(nu_m, nu_m + lam * g**2)
madgrad.update(s, s + lam * g)
z = madgrad.let("z", x0 - s / (nu_m**Rational(1, 3) + eps), "z")
madgrad.update(theta, mom * theta + (1 - mom) * z)

SPECS = tuple(
    with_weight_decay(b.build(), "coupled", name=b.name, title=b.title, numerics=TORCH_OPTIMIZER_NUMERICS, peers=(f"torch_optimizer.{peer}",))
    for b, peer in ((qhm, "QHM"), (aggmo, "AggMo"), (accsgd, "AccSGD"), (pid, "PID"), (madgrad, "MADGRAD"))
)
