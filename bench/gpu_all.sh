#!/usr/bin/env bash
# Every check that needs a CUDA device, in one run, for a machine with a GPU (about 6-8 minutes):
#   1. the gpu-marked tests: tests/test_cupy_gpu.py (every generated CuPy kernel x float32/float64/float16/
#      bfloat16 against NumPy and the reference, streams, devices) and tests/test_torch_cuda.py
#      (optiforge.torch on CUDA: training-loop conformance with torch.optim, no host sync, torch's stream,
#      flat mode, half precision);
#   2. bench/cupy_step.py: Adam on 2^28 float32 vs device-to-device copy, torch fused, torch.compile;
#      ResNet-50 shapes flat vs per-tensor vs torch fused;
#   3. bench/torch_step.py --device cuda: the adapter's flat and per-tensor steps vs torch.optim.Adam
#      (default foreach, fused) on the ResNet-50 shapes; per-tensor host time with tiny tensors.
# Results go to $OUT (default bench/out): gpu_tests.txt, results.md (append to bench/RESULTS.md by hand).
# Needs: CUDA-enabled torch 2.13 and cupy-cuda13x (pip install -e ".[test,cuda]" with a CUDA torch).
# Exit status: 0 all passed, 1 a test failed or a stage timed out, 2 no usable CUDA device.
# GPU_ALL_DRY_RUN=1: run the stages even without a device (to check the script itself on a CPU).
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out}
mkdir -p "$OUT"
PYTHON=${PYTHON:-python}
status=0

stage() {  # stage NAME SECONDS COMMAND...: run with a time limit, keep the output, remember a failure
    local name=$1 limit=$2
    shift 2
    echo "=== $name (limit ${limit}s): $*"
    local begin=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.txt"
    local rc=${PIPESTATUS[0]}
    echo "=== $name: exit $rc after $((SECONDS - begin))s"
    [ "$rc" -eq 0 ] || status=1
}

"$PYTHON" - <<'PY' 2>&1 | tee "$OUT/device.txt"
import sys
import torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, available: {torch.cuda.is_available()}")
try:
    import cupy
    count = cupy.cuda.runtime.getDeviceCount()
    print(f"cupy {cupy.__version__}, CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}, devices: {count}")
    for i in range(count):
        print(f"  device {i}: {cupy.cuda.runtime.getDeviceProperties(i)['name'].decode()}")
except Exception as error:
    print(f"cupy unusable: {error}")
    sys.exit(2)
sys.exit(0 if torch.cuda.is_available() else 2)
PY
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
    echo "no usable CUDA device (torch and cupy both needed): nothing measured"
    # GPU_ALL_DRY_RUN=1 runs the stages anyway (tests skip, benchmarks refuse): checks this script on a CPU
    [ "${GPU_ALL_DRY_RUN:-0}" = 1 ] || exit 2
fi

stage gpu_tests 420 "$PYTHON" -m pytest -m gpu -q -rs -p no:cacheprovider tests/test_cupy_gpu.py tests/test_torch_cuda.py
stage cupy_step 120 "$PYTHON" bench/cupy_step.py --repeats 30 --write "$OUT/results.md"
stage torch_step 120 "$PYTHON" bench/torch_step.py --device cuda --rounds 21 --write "$OUT/results.md"
echo "gpu_all.sh: exit $status; tables in $OUT/results.md, test output in $OUT/gpu_tests.txt"
exit $status
