r"""50-step comparisons of a generated CuPy module (host-emulated or on a GPU) with the NumPy backend and the
float64 reference, and the error bounds they are held to.

Tolerance (derived, not tuned). With unit roundoff :math:`u` of the arithmetic type, one step computes
:math:`X_t = X_{t-1} + \Delta X_t` for the parameter and every state with at most :math:`K = 16` roundings
in the increment and at most 4 roundings of magnitude :math:`|X_t|` (two products and a sum in
:math:`\beta s + c g^2`, the final store), and these updates pass earlier errors on with gain at most 1.
The one input sum that can cancel, :math:`\tilde g = g + \lambda\theta` (weight decay), is rounded with
error at most :math:`2u(|g| + \lambda|\theta|)`, which reaches :math:`X` with sensitivity
:math:`|\partial X_t/\partial g|` (central differences of the float64 reference). So after :math:`T` steps

.. math:: |X^{\mathrm{float}}_T - X^{\mathrm{exact}}_T| \le B = u \sum_{t=1}^{T} \left(4|X_t| + K|\Delta X_t|
          + 2(|g_t| + \lambda|\theta_{t-1}|)\,|\partial X_t/\partial g_t|\right),

computed elementwise from the reference trajectory. Host emulation (``-O2 -ffp-contract=off``) and the
NumPy backend both compute in the arithmetic type, so each is within :math:`B` of the reference and
within :math:`2B` of each other (in practice bit-identical for most optimizers; the report prints it).
On a GPU, FMA contraction changes about 1 ulp per contracted pair — inside the K roundings — and
flush-to-zero only matters for subnormal states, which 50 steps of N(0, 1) gradients do not reach.

Discontinuities (``sign``, ``Heaviside``, a ``Piecewise`` on an elementwise condition, as in Signum, Lion,
Rprop): where the float64 argument lies within rounding of the jump, a correctly rounded float computation
may land on the other side. Such elements get, in addition, the jump the float64 reference itself makes when
the gradient moves by :math:`8u` relative (:math:`\max_\pm |X(g(1 \pm 8u)) - X(g)|`); it is zero away from
the jumps, so the bound is unchanged there.

float16/bfloat16 parameters (float32 arithmetic and state): every step is compared with a dtype-faithful
emulation, the reference step in float64 from the host's stored values, within the one-step bound plus
one storage ulp for the parameter (a float32 difference can move the rounding to storage by one ulp);
and the 50-step trajectory is compared with the NumPy backend (same float32 arithmetic, same storage),
within :math:`2B` plus :math:`T` storage ulps for the parameter.
"""
from __future__ import annotations

import importlib

import numpy
import sympy

from optiforge import specs
from optiforge.codegen.cupy_backend.host_emulation import host_arrays
from optiforge.specs import reference

__all__ = ["STEPS", "SIZE", "K", "NAMES", "DTYPES", "hyperparameters", "run", "check", "storage_ulp"]

STEPS, SIZE, K = 50, 2048, 16
NAMES = specs.names()
DTYPES = ["float32", "float64", "float16", "bfloat16"]


def hyperparameters(spec) -> dict:
    """Defaults, with weight decay and momentum switched on where the spec has them (exercises branches)."""
    chosen = {"weight_decay": 0.01, "momentum": 0.9}
    return {h.name: chosen[h.name] for h in spec.hyperparameters if h.name in chosen}


def unit_roundoff(dtype_name: str) -> float:
    return float(numpy.finfo(numpy.float64 if dtype_name == "float64" else numpy.float32).eps) / 2


def storage_ulp(dtype_name: str, magnitude):
    """Spacing of the storage dtype at ``magnitude`` (bfloat16: 8-bit significand; subnormals: constant)."""
    bits, min_exponent = {"float16": (11, -14), "bfloat16": (8, -126)}[dtype_name]
    exponent = numpy.floor(numpy.log2(numpy.maximum(numpy.abs(magnitude), 2.0 ** min_exponent)))
    return 2.0 ** (exponent - bits + 1)


