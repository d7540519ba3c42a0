"""Every citation of docs/sources/ resolves, and nothing cites a document outside the repository.

A citation is ``docs/sources/<file>`` followed, up to the next ``;`` (or the end of the string, line or table cell),
by section markers (``§1.5, §2.8``, ``§Adam``, ``§3.2.3``), equation numbers (``(4.5)``) and algorithm numbers
(``Algorithm 14``, ``Alg. 14``). Each marker must appear in a heading of the file, and each equation and algorithm
number in the file (docs/sources/README.md explains the convention)."""
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "docs" / "sources"
SKIP_DIRS = {"__pycache__", "build", "dist"}

CITATION = re.compile(r"docs/sources/([\w.\-]+)")
#: where the text about one cited file ends: the next citation, a `;`, the end of a string, code span, line or table cell
SEGMENT_END = re.compile(r"[;\n\"|`]|docs/sources/")
SECTION = re.compile(r"§([0-9]+(?:\.[0-9]+)*[a-z]?|[A-Za-z]\w*)")
EQUATION = re.compile(r"\((\d{1,2}(?:\.\d{1,2})?)\)")
ALGORITHM = re.compile(r"\b(?:Algorithm|Alg\.) ?(\d+)\b")
#: documents outside the repository, and the old citation forms that named them
OUTSIDE = re.compile(r"peer(?:\\?_)semantics|\.\./shared|/work/shared|\b[Ss]eeds? 00\d\b")


def project_files():
    """The project's own .py and .md files (tracked or not), outside dot folders and build outputs."""
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in SKIP_DIRS)
        yield from (Path(folder) / name for name in sorted(names) if name.endswith((".py", ".md")))


def citations():
    """(citing file, line number, cited file name, the text that follows the citation)."""
    for path in project_files():
        text = path.read_text(encoding="utf-8")
        for match in CITATION.finditer(text):
            rest = text[match.end():]
            end = SEGMENT_END.search(rest)
            yield (path.relative_to(ROOT).as_posix(), text.count("\n", 0, match.start()) + 1,
                   match.group(1).rstrip("."), rest[:end.start() if end else len(rest)])


def headings(name: str) -> list[str]:
    return [line for line in (SOURCES / name).read_text(encoding="utf-8").splitlines() if line.startswith("#")]


def test_the_sources_exist():
    expected = {"README.md", "peers.md"} | {f"seed-00{n}.md" for n in range(5)}
    assert expected <= {path.name for path in SOURCES.glob("*.md")}


def test_every_section_of_peers_is_a_heading():
    """The peers.md numbering the code cites (§1.1–§1.10, §2.1–§2.11 with §2.10b, §3.1–§3.2) is all there."""
    wanted = [f"1.{n}" for n in range(11)] + [f"2.{n}" for n in range(1, 12)] + ["2.10b", "3.1", "3.2"]
    text = "\n".join(headings("peers.md"))
    assert not [n for n in wanted if not re.search(rf"§{re.escape(n)}(?![\w.])", text)]


def test_citations_resolve():
    found, broken = 0, []
    for where, line, name, segment in citations():
        found += 1
        if not (SOURCES / name).is_file():
            broken.append(f"{where}:{line}: docs/sources/{name} does not exist")
            continue
        text = (SOURCES / name).read_text(encoding="utf-8")
        titles = "\n".join(headings(name))
        for marker in SECTION.findall(segment):
            if not re.search(rf"§{re.escape(marker)}(?![\w.])", titles):
                broken.append(f"{where}:{line}: no heading §{marker} in docs/sources/{name}")
        for number in EQUATION.findall(segment):
            if f"({number})" not in text:
                broken.append(f"{where}:{line}: no equation ({number}) in docs/sources/{name}")
        for number in ALGORITHM.findall(segment):
            if not re.search(rf"\bAlgorithm {number}\b", text):
                broken.append(f"{where}:{line}: no Algorithm {number} in docs/sources/{name}")
    assert found > 100, "the citations of docs/sources/ were not found"
    assert not broken, "\n".join(broken)


def test_nothing_cites_a_document_outside_the_repository():
    exempt = {Path(__file__).resolve()}
    offending = []
    for path in project_files():
        if path.resolve() in exempt or SOURCES in path.parents:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                offending.append(f"{path.relative_to(ROOT).as_posix()}:{number}: {line.strip()[:120]}")
    assert not offending, "cite docs/sources/ instead:\n" + "\n".join(offending)


@pytest.mark.parametrize("segment, markers", [
    (" §1.5, §2.8", ["1.5", "2.8"]),
    (" §RMSProp/AdaMax (r_i, r_0 = 0)", ["RMSProp"]),
    (" §3.2.3, Algorithm 14", ["3.2.3"]),
    (" §1.4.", ["1.4"]),
])
def test_section_markers_are_read_as_written(segment, markers):
    assert SECTION.findall(segment) == markers
