#!/usr/bin/env bash
# Writes Sources/Codegen/EmbeddedRuntime.swift: the text of the compiled programs' runtime
# (Sources/Runtime/Program: the C API header, runtime and program, the Swift runtime and
# program) and of the formats they share (Sources/Formats), as string constants, so that
# `compile` writes those files verbatim and the resnetc binary needs nothing beside it.
# Run it after changing any of those files; EmbeddedRuntimeTests fails until then.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
swift build --product resnetc-embed > /dev/null
files=$(ls Sources/Runtime/Program/*.c Sources/Runtime/Program/*.h Sources/Runtime/Program/*.swift \
  Sources/Formats/*.swift | LC_ALL=C sort)
# shellcheck disable=SC2086
"$(swift build --show-bin-path)/resnetc-embed" Sources/Codegen/EmbeddedRuntime.swift EmbeddedRuntime $files
echo "wrote Sources/Codegen/EmbeddedRuntime.swift"
