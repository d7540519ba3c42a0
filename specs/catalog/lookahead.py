"""Lookahead (Zhang et al., 2019) as a combinator (specs.combinators.lookahead) over catalogue specs.

Any spec can be wrapped: ``lookahead(get("adabelief"))``. These entries are the compositions the peers test."""
from optiforge.specs.catalog.adam_torch import SPEC as adam_torch
from optiforge.specs.catalog.radam import SPECS as _radam
from optiforge.specs.catalog.sgd_torch import SPECS as _sgd
from optiforge.specs.combinators import lookahead
from optiforge.specs.dsl import TORCH_NUMERICS

radam_torch = next(s for s in _radam if s.name == "radam_torch")
sgd_torch = next(s for s in _sgd if s.name == "sgd_torch")

SPECS = (
    lookahead(adam_torch, numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.Lookahead(torch.optim.Adam)",)),
    lookahead(sgd_torch, numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.Lookahead(torch.optim.SGD)",)),
    lookahead(radam_torch, numerics=TORCH_NUMERICS, peers=("pytorch_optimizer.Lookahead(torch.optim.RAdam)",),
              notes="RAdam + Lookahead is the core of 'Ranger' (without gradient centralisation)."),
    lookahead(adam_torch, schedule="to", numerics=TORCH_NUMERICS, peers=("torch_optimizer.Lookahead(torch.optim.Adam)",),
              notes="torch_optimizer's schedule: syncs after t = 1, 1+k, …, slow weights anchored at θ₁."),
)
