"""JAX backend: pure ``jnp`` functions, traceable by ``jax.jit``/``vmap``/``pmap``, printed as a Python module
(the descriptor :data:`~.module.JAX`)."""
