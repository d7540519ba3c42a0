"""The ``optiforge`` command: list, show, generate, verify, build and gallery.

Results go to stdout (``--json`` gives them to programs); progress and diagnostics go to stderr. Exit status:
0 done, 1 a check failed (a stale file, a claim not as asserted, a kernel off the reference), 2 bad input (an
unknown name, a user folder that does not load, a place the command may not write).

Where commands write: ``generate`` and ``build`` rewrite the checkout's ``generated/`` and documents only in a
source checkout, run from inside it; anywhere else they write nothing unless given ``--out DIR`` (see
:func:`optiforge.codegen.generate.output_root`). Nothing is ever written into the installed package.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from optiforge import __version__

def _note(message: str) -> None:
    """Progress and diagnostics: stderr, so that stdout holds only results."""
    print(message, file=sys.stderr, flush=True)


def _json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


# --- specs -------------------------------------------------------------------------------------------------------
def _spec_list(args, *, register: bool = True) -> list:
    """The catalogue, or with ``--specs DIR`` that folder's specs (validated; ``register``: added to the registry,
    so that names find them)."""
    from optiforge import specs
    from optiforge.folders import load_specs, register_specs

    if not getattr(args, "specs", None):
        return specs.all_specs()
    return register_specs(args.specs) if register else load_specs(args.specs)


def _spec_json(spec) -> dict:
    from optiforge.codegen.equations import domain_text, equations_latex, equations_unicode, expression_unicode

    return {"name": spec.name, "title": spec.title, "reference": spec.reference, "source": spec.source,
            "peers": list(spec.peers), "notes": spec.notes,
            "hyperparameters": [{"name": h.name, "default": h.default, "domain": domain_text(h.domain),
                                 "latex": h.latex} for h in spec.hyperparameters],
            "state": [{"name": s.name, "scalar": s.scalar,
                       "initial": None if s.init is None else expression_unicode(spec, s.init)} for s in spec.state],
            "inputs": [{"name": i.name, "latex": i.latex, "doc": i.doc} for i in spec.inputs],
            "equations": equations_unicode(spec), "equations_latex": equations_latex(spec)}


def _list(args) -> int:
    spec_list = _spec_list(args, register=False)
    if args.json:
        _json([{"name": s.name, "title": s.title, "reference": s.reference, "peers": list(s.peers),
                "hyperparameters": {h.name: h.default for h in s.hyperparameters}} for s in spec_list])
        return 0
    rows = [("name", "title", "hyperparameters (defaults)")]
    rows += [(s.name, s.title, ", ".join(f"{h.name}={h.default:g}" for h in s.hyperparameters)) for s in spec_list]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip())
    _note(f"{len(spec_list)} optimizers")
    return 0


def _show(args) -> int:
    from optiforge import specs
    from optiforge.codegen.equations import domain_text, equations_latex, equations_unicode, expression_unicode

    _spec_list(args)
    spec = specs.get(args.name)
    if args.json:
        _json(_spec_json(spec))
        return 0
    print(f"{spec.title} ({spec.name})\nReference: {spec.reference}")
    if spec.source:
        print(f"Source: {spec.source}")
    print("\nHyperparameters:")
    width = max(len(h.name) for h in spec.hyperparameters) if spec.hyperparameters else 0
    for h in spec.hyperparameters:
        print(f"  {h.name:<{width}} = {h.default:g} in {domain_text(h.domain)}")
    if spec.inputs:
        print("Inputs besides g (keyword arguments of step, shaped like θ):")
        for i in spec.inputs:
            print(f"  {i.name}" + (f": {i.doc}" if i.doc else ""))
    if spec.state:
        print("State:")
        for s in spec.state:
            initial = "written before it is read" if s.init is None else expression_unicode(spec, s.init)
            print(f"  {s.name}{' (scalar)' if s.scalar else ''}, initially {initial}")
    print("\nUpdate, for t = 1, 2, …:")
    for line in (equations_latex(spec) if args.latex else equations_unicode(spec)):
        print(f"  {line}")
    if spec.notes:
        print(f"\n{spec.notes}")
    return 0


# --- generate ------------------------------------------------------------------------------------------------------
def _package(args, root: Path | None):
    """The kernel package ``generate``/``build`` write for ``args`` at ``root`` (None: nothing is written)."""
    from optiforge.build import KernelPackage
    from optiforge.codegen.generate import GENERATED_ROOT

    if root is None or root == GENERATED_ROOT:
        return KernelPackage(root)
    backends = _backends(args) if hasattr(args, "backend") else []
    options = "" if len(backends) != 1 else f" --backend {backends[0]}"
    source = f"the spec folder '{Path(args.specs).name}'" if args.specs else "the optiforge catalogue"
    command = (f"optiforge generate{f' --specs {Path(args.specs).name}' if args.specs else ''} --out {root.name}"
               f"{options}")
    return KernelPackage(root, source, command)


def _backends(args) -> list[str]:
    from optiforge.codegen.generate import BACKENDS

    return list(BACKENDS) if args.backend == "all" else [args.backend]


def _generate(args) -> int:
    from optiforge.build import render, shown_path, written_summary
    from optiforge.codegen.generate import GENERATED_ROOT, OutputError, output_root, stale, write

    backends = _backends(args)
    if args.check:  # read-only: any folder may be compared, the installed package included
        if args.specs and not args.out:
            raise OutputError("--check --specs needs --out DIR: the kernel package to compare")
        root = Path(args.out).resolve() if args.out else GENERATED_ROOT
        files, documents = render(_spec_list(args, register=False), backends, _package(args, root), parser())
        out_of_date = stale(root, backends, files=files, extra=documents)
        for path in out_of_date:
            print(f"stale: {path}")
        _note(f"{root.name}/ is up to date" if not out_of_date else
              f"{len(out_of_date)} generated file(s) differ from the generator: run `optiforge generate`")
        return 1 if out_of_date else 0
    root = output_root(args.out, catalogue=not args.specs)
    if root is None:
        raise OutputError("--specs needs --out DIR: the folder to write the kernel package to" if args.specs else
                          "outside a source checkout there is no default output: pass --out DIR "
                          "(the installed package is never written)")
    files, documents = render(_spec_list(args, register=False), backends, _package(args, root), parser())
    written = write(root, backends, files=files, extra=documents)
    _note(f"wrote {written_summary(written)}" if written else f"{shown_path(root)}/ is up to date")
    return 0


# --- verify --------------------------------------------------------------------------------------------------------
def _claim_list(args) -> list:
    from optiforge import derive
    from optiforge.folders import load_claims, register_specs

    if args.specs:
        register_specs(args.specs)
    return load_claims(args.claims) if args.claims else derive.claims()


def _result_json(result) -> dict:
    claim = result.claim
    return {"name": claim.name, "title": claim.title, "kind": claim.kind, "expected": claim.expected,
            "status": result.status, "verdict": result.verdict, "as_expected": result.as_expected,
            "seconds": round(result.seconds, 3), "specs": list(result.specs), "sources": claim.sources,
            "steps": [{"kind": s.kind, "title": s.title, "status": s.status, "latex": s.latex, "detail": s.detail,
                       "counterexample": s.counterexample} for s in result.steps]}


def _verify(args) -> int:
    from optiforge import specs
    from optiforge.build import run_claims
    from optiforge.claim_selection import select_claims
    from optiforge.derive.report import markdown, table

    start = time.perf_counter()
    selection = select_claims(_claim_list(args), args.names, specs.names())
    if selection.optimizers:
        _note(f"checking {len(selection.run)} claims that may be about {', '.join(sorted(selection.optimizers))}")
    results = [r for r in run_claims(selection.run, _note) if selection.keeps(r)]
    if args.report:
        Path(args.report).write_text(markdown(results), encoding="utf-8")
        _note(f"wrote {args.report}")
    if args.json:
        _json([_result_json(r) for r in results])
    else:
        print(table(results) if results else "no claim reads these optimizers yet")
        print(f"wall time {time.perf_counter() - start:.1f} s")
    return 0 if all(r.as_expected for r in results) else 1


# --- build ---------------------------------------------------------------------------------------------------------
def _build(args) -> int:
    """The staged build of :mod:`optiforge.build`, its summary on stdout and its progress on stderr."""
    from optiforge.build import build
    from optiforge.codegen.generate import output_root

    spec_list = _spec_list(args, register=bool(args.claims))
    root = output_root(args.out, catalogue=not args.specs)  # a folder it may not write: refused before any work
    claims = _claim_list(args) if args.claims or not args.specs else []
    report = build(spec_list, claims, _package(args, root), claims_run=bool(claims),
                   nothing_written="no --out DIR" if args.specs else "outside a source checkout",
                   compare_installed=not args.specs, report_path=args.report, command_parser=parser(),
                   progress=_note)
    for line in report.summary(verbose=args.verbose):
        print(line)
    return 0 if report.ok else 1


# --- gallery -------------------------------------------------------------------------------------------------------
def _gallery(args) -> int:
    from optiforge.build import shown_path
    from optiforge.codegen.documents import source_checkout
    from optiforge.codegen.generate import OutputError, writable_folder

    try:
        import matplotlib  # noqa: F401  (the docs extra)
    except ImportError:
        raise OutputError("optiforge gallery needs matplotlib: pip install 'optiforge[docs]'") from None
    from optiforge import gallery

    if args.out:
        root = writable_folder(args.out)
    else:
        checkout = source_checkout()
        if checkout is None or not Path.cwd().resolve().is_relative_to(checkout):
            raise OutputError("outside a source checkout there is no default output: pass --out DIR")
        root = checkout / "docs" / "gallery"
    for path in gallery.render(root, steps=args.steps, progress=_note):
        print(shown_path(path))
    return 0


# --- the parser ----------------------------------------------------------------------------------------------------
def _add_specs(p, what: str) -> None:
    p.add_argument("--specs", metavar="DIR", help=f"a folder (or file) of your own spec files, each defining SPEC or "
                                                  f"SPECS; {what}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="optiforge", description="Optimizers as verified SymPy specs, compiled to "
                                "NumPy, CuPy and numba kernels. Results go to stdout, progress and messages to stderr.")
    p.add_argument("--version", action="version", version=f"optiforge {__version__}",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = sub.add_parser("list", help="every optimizer with its hyperparameters",
                             description="Every optimizer: name, title, hyperparameters with their defaults.")
    _add_specs(listing, "list those instead of the catalogue")
    listing.add_argument("--json", action="store_true", help="print JSON (name, title, reference, peers, defaults)")
    listing.set_defaults(run=_list)

    show = sub.add_parser("show", help="one optimizer's update equations",
                          description="One optimizer: reference, hyperparameters with domains, state, equations.")
    show.add_argument("name", metavar="NAME", help="the optimizer's name (see `optiforge list`)")
    show.add_argument("--latex", action="store_true", help="equations in LaTeX instead of Unicode")
    show.add_argument("--json", action="store_true", help="print JSON (everything above, equations in both forms)")
    _add_specs(show, "their names can be shown too")
    show.set_defaults(run=_show)

    from optiforge.codegen.generate import BACKENDS

    gen = sub.add_parser("generate", help="write the kernel modules (generated/, or a package of your own)",
                         description="Write the kernel modules: the catalogue's into the checkout's generated/ "
                                     "(and the generated documents), or any specs into the package --out DIR.")
    gen.add_argument("--backend", choices=[*BACKENDS, "all"], default="all", help="which backend (default: all)")
    gen.add_argument("--check", action="store_true",
                     help="write nothing: list the stale files and exit 1 if there are any")
    gen.add_argument("--out", metavar="DIR", help="write the package DIR (DIR/__init__.py, DIR/<backend>/<name>.py); "
                                                  "required outside a source checkout and with --specs")
    _add_specs(gen, "generate those (requires --out)")
    gen.set_defaults(run=_generate)

    ver = sub.add_parser("verify", help="check the derivations (claims)",
                         description="Run derivation claims: each step proved, proved an approximation, or refuted "
                                     "with a counterexample; progress [k/N] on stderr.")
    ver.add_argument("names", nargs="*", metavar="NAME",
                     help="claim names, topics (adam for adam.*), tags, or optimizer names (the claims about that "
                          "optimizer); all claims when omitted")
    ver.add_argument("--report", metavar="FILE.md", help="also write a Markdown report with every step in LaTeX")
    ver.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    ver.add_argument("--claims", metavar="DIR",
                     help="run the claims of your own modules (each defining CLAIMS) instead of the catalogue's")
    _add_specs(ver, "registered first, so that claims can use them by name")
    ver.set_defaults(run=_verify)

    build = sub.add_parser("build", help="validate, verify, generate and self-check (the main job)",
                           description="Validate the specs, run the claims, write the kernels (in a source checkout "
                                       "run from inside it, or to --out DIR; otherwise nothing is written) and "
                                       "check every NumPy kernel against the float64 reference.")
    build.add_argument("--report", metavar="FILE.md", help="also write the derivation report here")
    build.add_argument("--out", metavar="DIR", help="write the kernels to the package DIR")
    build.add_argument("--claims", metavar="DIR", help="run these claim modules instead of the catalogue's")
    _add_specs(build, "build those instead of the catalogue (their claims: --claims)")
    build.add_argument("-v", "--verbose", action="store_true", help="print every kernel's self-check error")
    build.set_defaults(run=_build)

    gallery = sub.add_parser("gallery", help="plot the optimizer families' trajectories (needs matplotlib)",
                             description="Trajectory plots of the catalogue's families on the Rosenbrock function "
                                         "and on a noisy ill-conditioned quadratic (PNG files).")
    gallery.add_argument("--out", metavar="DIR", help="write the PNGs here (default: the checkout's docs/gallery)")
    gallery.add_argument("--steps", type=int, metavar="N",
                         help="steps per trajectory (default: 1000 on Rosenbrock, 300 on the quadratic)")
    gallery.set_defaults(run=_gallery)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from optiforge.codegen.generate import OutputError
    from optiforge.folders import FolderError
    from optiforge.specs import SpecError

    try:
        return args.run(args)
    except KeyError as error:  # unknown names
        _note(f"optiforge: {error.args[0]}")
    except (OutputError, FolderError, SpecError) as error:
        _note(f"optiforge: {error}")
    except BrokenPipeError:  # the reader (e.g. `| head`) left: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
