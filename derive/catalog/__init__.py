"""The claim catalogue: one module per topic, each defining ``CLAIMS``."""
