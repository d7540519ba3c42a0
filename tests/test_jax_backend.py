"""The JAX backend (``generated/jax/``) and ``optiforge.optax``: every catalogue kernel against the NumPy
backend, tracing (no retrace for a new step or hyperparameter), dtypes, pytrees, vmap, inject_hyperparams, and
the errors (bad hyperparameters, a missing JAX)."""
from __future__ import annotations

import functools
import importlib
import subprocess
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy

import optiforge.optax  # noqa: E402
from optiforge import specs  # noqa: E402
from optiforge.runtime import Optimizer, kernel_module  # noqa: E402


def _run_both(name: str, dtype: str, steps: int = 3, size: int = 29):
    """(NumPy backend's parameters, JAX's) after ``steps`` steps with the defaults, both from the same data;
    the JAX kernel runs eagerly (op by op, as NumPy does)."""
    numpy_kernel = kernel_module(name)
    jax_kernel = importlib.import_module(f"optiforge.generated.jax.{name}")
    rng = np.random.default_rng(7)
    param = rng.normal(size=size).astype(dtype)
    state = numpy_kernel.init_state(param)
    jax_param = jnp.asarray(param)
    jax_state = jax_kernel.init_state(jax_param)
    for t in range(1, steps + 1):
        grad = (rng.normal(size=size) + 0.2).astype(dtype)
        inputs = {name: (rng.normal(size=size) ** 2).astype(dtype) for name in getattr(numpy_kernel, "INPUTS", ())}
        numpy_kernel.step(param, grad, state, t, **inputs)
        jax_param, jax_state = jax_kernel.step(jax_param, jnp.asarray(grad), jax_state, t,
                                               **{name: jnp.asarray(value) for name, value in inputs.items()})
    return param, np.asarray(jax_param)


@pytest.mark.parametrize("name", specs.names())
def test_every_kernel_matches_the_numpy_backend(name):
    """Same operations in the same order: float64 bit for bit (NaN where NumPy has NaN), float32 to rounding
    (XLA's transcendental functions and powers round differently from NumPy's)."""
    with jax.enable_x64(True):
        ours, theirs = _run_both(name, "float64")
        np.testing.assert_array_equal(theirs, ours)
        ours, theirs = _run_both(name, "float32")
        assert theirs.dtype == np.float32
        assert np.max(np.abs(theirs - ours)) <= 1e-6 * max(np.max(np.abs(ours)), 1.0), name


def test_every_kernel_traces_with_the_step_and_hyperparameters_traced():
    """No Python control flow on a traced value anywhere (the eager test above runs with concrete ones): every
    module traces (``jax.make_jaxpr``, no compilation) with ``t`` and every hyperparameter abstract, and its
    outputs keep the parameter's dtype and the state's."""
    for name in specs.names():
        kernel = importlib.import_module(f"optiforge.generated.jax.{name}")
        param = jnp.ones(3, jnp.bfloat16)
        state = kernel.init_state(param)
        hp = {k: jnp.float32(v) for k, v in kernel.HYPERPARAMETERS.items()}
        inputs = {name: param for name in getattr(kernel, "INPUTS", ())}
        shapes = jax.eval_shape(functools.partial(kernel.step_unchecked, **inputs), param, param, state,
                                jnp.int32(1), hp)
        assert shapes[0].dtype == jnp.bfloat16, name
        assert {k: v.dtype for k, v in shapes[1].items()} == {k: jnp.asarray(v).dtype for k, v in state.items()}, name


