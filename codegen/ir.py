r"""The kernel IR: a spec lowered to a host prologue and an elementwise body, both in SSA form.

``lower(spec)`` turns the spec's sequential assignments into SSA statements, forward-substituting a value
into the places that read it (so the passes see :math:`\theta - \eta\,\hat m` as one expression) unless
that would copy it: a value read more than once and larger than :data:`INLINE_LIMIT` nodes keeps a name
of its own, as does a subexpression the spec shares (``d = g + 1; e = d*d + d`` written in Python) and a
temporary the spec raises to an integer power (SymPy would distribute the power over it: :func:`squared`). So the
IR grows linearly with the spec, however the spec nests or chains its temporaries. Statements that read
only hyperparameters, ``t`` and scalar state go to the host prologue; the others to the body.

Substitution does not let SymPy re-evaluate what the spec wrote: a substituted value is rebuilt with sums and
products flattened (associativity and number folding) and integer powers of products distributed, every other
node unevaluated (:func:`with_new_args`), and a non-integer power of a product that SymPy would split over a
factor that may be 0 or negative keeps its base whole. So :math:`\sqrt{|m|\,g}` stays one root (0 at
:math:`m = 0 > g`, where :math:`\sqrt{|m|}\sqrt{g}` is NaN), :math:`\lfloor\theta - 1\rfloor` is not
rewritten as :math:`\lfloor\theta\rfloor - 1`, ``Mod``/``Min``/``sign`` are not folded by the signs of
their arguments, and no assumption query runs on a large substituted value (lowering time stays linear in
the spec). A kernel equals the step evaluated assignment by assignment, up to rounding and the
reassociation of sums and products, wherever that evaluation's values are finite. A substitution whose
result leaves the real fragment (a complex or infinite constant or a function the kernels lack appears, or
SymPy refuses to build it) is not made: the statement reads named values.

Passes in :mod:`codegen.passes` then move work between the two parts and share subexpressions; every pass
keeps :meth:`KernelIR.meaning` unchanged.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair

from optiforge.specs.dsl import GRAD, PARAM, STEP, OptimizerSpec, deferred_init
from optiforge.specs.validate import BOOLEAN_FUNCTIONS, ELEMENTWISE_FUNCTIONS
from optiforge.specs.expression_dag import (SYMPY_REFUSALS, distinct_nodes, free_symbols, rebuild, rebuild_unevaluated,
                                            tree_sizes, with_args_unevaluated)

__all__ = ["KernelIR", "lower", "plain_sympy", "with_new_args", "piecewise", "replace_product", "INLINE_LIMIT", "fresh_names",
           "truth_valued", "in_real_fragment"]

#: A value read more than once is substituted into its readers only while its tree has at most this many
#: nodes; a larger one is computed once under a name.
INLINE_LIMIT = 40


def plain_sympy(expr: sp.Basic) -> sp.Basic:
    """``expr`` with codegen-only nodes (``sympy.codegen.cfunctions.Sqrt``, unevaluated products) turned
    back into ordinary SymPy, so that its meaning can be compared and evaluated."""
    from sympy.codegen.cfunctions import Sqrt

    return expr.replace(Sqrt, sp.sqrt).doit() if expr.has(Sqrt, sp.UnevaluatedExpr) else expr


@dataclass(frozen=True)
class KernelIR:
    r"""One optimizer step.

    * ``host``: ``(symbol, expr)`` pairs computed once per step in float64, in order; expressions read
      hyperparameters, ``t``, scalar state and earlier host symbols.
    * ``body``: ``(symbol, expr)`` pairs evaluated per element, in order; expressions read the arrays
      (``theta``, ``g``, old array state), host inputs and symbols and earlier body symbols.
    * ``array_outputs``: state name (``"theta"`` for the parameter) → body symbol holding its new value.
    * ``scalar_outputs``: scalar-state name → host symbol holding its new value.

    Output symbols are written once and read by nothing else (the NumPy backend stores scalar state after
    its body has cast the host scalars it reads to the array dtype).
    """

    spec: OptimizerSpec
    host: tuple[tuple[sp.Symbol, sp.Expr], ...]
    body: tuple[tuple[sp.Symbol, sp.Expr], ...]
    array_outputs: tuple[tuple[str, sp.Symbol], ...]
    scalar_outputs: tuple[tuple[str, sp.Symbol], ...]

    @property
    def array_inputs(self) -> tuple[sp.Symbol, ...]:
        return (PARAM, GRAD) + self.extra_inputs + tuple(s.symbol for s in self.spec.array_state)

    @property
    def extra_inputs(self) -> tuple[sp.Symbol, ...]:
        """The spec's declared inputs besides the gradient: read-only arrays like ``g``."""
        return tuple(i.symbol for i in self.spec.inputs)

    @property
    def host_inputs(self) -> tuple[sp.Symbol, ...]:
        return (STEP,) + tuple(h.symbol for h in self.spec.hyperparameters) + tuple(
            s.symbol for s in self.spec.scalar_state)

    def with_(self, **changes) -> "KernelIR":
        return replace(self, **changes)

    def meaning(self) -> dict[str, sp.Expr]:
        """Every output as one expression of the inputs (all intermediate symbols substituted)."""
        values: dict[sp.Symbol, sp.Expr] = {}
        for symbol, expr in self.host + self.body:
            values[symbol] = plain_sympy(expr).xreplace(values)
        outputs = dict(self.array_outputs) | dict(self.scalar_outputs)
        return {name: values[symbol] for name, symbol in outputs.items()}

    def host_booleans(self) -> set[sp.Symbol]:
        """Host symbols holding a truth value. A bare Symbol is a SymPy ``Boolean`` too, so an alias
        ``c3 = h0`` is a truth value only when what it names is one."""
        return truth_valued(self.host)

    def body_booleans(self) -> set[sp.Symbol]:
        """Body symbols holding a truth value (a condition shared by several selections)."""
        return truth_valued(self.body, self.host_booleans())


