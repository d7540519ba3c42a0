"""Lion: Chen et al. (2023), Algorithm 2, and LionW (decoupled weight decay, the paper's default form)."""
from sympy import sign

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.common import betas, learning_rate
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, PARAM as theta, TORCH_NUMERICS

spec = SpecBuilder("lion", "Lion", reference="Chen et al. (2023), Symbolic Discovery of Optimization Algorithms, "
                   "Algorithm 2", source="peers (pytorch_optimizer.Lion, optax.lion)",
                   numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.Lion(weight_decay=0)", "optax.lion(weight_decay=0)"),
                   notes="c = β₁m + (1−β₁)g; θ ← θ − η·sign(c); m ← β₂m + (1−β₂)g; sign(0) = 0.")
lr = learning_rate(spec, 1e-4)
beta1, beta2 = betas(spec, 0.9, 0.99)
m = spec.state("m", 0)
c = spec.let("c", beta1 * m + (1 - beta1) * g, "c")
spec.update(theta, theta - lr * sign(c))
spec.update(m, beta2 * m + (1 - beta2) * g)
lion = spec.build()

SPECS = (lion, with_weight_decay(lion, "decoupled", name="lionw", title="LionW (Lion with decoupled weight decay)",
                                 numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.Lion", "optax.lion")))
