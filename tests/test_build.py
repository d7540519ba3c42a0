"""The staged build driver (``optiforge.build``): its stages and report, on a few catalogue specs written to a
folder of their own (``tests/test_cli.py`` runs the whole ``optiforge build``)."""
from __future__ import annotations

from optiforge import specs
from optiforge.build import KernelPackage, build


def test_a_build_writes_then_finds_the_package_up_to_date_and_self_checks(tmp_path):
    spec_list = [specs.get("sgd"), specs.get("adam")]
    package = KernelPackage(tmp_path / "kernels", "two specs", "optiforge generate --out kernels")
    messages: list[str] = []
    first = build(spec_list, [], package, claims_run=False, progress=messages.append)
    assert first.ok and first.stage == "self-check" and first.claim_results == []
    assert {p.relative_to(package.root).as_posix() for p in first.written} >= {"__init__.py", "numpy/adam.py",
                                                                              "cupy/sgd.py", "numba/adam.py"}
    assert [c.spec for c in first.self_checks] == ["sgd", "adam"] and all(c.ok for c in first.self_checks)
    assert any(m.startswith("rendering 2 specs") for m in messages)
    summary = first.summary()
    assert summary[0].endswith("2 specs validated") and summary[1] == "derivations: none given (--claims DIR)"
    assert "self-check: 2/2 NumPy kernels match" in summary[-2] and summary[-1].startswith("build finished in")
    second = build(spec_list, [], package, claims_run=False)
    assert second.ok and second.written == []
    assert any(line.startswith("generated (numpy, cupy, numba, jax backends): ") and line.endswith("/ is up to date")
               for line in second.summary())


def test_nothing_to_write_says_why(tmp_path):
    report = build([specs.get("sgd")], [], KernelPackage(None), claims_run=False, nothing_written="no --out DIR")
    assert report.ok and report.installed_differ is None
    assert "generated: nothing written (no --out DIR; --out DIR writes the kernels there)" in report.summary()
