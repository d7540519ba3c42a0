"""NumPy backend: ufunc programs over cache-sized blocks, printed as a Python module."""
