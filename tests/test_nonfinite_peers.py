"""NaN and inf land in the parameter where the peers put them (tests/nonfinite_peers.py has the data, the peers and
the comparison: every torch.optim, pytorch_optimizer and torch_optimizer optimizer a catalogue spec claims), and
the passes that make it so do what they claim."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

import nonfinite_peers as nf
from optiforge import specs
from optiforge.codegen.driver import lower_and_optimize
from optiforge.codegen.passes.skip_zero_terms import switches

#: (spec, peer) pairs whose NaN/inf placement differs from the spec's, with the reason. Where a spec's peers
#: disagree with each other, the kernel follows the spec's ``numerics``, chosen for its first peer.
KNOWN = {
    ("adamodw", "torch_optimizer.AdaMod(weight_decay>0)"):
        "peers disagree: torch_optimizer decays θ + (−ηλ)θ (∞ − ∞ = NaN for an infinite θ), the first peer "
        "(pytorch_optimizer) θ(1 − ηλ)",
    ("adabound", "pytorch_optimizer.AdaBound(weight_decouple=False) (√(v+1e-15))"):
        "peers disagree: pytorch_optimizer averages m with lerp (∞ then finite g: NaN), the first peer "
        "(torch_optimizer) with mul_/add_ (∞ stays ∞)",
    ("qhadam", "pytorch_optimizer.QHAdam(weight_decouple=False)"):
        "pytorch_optimizer overflows (NaN) where the first peer, torch_optimizer, and the kernel stay finite",
    ("accsgd", "torch_optimizer.AccSGD"):
        "torch's add_(x, alpha=−η̄) is a fused multiply-add: −η̄g does not overflow on its own; NumPy has none",
    ("pid_to", "torch_optimizer.PID"):
        "torch_optimizer's first derivative term is g − g (NaN for an infinite g) where the spec has D₁ = 0",
}
#: State arrays only (the parameters agree): peers that average with mul_/add_ where the first peer uses lerp,
#: or the reverse (an infinite moment followed by a finite gradient: ∞ in one, NaN in the other).
STATE_DIFFERS = {("yogi_po", "torch_optimizer.Yogi"), ("adabelief", "torch_optimizer.AdaBelief(weight_decay=0)"),
                 ("adabelief_l2", "pytorch_optimizer.AdaBelief(weight_decouple=False)"),
                 # the spec writes (1 − β₂)·g², which overflows float32 for |g| ≳ 2e19 where the peer's addcmul
                 # ((1 − β₂)·g)·g does not: v is ∞ against a finite 1e38; the parameters agree
                 ("adopt", "pytorch_optimizer.ADOPT(weight_decay=0)")}
#: Finite values differ (no NaN/inf does): torch's NAdam forms v/(1−β₂ᵗ), which overflows for |g| ≳ 2e19 in float32
#: (its step becomes 0), where the kernel's √v/√(1−β₂ᵗ) does not.
FINITE_DIFFERS = {"nadam", "nadam_torch", "nadamw_torch"}


#: Claimed peers the NaN/inf driver (``nf.compare``: ``opt.step()`` on gradients only) cannot run yet, and why.
#: Each is checked on finite data in tests/test_conformance.py.
NOT_DRIVEN = {
    "lion_cosine": "its peer steps a CosineAnnealingLR after each step",
    "schedule_free_adamw": "its peer's parameters are the train-mode point, read through its own eval switch",
    "sophia": "its peer takes a Hessian estimate each step (step(hessian=...)), which the driver does not pass",
}


def test_every_claimed_peer_is_driven():
    claimed = {(spec, peer) for spec, peer in nf.claimed_peers() if spec not in NOT_DRIVEN}
    assert claimed == {(p.spec, p.name) for p in nf.PEERS}


@pytest.mark.parametrize("peer", [p for p in nf.PEERS if (p.spec, p.name) not in KNOWN],
                         ids=lambda p: f"{p.spec}~{p.name}")
def test_nan_and_inf_land_where_the_peer_puts_them(peer):
    """Every setting, float32 and float64: the same NaN/±inf elements in the parameters after every step, the
    same in the state arrays the peer has, and finite values within rounding."""
    for hyper in peer.settings:
        for dtype in (np.float32, np.float64):
            result = nf.compare(peer, hyper, dtype)
            assert result["param"] == 0, (hyper, np.dtype(dtype).name, result["where"])
            if (peer.spec, peer.name) not in STATE_DIFFERS:
                assert result["state"] == 0, (hyper, np.dtype(dtype).name)
            if peer.spec not in FINITE_DIFFERS:
                assert result["finite"] == 0, (hyper, np.dtype(dtype).name)


@pytest.mark.parametrize("pair", sorted(KNOWN), ids="~".join)
def test_the_known_differences_are_still_there(pair):
    """If one fails, the kernel now matches that peer: remove it from KNOWN."""
    peer = next(p for p in nf.PEERS if (p.spec, p.name) == pair)
    assert any(nf.compare(peer, hyper, np.float32)["param"] for hyper in peer.settings)


def _body(name: str) -> str:
    return " ; ".join(sp.sstr(e) for _, e in lower_and_optimize(specs.get(name)).ir.body)


def test_small_factor_multiplies_first():
    """(1−β₂)·g·g is ((1−β₂)·g)·g in the body, so the NumPy program multiplies c·g first."""
    from optiforge.generated.numpy import adam

    source = open(adam.__file__).read()
    assert "(c0*g)*g" in _body("adam")
    # (the module numbers its constants in order of definition: the IR's c0 prints as another c)
    assert re.search(r"numpy\.multiply\(c\d+, g, out=", source) and "numpy.multiply(g, g" not in source


def test_zero_switches_skip_their_terms():
    """weight_decay = 0: an infinite θ stays infinite (torch skips g + 0·θ); momentum = 0 in RMSprop: an infinite
    buffer from an earlier step does not turn the step into NaN."""
    assert {s.name for s in switches(specs.get("rmsprop_torch"))} == {"weight_decay", "momentum"}
    assert {s.name for s in switches(specs.get("adam"))} == set()  # β's are not switches
    from optiforge.generated.numpy import adam_torch, rmsprop_torch

    param = np.array([np.inf, -np.inf, 1.0])
    state = adam_torch.init_state(param)
    adam_torch.step(param, np.ones(3), state, 1, weight_decay=0.0)
    assert param[0] == np.inf and param[1] == -np.inf and np.isfinite(param[2])
    param = np.array([1.0, 2.0])
    state = rmsprop_torch.init_state(param)
    state["b"][...] = np.inf  # what an infinite gradient leaves behind with momentum > 0
    rmsprop_torch.step(param, np.ones(2), state, 2, momentum=0.0)
    assert np.all(np.isfinite(param))


def test_centred_second_moment_does_not_form_the_square():
    body = _body("rmsprop_torch_centered")
    assert "Abs(x1) + Sqrt(x2)" in body and "x1*x1" not in body
    # optax's ν − μ² + ε is left as written (optax computes it without a fused multiply-add)
    assert "x0*x0" in _body("rmsprop_optax_centered")


def test_moment_averages_are_lerps():
    assert "c2*(g - m) + m" in _body("adam")  # torch: m.lerp_(g, 1 − β₁)
    assert "(c1*x0)*x0" in _body("adam_torch")  # the second moment keeps addcmul's form


def test_a_squared_temporary_is_computed_once_and_squared():
    """AdaDelta's u ← ρu + (1−ρ)Δ² with Δ computed first (torch: addcmul_(Δ, Δ)): where v overflowed to ∞, Δ = 0
    and u stays finite, where (u+ε)g²/(v+ε) would be ∞/∞ = NaN."""
    from optiforge.generated.numpy import adadelta_torch

    assert "(c1*d0)*d0" in _body("adadelta_torch")
    param = np.ones(2, np.float32)
    state = adadelta_torch.init_state(param)
    adadelta_torch.step(param, np.array([1e20, 1.0], np.float32), state, 1)  # (1−ρ)g² overflows: v = ∞
    assert np.isinf(state["v"][0]) and np.all(np.isfinite(state["u"])) and np.all(np.isfinite(param))


def test_sign_is_torch_sign_where_the_numerics_say_so():
    """torch.sign(NaN) = 0: a NaN gradient leaves signSGD's parameter where it is; with the default numerics the
    body keeps sign (NaN stays NaN, as jnp.sign)."""
    import dataclasses

    from optiforge.generated.numpy import signsgd

    param = np.array([1.0, 2.0])
    signsgd.step(param, np.array([np.nan, 1.0]), {}, 1, lr=0.5)
    assert param.tolist() == [1.0, 1.5]
    assert "sign(" not in _body("signsgd")
    as_optax = dataclasses.replace(specs.get("signsgd"), numerics=specs.Numerics())
    assert "sign(g)" in " ; ".join(sp.sstr(e) for _, e in lower_and_optimize(as_optax).ir.body)


def test_averages_follow_the_numerics():
    """torch_optimizer averages with mul_/add_ (adabound's first peer), pytorch_optimizer with lerp (adaboundw_po);
    a momentum that may be 0 (Signum) is a lerp where it is not: an infinite m and a finite g give NaN, as
    pytorch_optimizer's buf.lerp_, and sign(NaN) = 0 leaves the parameter."""
    assert "(g - m)" not in _body("adabound") and "(g - m)" in _body("adaboundw_po")
    from optiforge.generated.numpy import signum

    param, state = np.array([1.0, 2.0]), {"m": np.array([np.inf, 0.0])}
    signum.step(param, np.array([1.0, 1.0]), state, 2, lr=0.5, momentum=0.9)
    assert np.isnan(state["m"][0]) and param.tolist() == [1.0, 1.5]


def test_a_square_keeps_addcmuls_order_for_torch_peers():
    """MADGRAD's ν + λ_t·g² with λ_t = (η+ε)√t, not provably ≤ 1: (λ_t·g)·g as torch_optimizer's addcmul_, so a
    gradient whose square overflows does not make ν infinite."""
    assert "(c1*x1)*x1" in _body("madgrad")
