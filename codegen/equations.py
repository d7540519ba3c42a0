r"""A spec's update equations as text: one-line Unicode (docstrings, ``optiforge show``) and LaTeX (the catalogue).

Both printers order terms and factors the way papers write them, not in SymPy's canonical order:

* a sum starts with the term that holds the assigned symbol, then numbers, then per-element terms, then
  terms of hyperparameters only; subtracted terms come last, with a minus sign:
  :math:`\theta \leftarrow \theta - \eta \hat m / (\sqrt{\hat v} + \epsilon)`, not
  :math:`-\eta \hat m/(\epsilon + \sqrt{\hat v}) + \theta`;
* a product starts with numbers, then factors of hyperparameters and the step only (``η``, ``(1 − β₁)``),
  then per-element factors; factors with negative powers form the denominator.

The Unicode printer never shows a SymPy name: ``|x|``, ``max(a, b)``, ``a mod b``, ``x if c else y``.
"""
from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from optiforge.specs.dsl import STEP, OptimizerSpec
from optiforge.specs.expression_dag import distinct_nodes, tree_sizes

__all__ = ["unicode_name", "equations_unicode", "equations_latex", "expression_unicode", "expression_latex",
           "domain_text"]

# --- symbol names: LaTeX → Unicode ------------------------------------------------------------------------
_COMMANDS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "varrho": "ϱ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "infty": "∞", "cdot": "·", "ell": "ℓ", "nabla": "∇", "partial": "∂", "prime": "′", "ast": "*",
    "star": "*", "times": "×", "max": "max", "min": "min", ",": "", ";": "", "!": "", " ": "",
}
#: font commands show their argument as it is
_FONTS = {"mathrm", "text", "textrm", "operatorname", "mathbf", "mathit", "mathsf", "mathcal", "boldsymbol", "bm"}
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0304", "tilde": "\u0303",
            "widetilde": "\u0303", "dot": "\u0307", "ddot": "\u0308", "vec": "\u20d7"}
_SUBSCRIPTS = dict(zip("0123456789+-−=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ"))
_SUBSCRIPTS["∞"] = "∞"  # ρ∞ reads as a subscript
_SUPERSCRIPTS = dict(zip("0123456789+-−=()abcdefghijklmnoprstuvwxyz",
                         "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ"))
_SUPERSCRIPTS["*"] = "*"
_SUPERSCRIPT_CHARACTERS = set(_SUPERSCRIPTS.values())
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.")


def _script(text: str, table: dict[str, str], marker: str) -> str:
    """``text`` as sub/superscript characters when each has one, else ``_text`` / ``^text``."""
    if text and all(c in table for c in text):
        return "".join(table[c] for c in text)
    return marker + text


def unicode_name(latex: str) -> str:
    r"""A symbol's LaTeX name for display: ``\beta_1`` → ``β₁``, ``\hat{m}`` → ``m̂``, ``E[g^2]`` → ``E[g²]``,
    ``\Gamma_{\max}`` → ``Γₘₐₓ``, ``\mathrm{RMS}`` → ``RMS``, ``K_d`` → ``K_d`` (no subscript d in Unicode)."""
    tokens = [t for t in _TOKEN.findall(latex) if not t.isspace()]
    position = 0

    def argument() -> str:  # a {group} or a single token
        nonlocal position
        if position >= len(tokens):
            return ""
        if tokens[position] == "{":
            position += 1
            text = sequence("}")
            position += 1  # the closing brace
            return text
        return single()

    def single() -> str:
        nonlocal position
        token = tokens[position]
        position += 1
        if not token.startswith("\\"):
            return "" if token == "}" else token
        command = token[1:]
        if command in _ACCENTS:
            return argument() + _ACCENTS[command]
        if command in _FONTS:
            return argument()
        return _COMMANDS.get(command, command)

    def sequence(until: str | None = None) -> str:
        nonlocal position
        out = ""
        while position < len(tokens) and tokens[position] != until:
            token = tokens[position]
            if token in "_^":
                position += 1
                scripted = argument()
                out += (_script(scripted, _SUBSCRIPTS, "_") if token == "_" else
                        _script(scripted, _SUPERSCRIPTS, "^"))
            elif token == "{":
                out += argument()
            else:
                out += single()
        return out

    return sequence()