def truth_valued(statements, known=frozenset()) -> set[sp.Symbol]:
    """The symbols of ``statements`` (``(symbol, expr)`` pairs in order) that hold a truth value, given the
    ``known`` ones (not returned)."""
    booleans = set(known)
    for symbol, expr in statements:
        if expr in booleans or (isinstance(expr, sp.logic.boolalg.Boolean) and not isinstance(expr, sp.Symbol)):
            booleans.add(symbol)
    return booleans - set(known)


def fresh_names(taken: set[str]):
    """``f(stem)`` → a Symbol named ``stem``, else ``stem1``, ``stem2``, …, never a name in ``taken``
    (which it extends)."""
    def fresh(stem: str, **assumptions) -> sp.Symbol:
        name, k = stem, 0
        while name in taken:
            k += 1
            name = f"{stem}{k}"
        taken.add(name)
        return sp.Symbol(name, **assumptions)
    return fresh


def _logic_and_constants(node, args):
    """Rewrite rules applied while substituting: number symbols (π, e) become float64 literals; the
    logic functions without a backend form become ``And``/``Or``/``Not`` (unevaluated ``Not``: SymPy
    would turn ``¬(x > 0)`` into ``x ≤ 0``, which differs at NaN)."""
    if isinstance(node, sp.NumberSymbol):
        return sp.Float(float(node), precision=53)
    def negate(x):
        return sp.Not(x, evaluate=False)
    if isinstance(node, sp.Implies):
        return sp.Or(negate(args[0]), args[1])
    if isinstance(node, sp.Nand):
        return negate(sp.And(*args))
    if isinstance(node, sp.Nor):
        return negate(sp.Or(*args))
    if isinstance(node, sp.Equivalent):
        return sp.And(*[negate(sp.Xor(args[0], a)) for a in args[1:]])
    return None




