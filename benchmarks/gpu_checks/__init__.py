"""The checks of benchmarks/gpu_check.py, one module per numbered check (see that script's docstring)."""
