"""The build, stage by stage: validate → verify → render → write → self-check, returning a :class:`BuildReport`.

``optiforge build`` runs :func:`build` and prints :meth:`BuildReport.summary`; ``optiforge generate`` runs the
render stage alone (:func:`render`). The stages:

1. **validate**: the specs come validated (``optiforge.specs`` or :func:`optiforge.folders.load_specs`);
2. **verify**: every claim runs (``derive.result_of``, cached per process); a claim not as asserted stops the
   build here;
3. **render**: every kernel module of every backend, and, for the checkout's ``generated/``, the documents
   (:mod:`optiforge.documents`);
4. **write**: into the output folder (only files whose text changed), then ``docs/optimizers.md`` with the
   verdicts just computed; with nothing to write to, the installed kernels are compared with the render instead;
5. **self-check**: every NumPy kernel, built from the text just rendered, against the float64 reference.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from optiforge import __version__, derive
from optiforge.codegen.generate import (BACKENDS, GENERATED_ROOT, load_module, render_package, stale,
                                        write)
from optiforge.codegen.selfcheck import compare_with_reference
from optiforge.derive.report import markdown, table
from optiforge.documents import catalogue_page, generated_documents

__all__ = ["SELF_CHECK_TOLERANCE", "KernelPackage", "SelfCheck", "BuildReport", "render", "run_claims", "build",
           "shown_path", "written_summary"]

#: Max relative error of a generated float64 kernel against the reference after 20 steps.
SELF_CHECK_TOLERANCE = 1e-10


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when inside it (no machine paths in logs), else as is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


def written_summary(paths) -> str:
    """``N file(s): a, b, c, d, …`` for the files a stage wrote."""
    shown = [shown_path(p) for p in paths]
    return f"{len(shown)} file(s): {', '.join(shown[:4])}{', …' if len(shown) > 4 else ''}"


@dataclass(frozen=True)
class KernelPackage:
    """Where kernels go and what their package says of itself: ``root`` (None: nothing is written); a user
    package (``source``, and the ``command`` that rewrites it, for its ``__init__.py``) unless ``root`` is the
    checkout's ``generated/`` or None."""

    root: Path | None
    source: str = "the optiforge catalogue"
    command: str = "optiforge generate"

    @property
    def catalogue(self) -> bool:
        """The catalogue's own package, ``optiforge.generated`` (written or, with ``root=None``, compared)."""
        return self.root is None or self.root == GENERATED_ROOT


def render(spec_list, backends, package: KernelPackage, command_parser=None) -> tuple[dict, dict]:
    """(kernel files relative to ``package.root``, documents path → text): the render stage. The documents are
    those of the checkout's ``generated/`` (the README's table and ``docs/api.md``, from ``command_parser``)
    and only when that is where the kernels are written."""
    if package.catalogue:
        files = render_package(spec_list, backends)
        written_here = package.root is not None and command_parser is not None
        return files, (generated_documents(command_parser) if written_here else {})
    return render_package(spec_list, backends, package=package.root.name, source=package.source,
                          command=package.command), {}


def run_claims(claims, progress: Callable[[str], None]) -> list:
    """The verify stage: run each claim (cached per process), reporting ``[k/N] name: verdict`` to ``progress``
    as each one finishes."""
    results, width = [], len(str(len(claims)))
    for k, claim in enumerate(claims, start=1):
        result = derive.result_of(claim)
        results.append(result)
        progress(f"[{k:>{width}}/{len(claims)}] {claim.name}: {result.verdict}"
                 f"{'' if result.as_expected else '  <-- FAIL'} ({result.seconds:.2f} s)")
    return results


@dataclass(frozen=True)
class SelfCheck:
    """One NumPy kernel against the reference: max relative error over 20 float64 steps."""

    spec: str
    error: float

    @property
    def ok(self) -> bool:
        return self.error <= SELF_CHECK_TOLERANCE


