"""Readable equations (``optiforge show``, generated docstrings, the catalogue page): paper order, no SymPy names,
and text that means the expression it prints (parsed back and compared)."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
from sympy.parsing.sympy_parser import parse_expr

from optiforge import specs
from optiforge.codegen.equations import equations_latex, equations_unicode, expression_unicode, unicode_name
from optiforge.specs.builder import SpecBuilder
from optiforge.specs.dsl import GRAD, NONNEGATIVE, PARAM, STEP, UNIT_HALF_OPEN

#: SymPy spellings that must never reach a reader
_SYMPY_NAMES = re.compile(r"\b(Abs|Max|Min|Piecewise|Eq|Ne|Mod|And|Or|Not|sqrt|Symbol|Float|Rational|Integer|"
                          r"ITE|Heaviside|oo|zoo|nan|True|False)\b|\*\*|(?<!η)\*")


def test_adam_reads_as_in_the_paper():
    assert equations_unicode(specs.get("adam")) == [
        "m ← β₁·m + (1 − β₁)·g", "v ← β₂·v + (1 − β₂)·g²", "m̂ ← m/(1 − β₁ᵗ)", "v̂ ← v/(1 − β₂ᵗ)",
        "θ ← θ − η·m̂/(√v̂ + ε)"]
    assert equations_latex(specs.get("adam"))[-1] == r"\theta \leftarrow \theta - \frac{\eta \hat{m}}{\sqrt{\hat{v}} + \epsilon}"


@pytest.mark.parametrize("name, line", [
    ("adadb", "σ_|·| ← 1/(1 + exp(−|Δg|))"),
    ("adamax", "u ← max(β₂·u, |g|)"),
    ("rprop_torch", "Γ ← min(max(Γ·(η₊ if p > 0 else η₋ if p < 0 else 1), Γₘᵢₙ), Γₘₐₓ)"),
    ("lookahead_sgd_torch", "φ ← (θ if t mod k = 0 else φ)"),
    ("nadam", "m̄ ← (1 − β₁)·g/(1 − β₁ᵗ) + β₁·m/(1 − β₁ᵗ⁺¹)"),
    ("adabound", "ηₗ ← η*·(1 − 1/(1 + γ·t))"),
])
def test_catalogue_lines(name, line):
    assert line in equations_unicode(specs.get(name))


def test_no_sympy_names_in_any_spec():
    for spec in specs.all_specs():
        for line in equations_unicode(spec):
            assert not _SYMPY_NAMES.search(line), (spec.name, line)


@pytest.mark.parametrize("latex, expected", [
    (r"\beta_1", "β₁"), (r"\hat{m}", "m̂"), (r"\rho_\infty", "ρ∞"), (r"\mu_{t+1}", "μₜ₊₁"), (r"E[g^2]", "E[g²]"),
    (r"\Gamma_{\max}", "Γₘₐₓ"), (r"\hat\eta", "η̂"), (r"\bar\eta", "η̄"), (r"\mathrm{RMS}[\Delta\theta]_{t-1}", "RMS[Δθ]ₜ₋₁"),
    (r"\alpha_{\mathrm{la}}", "αₗₐ"), (r"\hat{v}^{\max}", "v̂ᵐᵃˣ"), (r"\kappa", "κ"), (r"K_d", "K_d"),
    (r"\Delta g", "Δg"), (r"\eta^{*}", "η*"), (r"\lambda_\eta", "λ_η"),
])
def test_unicode_names(latex, expected):
    assert unicode_name(latex) == expected


# --- printed text means the expression: parse it back --------------------------------------------------------
_SUPERSCRIPT_BACK = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ", "0123456789+-=()abcdefghijklmnoprstuvwxyz"))


def _matching(text: str, start: int) -> int:
    """Index after the group that opens at ``text[start]`` (a parenthesis)."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i + 1
    raise AssertionError(f"unbalanced: {text}")


