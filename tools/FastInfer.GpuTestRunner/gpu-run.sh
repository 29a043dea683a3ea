#!/usr/bin/env bash
# Runs the GPU tests, then the GPU benchmark report, from the bundle that make-bundle.sh writes into .gpu/ (this
# script is copied there as .gpu/run.sh). For a Linux x64 machine with an NVIDIA driver and no .NET: it unpacks the
# runtime and the test binaries into /tmp. Writes $OUT/gpu-tests.log (everything) and $OUT/gpu-bench.json.
# Every stage has its own time limit and a failing stage does not stop the next one.
#   OUT                    output folder (default: ./gpu-out)
#   GPU_RUN_ACCELERATOR    FASTINFER_GPU_TEST_ACCELERATOR for the tests (default cuda; empty: ILGPU's CPU accelerator)
#   GPU_RUN_TEST_LIMIT     seconds for all GPU tests (default 240); GPU_RUN_BENCH_LIMIT for the report (default 180)
#   GPU_RUN_SKIP_BENCH=1   tests only
#   GPU_RUN_DOTNET_DIR, GPU_RUN_APP_DIR   where to unpack (default /tmp/dotnet, /tmp/fastinfer-gpu)
set -u
cd "$(dirname "$0")/.."
BUNDLE="$PWD/.gpu"
OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
LOG="$OUT/gpu-tests.log"
ACCEL="${GPU_RUN_ACCELERATOR-cuda}"
TEST_LIMIT="${GPU_RUN_TEST_LIMIT:-240}"
BENCH_LIMIT="${GPU_RUN_BENCH_LIMIT:-180}"
DOTNET_DIR="${GPU_RUN_DOTNET_DIR:-/tmp/dotnet}"
APP="${GPU_RUN_APP_DIR:-/tmp/fastinfer-gpu}"

# tar -J needs the xz program; Python's lzma module is the fallback where it is missing.
unxz_to() {
  mkdir -p "$2"
  if command -v xz >/dev/null 2>&1; then tar -xJf "$1" -C "$2"
  else python3 -c 'import lzma,sys,tarfile; tarfile.open(fileobj=lzma.open(sys.argv[1])).extractall(sys.argv[2])' "$1" "$2"
  fi
}

main() {
  local start=$SECONDS tests_rc=-1 bench_rc=-1
  echo "== $(date -u '+%F %T') UTC  $(uname -srm)  $(nproc) CPUs  $(git rev-parse --short HEAD 2>/dev/null)"
  echo "== nvidia-smi"
  nvidia-smi 2>&1 || echo "nvidia-smi failed or missing (exit $?)"
  echo "== libcuda"
  ldconfig -p 2>/dev/null | grep -i libcuda || echo "ldconfig: no libcuda listed"
  # ILGPU imports the driver API as "cuda", which .NET looks for as libcuda.so; driver installs (and containers)
  # often have only libcuda.so.1, so point a libcuda.so at it.
  export LD_LIBRARY_PATH="/usr/local/nvidia/lib64:/usr/local/nvidia/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  local so1=""
  so1="$(ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 .*x86-64/ {print $NF; exit}')"
  if [ -z "$so1" ]; then
    for d in /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/cuda/compat /usr/local/cuda/lib64/stubs; do
      [ -e "$d/libcuda.so.1" ] && { so1="$d/libcuda.so.1"; break; }
    done
  fi
  if [ -n "$so1" ]; then
    mkdir -p /tmp/fastinfer-cudalib && ln -sf "$so1" /tmp/fastinfer-cudalib/libcuda.so
    export LD_LIBRARY_PATH="/tmp/fastinfer-cudalib:$LD_LIBRARY_PATH"
    echo "libcuda.so -> $so1"
  else
    echo "libcuda.so.1 not found"
  fi

  echo "== unpack"
  rm -rf "$DOTNET_DIR" "$APP"
  unxz_to "$BUNDLE/dotnet-runtime.tar.xz" "$DOTNET_DIR" && unxz_to "$BUNDLE/tests.tar.xz" "$APP" || echo "unpack failed"
  export DOTNET_ROOT="$DOTNET_DIR" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  "$DOTNET_DIR/dotnet" --list-runtimes 2>&1
  echo "unpacked in $((SECONDS - start)) s"

  echo "== GPU tests (limit ${TEST_LIMIT}s, FASTINFER_GPU_TEST_ACCELERATOR=${ACCEL:-unset})"
  local t0=$SECONDS
  if [ -n "$ACCEL" ]; then export FASTINFER_GPU_TEST_ACCELERATOR="$ACCEL"; else unset FASTINFER_GPU_TEST_ACCELERATOR; fi
  timeout -k 10 "$TEST_LIMIT" "$DOTNET_DIR/dotnet" "$APP/fastinfer-gpu-test-runner.dll" \
    --exclude GpuBenchmarkReport --timeout 120
  tests_rc=$?
  echo "tests: exit $tests_rc$([ $tests_rc -eq 124 ] && echo ' (timed out)') in $((SECONDS - t0)) s"

  if [ "${GPU_RUN_SKIP_BENCH:-0}" != "1" ]; then
    echo "== GPU benchmark report (limit ${BENCH_LIMIT}s)"
    t0=$SECONDS
    rm -f "$OUT/gpu-bench.json"
    FASTINFER_GPU_BENCH_JSON="$OUT/gpu-bench.json" timeout -k 10 "$BENCH_LIMIT" "$DOTNET_DIR/dotnet" \
      "$APP/fastinfer-gpu-test-runner.dll" --filter GpuBenchmarkReport --timeout "$BENCH_LIMIT"
    bench_rc=$?
    echo "bench: exit $bench_rc$([ $bench_rc -eq 124 ] && echo ' (timed out)') in $((SECONDS - t0)) s"
    if [ -s "$OUT/gpu-bench.json" ]; then cat "$OUT/gpu-bench.json"; echo; else echo "no gpu-bench.json written"; fi
  fi
  echo "== done in $((SECONDS - start)) s: tests exit $tests_rc, bench exit $bench_rc"
  [ "$tests_rc" -eq 0 ] && { [ "$bench_rc" -eq 0 ] || [ "$bench_rc" -eq -1 ]; }
}

main 2>&1 | tee "$LOG"
exit "${PIPESTATUS[0]}"
