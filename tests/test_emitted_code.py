"""The committed modules read like careful hand-written code: the spec's names, no copies, short lines, one
comment per spec assignment, a host condition as a host ``if``."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from optiforge import specs
from optiforge.codegen.emit_common import LINE_WIDTH, wrap_code

GENERATED = Path(__file__).resolve().parent.parent / "generated"
MODULES = sorted(GENERATED.glob("*/*.py"))


def _text(backend: str, name: str) -> str:
    return (GENERATED / backend / f"{name}.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_lines_fit(path):
    long = [line for line in path.read_text(encoding="utf-8").splitlines() if len(line) > LINE_WIDTH]
    assert not long, long[:3]


def test_statements_equal_to_a_spec_temporary_carry_its_name():
    for backend in ("numpy", "numba", "cupy"):
        text = _text(backend, "adabound")
        assert re.search(r"^ +lower = ", text, re.M) and re.search(r"^ +upper = ", text, re.M), backend
    assert re.search(r"^ +mu = ", _text("numpy", "nadam_torch"), re.M)


def test_pass_names_are_numbered_in_order_of_definition():
    for path in sorted(p for p in GENERATED.glob("numpy/*.py") if p.stem != "__init__"):
        defined = re.findall(r"^        ([hc])(\d+) = (?!numpy\.asarray)", path.read_text(encoding="utf-8"), re.M)
        for prefix in "hc":
            numbers = [int(n) for p, n in defined if p == prefix]
            assert numbers == list(range(len(numbers))), (path.name, prefix, numbers)


def test_cupy_kernels_divide_and_store_without_copies():
    for path in sorted(p for p in GENERATED.glob("cupy/*.py") if p.stem != "__init__"):
        text = path.read_text(encoding="utf-8")
        assert "*1.0F/" not in text and "*1.0/" not in text, path.name
        # no declaration that only copies another variable (m_new = x0), except the old value of a state that
        # another state's store overwrites first (AdaDB's g_prev2_new = g_prev1)
        states = {st.name for st in specs.get(path.stem).array_state}
        copies = set(re.findall(r"const (?:float|double|bool) \w+ = (\w+);", text))
        assert copies <= states, (path.name, copies - states)


def test_a_selection_on_a_host_boolean_computes_one_arm():
    body = _text("numpy", "sgd_torch")
    assert "if c0 else" not in body and "if c1 else" not in body
    assert re.search(r"if c0:\n +numpy\.copyto\(_buf0, 0\)\n +else:\n +numpy\.multiply\(theta, weight_decay", body)


@pytest.mark.parametrize("name", ["radam", "adabound", "lookahead_radam_torch", "nadam_torch"])
def test_one_comment_per_spec_assignment(name):
    assignments = len(specs.get(name).assignments)
    numba = _text("numba", name).split("def _loop_float64")[1].split("\n\n\n")[0]
    assert numba.count("# ") - numba.count("#     ") >= assignments  # comments may wrap
    assert len(re.findall(r"^ +# .* ← ", numba, re.M)) == assignments
    cupy = _text("cupy", name).split("'float64'")[1]
    assert len(re.findall(r"^ +/\* .* ← ", cupy, re.M)) == assignments


def test_wrapping_keeps_the_code():
    line = "        c2 = -h7*numpy.sqrt(numpy.maximum(0, -h3*(-h4 - h6)*(-h5 - h6)/(h4*h5*(-h3 - h6)))) + h8*h9*h10"
    wrapped = wrap_code(line, 60)
    assert all(len(piece) <= 60 for piece in wrapped) and len(wrapped) > 1
    assert "".join(piece.strip() for piece in wrapped).replace(" ", "") == \
        f"c2=({line.split(' = ')[1]})".replace(" ", "")


def test_every_backend_is_a_descriptor_rendered_through_the_one_skeleton():
    from optiforge.codegen import __version__
    from optiforge.codegen.generate import BACKENDS, DESCRIPTORS
    from optiforge.runtime.backends import BACKENDS as NAMES

    assert tuple(DESCRIPTORS) == NAMES and all(d.name == name for name, d in DESCRIPTORS.items())
    for name, descriptor in DESCRIPTORS.items():
        assert BACKENDS[name] == descriptor.render
        text = _text(name, "adam")
        assert descriptor.render(specs.get("adam"), __version__) == text
        # the skeleton's order: constants, BACKEND, the backend's definitions, then the four functions
        order = [text.index(s) for s in ("\nNAME = ", "\nSCALAR_STATE = ", f"\nBACKEND = {name!r}\n",
                                          "\ndef array_library():", "\ndef init_state(", "\ndef step(",
                                          "\ndef step_unchecked(")]
        assert order == sorted(order), name