def test_a_new_step_or_hyperparameter_value_does_not_retrace():
    kernel = importlib.import_module("optiforge.generated.jax.adam")
    traces = []

    @jax.jit
    def step(param, grad, state, t, hp):
        traces.append(1)
        return kernel.step_unchecked(param, grad, state, t, hp)

    param = jnp.ones(4, jnp.float32)
    state = kernel.init_state(param)
    for t, lr in [(1, 0.1), (2, 0.01), (3, 0.5)]:
        param, state = step(param, jnp.full(4, 0.5, jnp.float32), state, t, dict(kernel.HYPERPARAMETERS, lr=lr))
    assert len(traces) == 1


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_low_precision_parameters_compute_in_float32_and_round_once(dtype):
    """A float16/bfloat16 parameter keeps its dtype, its state and update are float32, and the parameter after
    ``optax.apply_updates`` is the kernel's float32 step rounded once, bit for bit (a parameter crossing zero
    included)."""
    rng = np.random.default_rng(1)
    param32 = rng.normal(size=50).astype(np.float32)
    param = jnp.asarray(param32).astype(dtype)
    grad = jnp.asarray(rng.normal(size=50).astype(np.float32)).astype(dtype)
    transform = optiforge.optax.transform("adam", lr=0.01)
    state = transform.init(param)
    assert state.state["m"].dtype == jnp.float32
    updates, state = jax.jit(transform.update)(grad, state, param)
    new = optax.apply_updates(param, updates)
    assert new.dtype == param.dtype and updates.dtype == jnp.float32
    kernel = importlib.import_module("optiforge.generated.jax.adam")
    expected, _ = kernel.step(param, grad, kernel.init_state(param), 1, lr=0.01)
    np.testing.assert_array_equal(np.asarray(new, np.float32), np.asarray(expected, np.float32))


def test_updates_over_a_pytree_are_exact_differences_and_keep_infinite_parameters():
    params = {"a": jnp.asarray([1.0, np.inf, -3.0], jnp.float32), "b": (jnp.asarray([2.0], jnp.float32), None)}
    grads = {"a": jnp.asarray([0.5, 0.5, -1.0], jnp.float32), "b": (jnp.asarray([1.0], jnp.float32), None)}
    transform = optiforge.optax.transform("sgd", lr=0.1)
    updates, state = transform.update(grads, transform.init(params), params)
    new = optax.apply_updates(params, updates)
    np.testing.assert_array_equal(np.asarray(new["a"]), np.float32([1.0, np.inf, -3.0]) - np.float32(0.1) *
                                  np.float32([0.5, 0.5, -1.0]))
    assert new["b"][1] is None and int(state.count) == 1


def test_vmap_over_a_batch_of_parameters():
    transform = optiforge.optax.transform("adam", lr=0.1)
    params = jnp.asarray(np.random.default_rng(2).normal(size=(3, 5)).astype(np.float32))
    grads = params * 2
    batched = jax.vmap(lambda p, g: transform.update(g, transform.init(p), p)[0])(params, grads)
    one_by_one = jnp.stack([transform.update(g, transform.init(p), p)[0] for p, g in zip(params, grads)])
    np.testing.assert_array_equal(np.asarray(batched), np.asarray(one_by_one))


def test_inject_hyperparams_with_a_schedule_matches_optax():
    schedule = optax.linear_schedule(0.1, 0.01, 10)
    ours = optax.inject_hyperparams(optiforge.optax.factory("adam"))(lr=schedule, beta1=0.8)
    theirs = optax.inject_hyperparams(optax.adam)(learning_rate=schedule, b1=0.8)
    params = jnp.asarray(np.random.default_rng(4).normal(size=6).astype(np.float32))
    results = []
    for transform in (ours, theirs):
        p, state = params, transform.init(params)
        update = jax.jit(transform.update)
        for _ in range(12):
            updates, state = update(jnp.sin(p) + 0.3, state, p)
            p = optax.apply_updates(p, updates)
        results.append(np.asarray(p))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-7)
    assert float(ours.init(params).hyperparams["lr"]) == pytest.approx(0.1)


