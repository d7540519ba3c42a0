"""Conformance of the JAX kernels, through ``optiforge.optax.transform``, with real optax (0.2.8), for every
catalogue spec whose peers include optax (``tests/optax_peers.py``).

Each case runs 50 jitted steps of both transforms on a random pytree (a matrix, a vector and a nested list) with
drifting random gradients, in float64 (``jax_enable_x64``) and float32; the error is normwise relative over the
trajectory (max |ours − optax| / max |optax|). Bounds: float64 1e-12 (observed ≤ 3e-15), float32 2e-5, the
NumPy backend's bound against its peers in ``tests/test_conformance.py`` (observed ≤ 7e-7).

NaN and ±inf: from every pairing of {±inf, NaN, ±huge, tiny, 0, 1, −2} as parameter and gradient, then a finite
step (op by op: two steps do not pay a compilation), the parameters are NaN and ±inf in the same elements as optax's, except where a spec's ``numerics`` follow
its torch peer or its own formula on purpose (:data:`KNOWN_NONFINITE`, each with its reason; the test also checks
that each listed difference is still there).

``python tests/test_optax_conformance.py`` prints the table (Markdown).
"""
from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")

import optiforge.optax  # noqa: E402
from optax_peers import CASES, both, flat  # noqa: E402

STEPS = 50
TOLERANCE = {"float64": 1e-12, "float32": 2e-5}
SHAPES = {"w": (4, 6), "b": (6,), "deep": [(3,)]}

#: spec → why its NaN/±inf placement differs from optax's (the spec's numerics choose another peer's).
KNOWN_NONFINITE = {
    "adagrad_optax": "the spec's update is 0 where s = 0 (a Piecewise); optax multiplies g by where(s > 0, "
                     "rsqrt(s + ε), 0), so a NaN gradient gives NaN there",
    "signsgd": "TORCH_NUMERICS: sign(NaN) = 0 (torch.sign, the first peer's); optax's jnp.sign(NaN) is NaN",
    "signum": "TORCH_NUMERICS: sign(NaN) = 0 (torch.sign); optax's jnp.sign(NaN) is NaN",
    "lion": "TORCH_NUMERICS: sign(NaN) = 0 (torch.sign); optax's jnp.sign(NaN) is NaN",
    "lionw": "decoupled decay θ(1 − ηλ) first (torch's order): an infinite θ stays infinite, optax's θ − η(u + λθ) "
             "is NaN; and sign(NaN) = 0",
    "adamw": "θ(1 − ηλ) − … (torch's order): an infinite θ stays infinite, optax's θ − η(u + λθ) is NaN",
    "adamaxw": "θ(1 − ηλ) − … (torch's order): an infinite θ stays infinite, optax's θ − η(u + λθ) is NaN",
    "nadamw": "θ(1 − ηλ) − … (torch's order): an infinite θ stays infinite, optax's θ − η(u + λθ) is NaN",
    "radam": "averages='lerp': an infinite moment becomes m + (1 − β)(g − m) = NaN where optax's βm + (1 − β)g "
             "stays infinite (then θ − ηm̂ is −inf there)",
    "radam_optax": "averages='lerp' (as radam)",
}


def _tree(rng, dtype, shift=0.0):
    return jax.tree_util.tree_map(lambda shape: jax.numpy.asarray((rng.normal(size=shape) + shift).astype(dtype)),
                                  SHAPES, is_leaf=lambda x: isinstance(x, tuple))


def conformance_error(case, dtype: str) -> float:
    with jax.enable_x64(dtype == "float64"):
        rng = np.random.default_rng(0)
        params = _tree(rng, dtype)
        grads = [_tree(rng, dtype, 0.3) for _ in range(STEPS)]  # a drift, so moments do not average to 0
        ours, theirs = both(case, params, grads)
        ours, theirs = flat(ours), flat(theirs)
    assert np.all(np.isfinite(ours)) and np.max(np.abs(ours[-1] - flat([params])[0])) > 1e-6
    return float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[c.spec for c in CASES])
def test_matches_optax(case, dtype):
    error = conformance_error(case, dtype)
    assert error <= TOLERANCE[dtype], f"{case.spec} vs {case.call} [{dtype}]: {error:.2e} > {TOLERANCE[dtype]:.0e}"


