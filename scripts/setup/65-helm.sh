#!/usr/bin/env bash
# `helm template` for the chart-rendering tests: Helm v4's Go SDK from PyPI (helm-python-sdk,
# Apache-2.0, pinned) in a venv, with scripts/tools/helm-template.py as the `helm` command in
# $PALISADE_TEST_CACHE/helm/bin, where tests find it through palisade_testkit::cache::helm().
# No helm binary is installable here (no Debian package; get.helm.sh is not reachable).
# Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${PALISADE_TEST_CACHE:-$HOME/.cache/palisade-test}"
venv="$CACHE/helm/venv"
version=0.2.2

if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('helm-python-sdk') != '$version')" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "helm-python-sdk==$version"
fi
mkdir -p "$CACHE/helm/bin"
{
    echo "#!$venv/bin/python"
    cat "$root/scripts/tools/helm-template.py"
} >"$CACHE/helm/bin/helm.new"
chmod 0755 "$CACHE/helm/bin/helm.new"
mv "$CACHE/helm/bin/helm.new" "$CACHE/helm/bin/helm"
