#!/usr/bin/env bash
# GPU device check for FastInfer (issue 8). On a Linux machine with an NVIDIA GPU and the .NET SDK:
#   1. builds the tests (Release),
#   2. runs the GPU tests (Tests/Gpu) on the real CUDA device instead of ILGPU's CPU accelerator,
#   3. benchmarks GPU vs CPU in one process, alternating: SGEMM 4096³ (TFLOP/s, kernel only), ResNet-18 at
#      batch 1 and 32, MiniLM at batch 1 and 32 (sequence 128), the seed's 1000×1000 CNN at batch 1,
# and writes one JSON summary (default: gpu-check.json; override with $1). Each stage has its own time limit
# so the whole run stays under 8 minutes; a stage that fails or is missing (no GPU, no model file, an
# operator the runtime lacks) is recorded in the JSON and the script goes on.
set -u
cd "$(dirname "$0")/.."
OUT="${1:-gpu-check.json}"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
START=$(date +%s)
BUILD_LIMIT=${GPU_CHECK_BUILD_LIMIT:-200}
TEST_LIMIT=${GPU_CHECK_TEST_LIMIT:-90}
BENCH_LIMIT=${GPU_CHECK_BENCH_LIMIT:-180}
# Set GPU_CHECK_SKIP_BUILD=1 to reuse an existing Release build of Tests.

json_str() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr '\n\t' '  '; }
elapsed() { echo $(( $(date +%s) - START )); }

GPU_INFO="none"
if command -v nvidia-smi >/dev/null 2>&1; then
  GPU_INFO="$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -n 4)"
else
  GPU_INFO="nvidia-smi not found"
fi
DOTNET_INFO="$(dotnet --version 2>&1 || echo 'dotnet not found')"

# 1. build
BUILD_STATUS="ok"
if [ "${GPU_CHECK_SKIP_BUILD:-0}" = "1" ]; then
  BUILD_STATUS="ok"   # reuse the existing Release build
else
  timeout "$BUILD_LIMIT" dotnet build Tests -c Release -nologo -v q > "$WORK/build.log" 2>&1
  rc=$?
  if [ $rc -eq 124 ]; then BUILD_STATUS="timed out after ${BUILD_LIMIT}s"
  elif [ $rc -ne 0 ]; then BUILD_STATUS="failed (exit $rc): $(grep -m 3 -E ' error ' "$WORK/build.log" | tr '\n' ' ')"
  fi
fi

# 2. GPU tests on the CUDA device
TEST_STATUS="not run"
TEST_SUMMARY=""
if [ "$BUILD_STATUS" = "ok" ]; then
  if FASTINFER_GPU_TEST_ACCELERATOR=cuda timeout "$TEST_LIMIT" dotnet test Tests -c Release --no-build -nologo \
       --filter "FullyQualifiedName~FastInfer.Tests.Gpu&FullyQualifiedName!~GpuBenchmarkReport" > "$WORK/test.log" 2>&1; then
    TEST_STATUS="passed"
  else
    TEST_STATUS="failed (exit $?)"
  fi
  TEST_SUMMARY="$(grep -E '^(Passed|Failed)!' "$WORK/test.log" | tail -n 1)"
  FAILED_TESTS="$(grep -E '^\s+Failed ' "$WORK/test.log" | head -n 10 | sed 's/^ *//')"
fi

# 3. benchmarks (an xunit fact that only runs when FASTINFER_GPU_BENCH_JSON is set)
BENCH_STATUS="not run"
if [ "$BUILD_STATUS" = "ok" ]; then
  if FASTINFER_GPU_TEST_ACCELERATOR=cuda FASTINFER_GPU_BENCH_JSON="$WORK/bench.json" timeout "$BENCH_LIMIT" \
       dotnet test Tests -c Release --no-build -nologo --filter "FullyQualifiedName~GpuBenchmarkReport" > "$WORK/bench.log" 2>&1; then
    BENCH_STATUS="ok"
  else
    BENCH_STATUS="failed or timed out after ${BENCH_LIMIT}s (exit $?)"
  fi
fi
[ -s "$WORK/bench.json" ] || echo '{}' > "$WORK/bench.json"

{
  printf '{\n'
  printf '  "gpu": "%s",\n' "$(json_str "$GPU_INFO")"
  printf '  "dotnet": "%s",\n' "$(json_str "$DOTNET_INFO")"
  printf '  "cpu_cores": %s,\n' "$(nproc 2>/dev/null || echo 0)"
  printf '  "build": "%s",\n' "$(json_str "$BUILD_STATUS")"
  printf '  "gpu_tests": {"status": "%s", "summary": "%s", "failed": "%s"},\n' \
    "$(json_str "$TEST_STATUS")" "$(json_str "${TEST_SUMMARY:-}")" "$(json_str "${FAILED_TESTS:-}")"
  printf '  "bench_status": "%s",\n' "$(json_str "$BENCH_STATUS")"
  printf '  "bench": '
  sed 's/^/  /' "$WORK/bench.json" | sed '1s/^  //'
  printf ',\n  "seconds": %s\n}\n' "$(elapsed)"
} > "$OUT"
echo "wrote $OUT ($(elapsed) s)"
cat "$OUT"
