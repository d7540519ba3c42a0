r"""``optiforge.torch.Optimizer``: a :class:`torch.optim.Optimizer` over the generated kernels.

>>> import torch, optiforge.torch
>>> w = torch.nn.Parameter(torch.ones(3))
>>> opt = optiforge.torch.Optimizer([w], "adam_torch", lr=0.1)
>>> (w * torch.tensor([1.0, -1.0, 0.5])).sum().backward()
>>> opt.step()
>>> [round(x, 4) for x in w.tolist()]
[0.9, 1.1, 0.9]

Hyperparameters keep the spec's names (``lr``, ``beta1``, ``weight_decay``, …) in ``defaults`` and in every
param group, so torch's ``lr_scheduler``\ s work unchanged; ``betas=(β₁, β₂)`` is torch's spelling of
``beta1``/``beta2``, and groups keep both in sync (``OneCycleLR`` writes ``betas``). torch.optim's flags are
taken (:mod:`optiforge.torch.interop`). Values are checked against the spec's domains when a group is added
and before every step. Per-parameter state is a dict of tensors: ``step`` (a float32 CPU tensor, as in
torch), every array state of the spec (the parameter's shape and layout, float32 for float16/bfloat16
parameters) and every scalar state (a float64 CPU tensor).
"""
from __future__ import annotations

import contextlib
import copy
import difflib
import functools
import logging
import math
import numbers
import sys
import time
from collections import defaultdict

import torch

from optiforge.runtime import kernel_support as _runtime

from . import _arrays, _segments, interop
from ._counters import GroupCounters
from ._flat import FlatPartition
from ._kernels import KernelSet

__all__ = ["Optimizer"]

#: Keys torch and its schedulers keep in param groups besides the hyperparameters.
_BOOKKEEPING = frozenset({"params", "param_names", "initial_lr", "betas"})

_LOG = logging.getLogger(__name__)

#: A first kernel call (per module and dtype) that compiles for longer than this is reported, once: numba's
#: JIT (its compile log), or a CuPy module's first launch (wall time).
SLOW_FIRST_CALL_S = 1.0
_FIRST_CALLS: set = set()  # (module, dtype) pairs whose first call was timed, in this process


class _Bridge:
    """How tensors of one device type reach a kernel module: the module, its arrays, its launch context."""

    def __init__(self, module, array, launch):
        self.module, self.array, self.launch = module, array, launch


