"""Generated jax kernels, one module per spec. DO NOT EDIT: see `optiforge generate`."""
