"""Momentum (heavy ball): Polyak (1964), in the velocity form of docs/sources/seed-004.md eq. (1.6)."""
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, UNIT_HALF_OPEN

spec = SpecBuilder("momentum", "Momentum (heavy ball)", reference="Polyak (1964); Sutskever et al. (2013) eq. (1)",
                   source="docs/sources/seed-004.md §2, eqs. (1.5)-(1.6)",
                   notes="v ← αv − ηg keeps the learning rate inside the buffer; torch's SGD(momentum) keeps it "
                         "outside (see sgd_torch).")
lr = spec.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
alpha = spec.hyper("momentum", 0.9, r"\alpha", UNIT_HALF_OPEN)
v = spec.state("v", 0)
spec.update(v, alpha * v - lr * g)
spec.update(theta, theta + v)
SPEC = spec.build()
