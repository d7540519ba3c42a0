"""Bad-input cases for every entry point of the runtime, and a campaign that counts how each is handled.

A case builds a fresh *world* (arrays with non-trivial values: a few steps taken, state not zero), corrupts one
argument, makes the call, and reports one outcome:

* ``rejected``: ValueError or TypeError, and every array reachable from the world bit-identical afterwards, the
  step counter and hyperparameters unchanged;
* ``mutated``: an error, but something was written before it;
* ``wrong type``: another exception (KeyError, AttributeError, OverflowError, …);
* ``accepted``: no error at all.

Entry points: a generated module's ``step`` and ``init_state`` (NumPy, and CuPy through host emulation without
launching: the checks run before any launch), ``Optimizer(...)``, ``Optimizer.step`` and
``Optimizer.load_state_dict``, each with ``flat=False`` and ``flat=True``.

``python tests/bad_input_cases.py [--numpy-only] [NAME …]`` prints the campaign's counts (every catalogue optimizer by
default; ``--numpy-only`` leaves out the CuPy modules).
"""
from __future__ import annotations

import importlib
import sys
import warnings
from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import numpy as np

from optiforge.runtime import Optimizer

SHAPES = [(3, 5), (3, 5), (4,)]  # params[0] and params[1] share a shape, so one can stand in for the other
HUGE = 10 ** 400


@dataclass(frozen=True)
class Case:
    entry: str
    kind: str
    #: () -> (call, arrays to watch, scalars to watch): builds a fresh world
    build: Callable


# ---------------------------------------------------------------------------------------------------------
# Corruptions of one value
# ---------------------------------------------------------------------------------------------------------
def _non_contiguous(a):
    wide = np.repeat(a, 2, axis=-1)
    return wide[..., ::2]


