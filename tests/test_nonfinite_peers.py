"""NaN and inf land in the parameter where torch.optim puts them (tests/nonfinite_peers.py has the data, the
peers and the comparison), and the passes that make it so do what they claim."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import nonfinite_peers as nf
from optiforge import specs
from optiforge.codegen.driver import lower_and_optimize
from optiforge.codegen.passes.skip_zero_terms import switches

#: Specs whose torch peer is not matched yet, with the reason. adadelta_torch: the lowering substitutes Δ into
#: u ← ρu + (1−ρ)Δ², which SymPy folds into (u+ε)(1−ρ)g̃²/(v+ε): v = ∞ (the square overflowed, in torch too)
#: gives ∞/∞ = NaN in u where torch has Δ = √(u+ε)/∞·g̃ = 0 (see the report of issue 11).
KNOWN = {"adadelta_torch"}


def test_every_torch_peer_spec_has_a_peer_here():
    assert sorted(nf.torch_peer_specs()) == sorted(p.spec for p in nf.PEERS)


@pytest.mark.parametrize("peer", [p for p in nf.PEERS if p.spec not in KNOWN], ids=lambda p: p.spec)
def test_nan_and_inf_land_where_torch_puts_them(peer):
    """Every setting, float32 and float64: the same NaN/±inf elements in the parameters after every step, the
    same in the state arrays torch has, and finite values within rounding (NAdam excepted: torch's v/(1−β₂ᵗ)
    overflows for |g| ≳ 2e19 in float32 where ours, √v/√(1−β₂ᵗ), does not)."""
    for hyper in peer.settings:
        for dtype in (np.float32, np.float64):
            result = nf.compare(peer, hyper, dtype)
            assert result["param"] == 0, (hyper, np.dtype(dtype).name, result["where"])
            assert result["state"] == 0, (hyper, np.dtype(dtype).name)
            if not peer.spec.startswith("nadam"):
                assert result["finite"] == 0, (hyper, np.dtype(dtype).name)


def test_the_known_mismatch_is_still_one():
    """If this fails, adadelta_torch now matches torch: remove it from KNOWN."""
    peer = next(p for p in nf.PEERS if p.spec == "adadelta_torch")
    assert nf.compare(peer, peer.settings[0], np.float32)["param"] == 1


def _body(name: str) -> str:
    return " ; ".join(sp.sstr(e) for _, e in lower_and_optimize(specs.get(name)).ir.body)


def test_small_factor_multiplies_first():
    """(1−β₂)·g·g is ((1−β₂)·g)·g in the body, so the NumPy program multiplies c·g first."""
    from optiforge.generated.numpy import adam

    source = open(adam.__file__).read()
    assert "(c0*g)*g" in _body("adam")
    assert "numpy.multiply(c0, g, out=" in source and "numpy.multiply(g, g" not in source


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
