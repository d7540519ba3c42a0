"""The numba backend: every generated loop against the reference, NaN/inf like the NumPy backend, float16 and
bfloat16 parameters, flat mode, the shared argument checks, the printer's typing, and the on-disk cache.

Each loop compiles once per test session (``_numba_runtime.compiled`` keeps it; the disk cache keeps it across
sessions). The comparisons run numba at one thread: the loops are elementwise, so the result cannot depend on
the thread count (``test_thread_count_does_not_change_the_result`` checks it), and on a shared machine a
second thread waits for a busy core at every call.
"""
from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import ml_dtypes
import numba
import numpy as np
import pytest
import sympy as sp

from optiforge import generated, runtime, specs
from optiforge.codegen.generate import load_module
from optiforge.codegen.numba_backend.printer import LoopPrinter
from optiforge.codegen.selfcheck import compare_with_reference, random_gradients, sample_hyperparameters
from optiforge.runtime import Optimizer, kernel_support as _runtime, numba_support as _numba_runtime
from optiforge.specs import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, SpecBuilder, reference
from catalog_support import step_inputs

NAMES = specs.names()
STEPS = 50
GENERATED = Path(generated.__file__).parent


def numba_module(name):
    return runtime.kernel_module(name, "numba")


def numpy_module(name):
    return runtime.kernel_module(name, "numpy")


@pytest.fixture(autouse=True, scope="module")
def one_numba_thread():
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(threads)


# --------------------------------------------------------------------------- against the reference

@pytest.mark.parametrize("name", NAMES)
def test_float64_matches_reference(name):
    assert compare_with_reference(specs.get(name), numba_module(name), steps=STEPS, dtype=np.float64) <= 1e-12


@pytest.mark.parametrize("name", NAMES)
def test_float32_matches_float64_reference(name):
    # The NumPy backend's bound (tests/test_numpy_backend.py): ≤ 1 ulp of max|θ| per step, errors adding linearly.
    error = compare_with_reference(specs.get(name), numba_module(name), steps=STEPS, dtype=np.float32)
    assert error <= STEPS * np.finfo(np.float32).eps


# --------------------------------------------------------------------------- against the NumPy backend

def _extreme_values(dtype, rng, size):
    """Ordinary values with NaN, ±inf, ±0, subnormals and values near overflow mixed in."""
    info = np.finfo(dtype)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, info.smallest_subnormal, -info.tiny, info.max / 2,
                         -info.max / 4, 1e-30 if dtype == np.float32 else 1e-300, 1.0, -1.0], dtype=dtype)
    values = rng.standard_normal(size).astype(dtype)
    where = rng.choice(size, len(specials) * 3, replace=False)
    values[where] = np.resize(specials, where.size)
    return values


def _assert_same_values(ours, theirs, dtype, what):
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"{what}: NaN where NumPy has none")
    np.testing.assert_array_equal(np.isposinf(ours), np.isposinf(theirs), err_msg=f"{what}: +inf differs")
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(theirs), err_msg=f"{what}: -inf differs")
    finite = np.isfinite(theirs)
    ours, theirs = ours[finite].astype(np.float64), theirs[finite].astype(np.float64)
    # Same operations in the same order: equal but for the last bits of exp/log/tanh/pow (another libm), which
    # a later cancellation may lift to a few ulp of the array's largest value.
    scale = np.max(np.abs(theirs), initial=0.0)
    np.testing.assert_allclose(ours, theirs, rtol=64 * np.finfo(dtype).eps,
                               atol=64 * np.finfo(dtype).eps * scale + np.finfo(dtype).tiny, err_msg=what)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_nan_and_inf_propagate_exactly_as_in_the_numpy_backend(name, dtype):
    """Extreme parameters, gradients and state: NaN and ±inf in the same places, no error, no warning."""
    spec, ours, theirs = specs.get(name), numba_module(name), numpy_module(name)
    rng = np.random.default_rng(7)
    hp = sample_hyperparameters(spec, rng)
    size = 256
    param = _extreme_values(dtype, rng, size)
    state = ours.init_state(param, **hp)
    for key in ours.STATE:  # state holding extremes too; ≥ 0, so that second moments under a root stay numbers
        state[key][...] = np.abs(_extreme_values(dtype, rng, size))
    numpy_param, numpy_state = param.copy(), {k: (v.copy() if hasattr(v, "copy") else v) for k, v in state.items()}
    for step in range(1, 4):
        grad = _extreme_values(dtype, rng, size)
        inputs = step_inputs(ours, lambda: _extreme_values(dtype, rng, size))
        with np.errstate(all="raise"):  # the loop never warns (NumPy's ufuncs do: overflow, inf - inf, …)
            ours.step(param, grad, state, step, **inputs, **hp)
        with np.errstate(all="ignore"):
            theirs.step(numpy_param, grad, numpy_state, step, **inputs, **hp)
        _assert_same_values(param, numpy_param, dtype, f"{name} θ at t={step}")
        for key in ours.STATE:
            _assert_same_values(state[key], numpy_state[key], dtype, f"{name} {key} at t={step}")
        for key in ours.SCALAR_STATE:
            assert state[key] == numpy_state[key] or np.isnan(state[key]) and np.isnan(numpy_state[key])


