"""Every claim of the derivation catalogue runs in CI and must come out as it asserts."""
import re

import pytest

from optiforge import specs

from optiforge import derive
from optiforge.derive.engine import FAILS, HOLDS, REFUTED

CLAIMS = derive.claims()


def test_claims_are_well_formed():
    names = [c.name for c in CLAIMS]
    assert len(names) == len(set(names))
    for c in CLAIMS:
        assert c.expected in (HOLDS, FAILS) and c.sources and c.kind


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.name for c in CLAIMS])
def test_claim_outcome_as_asserted(claim):
    result = derive.result_of(claim)
    assert result.as_expected, f"{claim.name}: {result.verdict}\n" + "\n".join(
        f"  {s.kind} {s.title}: {s.status} — {s.detail}" for s in result.steps)
    if claim.expected == FAILS:  # a refutation carries its evidence
        refuting = [s for s in result.steps if s.status == REFUTED]
        assert refuting and all(s.detail for s in refuting)
        for s in refuting:
            if s.counterexample and "floats" in s.counterexample:
                first, second = s.counterexample["floats"]
                assert abs(first - second) > 1e-12


def test_declared_specs_exist():
    known = set(specs.names())
    for c in CLAIMS:
        assert set(c.specs) <= known, f"{c.name}: unknown specs {set(c.specs) - known}"


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.name for c in CLAIMS])
def test_a_spec_named_in_the_title_is_attributed(claim):
    """A claim whose title says "spec `x`" is listed on x's catalogue entry (recorded or declared)."""
    named = set(re.findall(r"spec `([A-Za-z0-9_]+)`", claim.title))
    assert named <= set(derive.result_of(claim.name).specs), claim.name
