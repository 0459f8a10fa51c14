#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/targets/*.swift) with AddressSanitizer, straight with
# swiftc (SwiftPM's executables bring their own entry point, which libFuzzer's main must
# replace), then runs each for SECONDS (default 600) seeded with the repository's fixtures.
# Crashing inputs land in fuzz/crashes/TARGET/; add each as a regression test.
# Usage: fuzz/run.sh [SECONDS] [TARGET ...]   (FuzzONNX FuzzIR FuzzSafeTensors FuzzNpy FuzzImage)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:-600}
shift || true
targets=${*:-FuzzONNX FuzzIR FuzzSafeTensors FuzzNpy FuzzImage}
build="$here/.build"
mkdir -p "$build"
export SWIFT_BACKTRACE=enable=no
flags=(-O -sanitize=fuzzer,address -parse-as-library -I "$build" -L "$build")
library() {  # library NAME DEPENDENCIES...
  local name=$1
  shift
  swiftc "${flags[@]}" -emit-library -static -emit-module -module-name "$name" \
    -emit-module-path "$build/$name.swiftmodule" -o "$build/lib$name.a" "$root/Sources/$name"/*.swift "$@"
}
echo "building the fuzz targets" >&2
library GraphIR
library Formats
library ONNX -lGraphIR
library Runtime -lGraphIR -lFormats
swiftc "${flags[@]}" "$here/targets/FuzzONNX.swift" -lONNX -lGraphIR -o "$build/FuzzONNX"
swiftc "${flags[@]}" "$here/targets/FuzzIR.swift" -lGraphIR -o "$build/FuzzIR"
swiftc "${flags[@]}" "$here/targets/FuzzSafeTensors.swift" -lGraphIR -o "$build/FuzzSafeTensors"
swiftc "${flags[@]}" "$here/targets/FuzzNpy.swift" -lRuntime -lFormats -lGraphIR -o "$build/FuzzNpy"
swiftc "${flags[@]}" "$here/targets/FuzzImage.swift" -lFormats -o "$build/FuzzImage"
for target in $targets; do
  corpus="$here/corpus/$target"
  mkdir -p "$corpus" "$here/crashes/$target"
  case $target in
    FuzzONNX)
      cp -n "$root"/Tests/ONNXTests/Fixtures/*.onnx "$root"/Tests/DiffTestTests/Legacy/*.onnx "$corpus/" 2>/dev/null || true
      for model in "$root"/Tests/DiffTestTests/Backend/*/model.onnx; do
        cp -n "$model" "$corpus/$(basename "$(dirname "$model")").onnx"
      done ;;
    FuzzIR) cp -n "$root"/Tests/PassesTests/Golden/*/*.gir "$root"/examples/*.gir "$corpus/" 2>/dev/null || true ;;
    FuzzSafeTensors) cp -n "$root"/examples/*.safetensors "$corpus/" 2>/dev/null || true ;;
    FuzzNpy) cp -n "$root"/Tests/RuntimeTests/Fixtures/*.npy "$corpus/" 2>/dev/null || true ;;
    FuzzImage)
      cp -n "$root"/Tests/DriverTests/Images/*.png "$root"/Tests/DriverTests/Images/*.p?m "$root"/examples/*.png \
        "$corpus/" 2>/dev/null || true ;;
  esac
  echo "== $target for $seconds s" >&2
  "$build/$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 \
    -artifact_prefix="$here/crashes/$target/" "$corpus" 2>&1 | tail -4
done
