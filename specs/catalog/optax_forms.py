"""Elementwise optax optimizers whose update differs from the torch forms (optax 0.2.8, docs/sources/peers.md
§3.1). optax is not a test dependency (it needs jax); these specs are checked against hand-written references of
the formulas in docs/sources/peers.md."""
from sympy import Max, Piecewise, sqrt

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import adam_hyperparameters, adam_moments
from optiforge.specs.catalog.nadam import SPECS as _nadam
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, POSITIVE, REAL, STEP as t, UNIT_HALF_OPEN, Numerics

adagrad = SpecBuilder("adagrad_optax", "AdaGrad (optax.adagrad)", reference="optax.adagrad (optax 0.2.8)",
                      source="docs/sources/peers.md §3.1", numerics=Numerics(averages="lerp"), peers=("optax.adagrad",),
                      notes="ε inside the square root, accumulator starting at 0.1, and a zero update where the "
                            "accumulator is 0.")
lr = adagrad.hyper("lr", 1e-2, r"\eta", NONNEGATIVE)
s0 = adagrad.hyper("initial_accumulator_value", 0.1, "s_0", NONNEGATIVE)
eps = adagrad.hyper("eps", 1e-7, r"\epsilon", NONNEGATIVE)
s = adagrad.state("s", s0)
adagrad.update(s, s + g**2)
adagrad.update(theta, theta - lr * Piecewise((g / sqrt(s + eps), s > 0), (0, True)))


def _rmsprop(centered: bool):
    name = "rmsprop_optax_centered" if centered else "rmsprop_optax"
    spec = SpecBuilder(name, f"RMSprop (optax.rmsprop, centered={centered})", reference="optax.rmsprop (optax 0.2.8)",
                       source="docs/sources/peers.md §3.1; docs/sources/seed-003.md §4.2 (ε inside the root, decay 0.9)",
                       numerics=Numerics(averages="lerp"), peers=(f"optax.rmsprop(centered={centered}, eps_in_sqrt=True)",),
                       notes="ε inside the square root, decay 0.9, ν₀ = initial_scale; the momentum trace follows "
                             "the lr scaling (the same as torch for a constant lr).")
    lr = spec.hyper("lr", 1e-2, r"\eta", NONNEGATIVE)
    decay = spec.hyper("decay", 0.9, r"\rho", UNIT_HALF_OPEN)
    eps = spec.hyper("eps", 1e-8, r"\epsilon", NONNEGATIVE)
    nu0 = spec.hyper("initial_scale", 0.0, r"\nu_0", NONNEGATIVE)
    mu = spec.hyper("momentum", 0.0, r"\mu", UNIT_HALF_OPEN)
    nu = spec.state("nu", nu0, r"\nu")
    b = spec.state("b", 0, doc="momentum trace")
    spec.update(nu, decay * nu + (1 - decay) * g**2)
    if centered:
        gbar = spec.state("g_avg", 0, r"\bar{g}")
        spec.update(gbar, decay * gbar + (1 - decay) * g)
        direction = g / sqrt(nu - gbar**2 + eps)
    else:
        direction = g / sqrt(nu + eps)
    spec.update(b, mu * b + lr * direction)
    spec.update(theta, theta - b)
    return spec.build()


radam = SpecBuilder("radam_optax", "RAdam (optax.radam)", reference="optax.radam (optax 0.2.8); Liu et al. (2020)",
                    source="docs/sources/peers.md §1.9, §3.1", numerics=Numerics(averages="lerp"), peers=("optax.radam",),
                    notes="Rectifies when ρ_t ≥ threshold (5); ε on √v̂ (torch puts it on √v).")
lr, beta1, beta2, eps = adam_hyperparameters(radam)
threshold = radam.hyper("threshold", 5.0, r"\rho_{\min}", POSITIVE)
m, v = adam_moments(radam, beta1, beta2)
m_hat = radam.let("m_hat", m / (1 - beta1**t), r"\hat{m}")
rho_inf = radam.let("rho_inf", 2 / (1 - beta2) - 1, r"\rho_\infty")
rho = radam.let("rho", rho_inf - 2 * t * beta2**t / (1 - beta2**t), r"\rho_t")
r = radam.let("r", sqrt(Max(0, (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))), "r_t")
radam.update(theta, theta - lr * Piecewise((r * m_hat / (sqrt(v / (1 - beta2**t)) + eps), rho >= threshold),
                                           (m_hat, True)))

ogd = SpecBuilder("optimistic_gd_optax", "Optimistic gradient descent (optax.optimistic_gradient_descent)",
                  reference="Daskalakis et al. (2018), Training GANs with Optimism; optax 0.2.8",
                  source="docs/sources/peers.md §3.1", numerics=Numerics(averages="lerp"), peers=("optax.optimistic_gradient_descent",),
                  notes="θ ← θ − η((α+β)g_t − βg_{t−1}) with g₀ := g₁. optax has no default learning rate; 1e-3 here.")
lr = ogd.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
alpha = ogd.hyper("alpha", 1.0, r"\alpha", REAL)
beta = ogd.hyper("beta", 1.0, r"\beta", REAL)
prev = ogd.state("g_prev", g, r"g_{t-1}")
ogd.update(theta, theta - lr * ((alpha + beta) * g - beta * prev))
ogd.update(prev, g)

nadam = next(s for s in _nadam if s.name == "nadam")
SPECS = (adagrad.build(), _rmsprop(False), _rmsprop(True), radam.build(), ogd.build(),
         with_weight_decay(nadam, "decoupled", name="nadamw", title="NAdamW (Nadam with decoupled weight decay)",
                           default=1e-4, numerics=Numerics(averages="lerp"), peers=("optax.nadamw",)))
