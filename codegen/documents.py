"""Documents generated from the specs: the optimizer table in README.md (between markers)."""
from __future__ import annotations

import re
from pathlib import Path

from optiforge import specs

__all__ = ["REPOSITORY_ROOT", "render_optimizer_table", "documents"]

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
_TABLE = re.compile(r"(<!-- optimizers:begin -->\n).*?(<!-- optimizers:end -->)", re.S)


def render_optimizer_table() -> str:
    rows = [f"| `{s.name}` | {s.title} | {s.reference} | {', '.join(s.peers) or '—'} |".replace("\n", " ")
            for s in specs.all_specs()]
    return "\n".join(["| name | optimizer | reference | matches |", "|---|---|---|---|", *rows]) + "\n"


def documents(root: Path = REPOSITORY_ROOT) -> dict[Path, str]:
    """Path → the text it should have (only documents that exist in this checkout)."""
    out = {}
    readme = root / "README.md"
    if readme.is_file():
        text = readme.read_text()
        out[readme] = _TABLE.sub(lambda m: m.group(1) + render_optimizer_table() + m.group(2), text)
    return out
