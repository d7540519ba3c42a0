import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


_SUMMARY: list[str] = []


@pytest.fixture
def report_line():
    """Append a line to the summary printed at the end of the run (campaign figures and their seeds)."""
    return _SUMMARY.append


def pytest_terminal_summary(terminalreporter):
    if _SUMMARY:
        terminalreporter.section("differential and fuzz campaigns")
        for line in _SUMMARY:
            terminalreporter.write_line(line)
