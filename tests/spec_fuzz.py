r"""Fuzzing the spec front end: malformed and odd specs must fail with :class:`SpecError` at ``build()``,
or build a spec whose generated modules load and step like the reference.

A case is a small valid spec (one of :data:`TEMPLATES`: plain SGD, momentum with a temporary, an
Adam-like spec with a scalar state) with one to three *mutations*, each replacing one element by an odd
value drawn from a catalogue of what users get wrong or write unusually: names (reserved, builtins,
generated identifiers such as ``theta_new``, not NFKC-normal like full-width ``ｇ``, µ or ``ﬁ``,
non-strings), text fields (``\"\"\"``, NUL, lone surrogates, non-strings), defaults (NumPy scalars,
``Fraction``, ``Decimal``, ``π/10``, booleans, NaN, complex, strings), domains (``Union``, ``Integers``,
``Naturals``, ``Range(0, 10, 2)``, empty, symbolic ends, non-sets), initial values (``2g``, ``θ + 1``,
``g²``, ``t``, other state, complex, truth values), targets (numbers, the gradient, undeclared or
re-declared symbols, non-symbols) and values (truth values, ``I``, ``1j``, ``zoo``, huge constants,
non-elementwise functions, strings, lists), plus reordered, dropped and duplicated assignments and specs
built by hand around :class:`SpecBuilder` (lists for tuples, foreign objects).

Outcomes: ``spec_error`` (the right answer for a malformed spec), ``other_error`` (any other exception
from building: a bug), ``accepted`` (then the spec must generate, load and step: ``accepted_ok``, or
``accepted_fails`` — a bug).

Campaign: ``python -m tests.spec_fuzz --count 10000 --seed 1``.
"""
from __future__ import annotations

import argparse
import decimal
import fractions
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from optiforge.specs import (BOOLEAN, GRAD, NONNEGATIVE, PARAM, POSITIVE, POSITIVE_INTEGER, REAL, STEP,
                             UNIT_HALF_OPEN, OptimizerSpec, SpecBuilder, SpecError)
from optiforge.specs.dsl import Assignment, Hyperparameter, State

__all__ = ["FuzzCase", "FuzzGenerator", "fuzz", "OUTCOMES", "main"]

OUTCOMES = ("spec_error", "other_error", "accepted_ok", "accepted_fails")


# --- templates: valid specs as plain data ------------------------------------------------------------------
# hypers: [name, default, latex, domain, doc, role]; states: [name, init, latex, scalar, doc, role];
# steps: [kind, target (a role, or a function of the symbols), value, latex, declared name of a let]. Values are
# functions of ``S`` (role → the symbol the builder returned), so a mutated name keeps its role.
def _sgd():
    return {"hypers": [["lr", 0.1, r"\eta", POSITIVE, "", "lr"]], "states": [],
            "steps": [["update", "theta", lambda S: PARAM - S["lr"] * GRAD, None, None]]}


def _momentum():
    return {"hypers": [["lr", 0.05, r"\eta", POSITIVE, "", "lr"], ["beta", 0.9, r"\beta", UNIT_HALF_OPEN, "", "beta"]],
            "states": [["m", 0, "m", False, "", "m"]],
            "steps": [["update", "m", lambda S: S["beta"] * S["m"] + (1 - S["beta"]) * GRAD, None, None],
                      ["let", "d", lambda S: S["m"] / (1 + sp.Abs(S["m"])), r"\delta", "d"],
                      ["update", "theta", lambda S: PARAM - S["lr"] * S["d"], None, None]]}


def _adamish():
    return {"hypers": [["lr", 0.01, r"\eta", POSITIVE, "", "lr"], ["b2", 0.99, r"\beta_2", UNIT_HALF_OPEN, "", "b2"],
                       ["eps", 1e-8, r"\epsilon", NONNEGATIVE, "", "eps"], ["k", 2, "k", POSITIVE_INTEGER, "", "k"]],
            "states": [["v", 0, "v", False, "", "v"], ["p", 1, "p", True, "running product", "p"]],
            "steps": [["update", "p", lambda S: S["p"] * S["b2"], None, None],
                      ["update", "v", lambda S: S["b2"] * S["v"] + (1 - S["b2"]) * GRAD ** 2, None, None],
                      ["let", "vhat", lambda S: S["v"] / (1 - S["p"]), r"\hat v", "vhat"],
                      ["update", "theta", lambda S: PARAM - S["lr"] * sp.Piecewise(
                          (GRAD / (sp.sqrt(S["vhat"]) + S["eps"]), STEP > S["k"]), (0, True)), None, None]]}