def _matrix(a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # np.matrix is the point here
        return np.matrix(a)


def _read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


GRAD = {  # name -> (param, grad) -> bad grad
    "int32": lambda p, g: g.astype(np.int32), "int64": lambda p, g: g.astype(np.int64),
    "bool": lambda p, g: g > 0, "complex64": lambda p, g: g.astype(np.complex64),
    "complex128": lambda p, g: g.astype(np.complex128), "object": lambda p, g: g.astype(object),
    "longdouble": lambda p, g: g.astype(np.longdouble), "big-endian": lambda p, g: g.astype(g.dtype.newbyteorder(">")),
    "non-contiguous": lambda p, g: _non_contiguous(g), "transposed": lambda p, g: g.T,
    "wrong shape": lambda p, g: g.reshape(-1), "list": lambda p, g: g.tolist(), "None": lambda p, g: None,
    "float": lambda p, g: 1.0, "0-d": lambda p, g: np.float32(1.0), "matrix": lambda p, g: _matrix(g),
    "masked": lambda p, g: np.ma.masked_array(g), "str": lambda p, g: "grad",
}  # the param itself is a valid grad (every kernel reads g before it writes θ): see tests/test_runtime.py
PARAM = {  # name -> param -> bad param (a read-only copy: the original stays watched)
    "read-only": _read_only, "non-contiguous": _non_contiguous, "int32": lambda p: p.astype(np.int32),
    "complex": lambda p: p.astype(np.complex64), "object": lambda p: p.astype(object),
    "longdouble": lambda p: p.astype(np.longdouble), "big-endian": lambda p: p.astype(p.dtype.newbyteorder(">")),
    "list": lambda p: p.tolist(), "None": lambda p: None, "matrix": lambda p: _matrix(p),
    "masked": lambda p: np.ma.masked_array(p), "transposed": lambda p: p.T,
}
STEP = {"0": 0, "-1": -1, "2.7": 2.7, "'3'": "3", "True": True, "False": False, "10**400": HUGE, "None": None,
        "3.0": 3.0, "numpy.float64(3)": np.float64(3), "2**53 + 1": 2 ** 53 + 1, "numpy.True_": np.True_, "3+0j": 3 + 0j}
HYPER = {"nan": float("nan"), "inf": float("inf"), "-inf": -float("inf"), "10**400": HUGE, "-10**400": -HUGE,
         "'0.1'": "0.1", "True": True, "None": None, "1j": 1j, "[0.1]": [0.1], "numpy.array(0.1)": np.array(0.1)}
SCALAR_STATE = {"str": "1", "None": None, "True": True, "complex": 1j, "10**400": HUGE}  # NaN, inf: valid


def _outside(domain) -> float | None:
    """A value just outside ``domain`` (None when the domain is the whole line)."""
    lo, hi = getattr(domain, "lo", -np.inf), getattr(domain, "hi", np.inf)
    if np.isfinite(lo):
        return lo - 1.0
    if np.isfinite(hi):
        return hi + 1.0
    return None


def hyper_corruptions(module) -> list[tuple[str, dict]]:
    """(kind, keyword arguments): each hyperparameter outside its domain and of a wrong type, and an unknown name."""
    cases = [("unknown hyperparameter", {"betas": (0.9, 0.99)})]
    for name, domain in module.DOMAINS.items():
        outside = _outside(domain)
        if outside is not None:
            cases.append((f"{name} outside its domain", {name: outside}))
    name = next(iter(module.HYPERPARAMETERS))
    cases += [(f"{name}={label}", {name: value}) for label, value in HYPER.items()]
    return cases


# ---------------------------------------------------------------------------------------------------------
# Worlds
# ---------------------------------------------------------------------------------------------------------
def _fill_state(module, state, rng):
    for key in module.STATE:
        state[key][...] = rng.uniform(0.1, 1.0, state[key].shape)


def _module_world(module, dtype, seed=0):
    rng = np.random.default_rng(seed)
    param = rng.standard_normal(SHAPES[0]).astype(dtype)
    grad = rng.standard_normal(SHAPES[0]).astype(dtype)
    state = module.init_state(param)
    _fill_state(module, state, rng)
    return param, grad, state


def module_cases(module, dtype, label: str) -> list[Case]:
    """Cases for ``module.step`` and ``module.init_state``."""
    cases = []

    def step_case(kind, corrupt):
        def build():
            param, grad, state = _module_world(module, dtype)
            inputs = {name: grad.copy() for name in getattr(module, "INPUTS", ())}  # valid: the case corrupts others
            args = corrupt(param, grad, state)
            watched = [param, grad, *(v for v in state.values() if isinstance(v, np.ndarray)), *inputs.values()]
            watched += [a for a in args[:2] if isinstance(a, np.ndarray)]
            if isinstance(args[2], dict):
                watched += [v for v in args[2].values() if isinstance(v, np.ndarray)]
            call = lambda: module.step(*args[:4], **inputs, **args[4])  # noqa: E731
            return call, watched, lambda: {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
        cases.append(Case(f"{label}.step", kind, build))

    for kind, bad in GRAD.items():
        step_case(f"grad {kind}", lambda p, g, s, bad=bad: (p, bad(p, g), s, 2, {}))
    for kind, bad in PARAM.items():
        step_case(f"param {kind}", lambda p, g, s, bad=bad: (bad(p), g, s, 2, {}))

    def frozen_param(p, g, s):
        p.flags.writeable = False
        return p, g, s, 2, {}
    step_case("param read-only (the array itself)", frozen_param)
    first = module.STATE[0] if module.STATE else None
    state_cases = {"not a dict": lambda p, g, s: list(s.values()), "None": lambda p, g, s: None}
    if first is not None:
        other = np.float64 if module.init_state(np.zeros(1, dtype))[first].dtype == np.float32 else np.float32
        state_cases |= {
            "missing key": lambda p, g, s: {k: v for k, v in s.items() if k != first},
            f"{np.dtype(other).name} array": lambda p, g, s: {**s, first: s[first].astype(other)},
            "float16 array": lambda p, g, s: {**s, first: s[first].astype(np.float16)},
            "complex array": lambda p, g, s: {**s, first: s[first].astype(np.complex64)},
            "wrong shape": lambda p, g, s: {**s, first: s[first].reshape(-1)},
            "read-only array": lambda p, g, s: {**s, first: _read_only(s[first])},
            "non-contiguous array": lambda p, g, s: {**s, first: _non_contiguous(s[first])},
            "list": lambda p, g, s: {**s, first: s[first].tolist()},
            "matrix": lambda p, g, s: {**s, first: _matrix(s[first])},
            "the param": lambda p, g, s: {**s, first: p},
            "the grad": lambda p, g, s: {**s, first: g} if g.dtype == s[first].dtype else {**s, first: p[...]},
        }
        if len(module.STATE) > 1:
            state_cases["two keys, one array"] = lambda p, g, s: {**s, module.STATE[1]: s[first]}
    for key in module.SCALAR_STATE:
        for kind, value in SCALAR_STATE.items():
            state_cases[f"scalar {key}={kind}"] = lambda p, g, s, key=key, value=value: {**s, key: value}
    for kind, bad in state_cases.items():
        step_case(f"state {kind}", lambda p, g, s, bad=bad: (p, g, bad(p, g, s), 2, {}))
    for kind, t in STEP.items():
        step_case(f"t={kind}", lambda p, g, s, t=t: (p, g, s, t, {}))
    for kind, hyper in hyper_corruptions(module):
        step_case(f"hyperparameter {kind}", lambda p, g, s, hyper=hyper: (p, g, s, 2, hyper))

    def init_case(kind, args):
        def build():
            param, _, _ = _module_world(module, dtype)
            value, hyper = args(param)
            watched = [param] + ([value] if isinstance(value, np.ndarray) else [])
            return lambda: module.init_state(value, **hyper), watched, dict
        cases.append(Case(f"{label}.init_state", kind, build))

    for kind, bad in PARAM.items():
        if kind not in ("read-only", "non-contiguous", "transposed"):  # init_state only reads: those are fine
            init_case(f"param {kind}", lambda p, bad=bad: (bad(p), {}))
    init_case("param non-contiguous", lambda p: (_non_contiguous(p), {}))
    for kind, hyper in hyper_corruptions(module):
        init_case(f"hyperparameter {kind}", lambda p, hyper=hyper: (p, hyper))
    return cases


def _valid_inputs(opt, dtype) -> dict:
    """Valid values of the optimizer's inputs besides the gradient (the cases corrupt other arguments)."""
    return {name: [np.ones(s, dtype) for s in SHAPES] for name in getattr(opt.kernel, "INPUTS", ())}


def _optimizer_world(name, flat, dtype, kernel=None, seed=1):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    opt = Optimizer(params, kernel or name, flat=flat)
    for _ in range(2):
        opt.step([rng.standard_normal(s).astype(dtype) for s in SHAPES], **_valid_inputs(opt, dtype))
    grads = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    return opt, grads


def _optimizer_arrays(opt) -> list:
    arrays = list(opt.params) + [v for s in opt.state for v in s.values() if isinstance(v, np.ndarray)]
    if opt._flat is not None:  # the flat buffers, gradients included
        arrays += [opt._flat._params.buffer, opt._flat._grads.buffer] + [opt._flat._state[k] for k in opt.kernel.STATE]
    return arrays


def _optimizer_scalars(opt) -> dict:
    scalars = {"t": opt.t, "hyperparameters": dict(opt.hyperparameters)}
    if opt._flat is not None:
        scalars["scalar state"] = dict(opt._flat.scalar_state)
    else:
        scalars["scalar state"] = [{k: v for k, v in s.items() if not isinstance(v, np.ndarray)} for s in opt.state]
    return scalars


def optimizer_cases(name: str, flat: bool, dtype, kernel=None) -> list[Case]:
    """Cases for ``Optimizer(...)``, ``Optimizer.step`` and ``Optimizer.load_state_dict``."""
    label, cases = f"Optimizer(flat={flat})", []
    module = kernel or importlib.import_module(f"optiforge.generated.numpy.{name}")

    def construct_case(kind, make):
        def build():
            rng = np.random.default_rng(2)
            params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
            args, hyper = make(params)
            watched = list(params)
            if isinstance(args, list):
                watched += [a for a in args if isinstance(a, np.ndarray)]
            return lambda: Optimizer(args, kernel or name, flat=flat, **hyper), watched, dict
        cases.append(Case(label, kind, build))

    def replace(i, value):
        return lambda ps: (ps[:i] + [value(ps)] + ps[i + 1:], {})

    construct_case("params a bare array", lambda ps: (ps[0], {}))
    construct_case("params empty", lambda ps: ([], {}))
    construct_case("params None", lambda ps: (None, {}))
    construct_case("params a dict", lambda ps: ({"w": ps[0]}, {}))
    construct_case("params a generator", lambda ps: ((p for p in ps), {}))
    for kind, bad in PARAM.items():
        construct_case(f"params[1] {kind}", replace(1, lambda ps, bad=bad: bad(ps[1])))
    construct_case("params[1] is params[0]", replace(1, lambda ps: ps[0]))
    construct_case("params[1] a view of params[0]", replace(1, lambda ps: ps[0][...]))
    buffer = np.zeros(30, dtype)
    construct_case("params overlapping views", lambda ps: ([buffer[:15].reshape(3, 5), buffer[10:25].reshape(3, 5),
                                                           ps[2]], {}))
    if flat:
        other = np.float32 if np.dtype(dtype) == np.float64 else np.float64
        construct_case("params of two dtypes", replace(1, lambda ps: ps[1].astype(other)))
    for kind, hyper in hyper_corruptions(module):
        construct_case(f"hyperparameter {kind}", lambda ps, hyper=hyper: (ps, hyper))

    def flat_flag():
        def build():
            params = [np.ones(s, dtype) for s in SHAPES]
            return lambda: Optimizer(params, kernel or name, flat="yes"), params, dict
        return build
    cases.append(Case(label, "flat='yes'", flat_flag()))

    def name_case(kind, bad_name):
        def build():
            params = [np.ones(s, dtype) for s in SHAPES]
            return lambda: Optimizer(params, bad_name, flat=flat), params, dict
        cases.append(Case(label, kind, build))

    name_case("name unknown", name + "_unknown")
    name_case("name a number", 42)
    name_case("name a module-like object lacking step", SimpleNamespace(HYPERPARAMETERS=module.HYPERPARAMETERS))

    def step_case(kind, corrupt):
        def build():
            opt, grads = _optimizer_world(name, flat, dtype, kernel)
            value = corrupt(opt, grads)
            watched = _optimizer_arrays(opt) + [g for g in grads if isinstance(g, np.ndarray)]
            if isinstance(value, list):
                watched += [g for g in value if isinstance(g, np.ndarray)]
            inputs = _valid_inputs(opt, dtype)
            return lambda: opt.step(value, **inputs), watched, lambda: _optimizer_scalars(opt)
        cases.append(Case(f"{label}.step", kind, build))

    step_case("grads a bare array", lambda o, gs: gs[0])
    step_case("grads a dict", lambda o, gs: dict(enumerate(gs)))
    step_case("grads too short", lambda o, gs: gs[:2])
    step_case("grads too long", lambda o, gs: gs + gs[:1])
    if not flat:
        step_case("grads None", lambda o, gs: None)
    for kind, bad in GRAD.items():
        step_case(f"grads[1] {kind}", lambda o, gs, bad=bad: gs[:1] + [bad(o.params[1], gs[1])] + gs[2:])
    step_case("grads[1] is params[0]", lambda o, gs: gs[:1] + [o.params[0]] + gs[2:])
    step_case("grads[1] is params[1]", lambda o, gs: gs[:1] + [o.params[1]] + gs[2:])
    if module.STATE:
        key = module.STATE[0]
        step_case(f"grads[1] is state[0][{key!r}]", lambda o, gs, key=key: gs[:1] + [o.state[0][key]] + gs[2:])
    if flat:
        step_case("grads[1] is opt.grads[0]", lambda o, gs: gs[:1] + [o.grads[0]] + gs[2:])

    def corrupt_optimizer(kind, change):
        def corrupt(o, gs):
            change(o)
            return gs
        step_case(kind, corrupt)

    for kind, t in STEP.items():
        if isinstance(t, int) and not isinstance(t, bool) and 0 <= t < 2 ** 53:
            continue  # a valid counter
        corrupt_optimizer(f"opt.t={kind}", lambda o, t=t: setattr(o, "t", t))
    corrupt_optimizer("opt.t=2**53", lambda o: setattr(o, "t", 2 ** 53))
    for kind, hyper in hyper_corruptions(module):
        corrupt_optimizer(f"opt.hyperparameters {kind}", lambda o, hyper=hyper: o.hyperparameters.update(hyper))
    first_hyper = next(iter(module.HYPERPARAMETERS))
    corrupt_optimizer(f"opt.hyperparameters without {first_hyper}",
                      lambda o: o.hyperparameters.pop(first_hyper))
    if not flat:
        corrupt_optimizer("opt.params[1] replaced by int32", lambda o: o.params.__setitem__(1, o.params[1].astype(np.int32)))
        corrupt_optimizer("opt.params[1] set read-only", lambda o: setattr(o.params[1].flags, "writeable", False))
        corrupt_optimizer("opt.params[1] replaced by params[0]", lambda o: o.params.__setitem__(1, o.params[0]))
        if module.STATE:
            key = module.STATE[0]
            corrupt_optimizer(f"opt.state[1][{key!r}] replaced by float16", lambda o, key=key: o.state[1].__setitem__(
                key, o.state[1][key].astype(np.float16)))
            corrupt_optimizer(f"opt.state[1][{key!r}] replaced by state[0]'s", lambda o, key=key: o.state[1].__setitem__(
                key, o.state[0][key]))

    def load_case(kind, corrupt):
        def build():
            opt, grads = _optimizer_world(name, flat, dtype, kernel)
            donor, _ = _optimizer_world(name, flat, dtype, kernel, seed=5)
            donor.step(grads, **_valid_inputs(donor, dtype))
            d = donor.state_dict()
            value = corrupt(d, opt)
            watched = _optimizer_arrays(opt)
            return lambda: opt.load_state_dict(value), watched, lambda: _optimizer_scalars(opt)
        cases.append(Case(f"{label}.load_state_dict", kind, build))

    def edit(change):
        def corrupt(d, opt):
            change(d)
            return d
        return corrupt

    load_case("not a dict", lambda d, o: list(d.items()))
    load_case("None", lambda d, o: None)
    load_case("a torch.optim state dict", lambda d, o: {"state": {}, "param_groups": [{"lr": 0.1, "params": [0]}]})
    load_case("another optimizer's dict", lambda d, o: {**Optimizer([np.ones(3, dtype)], _other(name)).state_dict()})
    load_case("another optimizer's dict, renamed",
              lambda d, o: {**Optimizer([np.ones(s, dtype) for s in SHAPES], _other(name)).state_dict(), "name": name})
    load_case("the dict of main (no format, no version)",
              lambda d, o: {k: v for k, v in d.items() if k not in ("format", "version")})
    for key in ("format", "version", "name", "t", "hyperparameters", "state"):
        load_case(f"missing {key!r}", edit(lambda d, key=key: d.pop(key, None)))
    load_case("unknown key", edit(lambda d: d.update(extra=1)))
    load_case("format 'torch'", edit(lambda d: d.update(format="torch")))
    for kind, value in {"2": 2, "'1'": "1", "True": True, "1.0": 1.0, "None": None}.items():
        load_case(f"version {kind}", edit(lambda d, value=value: d.update(version=value)))
    load_case("name None", edit(lambda d: d.update(name=None)))
    for kind, t in STEP.items():
        if isinstance(t, int) and not isinstance(t, bool) and 0 <= t < 2 ** 53:
            continue
        load_case(f"t={kind}", edit(lambda d, t=t: d.update(t=t)))
    load_case("t=2**53", edit(lambda d: d.update(t=2 ** 53)))
    load_case("hyperparameters not a dict", edit(lambda d: d.update(hyperparameters=list(d["hyperparameters"].items()))))
    load_case(f"hyperparameters without {first_hyper} (partial)", edit(lambda d: d["hyperparameters"].pop(first_hyper)))
    for kind, hyper in hyper_corruptions(module):
        load_case(f"hyperparameter {kind}", edit(lambda d, hyper=hyper: d["hyperparameters"].update(hyper)))
    load_case("state not a list", edit(lambda d: d.update(state=dict(enumerate(d["state"])))))
    load_case("state a bare array", edit(lambda d: d.update(state=np.zeros(3))))
    load_case("state too short", edit(lambda d: d.update(state=d["state"][:2])))
    load_case("state too long", edit(lambda d: d.update(state=d["state"] + d["state"][:1])))
    load_case("state[2] not a dict", edit(lambda d: d["state"].__setitem__(2, None)))
    load_case("state[2] extra key", edit(lambda d: d["state"][2].update(extra=np.zeros(4))))
    for key in module.STATE + module.SCALAR_STATE:
        load_case(f"state[2] missing {key!r}", edit(lambda d, key=key: d["state"][2].pop(key)))
    for key in module.STATE:
        arrays = {"float64": lambda a: a.astype(np.float64 if a.dtype != np.float64 else np.float32),
                  "float16": lambda a: a.astype(np.float16), "complex": lambda a: a.astype(np.complex128),
                  "int": lambda a: a.astype(np.int64), "object": lambda a: a.astype(object),
                  "wrong shape": lambda a: a.reshape(-1)[:-1], "list": lambda a: a.tolist(), "None": lambda a: None,
                  "scalar": lambda a: 0.5, "matrix": lambda a: _matrix(a.reshape(1, -1))}
        for kind, bad in arrays.items():
            load_case(f"state[2][{key!r}] {kind}",
                      edit(lambda d, key=key, bad=bad: d["state"][2].__setitem__(key, bad(d["state"][2][key]))))
    for key in module.SCALAR_STATE:
        for kind, value in SCALAR_STATE.items():
            load_case(f"state[2][{key!r}]={kind}",
                      edit(lambda d, key=key, value=value: d["state"][2].__setitem__(key, value)))
        if flat:
            load_case(f"state[2][{key!r}] differs from state[0]'s",
                      edit(lambda d, key=key: d["state"][2].__setitem__(key, d["state"][0][key] * 0.5)))
    return cases


def _other(name: str) -> str:
    """Another optimizer whose state dict differs in structure (hyperparameter or state names) from ``name``'s."""
    from optiforge.runtime import kernel_module

    def structure(n):
        m = kernel_module(n)
        return set(m.HYPERPARAMETERS), m.STATE, m.SCALAR_STATE
    return next(n for n in ("adam", "sgd_torch", "nadam_torch") if structure(n) != structure(name))


# ---------------------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------------------
def _snapshot(arrays, scalars) -> tuple:
    return tuple((a.dtype.str, a.shape, a.tobytes()) if a.dtype != object else (id(a), a.tolist())
                 for a in arrays), repr(scalars())


def outcome(case: Case) -> tuple[str, str]:
    """(``rejected`` | ``mutated`` | ``wrong type`` | ``accepted``, detail)."""
    call, arrays, scalars = case.build()
    before = _snapshot(arrays, scalars)
    try:
        call()
    except (ValueError, TypeError) as error:
        if _snapshot(arrays, scalars) != before:
            return "mutated", f"{type(error).__name__}: {error}"
        return "rejected", f"{type(error).__name__}: {error}"
    except Exception as error:  # noqa: BLE001 - any other exception is what the campaign counts
        return "wrong type", f"{type(error).__name__}: {error}"
    return "accepted", ""


def cases_for(name: str, dtypes=(np.float32,), emulation=None) -> list[Case]:
    """Every case for optimizer ``name``: its NumPy module, its CuPy module under host emulation when
    ``emulation`` (a HostRuntime) is given, and Optimizer in both flat modes, for each dtype."""
    from optiforge.runtime import kernel_module

    cases = []
    for dtype in dtypes:
        tag = np.dtype(dtype).name
        cases += module_cases(kernel_module(name), dtype, f"numpy.{name}[{tag}]")
        if emulation is not None:
            from optiforge.codegen.cupy_backend.host_emulation import emulate

            cases += module_cases(emulate(kernel_module(name, "cupy"), emulation), dtype, f"cupy.{name}[{tag}]")
        for flat in (False, True):
            cases += optimizer_cases(name, flat, dtype)
    return cases


def campaign(names, dtypes=(np.float32,), emulation=None) -> tuple[Counter, list]:
    counts, failures = Counter(), []
    for name in names:
        for case in cases_for(name, dtypes, emulation):
            result, detail = outcome(case)
            counts[result] += 1
            if result != "rejected":
                failures.append((name, case.entry, case.kind, result, detail))
    return counts, failures


def main(argv: list[str]) -> None:
    from optiforge.codegen.cupy_backend.host_emulation import HostRuntime
    from optiforge.runtime import available

    emulation = None if "--numpy-only" in argv else HostRuntime({})
    names = [a for a in argv if not a.startswith("--")] or available()
    counts, failures = campaign(names, (np.float32, np.float64), emulation)
    print(f"{sum(counts.values())} bad-input calls over {len(names)} optimizers: " +
          ", ".join(f"{k} {counts[k]}" for k in ("rejected", "mutated", "wrong type", "accepted")))
    for failure in failures[:50]:
        print(" | ".join(failure))


if __name__ == "__main__":
    main(sys.argv[1:])
