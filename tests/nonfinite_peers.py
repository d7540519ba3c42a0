"""Where NaN and inf land: every spec that claims to reproduce an optimizer of torch.optim, pytorch_optimizer or
torch_optimizer (``spec.peers``), driven side by side with that optimizer on extreme, infinite and NaN gradients
and parameters.

A *run* is one (spec, hyperparameter setting, dtype): :data:`STEPS` steps of the generated NumPy kernel (in the
run's dtype, as the peer computes) and of the peer (``foreach=False``, the for-loop path, with torch's default
dtype set to the run's dtype), from the same parameters and gradients. After every step the parameters are
compared:

* *parameter mismatch*: the run has a step where NaN, +inf or −inf are not in exactly the same elements;
* *state mismatch*: the same for the state arrays that have a counterpart in the peer (:attr:`Peer.state`);
* *finite differences*: elements finite in both whose values differ by more than a few rounding errors
  (``rtol`` below) — a finite value that overflowed in one of the two shows up as a parameter mismatch.

The data (:func:`data`) mixes ordinary elements with parameters that start at ±inf, NaN or near the largest
finite value, and gradients with single spikes whose square overflows (while (1 − β₂)·g·g does not), long runs
of huge values, ±inf, NaN, zeros and subnormals. Settings run each peer's switches (weight decay, momentum)
both nonzero and zero: torch skips a term whose hyperparameter is 0.

``python tests/nonfinite_peers.py`` prints the table.
"""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytorch_optimizer as po
import torch
import torch_optimizer as to

STEPS = 24
TORCH = dict(foreach=False)
TORCH_F = dict(foreach=False, fused=False)
TORCH_C = dict(foreach=False, capturable=False, differentiable=False)


def _betas(h):
    return (h["beta1"], h["beta2"])


@dataclass(frozen=True)
class Peer:
    """How to build the torch optimizer for a spec from the spec's hyperparameters."""

    spec: str
    make: Callable  # (params, hyperparameters) -> torch optimizer
    settings: tuple  # hyperparameter dicts (spec names)
    #: our state name -> the peer's per-parameter state key
    state: dict = field(default_factory=dict)
    #: which of ``spec.peers`` this is (default: the torch.optim one)
    label: str = ""

    @property
    def name(self) -> str:
        from optiforge import specs

        return self.label or next(p for p in specs.get(self.spec).peers if "torch" in p)


ADAM_STATE = {"m": "exp_avg", "v": "exp_avg_sq"}
ADAM_H = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6)
ADAM_H999 = dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
YOGI_H = dict(lr=0.02, beta1=0.85, beta2=0.99, eps=1e-4, initial_accumulator=1e-5)
BELIEF_H, BELIEF_STATE = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-10), {"m": "exp_avg", "s": "exp_avg_var"}
DIFF_H = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6)
BOUND_H = dict(lr=0.01, beta1=0.8, beta2=0.99, final_lr=0.05, gamma=2e-2, eps=1e-6)
MOD_H, MOD_STATE = dict(lr=0.01, beta1=0.8, beta2=0.99, beta3=0.95, eps=1e-6), {**ADAM_STATE, "s": "exp_avg_lr"}
RADAM_H = dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6)
LION_H = dict(lr=3e-3, beta1=0.8, beta2=0.95)
ADAN_H = dict(lr=0.01, beta1=0.9, beta2=0.85, beta3=0.98, eps=1e-6)
ADAN_STATE = {"m": "exp_avg", "v": "exp_avg_diff", "n_ema": "exp_avg_sq"}  # po keeps −g as previous_grad
QH_H = dict(lr=0.01, beta1=0.95, beta2=0.998, nu1=0.7, nu2=0.8, eps=1e-6)


def _wd(*settings, value=0.01):
    """Each setting with weight_decay = value and = 0."""
    return tuple(dict(s, weight_decay=w) for s in settings for w in (value, 0.0))


def _lookahead(inner, lib=po):
    return lambda p, h: lib.Lookahead(inner(p, h), k=int(h["k"]), alpha=h["alpha"])


