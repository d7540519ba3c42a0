"""Every claim of the derivation catalogue runs in CI and must come out as it asserts."""
import pytest

import derive
from derive.engine import FAILS, HOLDS, REFUTED

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