def _rebuilt(node: sp.Basic, args: tuple) -> sp.Basic | None:
    r"""``node`` with substituted ``args``. A sum or a product is flattened (SymPy's associativity and number
    folding), as is an integer power of a product, :math:`(ab)^n = a^n b^n`; every other node is built
    unevaluated, so that no function rule changes what the spec wrote — :math:`\sqrt{|m|\,g} \to
    \sqrt{|m|}\sqrt{g}` (NaN at :math:`m = 0 > g`), :math:`\lfloor x - 1\rfloor \to \lfloor x\rfloor - 1`,
    ``Mod``/``Min``/``sign`` folded by the sign of an argument — and no assumption query runs on the
    substituted values (on a large one such a query takes minutes)."""
    replaced = _logic_and_constants(node, args)
    return replaced if replaced is not None else with_new_args(node, args)


def with_new_args(node: sp.Basic, args) -> sp.Basic:
    """``node`` with ``args`` as lowering builds it (see :func:`_rebuilt`): sums, products and integer powers
    of products evaluated, every other node unevaluated. The passes rebuild with it too."""
    args = tuple(args)
    if args == node.args:
        return node
    if isinstance(node, (sp.Add, sp.Mul)) or (isinstance(node, sp.Pow) and _distributes(*args)):
        return node.func(*args)
    if isinstance(node, ExprCondPair) and args[1].has(sp.Piecewise) and \
            len(set(distinct_nodes(args[1]))) <= INLINE_LIMIT:
        # A condition reading a Piecewise becomes an ITE of comparisons while its conditions are still the spec's
        # own: once hoisting names them (a Symbol c0 for Eq(t, 1)), SymPy's rewrite drops branches. (Not on a
        # large condition: SymPy's rewrite takes minutes there.)
        try:
            return ExprCondPair(*args)
        except SYMPY_REFUSALS:
            pass
    if isinstance(node, sp.Pow) and _splits_unsafely(*args):
        # (unevaluated is not enough: every product that holds the power, and every sum that holds the product,
        # would evaluate it again)
        return sp.Pow(sp.UnevaluatedExpr(args[0]), args[1], evaluate=False)
    return with_args_unevaluated(node, args)


def replace_product(expr: sp.Basic, value: sp.Basic, symbol: sp.Symbol) -> sp.Basic:
    r"""``expr`` with ``symbol`` for ``value`` (a product or a power): where it occurs, and where a product holds
    an integer power of it among its factors (:math:`(u+\epsilon)\,g^2/(v+\epsilon) \to d^2` for
    :math:`d = \sqrt{u+\epsilon}\,g/\sqrt{v+\epsilon}`), as ``subs`` finds it; but rebuilt as lowering
    builds (:func:`with_new_args`), in time linear in the distinct nodes (``subs`` re-evaluates every
    ``Piecewise`` above a change, simplifying its conditions: minutes on a large spec)."""
    wanted = value.as_powers_dict()

    def visit(node, args):
        if node == value:
            return symbol
        new = with_new_args(node, args)
        if not isinstance(new, (sp.Mul, sp.Pow)):
            return new
        held = new.as_powers_dict()
        ratios = [held[base] / exponent if base in held else sp.S.Zero for base, exponent in wanted.items()]
        if not all(r.is_Integer and r >= 1 for r in ratios):
            return new
        n = min(ratios)
        rest = [base ** (exponent - n * wanted.get(base, 0)) for base, exponent in held.items()]
        return sp.Mul(symbol ** n, *rest)
    return rebuild(expr, visit)


def piecewise(node: sp.Piecewise, pieces) -> sp.Basic:
    """``node`` with ``(value, condition)`` ``pieces``: SymPy's ``Piecewise`` (which merges nested branches, the
    select structure the kernels print), or the pieces unevaluated where SymPy refuses to fold the conditions."""
    try:
        return sp.Piecewise(*pieces)
    except SYMPY_REFUSALS:
        return sp.Basic.__new__(sp.Piecewise, *[sp.Basic.__new__(ExprCondPair, *piece) for piece in pieces])