def _adam(p, h, **extra):
    return torch.optim.Adam(p, lr=h["lr"], betas=_betas(h), eps=h["eps"], weight_decay=h.get("weight_decay", 0.0),
                            **extra, **TORCH_F)


def _sgd(p, h, **extra):
    return torch.optim.SGD(p, lr=h["lr"], momentum=h.get("momentum", 0.0), dampening=h.get("dampening", 0.0),
                           weight_decay=h.get("weight_decay", 0.0), **extra, **TORCH_F)


PO = dict(foreach=False)
B12, B123 = ("beta1", "beta2"), ("beta1", "beta2", "beta3")


def _other(cls, betas=(), names=(), **fixed):
    """A pytorch_optimizer or torch_optimizer optimizer from the spec's hyperparameters: ``lr``, ``eps``,
    ``weight_decay`` where the spec has them, ``betas`` from the β's named in ``betas``, the hyperparameters in
    ``names`` under their own names, and ``fixed`` keywords (a callable is applied to the hyperparameters)."""
    def make(p, h):
        kwargs = {k: h[k] for k in ("lr", "eps", "weight_decay", *names) if k in h}
        if betas:
            kwargs["betas"] = tuple(h[n] for n in betas)
        kwargs.update({k: v(h) if callable(v) else v for k, v in fixed.items()})
        return cls(p, **kwargs)
    return make


def _radam(p, h, **extra):
    return torch.optim.RAdam(p, lr=h["lr"], betas=_betas(h), eps=h["eps"], weight_decay=h["weight_decay"], **extra,
                             **TORCH_C)