# --- the order papers use ------------------------------------------------------------------------------------
class _PaperOrder:
    """Term and factor order shared by both printers (see the module docstring).

    ``scalars``: symbols that are the same for every element (the ``hyperparameters``, the step, scalar state
    and the temporaries computed from them); ``target``: the symbol being assigned, whose term leads its sum."""

    hyperparameters: frozenset = frozenset()
    scalars: frozenset = frozenset()
    target: sp.Symbol | None = None

    def _term_rank(self, term: sp.Expr) -> tuple[bool, int]:
        if self.target is not None and term.has(self.target):
            group = 0
        elif term.is_Symbol and (term == STEP or term not in self.scalars):  # t + 1, v + 10⁻¹⁵
            group = 1
        elif term.is_number:
            group = 2
        elif not term.free_symbols <= self.scalars:
            group = 3
        else:
            group = 4
        return term.could_extract_minus_sign(), group

    def _factor_rank(self, factor: sp.Expr) -> int:
        if factor.is_number:
            return 0
        symbols = factor.free_symbols
        return 1 if symbols <= self.hyperparameters else 2 if symbols <= self.scalars else 3

    def _as_ordered_terms(self, expr, order=None):
        # sorted() is stable: within a rank SymPy's canonical order decides, so the text is deterministic
        return sorted(sp.Add.make_args(expr), key=self._term_rank)

    def _fraction(self, expr: sp.Mul) -> tuple[list[sp.Expr], list[sp.Expr]]:
        """Numerator and denominator factors of a product with a positive coefficient, in paper order."""
        coefficient, factors = expr.as_coeff_mul()
        numerator, denominator = [], []
        if coefficient.is_Rational:
            if coefficient.p != 1:
                numerator.append(sp.Integer(coefficient.p))
            if coefficient.q != 1:
                denominator.append(sp.Integer(coefficient.q))
        elif coefficient != 1:
            numerator.append(coefficient)
        for factor in factors:
            if factor.is_Pow and factor.exp.is_Rational and factor.exp.is_negative:
                denominator.append(factor.base if factor.exp == -1 else sp.Pow(factor.base, -factor.exp))
            else:
                numerator.append(factor)
        return sorted(numerator, key=self._factor_rank), sorted(denominator, key=self._factor_rank)


def _ordered_printer(printer: _PaperOrder, spec: OptimizerSpec, target) -> _PaperOrder:
    """``printer`` set up with the spec's hyperparameters and scalars, assigning to ``target``."""
    hyperparameters = {h.symbol for h in spec.hyperparameters}
    scalars = hyperparameters | {s.symbol for s in spec.scalar_state} | {STEP}
    array_state = {s.symbol for s in spec.array_state}
    for a in spec.assignments:  # temporaries computed from scalars only are scalars too
        if a.target not in array_state and a.value.free_symbols <= scalars:
            scalars.add(a.target)
    printer.hyperparameters, printer.scalars, printer.target = frozenset(hyperparameters), frozenset(scalars), target
    return printer


class _UnicodePrinter(_PaperOrder, StrPrinter):
    """One-line Unicode: display names, √, ², ·, −, |x|, max(a, b), ``x if c else y``."""

    _RELATIONS = {"==": "=", "!=": "≠", ">=": "≥", "<=": "≤", ">": ">", "<": "<"}

    def __init__(self, names: dict[sp.Symbol, str]):
        super().__init__()
        self._names = names

    def _print_Symbol(self, expr):
        return self._names.get(expr, expr.name)

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Infinity(self, expr):
        return "∞"

    def _print_NegativeInfinity(self, expr):
        return "−∞"

    def _print_BooleanTrue(self, expr):
        return "true"

    def _print_BooleanFalse(self, expr):
        return "false"

    def _atomic(self, expr) -> bool:
        """Printed without parentheses as a base or a lone denominator."""
        if expr.is_Symbol:
            text = self._print(expr)
            return " " not in text and not set(text) & _SUPERSCRIPT_CHARACTERS
        if expr.is_Integer or expr.is_Float:
            return expr >= 0
        return isinstance(expr, (sp.Abs, sp.Function, sp.Min, sp.Max, sp.Piecewise)) or (
            expr.is_Pow and expr.exp == sp.S.Half)

    def _wrapped(self, expr) -> str:
        return self._print(expr) if self._atomic(expr) else f"({self._print(expr)})"

    def _print_Add(self, expr, order=None):
        out = ""
        for i, term in enumerate(self._as_ordered_terms(expr)):
            negative = term.could_extract_minus_sign()
            text = self.parenthesize(-term if negative else term, PRECEDENCE["Add"], strict=True)
            out += ("−" if negative else "") + text if i == 0 else (" − " if negative else " + ") + text
        return out

    def _print_Mul(self, expr):
        if expr.could_extract_minus_sign():
            return "−" + self.parenthesize(-expr, PRECEDENCE["Mul"], strict=True)
        numerator, denominator = self._fraction(expr)
        product = "·".join(self.parenthesize(f, PRECEDENCE["Mul"]) for f in numerator) or "1"
        if not denominator:
            return product
        below = "·".join(self.parenthesize(f, PRECEDENCE["Mul"]) for f in denominator)
        return f"{product}/{below}" if len(denominator) == 1 else f"{product}/({below})"

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent.is_Rational and exponent.is_negative:
            return f"1/{self._print(sp.Pow(base, -exponent)) if -exponent != 1 else self._wrapped(base)}"
        if exponent == sp.S.Half:
            return f"√{self._wrapped(base)}"
        exponent_text = self._print(exponent)
        compact = exponent_text.replace(" ", "")
        if all(c in _SUPERSCRIPTS for c in compact):
            return self._wrapped(base) + "".join(_SUPERSCRIPTS[c] for c in compact)
        return f"{self._wrapped(base)}^{exponent_text if self._atomic(exponent) else '(' + exponent_text + ')'}"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in sorted(expr.args, key=self._term_rank))})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in sorted(expr.args, key=self._term_rank))})"

    def _print_Mod(self, expr):
        return " mod ".join(self.parenthesize(a, PRECEDENCE["Mul"]) for a in expr.args)

    def _print_Relational(self, expr):
        return f"{self._print(expr.lhs)} {self._RELATIONS[expr.rel_op]} {self._print(expr.rhs)}"

    def _print_And(self, expr):
        return " and ".join(self.parenthesize(a, precedence(expr)) for a in expr.args)

    def _print_Or(self, expr):
        return " or ".join(self.parenthesize(a, precedence(expr)) for a in expr.args)

    def _print_Not(self, expr):
        return f"not {self.parenthesize(expr.args[0], PRECEDENCE['Not'])}"

    def _print_Piecewise(self, expr):
        pieces = [f"{self._print(e)} if {self._print(c)}" if c != sp.true else self._print(e) for e, c in expr.args]
        return "(" + " else ".join(pieces) + ")"


