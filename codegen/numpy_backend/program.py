r"""Lower the optimised body to a *ufunc program*: a straight-line list of NumPy ufunc calls, each writing
into a preallocated block-sized buffer (``out=``), or directly into a state/parameter array once its old
value is dead.

Two small steps, each a function:

* :func:`linearize` — expression trees → three-address ufunc calls on virtual registers;
* :func:`group_host_branches` — the calls only one arm of a selection on a host boolean needs, moved next to
  it, so that the printed block computes that arm under ``if`` (the other arm is not computed);
* :func:`allocate_buffers` — liveness-based reuse of a few scratch buffers; results of outputs are written
  in place when that is safe.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.codegen.cfunctions import Sqrt

from optiforge.specs.dsl import GRAD, PARAM
from optiforge.specs.validate import ELEMENTARY_FUNCTIONS

from ..operation_order import product_factors, sum_terms
from ..ir import KernelIR

__all__ = ["Call", "UfuncProgram", "linearize", "group_host_branches", "allocate_buffers", "build_program"]

_UNARY = {sp.Abs: "absolute", sp.sign: "sign", sp.exp: "exp", sp.log: "log", sp.tanh: "tanh",
          sp.floor: "floor", sp.ceiling: "ceil", Sqrt: "sqrt", **ELEMENTARY_FUNCTIONS}
_BINARY_FOLD = {sp.Max: "maximum", sp.Min: "minimum", sp.And: "logical_and", sp.Or: "logical_or",
                sp.Xor: "logical_xor"}
_COMPARISONS = {sp.StrictGreaterThan: "greater", sp.GreaterThan: "greater_equal", sp.StrictLessThan: "less",
                sp.LessThan: "less_equal", sp.Equality: "equal", sp.Unequality: "not_equal"}


@dataclass
class Call:
    """``out = numpy.<ufunc>(*args)``; ``ufunc == "select"`` means ``where(args[0], args[1], args[2])``.

    ``boolean`` marks a mask result. ``out`` is a virtual register until :func:`allocate_buffers` names it.
    ``arms``: for a selection on a host boolean, how many of the calls just before it compute only its
    "then" operand and then only its "else" operand (:func:`group_host_branches`).
    """

    ufunc: str
    args: tuple
    out: sp.Symbol
    boolean: bool = False
    arms: tuple[int, int] = (0, 0)


@dataclass
class UfuncProgram:
    calls: list[Call]
    #: storage name ("theta" or a state name) → operand holding its new value
    outputs: dict[str, sp.Basic]
    #: array input symbol → storage name it lives in
    storage: dict[sp.Symbol, str]
    host_booleans: set[sp.Symbol]
    #: storage name → the name the printed block writes it through ("theta" → "_theta_out")
    targets: dict[str, str]
    #: the spec's inputs besides the gradient (read-only, loaded like it)
    extra_inputs: tuple = ()
    #: filled by allocate_buffers: final copies (storage, operand) and buffer counts
    copies: list[tuple[str, sp.Basic]] = field(default_factory=list)
    float_buffers: int = 0
    mask_buffers: int = 0


class _Linearizer:
    def __init__(self, host_booleans: set[sp.Symbol]):
        self.calls: list[Call] = []
        self.memo: dict[sp.Basic, sp.Basic] = {}
        self.env: dict[sp.Symbol, sp.Basic] = {}
        self.host_booleans = host_booleans
        self.registers = sp.numbered_symbols("_r")

    def emit(self, ufunc: str, *args, boolean: bool = False) -> sp.Symbol:
        out = next(self.registers)
        self.calls.append(Call(ufunc, tuple(args), out, boolean))
        return out

    def fold(self, ufunc: str, operands, boolean=False) -> sp.Basic:
        acc = operands[0]
        for operand in operands[1:]:
            acc = self.emit(ufunc, acc, operand, boolean=boolean)
        return acc

    def value(self, expr: sp.Basic) -> sp.Basic:
        if expr in self.memo:
            return self.memo[expr]
        result = self._value(expr)
        self.memo[expr] = result
        return result

    def _value(self, expr):
        if isinstance(expr, sp.Symbol):
            return self.env.get(expr, expr)
        if expr.is_Number or isinstance(expr, sp.logic.boolalg.BooleanAtom):
            return expr
        if isinstance(expr, sp.UnevaluatedExpr):
            return self.value(expr.args[0])
        if isinstance(expr, sp.Add):
            positive, negative = sum_terms(expr)
            acc = self.fold("add", [self.value(a) for a in positive]) if positive else \
                self.emit("negative", self.value(negative.pop(0)))
            for term in negative:
                acc = self.emit("subtract", acc, self.value(term))
            return acc
        if isinstance(expr, sp.Mul):
            return self._product(expr)
        if isinstance(expr, sp.Pow):
            base, exponent = expr.args
            if exponent == -1:
                return self.emit("divide", sp.S.One, self.value(base))
            if exponent == sp.S.Half:
                return self.emit("sqrt", self.value(base))
            if exponent == 2:
                b = self.value(base)
                return self.emit("multiply", b, b)
            return self.emit("power", self.value(base), self.value(exponent))
        if isinstance(expr, sp.Piecewise):
            return self._piecewise(expr.args)
        if type(expr) in _UNARY:
            return self.emit(_UNARY[type(expr)], self.value(expr.args[0]))
        if type(expr) in _BINARY_FOLD:
            boolean = isinstance(expr, sp.logic.boolalg.Boolean)
            return self.fold(_BINARY_FOLD[type(expr)], [self.value(a) for a in expr.args], boolean)
        if type(expr) in _COMPARISONS:
            return self.emit(_COMPARISONS[type(expr)], *(self.value(a) for a in expr.args), boolean=True)
        if isinstance(expr, sp.Not):
            return self.emit("logical_not", self.value(expr.args[0]), boolean=True)
        if isinstance(expr, sp.ITE):  # a selection between truth values
            return self.emit("select", *(self.value(a) for a in expr.args), boolean=True)
        if isinstance(expr, sp.Mod):
            return self.emit("mod", *(self.value(a) for a in expr.args))
        if isinstance(expr, sp.Heaviside):
            return self.emit("heaviside", self.value(expr.args[0]), sp.Float(0.5) if len(expr.args) == 1
                             else self.value(expr.args[1]))
        raise NotImplementedError(f"NumPy backend: no ufunc for {type(expr).__name__} in {expr}")

    def _product(self, expr: sp.Mul):
        negate, numerator, denominator = product_factors(expr, self.env)
        acc = self.fold("multiply", [self.value(a) for a in numerator]) if numerator else None
        if denominator:
            divisor = self.fold("multiply", [self.value(d) for d in denominator])
            acc = self.emit("divide", sp.S.One if acc is None else acc, divisor)
        return self.emit("negative", acc) if negate else acc

    def _piecewise(self, pieces):
        (expr, condition), rest = pieces[0], pieces[1:]
        if condition == sp.true:
            return self.value(expr)
        otherwise = self._piecewise(rest) if rest else sp.nan
        return self.emit("select", self.value(condition), self.value(expr), otherwise)


def _register(operand) -> bool:
    """A virtual register of the linearizer (as opposed to an input, host scalar or literal)."""
    return isinstance(operand, sp.Symbol) and operand.name.startswith("_r")


def linearize(ir: KernelIR) -> UfuncProgram:
    """Three-address form of ``ir.body``; outputs refer to registers, inputs or host scalars."""
    host_booleans = ir.host_booleans()
    lin = _Linearizer(host_booleans)
    for symbol, expr in ir.body:
        lin.env[symbol] = lin.value(expr)
    # (the gradient and the other inputs are loaded into compute-dtype buffers, never written)
    storage = {s: s.name for s in ir.array_inputs if s != GRAD and s not in ir.extra_inputs}
    outputs = {}
    for name, symbol in ir.array_outputs:
        operand = lin.env[symbol]
        if operand != ir.spec.symbol(name) and not _register(operand):
            # A copy of another array or a constant: materialise it so in-place writes cannot clobber it.
            operand = lin.emit("positive", operand)
        outputs[name] = operand
    targets = {name: "_theta_out" if name == "theta" else name for name in outputs}
    return UfuncProgram(lin.calls, outputs, storage, host_booleans, targets, ir.extra_inputs)


def allocate_buffers(program: UfuncProgram) -> UfuncProgram:
    """Assign registers to scratch buffers (``_buf0…``, masks ``_mask0…``) or to output arrays.

    An output's final call writes straight into its array when no later call reads the array's old
    value; otherwise the result stays in scratch and is copied at the end of the block.

    A state array is also scratch between the last read of its old value and the write of its new one
    (``m = beta1*m + c*g`` becomes ``multiply(m, beta1, out=m); add(_buf0, m, out=m)``): an operation
    writing over one of its own inputs was measured cheaper than one writing a third buffer, and fewer
    distinct buffers stay in cache. Not the parameter: its storage dtype may be narrower.

    The gradient may be the parameter array itself (``step(w, w, …)``): the parameter is written only
    after the last read of the gradient, so the step reads the gradient the caller passed.
    """
    calls = program.calls
    end = len(calls)
    last_read: dict[sp.Basic, int] = {}
    for index, call in enumerate(calls):
        for a in call.args:
            last_read[a] = index
    for operand in program.outputs.values():
        last_read[operand] = end
    producer = {call.out: index for index, call in enumerate(calls)}
    placed: dict[sp.Symbol, sp.Symbol] = {}
    for name, operand in program.outputs.items():
        old = next((s for s, n in program.storage.items() if n == name), None)
        # The parameter's storage may be narrower than the arithmetic dtype (float16): a new θ that later
        # calls read stays in a compute-dtype buffer and is stored at the end, as the CUDA kernel does.
        reread = name == "theta" and any(operand in call.args for call in calls)
        after = max(last_read.get(old, -1), last_read.get(GRAD, -1) if name == "theta" else -1)
        # A select copies its "then" operand second: written into θ, it would read a gradient that is the
        # parameter array after the first pass has overwritten it.
        reads_grad_late = name == "theta" and _register(operand) and operand in producer and \
            calls[producer[operand]].ufunc == "select" and calls[producer[operand]].args[1] == GRAD
        if _register(operand) and operand not in placed and not reread and producer[operand] >= after \
                and not reads_grad_late:
            placed[operand] = sp.Symbol(program.targets[name])
        elif old is None or operand != old:
            program.copies.append((name, operand))
    # State storage name → the call indices between which it may hold an intermediate.
    windows = {}
    for name, operand in program.outputs.items():
        old = next((s for s, n in program.storage.items() if n == name), None)
        if name != "theta" and old is not None and operand != old:
            write = producer[operand] if operand in placed else end - 1
            windows[sp.Symbol(program.targets[name])] = (last_read.get(old, -1), write)
    occupied_until = {array: -1 for array in windows}
    old_of = {sp.Symbol(program.targets[name]): symbol for symbol, name in program.storage.items()
              if name in program.targets}
    free: dict[bool, list[sp.Symbol]] = {False: [], True: []}
    counts = {False: 0, True: 0}
    assigned: dict[sp.Symbol, sp.Symbol] = {}
    for index, call in enumerate(calls):
        dying = [a for a in dict.fromkeys(call.args) if _register(a) and last_read[a] == index
                 and assigned[a].name.startswith(("_buf", "_mask"))]
        # select() writes its destination in two passes, so it must not alias the condition or the branch
        # it copies second.
        reusable = [a for a in dying if not (call.ufunc == "select" and a in call.args[:2])]
        for a in reusable:
            free[assigned[a].name.startswith("_mask")].append(assigned[a])
        args = tuple(assigned.get(a, a) for a in call.args)
        if call.ufunc == "select" and call.out in placed:
            # The destination is the storage the old value lives in (``theta`` is a view of it when the
            # dtypes agree): name it as the destination, so the two-pass selection never overwrites it
            # before reading it.
            old = old_of.get(placed[call.out])
            args = tuple(placed[call.out] if a == old else a for a in args)
        # select() writes in two passes and masks are booleans: neither goes into state storage.
        in_window = [array for array, (opens, write) in windows.items() if not call.boolean and call.ufunc != "select"
                     and opens <= index and occupied_until[array] <= index and last_read[call.out] <= write]
        if call.out in placed:
            out = placed[call.out]
        elif in_window:
            out = in_window[0]
            occupied_until[out] = last_read[call.out]
        elif free[call.boolean]:
            out = free[call.boolean].pop()
        else:
            out = sp.Symbol(f"{'_mask' if call.boolean else '_buf'}{counts[call.boolean]}")
            counts[call.boolean] += 1
        assigned[call.out] = out
        for a in dying:
            if a not in reusable:
                free[assigned[a].name.startswith("_mask")].append(assigned[a])
        calls[index] = Call(call.ufunc, args, out, call.boolean, call.arms)
    program.outputs = {k: assigned.get(v, v) for k, v in program.outputs.items()}
    program.copies = [(name, assigned.get(v, v)) for name, v in program.copies]
    program.float_buffers, program.mask_buffers = counts[False], counts[True]
    return program


def group_host_branches(program: UfuncProgram) -> UfuncProgram:
    """The same program with, before each selection on a host boolean, the calls whose results only its
    "then" operand needs, then those only its "else" operand needs (each group in program order), counted
    in ``Call.arms``. A group moves later, past calls it does not read, and nothing outside it but the
    selection reads it: computing one group alone computes the same selection (the buffers are allocated
    afterwards, for the whole sequence, so the other group's calls may simply be skipped)."""
    calls = list(program.calls)
    outputs = set(program.outputs.values())
    selects = [c for c in calls if c.ufunc == "select" and c.args[0] in program.host_booleans]
    for select in selects:
        index = next(i for i, c in enumerate(calls) if c.out == select.out)
        readers: dict = {}
        for i, call in enumerate(calls):
            for a in call.args:
                readers.setdefault(a, set()).add(i)
        producer = {call.out: i for i, call in enumerate(calls[:index])}
        # (the selection's other operand counts as an output: the arm that is taken reads it)
        arms = [_needed_only_by(calls, operand, index, producer, readers, outputs | (set(select.args) - {operand}))
                for operand in select.args[1:]]
        then_arm, else_arm = sorted(arms[0] - arms[1]), sorted(arms[1] - arms[0])
        if not then_arm and not else_arm:
            continue
        moved = set(then_arm) | set(else_arm)
        grouped = [calls[i] for i in then_arm] + [calls[i] for i in else_arm]
        select = Call(select.ufunc, select.args, select.out, select.boolean, (len(then_arm), len(else_arm)))
        calls = [c for i, c in enumerate(calls[:index]) if i not in moved] + grouped + [select] + calls[index + 1:]
    return UfuncProgram(calls, dict(program.outputs), dict(program.storage), program.host_booleans,
                        dict(program.targets), program.extra_inputs)


def _needed_only_by(calls, operand, index, producer, readers, outputs) -> set[int]:
    """The calls before ``index`` that ``operand`` needs and whose results nothing else reads (no output,
    no call outside the set but the one at ``index``)."""
    cone, stack = set(), [operand]
    while stack:
        value = stack.pop()
        if value in producer and producer[value] not in cone:
            cone.add(producer[value])
            stack += list(calls[producer[value]].args)
    while True:
        leaking = {i for i in cone if calls[i].out in outputs
                   or not readers.get(calls[i].out, set()) <= cone | {index}}
        if not leaking:
            return cone
        cone -= leaking


def _sink_parameter_update(program: UfuncProgram) -> UfuncProgram | None:
    """The same program with the calls only the new parameter needs, and that read no array input, moved
    to the end; ``None`` when nothing moves. (Computing θ after the last read of the gradient lets its
    final call write in place even when the gradient is the parameter array.)"""
    calls = program.calls
    producer = {call.out: index for index, call in enumerate(calls)}

    def ancestors(roots):
        seen, stack = set(), [producer[r] for r in roots if r in producer]
        while stack:
            index = stack.pop()
            if index not in seen:
                seen.add(index)
                stack += [producer[a] for a in calls[index].args if a in producer]
        return seen

    theta = program.outputs.get("theta")
    needed = ancestors([theta]) - ancestors([v for k, v in program.outputs.items() if k != "theta"])
    inputs = set(program.storage) | {GRAD, *program.extra_inputs}
    stay = {i for i in needed if any(a in inputs and a != PARAM for a in calls[i].args)}
    stay |= ancestors([calls[i].out for i in stay])
    sink = sorted(needed - stay)
    if not sink or sink == list(range(len(calls) - len(sink), len(calls))):
        return None
    order = [i for i in range(len(calls)) if i not in set(sink)] + sink
    return UfuncProgram([calls[i] for i in order], dict(program.outputs), dict(program.storage),
                        program.host_booleans, dict(program.targets), program.extra_inputs)


def build_program(ir: KernelIR) -> UfuncProgram:
    """The ufunc program of ``ir``; of the body order and the order that updates θ last, the one with
    fewer calls and copies, then fewer buffers (the body order on a tie)."""
    def cost(program):
        return len(program.calls) + len(program.copies), program.float_buffers + program.mask_buffers

    linear = linearize(ir)
    sunk = _sink_parameter_update(linear)
    program = allocate_buffers(group_host_branches(linear))
    if sunk is not None:
        alternative = allocate_buffers(group_host_branches(sunk))
        if cost(alternative) < cost(program):
            return alternative
    return program