PEERS = [
    Peer("sgd", lambda p, h: _sgd(p, h), (dict(lr=0.05),)),
    Peer("sgd_torch", lambda p, h: _sgd(p, h),
         _wd(dict(lr=0.05, momentum=0.8, dampening=0.3), dict(lr=0.05, momentum=0.0, dampening=0.0)),
         {"b": "momentum_buffer"}),
    Peer("sgd_torch_nesterov", lambda p, h: _sgd(p, h, nesterov=True), _wd(dict(lr=0.03, momentum=0.7)),
         {"b": "momentum_buffer"}),
    Peer("adagrad", lambda p, h: torch.optim.Adagrad(p, lr=h["lr"], eps=h["eps"], **TORCH_F),
         (dict(lr=0.1, eps=1e-6),), {"r": "sum"}),
    Peer("adagrad_torch", lambda p, h: torch.optim.Adagrad(
        p, lr=h["lr"], lr_decay=h["lr_decay"], weight_decay=h["weight_decay"],
        initial_accumulator_value=h["initial_accumulator_value"], eps=h["eps"], **TORCH_F),
         _wd(dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.3, eps=1e-8)), {"sum": "sum"}),
    Peer("rmsprop", lambda p, h: torch.optim.RMSprop(p, lr=h["lr"], alpha=h["beta"], eps=h["eps"], **TORCH_C),
         (dict(lr=0.01, beta=0.95, eps=1e-6),), {"r": "square_avg"}),
    Peer("rmsprop_torch", lambda p, h: torch.optim.RMSprop(
        p, lr=h["lr"], alpha=h["alpha"], eps=h["eps"], weight_decay=h["weight_decay"], momentum=h["momentum"],
        **TORCH_C), _wd(dict(lr=0.01, alpha=0.9, eps=1e-6, momentum=0.8), dict(lr=0.01, alpha=0.99, eps=1e-8,
                                                                          momentum=0.0)),
         {"v": "square_avg"}),
    Peer("rmsprop_torch_centered", lambda p, h: torch.optim.RMSprop(
        p, lr=h["lr"], alpha=h["alpha"], eps=h["eps"], weight_decay=h["weight_decay"], momentum=h["momentum"],
        centered=True, **TORCH_C), _wd(dict(lr=0.01, alpha=0.9, eps=1e-6, momentum=0.5),
                                       dict(lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0)),
         {"v": "square_avg", "g_avg": "grad_avg"}),
    Peer("adadelta_torch", lambda p, h: torch.optim.Adadelta(
        p, lr=h["lr"], rho=h["rho"], eps=h["eps"], weight_decay=h["weight_decay"], **TORCH_C),
         _wd(dict(lr=0.5, rho=0.8, eps=1e-5)), {"v": "square_avg", "u": "acc_delta"}),
    Peer("adam", lambda p, h: _adam(p, h), (ADAM_H, ADAM_H999), ADAM_STATE),
    Peer("adam_torch", lambda p, h: _adam(p, h), _wd(ADAM_H, ADAM_H999), ADAM_STATE),
    Peer("amsgrad_torch", lambda p, h: _adam(p, h, amsgrad=True), _wd(ADAM_H),
         {**ADAM_STATE, "v_max": "max_exp_avg_sq"}),
    Peer("adamw_torch", lambda p, h: torch.optim.AdamW(p, lr=h["lr"], betas=_betas(h), eps=h["eps"],
                                                       weight_decay=h["weight_decay"], **TORCH_F),
         _wd(ADAM_H, value=0.1), ADAM_STATE),
    Peer("adamw", lambda p, h: torch.optim.AdamW(p, lr=h["lr"], betas=_betas(h), eps=h["eps"],
                                                 weight_decay=h["weight_decay"] / h["lr"], **TORCH_F),
         _wd(dict(ADAM_H, schedule_multiplier=1.0), value=0.001), ADAM_STATE),
    Peer("adamw_amsgrad_torch", lambda p, h: torch.optim.AdamW(
        p, lr=h["lr"], betas=_betas(h), eps=h["eps"], weight_decay=h["weight_decay"], amsgrad=True, **TORCH_F),
         _wd(ADAM_H, value=0.1), {**ADAM_STATE, "v_max": "max_exp_avg_sq"}),
    Peer("adamax_torch", lambda p, h: torch.optim.Adamax(
        p, lr=h["lr"], betas=_betas(h), eps=h["eps"], weight_decay=h["weight_decay"], **TORCH_C),
         _wd(dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6)), {"m": "exp_avg", "u": "exp_inf"}),
    Peer("nadam", lambda p, h: torch.optim.NAdam(p, lr=h["lr"], betas=_betas(h), eps=h["eps"], momentum_decay=1e9,
                                                 **TORCH_C), (dict(lr=0.01, beta1=0.85, beta2=0.995, eps=1e-7),),
         ADAM_STATE),
    Peer("nadam_torch", lambda p, h: torch.optim.NAdam(
        p, lr=h["lr"], betas=_betas(h), eps=h["eps"], weight_decay=h["weight_decay"],
        momentum_decay=h["momentum_decay"], **TORCH_C),
         _wd(dict(lr=0.01, beta1=0.85, beta2=0.995, eps=1e-7, momentum_decay=5e-3)), ADAM_STATE),
    Peer("nadamw_torch", lambda p, h: torch.optim.NAdam(
        p, lr=h["lr"], betas=_betas(h), eps=h["eps"], weight_decay=h["weight_decay"],
        momentum_decay=h["momentum_decay"], decoupled_weight_decay=True, **TORCH_C),
         _wd(dict(lr=0.01, beta1=0.85, beta2=0.995, eps=1e-7, momentum_decay=5e-3), value=0.05), ADAM_STATE),
    Peer("radam_torch", lambda p, h: _radam(p, h), _wd(dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6)), ADAM_STATE),
    Peer("radamw_torch", lambda p, h: _radam(p, h, decoupled_weight_decay=True),
         _wd(dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6), value=0.1), ADAM_STATE),
    Peer("asgd_torch", lambda p, h: torch.optim.ASGD(
        p, lr=h["lr"], lambd=h["lambd"], alpha=h["alpha"], t0=h["t0"], weight_decay=h["weight_decay"], **TORCH_C),
         _wd(dict(lr=0.02, lambd=1e-3, alpha=0.6, t0=10.0)), {"ax": "ax"}),
    Peer("rprop_torch", lambda p, h: torch.optim.Rprop(
        p, lr=h["lr"], etas=(h["eta_minus"], h["eta_plus"]), step_sizes=(h["step_size_min"], h["step_size_max"]),
        **TORCH_C), (dict(lr=0.02, eta_minus=0.4, eta_plus=1.3, step_size_min=1e-5, step_size_max=0.5),),
         {"g_prev": "prev", "step_size": "step_size"}),
    Peer("lookahead_adam_torch", _lookahead(lambda p, h: _adam(p, h)), _wd(dict(ADAM_H, k=4, alpha=0.6))),
    Peer("lookahead_adam_torch_to", _lookahead(lambda p, h: _adam(p, h), lib=to),
         _wd(dict(ADAM_H, k=4, alpha=0.6))),
    Peer("lookahead_radam_torch", _lookahead(lambda p, h: _radam(p, h)),
         _wd(dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6, k=4, alpha=0.6))),
    Peer("lookahead_sgd_torch", _lookahead(lambda p, h: _sgd(p, h)),
         _wd(dict(lr=0.02, momentum=0.9, dampening=0.0, k=3, alpha=0.3), dict(lr=0.02, momentum=0.0, dampening=0.0,
                                                                             k=3, alpha=0.3))),
    # ---- pytorch_optimizer ("po", foreach=False) and torch_optimizer ("to") ----
    Peer("sgdw_po", _other(po.SGDW, names=("momentum", "dampening"), **PO),
         _wd(dict(lr=0.05, momentum=0.8, dampening=0.3), dict(lr=0.05, momentum=0.0, dampening=0.0), value=0.1),
         {"b": "momentum_buffer"}, "pytorch_optimizer.SGDW"),
    Peer("adopt", _other(po.ADOPT, B12, **PO), (dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-6),), ADAM_STATE),
    Peer("yogi_po", _other(po.Yogi, B12, ("initial_accumulator",), weight_decouple=False, **PO), _wd(YOGI_H),
         ADAM_STATE, "pytorch_optimizer.Yogi(weight_decouple=False)"),
    Peer("yogi_po", _other(to.Yogi, B12, ("initial_accumulator",)), _wd(YOGI_H), ADAM_STATE,
         "torch_optimizer.Yogi"),
    Peer("adabelief", _other(po.AdaBelief, B12, **PO), (BELIEF_H,), BELIEF_STATE,
         "pytorch_optimizer.AdaBelief(weight_decay=0)"),
    Peer("adabelief", _other(to.AdaBelief, B12), (BELIEF_H,), BELIEF_STATE, "torch_optimizer.AdaBelief(weight_decay=0)"),
    Peer("adabelief_l2", _other(to.AdaBelief, B12), _wd(BELIEF_H), BELIEF_STATE,
         "torch_optimizer.AdaBelief (default weight_decouple=False)"),
    Peer("adabelief_l2", _other(po.AdaBelief, B12, weight_decouple=False, **PO), _wd(BELIEF_H), BELIEF_STATE,
         "pytorch_optimizer.AdaBelief(weight_decouple=False)"),
    Peer("adabeliefw", _other(po.AdaBelief, B12, **PO), _wd(BELIEF_H, value=0.1), BELIEF_STATE,
         "pytorch_optimizer.AdaBelief (default weight_decouple=True)"),
    Peer("diffgrad_to", _other(to.DiffGrad, B12), _wd(DIFF_H), {**ADAM_STATE, "g_prev": "previous_grad"},
         "torch_optimizer.DiffGrad"),
    Peer("diffgrad_po", _other(po.DiffGrad, B12, **PO), _wd(DIFF_H, value=0.1), {**ADAM_STATE, "g_prev": "previous_grad"},
         "pytorch_optimizer.DiffGrad"),
    Peer("adabound", _other(to.AdaBound, B12, ("final_lr", "gamma")), _wd(BOUND_H), ADAM_STATE,
         "torch_optimizer.AdaBound"),
    Peer("adabound", _other(po.AdaBound, B12, ("final_lr", "gamma"), weight_decouple=False, **PO), _wd(BOUND_H),
         ADAM_STATE, "pytorch_optimizer.AdaBound(weight_decouple=False) (√(v+1e-15))"),
    Peer("adaboundw_po", _other(po.AdaBound, B12, ("final_lr", "gamma"), **PO), _wd(BOUND_H, value=0.1), ADAM_STATE,
         "pytorch_optimizer.AdaBound"),
    Peer("adamodw", _other(to.AdaMod, B12, ("beta3",)), (dict(MOD_H, weight_decay=0.1),), MOD_STATE,
         "torch_optimizer.AdaMod(weight_decay>0)"),
    Peer("adamodw", _other(po.AdaMod, B123, **PO), _wd(MOD_H, value=0.1), MOD_STATE,
         "pytorch_optimizer.AdaMod(betas=(0.9, 0.999, 0.999))"),
    Peer("radam_torch", _other(po.RAdam, B12, degenerated_to_sgd=True, **PO), (dict(RADAM_H, weight_decay=0.0),),
         ADAM_STATE, "pytorch_optimizer.RAdam(degenerated_to_sgd=True, weight_decay=0)"),
    Peer("radamw_torch", _other(po.RAdam, B12, degenerated_to_sgd=True, **PO), _wd(RADAM_H, value=0.1), ADAM_STATE,
         "pytorch_optimizer.RAdam(degenerated_to_sgd=True)"),
    Peer("radam_po", _other(po.RAdam, B12, **PO), _wd(RADAM_H, value=0.1), ADAM_STATE, "pytorch_optimizer.RAdam"),
    Peer("lion", _other(po.Lion, B12, **PO), (LION_H,), {"m": "exp_avg"}, "pytorch_optimizer.Lion(weight_decay=0)"),
    Peer("lionw", _other(po.Lion, B12, **PO), _wd(LION_H, value=0.5), {"m": "exp_avg"}, "pytorch_optimizer.Lion"),
    Peer("adan", _other(po.Adan, B123, **PO), _wd(ADAN_H, value=0.05), ADAN_STATE,
         "pytorch_optimizer.Adan(weight_decouple=False)"),
    Peer("adanw", _other(po.Adan, B123, weight_decouple=True, **PO), _wd(ADAN_H, value=0.05), ADAN_STATE,
         "pytorch_optimizer.Adan(weight_decouple=True)"),
    Peer("qhadam", _other(to.QHAdam, B12, nus=lambda h: (h["nu1"], h["nu2"])), _wd(QH_H), ADAM_STATE,
         "torch_optimizer.QHAdam"),
    Peer("qhadam", _other(po.QHAdam, B12, nus=lambda h: (h["nu1"], h["nu2"]), **PO), _wd(QH_H), ADAM_STATE,
         "pytorch_optimizer.QHAdam(weight_decouple=False)"),
    Peer("signsgd", _other(po.SignSGD, momentum=0.0, **PO), (dict(lr=0.01),), {}, "pytorch_optimizer.SignSGD(momentum=0)"),
    Peer("signum", _other(po.SignSGD, names=("momentum",), **PO), (dict(lr=0.01, momentum=0.8),),
         {"m": "momentum_buffer"}, "pytorch_optimizer.SignSGD(momentum=β)"),
    Peer("qhm", _other(to.QHM, names=("momentum", "nu")), _wd(dict(lr=0.05, momentum=0.9, nu=0.6)),
         {"b": "momentum_buffer"}, "torch_optimizer.QHM"),
    Peer("aggmo", _other(to.AggMo, ("beta0", "beta1", "beta2")), _wd(dict(lr=0.005, beta0=0.3, beta1=0.8, beta2=0.95)),
         {}, "torch_optimizer.AggMo"),
    Peer("accsgd", _other(to.AccSGD, names=("kappa", "xi", "small_const")),
         _wd(dict(lr=0.01, kappa=500.0, xi=8.0, small_const=0.6)), {"bar_a": "momentum_buffer"},
         "torch_optimizer.AccSGD"),
    Peer("pid_to", _other(to.PID, names=("momentum", "dampening", "integral", "derivative")),
         _wd(dict(lr=0.002, momentum=0.8, dampening=0.2, integral=3.0, derivative=4.0)), {}, "torch_optimizer.PID"),
    Peer("madgrad", _other(to.MADGRAD, names=("momentum",)), _wd(dict(lr=0.02, momentum=0.8, eps=1e-5)),
         {"x0": "x0", "nu": "grad_sum_sq", "s": "s"}, "torch_optimizer.MADGRAD"),
]