def test_every_spec_with_an_optax_peer_has_a_case():
    from optiforge import specs
    claimed = {name for name in specs.names() if any(p.startswith("optax.") for p in specs.get(name).peers)}
    assert claimed == {c.spec for c in CASES}
    assert set(KNOWN_NONFINITE) <= claimed


def _nonfinite_mismatches(case, dtype: str) -> int:
    with jax.enable_x64(dtype == "float64"):
        huge = 1e300 if dtype == "float64" else 3e38
        values = [np.inf, -np.inf, np.nan, huge, -huge, 1e-30, 0.0, 1.0, -2.0]
        param, grad = (a.ravel().astype(dtype) for a in np.meshgrid(values, values))
        params = {"p": jax.numpy.asarray(param)}
        grads = [{"p": jax.numpy.asarray(grad)}, {"p": jax.numpy.asarray(np.full(param.size, 0.5, dtype))}]
        ours, theirs = (flat(x) for x in both(case, params, grads, jit=False))  # two steps: no compilation
    same = (np.isnan(ours) == np.isnan(theirs)) & (np.isposinf(ours) == np.isposinf(theirs)) & \
        (np.isneginf(ours) == np.isneginf(theirs))
    return int(np.sum(~same))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[c.spec for c in CASES])
def test_nan_and_inf_where_optax_puts_them(case, dtype):
    mismatches = _nonfinite_mismatches(case, dtype)
    if case.spec in KNOWN_NONFINITE:
        assert mismatches > 0, f"{case.spec}: now places NaN/inf as optax does; remove it from KNOWN_NONFINITE"
    else:
        assert mismatches == 0, f"{case.spec} vs {case.call} [{dtype}]: {mismatches} elements differ in NaN/±inf"


def _mlp_losses(transform, steps: int = 60) -> np.ndarray:
    """Losses of a two-layer tanh MLP (pure JAX, no Flax) trained by ``transform`` on a fixed regression task."""
    jnp = jax.numpy
    rng = np.random.default_rng(3)
    x, y = jnp.asarray(rng.normal(size=(64, 5))), jnp.asarray(rng.normal(size=(64, 1)))
    params = {"l1": {"w": jnp.asarray(rng.normal(size=(5, 16)) * 0.5), "b": jnp.zeros(16)},
              "l2": {"w": jnp.asarray(rng.normal(size=(16, 1)) * 0.5), "b": jnp.zeros(1)}}

    def loss(p):
        hidden = jnp.tanh(x @ p["l1"]["w"] + p["l1"]["b"])
        return jnp.mean((hidden @ p["l2"]["w"] + p["l2"]["b"] - y) ** 2)

    @jax.jit
    def train_step(p, state):
        value, grads = jax.value_and_grad(loss)(p)
        updates, state = transform.update(grads, state, p)
        return optax.apply_updates(p, updates), state, value

    state, losses = transform.init(params), []
    for _ in range(steps):
        params, state, value = train_step(params, state)
        losses.append(float(value))
    return np.array(losses)


def test_adamw_in_an_optax_chain_trains_an_mlp_as_optax_adamw():
    """The issue's done-when: ``optax.chain(optax.clip_by_global_norm(1.0), optiforge.optax.transform("adamw"))``
    gives optax.adamw's losses (≤ 1e-6 relative, float64)."""
    with jax.enable_x64(True):
        ours = _mlp_losses(optax.chain(optax.clip_by_global_norm(1.0),
                                       optiforge.optax.transform("adamw", lr=0.01, weight_decay=0.01 * 0.1)))
        theirs = _mlp_losses(optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(0.01, weight_decay=0.1)))
    assert theirs[-1] < 0.7 * theirs[0]  # it trains
    assert np.max(np.abs(ours - theirs) / theirs) <= 1e-6


if __name__ == "__main__":  # python tests/test_optax_conformance.py: the conformance table (Markdown)
    print("| spec | optax | float64 | float32 |\n|---|---|---|---|")
    for case in CASES:
        print(f"| {case.spec} | {case.call} | {conformance_error(case, 'float64'):.1e} | "
              f"{conformance_error(case, 'float32'):.1e} |")