def run(name: str, dtype: str, cupy_module):
    """Trajectories of ``cupy_module`` (a generated CuPy module run on the host or on a device), the NumPy backend and the reference, with bounds.

    ``cupy_module`` takes the host arrays ``param_host``/``state_host``; one that keeps its own copies on a
    device has ``sync_to_host()``, called before they are read (each step for float16/bfloat16, else once).

    float32/float64: the reference runs its own 50-step trajectory in float64. float16/bfloat16: the
    reference is dtype-faithful and local — each step restarts from the host's stored values and its
    result is rounded to the storage dtypes — so a one-ulp storage rounding difference cannot feed back
    (through weight decay, into the state) and grow; ``worst_local`` is the largest per-step error/bound.
    """
    spec = specs.get(name)
    hp = hyperparameters(spec)
    numpy_module = importlib.import_module(f"optiforge.generated.numpy.{name}")
    rng = numpy.random.default_rng(sum(map(ord, name)))
    param_host = host_arrays(dtype, rng.standard_normal(SIZE))
    param_numpy = param_host.copy()
    param_ref = param_host.astype(numpy.float64)
    state_host, state_numpy = cupy_module.init_state(param_host, **hp), numpy_module.init_state(param_numpy, **hp)
    state_ref = reference.init_state(spec, param_ref, **hp)
    local = dtype in ("float16", "bfloat16")
    u = unit_roundoff(dtype)
    outputs = ("theta",) + tuple(s.name for s in spec.array_state)
    bound = {o: numpy.zeros(SIZE) for o in outputs}
    worst_local = 0.0
    discontinuous = has_elementwise_discontinuity(spec)
    # a module whose arrays live on a device copies them to param_host/state_host when asked
    sync_to_host = getattr(cupy_module, "sync_to_host", lambda: None)
    for t in range(1, STEPS + 1):
        grad = host_arrays(dtype, rng.standard_normal(SIZE))
        # the spec's inputs besides the gradient, in its storage dtype (none: the draws stay as before)
        inputs = {i.name: host_arrays(dtype, rng.standard_normal(SIZE)) for i in spec.inputs}
        exact_inputs = {k: v.astype(numpy.float64) for k, v in inputs.items()}
        if local:
            param_ref = param_host.astype(numpy.float64)
            state_ref = dict(state_ref) | {s: state_host[s].astype(numpy.float64) for s in outputs[1:]}
        before = {"theta": param_ref.copy()} | {s: numpy.array(state_ref[s], numpy.float64) for s in outputs[1:]}
        state_before = dict(state_ref)
        cupy_module.step(param_host, grad, state_host, t, **inputs, **hp)
        if local:
            sync_to_host()
        numpy_module.step(param_numpy, grad, state_numpy, t, **inputs, **hp)
        param_ref, state_ref = reference.step(spec, param_ref, grad.astype(numpy.float64), state_ref, t,
                                              inputs=exact_inputs, **hp)
        after = {"theta": param_ref} | {s: numpy.asarray(state_ref[s], numpy.float64) for s in outputs[1:]}
        sensitivity = gradient_sensitivity(spec, before, state_before, grad.astype(numpy.float64), t, hp, outputs,
                                           exact_inputs)
        summands = numpy.abs(grad.astype(numpy.float64)) + hp.get("weight_decay", 0.0) * numpy.abs(before["theta"])
        step_bound = {o: u * (4 * numpy.abs(after[o]) + K * numpy.abs(after[o] - before[o])
                              + 2 * summands * sensitivity[o]) for o in outputs}
        if discontinuous:
            jumps = jump_near_discontinuities(spec, before, state_before, grad.astype(numpy.float64), t, hp,
                                              outputs, after, u, exact_inputs)
            step_bound = {o: step_bound[o] + jumps[o] for o in outputs}
        if local:
            # one rounding to storage may differ by one storage ulp
            step_bound["theta"] = step_bound["theta"] + storage_ulp(dtype, after["theta"])
            host_now = {"theta": param_host} | {s: state_host[s] for s in outputs[1:]}
            worst_local = max([worst_local] + [worst(host_now[o], after[o], step_bound[o]) for o in outputs])
        for o in outputs:
            bound[o] += step_bound[o]
    sync_to_host()
    host = {"theta": param_host} | {s: state_host[s] for s in outputs[1:]}
    numpy_result = {"theta": param_numpy} | {s: state_numpy[s] for s in outputs[1:]}
    ref = {"theta": param_ref} | {s: numpy.asarray(state_ref[s]) for s in outputs[1:]}
    return host, numpy_result, ref, bound, worst_local


