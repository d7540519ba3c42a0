"""The project's modules as a graph, read from their source (``ast``, nothing imported): no import cycles, and
no private name (``_x``) of one module used in another.

An import anywhere in a module counts (a function-level import is an edge too: it only defers the cycle). A
package's ``__init__`` running before its submodules is not an edge. Modules are named as they install
(``specs/dsl.py`` is ``optiforge.specs.dsl``: pyproject's ``package-dir``); tests and benchmarks are not
project modules. The generated kernel modules are included: they import the runtime only.
"""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIRS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]


def project_modules() -> dict[str, Path]:
    """Dotted module name → source file, for every module that installs."""
    modules = {}
    for package, directory in PACKAGE_DIRS.items():
        base = ROOT / directory
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            if any(p.startswith(".") for p in parts) or not (path.parent / "__init__.py").is_file():
                continue
            name = ".".join([package, *parts]).removesuffix(".__init__")
            modules.setdefault(name, path)
    return modules


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The module an ``ImportFrom`` names, relative imports resolved against ``module``."""
    if not node.level:
        return node.module or ""
    package = module if _is_package(path) else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


class ModuleUses:
    """What one module imports (project modules) and which private names of other project modules it uses."""

    def __init__(self, name: str, path: Path, modules: dict[str, Path]):
        self.name, self.imports, self.private = name, set(), []
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        aliases: dict[str, str] = {}  # local name → project module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules:
                        self.imports.add(alias.name)
                        aliases[alias.asname or alias.name.split(".")[0]] = \
                            alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(name, path, node)
                for alias in node.names:
                    target = f"{source}.{alias.name}"
                    if target in modules:  # a submodule
                        self.imports.add(target)
                        aliases[alias.asname or alias.name] = target
                    elif source in modules:
                        self.imports.add(source)
                        if _private(alias.name) and source != name:
                            self.private.append(f"{source}.{alias.name} (line {node.lineno})")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _private(node.attr):
                module = aliases.get(node.value.id)
                if module is not None and module in modules and module != name and \
                        f"{module}.{node.attr}" not in modules:
                    self.private.append(f"{module}.{node.attr} (line {node.lineno})")
        self.imports.discard(name)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def uses() -> dict[str, ModuleUses]:
    modules = project_modules()
    return {name: ModuleUses(name, path, modules) for name, path in modules.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, cycles, counter = {}, {}, set(), [], [], [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return sorted(cycles)


def test_the_module_list_is_the_installed_one():
    modules = project_modules()
    assert {"optiforge", "optiforge.cli", "optiforge.runtime.kernel_support", "optiforge.specs.dsl",
            "optiforge.derive", "optiforge.codegen.generate", "optiforge.generated"} <= set(modules)
    assert len(modules) > 100


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert import_cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles():
    graph = {name: found.imports for name, found in uses().items()}
    cycles = import_cycles(graph)
    edges = {tuple(c): "; ".join(f"{a} → {b}" for a in c for b in sorted(graph[a] & set(c))) for c in cycles}
    assert not cycles, "import cycles:\n" + "\n".join(f"{' ⇄ '.join(c)}: {edges[tuple(c)]}" for c in cycles)


def test_no_private_name_used_outside_its_module():
    used = {name: found.private for name, found in uses().items() if found.private}
    assert not used, "private names used in another module:\n" + "\n".join(
        f"{name}: {', '.join(names)}" for name, names in sorted(used.items()))


def test_codegen_never_imports_generated_and_the_runtime_never_imports_codegen():
    graph = {name: found.imports for name, found in uses().items()}
    layer = {name: name.split(".")[1] if name.count(".") else "" for name in graph}
    wrong = [f"{a} → {b}" for a, targets in graph.items() for b in targets
             if (layer[a] == "codegen" and layer[b] == "generated")
             or (layer[a] == "runtime" and layer[b] in ("codegen", "specs", "derive"))]
    assert not wrong, wrong
