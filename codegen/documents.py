"""Documents generated from the specs: the optimizer table in README.md (between markers)."""
from __future__ import annotations

import re
from pathlib import Path

from optiforge import specs

__all__ = ["REPOSITORY_ROOT", "source_checkout", "render_optimizer_table", "documents"]

#: the checkout's root in a source checkout (editable install); the installed ``optiforge/`` folder otherwise
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
_PROJECT_NAME = re.compile(r'^name\s*=\s*"optiforge"', re.M)


def source_checkout() -> Path | None:
    """The repository root when optiforge runs from a source checkout (its ``pyproject.toml`` and the catalogue
    beside this package), else ``None`` (an installed wheel: nothing there is a document to rewrite)."""
    pyproject = REPOSITORY_ROOT / "pyproject.toml"
    if (REPOSITORY_ROOT / "optiforge" / "__init__.py").is_file() and pyproject.is_file() \
            and _PROJECT_NAME.search(pyproject.read_text(encoding="utf-8")):
        return REPOSITORY_ROOT
    return None


_TABLE = re.compile(r"(<!-- optimizers:begin -->\n).*?(<!-- optimizers:end -->)", re.S)


def render_optimizer_table() -> str:
    rows = [f"| `{s.name}` | {s.title} | {s.reference} | {', '.join(s.peers) or '—'} |".replace("\n", " ")
            for s in specs.all_specs()]
    return "\n".join(["| name | optimizer | reference | matches |", "|---|---|---|---|", *rows]) + "\n"


def documents(root: Path | None = None) -> dict[Path, str]:
    """Path → the text it should have: the README's optimizer table (in a source checkout only)."""
    root = root or source_checkout()
    out = {}
    readme = root / "README.md" if root else None
    if readme and readme.is_file():
        text = readme.read_text(encoding="utf-8")
        out[readme] = _TABLE.sub(lambda m: m.group(1) + render_optimizer_table() + m.group(2), text)
    return out
