"""Compiled helpers that view memory at an address as an array, for the generated segment loops (multi-tensor
steps over ``Tensor.data_ptr()`` addresses). Imports numba: ``numba_support`` imports it when a loop that uses
it compiles.

The caller keeps that memory alive and checked (dtype, size, contiguity, no overlap the loop would misread):
a segment loop trusts its table.
"""
from __future__ import annotations

import numba
from numba import types
from numba.extending import intrinsic

__all__ = ["float32_at", "float64_at"]


@intrinsic
def _pointer(typingctx, address, dtype):
    """``address`` (an int64) as a pointer to ``dtype`` (a numba number type)."""
    target = types.CPointer(dtype.dtype)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(target))

    return target(types.int64, dtype), codegen


# Views start at element lo, so that a loop indexes them from 0: an index numba cannot prove non-negative (one
# running from lo) costs a wraparound test per access, which keeps LLVM from vectorising the loop (6x slower).
@numba.njit
def float32_at(address, lo, hi):
    """Elements ``lo ≤ i < hi`` of the float32 array at ``address``, as a contiguous array (no copy)."""
    return numba.carray(_pointer(address + 4 * lo, numba.float32), hi - lo)


@numba.njit
def float64_at(address, lo, hi):
    """Elements ``lo ≤ i < hi`` of the float64 array at ``address``, as a contiguous array (no copy)."""
    return numba.carray(_pointer(address + 8 * lo, numba.float64), hi - lo)
