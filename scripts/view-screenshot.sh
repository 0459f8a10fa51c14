#!/usr/bin/env bash
# Renders a page written by `resnetc view` to a PNG with headless Chromium, as the README's
# picture was made: scripts/view-screenshot.sh g.html g.png [WIDTHxHEIGHT]
# Chromium comes from Debian's packages (apt-get install chromium).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 PAGE.html|PAGE.svg OUT.png [WIDTHxHEIGHT (default 760x1180)]" >&2
  exit 2
fi
page=$1 out=$2 size=${3:-760x1180}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "$0: no chromium found; install it (apt-get install chromium)" >&2
  exit 1
fi
[ -f "$page" ] || { echo "$0: $page: no such file" >&2; exit 1; }
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${size/x/,}" \
  --screenshot="$(realpath -m "$out")" "file://$(realpath "$page")" 2>/dev/null
[ -s "$out" ] || { echo "$0: chromium wrote no $out" >&2; exit 1; }
echo "wrote $out"
