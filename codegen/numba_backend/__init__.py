"""numba backend: one compiled loop over flat arrays per optimizer and arithmetic precision."""
