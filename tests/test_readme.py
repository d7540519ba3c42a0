"""The README's worked example runs, and its optimizer table lists the whole catalogue."""
import re
import subprocess
import sys
from pathlib import Path

from optiforge import specs

README = (Path(__file__).parent.parent / "README.md").read_text()


def _run(code: str):
    # A subprocess, so that registering an example spec cannot leak into the other tests' registry.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr
    return out


def test_every_python_block_runs():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 2
    for block in blocks:
        _run(block)


def test_worked_example_runs():
    example = re.search(r"## Defining a new optimizer.*?```python\n(.*?)```", README, re.S).group(1)
    out = _run(example)
    values = [float(x) for x in out.stdout.strip("[]\n ").split()]
    assert values[2] == 0 and abs(values[0] + 0.7) < 0.01 and abs(values[4] - 0.7) < 0.01


def test_table_lists_every_optimizer():
    for name in specs.names():
        assert f"| `{name}` |" in README, name


def test_readme_opens_with_the_two_ci_commands():
    first_block = README.split("```")[1].strip().splitlines()[1:]
    assert first_block[0].endswith("optiforge build") and "pytest" in first_block[1]