class _Symbols(dict):
    """Role → declared symbol; a role never declared (its let was mutated away) reads as an undeclared
    symbol, which validation must report."""

    def __missing__(self, role):
        return sp.Symbol(role, real=True)


TEMPLATES = {"sgd": _sgd, "momentum": _momentum, "adamish": _adamish}

# --- the catalogue of odd values ---------------------------------------------------------------------------
_x = sp.Symbol("x", real=True)
ODD_NAMES = [
    "STATE", "DOMAINS", "NAME", "HYPERPARAMETERS", "SCALAR_STATE", "KERNELS", "numpy", "math", "cupy", "stream",
    "range", "min", "max", "abs", "float", "len", "print", "sum", "pow", "theta_new", "m_new", "v_new", "g_new",
    "c0", "x0", "x1", "i", "n", "T", "G", "double", "float32", "int", "auto", "const", "sqrt", "exp", "fabs",
    "pi", "E", "I", "S", "N", "oo", "nan", "inf", "True", "None", "class", "lambda", "def", "step", "init_state",
    "param", "grad", "state", "hyperparameters", "theta", "g", "t", "ｇ", "ｌｒ", "µ", "μ", "ﬁ", "fi", "Å", "Å",
    "lr\u0301", "_x", "__x", "_buf0", "1a", "a b", "a-b", "", " ", "é", "λ", "β1", "x\x00", "\ud800", "a" * 300,
    None, 3, 2.5, b"lr", ("lr",), _x,
]
ODD_TEXTS = ['"""', "'''", 'ends with "', "\\", "\\n", "\x00", "\ud800", "\udfff", "a\x1bb", "\r\n", "\u2028",
             "π ≈ 3.14 — ünïcode", "{}", "%s", "\t", "'", "\U0001F600", "\x7f", "", None, 3, b"bytes", ["a"],
             sp.Symbol("title")]
ODD_DEFAULTS = [
    np.float32(0.1), np.float64(0.3), np.int64(2), np.int8(1), np.uint64(3), np.float16(0.5), np.bool_(True),
    True, False, fractions.Fraction(1, 10), fractions.Fraction(2, 1), decimal.Decimal("0.1"), decimal.Decimal("NaN"),
    decimal.Decimal("1e999"), sp.pi / 10, sp.Rational(1, 3), sp.Float(0.25), sp.Integer(1), sp.E, sp.sqrt(2) / 2,
    float("nan"), float("inf"), -float("inf"), 1e400, 1e308, 5e-324, -0.0, 10 ** 400, 1j, complex(0.1, 0), "0.1",
    None, [0.1], (0.1,), np.array(0.2), np.array([0.1]), _x, sp.I, sp.oo, sp.nan, sp.zoo, sp.true, 0, 1, 2, 0.5,
    -1, 1.5, 7,
]
ODD_DOMAINS = [
    sp.Union(sp.Interval(0, 1), sp.Interval(2, 3)), sp.Union(sp.Interval(0, 1), sp.Interval(1, 2)), sp.S.Integers,
    sp.S.Naturals, sp.S.Naturals0, sp.S.Reals, sp.S.Complexes, sp.Range(0, 10, 2), sp.Range(1, sp.oo, 2),
    sp.Range(10, 0, -3), sp.Range(-sp.oo, 0), sp.Range(0, 10 ** 6, 7), sp.FiniteSet(0, 1), sp.FiniteSet(sp.I, 1),
    sp.FiniteSet(_x), sp.FiniteSet(sp.Rational(1, 3), 2), sp.FiniteSet(sp.oo), sp.Interval(0, _x),
    sp.Interval(1, 0), sp.Interval(0, sp.pi), sp.Interval.open(0, 1e-320), sp.S.EmptySet,
    sp.Complement(sp.S.Reals, sp.FiniteSet(0)), sp.Intersection(sp.Interval(0, 2), sp.Interval(1, 3)),
    sp.ImageSet(sp.Lambda(_x, 2 * _x), sp.S.Integers), "[0, 1]", (0, 1), None, 1, sp.Interval(-sp.oo, sp.oo),
    POSITIVE, NONNEGATIVE, UNIT_HALF_OPEN, REAL, BOOLEAN, POSITIVE_INTEGER,
]


