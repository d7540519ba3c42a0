"""Rendering of claim results: the console table and the Markdown report (steps in LaTeX)."""
from __future__ import annotations

import json

from .engine import ClaimResult


def table(results: list[ClaimResult]) -> str:
    """Plain-text table: claim, kind, status (verdict), seconds; a total line."""
    rows = [(r.claim.name, r.claim.kind, r.verdict + ("" if r.as_expected else "  <-- FAIL"), f"{r.seconds:.2f}")
            for r in results]
    header = ("claim", "kind", "status", "seconds")
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(4)]
    line = lambda row: "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
    total = sum(r.seconds for r in results)
    failed = sum(not r.as_expected for r in results)
    out = [line(header), line(tuple("-" * w for w in widths))] + [line(row) for row in rows]
    out.append(f"{len(results)} claims, {failed} not as asserted, {total:.1f} s")
    return "\n".join(out)


def markdown(results: list[ClaimResult]) -> str:
    """The Markdown report: one section per claim with its citation, expectation, and each step in LaTeX."""
    out = ["# optiforge derivation report", "", table_markdown(results), ""]
    for r in results:
        c = r.claim
        out += [f"## `{c.name}` — {c.title}", "",
                f"*Kind:* {c.kind} · *Expected:* {c.expected} · *Outcome:* **{r.verdict}** · {r.seconds:.2f} s  ",
                f"*Sources:* {c.sources}", ""]
        if c.note:
            out += [c.note, ""]
        for i, s in enumerate(r.steps, start=1):
            out += [f"{i}. **{s.kind}** — {s.title} — *{s.status}* ({s.seconds:.2f} s)", "",
                    f"   $$ {s.latex} $$", ""]
            if s.detail:
                out += [f"   {s.detail}", ""]
            if s.counterexample:
                out += ["   Counterexample:", "", "   ```json",
                        *("   " + l for l in json.dumps(s.counterexample, indent=1, default=str).splitlines()),
                        "   ```", ""]
    return "\n".join(out)


def table_markdown(results: list[ClaimResult]) -> str:
    lines = ["| claim | kind | status | seconds |", "|---|---|---|---|"]
    lines += [f"| `{r.claim.name}` | {r.claim.kind} | {r.verdict} | {r.seconds:.2f} |" for r in results]
    return "\n".join(lines)
