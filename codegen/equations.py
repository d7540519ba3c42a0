"""A spec's update equations as text: one-line Unicode (docstrings, ``optiforge show``) and LaTeX."""
from __future__ import annotations

import re

import sympy as sp
from sympy.printing.str import StrPrinter

from optiforge.specs.dsl import OptimizerSpec
from optiforge.specs.expression_dag import distinct_nodes, tree_sizes

__all__ = ["unicode_name", "equations_unicode", "equations_latex", "domain_text"]

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ",
    "sigma": "σ", "tau": "τ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Delta": "Δ", "Pi": "Π",
    "Phi": "Φ", "Sigma": "Σ", "Omega": "Ω", "infty": "∞",
}
_SUBSCRIPT = str.maketrans("0123456789+-=()aeijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUPERSCRIPT = str.maketrans("0123456789+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")
_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303"}


def unicode_name(latex: str) -> str:
    r"""``\beta_1`` → ``β₁``, ``\hat{m}`` → ``m̂``, ``E[g^2]`` → ``E[g²]`` (for display only)."""
    text = latex
    for accent, mark in _ACCENTS.items():
        text = re.sub(r"\\" + accent + r"\{(\\?\w+)\}", lambda m: m.group(1) + mark, text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _GREEK.get(m.group(1), m.group(1)), text)
    text = re.sub(r"_\{([^}]*)\}|_(\S)", lambda m: (m.group(1) or m.group(2)).translate(_SUBSCRIPT), text)
    text = re.sub(r"\^\{([^}]*)\}|\^(\w)", lambda m: (m.group(1) or m.group(2)).translate(_SUPERSCRIPT), text)
    return text.replace("{", "").replace("}", "")


class _UnicodePrinter(StrPrinter):
    """SymPy's str printer with display names, √, ² and · (the maths reads as in the papers)."""

    def __init__(self, names: dict[sp.Symbol, str]):
        super().__init__({"order": "none"})
        self._names = names

    def _print_Symbol(self, expr):
        return self._names.get(expr, expr.name)

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent == sp.S.Half:
            return f"√({self._print(base)})"
        if exponent == -sp.S.Half:
            return f"1/√({self._print(base)})"
        base_text = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"])
        if exponent.is_Integer and exponent > 0:
            return base_text + str(exponent).translate(_SUPERSCRIPT)
        if exponent == -1:
            return f"1/{base_text}"
        exponent_text = self._print(exponent)
        return f"{base_text}^{exponent_text if exponent.is_Atom else '(' + exponent_text + ')'}"

    def _print_Mul(self, expr):
        return super()._print_Mul(expr).replace("*", "·")

    def _print_Piecewise(self, expr):
        pieces = [f"{self._print(e)} if {self._print(c)}" if c != sp.true else self._print(e) for e, c in expr.args]
        return "(" + " else ".join(pieces) + ")"


#: An expression whose tree has more nodes than this (it shares subexpressions, which text repeats) is
#: shown as its size instead.
MAX_PRINTED_NODES = 5000


def _text(expr, print_expr) -> str:
    size = tree_sizes(expr)[expr]
    if size > MAX_PRINTED_NODES:
        return f"<expression of {size} nodes written out, {sum(1 for _ in distinct_nodes(expr))} distinct>"
    return print_expr(expr)


def equations_unicode(spec: OptimizerSpec) -> list[str]:
    """``target ← value`` lines in spec order."""
    names = {s: unicode_name(latex) for s, latex in spec.latex_names().items()}
    printer = _UnicodePrinter(names)
    return [f"{names[a.target]} ← {_text(a.value, printer.doprint)}" for a in spec.assignments]


def equations_latex(spec: OptimizerSpec) -> list[str]:
    r"""``target \leftarrow value`` lines in LaTeX."""
    names = spec.latex_names()
    return [f"{names[a.target]} \\leftarrow {_text(a.value, lambda e: sp.latex(e, symbol_names=names))}"
            for a in spec.assignments]


def domain_text(domain: sp.Set) -> str:
    """A domain as users read it: ``[0, 1)``, ``(0, ∞)``, ``{0, 1}``, ``integers ≥ 1``."""
    if isinstance(domain, sp.Interval):
        def bound(x):
            return "∞" if x == sp.oo else "-∞" if x == -sp.oo else sp.sstr(x)
        return (f"{'(' if domain.left_open else '['}{bound(domain.start)}, {bound(domain.end)}"
                f"{')' if domain.right_open else ']'}")
    if isinstance(domain, sp.Range):
        return f"integers ≥ {domain.inf}" if domain.sup == sp.oo else f"integers in [{domain.inf}, {domain.sup}]"
    return sp.sstr(domain)