#: Odd values and initial values, each a function of one declared symbol ``h`` (built only when drawn: a
#: case is what a user could write, so SymPy must be able to build it).
ODD_EXPRESSIONS = [
    lambda h: 2 * GRAD, lambda h: PARAM + 1, lambda h: GRAD ** 2, lambda h: PARAM * GRAD, lambda h: sp.Abs(GRAD) + h,
    lambda h: GRAD, lambda h: PARAM, lambda h: STEP, lambda h: STEP * GRAD, lambda h: h, lambda h: h ** STEP,
    lambda h: GRAD > 0, lambda h: sp.true, lambda h: sp.And(GRAD > 0, PARAM < 1), lambda h: sp.Eq(GRAD, 0),
    lambda h: sp.I, lambda h: 1j, lambda h: GRAD + sp.I, lambda h: sp.I * GRAD * sp.I, lambda h: sp.zoo,
    lambda h: sp.nan, lambda h: sp.oo, lambda h: -sp.oo, lambda h: sp.Float("1e400"),
    lambda h: sp.Integer(10) ** 400, lambda h: sp.Rational(1, 10 ** 400), lambda h: sp.exp(1000),
    lambda h: sp.Float(0.1, 50), lambda h: 1e308 * GRAD, lambda h: "g + 1", lambda h: None, lambda h: [GRAD],
    lambda h: (GRAD,), lambda h: sp.Matrix([GRAD]), lambda h: sp.Function("f")(GRAD), lambda h: sp.sin(GRAD),
    lambda h: sp.cos(1), lambda h: sp.re(GRAD), lambda h: sp.conjugate(GRAD), lambda h: sp.Integral(GRAD, _x),
    lambda h: sp.Derivative(GRAD, PARAM), lambda h: sp.Sum(GRAD, (_x, 1, 3)), lambda h: sp.gamma(GRAD),
    lambda h: sp.floor(GRAD), lambda h: sp.Mod(GRAD, h), lambda h: sp.Heaviside(GRAD),
    lambda h: sp.Heaviside(GRAD, 1), lambda h: sp.sign(GRAD), lambda h: sp.Min(GRAD, 1), lambda h: sp.Max(GRAD),
    lambda h: sp.Piecewise((GRAD, GRAD > 0)), lambda h: sp.Piecewise((GRAD, GRAD > 0), (0, True)),
    lambda h: sp.Piecewise((1, PARAM), (0, True)), lambda h: sp.ITE(GRAD > 0, PARAM, GRAD),
    lambda h: sp.Xor(GRAD > 0, PARAM > 0), lambda h: _x, lambda h: sp.Symbol("lr"),
    lambda h: sp.Symbol("lr", negative=True), lambda h: sp.Symbol("m", positive=True), lambda h: sp.Dummy("d"),
    lambda h: sp.Symbol("theta"), lambda h: sp.Symbol("g", complex=True),
    lambda h: sp.Symbol("zz", real=True) * GRAD, lambda h: np.float32(0.5), lambda h: np.float64(2.0),
    lambda h: np.int64(3), lambda h: np.array(1.0), lambda h: np.array([1.0, 2.0]),
    lambda h: fractions.Fraction(1, 3), lambda h: decimal.Decimal("0.5"), lambda h: True, lambda h: 0, lambda h: 1,
    lambda h: -2.5, lambda h: sp.pi * GRAD, lambda h: sp.E ** GRAD, lambda h: sp.sqrt(-1), lambda h: sp.log(0),
    lambda h: sp.log(GRAD), lambda h: sp.sqrt(GRAD), lambda h: GRAD ** sp.Rational(1, 3),
    lambda h: sp.UnevaluatedExpr(GRAD) * 2, lambda h: sp.Add(GRAD, GRAD, evaluate=False),
    lambda h: sp.Mul(0, GRAD, evaluate=False), lambda h: sp.Pow(0, -1, evaluate=False), lambda h: sp.Tuple(GRAD),
    lambda h: sp.S.EmptySet, lambda h: sp.Interval(0, 1), lambda h: sp.Lambda(_x, _x),
]


