"""Where the source checkout is: the generator writes ``generated/`` (and the front door the documents, see
:mod:`optiforge.documents`) only in a source checkout."""
from __future__ import annotations

import re
from pathlib import Path

__all__ = ["REPOSITORY_ROOT", "source_checkout"]

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
