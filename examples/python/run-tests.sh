#!/usr/bin/env bash
# Runs the Python example's checks with a Python that has NumPy: this one if it has it, else
# Debian's python3-numpy (installed when apt-get can), else a virtual environment with NumPy
# from PyPI. Fails, saying why, when none can be had.
#   examples/python/run-tests.sh path/to/resnetc
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tool=${1:?usage: $0 path/to/resnetc}
python=python3
if ! command -v python3 > /dev/null || ! python3 -c "import numpy" 2> /dev/null; then
  if command -v apt-get > /dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing python3 and python3-numpy with apt-get" >&2
    apt-get install -y -q python3 python3-numpy > /dev/null 2>&1 \
      || { apt-get update -q > /dev/null 2>&1 && apt-get install -y -q python3 python3-numpy > /dev/null 2>&1; } || true
  fi
fi
if ! command -v python3 > /dev/null; then
  echo "$0: no python3, and it could not be installed" >&2
  exit 1
fi
if ! python3 -c "import numpy" 2> /dev/null; then
  venv=${TMPDIR:-/tmp}/resnetc-python-venv
  echo "NumPy into a virtual environment at $venv" >&2
  python3 -m venv "$venv" && "$venv/bin/pip" install -q numpy \
    || { echo "$0: NumPy could not be installed (apt-get python3-numpy, or python3-venv and PyPI)" >&2; exit 1; }
  python=$venv/bin/python
fi
exec "$python" "$here/test_resnetc_model.py" "$tool"
