#!/usr/bin/env bash
# Differential testing on generated graphs: scripts/difftest.sh N [SEED] [options]
# Builds resnetc-difftest (release) and runs N generated graphs (seeds SEED, SEED+1, ...;
# SEED defaults to 1) through every interpreter path, and the first min(N, 2000) of them
# through the C and Swift backends on every target this CPU runs, against the reference
# interpreter at -O0. Further options go to the tool (resnetc-difftest --help), e.g.
# --compiled M, --backends c, --targets avx2, --minimize. Ends with 'N passed, F failed';
# failing graphs are written to difftest-failures/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/difftest.sh N [SEED] [resnetc-difftest options]" >&2
  exit 2
fi
graphs=$1
shift
seed=1
if [ $# -ge 1 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  seed=$1
  shift
fi
compiled=$(( graphs < 2000 ? graphs : 2000 ))
swift build -c release --product resnetc-difftest >&2
exec .build/release/resnetc-difftest --graphs "$graphs" --seed "$seed" --compiled "$compiled" "$@"
