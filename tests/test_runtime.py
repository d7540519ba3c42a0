"""The Optimizer runtime over generated modules."""
import numpy as np
import pytest

from optiforge import specs
from optiforge.runtime import Optimizer
from optiforge.specs import reference


def test_optimizer_steps_every_parameter_like_the_reference(rng):
    params = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    expected = [p.copy() for p in params]
    spec = specs.get("adamw_torch")
    ref_states = [reference.init_state(spec, p, lr=0.01) for p in expected]
    opt = Optimizer(params, "adamw_torch", lr=0.01)
    for t in range(1, 6):
        grads = [rng.standard_normal(p.shape) for p in params]
        opt.step(grads)
        for i, g in enumerate(grads):
            expected[i], ref_states[i] = reference.step(spec, expected[i], g, ref_states[i], t, lr=0.01)
    assert opt.t == 5
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p, e, rtol=1e-13)


def test_state_dict_resumes_the_trajectory_exactly(rng):
    start = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(4)]
    straight = [start.copy()]
    opt = Optimizer(straight, "nadam_torch", lr=0.05)
    for g in grads:
        opt.step([g])

    params = [start.copy()]
    first = Optimizer(params, "nadam_torch", lr=0.05)
    for g in grads[:2]:
        first.step([g])
    saved, params_after_two = first.state_dict(), params[0].copy()
    first.step([grads[2] * 100])  # must not leak into the saved copy

    resumed_params = [params_after_two]
    resumed = Optimizer(resumed_params, "nadam_torch", lr=0.5)
    resumed.load_state_dict(saved)
    assert resumed.t == 2 and resumed.hyperparameters["lr"] == 0.05
    for g in grads[2:]:
        resumed.step([g])
    np.testing.assert_array_equal(resumed_params[0], straight[0])


def test_runtime_errors(rng):
    with pytest.raises(KeyError, match="did you mean 'adam'"):
        Optimizer([np.zeros(3)], "adamm")
    with pytest.raises(ValueError, match="beta2=1.5 is outside"):
        Optimizer([np.zeros(3)], "adam", beta2=1.5)
    opt = Optimizer([np.zeros(3), np.zeros(2)], "sgd")
    with pytest.raises(ValueError, match="got 1 gradients for 2 parameters"):
        opt.step([np.zeros(3)])
    with pytest.raises(ValueError, match=r"grads\[1\] has shape \(3,\)"):
        opt.step([np.zeros(3), np.zeros(3)])
    with pytest.raises(ValueError, match="state_dict is for 'adam'"):
        opt.load_state_dict(Optimizer([np.zeros(3)], "adam").state_dict())
    assert opt.t == 0


def test_generated_modules_import_without_sympy():
    import subprocess
    import sys

    code = ("import sys; sys.modules['sympy'] = None\n"
            "import numpy as np\n"
            "from optiforge import runtime\n"
            "from optiforge.runtime import Optimizer\n"
            "for name in runtime.available():\n"
            "    opt = Optimizer([np.ones(3)], name)\n"
            "    opt.step([np.ones(3)], **{k: [np.ones(3)] for k in getattr(opt.kernel, 'INPUTS', ())})\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize("name", ["adam", "nadam_torch", "sgd_torch"])
def test_flat_buffer_option_matches_per_tensor_steps(name, rng):
    """flat=True: one kernel call over one buffer gives the per-tensor trajectory, and resumes exactly."""
    shapes = [(3, 4), (7,), (2, 2, 2)]
    start = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(5)]
    separate = [p.copy() for p in start]
    reference_opt = Optimizer(separate, name, lr=0.01)
    flat = Optimizer([p.copy() for p in start], name, flat=True, lr=0.01)
    for t, g in enumerate(grads):
        reference_opt.step(g)
        if t % 2:
            flat.step(g)
        else:  # write into the flat gradient buffer instead
            for view, gi in zip(flat.grads, g):
                view[...] = gi
            flat.step()
    for mine, expected in zip(flat.params, separate):
        np.testing.assert_allclose(mine, expected, rtol=1e-13, atol=1e-15)
    assert np.shares_memory(flat.params[0], flat.params[1]) or flat.params[0].base is flat.params[1].base
    saved = flat.state_dict()
    resumed = Optimizer([p.copy() for p in flat.params], name, flat=True, lr=0.01)
    resumed.load_state_dict(saved)
    for opt in (flat, resumed, reference_opt):
        opt.step(grads[0])
    for a, b in zip(resumed.params, reference_opt.params):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_a_disjointness_verdict_holds_only_for_the_same_live_arrays():
    """Arrays over foreign memory (no NumPy owner to compare: views of torch tensors, of a bytearray) are checked
    pairwise once per set; the verdict is kept with weak references, so a new array that reuses a dead one's
    id is checked again, and a transient array (the step's gradient) every call."""
    import weakref

    from optiforge.runtime import kernel_support as _runtime
    from optiforge.generated.numpy import adam

    memory = bytearray(4 * 64)
    param, m, v, grad = (np.frombuffer(memory, np.float32, 16, 64 * k) for k in range(4))
    state = {"m": m, "v": v}
    adam.step(param, grad, state, 1)  # checked pairwise, then remembered
    key = (id(param), id(m), id(v))
    assert key in _runtime._DISJOINT
    overlapping = np.frombuffer(memory, np.float32, 16, 32)  # half of param, half of m
    with pytest.raises(ValueError, match=r"grad shares memory with param"):
        adam.step(param, overlapping, state, 2)
    dead = np.frombuffer(memory, np.float32, 16, 64)
    stale = weakref.ref(dead)
    del dead
    _runtime._DISJOINT[(id(param), id(overlapping), id(v))] = (weakref.ref(param), stale, weakref.ref(v))
    with pytest.raises(ValueError, match=r"state\['m'\] shares memory with param"):
        _runtime.check_disjoint("adam", [("param", param), ("state['m']", overlapping), ("state['v']", v)])
    assert param.tolist() == [0.0] * 16


def test_grad_may_be_the_param_itself_but_overlap_nothing_else(rng):
    """``step(w, w, …)`` is ``step(w, w.copy(), …)``; a grad overlapping the param in part, or a state array,
    is an error that writes nothing."""
    from optiforge.generated.numpy import adam

    buffer = rng.standard_normal(33)
    for alias in (lambda w: w, lambda w: w[...]):
        w, copy = buffer[:32].copy(), buffer[:32].copy()
        state, copy_state = adam.init_state(w), adam.init_state(copy)
        adam.step(w, alias(w), state, 1)
        adam.step(copy, copy.copy(), copy_state, 1)
        np.testing.assert_array_equal(w, copy)
        np.testing.assert_array_equal(state["v"], copy_state["v"])
    w = buffer.copy()
    param, shifted = w[:32], w[1:]
    state = adam.init_state(param)
    before = w.copy()
    with pytest.raises(ValueError, match=r"grad shares memory with param"):
        adam.step(param, shifted, state, 1)
    with pytest.raises(ValueError, match=r"grad shares memory with state\['m'\]"):
        adam.step(param, state["m"], state, 1)
    np.testing.assert_array_equal(w, before)
