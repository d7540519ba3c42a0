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
import difflib
import json
import os
import sys
import time
from pathlib import Path

from optiforge import __version__

#: Max relative error of a generated float64 kernel against the reference after 20 steps.
SELF_CHECK_TOLERANCE = 1e-10


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
def _documents() -> dict[Path, str]:
    """The checkout's generated documents: the README's optimizer table and docs/api.md (none when installed)."""
    from optiforge.codegen.documents import documents, source_checkout

    checkout = source_checkout()
    if checkout is None:
        return {}
    from optiforge.api_docs import render_api

    return {**documents(checkout), checkout / "docs" / "api.md": render_api()}


def _kernel_files(args, root: Path | None, backends: list[str], spec_list=None) -> tuple[dict, dict]:
    """(kernel files relative to ``root``, documents) that ``generate``/``build`` write for ``args`` (the specs:
    ``spec_list``, default those of ``args``); with ``root=None`` the modules alone (what ``build`` checks when
    it writes nothing)."""
    from optiforge.codegen.generate import GENERATED_ROOT, render_package

    spec_list = _spec_list(args, register=False) if spec_list is None else spec_list
    if root is None or root == GENERATED_ROOT:
        return render_package(spec_list, backends), (_documents() if root is not None else {})
    options = "" if len(backends) > 1 else f" --backend {backends[0]}"
    source = f"the spec folder '{Path(args.specs).name}'" if args.specs else "the optiforge catalogue"
    command = (f"optiforge generate{f' --specs {Path(args.specs).name}' if args.specs else ''} --out {root.name}"
               f"{options}")
    return render_package(spec_list, backends, package=root.name, source=source, command=command), {}


def _backends(args) -> list[str]:
    from optiforge.codegen.generate import BACKENDS

    return list(BACKENDS) if args.backend == "all" else [args.backend]


def _generate(args) -> int:
    from optiforge.codegen.generate import GENERATED_ROOT, OutputError, output_root, stale, write

    backends = _backends(args)
    if args.check:  # read-only: any folder may be compared, the installed package included
        if args.specs and not args.out:
            raise OutputError("--check --specs needs --out DIR: the kernel package to compare")
        root = Path(args.out).resolve() if args.out else GENERATED_ROOT
        files, extra = _kernel_files(args, root, backends)
        out_of_date = stale(root, backends, files=files, extra=extra)
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
    files, extra = _kernel_files(args, root, backends)
    written = write(root, backends, files=files, extra=extra)
    _note(f"wrote {_written(written)}" if written else f"{_shown(root)}/ is up to date")
    return 0


def _written(paths: list[Path]) -> str:
    shown = [_shown(p) for p in paths]
    return f"{len(shown)} file(s): {', '.join(shown[:4])}{', …' if len(shown) > 4 else ''}"


# --- verify --------------------------------------------------------------------------------------------------------
def _claim_list(args) -> list:
    from optiforge import derive
    from optiforge.folders import load_claims, register_specs

    if args.specs:
        register_specs(args.specs)
    return load_claims(args.claims) if args.claims else derive.claims()


def _select(claims: list, names: list[str]) -> tuple[list, set[str], set[str]]:
    """(claims to run, claim names chosen directly, optimizer names): a name is a claim's name, its topic
    (``adam`` for ``adam.*``), a tag, or an optimizer's name (the claims that read or declare that spec, known
    once they ran). An unknown name raises ``KeyError`` with the closest names."""
    from optiforge import specs

    def matches(name, claim):
        return name == claim.name or name in claim.tags or claim.name.startswith(name + ".")

    direct = {c.name for c in claims for n in names if matches(n, c)}
    optimizers = {n for n in names if n in specs.names()}
    unknown = [n for n in names if n not in optimizers and not any(matches(n, c) for c in claims)]
    if unknown:
        candidates = sorted({c.name for c in claims} | {c.name.split(".")[0] for c in claims}
                            | {t for c in claims for t in c.tags} | set(specs.names()))
        hints = []
        for n in unknown:
            close = difflib.get_close_matches(n, candidates, n=3, cutoff=0.6)
            hints.append(f"{n!r}" + (f" (did you mean {', '.join(map(repr, close))}?)" if close else ""))
        raise KeyError(f"no claim, topic, tag or optimizer matches {', '.join(hints)} (see `optiforge list`)")
    run = claims if optimizers or not names else [c for c in claims if c.name in direct]
    return run, direct, optimizers