def _splits_unsafely(base: sp.Basic, exponent: sp.Basic) -> bool:
    r"""Whether SymPy would split a non-integer power of the product ``base`` over a factor that may be 0 or
    negative: :math:`\sqrt{|m|\,g} \to \sqrt{|m|}\sqrt{g}` is NaN at :math:`m = 0 > g`. A factor known
    positive splits off safely (:math:`\sqrt{v/c} = \sqrt{v}/\sqrt{c}` for :math:`c > 0`, NaN alike for
    :math:`v < 0`)."""
    def unsafe(factor):  # (a large factor is not asked: SymPy's sign queries on it can take minutes)
        return len(set(distinct_nodes(factor))) > INLINE_LIMIT or (factor.is_nonnegative and not factor.is_positive) \
            or factor.is_negative
    return isinstance(base, sp.Mul) and not exponent.is_Integer and any(unsafe(f) for f in base.args)


def _distributes(base: sp.Basic, exponent: sp.Basic) -> bool:
    r"""Whether SymPy's ``Pow(base, exponent)`` only distributes an integer power over a product (or folds
    numbers): true where no factor is a root, which SymPy would merge (:math:`(\sqrt{x})^2 \to x`, false
    for :math:`x < 0`)."""
    return exponent.is_Integer and all(not (f.is_Pow and not f.exp.is_Integer) and not f.has(sp.Piecewise)
                                       for f in sp.Mul.make_args(base))


#: The nodes the backends compute: what validation allows, and the ITE SymPy makes of nested conditions.
_KERNEL_NODES = (sp.Symbol, sp.Number, sp.NumberSymbol, sp.logic.boolalg.BooleanAtom, ExprCondPair, sp.ITE,
                 sp.UnevaluatedExpr,
                 sp.core.relational.Relational) + ELEMENTWISE_FUNCTIONS + BOOLEAN_FUNCTIONS


def in_real_fragment(expr: sp.Basic) -> bool:
    """No complex, infinite or NaN constant and no function the kernels lack (SymPy may rewrite
    ``|exp(z)|`` as ``exp(re(z))``, with ``atan2`` inside): what a float64 kernel can compute."""
    constant: dict = {}
    for node in distinct_nodes(expr):
        if node in (sp.nan, sp.zoo, sp.oo, -sp.oo) or not isinstance(node, _KERNEL_NODES):
            return False
        if node.is_Number and not (node.is_extended_real and node.is_finite):
            return False
        constant[node] = node.is_Number or isinstance(node, sp.NumberSymbol) or (
            bool(node.args) and isinstance(node, sp.Expr) and all(constant[a] for a in node.args))
        if constant[node] and not node.is_Atom and not _finite_real_constant(node):
            return False
    return True


def _finite_real_constant(node: sp.Expr) -> bool:
    """Whether SymPy evaluates the constant ``node`` (left unevaluated by substitution, e.g. ``log(0)``) to a
    finite real number: a later pass may evaluate it, and no backend prints ``zoo``."""
    try:
        value = node.func(*node.args)
    except SYMPY_REFUSALS:
        return False
    return not value.has(sp.nan, sp.zoo, sp.oo, -sp.oo) and value.is_extended_real is not False


