"""The generated catalogue page covers every spec and is up to date."""
from pathlib import Path

from optiforge import specs
from optiforge.catalog_docs import claims_for, render_catalog

DOC = Path(__file__).resolve().parents[1] / "docs" / "optimizers.md"


def test_catalogue_is_complete():
    names = specs.names()
    assert len(names) > 30
    page = render_catalog()
    for name in names:
        assert f"## `{name}`" in page
    adam_claims = "\n".join(claims_for("adam"))
    assert "spec_identities.adamw_zero_decay" in adam_claims and "(proved)" in adam_claims
    for excluded in ("LAMB", "LARS", "Adafactor", "NovoGrad"):
        assert excluded in page


def test_every_spec_names_its_reference_and_source():
    for spec in specs.all_specs():
        assert spec.reference and spec.source, spec.name


def test_docs_page_is_generated_from_the_specs():
    assert DOC.read_text(encoding="utf-8") == render_catalog(), \
        "docs/optimizers.md is stale: run `optiforge build`"