def gradient_sensitivity(spec, before, state, grad, t, hp, outputs, inputs=None) -> dict:
    """|dX/dg| per element by central differences of the float64 reference step."""
    delta = 2.0 ** -20 * numpy.maximum(numpy.abs(grad), 1.0)
    start = {k: v for k, v in state.items() if k not in outputs} | {o: before[o] for o in outputs[1:]}
    results = []
    for sign in (1, -1):
        param, new_state = reference.step(spec, before["theta"].copy(), grad + sign * delta, dict(start), t,
                                          inputs=inputs, **hp)
        results.append({"theta": param} | {o: numpy.asarray(new_state[o], numpy.float64) for o in outputs[1:]})
    return {o: numpy.abs(results[0][o] - results[1][o]) / (2 * delta) for o in outputs}


def has_elementwise_discontinuity(spec) -> bool:
    """Does one step jump in a per-element quantity (sign, Heaviside, Piecewise on an elementwise condition)?"""
    scalars = {specs.STEP} | {h.symbol for h in spec.hyperparameters} | {s.symbol for s in spec.scalar_state}
    for expr in spec.step_map().values():
        for node in sympy.preorder_traversal(expr):
            if isinstance(node, (sympy.sign, sympy.Heaviside)):
                return True
            if isinstance(node, sympy.Piecewise) and any(not c.free_symbols <= scalars for _, c in node.args):
                return True
    return False


def jump_near_discontinuities(spec, before, state, grad, t, hp, outputs, after, u, inputs=None) -> dict:
    """max over ± of |X(g(1 ± 8u)) − X(g)| from the float64 reference: the jump a rounding can trigger."""
    start = {k: v for k, v in state.items() if k not in outputs} | {o: before[o] for o in outputs[1:]}
    jump = {o: numpy.zeros_like(after[o]) for o in outputs}
    for sign in (1, -1):
        param, new_state = reference.step(spec, before["theta"].copy(), grad * (1 + sign * 8 * u), dict(start), t,
                                          inputs=inputs, **hp)
        moved = {"theta": param} | {o: numpy.asarray(new_state[o], numpy.float64) for o in outputs[1:]}
        jump = {o: numpy.maximum(jump[o], numpy.abs(moved[o] - after[o])) for o in outputs}
    return jump


def worst(a, b, bound) -> float:
    """max |a - b| / bound (≤ 1 passes)."""
    diff = numpy.abs(numpy.asarray(a, numpy.float64) - numpy.asarray(b, numpy.float64))
    return float(numpy.max(diff / numpy.maximum(bound, numpy.finfo(numpy.float64).tiny)))




def check(name: str, dtype: str, cupy_module, label: str) -> None:
    """Assert ``cupy_module`` stays within the bounds of the module docstring; print what was seen."""
    host, numpy_result, ref, bound, worst_local = run(name, dtype, cupy_module)
    low_precision = dtype in ("float16", "bfloat16")
    if low_precision:
        print(f"{name} {dtype}: worst per-step |{label}-ref|/B = {worst_local:.3g}")
        assert worst_local <= 1, f"a step of {label} is off the reference by {worst_local:.3g} x bound"
    for output, value in host.items():
        assert value.dtype == numpy_result[output].dtype, output  # same storage and state dtypes
        assert numpy.all(numpy.isfinite(numpy.asarray(value, numpy.float64))), output
        vs_reference = 0.0 if low_precision else worst(value, ref[output], bound[output])
        flips = STEPS * storage_ulp(dtype, ref[output]) if output == "theta" and low_precision else 0
        vs_numpy = worst(value, numpy_result[output], 2 * bound[output] + flips)
        identical = float(numpy.mean(numpy.asarray(value) == numpy.asarray(numpy_result[output])))
        print(f"{name} {dtype} {output}: |{label}-ref|/B = {vs_reference:.3g}, |{label}-numpy|/2B = {vs_numpy:.3g}, "
              f"bit-identical to numpy {identical:.1%}")
        assert vs_reference <= 1, f"{output}: {label} off the reference by {vs_reference:.3g} x bound"
        assert vs_numpy <= 1, f"{output}: {label} off the NumPy backend by {vs_numpy:.3g} x bound"