def test_bad_arguments_are_refused_with_their_names():
    with pytest.raises(TypeError, match="unknown hyperparameter.*learning_rate"):
        optiforge.optax.transform("adam", learning_rate=0.1)
    with pytest.raises(ValueError, match="beta1=1.5 is outside"):
        optiforge.optax.transform("adam", beta1=1.5)
    with pytest.raises(KeyError, match="adamm"):
        optiforge.optax.transform("adamm")
    transform = optiforge.optax.transform("adam")
    with pytest.raises(ValueError, match="needs params"):
        transform.update(jnp.ones(2), transform.init(jnp.ones(2)))
    with pytest.raises(TypeError, match="param dtype must be one of"):
        transform.init(jnp.ones(2, jnp.int32))
    kernel = importlib.import_module("optiforge.generated.jax.adam")
    with pytest.raises(ValueError, match="step t must be in"):
        kernel.step(jnp.ones(2), jnp.ones(2), kernel.init_state(jnp.ones(2)), 0)
    with pytest.raises(ValueError, match="optiforge.optax.transform"):
        Optimizer([np.ones(2)], "adam", backend="jax")
    with pytest.raises(ValueError, match="optiforge.optax.transform"):
        Optimizer([np.ones(2)], kernel)


def test_a_user_spec_runs_from_memory():
    from optiforge import NONNEGATIVE, GRAD as g, PARAM as theta, SpecBuilder
    builder = SpecBuilder("my_jax_sgd", "SGD with a step-size factor", reference="test")
    lr = builder.hyper("lr", 0.1, r"\eta", NONNEGATIVE)
    builder.update(theta, theta - 2 * lr * g)
    transform = optiforge.optax.transform(builder.build(), lr=0.25)
    updates, _ = transform.update(jnp.ones(3), transform.init(jnp.zeros(3)), jnp.zeros(3))
    np.testing.assert_array_equal(np.asarray(updates), np.full(3, -0.5, np.float32))


