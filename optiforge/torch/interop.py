"""torch.optim interop: which spec reproduces which ``torch.optim`` class, torch's constructor arguments, and
state dicts in torch's layout.

* :data:`PEERS`: for every ``*_torch`` spec, its torch class, the constructor flags that select it among its
  siblings (``Adam(amsgrad=True)`` is ``amsgrad_torch``) and the names of its state in torch
  (``exp_avg`` ↔ ``m``, …); see ``docs/torch.md``.
* :func:`select`: the spec that ``name`` with torch's flags (``amsgrad``, ``nesterov``, ``centered``,
  ``decoupled_weight_decay``) means, and the options every spec takes (``maximize``, ``foreach``, ``fused``,
  ``capturable``, ``differentiable``), checked.
* :func:`spec_state` / :func:`torch_state_dict`: one parameter's torch state in the spec's names, and an
  optimizer's state dict in torch's layout (loadable by ``torch.optim.<Class>.load_state_dict``).
"""
from __future__ import annotations

import dataclasses

import torch

__all__ = ["TorchPeer", "PEERS", "OPTIONS", "select", "check_options", "spec_state", "torch_group", "torch_state_dict"]


@dataclasses.dataclass(frozen=True)
class TorchPeer:
    """The ``torch.optim`` class a spec reproduces.

    ``flags``: the constructor flags that select this spec among the specs of the same torch class;
    ``state``: torch's state key → the spec's state name (array or scalar state); ``optional``: torch keys
    present only while a hyperparameter is nonzero (RMSprop's ``momentum_buffer`` while ``momentum`` > 0),
    zeros in the spec otherwise; ``counts_steps``: whether torch keeps ``step`` (SGD does not);
    ``eager``: whether torch creates the state of every parameter in its constructor (Adagrad); ``fixed``:
    torch arguments this spec has no hyperparameter for, taken only at the one value it implies (Nesterov
    SGD's ``dampening=0``, which torch requires too)."""

    torch_class: str
    flags: dict
    state: dict
    optional: dict = dataclasses.field(default_factory=dict)
    counts_steps: bool = True
    eager: bool = False
    fixed: dict = dataclasses.field(default_factory=dict)


_ADAM_STATE = {"exp_avg": "m", "exp_avg_sq": "v"}
_AMSGRAD_STATE = {**_ADAM_STATE, "max_exp_avg_sq": "v_max"}
_NADAM_STATE = {**_ADAM_STATE, "mu_product": "mu_product"}

#: Every spec that reproduces a torch.optim class (docs/sources/peers.md §1).
PEERS: dict[str, TorchPeer] = {
    "adam_torch": TorchPeer("Adam", {"amsgrad": False, "decoupled_weight_decay": False}, _ADAM_STATE),
    "amsgrad_torch": TorchPeer("Adam", {"amsgrad": True, "decoupled_weight_decay": False}, _AMSGRAD_STATE),
    # torch's AdamW is Adam(decoupled_weight_decay=True): the flag tells a saved Adam dict from an AdamW one
    "adamw_torch": TorchPeer("AdamW", {"amsgrad": False, "decoupled_weight_decay": True}, _ADAM_STATE),
    "adamw_amsgrad_torch": TorchPeer("AdamW", {"amsgrad": True, "decoupled_weight_decay": True}, _AMSGRAD_STATE),
    "sgd_torch": TorchPeer("SGD", {"nesterov": False}, {"momentum_buffer": "b"}, counts_steps=False),
    "sgd_torch_nesterov": TorchPeer("SGD", {"nesterov": True}, {"momentum_buffer": "b"}, counts_steps=False,
                                    fixed={"dampening": 0}),
    "rmsprop_torch": TorchPeer("RMSprop", {"centered": False}, {"square_avg": "v", "momentum_buffer": "b"},
                               optional={"momentum_buffer": "momentum"}),
    "rmsprop_torch_centered": TorchPeer("RMSprop", {"centered": True},
                                        {"square_avg": "v", "momentum_buffer": "b", "grad_avg": "g_avg"},
                                        optional={"momentum_buffer": "momentum"}),
    "adagrad_torch": TorchPeer("Adagrad", {}, {"sum": "sum"}, eager=True),
    "nadam_torch": TorchPeer("NAdam", {"decoupled_weight_decay": False}, _NADAM_STATE),
    "nadamw_torch": TorchPeer("NAdam", {"decoupled_weight_decay": True}, _NADAM_STATE),
    "radam_torch": TorchPeer("RAdam", {"decoupled_weight_decay": False}, _ADAM_STATE),
    "radamw_torch": TorchPeer("RAdam", {"decoupled_weight_decay": True}, _ADAM_STATE),
    "adamax_torch": TorchPeer("Adamax", {}, {"exp_avg": "m", "exp_inf": "u"}),
    "adadelta_torch": TorchPeer("Adadelta", {}, {"square_avg": "v", "acc_delta": "u"}),
}