@pytest.mark.parametrize("storage", [np.float16, ml_dtypes.bfloat16])
@pytest.mark.parametrize("name", ["adam", "sgd_torch", "nadam_torch", "rmsprop_torch_centered", "adadelta",
                                  "lookahead_adam_torch", "diffgrad", "madgrad"])
def test_half_precision_params_compute_in_float32_like_the_numpy_backend(name, storage):
    """float16/bfloat16 storage: float32 arithmetic and state, one rounding of θ per step, as in NumPy."""
    spec, ours, theirs = specs.get(name), numba_module(name), numpy_module(name)
    rng = np.random.default_rng(3)
    hp = sample_hyperparameters(spec, rng)
    param = rng.standard_normal(3000).astype(storage)
    numpy_param = param.copy()
    state, numpy_state = ours.init_state(param, **hp), theirs.init_state(numpy_param, **hp)
    assert all(state[k].dtype == np.float32 for k in ours.STATE)
    for step, grad in enumerate(random_gradients(rng, 10, param.size), start=1):
        ours.step(param, grad.astype(storage), state, step, **hp)
        theirs.step(numpy_param, grad.astype(storage), numpy_state, step, **hp)
        assert param.dtype == storage
        # One rounding of float32 results that agree to a few float32 ulp: at most one storage ulp apart.
        ulp = np.spacing(np.abs(numpy_param.astype(np.float32)).astype(storage).astype(np.float32))
        assert np.all(np.abs(param.astype(np.float32) - numpy_param.astype(np.float32)) <= ulp)
        for key in ours.STATE:
            np.testing.assert_allclose(state[key], numpy_state[key], rtol=1e-5,
                                       atol=1e-6 * np.max(np.abs(numpy_state[key])))


def test_float16_param_steps_like_a_dtype_faithful_emulation(rng):
    """float16 params against the float64 reference from the same float16 θ: within one float16 ulp."""
    spec, kernel = specs.get("adam"), numba_module("adam")
    param = rng.standard_normal(999).astype(np.float16)
    state = kernel.init_state(param)
    for step, grad in enumerate(random_gradients(rng, 20, param.size), start=1):
        grad = grad.astype(np.float16)
        expected, _ = reference.step(spec, param.astype(np.float64), grad.astype(np.float64),
                                     {k: v.astype(np.float64) for k, v in state.items()}, step)
        kernel.step(param, grad, state, step)
        ulp16 = np.spacing(np.abs(expected).astype(np.float16)).astype(np.float64)
        assert np.all(np.abs(param.astype(np.float64) - expected) <= ulp16 + 1e-6 * np.abs(expected))


@pytest.mark.parametrize("size", [0, 1, 7, 65536, 65537, 2 * 65536 + 3])
@pytest.mark.parametrize("param_dtype, grad_dtype", [(np.float16, np.float16), (np.float32, np.float64),
                                                     (np.float32, np.float16), (np.float64, np.float32)])
def test_converted_blocks_cover_every_element(size, param_dtype, grad_dtype):
    """Storage other than the arithmetic dtype goes through block-sized scratch: sizes around the block."""
    ours, theirs = numba_module("nadam_torch"), numpy_module("nadam_torch")
    rng = np.random.default_rng(size)
    param = rng.standard_normal(size).astype(param_dtype)
    numpy_param = param.copy()
    state, numpy_state = ours.init_state(param), theirs.init_state(numpy_param)
    for step in (1, 2):
        grad = rng.standard_normal(size).astype(grad_dtype)
        ours.step(param, grad, state, step)
        theirs.step(numpy_param, grad, numpy_state, step)
    np.testing.assert_array_equal(param, numpy_param)
    for key in ours.STATE:
        np.testing.assert_array_equal(state[key], numpy_state[key])


def test_shapes_are_stepped_as_flat_arrays(rng):
    kernel = numba_module("adamw_torch")
    for shape in [(), (3, 4), (2, 3, 5)]:
        param = np.asarray(rng.standard_normal(shape))
        expected, state = param.copy(), kernel.init_state(param)
        ref_state = reference.init_state(specs.get("adamw_torch"), expected)
        grad = np.asarray(rng.standard_normal(shape))
        kernel.step(param, grad, state, 1)
        expected, _ = reference.step(specs.get("adamw_torch"), expected, grad, ref_state, 1)
        assert param.shape == shape and state["m"].shape == shape
        np.testing.assert_allclose(param, expected, rtol=1e-14)


def test_thread_count_does_not_change_the_result(rng):
    kernel = numba_module("adan")
    param = rng.standard_normal(100_003).astype(np.float32)
    results = []
    for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        numba.set_num_threads(threads)
        p, state = param.copy(), kernel.init_state(param)
        for step in range(1, 4):
            kernel.step(p, np.sin(param * step), state, step)
        results.append((p, state))
    numba.set_num_threads(1)
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for key in kernel.STATE:
        np.testing.assert_array_equal(results[0][1][key], results[1][1][key])


