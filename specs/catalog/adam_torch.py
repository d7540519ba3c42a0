"""torch.optim.Adam (for-loop path): Adam with coupled L2 weight decay added to the gradient — a composition."""
from optiforge.specs.catalog.adam import SPEC as adam
from optiforge.specs.combinators import with_weight_decay
from optiforge.specs.dsl import TORCH_NUMERICS

SPEC = with_weight_decay(adam, "coupled", name="adam_torch", title="Adam (torch.optim.Adam)",
                         reference="torch.optim.Adam, torch 2.13 (amsgrad=False)",
                         source="docs/sources/peers.md §1.5", numerics=TORCH_NUMERICS, peers=("torch.optim.Adam",),
                         notes="Identical to `adam` when weight_decay = 0; weight decay is coupled (g ← g + λθ). "
                               "torch evaluates (η/(1−β₁^t))·m/(√v/√(1−β₂^t) + ε), the same map as m̂/(√v̂ + ε).")
