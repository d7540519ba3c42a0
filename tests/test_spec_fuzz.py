"""Every invalid spec is a SpecError at ``build()``; every spec accepted generates, loads and steps like the
reference (``tests/spec_fuzz.py``), and the odd-but-valid inputs the issue lists are normalised.

Campaign: ``python -m tests.spec_fuzz --count 10000``.
"""
from __future__ import annotations

import ast
import builtins
import decimal
import fractions
import os
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from differential import SpecCase, check_specs
from spec_fuzz import format_report, fuzz
from optiforge.codegen.cupy_backend.host_emulation import gxx
from optiforge.codegen.generate import BACKENDS, __version__
from optiforge.specs import GRAD, PARAM, POSITIVE, REAL, STEP, SpecBuilder, SpecError, reference
from optiforge.specs.validate import EMITTED_BUILTINS

SEED = int(os.environ.get("OPTIFORGE_FUZZ_SEED", "20261201"))
COUNT = int(os.environ.get("OPTIFORGE_FUZZ_COUNT", "5000"))
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(gxx() is None, reason="g++ not on PATH: cannot host-emulate the CuPy kernels")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # init_state of an accepted exp(1000) initial value
def test_malformed_specs_raise_spec_error_and_accepted_ones_work(report_line):
    # numba compiles each accepted spec's loop (about 0.4 s of CPU): one in 8, as in the differential test
    report = fuzz(COUNT, SEED, check_accepted=300, every={"numba": 8})
    report_line(format_report(report, COUNT, SEED))
    counts = report["counts"]
    problems = "\n".join(f"--- {outcome}: {case.source()}\n{detail}" for case, outcome, detail in report["failures"][:5])
    assert counts["other_error"] == 0 and counts["accepted_fails"] == 0, problems
    assert counts["spec_error"] + counts["accepted"] + counts["unwritable"] == COUNT
    assert counts["spec_error"] >= COUNT // 2 and report["checked"] >= 200


# --- the examples, one by one ------------------------------------------------------------------------
def _sgd(**changes) -> SpecBuilder:
    """SGD with the hyperparameter ``lr``; ``changes`` replace its declaration's arguments."""
    declaration = {"name": "lr", "default": 0.1, "latex": r"\eta", "domain": POSITIVE, **changes}
    builder = SpecBuilder(changes.pop("spec_name", "sgd_case"), changes.pop("title", "SGD"), reference="tests")
    lr = builder.hyper(declaration["name"], declaration["default"], declaration["latex"], declaration["domain"])
    builder.update(PARAM, PARAM - lr * GRAD)
    return builder


