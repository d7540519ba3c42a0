"""Plain stochastic gradient descent (docs/sources/seed-004.md §1)."""
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, TORCH_NUMERICS

spec = SpecBuilder("sgd", "SGD", reference="Robbins & Monro (1951)", source="docs/sources/seed-004.md §1 (Δw = −η g)",
                   numerics=TORCH_NUMERICS, peers=("torch.optim.SGD (momentum=0)", "optax.sgd"))
lr = spec.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
spec.update(theta, theta - lr * g)
SPEC = spec.build()