def test_short_arrays_run_on_the_calling_thread_and_the_thread_count_is_restored(monkeypatch):
    """Below PARALLEL_MIN_ELEMENTS the loop runs on one thread (waking others costs more than they save);
    the user's numba thread count is back afterwards, also when the loop is not reached."""
    kernel = numba_module("adam")
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    user_threads = numba.get_num_threads()
    calls = []
    original = numba.set_num_threads
    monkeypatch.setattr(numba, "set_num_threads", lambda n: calls.append(n) or original(n))
    limit = _numba_runtime.PARALLEL_MIN_ELEMENTS
    for size in (1, limit - 1, limit, 3 * limit + 5):
        calls.clear()
        param = np.linspace(-1, 1, size, dtype=np.float32)
        expected = param.copy()
        numpy_module("adam").step(expected, 2 * param, numpy_module("adam").init_state(param), 1)
        kernel.step(param, 2 * param.copy(), kernel.init_state(param), 1)
        np.testing.assert_array_equal(param, expected)
        assert calls == ([1, user_threads] if size < limit and user_threads > 1 else []), size
        assert numba.get_num_threads() == user_threads
    original(1)


_THREADS_AFTER_FIRST_LOOP = textwrap.dedent("""
    import json, numba, numpy, torch
    torch.get_num_threads()  # torch reads the OpenMP count from now on (its first call initialises it)
    torch.set_num_threads(1)
    from optiforge.generated.numba import adam
    w = numpy.ones(1 << 16, numpy.float32)
    adam.step(w, w.copy(), adam.init_state(w), 1)
    print(json.dumps({"torch": torch.get_num_threads(), "numba": numba.get_num_threads(),
                      "layer": numba.threading_layer()}))
""")


def test_the_first_parallel_loop_leaves_torchs_thread_count_alone():
    """numba's OpenMP layer sets the process's OpenMP thread count when it starts (torch's CPU kernels read
    it): the runtime puts it back, so torch.set_num_threads(1) still holds after an optimizer step."""
    environment = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")}
    ran = subprocess.run([sys.executable, "-c", _THREADS_AFTER_FIRST_LOOP], capture_output=True, text=True,
                         env=environment | {"NUMBA_NUM_THREADS": "2"}, timeout=300)
    assert ran.returncode == 0, ran.stderr
    threads = json.loads(ran.stdout)
    assert threads["torch"] == 1 and threads["numba"] == 2, threads


# --------------------------------------------------------------------------- Optimizer, flat mode

SHAPES = [(3, 4), (5,), (2, 3, 2), (1,)]


@pytest.mark.parametrize("name", NAMES)
def test_flat_optimizer_equals_per_tensor_steps(name):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    flat = Optimizer([p.copy() for p in params], name, backend="numba", flat=True)
    separate = Optimizer([p.copy() for p in params], name, backend="numba")
    on_numpy = Optimizer([p.copy() for p in params], name, backend="numpy", flat=True)
    for _ in range(3):
        grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
        inputs = step_inputs(flat.kernel, lambda: [rng.standard_normal(s).astype(np.float32) for s in SHAPES])
        flat.step(grads, **inputs)
        separate.step(grads, **inputs)
        on_numpy.step(grads, **inputs)
    for k in range(len(SHAPES)):
        np.testing.assert_array_equal(flat.params[k], separate.params[k])
        np.testing.assert_allclose(flat.params[k], on_numpy.params[k], rtol=1e-5, atol=1e-6)
        for key in flat.kernel.STATE:
            np.testing.assert_array_equal(flat.state[k][key], separate.state[k][key])


def test_optimizer_state_dict_round_trip_on_numba(rng):
    params = [rng.standard_normal(6)]
    opt = Optimizer(params, "nadam_torch", backend="numba", lr=0.05)
    opt.step([rng.standard_normal(6)])
    saved = opt.state_dict()
    resumed = Optimizer([params[0].copy()], "nadam_torch", backend="numba", lr=0.05)
    resumed.load_state_dict(saved)
    grad = rng.standard_normal(6)
    opt.step([grad])
    resumed.step([grad])
    np.testing.assert_array_equal(opt.params[0], resumed.params[0])


# --------------------------------------------------------------------------- the NumPy modules' checks