@dataclass
class BuildReport:
    """What each stage did. ``stage`` is the last stage that ran (``verify`` when a claim failed)."""

    specs: tuple[str, ...]
    claims_run: bool
    package: KernelPackage
    backends: tuple[str, ...] = ()
    stage: str = "validate"
    claim_results: list = field(default_factory=list)
    #: kernel files and documents written (write stage); the catalogue page, when rewritten
    written: list = field(default_factory=list)
    catalogue_page: Path | None = None
    #: installed kernels that differ from the render (only when nothing was written and the specs are the
    #: catalogue's); None when not compared
    installed_differ: list | None = None
    #: why nothing was written (``package.root`` None)
    nothing_written: str = ""
    self_checks: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed_claims(self) -> list:
        return [r for r in self.claim_results if not r.as_expected]

    @property
    def ok(self) -> bool:
        return (not self.failed_claims and not self.installed_differ and self.stage == "self-check"
                and all(c.ok for c in self.self_checks))

    def summary(self, verbose: bool = False) -> list[str]:
        """The lines ``optiforge build`` prints (stdout): one per stage, then the build time."""
        lines = [f"optiforge {__version__}: {len(self.specs)} specs validated"]
        failed = self.failed_claims
        if failed:
            return lines + [table(failed), f"derivation checks failed: {len(failed)} of {len(self.claim_results)} "
                                           "claims not as asserted"]
        lines.append(f"derivations: {len(self.claim_results)} claims as asserted" if self.claims_run else
                     "derivations: none given (--claims DIR)")
        root = self.package.root
        if root is not None:
            lines.append(f"generated ({', '.join(self.backends)} backends): " +
                         (f"wrote {written_summary(self.written)}" if self.written else
                          f"{shown_path(root)}/ is up to date"))
            if self.catalogue_page is not None:
                lines.append(f"wrote {shown_path(self.catalogue_page)}")
        else:
            lines.append(f"generated: nothing written ({self.nothing_written}; --out DIR writes the kernels there)")
            if self.installed_differ is not None:
                differ = self.installed_differ
                lines.append("installed kernels: " + ("up to date" if not differ else
                                                      f"{len(differ)} file(s) differ: {', '.join(differ[:5])}"))
        for check in self.self_checks:
            if not check.ok or verbose:
                lines.append(f"  {'ok  ' if check.ok else 'FAIL'} {check.spec:28s} max relative error "
                             f"{check.error:.1e}")
        good = sum(c.ok for c in self.self_checks)
        lines.append(f"self-check: {good}/{len(self.self_checks)} NumPy kernels match the reference (float64, "
                     f"20 steps, tolerance {SELF_CHECK_TOLERANCE:g})")
        lines.append(f"build finished in {self.seconds:.1f} s")
        return lines


def build(spec_list, claims, package: KernelPackage, *, claims_run: bool = True, nothing_written: str = "",
          compare_installed: bool = False, report_path: str | Path | None = None, command_parser=None,
          progress: Callable[[str], None] = lambda message: None) -> BuildReport:
    """Run the stages for ``spec_list`` (validated) and ``claims``: see the module docstring. ``claims_run``:
    whether claims were given at all (the summary says so); ``nothing_written``: why, when ``package.root`` is
    None; ``compare_installed``: then compare the installed kernels with the render; ``report_path``: also write
    the claims' Markdown report there; ``command_parser``: the CLI's parser, for ``docs/api.md``;
    ``progress``: stderr-style messages while the stages run."""
    start = time.perf_counter()
    report = BuildReport(tuple(s.name for s in spec_list), claims_run, package, tuple(BACKENDS),
                         nothing_written=nothing_written)

    report.stage = "verify"
    report.claim_results = run_claims(claims, progress)
    if report_path:
        Path(report_path).write_text(markdown(report.claim_results), encoding="utf-8")
        progress(f"wrote {report_path}")
    if report.failed_claims:
        report.seconds = time.perf_counter() - start
        return report

    report.stage = "render"
    progress(f"rendering {len(spec_list)} specs for the {', '.join(report.backends)} backends …")
    files, documents = render(spec_list, report.backends, package, command_parser)

    report.stage = "write"
    if package.root is not None:
        report.written = write(package.root, report.backends, files=files, extra=documents)
        if package.root == GENERATED_ROOT:  # the checkout: the catalogue page lists the claims just run
            for page, text in catalogue_page(report.claim_results).items():
                if not page.is_file() or page.read_text(encoding="utf-8") != text:
                    page.write_text(text, encoding="utf-8")
                    report.catalogue_page = page
    elif compare_installed:  # the installed kernels must be what this generator writes
        report.installed_differ = stale(GENERATED_ROOT, report.backends, files=files, extra={})

    report.stage = "self-check"
    progress(f"self-checking {len(spec_list)} NumPy kernels against the reference …")
    for spec in spec_list:
        kernel = load_module(spec, text=files[Path("numpy") / f"{spec.name}.py"])
        report.self_checks.append(SelfCheck(spec.name, compare_with_reference(spec, kernel, steps=20, size=257,
                                                                              seed=1)))
    report.seconds = time.perf_counter() - start
    return report