_TARGETS = [lambda S: sp.Integer(1), lambda S: GRAD, lambda S: STEP, lambda S: S.get("lr", _x), lambda S: _x,
            lambda S: sp.Symbol("m", positive=True), lambda S: sp.Symbol("theta"), lambda S: sp.Symbol("theta", positive=True),
            lambda S: "theta", lambda S: None, lambda S: PARAM + 1, lambda S: sp.Function("f")(GRAD),
            lambda S: sp.Symbol("vhat", real=True), lambda S: sp.Symbol("d", real=True), lambda S: PARAM,
            lambda S: S.get("m", PARAM), lambda S: S.get("p", PARAM), lambda S: S.get("d", PARAM)]


# --- cases ------------------------------------------------------------------------------------------------
@dataclass
class FuzzCase:
    """A template with mutations; :meth:`build` runs SpecBuilder (or builds the spec by hand) and validates."""

    name: str
    template: str
    mutations: list = field(default_factory=list)   # (kind, index, value)

    def signature(self) -> tuple:
        """What the case exercises: its template and mutations (for sampling distinct accepted cases)."""
        return (self.template, *sorted(f"{kind} {value!r}" for kind, _, value in self.mutations))

    def plan(self) -> dict:
        plan = TEMPLATES[self.template]()
        plan.update({"name": self.name, "title": f"fuzz case {self.name}", "reference": "tests/spec_fuzz.py",
                     "source": "", "notes": "", "peers": (), "by_hand": None})
        for kind, index, value in self.mutations:
            _apply(plan, kind, index, value)
        return plan

    def build(self) -> OptimizerSpec:
        plan = self.plan()
        builder = SpecBuilder(plan["name"], plan["title"], reference=plan["reference"], source=plan["source"],
                              notes=plan["notes"], peers=plan["peers"])
        S = _Symbols()
        for name, default, latex, domain, doc, role in plan["hypers"]:
            S[role] = builder.hyper(name, default, latex, domain, doc)
        for name, init, latex, scalar, doc, role in plan["states"]:
            value = _written(init, S)
            S[role] = (builder.scalar_state if scalar is True else builder.state)(name, value, latex, doc)
            if scalar not in (True, False):  # a 'scalar' flag that is not a bool, as a hand-built State has
                builder._state[-1] = State(builder._state[-1].symbol, value, latex, scalar, doc)
        for kind, target, value, latex, let_name in plan["steps"]:
            expr = _written(value, S)
            if kind == "let":
                S[target] = builder.let(let_name, expr, latex)
            else:
                builder.update(_written(target, S) if callable(target) else PARAM if target == "theta" else S[target],
                               expr)
        if plan["by_hand"] is None:
            return builder.build()
        return _by_hand(builder, plan["by_hand"])

    def source(self) -> str:
        return f"FuzzCase({self.name!r}, {self.template!r}, {self.mutations!r})"


class Unwritable(Exception):
    """The case's own code (building a SymPy expression, as a user's script would) raised: not a spec."""


def _written(value, S):
    """``value``, or what the function ``value`` builds from the symbols ``S``."""
    if not callable(value):
        return value
    try:
        return value(S)
    except Exception as error:  # noqa: BLE001 - SymPy refusing to build an expression is the user's affair
        raise Unwritable(f"{type(error).__name__}: {error}") from error


def _apply(plan: dict, kind: str, index: int, value) -> None:
    steps = plan["steps"]
    if kind in ("name", "title", "reference", "source", "notes", "peers"):
        plan[kind] = value
    elif kind.startswith(("hyper_", "state_")):
        section, part = kind.split("_", 1)
        rows = plan["hypers" if section == "hyper" else "states"]
        if rows:
            position = {"name": 0, "default": 1, "init": 1, "latex": 2, "domain": 3, "scalar": 3, "doc": 4}[part]
            rows[index % len(rows)][position] = value
    elif kind == "let_name":
        lets = [step for step in steps if step[0] == "let"]
        if lets:
            lets[index % len(lets)][4] = value
    elif kind == "target":
        steps[index % len(steps)][:2] = ["update", value]
    elif kind == "value":
        steps[index % len(steps)][2] = value
    elif kind == "drop_step":
        if len(steps) > 1:
            del steps[index % len(steps)]
    elif kind == "swap_steps":
        i, j = index % len(steps), (index + 1) % len(steps)
        steps[i], steps[j] = steps[j], steps[i]
    elif kind == "duplicate_step":
        steps.append(list(steps[index % len(steps)]))
    elif kind == "by_hand":
        plan["by_hand"] = value
    else:
        raise ValueError(f"unknown mutation {kind}")


