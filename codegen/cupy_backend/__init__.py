"""CuPy backend: one fused ``cupy.ElementwiseKernel`` per optimizer and arithmetic precision.

* ``printer``: SymPy's C99 printer typed for float32/float64, NaN-faithful max/min/sign, ternary Piecewise.
* ``kernel``: the IR body as ``ElementwiseKernel`` arguments (loads cast to the arithmetic type, stores cast
  back, per-step scalars as kernel arguments computed on the host in float64).
* ``module``: ``generated/cupy/<name>.py`` (same API as the NumPy modules; cupy imported lazily).
* ``compile_check``: nvcc (sm_90, sm_80) on CuPy's exact kernel source, or a documented fallback wrapper.
* ``host_emulation``: the same kernels compiled by g++ and driven by the generated ``step`` through ctypes.

Dtypes. Parameters float32/float64 compute in their own precision; float16 and bfloat16 parameters compute
in float32 and keep their state in float32 (the mixed-precision convention of apex and of the NumPy
backend: a float16 second moment (1 - β₂)g² underflows). The gradient may have any of these dtypes.
bfloat16 arrays are ``ml_dtypes.bfloat16``; CuPy 14.2 generates and compiles bfloat16 kernels (checked
here), whether it accepts bfloat16 arrays at launch is checked only by the GPU tests.
"""
