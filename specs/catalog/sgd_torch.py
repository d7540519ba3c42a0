"""torch.optim.SGD (for-loop path): momentum with dampening, coupled weight decay, optional Nesterov."""
from sympy import Eq, Or, Piecewise

from specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, POSITIVE, STEP as t, UNIT_CLOSED, SpecBuilder


def _sgd_torch(nesterov: bool):
    name = "sgd_torch_nesterov" if nesterov else "sgd_torch"
    spec = SpecBuilder(name, "SGD (torch.optim.SGD" + (", nesterov=True)" if nesterov else ")"),
                       reference="torch.optim.SGD, torch 2.13", source="reference/peer_semantics.md §1.1",
                       peers=(f"torch.optim.SGD(nesterov={nesterov})",),
                       notes="The buffer starts as the first (decayed) gradient and dampening is not applied on "
                             "step 1; with momentum = 0 the buffer is bypassed."
                             + (" Nesterov requires momentum > 0 and dampening = 0." if nesterov else ""))
    lr = spec.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
    mu = spec.hyper("momentum", 0.9 if nesterov else 0.0, r"\mu", POSITIVE if nesterov else NONNEGATIVE)
    tau = 0 if nesterov else spec.hyper("dampening", 0.0, r"\tau", UNIT_CLOSED)
    wd = spec.hyper("weight_decay", 0.0, r"\lambda", NONNEGATIVE)
    b = spec.state("b", 0, "b", doc="momentum buffer")
    gd = spec.let("g_decayed", g + wd * theta, r"\tilde{g}")
    first = Eq(t, 1) if nesterov else Or(Eq(t, 1), Eq(mu, 0))
    spec.update(b, Piecewise((gd, first), (mu * b + (1 - tau) * gd, True)))
    spec.update(theta, theta - lr * (gd + mu * b if nesterov else b))
    return spec.build()


SPECS = (_sgd_torch(False), _sgd_torch(True))
