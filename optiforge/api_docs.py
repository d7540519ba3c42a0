"""Generate the API reference ``docs/api.md`` from the docstrings and signatures of the public API.

The page follows ``optiforge``'s public names by topic, then the interface of a generated kernel module, the
spec helpers, the code generator, the derivation checker and the command line (from its argument parser).
``render_api(command_parser)`` is deterministic (no addresses, no terminal widths); ``optiforge generate`` rewrites
the page (through :mod:`optiforge.documents`) and ``optiforge generate --check`` fails when it is stale. The command
line is documented from the parser it is given: this module does not import the CLI, which imports it.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import re
import types

__all__ = ["render_api"]

#: sections after the top-level names: title, module, the names documented (all of ``__all__`` when None)
MODULES = [
    ("The runtime every generated module imports", "optiforge.runtime.kernel_support",
     ["Interval", "OneOf", "Integers", "ArrayLibrary", "MAX_STEP", "STORAGE_DTYPES", "resolve_hyperparameters",
      "check_integer", "check_step", "compute_dtype", "check_param", "check_grad", "check_arrays", "check_state",
      "check_disjoint", "check_scalar_state", "check_params", "type_name", "shown", "Extents", "scratch",
      "clear_scratch", "load", "BLOCK_BYTES", "block_size"]),  # not NUMPY: its repr holds addresses
    ("Combinators", "optiforge.specs.combinators", None),
    ("The float64 reference", "optiforge.specs.reference", None),
    ("Code generation", "optiforge.codegen.generate",
     ["load_module", "kernel_for", "render_package", "output_root", "writable_folder", "OutputError"]),
    ("Lowering", "optiforge.codegen.driver", ["lower_and_optimize", "Lowered"]),
    ("The derivation checker", "optiforge.derive", ["claims", "select", "run", "result_of", "results", "verify"]),
    ("Claims and results", "optiforge.derive.engine", ["Claim", "ClaimResult", "ClaimList"]),
]

#: the interface every generated kernel module has (documented from one of them)
KERNEL_EXAMPLE = "optiforge.generated.numpy.sgd"
KERNEL_CONSTANTS = [
    ("NAME", "the optimizer's name"),
    ("HYPERPARAMETERS", "hyperparameter name → default"),
    ("DOMAINS", "hyperparameter name → allowed range (checked on every call)"),
    ("STATE", "names of the per-element state arrays"),
    ("SCALAR_STATE", "names of the per-step scalar state values"),
]

_ROLES = re.compile(r":(?:class|func|meth|data|mod|attr|obj|exc):`~?([^`]+)`")
_MATH = re.compile(r":math:`([^`]+)`")


def _markdown(doc: str) -> str:
    """A docstring in Markdown: ``code`` → `code`, :math:`x` → $x$, roles → code, doctests fenced."""
    out, in_example = [], False
    for line in doc.splitlines():
        example = line.lstrip().startswith((">>>", "..."))
        if example and not in_example:
            out.append("```python")
        if not example and in_example:
            if line.strip() and not line.startswith(" "):  # an example's printed output
                out.append(line)
                continue
            out.append("```")
        in_example = example or (in_example and bool(line.strip()))
        if in_example:
            out.append(line)
            continue
        line = _MATH.sub(lambda m: f"${m.group(1)}$", line)
        line = _ROLES.sub(lambda m: f"`{m.group(1)}`", line)
        out.append(line.replace("``", "`"))
    if in_example:
        out.append("```")
    return "\n".join(out).strip()


def _value(value) -> str:
    """A default value as source text, without addresses (functions by name, streams as sys.stdout)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_value(v) for v in value)
        return f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_value(k)}: {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type)):
        module = value.__module__ or ""
        return value.__qualname__ if module.startswith(("optiforge", "builtins")) else f"{module}.{value.__qualname__}"
    if hasattr(value, "write"):
        return "sys.stdout"
    text = repr(value)
    return type(value).__name__ if " at 0x" in text else text


def _signature(obj) -> str:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    parts, star = [], False
    for p in signature.parameters.values():
        if p.name == "self":
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        text = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
        star = star or p.kind is p.VAR_POSITIONAL
        if p.annotation is not p.empty:
            text += f": {p.annotation if isinstance(p.annotation, str) else _value(p.annotation)}"
        if p.default is not p.empty:
            text += f" = {_value(p.default)}" if p.annotation is not p.empty else f"={_value(p.default)}"
        parts.append(text)
    returns = signature.return_annotation
    arrow = "" if returns is signature.empty or returns in ("None", None) or inspect.isclass(obj) else f" -> {returns}"
    return f"({', '.join(parts)}){arrow}"