def _to_python(text: str) -> str:
    """The Unicode display back in SymPy syntax (for the operators the printer uses)."""
    text = text.replace("−", "-").replace("·", "*").replace("θ", "theta").replace("^", "**")
    text = re.sub(f"[{''.join(_SUPERSCRIPT_BACK)}]+",
                  lambda m: "**(" + "".join(_SUPERSCRIPT_BACK[c] for c in m.group()) + ")", text)
    text = text.replace("max(", "Max(").replace("min(", "Min(")
    out, previous = "", "("
    for c in text:  # |x| opens after an operator, closes after an operand
        if c == "|":
            opens = previous in "(+-*/,√"
            out += "Abs(" if opens else ")"
            previous = "(" if opens else ")"
            continue
        out += c
        previous = previous if c.isspace() else c
    while "√" in out:  # √x, √(…), √f(…)
        i = j = out.index("√")
        j += 1
        name = re.match(r"[A-Za-z_]\w*|\d+(\.\d+)?", out[j:])
        if name:
            j += name.end()
        if j < len(out) and out[j] == "(" and not (name and name.group()[0].isdigit()):
            j = _matching(out, j)
        out = out[:i] + "sqrt(" + out[i + 1:j] + ")" + out[j:]
    return out


_BUILDER = SpecBuilder("print_check", "printer check", reference="tests")
_A = _BUILDER.hyper("a", 0.5, "a", UNIT_HALF_OPEN)
_B = _BUILDER.hyper("b", 1.0, "b", NONNEGATIVE)
_M = _BUILDER.state("m", 0, "m")
_V = _BUILDER.state("v", 0, "v")
_BUILDER.update(_M, _A * _M + _B * GRAD)
_BUILDER.update(_V, _V + GRAD**2)
_BUILDER.update(PARAM, PARAM - _B * _M / (sp.sqrt(_V) + _A))
_SPEC = _BUILDER.build()
_SYMBOLS = {"a": _A, "b": _B, "m": _M, "v": _V, "g": GRAD, "theta": PARAM, "t": STEP}

_CONSTANTS = [sp.Integer(1), sp.Integer(2), sp.Integer(3), sp.Rational(1, 2), sp.Float(0.25)]
_UNARY = [lambda x: -x, sp.sqrt, sp.Abs, sp.exp, lambda x: 1 / x]
_BINARY = [lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y, lambda x, y: x / y, sp.Max, sp.Min,
           lambda x, y: x ** 2, lambda x, y: x ** -3, lambda x, y: x ** sp.Rational(1, 3), lambda x, y: x ** STEP,
           lambda x, y: x * (y + _A), lambda x, y: _B * x / (y + 1)]


def _random_expression(rng, depth: int) -> sp.Expr:
    """A seeded random expression over the spec's symbols (sums, products, quotients, powers, √, |·|, max, exp)."""
    if depth == 0 or rng.random() < 0.15:
        pool = list(_SYMBOLS.values()) + _CONSTANTS[:2] if rng.random() < 0.8 else _CONSTANTS
        return pool[rng.integers(len(pool))]
    if rng.random() < 0.3:
        return _UNARY[rng.integers(len(_UNARY))](_random_expression(rng, depth - 1))
    return _BINARY[rng.integers(len(_BINARY))](_random_expression(rng, depth - 1), _random_expression(rng, depth - 1))


def test_printed_text_parses_back_to_the_expression():
    rng = np.random.default_rng(20240607)
    checked = 0
    while checked < 400:
        try:
            expr = _random_expression(rng, 4)
        except (TypeError, ValueError):  # max/min of zoo or of a complex constant
            continue
        if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or not expr.free_symbols:
            continue
        target = [None, _M, PARAM][checked % 3]
        text = expression_unicode(_SPEC, expr, target)
        assert not _SYMPY_NAMES.search(text), text
        back = parse_expr(_to_python(text), local_dict=dict(_SYMBOLS))
        if back != expr:  # not the same canonical tree: the same value at random points, then
            for _ in range(3):
                point = {s: sp.Float(rng.uniform(0.3, 2.0)) for s in _SYMBOLS.values()}
                try:
                    want, got = complex(expr.evalf(subs=point)), complex(back.evalf(subs=point))
                except (TypeError, ValueError):  # max/min of a complex value (√ of a negative number)
                    continue
                assert abs(want - got) <= 1e-9 * max(1.0, abs(want)), (text, expr)
        checked += 1