class Optimizer(torch.optim.Optimizer):
    r"""A torch optimizer running the generated kernels of ``name_or_spec`` (a catalogue name, a name added
    with ``optiforge.register``, or an :class:`~optiforge.specs.OptimizerSpec`, built in memory once).

    ``Optimizer(params, "adamw_torch", lr=1e-3, weight_decay=0.01)``; ``params`` as for any torch
    optimizer (tensors, ``named_parameters()`` pairs, or param-group dicts with per-group hyperparameters).
    ``name_or_spec`` may also be a generated kernel module. ``arguments``: the spec's hyperparameters,
    ``betas``, and torch.optim's flags: ``amsgrad``/``nesterov``/``centered``/``decoupled_weight_decay``
    select the spec (``opt.name``), ``maximize`` steps along −g, ``foreach``/``fused`` mean this kernel,
    ``capturable``/``differentiable`` only False (:func:`interop.select`).

    * CPU tensors are updated in place through zero-copy NumPy views, by the compiled ``numba`` kernels
      where that backend is generated and importable, else by the NumPy kernels (``backend="auto"``;
      ``"numpy"``/``"numba"`` insist). CUDA tensors go through DLPack to the CuPy kernels, launched on
      torch's current stream: no copies, no host synchronisation.
    * float16/bfloat16 parameters compute in float32 with float32 state; float64 in float64.
    * DTensor parameters (FSDP2's ``fully_shard``) are updated shard by shard; their state is DTensors of
      the same placement.
    * ``flat=True`` moves each group's parameters of one device and dtype into one buffer and their
      gradients into a second (``p.data`` and ``p.grad`` become views, as DDP's ``gradient_as_bucket_view``),
      so a step is one kernel call per group and dtype. ``zero_grad`` then zeroes the gradient buffer in
      place and keeps the views: a parameter that gets no gradient is stepped with a zero gradient, as after
      ``zero_grad(set_to_none=False)``; parameters with ``requires_grad=False`` keep ``grad=None`` and are
      skipped. The optimizer owns the buffers: build it after moving or casting the model.

    As in torch, a parameter whose ``grad`` is None is skipped (its step count does not advance), and state
    is created at a parameter's first step, from that step's hyperparameters.
    """

    def __init__(self, params, name_or_spec, *, backend: str | None = None, flat: bool = False, **arguments):
        # torch's flags: amsgrad/nesterov/centered/decoupled_weight_decay pick the spec, the options are checked
        name_or_spec, self._flags, options, given = interop.select(name_or_spec, arguments)
        self._kernels = KernelSet(name_or_spec, backend)
        self.name = self._kernels.name
        self.flat = bool(flat)
        self._partitions: list[list[FlatPartition]] = []  # per param group, in flat mode
        self._bridges: dict[str, _Bridge] = {}
        # kernel arrays per parameter, by id (the param groups keep the parameters alive; Tensor.__hash__ is
        # a Python function, and this lookup is on the per-tensor path)
        self._views: dict[int, _arrays.ParameterArrays] = {}
        # segment-loop tables by (group, positions) (:meth:`_step_segments`)
        self._segment_tables: dict[tuple, _segments.SegmentTable] = {}
        # flat mode, by parameter id: its gradient view and array state views (what a step checks by identity)
        self._known: dict[int, tuple] = {}
        self._counters: list[GroupCounters] = []  # per param group: step counters and scalar state
        self._positions: dict[torch.Tensor, tuple[int, int]] = {}  # parameter -> (group, position)
        # parameters whose state init_state() created and initialised (their first step keeps it), by id
        self._eager: set[int] = set()
        reference = self._kernels.reference
        self._betas = _beta_names(reference.HYPERPARAMETERS)
        given = _translate_aliases(reference.HYPERPARAMETERS, given, f"{self.name}()")
        unknown = sorted(set(given) - set(reference.HYPERPARAMETERS))
        if unknown:
            raise TypeError(f"{self.name}: unknown hyperparameter(s) {', '.join(unknown)}; "
                            f"valid: {', '.join(reference.HYPERPARAMETERS)}")
        defaults = self._resolve(given, "defaults")
        if self._betas:
            defaults["betas"] = tuple(defaults[name] for name in self._betas)
        super().__init__(params, {**defaults, **self._flags, **options})
        if not _OPAQUE:
            _OPAQUE["update"] = torch.compiler.disable(Optimizer._update, recursive=True)

    def __getstate__(self):
        raise TypeError(f"{type(self).__name__} cannot be pickled or deep-copied (it holds kernel modules and, "
                        f"with flat=True, the model's buffers); save and load its state_dict() instead")

    # ------------------------------------------------------------------------------------------------
    # hyperparameters
    # ------------------------------------------------------------------------------------------------
    @property
    def hyperparameter_names(self) -> tuple[str, ...]:
        return tuple(self._kernels.reference.HYPERPARAMETERS)

    def _resolve(self, values: dict, where: str) -> dict:
        """Every hyperparameter (``values`` over the spec's defaults) as a float inside its domain."""
        reference = self._kernels.reference
        plain = {k: _as_number(v) for k, v in values.items() if k in reference.HYPERPARAMETERS}
        try:
            return _runtime.resolve_hyperparameters(self.name, reference.HYPERPARAMETERS, reference.DOMAINS, plain)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{error} (in {where})") from None

    def _group_hyperparameters(self, group: dict, index: int) -> dict:
        return self._resolve({k: group[k] for k in self.hyperparameter_names if k in group}, f"param group {index}")

    # ------------------------------------------------------------------------------------------------
    # param groups
    # ------------------------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group (checked first: hyperparameters in their domains, torch's flags, supported tensors)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        index = len(self.param_groups)
        where = f"param group {index}"
        group = _translate_aliases(self.hyperparameter_names, param_group, where)
        for key in group:
            if key not in self.defaults and key not in _BOOKKEEPING:
                close = difflib.get_close_matches(key, self.hyperparameter_names, n=1, cutoff=0.8)
                if close:  # other keys are carried along, as torch does (e.g. for user schedulers)
                    raise TypeError(f"{self.name}: {where} has {key!r}, not a hyperparameter; did you mean "
                                    f"{close[0]!r}? (valid: {', '.join(self.hyperparameter_names)})")
        hyperparameters = self._resolve({k: group.get(k, self.defaults[k]) for k in self.hyperparameter_names}, where)
        interop.check_options(group, f"{self.name}: {where}")
        for flag, value in self._flags.items():
            if flag in group and group[flag] != value:
                raise ValueError(f"{self.name}: {where} has {flag}={group[flag]!r}; {flag} selects the spec "
                                 f"({self.name} is {flag}={value}), so every group must share it")
        group = _ParamGroup({**{k: v for k, v in self.defaults.items() if k not in self.hyperparameter_names},
                             **group, **{k: group.get(k, hyperparameters[k]) for k in self.hyperparameter_names}},
                            self._betas)
        super().add_param_group(group)
        try:
            for position, p in enumerate(self.param_groups[-1]["params"]):
                self._check_parameter(p, f"{where}, parameter {position}")
        except Exception:
            self.param_groups.pop()
            raise
        params = self.param_groups[-1]["params"]
        self._counters.append(GroupCounters(len(params), self._kernels.reference.SCALAR_STATE))
        self._positions.update((p, (index, k)) for k, p in enumerate(params))
        if self.flat:
            self._partitions.append(self._build_partitions(index, params))

    def _check_parameter(self, p: torch.Tensor, where: str) -> None:
        if p.dtype not in _arrays.SUPPORTED_DTYPES:
            raise TypeError(f"{self.name}: {where} has dtype {p.dtype}; the kernels take float16, bfloat16, "
                            f"float32 and float64")
        if p.layout != torch.strided:
            raise TypeError(f"{self.name}: {where} has layout {p.layout}; only dense (strided) tensors")
        shard = _arrays.local(p)
        if shard.device.type not in ("cpu", "cuda"):
            raise TypeError(f"{self.name}: {where} is on {shard.device}; the kernels run on CPU and CUDA")
        if _arrays.memory_order(shard) is None:
            raise ValueError(f"{self.name}: {where} does not cover its memory densely (strides {shard.stride()})")
        if self.flat and _arrays.is_dtensor(p):
            raise ValueError(f"{self.name}: {where} is a DTensor; flat=True needs plain tensors (a sharded "
                             f"parameter is stepped shard by shard without it)")
        self._bridge(shard.device.type, shard.dtype)  # the backend can run it (CuPy, ml_dtypes installed)

    def _build_partitions(self, index: int, params: list) -> list[FlatPartition]:
        """One flat partition per device and dtype (frozen parameters apart, so that they do not keep the
        others from one call); every parameter gets its state entry (views) now."""
        by_kind = defaultdict(list)
        for k, p in enumerate(params):
            by_kind[(p.device, p.dtype, p.requires_grad)].append(k)
        partitions = [FlatPartition([params[k] for k in positions], positions, self._kernels.reference.STATE)
                      for positions in by_kind.values()]
        for partition in partitions:
            for j, (k, p) in enumerate(zip(partition.positions, partition.params)):
                views = partition.state_of(j)
                self.state[p] = {**self._counters[index].entry(k), **views}
                self._known[id(p)] = (partition.grad_views[j], tuple(views[name] for name in
                                                                      self._kernels.reference.STATE))
        return partitions

    def _bridge(self, device_type: str, dtype: torch.dtype) -> _Bridge:
        """The kernel module and array views for ``device_type``; raises ImportError when what it needs
        (CuPy for CUDA, ml_dtypes for bfloat16 on the CPU) is missing."""
        if device_type not in self._bridges:
            if device_type == "cuda":
                from optiforge.runtime.cupy_support import cupy_module

                cupy_module()
                self._bridges["cuda"] = _Bridge(self._kernels.cuda, _arrays.cupy_array, _arrays.cuda_launch)
            else:
                self._bridges["cpu"] = _Bridge(self._kernels.cpu, _arrays.numpy_array, _no_launch_context)
        if dtype == torch.bfloat16 and device_type == "cpu":
            try:
                import ml_dtypes  # noqa: F401
            except ImportError as error:
                raise ImportError(f"{self.name}: bfloat16 CPU parameters need ml_dtypes "
                                  f"(pip install ml_dtypes)") from error
        return self._bridges[device_type]

    # ------------------------------------------------------------------------------------------------
    # stepping
    # ------------------------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """As torch's; in flat mode the gradient buffers are zeroed in place and ``.grad`` stays their view."""
        if not self.flat:
            return super().zero_grad(set_to_none)
        for partitions in self._partitions:
            for partition in partitions:
                partition.zero_grad()

    @property
    def input_names(self) -> tuple[str, ...]:
        """The spec's inputs besides the gradient (``step`` takes each as a keyword argument)."""
        return tuple(getattr(self._kernels.reference, "INPUTS", ()))

    def step(self, closure=None, **inputs):
        """One update of every parameter that has a gradient; ``closure`` re-evaluates the loss (with grad).

        A spec with inputs besides the gradient (:attr:`input_names`, e.g. Sophia's ``hessian``) takes each
        as a keyword argument: a list with one tensor per parameter (every group's, in order) or a dict
        parameter → tensor, each of its parameter's shape, device and gradient's dtype:
        ``opt.step(hessian=[h.detach() for h in estimates])``. With a closure, the inputs are read after it
        ran (it may compute them).

        Every group's hyperparameters and flags, every gradient (shape, dtype, device, layout), every input
        and every state tensor are checked before anything is written: a refused step (ValueError/TypeError
        naming the group and parameter) leaves parameters, gradients, state and step counts as they were."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        _OPAQUE["update"](self, inputs)
        return loss

    def _update(self, inputs: dict | None = None) -> None:
        """Check every group, then step them (``step`` calls it as ``_OPAQUE["update"]``, opaque to dynamo)."""
        with torch.no_grad():
            by_parameter = self._inputs_by_parameter(inputs or {})
            plans = [self._plan(index, group, by_parameter) for index, group in enumerate(self.param_groups)]
            for plan in plans:
                plan()

    def _inputs_by_parameter(self, inputs: dict) -> dict[int, dict]:
        """id(parameter) → {input name: tensor}, from ``step``'s keyword arguments (checked: names, counts)."""
        expected = self.input_names
        unknown = sorted(set(inputs) - set(expected))
        if unknown:
            takes = f"it takes {', '.join(expected)}" if expected else "it takes none besides the gradients"
            raise TypeError(f"{self.name}: step() got unknown input(s) {', '.join(unknown)} ({takes})")
        params = [p for group in self.param_groups for p in group["params"]]
        by_parameter: dict[int, dict] = {id(p): {} for p in params}
        for name in expected:
            values = inputs.get(name)
            if values is None:
                raise TypeError(f"{self.name}: step() needs the input {name!r}: a list with one tensor per parameter "
                                f"(or a dict parameter → tensor), step({name}=[...])")
            if isinstance(values, dict):
                stray = [key for key in values if not isinstance(key, torch.Tensor) or id(key) not in by_parameter]
                if stray:
                    raise ValueError(f"{self.name}: {name} has a key that is not a parameter of this optimizer")
                pairs = [(id(p), values[p]) for p in params if p in values]
            elif isinstance(values, (list, tuple)):
                if len(values) != len(params):
                    raise ValueError(f"{self.name}: got {len(values)} tensors for {name} for {len(params)} "
                                     "parameters (one per parameter of every group, in order)")
                pairs = [(id(p), value) for p, value in zip(params, values)]
            else:
                raise TypeError(f"{self.name}: {name} must be a list of tensors (one per parameter) or a dict "
                                f"parameter → tensor, got {type(values).__name__}")
            for key, value in pairs:
                by_parameter[key][name] = value
        return by_parameter

    def _check_inputs_of(self, p: torch.Tensor, given: dict, where) -> None:
        """``p``'s inputs besides the gradient: every one given (when ``p`` has a gradient), a tensor of
        ``p``'s shape and device in its gradient's dtype, sharing no memory with ``p`` or its state."""
        if p.grad is None:
            return
        state = self.state.get(p) or {}
        storages = {_arrays.local(p).untyped_storage().data_ptr()} | {
            _arrays.local(t).untyped_storage().data_ptr() for name, t in state.items()
            if name in self._kernels.reference.STATE and isinstance(t, torch.Tensor)}
        for name in self.input_names:
            value = given.get(name)
            if value is None:
                raise TypeError(f"{where()}: no {name} given (its gradient is set)")
            if not isinstance(value, torch.Tensor) or value.layout != torch.strided:
                raise TypeError(f"{where()}: {name} must be a dense tensor, got {type(value).__name__}")
            if value.shape != p.shape or value.device != p.device or value.dtype != p.grad.dtype:
                raise ValueError(f"{where()}: {name} is {tuple(value.shape)} {value.dtype} on {value.device}, "
                                 f"expected {tuple(p.shape)} {p.grad.dtype} on {p.device} (the gradient's)")
            if _arrays.is_dtensor(value) != _arrays.is_dtensor(p):
                raise TypeError(f"{where()}: {name} and the parameter must both be DTensors or neither")
            if _arrays.local(value).untyped_storage().data_ptr() in storages:
                raise ValueError(f"{where()}: {name} shares memory with the parameter or its state")

    def init_state(self) -> None:
        """Create every parameter's state now, from its current value and its group's hyperparameters (the
        values a first step would start from), instead of at its first step; a parameter's first step then
        starts from this state as it is (state written into it before that step is kept). State that the
        spec initialises from the first gradient is set at the first step. Parameters with state are left
        as they are."""
        with torch.no_grad():
            for index, group in enumerate(self.param_groups):
                hyperparameters = self._group_hyperparameters(group, index)
                for p in group["params"]:
                    state = self.state[p]
                    if state and float(state["step"]) > 0:
                        continue
                    if not state:
                        self._create_state(p, state)
                    shard = _arrays.local(p)
                    bridge = self._bridge(shard.device.type, shard.dtype)
                    with bridge.launch(shard.device):
                        self._initialize(self._arrays_of(p, shard, state, bridge), state, hyperparameters, bridge)
                    self._eager.add(id(p))

    def _plan(self, index: int, group: dict, inputs: dict | None = None):
        """Check group ``index`` (nothing is written) and return the call that steps it."""
        where = f"{self.name}: param group {index}"
        hyperparameters = self._group_hyperparameters(group, index)
        options = interop.check_options(group, where)
        maximize = bool(options.get("maximize", False))
        for flag, value in self._flags.items():
            if group.get(flag, value) != value:
                raise ValueError(f"{where} has {flag}={group[flag]!r}; {flag} selects the spec ({self.name} is "
                                 f"{flag}={value}): build a new optimizer for the other variant")
        params = group["params"]
        if self.flat:
            for partition in self._partitions[index]:
                partition.check()
        elif not maximize and self._segment_loops:  # (a spec with inputs has no segment loops)
            whole = self._whole_group_step(index, params, hyperparameters)
            if whole is not None:
                return whole
        inputs = inputs or {}
        for k, p in enumerate(params):
            self._check_step_inputs(p, functools.partial(_parameter_where, where, k))
            if self.input_names:
                self._check_inputs_of(p, inputs.get(id(p), {}), functools.partial(_parameter_where, where, k))
        if self.flat:
            return lambda: [self._step_partition(index, partition, hyperparameters, maximize, inputs)
                            for partition in self._partitions[index]]
        positions = [k for k, p in enumerate(params) if p.grad is not None]
        return lambda: self._step_tensors(index, positions, [params[k].grad for k in positions], hyperparameters,
                                          maximize, inputs)

    def _check_step_inputs(self, p: torch.Tensor, where) -> None:
        """``p``'s gradient and state as a step needs them (what the kernels would refuse half-way); ``where()``
        names ``p`` in a message (formatted only then). A
        gradient that is its flat view, and array state that is what the last step used (the flat views, or
        the tensors behind ``p``'s cached kernel arrays), were checked then: identity suffices."""
        known = self._known.get(id(p))
        grad = p.grad
        if grad is not None and (known is None or grad is not known[0]):
            self._check_gradient(p, grad, where)
        state = self.state.get(p)
        if grad is not None and known is None:
            self._check_apart(p, grad, state, where)
        if not state:
            return
        reference = self._kernels.reference
        for name in ("step", *reference.SCALAR_STATE):
            value = state.get(name)
            if not isinstance(value, torch.Tensor) or value.numel() != 1:
                raise TypeError(f"{where()}: state[{name!r}] must be a one-element tensor, got "
                                f"{type(value).__name__}")
        step = float(state["step"])
        if not (step >= 0 and step.is_integer()):
            raise ValueError(f"{where()}: state['step'] must be an integer >= 0, got {step!r}")
        if known is not None and all(state.get(name) is tensor for name, tensor in zip(reference.STATE, known[1])):
            return
        arrays = self._views.get(id(p))
        if arrays is not None and arrays.current(_arrays.local(p), state, reference.STATE):
            return
        arithmetic = _arrays.state_dtype(p.dtype)
        order = _arrays.memory_order(_arrays.local(p))
        for name in reference.STATE:
            value = state.get(name)
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"{where()}: state[{name!r}] must be a tensor, got {type(value).__name__}")
            if value.shape != p.shape or value.dtype != arithmetic or value.device != p.device:
                raise ValueError(f"{where()}: state[{name!r}] is {tuple(value.shape)} {value.dtype} on "
                                 f"{value.device}, expected {tuple(p.shape)} {arithmetic} on {p.device}")
            if not _arrays.local(value).permute(order).is_contiguous():
                raise ValueError(f"{where()}: state[{name!r}] is laid out unlike its parameter (strides "
                                 f"{value.stride()}, the parameter's {p.stride()})")

    def _check_apart(self, p: torch.Tensor, grad: torch.Tensor, state: dict | None, where) -> None:
        """A gradient shares memory with neither its parameter (unless it is exactly the parameter's memory,
        which the kernels allow) nor its state, as the kernels' aliasing checks require (they run later)."""
        grad, shard = _arrays.local(grad), _arrays.local(p)
        storage = grad.untyped_storage().data_ptr()
        arrays = self._views.get(id(p))
        if arrays is not None and state and arrays.current(shard, state, self._kernels.reference.STATE):
            storages = arrays.storages
        else:
            storages = {shard.untyped_storage().data_ptr()}
            storages.update(_arrays.local(t).untyped_storage().data_ptr() for name, t in (state or {}).items()
                            if name in self._kernels.reference.STATE and isinstance(t, torch.Tensor))
        if storage in storages and not (grad.data_ptr() == shard.data_ptr() and grad.dtype == shard.dtype
                                        and grad.stride() == shard.stride()
                                        and storage == shard.untyped_storage().data_ptr()):
            raise ValueError(f"{where()}: its gradient shares memory with the parameter or its state")

    @staticmethod
    def _check_gradient(p: torch.Tensor, grad: torch.Tensor, where) -> None:
        if grad.layout != torch.strided:
            raise TypeError(f"{where()} has a sparse gradient ({grad.layout}); the kernels take dense gradients")
        if grad.shape != p.shape:
            raise ValueError(f"{where()} has a gradient of shape {tuple(grad.shape)}, expected "
                             f"{tuple(p.shape)} (the parameter's)")
        if grad.dtype not in _arrays.SUPPORTED_DTYPES:
            raise TypeError(f"{where()} has a gradient of dtype {grad.dtype}; the kernels take float16, "
                            f"bfloat16, float32 and float64")
        if grad.device != p.device:
            raise ValueError(f"{where()} has its gradient on {grad.device}, the parameter on {p.device}")
        if _arrays.is_dtensor(grad) != _arrays.is_dtensor(p):
            raise TypeError(f"{where()}: the gradient and the parameter must both be DTensors or neither")

    def _step_tensors(self, index: int, positions: list[int], grads: list, hyperparameters: dict,
                      maximize: bool = False, inputs: dict | None = None) -> None:
        """Step parameters ``positions`` of group ``index`` (along −g with ``maximize``; ``inputs``: a spec's
        inputs by parameter id): the CPU float32/float64 tensors that share a step count in one segment-loop
        call per dtype (:mod:`._segments`; specs without inputs), the others one kernel call each; then count
        their steps."""
        params = self.param_groups[index]["params"]
        if maximize:
            grads = [torch.neg(grad) for grad in grads]
        for k in positions:
            state = self.state[params[k]]
            if not state:
                self._create_state(params[k], state)
        if self._segment_loops:
            positions, grads = self._step_segments(index, positions, grads, hyperparameters)
        scalars = {name: [] for name in self._kernels.reference.SCALAR_STATE}
        for k, grad in zip(positions, grads):
            p = params[k]
            new = self._step_tensor(p, grad, self.state[p], hyperparameters, (inputs or {}).get(id(p), {}))
            for name, values in scalars.items():
                values.append(new[name])
        if positions:
            self._counters[index].advance(positions, scalars)

    def _whole_group_step(self, index: int, params: list, hyperparameters: dict):
        """The step of group ``index`` as one segment-loop call, or None. It is that call when the group's
        table (built by a step of every parameter through :meth:`_step_segments`) still holds its parameters
        and state, every gradient is one the table takes, and the step counts are one valid count: then these
        checks stand for :meth:`_check_step_inputs`' (what they would accept, nothing else); otherwise the
        general path checks and steps tensor by tensor."""
        table = self._segment_tables.get((index, tuple(range(len(params)))))
        if table is None or not table.holds(params, self.state, self._kernels.reference.STATE):
            return None
        grads = [p.grad for p in params]
        if not table.accepts(grads):
            return None
        steps = self._counters[index].steps.numpy()
        count = float(steps[0])
        if not (count >= 1 and count.is_integer() and (steps == count).all()):
            return None  # first steps, and counts someone changed, go the general way

        def step():
            table.set_gradients(grads)
            self._launch_segments(table, int(count) + 1, hyperparameters)
            torch.autograd.graph.increment_version(params)
            self._counters[index].advance(range(len(params)), {})

        return step

    @property
    def _segment_loops(self) -> bool:
        """Does the CPU module step several tensors in one call (numba, a spec without scalar state)?"""
        bridge = self._bridges.get("cpu")
        return bridge is not None and hasattr(bridge.module, "step_segments")

    def _step_segments(self, index: int, positions: list[int], grads: list, hyperparameters: dict):
        """Step, in one call per dtype, the parameters of ``positions`` that a segment loop takes (first steps
        included: their state is initialised first); count their steps. Returns the positions and gradients
        left to step one at a time."""
        params = self.param_groups[index]["params"]
        steps = self._counters[index].steps.numpy()
        names = self._kernels.reference.STATE
        chosen: dict = {}  # (dtype, t) -> positions, gradients
        rest_positions, rest_grads = [], []
        for k, grad in zip(positions, grads):
            p = params[k]
            if _segments.joins(p) and grad.dtype == p.dtype and grad.stride() == p.stride():
                entry = chosen.setdefault((p.dtype, int(steps[k]) + 1), ([], []))
                entry[0].append(k)
                entry[1].append(grad)
            else:
                rest_positions.append(k)
                rest_grads.append(grad)
        bridge = self._bridge("cpu", torch.float32) if chosen else None
        for (dtype, t), (chosen_positions, chosen_grads) in chosen.items():
            chosen_params = [params[k] for k in chosen_positions]
            states = [self.state[p] for p in chosen_params]
            key = (index, tuple(chosen_positions))
            table = self._segment_tables.get(key)
            if table is None or not table.current(chosen_params, states, names):
                table = self._segment_tables[key] = _segments.SegmentTable(chosen_params, states, names)
            if not table.accepts(chosen_grads):  # e.g. a gradient overlapping what the step writes (the parameter)
                rest_positions += chosen_positions
                rest_grads += chosen_grads
                continue
            if t == 1:
                for p, state in zip(chosen_params, states):
                    if id(p) not in self._eager:  # (init_state() made its state: the first step keeps it)
                        self._initialize(self._arrays_of(p, p, state, bridge), state, hyperparameters, bridge)
            table.set_gradients(chosen_grads)
            self._launch_segments(table, t, hyperparameters)
            torch.autograd.graph.increment_version(chosen_params)
            self._counters[index].advance(chosen_positions, {})
        return rest_positions, rest_grads

    def _launch_segments(self, table: _segments.SegmentTable, t: int, hyperparameters: dict) -> None:
        module, dtype = self._bridges["cpu"].module, table.dtype
        compiled = _compile_seconds()
        module.step_segments(table.table, table.segments, t, hyperparameters, dtype)
        key = (id(module), "segments", dtype.name)
        if key not in _FIRST_CALLS:
            _FIRST_CALLS.add(key)
            seconds = _compile_seconds() - compiled
            if seconds > SLOW_FIRST_CALL_S:
                _LOG.warning("optiforge.torch: compiling the numba segment loop of %s for %s took %.1f s (once per "
                             "process; later steps reuse it)", self.name, dtype.name, seconds)

    def _step_partition(self, index: int, partition: FlatPartition, hyperparameters: dict,
                        maximize: bool = False, inputs: dict | None = None) -> None:
        present = partition.gather()
        counters = self._counters[index]
        if not all(present) or not counters.uniform(partition.positions):
            # some parameters without a gradient, or state loaded per parameter: one call per tensor
            chosen = [j for j, there in enumerate(present) if there]
            self._step_tensors(index, [partition.positions[j] for j in chosen],
                               [partition.grad_views[j] for j in chosen], hyperparameters, maximize, inputs)
            return
        bridge = self._bridge(partition.device.type, partition.dtype)
        t = int(counters.steps[partition.positions[0]]) + 1
        with bridge.launch(partition.device) as stream:
            if t == 1:
                for p in partition.params:  # flat parameters are plain tensors: their own shard
                    entry = self.state[p]
                    if id(p) not in self._eager:
                        self._initialize(self._arrays_of(p, p, entry, bridge), entry, hyperparameters, bridge)
            arrays = partition.arrays(bridge.array)
            state = dict(arrays.state)
            state.update({name: float(self.state[partition.params[0]][name])
                          for name in self._kernels.reference.SCALAR_STATE})
            grad = bridge.array(torch.neg(partition.grad_buffer)) if maximize else arrays.grad
            extra = {name: bridge.array(partition.gather_input(name, [inputs[id(p)][name] for p in partition.params]))
                     for name in self.input_names}
            self._launch(bridge, stream, arrays.param, grad, state, t, hyperparameters, extra)
        counters.advance(partition.positions, {name: [state[name]] * len(partition.positions)
                                               for name in self._kernels.reference.SCALAR_STATE})
        for p in partition.params:  # a parameter made a view through .data keeps its own version counter
            torch.autograd.graph.increment_version(p)

    def _step_tensor(self, p: torch.Tensor, grad: torch.Tensor, state: dict, hyperparameters: dict,
                     inputs: dict | None = None) -> dict:
        """One kernel call for ``p``; returns the kernel's state dict (with the new scalar state). The caller
        counts the step.

        The first call on a set of kernel arrays is the kernel's checked ``step``; later calls on the same
        arrays (:meth:`_arrays.ParameterArrays.current`), whose gradient :meth:`_check_step_inputs` checked and
        that shares memory with none of them, skip the kernel's checks (``step_unchecked``)."""
        scalar_names = self._kernels.reference.SCALAR_STATE
        shard = _arrays.local(p)
        bridge = self._bridges.get("cuda" if shard.is_cuda else "cpu") or self._bridge(shard.device.type, shard.dtype)
        with bridge.launch(shard.device) as stream:
            arrays = self._arrays_of(p, shard, state, bridge)
            t = int(state["step"]) + 1
            if t == 1 and id(p) not in self._eager:
                self._initialize(arrays, state, hyperparameters, bridge)
            kernel_state = arrays.state
            if scalar_names:
                kernel_state = dict(kernel_state)
                kernel_state.update({name: float(state[name]) for name in scalar_names})
            local_grad = _arrays.local(grad)
            grad_array = arrays.gradient(local_grad)
            # the spec's inputs besides the gradient, as kernel arrays like it (checked in _check_inputs_of)
            extra = {name: arrays.gradient(_arrays.local(value)) for name, value in (inputs or {}).items()}
            if arrays.checked is not None and arrays.apart_from(local_grad):
                if stream is None:
                    bridge.module.step_unchecked(arrays.param, grad_array, kernel_state, t, hyperparameters,
                                                 arrays.checked, **extra)
                else:
                    bridge.module.step_unchecked(arrays.param, grad_array, kernel_state, t, hyperparameters,
                                                 arrays.checked, stream=stream, **extra)
            else:
                self._launch(bridge, stream, arrays.param, grad_array, kernel_state, t, hyperparameters, extra)
                arrays.checked = _runtime.compute_dtype(self.name, arrays.param.dtype)
        torch.autograd.graph.increment_version(shard)
        return kernel_state

    def _arrays_of(self, p: torch.Tensor, shard: torch.Tensor, state: dict, bridge: _Bridge) -> _arrays.ParameterArrays:
        """The cached kernel arrays of ``p`` (local shard ``shard``) and its state, rebuilt when one of these
        tensors was replaced."""
        names = self._kernels.reference.STATE
        arrays = self._views.get(id(p))
        if arrays is None or not arrays.current(shard, state, names):
            arrays = self._views[id(p)] = _arrays.ParameterArrays(shard, state, names, bridge.array)
        return arrays

    def _launch(self, bridge: _Bridge, stream, param, grad, state: dict, t: int, hyperparameters: dict,
                inputs: dict | None = None) -> None:
        module = bridge.module
        key = (id(module), str(param.dtype))  # kernel modules live as long as the process
        if key in _FIRST_CALLS:
            _call(module, stream, param, grad, state, t, {**hyperparameters, **(inputs or {})})
            return
        compiled = _compile_seconds()
        start = time.perf_counter()
        _call(module, stream, param, grad, state, t, {**hyperparameters, **(inputs or {})})
        seconds = time.perf_counter() - start
        _FIRST_CALLS.add(key)
        if getattr(module, "BACKEND", None) == "numba":  # numba's log says what was compiling, not computing
            seconds = _compile_seconds() - compiled
        if seconds > SLOW_FIRST_CALL_S:
            _LOG.warning("optiforge.torch: compiling the %s kernel of %s for %s took %.1f s (once per process; "
                         "later steps reuse it)", getattr(module, "BACKEND", "?"), self.name, key[1], seconds)

    def _create_state(self, p: torch.Tensor, state: dict) -> None:
        """Zeroed state for ``p`` (its values are written by :meth:`_initialize` at its first step)."""
        index, k = self._positions[p]
        arithmetic = _arrays.state_dtype(p.dtype)
        state.update(self._counters[index].entry(k))
        for name in self._kernels.reference.STATE:
            state[name] = torch.zeros_like(p, dtype=arithmetic, memory_format=torch.preserve_format)

    def _initialize(self, arrays: _arrays.ParameterArrays, state: dict, hyperparameters: dict,
                    bridge: _Bridge) -> None:
        """Write the spec's initial state values (from the parameter's current value and this step's
        hyperparameters) into ``arrays``' state and ``state``'s scalars."""
        initial = bridge.module.init_state(arrays.param, **hyperparameters)
        for name, array in arrays.state.items():
            array[...] = initial[name]
        for name in self._kernels.reference.SCALAR_STATE:
            state[name].fill_(float(initial[name]))

    # ------------------------------------------------------------------------------------------------
    # state dict
    # ------------------------------------------------------------------------------------------------
    def load_state_dict(self, state_dict: dict) -> None:
        """Load a :meth:`state_dict` (torch's layout: ``state`` per parameter index, ``param_groups``), this
        optimizer's or one saved by the matching ``torch.optim`` class (``torch.optim.AdamW(...).state_dict()``
        into ``"adamw_torch"``: state renamed as :data:`interop.PEERS` says, ``exp_avg`` → ``m``, …).

        Everything is checked before anything changes; values are copied into this optimizer's state
        tensors (flat buffers stay in place), cast to their dtype and device."""
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{self.name}: the state dict has {len(saved_groups)} param groups, this optimizer "
                             f"{len(self.param_groups)}")
        params, new_groups = {}, []
        for index, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{self.name}: param group {index} of the state dict has {len(saved['params'])} "
                                 f"parameters, this optimizer's {len(group['params'])}")
            where = f"{self.name}: param group {index} of the state dict"
            new_group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            if "betas" in new_group and self._betas and all(name in new_group for name in self._betas):
                del new_group["betas"]  # ours: both spellings (equal); a stale betas must not win
            new_group = _translate_aliases(self.hyperparameter_names, new_group, where)
            for name in self.hyperparameter_names:
                new_group.setdefault(name, group[name])
            self._group_hyperparameters(new_group, index)
            interop.check_options(new_group, where)
            for flag, value in self._flags.items():
                if new_group.setdefault(flag, value) != value:
                    raise ValueError(f"{where} has {flag}={new_group[flag]!r}, this optimizer ({self.name}) "
                                     f"{flag}={value}")
            for key, value in self.defaults.items():
                new_group.setdefault(key, value)
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                new_group["param_names"] = group["param_names"]
            new_groups.append(_ParamGroup(new_group, self._betas))
            params.update((key, (p, new_groups[-1])) for key, p in zip(saved["params"], group["params"]))
        updates = []
        peer = interop.PEERS.get(self.name)
        for key, saved_state in state_dict["state"].items():
            if key not in params:
                raise ValueError(f"{self.name}: the state dict has state for parameter {key!r}, which no param "
                                 f"group lists")
            p, new_group = params[key]
            if peer is not None:
                saved_state = interop.spec_state(peer, saved_state, new_group, p, f"{self.name}: state[{key!r}]")
            updates.append((p, self._checked_state(p, saved_state, key)))
        loaded = {id(p) for p, _ in updates}
        for group in self.param_groups:  # parameters without saved state start afresh
            for p in group["params"]:
                if id(p) not in loaded and self.state.get(p):
                    self._reset_state(p)
        for p, values in updates:
            state = self.state[p]
            if not state:
                self._create_state(p, state)
            for name, value in values.items():
                target = state[name]
                if _arrays.is_dtensor(target) and _arrays.is_dtensor(value):
                    _arrays.local(target).copy_(_arrays.local(value))
                else:
                    target.copy_(value)
        self.param_groups[:] = new_groups
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    def torch_state_dict(self) -> dict:
        """The state dict in the layout of this spec's ``torch.optim`` class (:data:`interop.PEERS`: state
        named as torch names it, ``betas`` tuples, torch's flags), for ``torch.optim.<Class>.load_state_dict``;
        ValueError for a spec that reproduces no torch.optim class."""
        return interop.torch_state_dict(self)

    def _reset_state(self, p: torch.Tensor) -> None:
        self._eager.discard(id(p))
        if self.flat:
            self.state[p]["step"].zero_()
        else:
            del self.state[p]

    def _checked_state(self, p: torch.Tensor, saved: dict, key) -> dict:
        """``saved`` (one parameter's state) as tensors, checked against this optimizer's spec and ``p``."""
        reference = self._kernels.reference
        expected = {"step", *reference.STATE, *reference.SCALAR_STATE}
        if set(saved) != expected:
            raise ValueError(f"{self.name}: state of parameter {key!r} has keys {sorted(saved)}, expected "
                             f"{sorted(expected)}")
        values = {}
        for name, value in saved.items():
            if name in reference.STATE:
                if not isinstance(value, torch.Tensor) or tuple(value.shape) != tuple(p.shape):
                    raise ValueError(f"{self.name}: state[{key!r}][{name!r}] has shape "
                                     f"{tuple(getattr(value, 'shape', ()))}, expected {tuple(p.shape)}")
                if _arrays.is_dtensor(p) != _arrays.is_dtensor(value) or (
                        _arrays.is_dtensor(p) and _arrays.local(value).shape != _arrays.local(p).shape):
                    raise ValueError(f"{self.name}: state[{key!r}][{name!r}] is sharded unlike its parameter "
                                     f"(DTensor state for DTensor parameters, with the same local shape)")
                values[name] = value.detach()
            else:
                number = _as_number(value)
                if not isinstance(number, numbers.Real) or isinstance(number, bool) or math.isnan(number):
                    raise TypeError(f"{self.name}: state[{key!r}][{name!r}] must be a real number, got {value!r}")
                if name == "step" and (number < 0 or not float(number).is_integer()):
                    raise ValueError(f"{self.name}: state[{key!r}]['step'] must be an integer >= 0, got {number!r}")
                values[name] = torch.tensor(float(number), dtype=torch.float64)
        return values