_BAD_CALLS = {
    "short grad": lambda k, p, g, s: k.step(p, g[:10], s, 2),
    "integer grad": lambda k, p, g, s: k.step(p, g.astype(np.int32), s, 2),
    "state dtype": lambda k, p, g, s: k.step(p, g, {**s, "m": s["m"].astype(np.float64)}, 2),
    "strided grad": lambda k, p, g, s: k.step(p, np.repeat(g, 2)[::2], s, 2),
    "t = 0": lambda k, p, g, s: k.step(p, g, s, 0),
    "t = 1.5": lambda k, p, g, s: k.step(p, g, s, 1.5),
    "beta1 = 1": lambda k, p, g, s: k.step(p, g, s, 2, beta1=1.0),
    "lr NaN": lambda k, p, g, s: k.step(p, g, s, 2, lr=float("nan")),
    "unknown": lambda k, p, g, s: k.step(p, g, s, 2, betas=(0.9, 0.99)),
    "missing state": lambda k, p, g, s: k.step(p, g, {"m": s["m"]}, 2),
    "shared state": lambda k, p, g, s: k.step(p, g, {"m": s["m"], "v": s["m"]}, 2),
    "read-only param": lambda k, p, g, s: k.step(np.frombuffer(p.tobytes(), p.dtype), g, s, 2),
    "list param": lambda k, p, g, s: k.step(list(p), g, s, 2),
    "init beta2": lambda k, p, g, s: k.init_state(p, beta2=2.0),
    "init int param": lambda k, p, g, s: k.init_state(p.astype(np.int64)),
}


@pytest.mark.parametrize("call", _BAD_CALLS)
def test_bad_arguments_are_rejected_as_by_the_numpy_module(call, rng):
    """The same exception and message as the NumPy module, and nothing modified."""
    outcomes = []
    for module in (numpy_module("adam"), numba_module("adam")):
        param = rng.standard_normal(64).astype(np.float32)
        grad = rng.standard_normal(64).astype(np.float32)
        state = module.init_state(param)
        module.step(param, grad, state, 1)
        before = param.copy(), {k: v.copy() for k, v in state.items()}
        with pytest.raises((TypeError, ValueError, KeyError)) as error:
            _BAD_CALLS[call](module, param, grad, state)
        np.testing.assert_array_equal(param, before[0])
        for key, value in before[1].items():
            np.testing.assert_array_equal(state[key], value)
        outcomes.append((type(error.value), str(error.value)))
    assert outcomes[0] == outcomes[1]


def test_step_calls_the_shared_runtime_checks(monkeypatch, rng):
    """Argument checks are _runtime's, not copies: whatever they check, the numba modules check too."""
    called = []
    for check in ("resolve_hyperparameters", "check_step", "check_arrays"):
        original = getattr(_runtime, check)
        monkeypatch.setattr(_runtime, check, lambda *a, _f=original, _n=check: called.append(_n) or _f(*a))
    kernel = numba_module("adam")
    param = rng.standard_normal(8)
    kernel.step(param, param.copy(), kernel.init_state(param), 1)
    assert {"resolve_hyperparameters", "check_step", "check_arrays"} <= set(called)


def _checks(module, function: str) -> list[str]:
    """The statements of ``function`` in ``module``'s source before its arithmetic (the ``with`` block or the
    state it returns), with the numba module's import probe left out."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    (definition,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function]
    statements = []
    for statement in definition.body[1:]:  # the docstring aside
        if isinstance(statement, (ast.With, ast.Return)):
            break
        statements.append(ast.unparse(statement))
    return [s for s in statements if s != "_numba_runtime.numba_module()"]


@pytest.mark.parametrize("name", NAMES)
def test_argument_checks_are_the_numpy_modules_statement_for_statement(name):
    """Whatever the NumPy modules check before they compute (hyperparameters, t, arrays), the numba modules
    check the same way: the same calls, in the same order, on the same arguments."""
    for function in ("init_state", "step"):
        assert _checks(numba_module(name), function) == _checks(numpy_module(name), function), function
    assert _checks(numba_module(name), "step")  # not vacuous


# --------------------------------------------------------------------------- without numba

def test_modules_import_without_numba_and_fail_clearly_on_use():
    script = textwrap.dedent("""
        import sys; sys.modules['numba'] = sys.modules['sympy'] = None
        import importlib, numpy
        import optiforge
        from optiforge.runtime import Optimizer
        names = optiforge.available('numba')
        for name in names:
            importlib.import_module(f'optiforge.generated.numba.{name}')
        adam = importlib.import_module('optiforge.generated.numba.adam')
        w = numpy.ones(3)
        for call in (lambda: adam.init_state(w), lambda: adam.step(w, w.copy(), {'m': w * 0, 'v': w * 0}, 1),
                     lambda: Optimizer([w], 'adam', backend='numba')):
            try:
                call()
            except ImportError as error:
                print('ERR', error)
        print(len(names))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert lines[:3] == ["ERR optiforge's numba backend needs numba: pip install 'optiforge[numba]'"] * 3
    assert int(lines[3]) == len(NAMES)


# --------------------------------------------------------------------------- printer and loops

x, y = sp.symbols("x y", real=True)
_EXPRESSIONS = [2 * x + y / 3, 1 / x, x ** 2, x ** sp.Rational(1, 3), x ** y, sp.sqrt(x), sp.Max(x, y, 0),
                sp.Min(x, y), sp.sign(x), sp.Abs(x), sp.exp(-x), sp.log(x), sp.tanh(x), sp.floor(x), sp.ceiling(x),
                sp.Mod(x, y), sp.Heaviside(x), sp.Heaviside(x, 0), sp.Piecewise((x, x > 0), (y, sp.Eq(x, 0))),
                sp.Piecewise((x, sp.And(x > 0, y < 1)), (-y, sp.Or(x < -1, y > 2)), (sp.Rational(1, 2), True)),
                sp.Rational(24, 25) ** x - sp.Float(0.1) * y, -x - 2 * y, sp.nan * x, sp.oo + x]


