#!/usr/bin/env bash
# Installs Microsoft's SARIF Multitool (npm @microsoft/sarif-multitool) into the test cache; the
# SARIF tests validate Palisade's output with it (schema and spec rules). Idempotent.
set -euo pipefail
cache="${PALISADE_TEST_CACHE:-$HOME/.cache/palisade-test}/sarif"
tool="$cache/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
if [ -x "$tool" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq npm >/dev/null
fi
mkdir -p "$cache"
(cd "$cache" && npm install --no-audit --no-fund --silent @microsoft/sarif-multitool@5.7.0 >/dev/null)
chmod u+x "$tool"
echo "setup: SARIF Multitool installed in $cache"