def _members(cls) -> list[tuple[str, object]]:
    """Public methods and properties defined by ``cls`` itself (not inherited, not dataclass fields)."""
    out = []
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member) or isinstance(member, property):
            out.append((name, member))
    return out


def _entry(qualified: str, obj, level: int = 3) -> list[str]:
    heading = "#" * level
    if isinstance(obj, types.ModuleType):
        return []
    if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj):
        kind = "class " if inspect.isclass(obj) else ""
        lines = [f"{heading} {kind}`{qualified}{_signature(obj)}`", ""]
        doc = inspect.getdoc(obj) if (obj.__doc__ or "").strip() else None
        if doc and not doc.startswith(f"{obj.__name__}("):  # not a dataclass's generated signature line
            lines += [_markdown(doc), ""]
        if inspect.isclass(obj):
            for name, member in _members(obj):
                if isinstance(member, property):
                    lines.append(f"- `{name}` (property): {_markdown(inspect.getdoc(member) or '')}".rstrip(": "))
                else:
                    summary = " ".join(_markdown(inspect.getdoc(member) or "").split())
                    lines.append(f"- `{name}{_signature(member)}`" + (f": {summary}" if summary else ""))
            if lines[-1] != "":
                lines.append("")
        return lines
    return [f"- `{qualified}` = `{_constant(obj)}`"]


def _constant(value) -> str:
    import sympy as sp

    from optiforge.codegen.equations import domain_text

    if isinstance(value, sp.Set):
        return domain_text(value)
    return str(value)


def _top_level() -> list[str]:
    import optiforge

    lines = ["## `import optiforge`", "", _markdown(inspect.getdoc(optiforge)), ""]
    for title, group in optiforge.PUBLIC_NAMES.items():
        lines += [f"### {title}", ""]
        constants = []
        for name in group:
            obj = getattr(optiforge, name)
            entry = _entry(f"optiforge.{name}", obj, level=4)
            (constants if entry and entry[0].startswith("- ") else lines).extend(entry)
        if constants:
            lines += ["Symbols and domains:", "", *constants, ""]
    return lines


def _kernel_interface() -> list[str]:
    module = importlib.import_module(KERNEL_EXAMPLE)
    lines = ["## Generated kernel modules", "",
             "Each spec becomes `optiforge.generated.<backend>.<name>` (or `<package>.<backend>.<name>` for your "
             "own specs, see `optiforge generate --specs`), importable with NumPy alone (CuPy or numba at first "
             "use). Every module has:", ""]
    lines += [f"- `{name}`: {what}" for name, what in KERNEL_CONSTANTS]
    lines.append("")
    for name in ("init_state", "step"):
        lines += _entry(name, getattr(module, name), level=3)
    return lines


def _modules() -> list[str]:
    lines = []
    for title, module_name, names in MODULES:
        module = importlib.import_module(module_name)
        lines += [f"## {title}: `{module_name}`", ""]
        summary = (inspect.getdoc(module) or "").split("\n\n")[0]
        if summary:
            lines += [_markdown(summary), ""]
        for name in names or module.__all__:
            lines += _entry(f"{module_name}.{name}", getattr(module, name))
    return lines


def _command_line(root: argparse.ArgumentParser) -> list[str]:
    """Each subcommand of ``root`` with its usage and arguments, laid out here (argparse's own layout depends on
    the terminal)."""
    lines = ["## Command line", "", root.description or "", ""]
    commands = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        arguments = []
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            flag = ", ".join(action.option_strings) or (action.metavar or action.dest)
            if action.option_strings and action.nargs != 0:
                flag += " {" + ",".join(map(str, action.choices)) + "}" if action.choices else \
                    f" {action.metavar or action.dest.upper()}"
            usage = flag.split(", ")[-1]
            usage = f"[{usage}]" if action.option_strings else (f"[{usage} ...]" if action.nargs == "*" else usage)
            arguments.append((usage, flag, action.help))
        width = max((len(flag) for _, flag, _ in arguments), default=0)
        lines += [f"### `optiforge {name}`", "", command.description or "", "", "```text",
                  " ".join([f"optiforge {name}", *(usage for usage, _, _ in arguments)]), ""]
        lines += [f"  {flag:<{width}}  {help}" for _, flag, help in arguments]
        lines += ["```", ""]
    return lines


def render_api(command_parser: argparse.ArgumentParser) -> str:
    """The whole page (Markdown); the command line section from ``command_parser`` (``optiforge.cli.parser()``)."""
    lines = ["# API reference", "",
             "<!-- Generated from the docstrings by optiforge/api_docs.py (`optiforge generate`); do not edit. -->",
             ""]
    lines += _top_level() + _kernel_interface() + _modules() + _command_line(command_parser)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"