class _LatexPrinter(_PaperOrder, LatexPrinter):
    """SymPy's LaTeX printer with the paper order of terms and factors."""

    def __init__(self, names: dict[sp.Symbol, str]):
        super().__init__({"symbol_names": names})

    def _product(self, factors) -> str:
        out = ""
        for i, factor in enumerate(factors):
            text = self._print(factor)
            if len(factors) > 1 and self._needs_mul_brackets(factor, first=i == 0, last=i == len(factors) - 1):
                text = rf"\left({text}\right)"
            if out:
                out += r" \cdot " if out[-1].isdigit() and text[0].isdigit() else " "
            out += text
        return out

    def _print_Mul(self, expr):
        if expr.could_extract_minus_sign():
            positive = -expr
            text = self._print(positive)
            return "- " + (rf"\left({text}\right)" if positive.is_Add else text)
        numerator, denominator = self._fraction(expr)
        top = self._product(numerator) if numerator else "1"
        return rf"\frac{{{top}}}{{{self._product(denominator)}}}" if denominator else top


def _names(spec: OptimizerSpec) -> dict[sp.Symbol, str]:
    return {s: unicode_name(latex) for s, latex in spec.latex_names().items()}


#: An expression whose tree has more nodes than this (it shares subexpressions, which text repeats: the
#: text of a DAG can be exponential in its size) is shown as its size instead.
MAX_PRINTED_NODES = 5000


def _text(expr, printer) -> str:
    expr = sp.sympify(expr)
    size = tree_sizes(expr)[expr]
    if size > MAX_PRINTED_NODES:
        return f"<expression of {size} nodes written out, {sum(1 for _ in distinct_nodes(expr))} distinct>"
    return printer.doprint(expr)


def expression_unicode(spec: OptimizerSpec, expr, target: sp.Symbol | None = None) -> str:
    """``expr`` in the Unicode of :func:`equations_unicode` (``target``: the symbol it is assigned to)."""
    return _text(expr, _ordered_printer(_UnicodePrinter(_names(spec)), spec, target))


def expression_latex(spec: OptimizerSpec, expr, target: sp.Symbol | None = None) -> str:
    """``expr`` in LaTeX with the spec's symbol names and the paper order."""
    return _text(expr, _ordered_printer(_LatexPrinter(spec.latex_names()), spec, target))


def equations_unicode(spec: OptimizerSpec) -> list[str]:
    """``target ← value`` lines in spec order, e.g. ``θ ← θ − η·m̂/(√v̂ + ε)``."""
    names = _names(spec)
    return [f"{names[a.target]} ← {expression_unicode(spec, a.value, a.target)}" for a in spec.assignments]


def equations_latex(spec: OptimizerSpec) -> list[str]:
    r"""``target \leftarrow value`` lines in LaTeX."""
    names = spec.latex_names()
    return [f"{names[a.target]} \\leftarrow {expression_latex(spec, a.value, a.target)}" for a in spec.assignments]


def domain_text(domain: sp.Set) -> str:
    """A domain as users read it: ``[0, 1)``, ``(0, ∞)``, ``{0, 1}``, ``integers ≥ 1``."""
    if isinstance(domain, sp.Interval):
        def bound(x):
            return "∞" if x == sp.oo else "−∞" if x == -sp.oo else sp.sstr(x)
        return (f"{'(' if domain.left_open else '['}{bound(domain.start)}, {bound(domain.end)}"
                f"{')' if domain.right_open else ']'}")
    if isinstance(domain, sp.Range):
        return f"integers ≥ {domain.inf}" if domain.sup == sp.oo else f"integers in [{domain.inf}, {domain.sup}]"
    if isinstance(domain, sp.FiniteSet):
        return "{" + ", ".join(sp.sstr(x) for x in domain.args) + "}"
    return sp.sstr(domain)