class _Lowering:
    def __init__(self, spec: OptimizerSpec):
        self.spec = spec
        self.fresh = fresh_names({s.name for s in spec.symbols()})
        #: symbols holding one value per step: host inputs and the host statements named so far
        self.scalars = set(KernelIR(spec, (), (), (), ()).host_inputs)
        #: SSA statements in program order (split into host and body at the end)
        self.statements: list[tuple[sp.Symbol, sp.Expr]] = []

    def emit(self, symbol: sp.Symbol, value: sp.Expr) -> sp.Symbol:
        self.statements.append((symbol, value))
        if free_symbols(value) <= self.scalars:
            self.scalars.add(symbol)
        return symbol

    def value(self, expr: sp.Expr, env: dict) -> sp.Expr:
        """``expr`` with the current values substituted; outside the real fragment, with named values."""
        try:
            result = rebuild(expr, lambda node, args: env[node] if node in env else _rebuilt(node, args))
            if in_real_fragment(result):
                return result
        except SYMPY_REFUSALS:
            pass  # e.g. "Invalid comparison of non-real", or a Piecewise SymPy cannot fold, after substitution
        names = {}
        for symbol in free_symbols(expr):
            current = env.get(symbol, symbol)
            if current != symbol:
                # (a number too gets a name: a literal in the unevaluated form could make a host statement
                # of Python numbers only, which raises on 0**-1 where float64 gives inf; and so does another
                # symbol: log(x - y) with x and y both g would become log(g - g), which a pass evaluates to
                # log(0), outside the fragment again)
                names[symbol] = self.emit(self.fresh(f"{symbol.name}_v", real=True), current)
        # The spec's own expression with named values: rebuilt as it is, nothing for SymPy to evaluate.
        return rebuild_unevaluated(expr, lambda node, args: names[node] if node in names else
                                   _logic_and_constants(node, args))

    def named_if_shared(self, value: sp.Expr, reads: int, stem: str, symbol: sp.Symbol | None = None) -> sp.Expr:
        """``value`` itself, or a name for it when it is read more than once and is large. A product keeps
        its per-step scalar factors outside the name (``c·x``): hoisting then merges them with the
        readers' own scalar factors."""
        if value.is_Atom or reads <= 1 or tree_sizes(value)[value] <= INLINE_LIMIT:
            return value
        scalar, array = [], []
        for factor in sp.Mul.make_args(value):
            (scalar if free_symbols(factor) <= self.scalars else array).append(factor)
        if scalar and array:
            return sp.Mul(*scalar) * self.emit(symbol or self.fresh(stem, real=True), sp.Mul(*array))
        return self.emit(symbol or self.fresh(stem, real=True), value)

    def lower(self) -> KernelIR:
        spec = self.spec
        reads = self._read_counts()
        env: dict[sp.Symbol, sp.Expr] = {}
        version: Counter = Counter()
        for s in spec.array_state:
            if deferred_init(s):  # the initial value, read at t = 1 before any assignment
                first = sp.Piecewise((self.value(s.init, {}), sp.Eq(STEP, 1)), (s.symbol, True))
                env[s.symbol] = self.named_if_shared(first, reads[(s.symbol, 0)], f"{s.name}_0")
        # A power of a substituted product is distributed by SymPy ((a/b)² → a²/b², which overflows where the
        # written form does not): a temporary that the spec raises to an integer power, whose value is a product
        # and reads an array, is computed under its own name and then raised.
        written = {a.target: a.value for a in spec.assignments}
        powered = {t for t in squared(spec) if isinstance(written[t].as_coeff_Mul()[1], (sp.Mul, sp.Pow))}
        for a in spec.assignments:
            value = self.value(a.value, env)
            version[a.target] += 1
            temporary = a.target in spec.temporaries
            if temporary and a.target in powered and not value.is_Atom and not free_symbols(value) <= self.scalars:
                env[a.target] = self.emit(a.target, value)
                continue
            env[a.target] = self.named_if_shared(value, reads[(a.target, version[a.target])],
                                                 f"{a.target.name}_{version[a.target]}",
                                                 a.target if temporary else None)
        array_targets = (PARAM,) + tuple(s.symbol for s in spec.array_state)
        outputs = [(symbol, env.get(symbol, symbol)) for symbol in array_targets]
        outputs += [(s.symbol, env.get(s.symbol, s.symbol)) for s in spec.scalar_state]
        values = self._share_subexpressions([value for _, value in outputs])
        named_outputs = []
        for (symbol, _), value in zip(outputs, values):
            named_outputs.append((symbol.name, self.emit(self.fresh(f"{symbol.name}_new", real=True), value)))
        host, body = self._split({output for _, output in named_outputs[:len(array_targets)]})
        scalar_names = {s.name for s in spec.scalar_state}
        return KernelIR(spec, host, body, tuple((n, o) for n, o in named_outputs if n not in scalar_names),
                        tuple((n, o) for n, o in named_outputs if n in scalar_names))

    def _split(self, array_outputs: set):
        """Host statements (reading only hyperparameters, ``t``, scalar state and host symbols) and body
        statements, each block in program order; a new array value is a body statement even when it is
        the same for every element."""
        scalars = set(KernelIR(self.spec, (), (), (), ()).host_inputs)
        host, body = [], []
        for symbol, value in self.statements:
            if free_symbols(value) <= scalars and symbol not in array_outputs:
                host.append((symbol, value))
                scalars.add(symbol)
            else:
                body.append((symbol, value))
        return tuple(host), tuple(body)

    def _read_counts(self) -> Counter:
        """(target, version) → how many nodes read that value (an output read counts once); version 0 is
        the value before the step."""
        reads: Counter = Counter()
        version: Counter = Counter()
        for a in self.spec.assignments:
            for node in distinct_nodes(a.value):
                for arg in node.args:
                    if isinstance(arg, sp.Symbol):
                        reads[(arg, version[arg])] += 1
            if isinstance(a.value, sp.Symbol):
                reads[(a.value, version[a.value])] += 1
            version[a.target] += 1
        for symbol in (PARAM,) + tuple(s.symbol for s in self.spec.state):
            reads[(symbol, version[symbol])] += 1
        return reads

    def _share_subexpressions(self, outputs: list) -> list:
        """Name every subexpression that several expressions of the step share and that is larger than
        :data:`INLINE_LIMIT` nodes (counting a named one as one node), so that no statement repeats it.
        Returns ``outputs`` rewritten; the statements are rewritten in place."""
        roots = [value for _, value in self.statements] + outputs
        parents: Counter = Counter()
        for node in distinct_nodes(*roots):
            for arg in set(node.args):
                parents[arg] += 1
        shared: set = set()
        size: dict = {}
        for node in distinct_nodes(*roots):
            size[node] = 1 + sum(1 if a in shared else size[a] for a in node.args)
            if parents[node] > 1 and size[node] > INLINE_LIMIT and not node.is_Atom \
                    and not isinstance(node, ExprCondPair):
                shared.add(node)
        if not shared:
            return outputs
        names: dict = {}
        memo: dict = {}
        pending: list = []

        def name_shared(node, args):
            if node not in shared:
                return None
            if node not in names:
                value = node.func(*args) if args != node.args else node
                boolean = isinstance(value, sp.logic.boolalg.Boolean)
                names[node] = self.fresh("s", **({} if boolean else {"real": True}))
                pending.append((names[node], value))
            return names[node]

        statements, self.statements = self.statements, []
        for symbol, value in statements:
            value = rebuild(value, name_shared, memo)
            self.statements += pending + [(symbol, value)]
            pending.clear()
        rewritten = []
        for value in outputs:
            rewritten.append(rebuild(value, name_shared, memo))
            self.statements += pending
            pending.clear()
        return rewritten


def squared(spec: OptimizerSpec) -> list[sp.Symbol]:
    """The temporaries of ``spec`` that an assignment raises to an integer power, in assignment order."""
    powered = set()
    for assignment in spec.assignments:
        for node in sp.preorder_traversal(assignment.value):
            if isinstance(node, sp.Pow) and node.base in spec.temporaries and node.exp.is_Integer \
                    and abs(node.exp) >= 2:
                powered.add(node.base)
    return [a.target for a in spec.assignments if a.target in powered]


def lower(spec: OptimizerSpec) -> KernelIR:
    """The unoptimised IR: SSA statements, then one body statement per array output and one host statement
    per scalar output."""
    return _Lowering(spec).lower()