#: Hand-built specs: the containers and objects ``SpecBuilder`` would have made, replaced by others.
BY_HAND = ["lists", "foreign_hyper", "foreign_state", "foreign_assignment", "temporaries_list",
           "temporary_latex_number", "unbuilt_string_assignment", "state_not_real", "temporary_positive"]


def _by_hand(builder: SpecBuilder, how: str):
    from optiforge.specs.validate import validate

    hypers, states = tuple(builder._hyper), tuple(builder._state)
    temporaries, assignments = dict(builder._temporaries), tuple(builder._assignments)
    if how == "lists":
        hypers, states, assignments = list(hypers), list(states), list(assignments)
    elif how == "foreign_hyper":
        hypers = hypers + (("lr2", 0.1, "x", POSITIVE),)
    elif how == "foreign_state":
        states = states + ("m2",)
    elif how == "foreign_assignment":
        assignments = assignments + ((PARAM, PARAM),)
    elif how == "temporaries_list":
        temporaries = list(temporaries)
    elif how == "temporary_latex_number":
        temporaries = {s: 3 for s in temporaries} or {sp.Symbol("tmp", real=True): 3}
    elif how == "unbuilt_string_assignment":
        assignments = assignments + (Assignment(PARAM, "theta - g"),)
    elif how == "state_not_real":
        states = states + (State(sp.Symbol("w", complex=True), 0, "w"),)
    elif how == "temporary_positive":
        temporaries = {**temporaries, sp.Symbol("w", positive=True): "w"}
        assignments = (Assignment(sp.Symbol("w", positive=True), GRAD ** 2),) + assignments
    spec = OptimizerSpec(builder.name, builder.title, builder.reference, builder.source, hypers, states, temporaries,
                         assignments, builder.notes, tuple(builder.peers) if isinstance(builder.peers, list) else
                         builder.peers)
    return validate(spec)


class FuzzGenerator:
    """Random cases, deterministic in ``seed``."""

    KINDS = ["name", "title", "reference", "source", "notes", "peers", "hyper_name", "hyper_default",
             "hyper_domain", "hyper_latex", "hyper_doc", "state_name", "state_init", "state_scalar", "state_latex",
             "let_name", "target", "value", "drop_step", "swap_steps", "duplicate_step", "by_hand"]
    WEIGHTS = [1, 1, 0.3, 0.3, 1, 0.5, 3, 4, 4, 1, 0.3, 2, 4, 0.5, 1, 1.5, 2.5, 6, 0.7, 0.7, 0.7, 0.8]

    def __init__(self, seed: int):
        self.seed = seed

    def case(self, index: int) -> FuzzCase:
        rng = np.random.default_rng([self.seed, index, 99])
        template = str(rng.choice(sorted(TEMPLATES)))
        case = FuzzCase(f"f{self.seed % 1000}_{index}", template)
        p = np.asarray(self.WEIGHTS) / sum(self.WEIGHTS)
        for _ in range(int(rng.choice([1, 1, 1, 2, 2, 3]))):
            kind = self.KINDS[int(rng.choice(len(self.KINDS), p=p))]
            case.mutations.append((kind, int(rng.integers(0, 6)), self._value(kind, rng)))
        return case

    @staticmethod
    def _value(kind, rng):
        def pick(items):
            return items[int(rng.integers(len(items)))]
        if kind in ("name", "hyper_name", "state_name", "let_name"):
            return pick(ODD_NAMES)
        if kind in ("title", "reference", "source", "notes", "hyper_latex", "hyper_doc", "state_latex"):
            text = pick(ODD_TEXTS)
            return text if not isinstance(text, str) or rng.random() < 0.5 else f"x {text} y"
        if kind == "peers":
            return pick([("a", '"""'), ["torch"], "torch", ("a", 3), None, (), ("\x00",)])
        if kind == "hyper_default":
            return pick(ODD_DEFAULTS)
        if kind == "hyper_domain":
            return pick(ODD_DOMAINS)
        if kind == "state_scalar":
            return pick([True, False, 1, 0, None, "yes", np.bool_(True)])
        if kind in ("state_init", "value"):
            k = int(rng.integers(0, 200))
            return _OddExpression(k)
        if kind == "target":
            return _TARGETS[int(rng.integers(len(_TARGETS)))]
        if kind == "by_hand":
            return pick(BY_HAND)
        return None


