"""Every document the build writes, rendered in this one place: the README's optimizer table,
``docs/api.md`` (:mod:`optiforge.api_docs`) and ``docs/optimizers.md`` (:mod:`optiforge.catalog_docs`, with the
claims' verdicts). Only a source checkout has documents to write; installed, there are none.
"""
from __future__ import annotations

import re
from pathlib import Path

from optiforge import specs
from optiforge.api_docs import render_api
from optiforge.catalog_docs import render_catalog
from optiforge.codegen.documents import source_checkout

__all__ = ["render_optimizer_table", "generated_documents", "catalogue_page"]

_TABLE = re.compile(r"(<!-- optimizers:begin -->\n).*?(<!-- optimizers:end -->)", re.S)


def render_optimizer_table() -> str:
    """The README's table of the catalogue (between its ``optimizers:begin``/``end`` markers)."""
    rows = [f"| `{s.name}` | {s.title} | {s.reference} | {', '.join(s.peers) or '—'} |".replace("\n", " ")
            for s in specs.all_specs()]
    return "\n".join(["| name | optimizer | reference | matches |", "|---|---|---|---|", *rows]) + "\n"


def generated_documents(command_parser) -> dict[Path, str]:
    """Path → the text it should have, for the documents ``optiforge generate`` writes and ``--check``
    compares: the README's optimizer table and ``docs/api.md`` (its command line section from
    ``command_parser``). Empty outside a source checkout."""
    checkout = source_checkout()
    if checkout is None:
        return {}
    out = {}
    readme = checkout / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        out[readme] = _TABLE.sub(lambda m: m.group(1) + render_optimizer_table() + m.group(2), text)
    out[checkout / "docs" / "api.md"] = render_api(command_parser)
    return out


def catalogue_page(claim_results) -> dict[Path, str]:
    """``docs/optimizers.md`` with the verdicts of ``claim_results`` (``optiforge build`` writes it after the
    claims ran); empty outside a source checkout or without its ``docs/`` folder."""
    checkout = source_checkout()
    page = checkout / "docs" / "optimizers.md" if checkout is not None else None
    if page is None or not page.parent.is_dir():
        return {}
    return {page: render_catalog(claim_results)}
