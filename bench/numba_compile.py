"""JIT compile time of every generated numba loop (each spec x float32/float64): cold, then loaded from the
disk cache by a second process.

Each measurement runs in a fresh process with its own empty ``NUMBA_CACHE_DIR`` (a temporary directory), so
the user's cache is neither read nor written. ``--serial`` also compiles with ``parallel=False`` for
comparison (the cost of numba's parallel transformation).

Run from the repository root::

    python bench/numba_compile.py            # all specs, ~1-2 min on 2 cores
    python bench/numba_compile.py --names adam lion --serial
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import importlib, json, sys, time
sys.path.insert(0, {root!r})
start = time.perf_counter()
from optiforge.runtime import numba_support as _numba_runtime
_numba_runtime.COMPILE_OPTIONS["parallel"] = {parallel}
_numba_runtime.numba_module()
imported = time.perf_counter() - start
for name in {names!r}:
    module = importlib.import_module(f"optiforge.generated.numba.{{name}}")
    for loop in module.LOOPS.values():
        _numba_runtime.compiled(loop)
print(json.dumps({{"import_seconds": imported, "log": [r._asdict() for r in _numba_runtime.compile_log()]}}))
"""


def measure(names, cache: str, parallel: bool = True) -> dict:
    env = os.environ | {"NUMBA_CACHE_DIR": cache}
    code = _CHILD.format(root=str(ROOT), names=list(names), parallel=parallel)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


def summary(label: str, result: dict) -> None:
    seconds = [r["seconds"] for r in result["log"]]
    cached = sum(r["cached"] for r in result["log"])
    print(f"{label:<34s} {len(seconds):4d} loops ({cached:3d} from cache)  min {min(seconds):.4f}  median "
          f"{statistics.median(seconds):.4f}  max {max(seconds):.4f}  total {sum(seconds):7.2f} s"
          f"  (import numba {result['import_seconds']:.2f} s)")


def main(argv=None) -> None:
    sys.path.insert(0, str(ROOT))
    from optiforge import specs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="*", help="specs to compile (default: all)")
    parser.add_argument("--serial", action="store_true", help="also compile with parallel=False")
    args = parser.parse_args(argv)
    names = args.names or specs.names()
    print(f"load average {os.getloadavg()[0]:.2f}; {len(names)} specs x 2 precisions, seconds per loop")
    with tempfile.TemporaryDirectory() as cache:
        cold = measure(names, cache)
        summary("cold (compiled, parallel=True)", cold)
        summary("second process (from the cache)", measure(names, cache))
    slowest = sorted(cold["log"], key=lambda r: -r["seconds"])[:3]
    print("slowest to compile: " + ", ".join(f"{r['loop'].split('.')[-2]} {r['precision']} {r['seconds']:.2f} s"
                                             for r in slowest))
    if args.serial:
        with tempfile.TemporaryDirectory() as cache:
            summary("cold (compiled, parallel=False)", measure(names, cache, parallel=False))
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