#: torch classes that are one class with a flag (``AdamW`` is ``Adam(decoupled_weight_decay=True)``)
_FAMILIES = {"AdamW": "Adam"}

#: torch.optim's options every spec takes, with torch's defaults. ``maximize`` is honoured (the kernel steps
#: along −g); ``foreach`` and ``fused`` choose among torch's implementations and here always mean optiforge's
#: kernel; ``capturable`` and ``differentiable`` only as False (see :func:`check_options`).
OPTIONS = {"maximize": False, "foreach": None, "fused": None, "capturable": False, "differentiable": False}

_REFUSED = {
    "capturable": "the kernels read the step count and hyperparameters on the host, so a step cannot be "
                  "captured in a CUDA graph",
    "differentiable": "the kernels update parameters in place outside autograd; use torch.optim for "
                      "gradients through the optimizer step",
}


def _flag(where: str, name: str, value, allow_none: bool = False):
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if value is None and allow_none:
        return None
    if not isinstance(value, bool):
        allowed = "True, False or None" if allow_none else "True or False"
        raise TypeError(f"{where}: {name} must be {allowed}, got {value!r}")
    return value


def select(name_or_spec, given: dict) -> tuple:
    """``(name_or_spec, flags, options, rest)``: the spec that ``name_or_spec`` with the torch flags in
    ``given`` means (the catalogue name of a sibling when a flag differs: ``("adam_torch", {amsgrad: True})``
    → ``"amsgrad_torch"``; else ``name_or_spec`` as given), the flags of that spec, the checked
    :data:`OPTIONS` (torch's defaults filled in), and the other arguments."""
    name = name_or_spec if isinstance(name_or_spec, str) else getattr(name_or_spec, "NAME", None)  # a module
    shown = name or getattr(name_or_spec, "name", "this spec")
    where = f"{shown}()"
    rest = dict(given)
    options = check_options({key: rest.pop(key) for key in OPTIONS if key in rest}, where, fill=True)
    peer = PEERS.get(name)
    flags = {} if peer is None else dict(peer.flags)
    stray = sorted(({flag for p in PEERS.values() for flag in p.flags} - set(flags)) & set(rest))
    if stray:
        raise TypeError(f"{where}: {', '.join(stray)} selects a variant of a torch.optim optimizer; {shown} has "
                        f"{'no such variant' if peer is None else 'variants by ' + (', '.join(flags) or 'none')}")
    wanted = {key: _flag(where, key, rest.pop(key)) for key in list(flags) if key in rest}
    if any(flags[key] != value for key, value in wanted.items()):
        target = {**flags, **wanted}
        family = _FAMILIES.get(peer.torch_class, peer.torch_class)
        matches = [other for other, p in PEERS.items()
                   if _FAMILIES.get(p.torch_class, p.torch_class) == family and p.flags == target]
        if not matches:
            raise ValueError(f"{where}: torch.optim.{peer.torch_class} with "
                             f"{', '.join(f'{k}={v}' for k, v in wanted.items())} has no spec here")
        name_or_spec, flags, peer = matches[0], target, PEERS[matches[0]]
    for key, value in ({} if peer is None else peer.fixed).items():
        if key in rest and rest.pop(key) != value:
            raise ValueError(f"{where}: torch.optim.{peer.torch_class} with "
                             f"{', '.join(f'{k}={v}' for k, v in flags.items())} needs {key}={value} (as torch)")
    return name_or_spec, flags, options, rest


def check_options(given: dict, where: str, fill: bool = False) -> dict:
    """``given``'s :data:`OPTIONS` checked (booleans; ``foreach``/``fused`` may be None; ``capturable`` and
    ``differentiable`` refused when True, with the reason); ``fill``: torch's defaults for the others."""
    options = dict(OPTIONS) if fill else {}
    for key, value in given.items():
        if key not in OPTIONS:
            continue
        value = _flag(where, key, value, allow_none=key in ("foreach", "fused"))
        if key in _REFUSED and value:
            raise ValueError(f"{where}: {key}=True is not supported: {_REFUSED[key]}")
        options[key] = value
    return options