def _load(spec, backend="numpy"):
    namespace: dict = {}
    exec(compile(BACKENDS[backend](spec, __version__), f"<{spec.name}>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("target", [sp.Integer(1), PARAM + 1, "theta", None, GRAD, STEP, sp.Function("f")(GRAD)])
def test_a_target_that_is_not_a_declared_symbol(target):
    builder = _sgd()
    builder.update(target, GRAD)
    with pytest.raises(SpecError, match="spec 'sgd_case'"):
        builder.build()


@pytest.mark.parametrize("domain", [(0, 1), "[0, 1]", None, sp.Union(sp.Interval(0, 1), sp.Interval(2, 3)),
                                    sp.S.Complexes, sp.FiniteSet(sp.I), sp.Interval(0, sp.Symbol("x")),
                                    sp.Range(1, sp.oo, 2)])
def test_domains_that_cannot_be_checked(domain):
    with pytest.raises(SpecError, match="'lr'"):
        _sgd(domain=domain).build()


@pytest.mark.parametrize("domain, inside, outside", [
    (sp.S.Integers, -3, 0.5), (sp.S.Naturals, 2, 0), (sp.S.Naturals0, 0, -1), (sp.Range(0, 10, 2), 8, 3),
    (sp.Range(0, 10, 2), 0, 10),
])
def test_integer_domains_are_checked_exactly(domain, inside, outside):
    spec = _sgd(domain=domain, default=inside).build()
    step = _load(spec)["step"]
    step(np.ones(3), np.ones(3), {}, 1, lr=inside)
    with pytest.raises(ValueError, match="lr"):
        step(np.ones(3), np.ones(3), {}, 1, lr=outside)


@pytest.mark.parametrize("default, value", [
    (np.float32(0.25), 0.25), (np.float64(0.3), 0.3), (np.int64(2), 2), (fractions.Fraction(1, 10), 0.1),
    (decimal.Decimal("0.1"), 0.1), (sp.pi / 10, float(sp.pi) / 10), (sp.Rational(1, 3), 1 / 3), (np.array(0.5), 0.5),
])
def test_defaults_of_any_real_number_type_become_python_numbers(default, value):
    spec = _sgd(default=default, domain=REAL).build()
    assert spec.defaults["lr"] == value and type(spec.defaults["lr"]) in (int, float)
    module = _load(spec)
    assert module["HYPERPARAMETERS"] == {"lr": value}
    param = np.ones(4)
    module["step"](param, np.ones(4), {}, 1)
    assert np.allclose(param, 1 - value)


@pytest.mark.parametrize("default", [True, np.bool_(False), float("nan"), float("inf"), 1e400, 10 ** 400, 1j, "0.1",
                                     None, [0.1], np.array([0.1]), sp.Symbol("x"), sp.I, sp.oo, decimal.Decimal("NaN")])
def test_defaults_that_are_not_finite_real_numbers(default):
    with pytest.raises(SpecError, match="lr"):
        _sgd(default=default, domain=REAL).build()


@pytest.mark.parametrize("value", [GRAD > 0, sp.true, sp.And(GRAD > 0, PARAM < 1), sp.I * GRAD, 1j, GRAD + sp.I, sp.zoo,
                                   sp.nan, sp.oo, "theta - g", object(), [GRAD], sp.Matrix([GRAD]), sp.erf(GRAD),
                                   sp.Function("f")(GRAD), sp.Integral(GRAD, PARAM), sp.Float("1e400"),
                                   sp.Integer(10) ** 400, sp.Pow(0, -1, evaluate=False),
                                   sp.Piecewise((1, PARAM), (0, True))])
def test_values_that_are_not_real_elementwise_expressions(value):
    builder = SpecBuilder("bad_value", "bad", reference="tests")
    builder.update(PARAM, value)
    with pytest.raises(SpecError, match="spec 'bad_value'.*theta"):
        builder.build()


@pytest.mark.parametrize("init", [2 * GRAD, PARAM + 1, GRAD ** 2, PARAM * GRAD])
def test_initial_values_read_at_step_one(init):
    """Array state may start from the data (evaluated at step 1, before the step's assignments)."""
    builder = SpecBuilder("data_init", "data", reference="tests")
    lr = builder.hyper("lr", 0.1, r"\eta", POSITIVE)
    m = builder.state("m", init)
    builder.update(m, m / 2 + GRAD)
    builder.update(PARAM, PARAM - lr * m)
    spec = builder.build()
    rng = np.random.default_rng(0)
    theta0, grads = rng.standard_normal(5), [rng.standard_normal(5) for _ in range(3)]
    expected = reference.run(spec, theta0, grads)
    module = _load(spec)
    param, state = theta0.copy(), module["init_state"](theta0)
    for t, g in enumerate(grads, start=1):
        module["step"](param, g, state, t)
        np.testing.assert_allclose(param, expected[t - 1], rtol=1e-12)


@pytest.mark.parametrize("init", [GRAD, STEP, sp.I, sp.true, GRAD > 0, sp.Symbol("other", real=True)])
def test_initial_values_of_scalar_state_read_only_hyperparameters(init):
    builder = SpecBuilder("scalar_init", "scalar", reference="tests")
    q = builder.scalar_state("q", init)
    builder.update(q, q / 2)
    builder.update(PARAM, PARAM - q * GRAD)
    with pytest.raises(SpecError, match="'q'"):
        builder.build()


TEXTS = ['"""', "ends with a quote\"", "\\", "\x00", "\ud800", "\udfff", "tab\tand\x1bescape", "\u2028", "\U0001F600"]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("field", ["title", "notes", "latex"])
@pytest.mark.parametrize("backend", ["numpy", "cupy"])
def test_any_text_is_escaped_in_the_generated_file(text, field, backend):
    builder = SpecBuilder("texts", f"title {text}" if field == "title" else "title", reference="tests",
                          notes=f"notes {text}" if field == "notes" else "")
    lr = builder.hyper("lr", 0.1, f"\\eta{text}" if field == "latex" else r"\eta", POSITIVE)
    builder.update(PARAM, PARAM - lr * GRAD)
    source = BACKENDS[backend](builder.build(), __version__)
    source.encode("utf-8")  # UTF-8: no lone surrogate in the file
    assert all(c.isprintable() or c == "\n" for c in source.replace("    ", ""))
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    if field == "title":  # notes are wrapped, a LaTeX name is shown as Unicode: only the title is verbatim
        assert f"title {text}" in docstring
    exec(compile(source, "<texts>", "exec"), {})


@pytest.mark.parametrize("name", ["STATE", "DOMAINS", "NAME", "HYPERPARAMETERS", "KERNELS", "numpy", "math", "cupy",
                                  "stream", "range", "min", "max", "float", "len", "param", "grad", "state", "step",
                                  "theta", "g", "t", "_x", "1a", "class", "", "a b", None, 3])
def test_reserved_and_invalid_names(name):
    with pytest.raises(SpecError):
        _sgd(name=name).build()


@pytest.mark.parametrize("name, normal", [("ｇ", "g"), ("ｌｒ", "lr"), ("µ", "μ"), ("ﬁ", "fi"), ("A\u030a", "\u00c5")])
def test_names_must_be_in_nfkc_normal_form(name, normal):
    """Python reads identifiers NFKC-normalised: ``µ`` (micro sign) and ``μ`` would be one variable."""
    with pytest.raises(SpecError, match=f"NFKC.*{normal}"):
        _sgd(name=name).build()
    assert _sgd(name="μ").build().defaults == {"μ": 0.1}


@pytest.mark.parametrize("name", ["theta_new", "m_new", "g_new", "c0", "x0", "i", "n", "T", "G", "double", "exp",
                                  "sqrt", "fabs", "auto", "sum", "pow"])
def test_names_of_generated_identifiers_are_renamed_in_the_code(name):
    """A spec may use a name the generators use for their own identifiers (Python or C): they pick others."""
    builder = SpecBuilder("clash", "clash", reference="tests")
    lr = builder.hyper("lr", 0.1, r"\eta", POSITIVE)
    m = builder.state("m", 0)
    x = builder.hyper(name, 0.5, "x", POSITIVE)
    builder.update(m, x * m + GRAD)
    builder.update(PARAM, PARAM - lr * m * x)
    result, = check_specs([SpecCase("clash", builder.build, repr(name))], steps=3, size=8)
    assert set(result.outcomes.values()) == {"correct"}, result.details


def test_generated_modules_call_only_the_builtins_validation_reserves():
    """Names in EMITTED_BUILTINS are refused as spec names because the generated modules call them; any
    other builtin they used could be shadowed by a spec's name."""
    used = set()
    for path in sorted((ROOT / "generated").glob("*/*.py")):
        tree = ast.parse(path.read_text())
        names = [node for node in ast.walk(tree) if isinstance(node, ast.Name)]
        assigned = {n.id for n in names if isinstance(n.ctx, ast.Store)}  # e.g. adagrad_torch's state 'sum'
        used |= {n.id for n in names if isinstance(n.ctx, ast.Load) and hasattr(builtins, n.id)} - assigned
    assert used and used <= EMITTED_BUILTINS, used - EMITTED_BUILTINS