_NO_CONTEXT = contextlib.nullcontext()


#: ``update``: :meth:`Optimizer._update` as one opaque call for ``torch.compile(opt.step)``: dynamo runs it
#: eagerly instead of tracing the kernels (NumPy, numba and CuPy code updating memory in place). Made by the
#: first constructor (the decorator imports torch._dynamo, and so SymPy, as torch's Optimizer base does).
_OPAQUE: dict = {}


def _compile_seconds() -> float:
    """Seconds this process spent compiling (or loading) numba loops so far (0 without numba imported)."""
    runtime = sys.modules.get("optiforge.runtime.numba_support")
    return sum(record.seconds for record in runtime.compile_log()) if runtime is not None else 0.0


def _parameter_where(group_where: str, k: int) -> str:
    return f"{group_where}, parameter {k}"


def _call(module, stream, param, grad, state: dict, t: int, hyperparameters: dict) -> None:
    if stream is None:
        module.step(param, grad, state, t, **hyperparameters)
    else:
        module.step(param, grad, state, t, stream=stream, **hyperparameters)


def _no_launch_context(device):
    return _NO_CONTEXT


def _as_number(value):
    """A one-element tensor as a Python number (schedulers may store tensors); anything else unchanged."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return value


def _beta_names(names) -> tuple[str, ...]:
    """The spec's ``beta1``, ``beta2``, … (consecutive from 1): what torch's ``betas`` tuple holds."""
    betas = []
    while f"beta{len(betas) + 1}" in names:
        betas.append(f"beta{len(betas) + 1}")
    return tuple(betas)


def _translate_aliases(names, given: dict, where: str) -> dict:
    """torch's ``betas=(β₁, β₂[, β₃])`` as the spec's ``beta1``, ``beta2`` (``beta3``): one value per beta
    hyperparameter of the spec, as torch, which refuses ``betas=(0.9,)``."""
    if "betas" not in given:
        return dict(given)
    betas, targets = given["betas"], _beta_names(names)
    if not targets:
        raise TypeError(f"{where}: betas={betas!r} given, but the spec has no beta hyperparameters")
    if not isinstance(betas, (tuple, list)) or len(betas) != len(targets):
        raise ValueError(f"{where}: betas must be a tuple of {len(targets)} numbers "
                         f"({', '.join(targets)}), got {betas!r}")
    clash = [name for name in targets if name in given and given[name] != betas[targets.index(name)]]
    if clash:
        raise TypeError(f"{where}: both betas and {', '.join(clash)} given")
    result = {k: v for k, v in given.items() if k != "betas"}
    result.update(zip(targets, betas))
    return result


class _ParamGroup(dict):
    """A param group whose ``betas`` (torch's key, which ``OneCycleLR`` and ``CyclicLR`` write) and ``beta1``,
    ``beta2``, … (the spec's, which the step reads) stay equal: writing either writes the other."""

    def __init__(self, values: dict, betas: tuple[str, ...]):
        super().__init__(values)
        self._betas = betas
        if betas:
            dict.__setitem__(self, "betas", tuple(self[name] for name in betas))

    def __setitem__(self, key, value):
        betas = self._betas
        if key == "betas" and betas:
            if not isinstance(value, (tuple, list)) or len(value) != len(betas):
                raise ValueError(f"betas must be a tuple of {len(betas)} numbers ({', '.join(betas)}), "
                                 f"got {value!r}")
            for name, beta in zip(betas, value):
                dict.__setitem__(self, name, beta)
            value = tuple(value)
        elif key in betas:
            dict.__setitem__(self, "betas", tuple(value if name == key else self[name] for name in betas))
        dict.__setitem__(self, key, value)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def __reduce__(self):  # copies and pickles are plain dicts (as torch's own groups)
        return dict, (dict(self),)
