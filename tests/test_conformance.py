"""Conformance of every catalogue optimizer with an independent implementation.

A case is (spec, peer, peer factory, spec hyperparameters, tolerances): the spec's trajectory (through
:func:`catalog_support.trajectory`, i.e. every engine in ``ENGINES``) is compared over 200 steps with the peer's,
in float64 and in float32, with non-default hyperparameters, on random gradients (never zeros).

Peers: torch.optim 2.13, pytorch_optimizer 4.1 ("po"), torch_optimizer 0.3 ("to"). Harness hazards handled here
(docs/sources/peers.md): po and to mutate ``p.grad`` (a fresh tensor is assigned every step); po is run with
``foreach=False``; torch with ``foreach=False`` (and ``fused=False``), and the default dtype is set to float64 for
the float64 runs so that torch's step counters, NAdam's Π and ASGD's η/μ are float64; one parameter tensor per
optimizer, so po's per-group step counter equals the per-parameter one.

The optax-only forms (optax's AdaGrad, RMSprop, RAdam, optimistic gradient descent, AdaMaxW, NAdamW) are compared
with optax 0.2.8 itself, run in float64 (``tests/optax_peers.py``; every optax peer in both precisions, through the
JAX backend, is ``tests/test_optax_conformance.py``). Where no implementation exists (AdaDB, Ada_Nesterov, the
seed's AMSGrad, the paper's RAdam threshold, seed Yogi, paper diffGrad, AdaBelief without ε in the state,
NadaMax), the spec is compared with an independent hand-written float64 implementation of the paper's equations
below (float64 only).

Error measure: normwise relative error max|peer − spec| / max|spec| over the whole trajectory. float64 tolerance
1e-10 (torch uses FMA-based lerp and other op orders; the observed errors are ≤ ~1e-13). float32: the peer runs
in float32 and the spec in float64 from the same float32-rounded inputs; ~1 ulp (6e-8) per operation accumulates
over 200 steps, so 2e-5 for every case (observed: ≤ 7.3e-6, Adan). po's QHAdam keeps its bias-correction weights
in float32 even for float64 parameters, so that case has a float64 tolerance of 1e-7 (observed 2.6e-8).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest
import pytorch_optimizer as po
import torch
import torch_optimizer as to

from catalog_support import ENGINES, relative_error, trajectory
try:
    from optax_peers import BY_SPEC as OPTAX, reference as optax_reference
except ImportError:  # JAX needs Python >= 3.11; the test extra installs jax and optax there
    OPTAX = None

STEPS = 200
SIZE = 24


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    param = rng.normal(size=SIZE)
    scale = np.logspace(-2, 1, SIZE)  # per-element gradient scales over three decades
    grads = rng.normal(size=(STEPS, SIZE)) * scale + 0.3 * scale  # a drift, so moments do not average to 0
    return param, grads


@dataclass(frozen=True)
class Case:
    spec: str
    peer: str
    factory: Callable | None  # params -> torch optimizer; None for a hand-written reference
    hyper: dict = field(default_factory=dict)
    rtol64: float = 1e-10
    rtol32: float | None = 2e-5  # None: no float32 run (hand-written float64 references)
    reference: Callable | None = None  # (param, grads, **hyper) -> trajectory, for hand-written references

    @property
    def id(self) -> str:
        return f"{self.spec}~{self.peer}"


TORCH = dict(foreach=False)
TORCH_F = dict(foreach=False, fused=False)
TORCH_C = dict(foreach=False, capturable=False, differentiable=False)
PO = dict(foreach=False)
ADAM_H = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6)
ADAM_T = dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)


# --------------------------------------------------------------------------------------------------------------
# Hand-written float64 references of the papers' equations (independent of the specs and of specs.reference)
# --------------------------------------------------------------------------------------------------------------
def ref_adadb(param, grads, lr=1e-3, beta1=0.9, beta2=0.999, beta3=0.9, lam=0.1, eps=1e-8):
    """docs/sources/seed-002.md Algorithm 11 (Khan et al. 2021), with the history g_{t-1}, g_{t-2}, g_{t-3} kept in a list."""
    theta = np.array(param, dtype=np.float64)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    history = [np.zeros_like(theta)] * 3  # g_{t-1}, g_{t-2}, g_{t-3}
    out = []
    for t, g in enumerate(grads, start=1):
        g1, g2, g3 = history
        dg = beta3 * (g1 - g) + beta3**2 * (g2 - g1) + beta3**3 * (g3 - g2)
        abssig = 1.0 / (1.0 + np.exp(-np.abs(dg)))
        xi = np.where(g * g1 < 0, abssig, 1.0 + lam * abssig)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        theta = theta - lr * xi * m_hat / (np.sqrt(v_hat) + eps)
        history = [g.copy(), g1, g2]
        out.append(theta.copy())
    return np.array(out)


def ref_ada_nesterov_original(theta0, grad_fn, steps, momentum=0.5, decay=0.95, eps=1e-5):
    """docs/sources/seed-000.md eq. (12) in its original form: the gradient is taken at the look-ahead point θ + ρΔθ_{t−1}.
    Returns the look-ahead points θ_t + ρΔθ_t (what the reparametrised spec stores)."""
    theta = np.array(theta0, dtype=np.float64)
    delta = np.zeros_like(theta)
    acc = np.zeros_like(theta)
    out = []
    for _ in range(steps):
        rms_delta = np.sqrt(acc + eps)  # RMS[Δθ]_{t−1}, eq. (11)
        g = grad_fn(theta + momentum * delta)
        delta = momentum * delta - rms_delta * g  # eq. (12)
        theta = theta + delta
        acc = decay * acc + (1 - decay) * delta**2  # eq. (8)
        out.append(theta + momentum * delta)
    return np.array(out)


def ref_amsgrad_seed(param, grads, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """docs/sources/seed-002.md Algorithm 8 (= optax.amsgrad): max over the bias-corrected v̂."""
    theta, m, v, vmax, out = np.array(param, float), 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        vmax = np.maximum(vmax, v / (1 - beta2**t))
        theta = theta - lr * (m / (1 - beta1**t)) / (np.sqrt(vmax) + eps)
        out.append(theta)
    return np.array(out)


def ref_radam_paper(param, grads, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """docs/sources/seed-002.md Algorithm 14 / Liu et al. (2020) Algorithm 2: rectify when ρ_t > 4."""
    theta, m, v, out = np.array(param, float), 0.0, 0.0, []
    rho_inf = 2 / (1 - beta2) - 1
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho > 4:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            theta = theta - lr * r * m_hat / (np.sqrt(v / (1 - beta2**t)) + eps)
        else:
            theta = theta - lr * m_hat
        out.append(theta)
    return np.array(out)


def ref_yogi_seed(param, grads, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-3):
    """docs/sources/seed-002.md Algorithm 7: m₀ = v₀ = 0."""
    theta, m, v, out = np.array(param, float), 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = v - (1 - beta2) * np.sign(v - g**2) * g**2
        theta = theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        out.append(theta)
    return np.array(out)


def ref_diffgrad_paper(param, grads, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """docs/sources/seed-002.md Algorithm 10: ξ = AbsSig(g_{t−1} − g_t), θ ← θ − η ξ m̂/(√v̂ + ε)."""
    theta, m, v, prev, out = np.array(param, float), 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        xi = 1 / (1 + np.exp(-np.abs(prev - g)))
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        theta = theta - lr * xi * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        prev = g
        out.append(theta)
    return np.array(out)


def ref_adabelief_eps_outside(param, grads, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-16):
    theta, m, s, out = np.array(param, float), 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * (g - m) ** 2
        theta = theta - lr * (m / (1 - beta1**t)) / (np.sqrt(s / (1 - beta2**t)) + eps)
        out.append(theta)
    return np.array(out)


def ref_nadamax(param, grads, lr=2e-3, beta1=0.9, beta2=0.999):
    """Dozat (2016) §3: Nesterov's m̄ over AdaMax's infinity norm."""
    theta, m, u, out = np.array(param, float), 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        u = np.maximum(beta2 * u, np.abs(g))
        m_bar = beta1 * m / (1 - beta1 ** (t + 1)) + (1 - beta1) * g / (1 - beta1**t)
        theta = theta - lr * m_bar / u
        out.append(theta)
    return np.array(out)


def ref_adagrad_r0eps(param, grads, lr=1e-2, eps=1e-8):
    """docs/sources/seed-004.md §4 code: r₀ = ε, Δw = −η g/√r (checks the claimed identity with ε inside the root)."""
    theta, r, out = np.array(param, float), eps, []
    for g in grads:
        r = r + g**2
        theta = theta - lr * g / np.sqrt(r)
        out.append(theta)
    return np.array(out)


def ref_rmsprop_r0eps(param, grads, lr=1e-3, beta=0.999, eps=1e-8):
    theta, r, out = np.array(param, float), eps, []
    for g in grads:
        r = r * beta + (1 - beta) * g**2
        theta = theta - lr * g / np.sqrt(r)
        out.append(theta)
    return np.array(out)


def ref_adadelta_r0eps(param, grads, beta=0.999, eps=1e-8):
    """docs/sources/seed-004.md §6 code, including its algebraic shortcut s ← βs + (s/r)(1−β)g²."""
    theta, r, s, out = np.array(param, float), eps, eps, []
    for g in grads:
        g_square = (1 - beta) * g**2
        r = r * beta + g_square
        frac = s / r
        theta = theta - np.sqrt(frac) * g
        s = s * beta + frac * g_square
        out.append(theta)
    return np.array(out)


def ref_adam_eps_in_sqrt(param, grads, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    theta, m, v, out = np.array(param, float), 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        theta = theta - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps)
        out.append(theta)
    return np.array(out)


def ref_adam_r0eps(param, grads, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """docs/sources/seed-004.md §7 code with its `beta_i *= beta_i` line corrected to `beta_i *= beta`."""
    theta, s, r, a_i, b_i, out = np.array(param, float), 0.0, eps, 1.0, 1.0, []
    for g in grads:
        s = s * beta1 + (1 - beta1) * g
        r = r * beta2 + (1 - beta2) * g**2
        a_i, b_i = a_i * beta1, b_i * beta2
        theta = theta - lr * (1 - b_i) ** 0.5 / (1 - a_i) * s / np.sqrt(r)
        out.append(theta)
    return np.array(out)


def ref_nadam_seed(param, grads, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """docs/sources/seed-003.md §4.6 (text equation; its code divides m̂ by 1−β₁^t a second time, a bug)."""
    theta, m, v, out = np.array(param, float), 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        theta = theta - lr * (beta1 * m_hat + (1 - beta1) * g / (1 - beta1**t)) / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return np.array(out)


def ref_nadamax_seed(param, grads, lr=2e-3, beta1=0.9, beta2=0.999):
    """docs/sources/seed-004.md §10 code."""
    theta, s, r, a_i, out = np.array(param, float), 0.0, 0.0, 1.0, []
    for g in grads:
        s = s * beta1 + (1 - beta1) * g
        r = np.maximum(r * beta2, np.abs(g))
        a_i *= beta1
        theta = theta - lr / (1 - a_i) * (s * beta1 + (1 - beta1) * g) / r
        out.append(theta)
    return np.array(out)


#: The specs whose only peer is optax: compared with optax itself (tests/optax_peers.py).
OPTAX_FORMS = ("adagrad_optax", "rmsprop_optax", "rmsprop_optax_centered", "radam_optax", "optimistic_gd_optax",
               "adamaxw", "nadamw")


# --------------------------------------------------------------------------------------------------------------
# The case registry
# --------------------------------------------------------------------------------------------------------------
def _la(inner, k=4, alpha=0.6, lib=po):
    return lambda p: lib.Lookahead(inner(p), k=k, alpha=alpha)


CASES = [
    # ---- torch.optim ----
    Case("sgd", "torch.SGD", lambda p: torch.optim.SGD(p, lr=0.05, **TORCH_F), dict(lr=0.05)),
    Case("momentum", "torch.SGD(momentum)", lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.8, **TORCH_F),
         dict(lr=0.02, momentum=0.8)),
    Case("nesterov", "torch.SGD(nesterov)",
         lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.8, nesterov=True, **TORCH_F), dict(lr=0.02, momentum=0.8)),
    Case("sgd_torch", "torch.SGD(momentum,dampening,wd)",
         lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01, **TORCH_F),
         dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    Case("sgd_torch", "torch.SGD(wd)", lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.02, **TORCH_F),
         dict(lr=0.05, weight_decay=0.02)),
    Case("sgd_torch_nesterov", "torch.SGD(nesterov,wd)",
         lambda p: torch.optim.SGD(p, lr=0.03, momentum=0.7, nesterov=True, weight_decay=0.01, **TORCH_F),
         dict(lr=0.03, momentum=0.7, weight_decay=0.01)),
    Case("sgdw_po", "po.SGDW(momentum,dampening,wd)",
         lambda p: po.SGDW(p, lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1, **PO),
         dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    Case("adagrad", "torch.Adagrad", lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-6, **TORCH_F),
         dict(lr=0.1, eps=1e-6)),
    Case("adagrad_torch", "torch.Adagrad(lr_decay,init,wd)",
         lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.02, initial_accumulator_value=0.3,
                                       eps=1e-8, **TORCH_F),
         dict(lr=0.1, lr_decay=0.01, weight_decay=0.02, initial_accumulator_value=0.3, eps=1e-8)),
    Case("rmsprop", "torch.RMSprop", lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.95, eps=1e-6, **TORCH_C),
         dict(lr=0.01, beta=0.95, eps=1e-6)),
    Case("rmsprop_torch", "torch.RMSprop(momentum,wd)",
         lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.8, **TORCH_C),
         dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.8)),
    Case("rmsprop_torch_centered", "torch.RMSprop(centered,momentum,wd)",
         lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.5,
                                       centered=True, **TORCH_C),
         dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.5)),
    Case("adadelta", "torch.Adadelta(lr=1)", lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9, eps=1e-5, **TORCH_C),
         dict(rho=0.9, eps=1e-5)),
    Case("adadelta_torch", "torch.Adadelta(wd)",
         lambda p: torch.optim.Adadelta(p, lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.01, **TORCH_C),
         dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.01)),
    Case("adam", "torch.Adam", lambda p: torch.optim.Adam(p, **ADAM_T, **TORCH_F, capturable=False), ADAM_H),
    Case("adam_torch", "torch.Adam(wd)",
         lambda p: torch.optim.Adam(p, **ADAM_T, weight_decay=0.05, **TORCH_F), dict(ADAM_H, weight_decay=0.05)),
    Case("adamw_torch", "torch.AdamW", lambda p: torch.optim.AdamW(p, **ADAM_T, weight_decay=0.1, **TORCH_F),
         dict(ADAM_H, weight_decay=0.1)),
    Case("adamw", "torch.AdamW(λ_paper=lr·λ)", lambda p: torch.optim.AdamW(p, **ADAM_T, weight_decay=0.1, **TORCH_F),
         dict(ADAM_H, weight_decay=0.01 * 0.1)),
    Case("amsgrad_torch", "torch.Adam(amsgrad,wd)",
         lambda p: torch.optim.Adam(p, **ADAM_T, amsgrad=True, weight_decay=0.02, **TORCH_F),
         dict(ADAM_H, weight_decay=0.02)),
    Case("adamw_amsgrad_torch", "torch.AdamW(amsgrad)",
         lambda p: torch.optim.AdamW(p, **ADAM_T, amsgrad=True, weight_decay=0.1, **TORCH_F),
         dict(ADAM_H, weight_decay=0.1)),
    Case("adamax", "torch.Adamax(eps=0)",
         lambda p: torch.optim.Adamax(p, lr=0.01, betas=(0.8, 0.99), eps=0.0, **TORCH_C),
         dict(lr=0.01, beta1=0.8, beta2=0.99)),
    Case("adamax_torch", "torch.Adamax(wd)",
         lambda p: torch.optim.Adamax(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, **TORCH_C),
         dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.01)),
    Case("nadam", "torch.NAdam(momentum_decay=1e9)",
         lambda p: torch.optim.NAdam(p, lr=0.01, betas=(0.85, 0.995), eps=1e-7, momentum_decay=1e9, **TORCH_C),
         dict(lr=0.01, beta1=0.85, beta2=0.995, eps=1e-7)),
    Case("nadam_torch", "torch.NAdam(wd)",
         lambda p: torch.optim.NAdam(p, lr=0.01, betas=(0.85, 0.995), eps=1e-7, weight_decay=0.01,
                                     momentum_decay=5e-3, **TORCH_C),
         dict(lr=0.01, beta1=0.85, beta2=0.995, eps=1e-7, weight_decay=0.01, momentum_decay=5e-3)),
    Case("nadamw_torch", "torch.NAdam(decoupled_weight_decay)",
         lambda p: torch.optim.NAdam(p, lr=0.01, betas=(0.85, 0.995), eps=1e-7, weight_decay=0.05,
                                     momentum_decay=5e-3, decoupled_weight_decay=True, **TORCH_C),
         dict(lr=0.01, beta1=0.85, beta2=0.995, eps=1e-7, weight_decay=0.05, momentum_decay=5e-3)),
    Case("radam_torch", "torch.RAdam(wd)",
         lambda p: torch.optim.RAdam(p, lr=0.01, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.01, **TORCH_C),
         dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6, weight_decay=0.01)),
    Case("radamw_torch", "torch.RAdam(decoupled_weight_decay)",
         lambda p: torch.optim.RAdam(p, lr=0.01, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.1,
                                     decoupled_weight_decay=True, **TORCH_C),
         dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6, weight_decay=0.1)),
    Case("asgd_torch", "torch.ASGD",
         lambda p: torch.optim.ASGD(p, lr=0.02, lambd=1e-3, alpha=0.6, t0=50, weight_decay=0.01, **TORCH_C),
         dict(lr=0.02, lambd=1e-3, alpha=0.6, t0=50, weight_decay=0.01)),
    Case("rprop_torch", "torch.Rprop",
         lambda p: torch.optim.Rprop(p, lr=0.02, etas=(0.4, 1.3), step_sizes=(1e-5, 0.5), **TORCH_C),
         dict(lr=0.02, eta_minus=0.4, eta_plus=1.3, step_size_min=1e-5, step_size_max=0.5)),
    # ---- pytorch_optimizer (po) and torch_optimizer (to) ----
    Case("yogi_po", "po.Yogi(L2)",
         lambda p: po.Yogi(p, lr=0.02, betas=(0.85, 0.99), eps=1e-4, initial_accumulator=1e-5, weight_decay=0.01,
                           weight_decouple=False, **PO),
         dict(lr=0.02, beta1=0.85, beta2=0.99, eps=1e-4, initial_accumulator=1e-5, weight_decay=0.01)),
    Case("yogi_po", "to.Yogi(wd)",
         lambda p: to.Yogi(p, lr=0.02, betas=(0.85, 0.99), eps=1e-4, initial_accumulator=1e-5, weight_decay=0.01),
         dict(lr=0.02, beta1=0.85, beta2=0.99, eps=1e-4, initial_accumulator=1e-5, weight_decay=0.01)),
    Case("adabelief", "po.AdaBelief",
         lambda p: po.AdaBelief(p, lr=0.01, betas=(0.8, 0.99), eps=1e-10, **PO),
         dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-10)),
    Case("adabelief", "to.AdaBelief",
         lambda p: to.AdaBelief(p, lr=0.01, betas=(0.8, 0.99), eps=1e-10),
         dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-10)),
    Case("adabelief_l2", "to.AdaBelief(wd)",
         lambda p: to.AdaBelief(p, lr=0.01, betas=(0.8, 0.99), eps=1e-10, weight_decay=0.01),
         dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-10, weight_decay=0.01)),
    Case("adabelief_l2", "po.AdaBelief(L2)",
         lambda p: po.AdaBelief(p, lr=0.01, betas=(0.8, 0.99), eps=1e-10, weight_decay=0.01, weight_decouple=False,
                                **PO),
         dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-10, weight_decay=0.01)),
    Case("adabeliefw", "po.AdaBelief(wd)",
         lambda p: po.AdaBelief(p, lr=0.01, betas=(0.8, 0.99), eps=1e-10, weight_decay=0.1, **PO),
         dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-10, weight_decay=0.1)),
    Case("diffgrad_to", "to.DiffGrad(wd)",
         lambda p: to.DiffGrad(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01),
         dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.01)),
    Case("diffgrad_po", "po.DiffGrad(wd)",
         lambda p: po.DiffGrad(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, **PO),
         dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1)),
    Case("adabound", "to.AdaBound(wd)",
         lambda p: to.AdaBound(p, lr=0.01, betas=(0.8, 0.99), final_lr=0.05, gamma=2e-2, eps=1e-6,
                               weight_decay=0.01),
         dict(lr=0.01, beta1=0.8, beta2=0.99, final_lr=0.05, gamma=2e-2, eps=1e-6, weight_decay=0.01)),
    Case("adaboundw_po", "po.AdaBound(wd)",
         lambda p: po.AdaBound(p, lr=0.01, betas=(0.8, 0.99), final_lr=0.05, gamma=2e-2, eps=1e-6,
                               weight_decay=0.1, **PO),
         dict(lr=0.01, beta1=0.8, beta2=0.99, final_lr=0.05, gamma=2e-2, eps=1e-6, weight_decay=0.1)),
    Case("adamod", "to.AdaMod",
         lambda p: to.AdaMod(p, lr=0.01, betas=(0.8, 0.99), beta3=0.95, eps=1e-6),
         dict(lr=0.01, beta1=0.8, beta2=0.99, beta3=0.95, eps=1e-6)),
    Case("adamodw", "to.AdaMod(wd)",
         lambda p: to.AdaMod(p, lr=0.01, betas=(0.8, 0.99), beta3=0.95, eps=1e-6, weight_decay=0.1),
         dict(lr=0.01, beta1=0.8, beta2=0.99, beta3=0.95, eps=1e-6, weight_decay=0.1)),
    Case("adamodw", "po.AdaMod(wd)",
         lambda p: po.AdaMod(p, lr=0.01, betas=(0.8, 0.99, 0.95), eps=1e-6, weight_decay=0.1, **PO),
         dict(lr=0.01, beta1=0.8, beta2=0.99, beta3=0.95, eps=1e-6, weight_decay=0.1)),
    Case("radam_torch", "po.RAdam(degenerated_to_sgd)",
         lambda p: po.RAdam(p, lr=0.01, betas=(0.9, 0.99), eps=1e-6, degenerated_to_sgd=True, **PO),
         dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6)),
    Case("radam_po", "po.RAdam(wd)",
         lambda p: po.RAdam(p, lr=0.01, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.1, **PO),
         dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6, weight_decay=0.1)),
    Case("lion", "po.Lion", lambda p: po.Lion(p, lr=3e-3, betas=(0.8, 0.95), **PO),
         dict(lr=3e-3, beta1=0.8, beta2=0.95)),
    Case("lionw", "po.Lion(wd)", lambda p: po.Lion(p, lr=3e-3, betas=(0.8, 0.95), weight_decay=0.5, **PO),
         dict(lr=3e-3, beta1=0.8, beta2=0.95, weight_decay=0.5)),
    Case("adan", "po.Adan(proximal wd)",
         lambda p: po.Adan(p, lr=0.01, betas=(0.9, 0.85, 0.98), eps=1e-6, weight_decay=0.05, **PO),
         dict(lr=0.01, beta1=0.9, beta2=0.85, beta3=0.98, eps=1e-6, weight_decay=0.05)),
    Case("adanw", "po.Adan(weight_decouple)",
         lambda p: po.Adan(p, lr=0.01, betas=(0.9, 0.85, 0.98), eps=1e-6, weight_decay=0.05, weight_decouple=True,
                           **PO),
         dict(lr=0.01, beta1=0.9, beta2=0.85, beta3=0.98, eps=1e-6, weight_decay=0.05)),
    Case("qhadam", "to.QHAdam(nus,wd)",
         lambda p: to.QHAdam(p, lr=0.01, betas=(0.95, 0.998), nus=(0.7, 0.8), eps=1e-6, weight_decay=0.01),
         dict(lr=0.01, beta1=0.95, beta2=0.998, nu1=0.7, nu2=0.8, eps=1e-6, weight_decay=0.01)),
    Case("qhadam", "po.QHAdam(nus,wd)",
         lambda p: po.QHAdam(p, lr=0.01, betas=(0.95, 0.998), nus=(0.7, 0.8), eps=1e-6, weight_decay=0.01, **PO),
         dict(lr=0.01, beta1=0.95, beta2=0.998, nu1=0.7, nu2=0.8, eps=1e-6, weight_decay=0.01),
         rtol64=1e-7),  # po keeps the weights w₁, w₂ as float32 tensors even for float64 parameters
    Case("adopt", "po.ADOPT", lambda p: po.ADOPT(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, **PO),
         dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6)),
    # T = 250 > 200 steps: after T_max, CosineAnnealingLR rises again (it is periodic) where the spec holds η_min
    # (test_lion_cosine_holds_the_final_rate)
    Case("lion_cosine", "po.Lion+CosineAnnealingLR",
         lambda p: _with_scheduler(po.Lion(p, lr=3e-3, betas=(0.8, 0.95), **PO),
                                   lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=250, eta_min=1e-4)),
         dict(lr=3e-3, lr_min=1e-4, total_steps=250, beta1=0.8, beta2=0.95)),
    Case("schedule_free_adamw", "po.ScheduleFreeAdamW(warmup,r,wd)",
         lambda p: po.ScheduleFreeAdamW(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.01, r=0.5,
                                        weight_lr_power=2.0, warmup_steps=20, eps=1e-6, **PO),
         dict(lr=0.01, beta1=0.8, beta2=0.99, weight_decay=0.01, r=0.5, weight_lr_power=2.0, warmup_steps=20,
              eps=1e-6)),
    Case("signsgd", "po.SignSGD(momentum=0)", lambda p: po.SignSGD(p, lr=0.01, momentum=0.0, **PO), dict(lr=0.01)),
    Case("signum", "po.SignSGD(momentum)", lambda p: po.SignSGD(p, lr=0.01, momentum=0.8, **PO),
         dict(lr=0.01, momentum=0.8)),
    Case("lookahead_adam_torch", "po.Lookahead(torch.Adam)",
         _la(lambda p: torch.optim.Adam(p, **ADAM_T, weight_decay=0.01, **TORCH_F)),
         dict(ADAM_H, weight_decay=0.01, k=4, alpha=0.6)),
    Case("lookahead_sgd_torch", "po.Lookahead(torch.SGD)",
         _la(lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, **TORCH_F), k=3, alpha=0.3),
         dict(lr=0.02, momentum=0.9, k=3, alpha=0.3)),
    Case("lookahead_radam_torch", "po.Lookahead(torch.RAdam)",
         _la(lambda p: torch.optim.RAdam(p, lr=0.01, betas=(0.9, 0.99), eps=1e-6, **TORCH_C)),
         dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6, k=4, alpha=0.6)),
    Case("lookahead_adam_torch_to", "to.Lookahead(torch.Adam)",
         _la(lambda p: torch.optim.Adam(p, **ADAM_T, **TORCH_F), lib=to), dict(ADAM_H, k=4, alpha=0.6)),
    Case("qhm", "to.QHM(wd)", lambda p: to.QHM(p, lr=0.05, momentum=0.9, nu=0.6, weight_decay=0.01),
         dict(lr=0.05, momentum=0.9, nu=0.6, weight_decay=0.01)),
    Case("aggmo", "to.AggMo(wd)", lambda p: to.AggMo(p, lr=0.005, betas=(0.3, 0.8, 0.95), weight_decay=0.01),
         dict(lr=0.005, beta0=0.3, beta1=0.8, beta2=0.95, weight_decay=0.01)),
    Case("accsgd", "to.AccSGD(wd)",
         lambda p: to.AccSGD(p, lr=0.01, kappa=500.0, xi=8.0, small_const=0.6, weight_decay=0.01),
         dict(lr=0.01, kappa=500.0, xi=8.0, small_const=0.6, weight_decay=0.01)),
    Case("pid_to", "to.PID(wd)",
         lambda p: to.PID(p, lr=0.002, momentum=0.8, dampening=0.2, integral=3.0, derivative=4.0, weight_decay=0.01),
         dict(lr=0.002, momentum=0.8, dampening=0.2, integral=3.0, derivative=4.0, weight_decay=0.01)),
    Case("madgrad", "to.MADGRAD(wd)",
         lambda p: to.MADGRAD(p, lr=0.02, momentum=0.8, eps=1e-5, weight_decay=0.01),
         dict(lr=0.02, momentum=0.8, eps=1e-5, weight_decay=0.01)),
    # ---- hand-written float64 references (no installable implementation) ----
    Case("adadb", "hand-written (docs/sources/seed-002.md Alg. 11)", None, dict(lr=0.01, beta1=0.8, beta2=0.99, beta3=0.7, lam=0.3,
                                                                 eps=1e-6), reference=ref_adadb, rtol32=None),
    Case("amsgrad", "hand-written (docs/sources/seed-002.md Alg. 8 = optax.amsgrad)", None, ADAM_H, reference=ref_amsgrad_seed,
         rtol32=None),
    Case("radam", "hand-written (docs/sources/seed-002.md Alg. 14)", None, dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6),
         reference=ref_radam_paper, rtol32=None),
    Case("yogi", "hand-written (docs/sources/seed-002.md Alg. 7)", None, dict(lr=0.02, beta1=0.85, beta2=0.99, eps=1e-4),
         reference=ref_yogi_seed, rtol32=None),
    Case("diffgrad", "hand-written (docs/sources/seed-002.md Alg. 10)", None, ADAM_H, reference=ref_diffgrad_paper, rtol32=None),
    Case("adabelief_eps_outside", "hand-written", None, dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-10),
         reference=ref_adabelief_eps_outside, rtol32=None),
    Case("nadamax", "hand-written (Dozat 2016 §3)", None, dict(lr=0.01, beta1=0.85, beta2=0.99),
         reference=ref_nadamax, rtol32=None),
    Case("adagrad_eps_in_sqrt", "hand-written (docs/sources/seed-004.md §4 code, r₀ = ε)", None, dict(lr=0.05, eps=1e-4),
         reference=ref_adagrad_r0eps, rtol32=None),
    Case("rmsprop_r0eps", "hand-written (docs/sources/seed-004.md §5 code)", None, dict(lr=0.01, beta=0.95, eps=1e-4),
         reference=ref_rmsprop_r0eps, rtol32=None),
    Case("adadelta_r0eps", "hand-written (docs/sources/seed-004.md §6 code)", None, dict(beta=0.95, eps=1e-4),
         reference=ref_adadelta_r0eps, rtol32=None),
    Case("adam_eps_in_sqrt", "hand-written (docs/sources/seed-004.md eq. 4.5)", None, dict(ADAM_H, eps=1e-4),
         reference=ref_adam_eps_in_sqrt, rtol32=None),
    Case("adam_r0eps", "hand-written (docs/sources/seed-004.md §7 code)", None, dict(ADAM_H, eps=1e-4),
         reference=ref_adam_r0eps, rtol32=None),
    Case("nadam_seed", "hand-written (docs/sources/seed-003.md §4.6)", None, dict(lr=0.01, beta1=0.85, beta2=0.99, eps=1e-6),
         reference=ref_nadam_seed, rtol32=None),
    Case("nadamax_seed", "hand-written (docs/sources/seed-004.md §10 code)", None, dict(lr=0.01, beta1=0.85, beta2=0.99),
         reference=ref_nadamax_seed, rtol32=None),
    # ---- optax 0.2.8 itself (tests/optax_peers.py; float64 through jax_enable_x64) ----
    *(Case(spec, OPTAX[spec].call, None, OPTAX[spec].hyper, reference=optax_reference(OPTAX[spec]), rtol32=None)
      for spec in OPTAX_FORMS if OPTAX is not None),
]


def _with_scheduler(optimizer, scheduler):
    """A peer whose learning rate a torch scheduler sets: (optimizer, scheduler(optimizer)), the scheduler stepped
    after each optimizer step."""
    return optimizer, scheduler(optimizer)


def _peer_trajectory(case: Case, param: np.ndarray, grads: np.ndarray, dtype: torch.dtype) -> np.ndarray:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # step counters, NAdam's Π and ASGD's η/μ follow the default dtype
    try:
        p = torch.tensor(param, dtype=dtype, requires_grad=True)
        opt = case.factory([p])
        opt, scheduler = opt if isinstance(opt, tuple) else (opt, None)
        out = []
        for g in grads:
            p.grad = torch.tensor(g, dtype=dtype)  # fresh every step: po/to mutate p.grad in place
            opt.step()
            if scheduler is not None:
                scheduler.step()
            out.append(p.detach().to(torch.float64).numpy().copy())
        return np.array(out)
    finally:
        torch.set_default_dtype(previous)


_RESULTS: dict = {}


RUNS = [(case, precision) for case in CASES for precision in ("float64", "float32")
        if precision == "float64" or case.rtol32 is not None]  # hand-written references are float64 only


@pytest.mark.parametrize(("case", "precision"), RUNS, ids=[f"{c.id}-{p}" for c, p in RUNS])
def test_conformance(case: Case, precision: str, engine: str):
    param, grads = _data()
    if precision == "float32":
        param, grads = param.astype(np.float32).astype(np.float64), grads.astype(np.float32).astype(np.float64)
    # In float32 the generated kernel computes in float32 too, like the peer.
    ours = trajectory(case.spec, param, grads, engine, np.dtype(precision), **case.hyper)
    if case.factory is None:
        theirs = case.reference(param, grads, **case.hyper)
    else:
        theirs = _peer_trajectory(case, param, grads, torch.float64 if precision == "float64" else torch.float32)
    assert np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs))
    assert np.max(np.abs(ours[-1] - param)) > 1e-6, "the trajectory must move"
    error = relative_error(theirs, ours)
    _RESULTS[(case.id, precision, engine)] = error
    tolerance = case.rtol64 if precision == "float64" else case.rtol32
    assert error <= tolerance, f"{case.id} [{precision}]: relative error {error:.3e} > {tolerance:.1e}"


def test_ada_nesterov_matches_equation_12_in_original_form(engine):
    """Ada_Nesterov against docs/sources/seed-000.md eq. (12) with the gradient at the look-ahead point (no peer exists)."""
    rng = np.random.default_rng(1)
    a = np.exp(rng.uniform(-2, 1, SIZE))
    b = rng.normal(size=SIZE)
    grad_fn = lambda x: a * x - b + 0.1 * np.sin(3 * x)  # noqa: E731  (non-quadratic, so the point matters)
    theta0 = rng.normal(size=SIZE)
    hyper = dict(momentum=0.6, decay=0.9, eps=1e-4)
    expected = ref_ada_nesterov_original(theta0, grad_fn, STEPS, **hyper)
    from catalog_support import run_with_gradient
    ours = run_with_gradient("ada_nesterov", theta0, grad_fn, STEPS, engine, **hyper)
    assert relative_error(ours, expected) <= 1e-12


def test_every_spec_has_a_conformance_case():
    from optiforge import specs
    covered = {c.spec for c in CASES} | {"ada_nesterov", "sophia"}  # (sophia: test_sophia_with_a_supplied_hessian)
    if OPTAX is None:
        pytest.skip("optax (Python >= 3.11) is not installed: the optax-only forms have no peer here")
    missing = sorted(set(specs.names()) - covered)
    assert not missing, f"specs without an independent check: {missing}"


def conformance_table() -> list[tuple[str, str, float, float | None]]:
    """(spec, peer, float64 error, float32 error) for every case: the generated NumPy kernel in each precision
    against the peer in the same precision (or the hand-written float64 reference)."""
    rows = []
    for case in CASES:
        errors = []
        for precision in ("float64", "float32"):
            if precision == "float32" and case.rtol32 is None:
                errors.append(None)
                continue
            param, grads = _data()
            if precision == "float32":
                param, grads = param.astype(np.float32).astype(np.float64), grads.astype(np.float32).astype(np.float64)
            ours = trajectory(case.spec, param, grads, "numpy", np.dtype(precision), **case.hyper)
            theirs = (case.reference(param, grads, **case.hyper) if case.factory is None else
                      _peer_trajectory(case, param, grads, getattr(torch, precision)))
            errors.append(relative_error(theirs, ours))
        rows.append((case.spec, case.peer, *errors))
    return rows


if __name__ == "__main__":  # python tests/test_conformance.py: print the conformance table (Markdown)
    print("| optimizer | peer | float64 | float32 |\n|---|---|---|---|")
    for spec, peer, e64, e32 in conformance_table():
        print(f"| {spec} | {peer} | {e64:.1e} | {'—' if e32 is None else f'{e32:.1e}'} |")


def test_lion_cosine_holds_the_final_rate():
    """After T steps the rate is η_min: one step of Lion with sign(c) = ±1 moves θ by exactly η_min."""
    from optiforge import specs
    from optiforge.specs import reference
    spec = specs.get("lion_cosine")
    hyper = dict(lr=0.5, lr_min=0.125, total_steps=4, beta1=0.5, beta2=0.5)
    theta = np.array([1.0, -2.0])
    state = reference.init_state(spec, theta, **hyper)
    for t in (1, 5, 9):
        new, _ = reference.step(spec, theta, np.array([1.0, -1.0]), state, t, **hyper)
        rate = 0.5 if t == 1 else 0.125
        assert np.array_equal(theta - new, [rate, -rate]), (t, theta - new)


def _sophia_data(seed: int = 2):
    rng = np.random.default_rng(seed)
    scale = np.logspace(-2, 1, SIZE)
    return (rng.normal(size=(STEPS, SIZE)) + 0.5) * scale  # mostly positive; the negative ones meet the ε floor


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_sophia_with_a_supplied_hessian(precision, engine):
    """sophia against pytorch_optimizer's SophiaH given the same Hessian estimates through step(hessian=...) at the
    steps it reads them ((t − 1) mod k = 0; None between, where SophiaH reads none either)."""
    k, hyper = 3, dict(lr=0.01, beta1=0.9, beta2=0.95, p=0.05, update_period=3, eps=1e-6)
    param, grads = _data()
    hessians = _sophia_data()
    if precision == "float32":
        param, grads, hessians = (x.astype(np.float32).astype(np.float64) for x in (param, grads, hessians))
    ours = trajectory("sophia", param, grads, engine, np.dtype(precision), inputs=[{"hessian": h} for h in hessians],
                      **hyper)
    dtype = torch.float64 if precision == "float64" else torch.float32
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        p = torch.tensor(param, dtype=dtype, requires_grad=True)
        opt = po.SophiaH([p], lr=0.01, betas=(0.9, 0.95), p=0.05, update_period=k, eps=1e-6, **PO)
        theirs = []
        for t, (g, h) in enumerate(zip(grads, hessians), start=1):
            p.grad = torch.tensor(g, dtype=dtype)
            opt.step(hessian=[torch.tensor(h, dtype=dtype)] if (t - 1) % k == 0 else None)
            theirs.append(p.detach().to(torch.float64).numpy().copy())
    finally:
        torch.set_default_dtype(previous)
    assert np.max(np.abs(ours[-1] - param)) > 1e-6, "the trajectory must move"
    error = relative_error(np.array(theirs), ours)
    assert error <= (1e-10 if precision == "float64" else 2e-5), error