@dataclass(frozen=True)
class _OddExpression:
    """The ``k``-th odd expression of the spec's symbols (resolved when the case is built)."""

    k: int

    def __call__(self, S):
        declared = [s for s in S.values() if isinstance(s, sp.Symbol)]
        return ODD_EXPRESSIONS[self.k % len(ODD_EXPRESSIONS)](declared[0] if declared else _x)


# --- running cases ---------------------------------------------------------------------------------------
def run_cases(cases, *, check_accepted: int | None = None, on_result=None, every: dict | None = None) -> dict:
    """Build every case; accepted ones are generated and stepped (all, or at most ``check_accepted`` with
    distinct signatures; ``every`` as in :func:`tests.differential.check_specs`). Returns
    ``{"counts": Counter, "failures": [(case, outcome, detail)], ...}``."""
    from tests.differential import check_specs

    counts, failures, accepted, seen = Counter(), [], [], set()
    errors = Counter()
    for case in cases:
        try:
            case.build()
        except Unwritable:
            counts["unwritable"] += 1
            continue
        except SpecError:
            counts["spec_error"] += 1
            continue
        except Exception as error:  # noqa: BLE001 - every other exception is a bug
            counts["other_error"] += 1
            errors[type(error).__name__] += 1
            failures.append((case, "other_error", traceback.format_exc(limit=-3)))
            continue
        counts["accepted"] += 1
        signature = case.signature()
        if check_accepted is None or (signature not in seen and len(accepted) < check_accepted):
            seen.add(signature)
            accepted.append(case)
    checked = check_specs(accepted, steps=3, size=12, every=every) if accepted else []
    for result in checked:
        bad = {b: o for b, o in result.outcomes.items() if o != "correct"}
        if bad:
            counts["accepted_fails"] += 1
            failures.append((result.recipe, "accepted_fails", f"{bad}: {next(iter(result.details.values()))}"))
        else:
            counts["accepted_ok"] += 1
        if on_result:
            on_result(result)
    return {"counts": counts, "failures": failures, "errors": errors, "checked": len(checked)}


def fuzz(count: int, seed: int, *, start: int = 0, check_accepted: int | None = None,
         every: dict | None = None) -> dict:
    generator = FuzzGenerator(seed)
    began = time.time()
    report = run_cases([generator.case(i) for i in range(start, start + count)], check_accepted=check_accepted,
                       every=every)
    report["seconds"] = time.time() - began
    return report


def format_report(report: dict, count: int, seed: int) -> str:
    c = report["counts"]
    return (f"spec fuzz: {count} cases, seed {seed}, {report['seconds']:.0f} s: {c['spec_error']} SpecError, "
            f"{c['other_error']} other exceptions {dict(report['errors'])}, {c['accepted']} accepted "
            f"({report['checked']} generated and stepped: {c['accepted_ok']} correct, {c['accepted_fails']} failing); "
            f"{c['unwritable']} not written (SymPy refused the case's own expression)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.spec_fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--sample", type=int, default=None,
                        help="generate and step at most this many accepted cases (distinct kinds); default: all")
    parser.add_argument("--show", type=int, default=20)
    args = parser.parse_args(argv)
    report = fuzz(args.count, args.seed, start=args.start, check_accepted=args.sample)
    for case, outcome, detail in report["failures"][:args.show]:
        print(f"--- {outcome}: {case.source()}\n{detail}\n", flush=True)
    print(format_report(report, args.count, args.seed))
    return 0 if not report["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