def spec_state(peer: TorchPeer, saved: dict, group: dict, param: torch.Tensor, where: str) -> dict:
    """One parameter's saved state in the spec's names: torch's keys renamed (``exp_avg`` → ``m``), the
    spec's own keys kept. A state torch leaves out while the spec reads it as zeros is zeros: an ``optional``
    key while its hyperparameter is 0 (RMSprop's ``momentum_buffer``), SGD's ``momentum_buffer=None`` (no
    momentum); SGD keeps no ``step``: 1 with a momentum buffer (any later step updates it alike), else 0."""
    both = sorted(key for key, name in peer.state.items() if key != name and key in saved and name in saved)
    if both:
        raise ValueError(f"{where} has both torch's and the spec's name for "
                         f"{', '.join(f'{key!r}/{peer.state[key]!r}' for key in both)}")
    state = {peer.state.get(key, key): value for key, value in saved.items()}
    absent = [peer.state[key] for key, hyper in peer.optional.items() if not float(group.get(hyper, 0.0))]
    if not peer.counts_steps and "step" not in state:
        state["step"] = 0.0 if state.get("b") is None else 1.0
        absent.append("b")
    for name in absent:
        if state.get(name) is None:
            state[name] = torch.zeros_like(param, memory_format=torch.preserve_format)
    unknown = sorted(key for key in saved if key not in peer.state and key not in (*peer.state.values(), "step"))
    if unknown:
        raise ValueError(f"{where} has {', '.join(map(repr, unknown))}, which has no counterpart in this spec "
                         f"(the torch.optim.{peer.torch_class} state it maps: "
                         f"{', '.join(['step'] * peer.counts_steps + list(peer.state))})")
    return state


def torch_group(peer: TorchPeer, group: dict) -> dict:
    """``group`` as ``peer``'s torch class keeps it: every key that class's constructor sets (from a throwaway
    instance built with ``group``'s values, so that this torch version's keys are all there, ``betas`` a
    tuple, SGD's ``dampening`` 0 under Nesterov), then ``group``'s other keys (``initial_lr``, user keys)."""
    cls = getattr(torch.optim, peer.torch_class)
    arguments = _constructor_arguments(cls)
    probe = torch.zeros(1, requires_grad=True)
    defaults = cls([probe], **{k: v for k, v in group.items() if k in arguments}).defaults
    spec_only = {name for name in group if name.startswith("beta") and name[4:].isdigit()}
    return {**{k: v for k, v in group.items() if k not in spec_only}, **defaults,
            **{k: group[k] for k in defaults if k in group}}


def _constructor_arguments(cls) -> set:
    import inspect

    return set(inspect.signature(cls.__init__).parameters) - {"self", "params"}


def torch_state_dict(optimizer) -> dict:
    """``optimizer``'s state dict in the layout of its torch.optim peer (keys and group entries named as torch
    names them, ``betas`` tuples, torch's flags), for ``torch.optim.<Class>.load_state_dict``. As torch's own
    ``state_dict()``, it holds references to the state tensors: save it, or deep-copy it, before stepping on."""
    peer = PEERS.get(optimizer.name)
    if peer is None:
        raise ValueError(f"{optimizer.name} reproduces no torch.optim optimizer (those that do: "
                         f"{', '.join(PEERS)})")
    ours = optimizer.state_dict()
    names = {spec: key for key, spec in peer.state.items()}
    state = {}
    groups = []
    for group, saved_group in zip(optimizer.param_groups, ours["param_groups"]):
        groups.append(torch_group(peer, saved_group))
        for index in saved_group["params"]:
            if index in ours["state"]:
                state[index] = _torch_entry(peer, names, ours["state"][index], group)
            elif peer.eager:
                state[index] = _fresh_torch_state(group, saved_group, index)
    return {"state": state, "param_groups": groups}


def _torch_entry(peer: TorchPeer, names: dict, saved: dict, group: dict) -> dict:
    entry = {}
    for name, value in saved.items():
        if name == "step":
            if peer.counts_steps:
                entry["step"] = torch.tensor(float(value), dtype=torch.float32)
            continue
        key = names[name]
        if key in peer.optional and not float(group[peer.optional[key]]):
            continue
        entry[key] = value.to(torch.float32) if value.ndim == 0 else value  # scalar state: as torch's step
    if not peer.counts_steps and not float(group.get("momentum", 0.0)):
        entry["momentum_buffer"] = None
    return entry


def _fresh_torch_state(group: dict, saved_group: dict, index) -> dict:
    """torch's state of a parameter it creates eagerly (Adagrad) for one that has not stepped here."""
    p = group["params"][saved_group["params"].index(index)]
    initial = float(group["initial_accumulator_value"])
    return {"step": torch.tensor(0.0, dtype=torch.float32),
            "sum": torch.full_like(p, initial, memory_format=torch.preserve_format)}
