"""The optimizer catalogue: one module per optimizer family, each defining ``SPEC`` or ``SPECS``."""