def _scalar_function(precision):
    printer = LoopPrinter(precision)
    source = f"def f(x, y):\n    return ({', '.join(printer.doprint(e) for e in _EXPRESSIONS)},)\n"
    namespace = {"numpy": np}
    exec(source, namespace)
    return numba.njit(error_model="numpy")(namespace["f"])


def test_float32_expressions_stay_float32_in_numba():
    f = _scalar_function("float32")
    f(np.float32(1.5), np.float32(0.5))
    (signature,) = f.nopython_signatures
    assert {str(ty) for ty in signature.return_type} == {"float32"}, signature.return_type


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_printed_functions_handle_nan_inf_and_zeros_like_numpy(precision):
    """Every construct on NaN, ±0, ±inf and ordinary values, against SymPy's NumPy printing evaluated by NumPy."""
    dtype = np.dtype(precision).type
    f = _scalar_function(precision)
    heaviside = sp.Function("heaviside")  # the NumPy backend's ufunc (SymPy's own printing drops its NaN)
    numpy_forms = [e.replace(sp.Heaviside, lambda a, h=sp.S.Half: heaviside(a, h)) for e in _EXPRESSIONS]
    expected = sp.lambdify((x, y), numpy_forms, modules=[{"heaviside": np.heaviside}, "numpy"])
    values = [np.nan, 0.0, -0.0, 1.5, -2.0, 0.75, np.inf, -np.inf]
    for a in values:
        for b in values:
            got = f(dtype(a), dtype(b))
            with np.errstate(all="ignore"):
                want = expected(dtype(a), dtype(b))
            for i, (ours, theirs) in enumerate(zip(got, want)):
                theirs = float(theirs)
                assert ours == pytest.approx(theirs, rel=4 * float(np.finfo(dtype).eps), nan_ok=True) or \
                    np.isnan(ours) and np.isnan(theirs), f"{_EXPRESSIONS[i]} at ({a}, {b}): {ours} vs {theirs}"


@pytest.mark.parametrize("name", NAMES)
def test_float32_loops_have_only_float32_literals(name):
    """In ``_loop_float32`` every number is ``numpy.float32(…)`` or an integer exponent: numba types a bare
    literal as int64/float64, which would promote the arithmetic to float64."""
    tree = ast.parse((GENERATED / "numba" / f"{name}.py").read_text())
    (loop,) = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "_loop_float32"]
    allowed = set()
    for node in ast.walk(loop):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "numpy.float32":
            allowed |= {id(n) for n in ast.walk(node.args[0])}
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            allowed |= {id(n) for n in ast.walk(node.right) if isinstance(n, ast.Constant) and type(n.value) is int}
    docstring = loop.body[0].value
    bare = [ast.unparse(n) for n in ast.walk(loop) if isinstance(n, ast.Constant) and n is not docstring
            and isinstance(n.value, (int, float)) and not isinstance(n.value, bool) and id(n) not in allowed]
    assert not bare, bare


def test_user_spec_in_memory_with_every_construct():
    """load_module(spec, "numba") for a user spec: Heaviside, Mod, Piecewise on elementwise conditions and on
    a Piecewise, a symbolic exponent, the bare step t and a hyperparameter in the body; in memory, so never
    disk-cached."""
    builder = SpecBuilder("numba_everything", "test", reference="test")
    lr = builder.hyper("lr", 0.01, r"\eta", NONNEGATIVE)
    p = builder.hyper("p", 0.5, "p", NONNEGATIVE)
    s = builder.state("s", 0)
    inner = sp.Piecewise((g, s > 0), (s - 1, True))  # a condition on a Piecewise: an ITE (not in NumPy)
    builder.update(s, sp.Piecewise((s + g, sp.And(g > 0, s < 1)), (inner, inner > 0.5),
                                   (sp.Mod(s, 2) - sp.Heaviside(g), True)))
    builder.update(theta, theta - lr * (sp.Abs(s) + 1) ** p * sp.tanh(g) - lr * sp.Min(t, sp.floor(10 * g))
                   + lr * sp.Max(g, 0) * sp.log(1 + sp.exp(-sp.Abs(g))))
    spec = builder.build()
    module = load_module(spec, "numba")
    assert compare_with_reference(spec, module, steps=20, dtype=np.float64) <= 1e-12
    assert compare_with_reference(spec, module, steps=20, dtype=np.float32) <= 20 * np.finfo(np.float32).eps
    records = [r for r in _numba_runtime.compile_log() if r.loop.startswith("optiforge.generated.numba.numba_everything")]
    assert {r.precision for r in records} == {"float32", "float64"} and all(r.cache_path is None for r in records)


# --------------------------------------------------------------------------- compile cache across processes

