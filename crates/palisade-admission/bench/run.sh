#!/usr/bin/env bash
# Load benchmark of the admission webhook: a release build of `palisade admission serve` on
# loopback HTTPS, driven by wrk (scripts/setup/40-wrk.sh installs it) posting a real
# AdmissionReview (review-allow.json: a hardened Deployment; review-deny.json: a privileged one).
#
# usage: crates/palisade-admission/bench/run.sh [SECONDS=20] [CONNECTIONS=32] [WRK_THREADS=1]
# Server and load generator share the machine; the load average is printed before and after.
set -euo pipefail
duration="${1:-20}"
connections="${2:-32}"
threads="${3:-1}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/setup/40-wrk.sh" >&2; exit 1; }

(cd "$root" && cargo build --release -q -p palisade --no-default-features --features admission)
bin="$target/release/palisade"
tmp="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$bin" admission manifests --generate-certs "$tmp/certs" >/dev/null 2>&1
"$bin" admission serve --addr 127.0.0.1:0 --tls-cert "$tmp/certs/tls.crt" \
    --tls-key "$tmp/certs/tls.key" 2>"$tmp/server.log" &
pid=$!
addr=""
for _ in $(seq 1 100); do
    addr="$(sed -n 's|.*serving https://\([^/]*\)/validate.*|\1|p' "$tmp/server.log")"
    [ -n "$addr" ] && break
    sleep 0.1
done
[ -n "$addr" ] || { cat "$tmp/server.log" >&2; exit 1; }

echo "machine: $(nproc) cores, $(uname -sr); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for review in allow deny; do
    echo "== review-$review.json ($(wc -c <"$here/review-$review.json") bytes), ${connections} connections, ${threads} wrk thread(s), ${duration}s"
    (cd "$here" && REVIEW="review-$review.json" wrk -t"$threads" -c"$connections" -d"${duration}s" \
        --latency -s review.lua "https://$addr/validate")
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server RSS: $(awk '/VmRSS/ {print $2 " " $3}' /proc/"$pid"/status)"