def test_without_jax_the_modules_import_and_the_error_names_the_extra():
    code = """
import sys
sys.modules['jax'] = None  # as if JAX were not installed
import numpy
from optiforge.generated.jax import adam
try:
    adam.init_state(numpy.ones(2))
except ImportError as error:
    assert 'optiforge[jax]' in str(error), error
else:
    raise SystemExit('no ImportError')
import optiforge.optax
try:
    optiforge.optax.transform('adam')
except ImportError as error:
    assert 'optiforge[jax]' in str(error), error
else:
    raise SystemExit('no ImportError')
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


#: The exact-oracle grammar's CI features but ``endpoints``: a hyperparameter at a domain end may be subnormal
#: (5e-324), and XLA flushes subnormal numbers to zero on CPU (``5e-324 * 1.0 == 0``): a documented limit of
#: the JAX backend (docs/jax.md), not a code-generation error.
JAX_ORACLE_FEATURES = ("rounding_functions", "read_write_orders", "combinators", "raw")


def test_random_specs_match_the_exact_oracle(report_line):
    """A seeded, bounded subset of the random-spec differential test (``tests/oracle_differential.py``): the JAX
    kernels of 40 random specs, both precisions, against the exact oracle, NaN/±inf where NumPy has them."""
    from oracle_differential import campaign, format_summary, summary

    seed, count = 20261208, 40
    results, seconds = campaign(count, seed, features=JAX_ORACLE_FEATURES, backends=("numpy", "jax"), workers=1,
                                precisions=("float64", "float32"), steps=3, size=8)
    table = summary(results)
    report_line(format_summary(table, len(results), seed, seconds))
    failures = [f"--- {r.recipe.name} {key}: {outcome}\n{r.details[key]}\n{r.recipe.source()}"
                for r in results for key, outcome in r.outcomes.items() if outcome != "correct"]
    assert not failures, (f"rerun: python -m tests.oracle_differential --seed {seed} --count {count} --features "
                          f"{','.join(JAX_ORACLE_FEATURES)} --backends numpy,jax --steps 3 --size 8\n"
                          + "\n".join(failures[:5]))
    assert table[("jax", "float64")]["correct"] == table[("jax", "float32")]["correct"] == count


def test_subnormal_numbers_are_flushed_to_zero_by_xla():
    """The documented limit that keeps ``endpoints`` out of the JAX oracle subset: if XLA ever keeps subnormals,
    this fails, and the feature can join."""
    with jax.enable_x64(True):
        assert float(jnp.asarray(5e-324) * 1.0) == 0.0


def test_a_users_package_has_jax_kernels_that_optax_runs(tmp_path, monkeypatch):
    """``optiforge generate --specs DIR --out PKG`` writes ``PKG/jax/<name>.py``; the module runs through
    ``optiforge.optax.transform`` as the catalogue's do, and matches the NumPy kernel of the same package."""
    from optiforge.cli import main

    folder = tmp_path / "myspecs"
    folder.mkdir()
    (folder / "my_momentum.py").write_text('''\
from optiforge.specs import GRAD as g, NONNEGATIVE, PARAM as theta, UNIT_HALF_OPEN, SpecBuilder

spec = SpecBuilder("my_momentum", "heavy ball", reference="tests/test_jax_backend.py")
lr = spec.hyper("lr", 0.1, "eta", NONNEGATIVE)
mu = spec.hyper("mu", 0.9, "mu", UNIT_HALF_OPEN)
b = spec.state("b", 0)
spec.update(b, mu * b + g)
spec.update(theta, theta - lr * b)
SPEC = spec.build()
''')
    assert main(["generate", "--specs", str(folder), "--out", str(tmp_path / "mykernels")]) == 0
    assert (tmp_path / "mykernels" / "jax" / "my_momentum.py").is_file()
    monkeypatch.syspath_prepend(str(tmp_path))
    jax_kernel = importlib.import_module("mykernels.jax.my_momentum")
    numpy_kernel = importlib.import_module("mykernels.numpy.my_momentum")
    with jax.enable_x64(True):
        transform = optiforge.optax.transform(jax_kernel, mu=0.5)
        param = jnp.asarray([1.0, -2.0, 3.0])
        state = transform.init(param)
        expected = np.asarray(param).copy()
        numpy_state = numpy_kernel.init_state(expected, mu=0.5)
        for t in range(1, 4):
            grad = jnp.sin(param)
            numpy_kernel.step(expected, np.asarray(grad), numpy_state, t, mu=0.5)
            updates, state = transform.update(grad, state, param)
            param = optax.apply_updates(param, updates)
        np.testing.assert_array_equal(np.asarray(param), expected)


def test_a_spec_with_inputs_takes_them_as_optax_extra_arguments():
    """sophia's Hessian estimate: a pytree like params, passed as ``update(..., hessian=...)`` (optax's extra
    arguments), gives the NumPy kernel's step; missing or mis-shaped, a ValueError naming it."""
    with jax.enable_x64(True):
        tx = optiforge.optax.transform("sophia", lr=0.01)
        params = {"a": jnp.linspace(-1.0, 1.0, 3), "b": jnp.full((2, 2), 2.0)}
        grads = jax.tree_util.tree_map(lambda p: 0.3 * p + 0.1, params)
        hessian = jax.tree_util.tree_map(lambda p: 0.5 + 0 * p, params)
        state = tx.init(params)
        updates, state = jax.jit(lambda g, s, p, h: tx.update(g, s, p, hessian=h))(grads, state, params, hessian)
        new = optax.apply_updates(params, updates)
        numpy_kernel = kernel_module("sophia")
        for key in params:
            expected = np.asarray(params[key], dtype=np.float64).copy()
            numpy_kernel.step(expected, np.asarray(grads[key]), numpy_kernel.init_state(expected, lr=0.01), 1,
                              lr=0.01, hessian=np.asarray(hessian[key]))
            np.testing.assert_array_equal(np.asarray(new[key]), expected)
        with pytest.raises(ValueError, match="needs hessian"):
            tx.update(grads, state, params)
        with pytest.raises(ValueError, match="hessian has shape"):
            tx.update(grads, state, params, hessian={"a": jnp.ones(1), "b": jnp.ones((2, 2))})