_COMPILE = textwrap.dedent("""
    import json, warnings, numpy
    from optiforge.runtime import numba_support as _numba_runtime
    from optiforge.generated.numba import adam
    w = numpy.ones(5, numpy.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        adam.step(w, w.copy(), adam.init_state(w), 1)
    print(json.dumps({"log": [r._asdict() for r in _numba_runtime.compile_log()],
                      "warnings": [str(c.message) for c in caught], "w": float(w[0])}))
""")


def _compile_in_subprocess(env: dict) -> dict:
    environment = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    result = subprocess.run([sys.executable, "-c", _COMPILE], capture_output=True, text=True, check=True,
                            env=environment | env)
    return json.loads(result.stdout)


def _package_cache_files() -> list[Path]:
    return sorted(p for pattern in ("*.nbi", "*.nbc") for p in GENERATED.rglob(pattern))


def test_second_process_loads_the_loop_from_the_cache(tmp_path):
    """NUMBA_CACHE_DIR is honoured; a second process loads what the first compiled; nothing is written
    into the package (numba's own default would write generated/numba/__pycache__)."""
    before = _package_cache_files()
    first = _compile_in_subprocess({"NUMBA_CACHE_DIR": str(tmp_path / "cache")})
    second = _compile_in_subprocess({"NUMBA_CACHE_DIR": str(tmp_path / "cache")})
    (cold,), (warm,) = first["log"], second["log"]
    print(f"adam float32: compiled in {cold['seconds']:.3f} s, loaded from the cache in {warm['seconds']:.4f} s")
    assert not cold["cached"] and warm["cached"]
    assert warm["cache_path"] == cold["cache_path"] and cold["cache_path"].startswith(str(tmp_path / "cache"))
    assert list((tmp_path / "cache").rglob("adam._loop_float32-*.nbi"))
    assert first["w"] == second["w"] and not first["warnings"]
    assert _package_cache_files() == before == []


def test_default_cache_is_per_user_and_an_unwritable_one_is_skipped(tmp_path):
    default = _compile_in_subprocess({"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert default["log"][0]["cache_path"].startswith(str(tmp_path / "xdg" / "optiforge" / "numba"))
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    unwritable = _compile_in_subprocess({"NUMBA_CACHE_DIR": str(blocked)})
    assert unwritable["log"][0]["cache_path"] is None and not unwritable["log"][0]["cached"]
    assert any("cannot write numba's cache" in w for w in unwritable["warnings"])
    assert unwritable["w"] == default["w"]
    assert _package_cache_files() == []


# --------------------------------------------------------------------------- a user's kernel package

_USER_SPEC = """\
import sympy as sp
from optiforge.specs import GRAD as g, NONNEGATIVE, PARAM as theta, STEP as t, UNIT_HALF_OPEN, SpecBuilder

spec = SpecBuilder("my_adam", "Adam with a clipped step", reference="tests/test_numba_backend.py")
lr = spec.hyper("lr", 1e-3, r"\\eta", NONNEGATIVE)
beta1 = spec.hyper("beta1", 0.9, r"\\beta_1", UNIT_HALF_OPEN)
beta2 = spec.hyper("beta2", 0.999, r"\\beta_2", UNIT_HALF_OPEN)
eps = spec.hyper("eps", 1e-8, r"\\epsilon", NONNEGATIVE)
m, v = spec.state("m", 0), spec.state("v", 0)
spec.update(m, beta1 * m + (1 - beta1) * g)
spec.update(v, beta2 * v + (1 - beta2) * g**2)
spec.update(theta, theta - lr * sp.Max(-1, sp.Min(1, (m / (1 - beta1**t)) / sp.sqrt(v / (1 - beta2**t) + eps))))
SPEC = spec.build()
"""

_USE_USER_PACKAGE = textwrap.dedent("""
    import sys; sys.modules["sympy"] = None  # the user's package runs with NumPy and numba alone
    import json, numpy as np, optiforge
    from optiforge.runtime import numba_support as _numba_runtime
    from mykernels.numba import my_adam as compiled
    from mykernels.numpy import my_adam as blocked
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        w = rng.standard_normal(301).astype(dtype)
        ours, theirs = optiforge.Optimizer([w.copy()], compiled, lr=0.1), optiforge.Optimizer([w], blocked, lr=0.1)
        for _ in range(4):
            g = rng.standard_normal(301).astype(dtype)
            ours.step([g]); theirs.step([g.copy()])
        assert np.array_equal(ours.params[0], theirs.params[0]), dtype
    print(json.dumps([r._asdict() for r in _numba_runtime.compile_log()]))
""")


def test_a_users_kernel_package_runs_on_numba_and_is_never_written_to(tmp_path, monkeypatch):
    """``generate --specs --out`` writes numba modules that run from the user's folder, step as its NumPy
    modules do, and cache their loops in NUMBA_CACHE_DIR: a second process loads them; the package is
    left exactly as generated."""
    from optiforge.cli import main

    (tmp_path / "myspecs").mkdir()
    (tmp_path / "myspecs" / "my_adam.py").write_text(_USER_SPEC)
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--specs", "myspecs", "--out", "mykernels"]) == 0
    package = tmp_path / "mykernels"
    files = sorted(p.relative_to(package) for p in package.rglob("*"))
    assert Path("numba/my_adam.py") in files
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "PYTHON"))}
    environment |= {"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    logs = []
    for _ in range(2):
        ran = subprocess.run([sys.executable, "-c", _USE_USER_PACKAGE], cwd=tmp_path, capture_output=True,
                             text=True, env=environment, timeout=300)
        assert ran.returncode == 0, ran.stderr
        logs.append(json.loads(ran.stdout))
    cold, warm = logs
    assert [r["precision"] for r in cold] == [r["precision"] for r in warm] == ["float32", "float64"]
    assert not any(r["cached"] for r in cold) and all(r["cached"] for r in warm)
    assert all(r["cache_path"].startswith(str(tmp_path / "cache")) for r in cold + warm)
    assert sorted(p.relative_to(package) for p in package.rglob("*")) == files


# --------------------------------------------------------------------------- the torch adapter

def _torch_parameters(torch, seed: int):
    """Parameters of every supported dtype and of several layouts (channels-last among them)."""
    generator = torch.Generator().manual_seed(seed)
    shapes = {torch.float32: [(4, 3, 3, 3), (7,)], torch.float64: [(5, 2)], torch.bfloat16: [(6, 4)],
              torch.float16: [(3, 5), (2,)]}
    params = []
    for dtype, dtype_shapes in shapes.items():
        for shape in dtype_shapes:
            tensor = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)
            if tensor.ndim == 4:
                tensor = tensor.to(memory_format=torch.channels_last)
            params.append(torch.nn.Parameter(tensor))
    return params