def _run_claims(claims: list) -> list:
    """Run each claim (cached per process), reporting ``[k/N]`` on stderr as each one finishes."""
    from optiforge import derive

    results, width = [], len(str(len(claims)))
    for k, claim in enumerate(claims, start=1):
        result = derive.result_of(claim)
        results.append(result)
        _note(f"[{k:>{width}}/{len(claims)}] {claim.name}: {result.verdict}"
              f"{'' if result.as_expected else '  <-- FAIL'} ({result.seconds:.2f} s)")
    return results


def _result_json(result) -> dict:
    claim = result.claim
    return {"name": claim.name, "title": claim.title, "kind": claim.kind, "expected": claim.expected,
            "status": result.status, "verdict": result.verdict, "as_expected": result.as_expected,
            "seconds": round(result.seconds, 3), "specs": list(result.specs), "sources": claim.sources,
            "steps": [{"kind": s.kind, "title": s.title, "status": s.status, "latex": s.latex, "detail": s.detail,
                       "counterexample": s.counterexample} for s in result.steps]}


def _verify(args) -> int:
    from optiforge.derive.report import markdown, table

    start = time.perf_counter()
    run, direct, optimizers = _select(_claim_list(args), args.names)
    if optimizers:
        _note(f"checking {len(run)} claims for those about {', '.join(sorted(optimizers))}")
    results = [r for r in _run_claims(run) if not args.names or r.claim.name in direct or optimizers & set(r.specs)]
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
    from optiforge.codegen.generate import BACKENDS, GENERATED_ROOT, load_module, output_root, stale, write
    from optiforge.codegen.selfcheck import compare_with_reference
    from optiforge.derive.report import markdown, table

    start = time.perf_counter()
    spec_list = _spec_list(args, register=bool(args.claims))
    print(f"optiforge {__version__}: {len(spec_list)} specs validated")

    claims = _claim_list(args) if args.claims or not args.specs else []
    results = _run_claims(claims)
    failed = [r for r in results if not r.as_expected]
    if args.report:
        Path(args.report).write_text(markdown(results), encoding="utf-8")
        _note(f"wrote {args.report}")
    if failed:
        print(table(failed))
        print(f"derivation checks failed: {len(failed)} of {len(results)} claims not as asserted")
        return 1
    print(f"derivations: {len(results)} claims as asserted" if claims else
          "derivations: none given (--claims DIR)")

    backends, failures = list(BACKENDS), 0
    root = output_root(args.out, catalogue=not args.specs)
    _note(f"rendering {len(spec_list)} specs for the {', '.join(backends)} backends …")
    files, extra = _kernel_files(args, root, backends, spec_list)
    if root is not None:
        written = write(root, backends, files=files, extra=extra)
        print(f"generated ({', '.join(backends)} backends): " + (f"wrote {_written(written)}" if written else
                                                                 f"{_shown(root)}/ is up to date"))
        if root == GENERATED_ROOT:  # the checkout: the catalogue page lists the claims just run
            from optiforge.catalog_docs import render_catalog
            from optiforge.codegen.documents import source_checkout

            page = source_checkout() / "docs" / "optimizers.md"
            text = render_catalog(results)
            if page.parent.is_dir() and (not page.is_file() or page.read_text(encoding="utf-8") != text):
                page.write_text(text, encoding="utf-8")
                print(f"wrote {_shown(page)}")
    else:
        print(f"generated: nothing written ({'no --out DIR' if args.specs else 'outside a source checkout'}; "
              "--out DIR writes the kernels there)")
        if not args.specs:  # the installed kernels must be what this generator writes
            differ = stale(GENERATED_ROOT, backends, files=files, extra={})
            failures += bool(differ)
            print("installed kernels: " + ("up to date" if not differ else
                                           f"{len(differ)} file(s) differ: {', '.join(differ[:5])}"))

    _note(f"self-checking {len(spec_list)} NumPy kernels against the reference …")
    off = 0
    for spec in spec_list:
        kernel = load_module(spec, text=files[Path("numpy") / f"{spec.name}.py"])
        error = compare_with_reference(spec, kernel, steps=20, size=257, seed=1)
        ok = error <= SELF_CHECK_TOLERANCE
        off += not ok
        if not ok or args.verbose:
            print(f"  {'ok  ' if ok else 'FAIL'} {spec.name:28s} max relative error {error:.1e}")
    print(f"self-check: {len(spec_list) - off}/{len(spec_list)} NumPy kernels match the reference (float64, "
          f"20 steps, tolerance {SELF_CHECK_TOLERANCE:g})")
    print(f"build finished in {time.perf_counter() - start:.1f} s")
    return 1 if failures or off else 0


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when inside it (no machine paths in logs), else as is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


# --- gallery -------------------------------------------------------------------------------------------------------
def _gallery(args) -> int:
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
        print(_shown(path))
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
