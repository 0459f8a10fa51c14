#!/usr/bin/env bash
# The benchmark: resnetc against ONNX Runtime and OpenVINO on the same ONNX ResNets.
# Installs the peers from PyPI into bench/.venv (once), writes the models into
# bench/models (once), builds resnetc in release mode, then runs bench.py.
# Usage: bench/run.sh [--threads 2] [--rounds 5] [--runs 10] [--only resnet50-b1 ...]
#        [--swift resnet18-b1 resnet50-b1]  (models also built by the Swift backend)
#        [--target avx2]  (resnetc's instruction set; the peers choose their own)
#        [--peer-isa avx2|avx512]  (OpenVINO capped at AVX2, or AVX-512 without VNNI; the
#        ratio against it alone)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
if [ ! -x "$here/.venv/bin/python" ]; then
  echo "installing onnxruntime, openvino, onnx and numpy into $here/.venv" >&2
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install -q onnxruntime openvino onnx numpy
fi
"$here/.venv/bin/python" "$here/make_models.py" "$here/models" >&2
(cd "$root" && swift build -c release --product resnetc >&2)
exec "$here/.venv/bin/python" "$here/bench.py" --resnetc "$root/.build/release/resnetc" --models "$here/models" "$@"
