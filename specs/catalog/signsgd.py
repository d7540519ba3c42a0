"""signSGD and Signum: Bernstein, Wang, Azizzadenesheli & Anandkumar (2018)."""
from sympy import sign

from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, UNIT_HALF_OPEN, TORCH_NUMERICS

signsgd = SpecBuilder("signsgd", "signSGD", reference="Bernstein et al. (2018), signSGD: Compressed Optimisation for "
                      "Non-Convex Problems, Algorithm 1", source="peers (pytorch_optimizer.SignSGD, optax.sign_sgd)",
                      numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.SignSGD(momentum=0)", "optax.sign_sgd"), notes="sign(0) = 0.")
lr = signsgd.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
signsgd.update(theta, theta - lr * sign(g))

signum = SpecBuilder("signum", "Signum", reference="Bernstein et al. (2018), Algorithm 3 (Signum)",
                     source="peers (pytorch_optimizer.SignSGD, optax.signum)",
                     numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.SignSGD(momentum=β)", "optax.signum"),
                     notes="m ← βm + (1−β)g (no bias correction), θ ← θ − η·sign(m).")
lr_ = signum.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
beta = signum.hyper("momentum", 0.9, r"\beta", UNIT_HALF_OPEN)
m = signum.state("m", 0)
signum.update(m, beta * m + (1 - beta) * g)
signum.update(theta, theta - lr_ * sign(m))

SPECS = (signsgd.build(), signum.build())
