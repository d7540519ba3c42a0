r"""Differential testing of the code generator: random well-formed specs, each generated kernel against
the float64 reference, one step at a time.

**Specs.** :class:`SpecGenerator` draws random specs from a grammar that covers what users write:
expression trees over ``g``, ``θ``, 1–3 array states, an optional scalar state, 2–4 hyperparameters
with valid domains (intervals, ``{0, 1}``, integer ranges) and ``t``; ``+ − × ÷``, ``sqrt``, ``Abs``,
``sign``, ``Max``/``Min``, ``exp``, ``tanh``, ``log``, powers, ``floor``/``ceiling``/``Mod``/``Heaviside``,
``Piecewise`` on elementwise conditions, on the step (``t = 1``, ``t mod 2 = 0``) and on both at once
(``(g > 0) & (t > 2)``); temporaries; initial values that are constants, hyperparameters or data
(``g``, ``θ``, ``2g``, ``θ + 1``, ``g²``); and the combinators (weight decay, Lookahead). It is
numerically tame: divisions, logarithms and exponentials are mostly guarded (``a/(c + |b|)``,
``log(c + |a|)``, ``exp(-|a|)``), with a small share of raw ones whose NaNs and infinities are part of the
test. A spec is a :class:`Recipe`; :meth:`Recipe.source` writes it as the SpecBuilder code that builds it.

**Check.** Each spec's NumPy module and CuPy module (its kernels compiled by g++ and driven by the
module's own ``step``, see ``codegen/cupy_backend/host_emulation.py``), both in float64, take every step
from the reference's own parameters and state, including one step with ``grad`` the parameter array
itself. An element of an output must match the reference within :data:`RTOL` (relative to
``1 + |reference|``) wherever every value the reference computed for it (each assignment, in order) is
finite and within :data:`SMALLEST` … :data:`LARGEST` in magnitude, and no operation was exceptional (see
:mod:`optiforge.specs.reference`); where not, exact algebra in the generator (reassociated products,
``sign(exp(x)) = 1``) may legitimately differ (see ``codegen/ir.py``).
A mismatch counts as a wrong kernel unless the reference itself moves by as much when its array inputs
are perturbed by :data:`PERTURBATION` relative, or when every operation's result is (Monte Carlo
arithmetic, :data:`ROUNDING`): then the element sits on a discontinuity or is ill-conditioned and the
difference is rounding.

**Outcomes**, per spec and backend: ``correct``, ``wrong_kernel``, ``generator_crash`` (validation,
lowering or printing raised, or the module does not compile), ``kernel_crash`` (``init_state``/``step``
raised, or g++ rejected the kernel), ``reference_crash``, ``over_time`` (lowering and generating both
modules took more than :data:`TIME_LIMIT` seconds of CPU), and ``rejected`` (a spec the grammar calls
valid failed validation).

Campaign: ``python -m tests.differential --count 10000 --seed 1`` (prints the figures; ``--minimise``
shrinks each failure to a small recipe).
``--oracle exact`` runs the exact-oracle campaign instead (``tests/oracle_differential.py``: a wider grammar,
every backend in float64 and float32 against interval arithmetic; its own options follow).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import sys
import tempfile
import time
import traceback
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import sympy as sp

from optiforge.codegen.cupy_backend.host_emulation import HostRuntime, build_library, emulate
from optiforge.codegen.cupy_backend.standalone import StorageTypes
from optiforge.codegen.generate import BACKENDS, __version__
from optiforge.derive.timing import CheckTimeout, time_limit
from optiforge.specs import (BOOLEAN, GRAD, NONNEGATIVE, PARAM, POSITIVE, POSITIVE_INTEGER, REAL, STEP,
                             UNIT_CLOSED, UNIT_HALF_OPEN, UNIT_OPEN, SpecBuilder, SpecError, interval, reference)
from optiforge.specs.combinators import lookahead, with_weight_decay
from optiforge.specs.dsl import domain_assumptions
from optiforge.specs.expression_dag import SYMPY_REFUSALS

__all__ = ["Recipe", "SpecCase", "SpecGenerator", "OUTCOMES", "Result", "check_specs", "campaign", "minimise", "main"]

OUTCOMES = ("correct", "wrong_kernel", "generator_crash", "kernel_crash", "reference_crash", "over_time", "rejected")
BACKEND_NAMES = ("numpy", "cupy", "numba")
#: backend → n: that backend checks one spec in n (chosen by the hash of its name), the others every spec. numba
#: compiles each spec's loop (about 0.4 s of CPU, no disk cache for a module built in memory): CI samples it.
EVERY: dict[str, int] = {}
RTOL = 1e-9
PERTURBATION = 1e-10
#: Relative size of the rounding noise in the Monte Carlo reference runs (about two units in the last place).
ROUNDING = 4e-16
#: Values the comparison trusts the reference on (see :func:`_exact_mask`): a product of two such values
#: cannot leave the float64 range.
SMALLEST, LARGEST = 1e-150, 1e150
#: CPU seconds allowed to validate, lower and print both modules of one spec.
TIME_LIMIT = 2.0
#: Wall seconds after which generation is abandoned (counted over time).
HARD_LIMIT = 30.0
#: Specs per unit of work of a campaign (one g++ run each).
CHUNK = 50


# --- recipes --------------------------------------------------------------------------------------------
@dataclass
class Recipe:
    """A spec as data: declarations, ordered steps, combinators (applied in order)."""

    name: str
    hypers: list = field(default_factory=list)        # (name, default, domain)
    states: list = field(default_factory=list)        # (name, init expression or None, scalar)
    steps: list = field(default_factory=list)         # ("let" | "update", target name, value)
    combinators: list = field(default_factory=list)   # ("weight_decay", mode) | ("lookahead", k, alpha, schedule)

    def symbols(self) -> dict[str, sp.Symbol]:
        """Name → the symbol SpecBuilder declares for it."""
        names = {"theta": PARAM, "g": GRAD, "t": STEP}
        names.update({n: sp.Symbol(n, **domain_assumptions(d)) for n, _, d in self.hypers})
        names.update({n: sp.Symbol(n, real=True) for n, _, _ in self.states})
        names.update({n: sp.Symbol(n, real=True) for kind, n, _ in self.steps if kind == "let"})
        return names

    def build(self):
        spec = SpecBuilder(self.name, f"differential test {self.name}", reference="tests/differential.py")
        symbols = {}
        for name, default, domain in self.hypers:
            symbols[name] = spec.hyper(name, default, name, domain)
        for name, init, scalar in self.states:
            symbols[name] = (spec.scalar_state if scalar else spec.state)(name, init)
        for kind, target, value in self.steps:
            if kind == "let":
                symbols[target] = spec.let(target, value)
            else:
                spec.update(PARAM if target == "theta" else symbols[target], value)
        built = spec.build()
        for combinator in self.combinators:
            if combinator[0] == "weight_decay":
                built = with_weight_decay(built, combinator[1], name=f"{built.name}_wd")
            else:
                _, k, alpha, schedule = combinator
                built = lookahead(built, k=k, alpha=alpha, schedule=schedule, name=f"{built.name}_la")
        return built

    def source(self) -> str:
        """SpecBuilder code that builds this recipe (expressions parsed from text with these symbols)."""
        lines = [f"spec = SpecBuilder({self.name!r}, 'regression', reference='tests/differential.py')"]
        lines += [f"{n} = spec.hyper({n!r}, {d!r}, {n!r}, {sp.srepr(dom)})" for n, d, dom in self.hypers]
        for n, init, scalar in self.states:
            lines.append(f"{n} = spec.{'scalar_state' if scalar else 'state'}({n!r}, "
                         f"{None if init is None else repr(sp.sstr(init))!s})")
        for kind, target, value in self.steps:
            text = repr(sp.sstr(value))
            lines.append(f"{target} = spec.let({target!r}, {text})" if kind == "let" else
                         f"spec.update({'theta' if target == 'theta' else target}, {text})")
        lines += [f"# then {c}" for c in self.combinators]
        return "\n".join(lines)


@dataclass
class SpecCase:
    """A spec made by a function, shaped like a :class:`Recipe` for :func:`check_specs`."""

    name: str
    make: Callable[[], object]
    text: str = ""

    def build(self):
        return self.make()

    def source(self) -> str:
        return self.text or f"<{self.name}>"


# --- the grammar ------------------------------------------------------------------------------------------
_HYPER_NAMES = ["lr", "beta", "gamma", "eps", "lam", "kappa", "rho", "mu", "nu", "delta"]
_ARRAY_NAMES = ["m", "v", "u", "w", "z"]
_TEMP_NAMES = ["a", "b", "c", "d", "e", "f", "h", "p", "r", "s"]
_CONSTANTS = [sp.Rational(1, 2), sp.Integer(2), sp.Integer(3), sp.Rational(1, 10), sp.Rational(1, 3),
              sp.Float(2.5), sp.Integer(-1), sp.Float(0.9), sp.Rational(3, 4)]


def _domains(rng):
    """(domain, default) of each kind, the default drawn inside the domain."""
    lo = float(rng.uniform(-2, 1))
    return [
        (POSITIVE, float(rng.uniform(0.01, 2))), (NONNEGATIVE, float(rng.choice([0.0, rng.uniform(0, 2)]))),
        (UNIT_HALF_OPEN, float(rng.uniform(0, 0.99))), (UNIT_OPEN, float(rng.uniform(0.01, 0.99))),
        (UNIT_CLOSED, float(rng.choice([0.0, 1.0, rng.uniform(0, 1)]))), (REAL, float(rng.normal())),
        (interval(lo, lo + 3, right_open=True), lo + 1.5), (BOOLEAN, int(rng.integers(0, 2))),
        (POSITIVE_INTEGER, int(rng.integers(1, 5))), (sp.Range(0, 10, 2), int(rng.choice([0, 2, 4]))),
    ]


def _sample_hyperparameter(rng, domain, default):
    """A value inside ``domain`` (the default a third of the time)."""
    if rng.random() < 1 / 3:
        return default
    if isinstance(domain, sp.FiniteSet):
        value = domain.args[int(rng.integers(len(domain.args)))]
        return int(value) if value.is_Integer else float(value)
    if isinstance(domain, sp.Range):  # integers near the default
        return int(rng.choice([x for x in range(int(default) - 2, int(default) + 3) if domain.contains(x) == sp.true]))
    if isinstance(domain, sp.Interval):
        lo, hi = float(domain.start), float(domain.end)
        lo, hi = max(lo, -3.0), min(hi, lo + 3.0 if lo > -3 else 3.0)
        value = float(rng.uniform(lo, hi))
        return value if domain.contains(value) == sp.true else default
    return default


class SpecGenerator:
    """Random well-formed recipes (see the module docstring), deterministic in ``seed``."""

    def __init__(self, seed: int):
        self.seed = seed

    def recipe(self, index: int) -> Recipe:
        rng = np.random.default_rng([self.seed, index])
        return _RecipeBuilder(rng, f"d{self.seed % 100000}_{index}").recipe()


class _RecipeBuilder:
    #: the constants leaves and initial values draw from
    constants = _CONSTANTS

    def __init__(self, rng, name):
        self.rng, self.name = rng, name

    def pick(self, items, weights=None):
        weights = np.asarray(weights if weights is not None else [1] * len(items), dtype=float)
        return items[int(self.rng.choice(len(items), p=weights / weights.sum()))]

    def recipe(self) -> Recipe:
        rng = self.rng
        recipe = Recipe(self.name)
        domains, weights = self.domain_choices()
        for name in rng.choice(_HYPER_NAMES, size=int(rng.integers(2, 5)), replace=False):
            domain, default = self.pick(domains, weights)
            recipe.hypers.append((str(name), default, domain))
        self.hypers = {n: sp.Symbol(n, **domain_assumptions(d)) for n, _, d in recipe.hypers}
        self.unit = [s for (n, _, d), s in zip(recipe.hypers, self.hypers.values())
                     if d in (UNIT_HALF_OPEN, UNIT_OPEN, UNIT_CLOSED)]
        self.positive = [s for (n, _, d), s in zip(recipe.hypers, self.hypers.values()) if d == POSITIVE]
        arrays = [str(n) for n in rng.choice(_ARRAY_NAMES, size=int(rng.integers(1, 4)), replace=False)]
        self.readable_arrays, self.scalars = [PARAM, GRAD], list(self.hypers.values()) + [STEP]
        plan = []
        for name in arrays:
            init = self.initial_value()
            recipe.states.append((name, init, False))
            symbol = sp.Symbol(name, real=True)
            if init is not None:
                self.readable_arrays.append(symbol)
            plan += [("update", name)] * (2 if rng.random() < 0.2 else 1)
        scalar = None
        if rng.random() < 0.35:
            scalar = sp.Symbol("q", real=True)
            recipe.states.append(("q", self.pick([sp.Integer(1), sp.Integer(0), *self.hypers.values()]), True))
            self.scalars.append(scalar)
            plan.append(("update", "q"))
        plan += [("update", "theta")] * (2 if rng.random() < 0.25 else 1)
        plan += [("let", str(n)) for n in rng.choice(_TEMP_NAMES, size=int(rng.integers(0, 4)), replace=False)]
        order = [plan[i] for i in rng.permutation(len(plan))]
        # State without an initial value is written first, from data only.
        for name, init, _ in recipe.states:
            if init is None:
                order.remove(("update", name))
                order.insert(0, ("update", name))
        if not any(target == "theta" for _, target in order):
            order.append(("update", "theta"))
        for kind, target in order:
            recipe.steps.append((kind, target, self.step_value(kind, target, scalar)))
        roll = rng.random()
        if roll < 0.12:
            modes = ["decoupled_fixed"] + (["decoupled"] if "lr" in self.hypers else []) + \
                    ([] if any(i is not None and GRAD in i.free_symbols for _, i, _ in recipe.states) else ["coupled"])
            recipe.combinators.append(("weight_decay", self.pick(modes)))
        elif roll < 0.2:
            recipe.combinators.append(("lookahead", int(rng.integers(2, 4)), float(rng.uniform(0.2, 0.8)),
                                       self.pick(["paper", "to"])))
        return recipe

    def domain_choices(self):
        """(the (domain, default) pairs of :func:`_domains`, their weights)."""
        return _domains(self.rng), [3, 2, 3, 1, 1, 2, 1, 1, 1, 1]

    def initial_value(self):
        kind = self.pick(["zero", "constant", "hyper", "g", "theta", "data", "none"], [5, 1, 1, 1, 1, 2, 0.5])
        if kind == "zero":
            return sp.Integer(0)
        if kind == "constant":
            return self.pick(self.constants)
        if kind == "hyper":
            return self.pick(list(self.hypers.values())) * self.pick([sp.Integer(1), sp.Integer(2)])
        if kind == "g":
            return GRAD
        if kind == "theta":
            return PARAM
        if kind == "data":
            h = self.pick(list(self.hypers.values()))
            return self.pick([2 * GRAD, PARAM + 1, GRAD ** 2, h * GRAD, PARAM * GRAD, sp.Abs(GRAD) + h])
        return None

    def step_value(self, kind, target, scalar_state):
        """A value for ``target``; drawn again when SymPy's evaluation made it complex or infinite (say
        ``sqrt(-1)``), which a valid spec may not contain, or when SymPy refused to build it."""
        for _ in range(20):
            try:
                value = self._step_value(kind, target, scalar_state)
            except SYMPY_REFUSALS:  # SymPy refused to build it
                continue
            if not value.has(sp.I, sp.zoo, sp.nan, sp.oo, -sp.oo):
                break
        else:
            value = PARAM if target == "theta" else sp.Integer(0)
        self._declare(kind, target, value)
        return value

    def _declare(self, kind, target, value):
        if kind == "let":
            symbol = sp.Symbol(target, real=True)
            if value.free_symbols <= set(self.scalars):
                self.scalars.append(symbol)
            else:
                self.readable_arrays.append(symbol)
        elif target not in ("theta", "q"):
            symbol = sp.Symbol(target, real=True)
            if symbol not in self.readable_arrays:
                self.readable_arrays.append(symbol)

    def _step_value(self, kind, target, scalar_state):
        rng = self.rng
        if target == "q":
            value = self.expr(2, scalar=True)
            if rng.random() < 0.6:
                value = self.pick([sp.Rational(9, 10), *self.unit]) * scalar_state + value / 10
        elif kind == "let":
            value = self.expr(3, scalar=rng.random() < 0.2)
        elif target == "theta":
            f = self.expr(int(rng.integers(2, 5)))
            step = self.pick([*self.hypers.values(), sp.Rational(1, 10)])
            value = PARAM - step * f if rng.random() < 0.75 else self.expr(3)
        else:
            f = self.expr(int(rng.integers(1, 4)))
            symbol = sp.Symbol(target, real=True)
            if symbol in self.readable_arrays and rng.random() < 0.6:
                beta = self.pick(self.unit or [sp.Rational(9, 10)])
                value = beta * symbol + (1 - beta) * f
            else:
                value = f
        return value

    # expressions
    def leaf(self, scalar: bool):
        rng = self.rng
        if not scalar and rng.random() < 0.7:
            return self.pick(self.readable_arrays)
        roll = rng.random()
        if roll < 0.25:
            return self.pick(self.constants)
        if roll < 0.35:
            h = self.pick(self.unit or list(self.hypers.values()))
            return self.pick([1 / STEP, h ** STEP, sp.sqrt(STEP), STEP])
        return self.pick(self.scalars)

    def expr(self, depth: int, scalar: bool = False):
        rng = self.rng
        if depth <= 0 or rng.random() < 0.2:
            return self.leaf(scalar)
        def sub():
            return self.expr(depth - 1, scalar)
        ops = ["add", "sub", "mul", "div", "sqrt", "abs", "sign", "max", "min", "exp", "tanh", "log", "pow",
               "piecewise", "floor", "mod", "heaviside", "raw"]
        weights = [3, 2, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1.5, 2.5, 0.4, 0.4, 0.3, 0.6]
        op = self.pick(ops, weights)
        c = self.pick([sp.Integer(1), sp.Rational(1, 2), *self.positive])
        if op == "add":
            return sub() + sub()
        if op == "sub":
            return sub() - sub()
        if op == "mul":
            return sub() * sub()
        if op == "div":
            b = sub()
            return sub() / self.pick([c + sp.Abs(b), 1 + b ** 2, c + b ** 2])
        if op == "sqrt":
            a = sub()
            return self.pick([sp.sqrt(sp.Abs(a) + c), sp.sqrt(a ** 2 + 1), sp.sqrt(1 + sp.Abs(a))])
        if op == "abs":
            return sp.Abs(sub())
        if op == "sign":
            return sp.sign(sub())
        if op in ("max", "min"):
            return (sp.Max if op == "max" else sp.Min)(*[sub() for _ in range(int(rng.integers(2, 4)))])
        if op == "exp":
            a = sub()
            return self.pick([sp.exp(-sp.Abs(a)), sp.exp(sp.tanh(a)), sp.exp(-a ** 2)])
        if op == "tanh":
            return sp.tanh(sub())
        if op == "log":
            a = sub()
            return self.pick([sp.log(c + sp.Abs(a)), sp.log(1 + a ** 2)])
        if op == "pow":
            a = sub()
            return self.pick([a ** 2, a ** 3, sp.Abs(a) ** sp.Rational(3, 2), (1 + sp.Abs(a)) ** sp.Rational(-1, 2),
                              (1 + a ** 2) ** -1, sp.Abs(a) ** sp.Rational(1, 3), (c + sp.Abs(a)) ** sub()
                              if scalar else (1 + a ** 2) ** -2])
        if op == "piecewise":
            pieces = [(sub(), self.condition(depth - 1, scalar)) for _ in range(int(rng.integers(1, 3)))]
            if rng.random() < 0.95:
                pieces.append((sub(), sp.true))
            return sp.Piecewise(*pieces)
        if op == "floor":
            return self.pick([sp.floor, sp.ceiling])(2 * sub())
        if op == "mod":
            a, b = sub(), sub()
            return self.pick([sp.Mod(a, 2), sp.Mod(a, c + sp.Abs(b)), sp.Mod(-a, sp.Rational(3, 2))])
        if op == "heaviside":
            return self.pick([sp.Heaviside(sub()), sp.Heaviside(sub(), 1)])
        # raw: unguarded forms whose NaN and infinities are part of the test
        a, b = sub(), sub()
        return self.pick([sp.sqrt(a), sp.log(a), a / b, sp.exp(a), a ** sp.Rational(1, 2) * b, sp.Min(sp.sqrt(a ** 2 + 1), 1)])

    def condition(self, depth: int, scalar: bool):
        rng = self.rng
        kind = self.pick(["elementwise", "step", "both", "logic"], [4 if not scalar else 0, 2, 1.5 if not scalar else 0, 1])
        if kind == "step":
            k = int(rng.integers(1, 5))
            h = self.pick(list(self.hypers.values()))
            return self.pick([STEP > k, sp.Eq(STEP, 1), sp.Eq(sp.Mod(STEP, 2), 0), sp.Ne(STEP, 2), h > sp.Rational(1, 2),
                              sp.Eq(sp.Mod(STEP, 3), 1)])
        if kind == "elementwise":
            a, b = self.expr(max(depth, 1) - 1), self.expr(max(depth, 1) - 1, scalar=rng.random() < 0.5)
            relation = self.pick([sp.Gt, sp.Lt, sp.Ge, sp.Le, sp.Ne, sp.Eq], [3, 3, 1, 1, 0.5, 0.3])
            relation_value = relation(a, b)
            return relation_value if isinstance(relation_value, sp.logic.boolalg.Boolean) else sp.true
        if kind == "both":
            return sp.And(self.condition(depth, False), self.pick([STEP > 2, sp.Eq(STEP, 1), sp.Ne(STEP, 3)]))
        first, second = self.condition(depth - 1, scalar), self.condition(depth - 1, scalar)
        return self.pick([sp.And(first, second), sp.Or(first, second), sp.Not(first), sp.Xor(first, second)])


# --- checking ---------------------------------------------------------------------------------------------
@dataclass
class Result:
    recipe: Recipe
    outcomes: dict                                   # backend → outcome
    details: dict = field(default_factory=dict)      # backend → text
    seconds: float = 0.0                             # CPU seconds to validate, lower and print


def _load(text: str, name: str):
    import types
    module = types.ModuleType(name)
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    return module


def _generate(recipe: Recipe) -> tuple[dict, object, dict, float, str]:
    """(outcomes so far, spec, modules, CPU seconds, detail)."""
    start = time.process_time()
    try:
        with time_limit(HARD_LIMIT):
            try:
                spec = recipe.build()
            except SpecError as error:
                return {b: "rejected" for b in BACKEND_NAMES}, None, {}, time.process_time() - start, str(error)
            modules = {b: _load(BACKENDS[b](spec, __version__), f"{spec.name}_{b}") for b in BACKEND_NAMES}
    except CheckTimeout:
        return {b: "over_time" for b in BACKEND_NAMES}, None, {}, time.process_time() - start, "abandoned"
    except Exception:  # noqa: BLE001 - every failure is an outcome
        return ({b: "generator_crash" for b in BACKEND_NAMES}, None, {}, time.process_time() - start,
                traceback.format_exc(limit=-3))
    return {}, spec, modules, time.process_time() - start, ""


def _inputs(rng, size: int):
    theta = rng.standard_normal(size) * 2
    return theta


def _gradient(rng, size: int, step: int):
    g = rng.standard_normal(size) * np.exp(rng.uniform(-2, 1, size))
    g[:4] = [0.0, -0.0, 1e-12, 50.0]
    if step % 2 == 0:
        g[4:6] = [np.nan, np.inf]
    return g


def _within_range(value) -> np.ndarray:
    """Finite, and 0 or of a magnitude in [:data:`SMALLEST`, :data:`LARGEST`]."""
    magnitude = np.abs(np.asarray(value, float))
    with np.errstate(invalid="ignore"):
        return np.isfinite(magnitude) & ((magnitude == 0) | ((magnitude >= SMALLEST) & (magnitude <= LARGEST)))


def _exact_mask(trace, exceptional, hp, shape) -> np.ndarray:
    """Where every value the reference computed (and every hyperparameter) is finite and far from the ends
    of the float64 range, and no operation was exceptional. Near the ends, exact algebra may differ:
    ``lr*(m/c)`` reassociated as ``(lr*m)/c`` overflows for ``lr = 1e308`` where the reference does not."""
    mask = np.full(shape, all(_within_range(v) for v in hp.values()))
    for value in trace:
        mask &= np.broadcast_to(_within_range(value), shape)
    for where in exceptional:
        mask &= ~np.broadcast_to(where, shape)
    return mask


class _Comparison:
    """One step of one backend against the reference; ``mismatch`` describes the first wrong output."""

    def __init__(self, spec, hp, t):
        self.spec, self.hp, self.t = spec, hp, t

    def reference(self, param, grad, state):
        """The reference step, and where it is exact (see :func:`_exact_mask`)."""
        trace, exceptional = [], []
        new_param, new_state = reference.step(self.spec, param, grad, state, self.t, trace=trace,
                                              exceptional=exceptional, **self.hp)
        return new_param, new_state, _exact_mask(trace, exceptional, self.hp, np.shape(param))

    def sensitivity(self, param, grad, state, expected, rng):
        r"""Per output: how far the reference moves, and whether it reaches NaN, when its array inputs move
        by :data:`PERTURBATION` relative (all up, all down, two random mixes), and when every operation's
        value moves by up to :data:`ROUNDING` relative (four random draws: Monte Carlo arithmetic, which
        shows cancellation after an operation, e.g. in :math:`1 + \tanh x` at :math:`x = -15`)."""
        moved = {k: np.zeros_like(np.asarray(v, float)) for k, v in expected.items()}
        reaches_nan = {k: np.zeros(np.shape(v), bool) for k, v in expected.items()}
        for trial in range(8):
            def jitter(x):
                if trial >= 4:
                    return x
                direction = (1, -1)[trial] if trial < 2 else rng.uniform(-1, 1, np.shape(x))
                return x * (1 + PERTURBATION * direction)

            def rounding(x):
                return x * (1 + ROUNDING * rng.uniform(-1, 1, np.shape(x)))
            state2 = {k: (jitter(v) if isinstance(v, np.ndarray) else v) for k, v in state.items()}
            p2, s2 = reference.step(self.spec, jitter(param), jitter(grad), state2, self.t,
                                    rounding=rounding if trial >= 4 else None, **self.hp)
            result = {"theta": p2, **s2}
            for k in moved:
                value = np.asarray(result[k], float)
                with np.errstate(invalid="ignore"):
                    moved[k] = np.fmax(moved[k], np.abs(value - np.asarray(expected[k], float)))
                reaches_nan[k] |= np.isnan(value)
        return moved, reaches_nan

    def mismatch(self, module, param, grad, state, expected, exact, rng, alias=False) -> str | None:
        p = param.copy()
        s = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}
        module.step(p, p if alias else grad.copy(), s, self.t, **self.hp)
        actual = {"theta": p, **s}
        bad = {}
        for key, value in expected.items():
            r, k = np.asarray(value, float), np.asarray(actual[key], float)
            mask = exact if r.shape == exact.shape else np.all(exact)
            with np.errstate(invalid="ignore"):
                off = mask & ~(np.abs(k - r) <= RTOL * (1 + np.abs(r)))
            if np.any(off):
                bad[key] = off
        if not bad:
            return None
        moved, reaches_nan = self.sensitivity(param, param if alias else grad, state, expected, rng)
        for key, off in bad.items():
            r, k = np.asarray(expected[key], float), np.asarray(actual[key], float)
            with np.errstate(invalid="ignore"):
                # Ill-conditioned: rounding moves the result by about (u/δ)·moved ≈ 1e-6·moved. On a jump: by
                # the jump, which the perturbed reference makes too. Either way within the perturbed range.
                explained = (np.abs(k - r) <= 2 * moved[key]) | (np.isnan(k) & reaches_nan[key])
            wrong = off & ~explained
            if np.any(wrong):
                index = np.flatnonzero(np.broadcast_to(wrong, np.shape(r)))[0] if np.ndim(r) else None
                at = "" if index is None else f"[{index}]"
                got = k.flat[index] if index is not None else k
                want = r.flat[index] if index is not None else r
                return (f"t={self.t}{' (grad is param)' if alias else ''}: {key}{at} = {got!r}, reference {want!r} "
                        f"(inputs theta={param.flat[index] if index is not None else ''!r}, "
                        f"g={grad.flat[index] if index is not None else ''!r})")
        return None


def _run_backend(spec, module, hp, steps, size, seed) -> tuple[str, str]:
    rng = np.random.default_rng(seed)
    theta = _inputs(rng, size)
    try:
        state = reference.init_state(spec, theta, **hp)
    except Exception:  # noqa: BLE001
        return "reference_crash", traceback.format_exc(limit=-2)
    try:
        module_state = module.init_state(theta.copy(), **hp)
    except Exception:  # noqa: BLE001
        return "kernel_crash", traceback.format_exc(limit=-2)
    for key, value in state.items():
        if not np.allclose(np.asarray(module_state[key], float), value, rtol=RTOL, atol=RTOL, equal_nan=True):
            return "wrong_kernel", f"init_state: {key} = {module_state[key]!r}, reference {value!r}"
    param = theta
    for t in range(1, steps + 1):
        grad = _gradient(rng, size, t)
        comparison = _Comparison(spec, hp, t)
        try:
            new_param, new_state, exact = comparison.reference(param, grad, state)
        except Exception:  # noqa: BLE001
            return "reference_crash", traceback.format_exc(limit=-2)
        expected = {"theta": new_param, **new_state}
        try:
            problem = comparison.mismatch(module, param, grad, state, expected, exact, rng)
            if problem is None and t == 2:  # the gradient is the parameter array itself
                p_alias, s_alias, f_alias = comparison.reference(param, param, state)
                problem = comparison.mismatch(module, param, param, state, {"theta": p_alias, **s_alias}, f_alias,
                                              rng, alias=True)
        except Exception:  # noqa: BLE001
            return "kernel_crash", f"t={t}: " + traceback.format_exc(limit=-2)
        if problem:
            return "wrong_kernel", problem
        param, state = new_param, new_state
    return "correct", ""


def _hyperparameters(spec, rng) -> dict:
    return {h.name: _sample_hyperparameter(rng, h.domain, h.default) for h in spec.hyperparameters}


def _sampled(recipe, backend: str, every: dict) -> bool:
    """Whether ``backend`` checks ``recipe`` when it checks one spec in ``every.get(backend, 1)``."""
    return zlib.crc32(f"{backend}:{recipe.name}".encode()) % every.get(backend, 1) == 0


def check_specs(recipes, *, steps: int = 10, size: int = 48, seed: int = 0, workdir: Path | None = None,
                on_result=None, every: dict | None = None) -> list[Result]:
    """Generate, compile (one g++ run per batch, in a thread while the next batch generates) and check."""
    results: list[Result] = []
    directory = tempfile.TemporaryDirectory(prefix="optiforge_differential_") if workdir is None else None
    root = Path(directory.name if directory else workdir)
    batches = [recipes[i:i + 100] for i in range(0, len(recipes), 100)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as compiler:
        pending = None
        for number, batch in enumerate(batches + [None]):
            prepared = None
            if batch is not None:
                prepared = []
                for recipe in batch:
                    outcomes, spec, modules, seconds, detail = _generate(recipe)
                    prepared.append((recipe, outcomes, spec, modules, seconds, detail))
                sources = {k: m["cupy"].KERNELS["float64"] for k, (_, _, _, m, _, _) in enumerate(prepared) if m}
                batch_dir = root / f"batch{number}"
                batch_dir.mkdir(parents=True, exist_ok=True)
                future = compiler.submit(_compile, sources, batch_dir)
            if pending is not None:
                results += _check_batch(*pending, steps=steps, size=size, seed=seed, on_result=on_result,
                                        every=EVERY if every is None else every)
            pending = (prepared, future) if batch is not None else None
    if directory:
        directory.cleanup()
    return results


def _compile(sources: dict, directory: Path, storage: StorageTypes | None = None):
    """``({key: library}, {key: g++ error})`` for ``sources`` (key → kernel source) with ``storage`` dtypes
    (float64 by default): one g++ call per group of distinct kernel names (specs may share a name), or one per
    kernel when that fails (to find the kernels g++ rejects)."""
    storage = storage or StorageTypes("float64", "float64")
    groups: list[dict] = []
    for key, source in sources.items():
        group = next((g for g in groups if source.name not in {s.name for s in g.values()}), None)
        if group is None:
            groups.append(group := {})
        group[key] = source
    libraries, errors = {}, {}
    for number, group in enumerate(groups):
        part = directory / f"group{number}"
        part.mkdir(exist_ok=True)
        try:
            library = build_library(list(group.values()), storage, part)
            libraries.update({key: library for key in group})
            continue
        except RuntimeError:
            pass
        for key, source in group.items():
            single = part / f"k{key}"
            single.mkdir(exist_ok=True)
            try:
                libraries[key] = build_library([source], storage, single)
            except RuntimeError as error:
                errors[key] = str(error)[-1500:]
    return libraries, errors


def _check_batch(prepared, future, *, steps, size, seed, on_result, every) -> list[Result]:
    libraries, errors = future.result()
    results = []
    for key, (recipe, outcomes, spec, modules, seconds, detail) in enumerate(prepared):
        backends = [b for b in BACKEND_NAMES if _sampled(recipe, b, every)]
        result = Result(recipe, {b: outcomes[b] for b in backends if b in outcomes},
                        {b: detail for b in backends if b in outcomes}, seconds)
        if spec is not None:
            hp = _hyperparameters(spec, np.random.default_rng([seed, 7, zlib.crc32(recipe.name.encode())]))
            for backend in backends:
                module = modules[backend]
                if backend == "cupy":
                    source = module.KERNELS["float64"]
                    if key in errors:
                        result.outcomes[backend], result.details[backend] = "kernel_crash", errors[key]
                        continue
                    runtime = HostRuntime({"float64": [source], "float32": []})
                    runtime.attach("float64", StorageTypes("float64", "float64"), libraries[key])
                    module = emulate(module, runtime)
                outcome, text = _run_backend(spec, module, hp, steps, size, seed)
                if outcome == "correct" and seconds > TIME_LIMIT:
                    outcome, text = "over_time", f"{seconds:.2f} s of CPU to generate"
                result.outcomes[backend], result.details[backend] = outcome, text
        results.append(result)
        if on_result:
            on_result(result)
    return results


def summary(results: list[Result]) -> dict[str, Counter]:
    """backend → Counter of outcomes."""
    table = {b: Counter({o: 0 for o in OUTCOMES}) for b in BACKEND_NAMES}
    for result in results:
        for backend, outcome in result.outcomes.items():
            table[backend][outcome] += 1
    return table


def format_summary(table: dict[str, Counter], count: int, seed: int, seconds: float) -> str:
    lines = [f"differential test: {count} specs, seed {seed}, {seconds:.0f} s"]
    lines.append("backend  " + "  ".join(f"{o:>15s}" for o in (*OUTCOMES, "checked")))
    for backend, counts in table.items():
        lines.append(f"{backend:8s} " + "  ".join(f"{counts[o]:>15d}" for o in OUTCOMES)
                     + f"  {sum(counts.values()):>15d}")
    return "\n".join(lines)


def _check_indices(seed: int, indices: list[int], steps: int, size: int, every: dict) -> list[Result]:
    generator = SpecGenerator(seed)
    return check_specs([generator.recipe(i) for i in indices], steps=steps, size=size, seed=seed, every=every)


def campaign(count: int, seed: int, *, steps: int = 10, size: int = 48, start: int = 0, workers: int = 1,
             on_result=None, every: dict | None = None) -> tuple[list[Result], float]:
    """Specs ``start … start + count − 1`` of ``seed`` checked (in ``workers`` processes, chunks of
    :data:`CHUNK` specs); returns the results in spec order and the wall seconds."""
    began = time.time()
    if workers <= 1:  # one process: check_specs compiles each batch while it generates the next
        generator = SpecGenerator(seed)
        results = check_specs([generator.recipe(i) for i in range(start, start + count)], steps=steps, size=size,
                              seed=seed, on_result=on_result, every=every)
        return results, time.time() - began
    chunks = [list(range(i, min(i + CHUNK, start + count))) for i in range(start, start + count, CHUNK)]
    context = multiprocessing.get_context("spawn")  # not fork: the caller may hold threads (torch, BLAS)
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        every = EVERY if every is None else every
        futures = [pool.submit(_check_indices, seed, chunk, steps, size, every) for chunk in chunks]
        results = [r for future in futures for r in _report(future.result(), on_result)]
    return results, time.time() - began


def _report(results: list[Result], on_result) -> list[Result]:
    for result in results:
        if on_result:
            on_result(result)
    return results


# --- minimisation ------------------------------------------------------------------------------------------
def _fails(recipe: Recipe, backend: str, outcome: str, steps: int, size: int, seed: int) -> bool:
    try:
        result, = check_specs([recipe], steps=steps, size=size, seed=seed)
    except Exception:  # noqa: BLE001
        return False
    return result.outcomes.get(backend) == outcome


def _smaller_expressions(expr):
    """Candidates simpler than ``expr``: each argument, and the expression with one argument simplified."""
    if not isinstance(expr, sp.Basic) or expr.is_Atom:
        return []
    parts = [pair.expr for pair in expr.args] if isinstance(expr, sp.Piecewise) else expr.args
    candidates = [a for a in parts if isinstance(a, sp.Expr)]
    candidates += [sp.Integer(1), sp.Integer(0)]
    for i, arg in enumerate(expr.args):
        for smaller in _smaller_expressions(arg)[:4]:
            args = list(expr.args)
            args[i] = smaller
            try:
                candidates.append(expr.func(*args))
            except SYMPY_REFUSALS:
                pass
    return candidates


def _smaller_recipes(recipe: Recipe):
    """Candidates one edit smaller: a combinator dropped, a step dropped, a value shrunk."""
    for i in range(len(recipe.combinators)):
        yield replace(recipe, combinators=recipe.combinators[:i] + recipe.combinators[i + 1:])
    for i in range(len(recipe.steps)):
        yield replace(recipe, steps=recipe.steps[:i] + recipe.steps[i + 1:])
    for i, (kind, target, value) in enumerate(recipe.steps):
        for smaller in _smaller_expressions(value):
            yield replace(recipe, steps=recipe.steps[:i] + [(kind, target, smaller)] + recipe.steps[i + 1:])


def minimise(recipe: Recipe, backend: str, outcome: str, *, steps: int = 10, size: int = 48, seed: int = 0,
             budget: int = 300) -> Recipe:
    """A smaller recipe with the same failure (greedy: the first smaller candidate that still fails, until
    none does or ``budget`` candidates were tried)."""
    tries = 0
    while tries < budget:
        for candidate in _smaller_recipes(recipe):
            tries += 1
            if tries > budget:
                break
            if _fails(candidate, backend, outcome, steps, size, seed):
                recipe = candidate
                break
        else:
            break
    return recipe


# --- command line ------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--oracle" in argv:  # --oracle exact: the exact-oracle campaign (tests/oracle_differential.py) takes the rest
        where = argv.index("--oracle")
        if argv[where + 1:where + 2] != ["exact"]:
            parser_error = f"--oracle takes 'exact' (the float64 reference is the default), got {argv[where + 1:where + 2]}"
            raise SystemExit(parser_error)
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import oracle_differential
        return oracle_differential.main(argv[:where] + argv[where + 2:])
    parser = argparse.ArgumentParser(prog="python -m tests.differential", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="index of the first spec (to split a campaign)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--workers", type=int, default=1, help="processes to check specs in")
    parser.add_argument("--minimise", action="store_true", help="shrink every failure before printing it")
    parser.add_argument("--show", type=int, default=20, help="print at most this many failures")
    parser.add_argument("--only", type=int, nargs="*", help="check only these spec indices")
    parser.add_argument("--every", nargs=2, action="append", metavar=("BACKEND", "N"), default=[],
                        help="BACKEND checks one spec in N (e.g. --every numba 8); the others check every spec")
    args = parser.parse_args(argv)
    every = {backend: int(n) for backend, n in args.every}
    shown = 0

    def report(result: Result):
        nonlocal shown
        failures = {b: o for b, o in result.outcomes.items() if o != "correct"}
        if failures and shown < args.show:
            shown += 1
            backend, outcome = next(iter(failures.items()))
            recipe = result.recipe
            if args.minimise and outcome not in ("over_time",):
                recipe = minimise(recipe, backend, outcome, steps=args.steps, size=args.size, seed=args.seed)
            print(f"--- {result.recipe.name}: {failures}\n{result.details.get(backend, '')}\n{recipe.source()}\n",
                  flush=True)

    if args.only:
        generator, began = SpecGenerator(args.seed), time.time()
        results = check_specs([generator.recipe(i) for i in args.only], steps=args.steps, size=args.size,
                              seed=args.seed, on_result=report, every=every)
        seconds = time.time() - began
    else:
        results, seconds = campaign(args.count, args.seed, steps=args.steps, size=args.size, start=args.start,
                                    workers=args.workers, on_result=report, every=every)
    table = summary(results)
    print(format_summary(table, len(results), args.seed, seconds))
    slowest = sorted(results, key=lambda r: -r.seconds)[:3]
    print("slowest generation (CPU s): " + ", ".join(f"{r.recipe.name} {r.seconds:.2f}" for r in slowest))
    return 0 if all(counts["correct"] == sum(counts.values()) for counts in table.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
