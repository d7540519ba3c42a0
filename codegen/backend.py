"""A backend as a descriptor, and the one module skeleton every backend's emitted module is rendered from.

A :class:`Backend` names what differs between targets: the runtime it imports, the passes the IR goes through,
the host printer, the body builder (the spec's lowered IR → the parts of the module only this target has) and
the fixed text of its functions (docstrings, ``step``). :meth:`Backend.render` lowers the spec once and fills
the skeleton: banner, docstring, imports, ``NAME``/``HYPERPARAMETERS``/``DOMAINS``/``STATE``/``SCALAR_STATE``,
the backend's own constants, ``BACKEND``, its own definitions, ``array_library``, ``init_state``, ``step`` and
``step_unchecked``. The registry of descriptors, one per name of ``optiforge.runtime.backends.BACKENDS``, is
``codegen.generate.DESCRIPTORS``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from optiforge.specs.dsl import OptimizerSpec

from .driver import Lowered, lower_and_optimize
from .emit_common import (CHECKED_STEP, banner, indent, init_hyperparameter_lines, init_state_return_lines,
                          module_constants, module_docstring, wrap_lines)
from .host_printer import HostPrinter
from .passes import PIPELINE

__all__ = ["Backend", "ModuleBody", "host_init_state_body", "with_inputs", "with_input_parameters"]


@dataclass(frozen=True)
class ModuleBody:
    """The parts of one spec's module that only its backend has (what a body builder returns)."""

    #: ``init_state``'s body after its docstring, indented by 4
    init_state: str
    #: ``step_unchecked``'s body after its docstring, indented by 4
    step_unchecked: str
    #: top-level blocks between ``SCALAR_STATE`` and ``BACKEND`` (CuPy's ``KERNELS``)
    constants: tuple[str, ...] = ()
    #: top-level blocks between ``BACKEND`` and ``array_library`` (numba's loops and ``LOOPS``)
    definitions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Backend:
    """One target of the generator: what its emitted module imports, computes and says."""

    #: the name of ``optiforge.runtime.backends.BACKENDS`` (the folder ``<package>/<name>/``)
    name: str
    #: how the module docstring names the target (``NumPy``)
    title: str
    #: the runtime modules the emitted module imports, after ``math`` and ``numpy``
    imports: str
    #: the body builder: ``build_body(spec, lowered, host_printer)`` → the parts of the module only this backend has
    build_body: Callable[[OptimizerSpec, Lowered, HostPrinter], ModuleBody]
    #: the docstring of ``step_unchecked`` (lines after the first indented by 4)
    step_unchecked_doc: str
    #: what ``array_library`` says the argument checks see, and the expression it returns (default: NumPy
    #: arrays on the host)
    array_type: str = "``numpy.ndarray``"
    array_library: str = "_runtime.NUMPY"
    #: the docstring of ``init_state``
    init_state_doc: str = """Fresh state for ``param``: arrays in the compute dtype (float32 for float16/bfloat16
    params)."""
    #: ``step``: the shared checks, then ``step_unchecked``
    step: str = CHECKED_STEP
    #: the parameters of ``step_unchecked``
    step_unchecked_parameters: str = "param, grad, state, t, _hp, _dtype"
    #: the check ``step`` runs on a spec's declared inputs (``{inputs}``: name → array) before ``step_unchecked``
    input_check: str = "_runtime.check_inputs(NAME, param, grad, state, STATE, {inputs}, array_library())"
    #: the passes the lowered IR goes through (name, function) and the printer of host scalars
    passes: tuple = PIPELINE
    host_printer: Callable[[dict], HostPrinter] = HostPrinter

    def render(self, spec: OptimizerSpec, generator_version: str) -> str:
        """The complete module text (deterministic for a given spec and generator)."""
        lowered = lower_and_optimize(spec, self.passes)
        body = self.build_body(spec, lowered, self.host_printer(lowered.names))
        head = (f"{banner(spec, generator_version, self.name)}\n{module_docstring(spec, self.title)}\n"
                f"import math\n\nimport numpy\n\n{self.imports}\n\n"
                + "\n\n".join((module_constants(spec) + input_constant(spec),) + body.constants)
                + f"\nBACKEND = {self.name!r}")
        functions = (
            f'def array_library():\n    """How the argument checks see this backend\'s arrays ({self.array_type})."""\n'
            f"    return {self.array_library}",
            f'def init_state(param, **hyperparameters):\n    """{self.init_state_doc}"""\n{body.init_state}',
            with_inputs(self.step, spec, self.input_check),
            f'def step_unchecked({with_input_parameters(self.step_unchecked_parameters, spec)}):\n'
            f'    """{self.step_unchecked_doc}"""\n{body.step_unchecked}',
        )
        return "\n\n\n".join((head,) + body.definitions + functions) + "\n"


def host_init_state_body(spec: OptimizerSpec, host_printer: HostPrinter) -> str:
    """``init_state``'s body for host arrays (NumPy, numba): the hyperparameters, the checked compute dtype,
    then the fresh state in it."""
    return (f"{indent(init_hyperparameter_lines(spec), 4)}\n"
            "    _dtype = _runtime.check_param(NAME, param)\n"
            f"{indent(init_state_return_lines(spec, host_printer, 'numpy'), 4)}")


# --- declared inputs besides the gradient (a spec without them renders as before) ---------------------------------
def input_constant(spec: OptimizerSpec) -> str:
    """``INPUTS = ('hessian',)``: the keyword arguments ``step`` and ``step_unchecked`` take besides the
    gradient (nothing for a spec without inputs)."""
    if not spec.inputs:
        return ""
    return f"\nINPUTS = ({''.join(f'{i.name!r}, ' for i in spec.inputs).rstrip(' ')})"


def with_input_parameters(parameters: str, spec: OptimizerSpec) -> str:
    """A parameter list with the spec's inputs as required keyword-only parameters (first after ``*``)."""
    if not spec.inputs:
        return parameters
    names = ", ".join(i.name for i in spec.inputs)
    if ", *, " in parameters:
        return parameters.replace(", *, ", f", *, {names}, ", 1)
    if ", **" in parameters:
        return parameters.replace(", **", f", *, {names}, **", 1)
    return f"{parameters}, *, {names}"


def with_inputs(step: str, spec: OptimizerSpec, check: str) -> str:
    """``step``'s text for a spec with inputs: each a required keyword-only argument, checked (``check``, with
    ``{inputs}`` the name → array dict) after the other arguments, then passed on to ``step_unchecked``."""
    if not spec.inputs:
        return step
    signature, rest = step.split("\n", 1)
    signature = signature.replace("def step(", "").replace("):", "")
    lines = rest.split("\n")
    given = "{" + ", ".join(f"{i.name!r}: {i.name}" for i in spec.inputs) + "}"
    passed = ", ".join(f"{i.name}={i.name}" for i in spec.inputs)
    out = []
    for line in lines:
        if "step_unchecked(param, grad, state, t, _hp" in line and line.rstrip().endswith(")"):
            line = f"{line.rstrip()[:-1]}, {passed})"
            indent_ = line[:len(line) - len(line.lstrip())]
            out.append(indent_ + check.format(inputs=given))
        out.append(line)
    if len(out) == len(lines):  # a step of another shape: it would neither check nor pass the inputs
        raise NotImplementedError(f"{spec.name}: this backend's step does not call step_unchecked(param, grad, "
                                  "state, t, _hp, ...) on one line, so it cannot take the spec's inputs")
    return "\n".join(wrap_lines([f"def step({with_input_parameters(signature, spec)}):"] + out))
