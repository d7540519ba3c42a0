"""Hard time limits (SIGALRM) for the checks: a check that runs too long is abandoned, never passed."""
from __future__ import annotations

import signal
import time
from contextlib import contextmanager

__all__ = ["CheckTimeout", "time_limit", "RETRY_SECONDS"]

#: After the deadline the alarm repeats this often until the block has left: Python swallows an exception
#: raised while it runs a gc callback or a finalizer (hypothesis installs a gc callback), so a single alarm
#: landing there would let the block run on unlimited.
RETRY_SECONDS = 0.05


class CheckTimeout(BaseException):
    """Raised by SIGALRM; a BaseException so SymPy's internal ``except Exception`` cannot swallow it."""


@contextmanager
def time_limit(seconds: float):
    """Abort the enclosed block with :class:`CheckTimeout` after ``seconds`` (main thread only).

    Nests: an inner limit never extends an outer one, and the outer timer is restored afterwards."""
    def _raise(signum, frame):
        signal.setitimer(signal.ITIMER_REAL, RETRY_SECONDS)  # again, in case this one is swallowed
        raise CheckTimeout(f"timed out after {seconds:g} s")

    outer_remaining = signal.getitimer(signal.ITIMER_REAL)[0]
    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_remaining) if outer_remaining > 0 else seconds)
    try:
        yield
    finally:
        while True:  # a repeated alarm may land here once more
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                break
            except CheckTimeout:
                continue
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining > 0:  # the outer block keeps its own deadline
            signal.setitimer(signal.ITIMER_REAL, max(outer_remaining - (time.monotonic() - start), 1e-3))
