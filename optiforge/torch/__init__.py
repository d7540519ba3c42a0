"""PyTorch front door: :class:`Optimizer`, a ``torch.optim.Optimizer`` over the generated kernels.

Imported only as ``optiforge.torch`` (``import optiforge`` stays free of torch)::

    import optiforge.torch
    opt = optiforge.torch.Optimizer(model.parameters(), "adamw_torch", lr=1e-3, weight_decay=0.01)

:mod:`optiforge.torch.interop` maps the ``*_torch`` specs to their torch.optim classes (flags, state names):
``load_state_dict`` takes their state dicts, ``Optimizer.torch_state_dict`` exports one.
"""
from .optimizer import Optimizer

__all__ = ["Optimizer"]
