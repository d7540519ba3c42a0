"""The ``optiforge`` command: list, show, generate, verify and build."""
from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from optiforge import specs

from .codegen import __version__
from .codegen.documents import REPOSITORY_ROOT
from .codegen.equations import domain_text, equations_latex, equations_unicode
from .codegen.generate import BACKENDS, GENERATED_ROOT, stale, write
from .codegen.selfcheck import compare_with_reference

CATALOGUE_PAGE = REPOSITORY_ROOT / "docs" / "optimizers.md"

#: Max relative error of a generated float64 kernel against the reference after 20 steps.
SELF_CHECK_TOLERANCE = 1e-10


def _list(args) -> int:
    for spec in specs.all_specs():
        defaults = ", ".join(f"{h.name}={h.default:g}" for h in spec.hyperparameters)
        print(f"{spec.name:28s} {spec.title:45s} {defaults}")
    print(f"\n{len(specs.names())} optimizers")
    return 0


def _show(args) -> int:
    spec = specs.get(args.name)
    print(f"{spec.title} ({spec.name})\nReference: {spec.reference}")
    if spec.source:
        print(f"Source: {spec.source}")
    print("\nHyperparameters:")
    for h in spec.hyperparameters:
        print(f"  {h.name} = {h.default:g} in {domain_text(h.domain)}")
    if spec.state:
        print("State:")
        for s in spec.state:
            print(f"  {s.name}{' (scalar)' if s.scalar else ''}, initially {s.init}")
    print("\nUpdate, for t = 1, 2, …:")
    for line in (equations_latex(spec) if args.latex else equations_unicode(spec)):
        print(f"  {line}")
    if spec.notes:
        print(f"\n{spec.notes}")
    return 0


def _generate(args) -> int:
    backends = list(BACKENDS) if args.backend == "all" else [args.backend]
    root = Path(args.out) if args.out else GENERATED_ROOT
    if args.check:
        out_of_date = stale(root, backends)
        for path in out_of_date:
            print(f"stale: {path}")
        print("generated/ is up to date" if not out_of_date else
              f"{len(out_of_date)} generated file(s) differ from the generator: run `optiforge generate`")
        return 1 if out_of_date else 0
    written = write(root, backends)
    print(f"wrote {len(written)} file(s) under {root}" if written else f"{root} already up to date")
    return 0


def _verify(args) -> int:
    try:
        derive = importlib.import_module("optiforge.derive")
        verify = derive.verify
    except (ImportError, AttributeError):
        print("derive/ has no claims yet")
        return 0
    return verify(args.names or None, report=args.report)


def _build(args) -> int:
    start = time.perf_counter()
    print(f"optiforge {__version__}: {len(specs.names())} specs validated")
    status = _verify(argparse.Namespace(names=None, report=args.report))
    if status:
        print("derivation checks failed")
        return status
    written = write(GENERATED_ROOT, list(BACKENDS))
    print(f"generated: {len(written)} file(s) rewritten ({', '.join(BACKENDS)} backends)")
    if CATALOGUE_PAGE.parent.is_dir():  # a source checkout: the page lists the claims verify just ran
        from .catalog_docs import render_catalog

        CATALOGUE_PAGE.write_text(render_catalog(), encoding="utf-8")
        print(f"wrote {CATALOGUE_PAGE.relative_to(REPOSITORY_ROOT)}")
    from optiforge import generated

    failures = 0
    for spec in specs.all_specs():
        error = compare_with_reference(spec, generated.kernel_module(spec.name), steps=20, size=257, seed=1)
        ok = error <= SELF_CHECK_TOLERANCE
        failures += not ok
        if not ok or args.verbose:
            print(f"  {'ok  ' if ok else 'FAIL'} {spec.name:28s} max relative error {error:.1e}")
    print(f"self-check: {len(specs.names()) - failures}/{len(specs.names())} NumPy kernels match the "
          f"reference (float64, 20 steps, tolerance {SELF_CHECK_TOLERANCE:g})")
    print(f"build finished in {time.perf_counter() - start:.1f} s")
    return 1 if failures else 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="optiforge", description="Optimizers as verified SymPy specs, "
                                "compiled to NumPy and CuPy kernels.")
    p.add_argument("--version", action="version", version=f"optiforge {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every optimizer with its hyperparameters").set_defaults(run=_list)
    show = sub.add_parser("show", help="one optimizer's update equations")
    show.add_argument("name")
    show.add_argument("--latex", action="store_true", help="LaTeX instead of Unicode")
    show.set_defaults(run=_show)
    gen = sub.add_parser("generate", help="(re)write generated/ from specs/ and codegen/")
    gen.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    gen.add_argument("--check", action="store_true", help="exit 1 and list stale files instead of writing")
    gen.add_argument("--out", help="write under this directory instead of the generated package")
    gen.set_defaults(run=_generate)
    ver = sub.add_parser("verify", help="check the derivations in derive/")
    ver.add_argument("names", nargs="*")
    ver.add_argument("--report", help="write a Markdown report to this file")
    ver.set_defaults(run=_verify)
    build = sub.add_parser("build", help="verify, regenerate and self-check everything (the main job)")
    build.add_argument("--report", help="also write the derivation report here")
    build.add_argument("-v", "--verbose", action="store_true")
    build.set_defaults(run=_build)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyError as error:  # unknown optimizer names
        print(f"optiforge: {error.args[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