def claimed_peers() -> set[tuple[str, str]]:
    """(spec, peer) for every peer of a catalogue spec that runs on torch (optax does not install here: its peers
    are checked by hand-written formulas in test_conformance.py, without NaN/inf cases)."""
    from optiforge import specs
    from optiforge.codegen.passes.torch_sign import TORCH_LIBRARIES

    return {(n, p) for n in specs.names() for p in specs.get(n).peers if p.startswith(TORCH_LIBRARIES)}


# ---------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------
def data(dtype, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(initial parameters, gradients of shape (STEPS, n)) in ``dtype``: one column per kind of element."""
    rng = np.random.default_rng(seed)
    big = float(np.finfo(dtype).max)
    # |g| with g·g > max but (1 − β₂)·g·g < max for β₂ ∈ [0.9, 0.999], a little above and far above that band
    band = [2 * np.sqrt(big), 6 * np.sqrt(big), 30 * np.sqrt(big), big ** 0.75, big / 4]
    tiny = float(np.finfo(dtype).smallest_subnormal) * 8
    columns, params = [], []

    def column(values, start=None):
        columns.append(values)
        params.append(rng.standard_normal() if start is None else start)

    normal = lambda: rng.standard_normal(STEPS)  # noqa: E731
    for start in (np.inf, -np.inf, np.nan, big / 2, -big / 2, 0.0):
        column(normal(), start)
    for value in band:
        for at in (0, 5):
            spike = normal()
            spike[at] = value * rng.choice([-1, 1])
            column(spike)
        column(np.full(STEPS, value) * np.sign(rng.standard_normal(STEPS)))  # huge every step
    for special in (np.inf, -np.inf, np.nan):
        for at in (0, 3, 11):
            g = normal()
            g[at] = special
            column(g)
    both = normal()
    both[[4, 5]] = np.inf, -np.inf
    column(both)
    column(np.zeros(STEPS))
    column(np.full(STEPS, tiny))
    zeros_then = normal()
    zeros_then[:6] = 0.0
    column(zeros_then)
    for start in (np.inf, np.nan, big / 2):  # non-finite or huge parameters with non-finite gradients
        g = normal()
        g[2] = np.inf
        column(g, start)
    for _ in range(6):
        column(normal())
    with np.errstate(over="ignore"):
        return np.array(params).astype(dtype), np.ascontiguousarray(np.array(columns).T.astype(dtype))


# ---------------------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------------------
def run_ours(name: str, hyper: dict, param, grads, dtype):
    module = importlib.import_module(f"optiforge.generated.numpy.{name}")
    p = np.array(param, dtype=dtype)
    state = module.init_state(p, **hyper)
    params, states = [], []
    for t, g in enumerate(grads, start=1):
        module.step(p, np.asarray(g, dtype), state, t, **hyper)
        params.append(p.astype(np.float64))
        states.append({k: np.asarray(v, np.float64).copy() for k, v in state.items() if isinstance(v, np.ndarray)})
    return params, states


def run_peer(peer: Peer, hyper: dict, param, grads, dtype):
    torch_dtype = {np.float32: torch.float32, np.float64: torch.float64}[np.dtype(dtype).type]
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch_dtype)
    try:
        p = torch.tensor(param, dtype=torch_dtype, requires_grad=True)
        opt = peer.make([p], hyper)
        params, states = [], []
        for g in grads:
            p.grad = torch.tensor(g, dtype=torch_dtype)
            opt.step()
            params.append(p.detach().to(torch.float64).numpy().copy())
            inner = getattr(opt, "optimizer", opt)
            state = inner.state[p] if p in inner.state else {}
            states.append({ours: state[theirs].detach().to(torch.float64).numpy().copy()
                           for ours, theirs in peer.state.items() if theirs in state})
        return params, states
    finally:
        torch.set_default_dtype(previous)


def _pattern(a):
    return np.isnan(a), np.isposinf(a), np.isneginf(a)


def _same_pattern(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(_pattern(a), _pattern(b)))


RTOL = {np.float32: 2e-4, np.float64: 1e-9}


def compare(peer: Peer, hyper: dict, dtype, seed: int = 0) -> dict:
    """Counts for one run: parameter mismatch (0/1), state mismatch (0/1), finite differences (elements), and the
    first mismatching step and elements (for the report)."""
    param, grads = data(dtype, seed)
    ours, our_states = run_ours(peer.spec, hyper, param, grads, dtype)
    theirs, their_states = run_peer(peer, hyper, param, grads, dtype)
    result = {"param": 0, "state": 0, "finite": 0, "where": None}
    rtol = RTOL[np.dtype(dtype).type]
    scale = np.where(np.isfinite(param), np.abs(param.astype(np.float64)), 0.0)
    for step, (a, b) in enumerate(zip(ours, theirs), start=1):
        if not _same_pattern(a, b):
            result["param"] = 1
            if result["where"] is None:
                elements = np.flatnonzero(~np.all([x == y for x, y in zip(_pattern(a), _pattern(b))], axis=0))
                result["where"] = (step, elements[:6].tolist(), a[elements[:3]].tolist(), b[elements[:3]].tolist())
        finite = np.isfinite(a) & np.isfinite(b)
        # Rounding is relative to the magnitudes an element has had (a difference of huge steps may cancel to 0).
        scale = np.maximum(scale, np.where(finite, np.maximum(np.abs(a), np.abs(b)), 0.0))
        with np.errstate(invalid="ignore"):
            result["finite"] += int(np.count_nonzero(finite & (np.abs(a - b) > rtol * scale + 1e-300)))
    for mine, other in zip(our_states, their_states):
        for key, value in other.items():
            if not _same_pattern(mine[key], value):
                result["state"] = 1
    return result


def table(peers=None, dtypes=(np.float32, np.float64), seeds=(0,)) -> list[tuple]:
    """(spec, runs, parameter mismatches, state mismatches, finite differences, first mismatch) per spec."""
    rows = []
    for peer in peers or PEERS:
        counts = {"runs": 0, "param": 0, "state": 0, "finite": 0, "where": None}
        for hyper in peer.settings:
            for dtype in dtypes:
                for seed in seeds:
                    result = compare(peer, hyper, dtype, seed)
                    counts["runs"] += 1
                    for key in ("param", "state", "finite"):
                        counts[key] += result[key]
                    if result["where"] and counts["where"] is None:
                        counts["where"] = (hyper, np.dtype(dtype).name, result["where"])
        rows.append((peer.spec, counts["runs"], counts["param"], counts["state"], counts["finite"], counts["where"]))
    return rows


def main(argv: list[str]) -> None:
    names = set(argv)
    peers = [p for p in PEERS if not names or p.spec in names]
    rows = table(peers, seeds=(0, 1))
    print("| spec | peer | runs | parameter mismatches | state mismatches | finite differences |\n|---|---|---|---|---|---|")
    for peer, (spec, runs, param, state, finite, where) in zip(peers, rows):
        print(f"| {spec} | {peer.name} | {runs} | {param} | {state} | {finite} |")
    totals = [sum(r[i] for r in rows) for i in (1, 2, 3, 4)]
    print(f"| **all** | | {totals[0]} | {totals[1]} | {totals[2]} | {totals[3]} |")
    for peer, (spec, *_, where) in zip(peers, rows):
        if where:
            print(f"{spec} ~ {peer.name}: first parameter mismatch {where}")


if __name__ == "__main__":
    main(sys.argv[1:])
