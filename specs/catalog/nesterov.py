"""Nesterov momentum, reparametrised so the gradient is taken at the stored parameters."""
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, UNIT_HALF_OPEN

spec = SpecBuilder("nesterov", "Nesterov momentum", reference="Nesterov (1983); Sutskever et al. (2013); "
                   "Bengio et al. (2013) §3.5", source="docs/sources/seed-004.md §3, eqs. (5.3)-(5.4)",
                   notes="The stored parameters are the look-ahead point θ + αv of the original form, so g = ∇J(θ) "
                         "is an ordinary gradient (derive/ proves the two forms equivalent).")
lr = spec.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
alpha = spec.hyper("momentum", 0.9, r"\alpha", UNIT_HALF_OPEN)
v = spec.state("v", 0)
spec.update(v, alpha * v - lr * g)
spec.update(theta, theta + alpha * v - lr * g)
SPEC = spec.build()
