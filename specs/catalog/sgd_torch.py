"""torch.optim.SGD (for-loop path): momentum with dampening, optional Nesterov, and coupled weight decay — as
compositions of one core; pytorch_optimizer's SGDW is the same core with decoupled weight decay."""
from sympy import Eq, Or, Piecewise

from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD as g, NONNEGATIVE, PARAM as theta, POSITIVE, STEP as t, UNIT_CLOSED, TORCH_NUMERICS


def _core(nesterov: bool):
    name = "sgd_torch_nesterov" if nesterov else "sgd_torch"
    spec = SpecBuilder(name, "SGD (torch.optim.SGD" + (", nesterov=True)" if nesterov else ")"),
                       reference="torch.optim.SGD, torch 2.13", source="docs/sources/peers.md §1.1")
    lr = spec.hyper("lr", 1e-3, r"\eta", NONNEGATIVE)
    mu = spec.hyper("momentum", 0.9 if nesterov else 0.0, r"\mu", POSITIVE if nesterov else NONNEGATIVE)
    tau = 0 if nesterov else spec.hyper("dampening", 0.0, r"\tau", UNIT_CLOSED)
    b = spec.state("b", 0, "b", doc="momentum buffer")
    first = Eq(t, 1) if nesterov else Or(Eq(t, 1), Eq(mu, 0))
    spec.update(b, Piecewise((g, first), (mu * b + (1 - tau) * g, True)))
    spec.update(theta, theta - lr * (g + mu * b if nesterov else b))
    return spec.build()


def _notes(nesterov: bool) -> str:
    return ("The buffer starts as the first (decayed) gradient and dampening is not applied on step 1; with "
            "momentum = 0 the buffer is bypassed." + (" Nesterov requires momentum > 0 and dampening = 0."
                                                      if nesterov else ""))


SPECS = tuple(
    with_weight_decay(_core(nesterov), "coupled", name=_core(nesterov).name, title=_core(nesterov).title,
                      numerics=TORCH_NUMERICS, peers=(f"torch.optim.SGD(nesterov={nesterov})",), notes=_notes(nesterov))
    for nesterov in (False, True)
) + (
    with_weight_decay(_core(False), "decoupled", name="sgdw_po", title="SGDW (pytorch_optimizer.SGDW)",
                      reference="Loshchilov & Hutter (2019), SGDW; pytorch_optimizer 4.1 SGDW",
                      source="docs/sources/peers.md §2.10b", numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.SGDW",),
                      notes=_notes(False) + " Decoupled decay θ ← θ(1 − ηλ) before the step (torch_optimizer's "
                            "SGDW subtracts the constant ηλ instead, a bug). pytorch_optimizer's default lr is 1e-4."),
)