def _adapter_user_spec():
    builder = SpecBuilder("numba_torch_user", "test", reference="test")
    lr = builder.hyper("lr", 0.01, r"\eta", NONNEGATIVE)
    s = builder.state("s", 0)
    builder.update(s, s / 2 + sp.Abs(g))
    builder.update(theta, theta - lr * sp.Piecewise((g / (s + 1), g > 0), (sp.tanh(g), True)))
    return builder.build()


@pytest.mark.parametrize("flat", [False, True])
@pytest.mark.parametrize("optimizer", ["adamw_torch", "rmsprop_torch_centered", "user spec"])
def test_torch_adapter_steps_cpu_tensors_through_the_numba_modules(optimizer, flat):
    """optiforge.torch picks the numba modules for CPU tensors (backend 'auto'), catalogue and user spec alike,
    and they step every dtype and layout as its NumPy path does."""
    import torch

    import optiforge.torch as optiforge_torch

    name = _adapter_user_spec() if optimizer == "user spec" else optimizer
    runs = {}
    for backend in ("auto", "numpy"):
        params = _torch_parameters(torch, seed=1)
        opt = optiforge_torch.Optimizer(params, name, backend=backend, flat=flat, lr=0.05)
        generator = torch.Generator().manual_seed(2)
        for _ in range(3):
            for p in params:
                p.grad = torch.randn(p.shape, generator=generator, dtype=torch.float64).to(p.dtype)
            opt.step()
        runs[backend] = opt, params
    (compiled, ours), (blocked, theirs) = runs["auto"], runs["numpy"]
    assert compiled._kernels.cpu_backend == "numba" and compiled._kernels.cpu.__name__.startswith(
        "optiforge.generated.numba.")
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype and a.stride() == b.stride()
        _assert_same_values(a.detach().double().numpy(), b.detach().double().numpy(),
                            np.float64 if a.dtype == torch.float64 else np.float32, f"{optimizer} θ")
        for key, value in compiled.state[a].items():
            _assert_same_values(value.double().numpy(), blocked.state[b][key].double().numpy(),
                                np.float64 if a.dtype == torch.float64 else np.float32, f"{optimizer} {key}")


# --------------------------------------------------------------------------- random specs

def _random_arithmetic(rng, leaves, depth):
    """A random tree of arithmetic and elementwise functions over ``leaves``."""
    if depth == 0 or rng.random() < 0.25:
        return leaves[rng.integers(len(leaves))]
    a, b = (_random_arithmetic(rng, leaves, depth - 1) for _ in range(2))
    forms = [lambda: a + b, lambda: a - 2 * b, lambda: a * b, lambda: a / (1 + b ** 2),
             lambda: sp.exp(-sp.Abs(a)), lambda: sp.log(1 + sp.Abs(a)), lambda: sp.tanh(a), lambda: sp.Abs(a - b),
             lambda: sp.floor(4 * a) / 4, lambda: sp.ceiling(a), lambda: sp.Mod(a, 3),
             lambda: (sp.Abs(a) + 1) ** sp.Rational(1, 3)]
    return forms[rng.integers(len(forms))]()


