"""Variants written in docs/sources/seed-003.md and docs/sources/seed-004.md where they differ from the canonical (paper / torch) forms.

docs/sources/seed-004.md removes ε from the denominators by starting the accumulators at r₀ = ε ("r_0 = ε" forms); docs/sources/seed-003.md and docs/sources/seed-004.md
put ε inside the square root; both write Nadam's first term with m̂_t = m_t/(1−β₁^t) (Ruder's overview) instead of
Dozat's m_t/(1−β₁^{t+1}). docs/sources/seed-004.md's Adam/Nadam code also has a bug (``beta_i *= beta_i`` keeps β^i = 1, so the
step is 0); the specs follow the seed's equations, not that line.
"""
from sympy import Abs, Max, sqrt

from optiforge.specs.common import adam_hyperparameters, adam_moments, betas, learning_rate
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, POSITIVE, STEP as t, UNIT_HALF_OPEN, Numerics


def _b(name, title, source, notes, numerics=Numerics()):
    return SpecBuilder(name, title, reference={"adagrad": "Duchi, Hazan & Singer (2011)", "rmsprop": "Tieleman & "
                       "Hinton (2012)", "adadelta": "Zeiler (2012)", "adam": "Kingma & Ba (2015)",
                       "nadam": "Dozat (2016), as rewritten in Ruder (2016), An overview of gradient descent "
                       "optimization algorithms", "nadamax": "Dozat (2016), as rewritten in Ruder (2016)"}[
                       name.split("_")[0]], source=source, notes=notes, numerics=numerics)


# AdaGrad, ε inside the square root (docs/sources/seed-003.md §4.1); docs/sources/seed-004.md §4's r₀ = ε form is the same map with s = r − ε.
adagrad = _b("adagrad_eps_in_sqrt", "AdaGrad (ε inside the square root)", "docs/sources/seed-003.md §4.1; docs/sources/seed-004.md §4 (r₀ = ε code)",
             "θ ← θ − η g/√(G_t + ε). docs/sources/seed-004.md starts r₀ = ε and drops ε from the denominator: the same trajectory.")
lr = adagrad.hyper("lr", 1e-2, r"\eta", NONNEGATIVE)
eps = adagrad.hyper("eps", 1e-8, r"\epsilon", POSITIVE)
G = adagrad.state("G", 0)
adagrad.update(G, G + g**2)
adagrad.update(theta, theta - lr * g / sqrt(G + eps))

# RMSProp with r₀ = ε and no ε in the denominator (docs/sources/seed-004.md §5 code).
rmsprop = _b("rmsprop_r0eps", "RMSProp (r₀ = ε, no ε in the denominator)", "docs/sources/seed-004.md §5 (code)",
             "r₀ = ε and θ ← θ − ηg/√r: unlike AdaGrad, ε decays as β^t ε, so this is not the ε-inside form.")
lr = rmsprop.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
beta = rmsprop.hyper("beta", 0.999, r"\beta", UNIT_HALF_OPEN)
eps = rmsprop.hyper("eps", 1e-8, r"\epsilon", POSITIVE)
r = rmsprop.state("r", eps)
rmsprop.update(r, beta * r + (1 - beta) * g**2)
rmsprop.update(theta, theta - lr * g / sqrt(r))

# AdaDelta with s₀ = r₀ = ε and no ε under the roots (docs/sources/seed-004.md §6 code).
adadelta = _b("adadelta_r0eps", "AdaDelta (s₀ = r₀ = ε)", "docs/sources/seed-004.md §6, eq. (3.1) and code",
              "s₀ = r₀ = ε and Δ = −√s_{t−1}/√r_t · g: ε decays in both accumulators (not Zeiler's form).")
beta = adadelta.hyper("beta", 0.999, r"\beta", UNIT_HALF_OPEN)
eps = adadelta.hyper("eps", 1e-8, r"\epsilon", POSITIVE)
r = adadelta.state("r", eps)
s = adadelta.state("s", eps)
adadelta.update(r, beta * r + (1 - beta) * g**2)
delta = adadelta.let("delta", -sqrt(s) / sqrt(r) * g, r"\Delta\theta")
adadelta.update(s, beta * s + (1 - beta) * delta**2)
adadelta.update(theta, theta + delta)


adam_in = _b("adam_eps_in_sqrt", "Adam (ε inside the square root)", "docs/sources/seed-004.md §7, eq. (4.5)",
             "θ ← θ − η m̂/√(v̂ + ε) (optax.adam(eps=0, eps_root=ε)).",
             numerics=Numerics(averages="lerp"))
lr, beta1, beta2, eps = adam_hyperparameters(adam_in, eps_domain=POSITIVE)
m, v = adam_moments(adam_in, beta1, beta2)
adam_in.update(theta, theta - lr * (m / (1 - beta1**t)) / sqrt(v / (1 - beta2**t) + eps))

adam_r0 = _b("adam_r0eps", "Adam (v₀ = ε, no ε in the denominator)", "docs/sources/seed-004.md §7 (code)",
             "v₀ = ε and θ ← θ − η√(1−β₂^t)/(1−β₁^t)·m/√v.",
             numerics=Numerics(averages="lerp"))
lr, beta1, beta2, eps = adam_hyperparameters(adam_r0, eps_domain=POSITIVE)
m, v = adam_moments(adam_r0, beta1, beta2, v_init=eps)
adam_r0.update(theta, theta - lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m / sqrt(v))

nadam = _b("nadam_seed", "Nadam (seeds' form: β₁m̂_t + (1−β₁)g/(1−β₁^t))", "docs/sources/seed-003.md §4.6; docs/sources/seed-004.md §9, eq. (5.8)",
           "θ ← θ − η(β₁m̂_t + (1−β₁)g_t/(1−β₁^t))/(√v̂_t + ε), ε outside the root as in docs/sources/seed-003.md (docs/sources/seed-004.md puts it "
           "inside). Differs from Dozat's `nadam` (1−β₁^{t+1} in the first term) at every finite t.",
           numerics=Numerics(averages="lerp"))
lr, beta1, beta2, eps = adam_hyperparameters(nadam, eps_domain=POSITIVE)
m, v = adam_moments(nadam, beta1, beta2)
nadam.update(theta, theta - lr * (beta1 * m / (1 - beta1**t) + (1 - beta1) * g / (1 - beta1**t))
             / (sqrt(v / (1 - beta2**t)) + eps))

nadamax = _b("nadamax_seed", "NadaMax (the form of docs/sources/seed-004.md)", "docs/sources/seed-004.md §10, eqs. (6.1)-(6.3)",
             "θ ← θ − η/(1−β₁^t)·(β₁m_t + (1−β₁)g_t)/u_t with u_t = max(β₂u_{t−1}, |g_t|); Dozat's `nadamax` has "
             "1−β₁^{t+1} in the momentum term.",
             numerics=Numerics(averages="lerp"))
lr = learning_rate(nadamax, 2e-3)
beta1, beta2 = betas(nadamax)
m = nadamax.state("m", 0)
u = nadamax.state("u", 0)
nadamax.update(m, beta1 * m + (1 - beta1) * g)
nadamax.update(u, Max(beta2 * u, Abs(g)))
nadamax.update(theta, theta - lr / (1 - beta1**t) * (beta1 * m + (1 - beta1) * g) / u)

SPECS = tuple(b.build() for b in (adagrad, rmsprop, adadelta, adam_in, adam_r0, nadam, nadamax))