def _random_expression(rng, leaves, conditions):
    """A random arithmetic tree under one random branching form whose conditions test ``conditions``.

    The branching forms stay on top because of two limits of the shared pipeline, not of this backend (to be
    fixed there): a relation on an expression the reduce_powers pass rewrites (a root, a reciprocal) makes
    SymPy fail to order codegen's Sqrt, and the NumPy backend has no ufunc for a condition on a Piecewise (an
    ITE: nested branches, or a test of a first-gradient state)."""
    a, b = (_random_arithmetic(rng, leaves, 2) for _ in range(2))
    c, d = (conditions[i] for i in rng.integers(len(conditions), size=2))
    forms = [lambda: sp.Piecewise((a, c > 0), (-b, sp.And(c < -1, d > 0)), (b / 2, sp.Or(d < 0, c > 2))),
             lambda: sp.Max(a, c) + sp.Min(b, d, 0), lambda: sp.sign(c) * a, lambda: sp.Heaviside(c) * b,
             lambda: a + b]
    return forms[rng.integers(len(forms))]()


def _random_spec(seed: int):
    rng = np.random.default_rng(seed)
    builder = SpecBuilder(f"numba_random_{seed}", "random", reference="test")
    a = builder.hyper("a", float(rng.uniform(0.5, 0.99)), "a", NONNEGATIVE)
    b = builder.hyper("b", float(rng.uniform(0.01, 0.1)), "b", NONNEGATIVE)
    # s2 starts at θ: a first-gradient state inside a branch is an ITE to the NumPy backend (see above)
    s1, s2 = builder.state("s1", 0), builder.state("s2", theta)
    rho = builder.scalar_state("rho", 1)
    leaves = [g, theta, s1, s2, a, b * t, rho, sp.Integer(2)]
    conditions = [g, theta, s1, rho - a]
    builder.update(rho, rho * a)
    builder.update(s1, a * s1 + (1 - a) * _random_expression(rng, leaves, conditions))
    builder.update(s2, sp.tanh(_random_expression(rng, leaves, conditions)))
    builder.update(theta, theta - b * sp.tanh(_random_expression(rng, leaves + [a ** t], conditions)))
    return builder.build()


@pytest.mark.parametrize("seed", range(3))  # more random specs: tests/test_differential.py
def test_random_specs_step_like_the_numpy_backend(seed):
    """Seeded random specs (the elementwise constructs, scalar state, t in the body), built in memory: the
    numba loops compile and give the NumPy backend's values, NaN and ±inf included."""
    spec = _random_spec(seed)
    ours, theirs = load_module(spec, "numba"), load_module(spec, "numpy")
    rng = np.random.default_rng(seed)
    for dtype in (np.float64, np.float32):
        param = _extreme_values(dtype, rng, 200)
        numpy_param = param.copy()
        state, numpy_state = ours.init_state(param), theirs.init_state(numpy_param)
        for step in range(1, 6):
            grad = _extreme_values(dtype, rng, 200) if step == 3 else rng.standard_normal(200).astype(dtype)
            ours.step(param, grad, state, step)
            with np.errstate(all="ignore"):
                theirs.step(numpy_param, grad, numpy_state, step)
            _assert_same_values(param, numpy_param, dtype, f"{spec.name} θ at t={step}")
            for key in ours.STATE:
                _assert_same_values(state[key], numpy_state[key], dtype, f"{spec.name} {key} at t={step}")


def test_logic_and_stored_inputs_print_as_the_numpy_backend_computes_them():
    """Found by the differential harness: ``not`` of a conjunction keeps its parentheses, an exclusive or of
    comparisons with NaN is ``logical_xor`` (not SymPy's and/or rewrite), three-way xor folds left, and a
    state whose new value is an input (``m ← g``) loads that input."""
    builder = SpecBuilder("logic_and_inputs", "regression", reference="tests/test_numba_backend.py")
    lr = builder.hyper("lr", 0.1, r"\eta", NONNEGATIVE)
    m, z = builder.state("m", 0), builder.state("z", 1)
    builder.update(z, sp.Piecewise((theta, ~(sp.Eq(t, 1) & (m <= z))), (g, True)))
    builder.update(m, g)
    builder.update(theta, theta - lr * sp.Piecewise((1, sp.Xor(g > 0, theta > 1)), (2, sp.Xor(g < 0, theta < 0, z > 1)),
                                                    (3, True)))
    spec = builder.build()
    ours, theirs = load_module(spec, "numba"), load_module(spec, "numpy")
    rng = np.random.default_rng(5)
    for dtype in (np.float64, np.float32):
        param = _extreme_values(dtype, rng, 200)
        numpy_param = param.copy()
        state, numpy_state = ours.init_state(param), theirs.init_state(numpy_param)
        for step in range(1, 4):
            grad = _extreme_values(dtype, rng, 200)
            ours.step(param, grad, state, step)
            with np.errstate(all="ignore"):
                theirs.step(numpy_param, grad, numpy_state, step)
            _assert_same_values(param, numpy_param, dtype, f"θ at t={step}")
            for key in ours.STATE:
                _assert_same_values(state[key], numpy_state[key], dtype, f"{key} at t={step}")
