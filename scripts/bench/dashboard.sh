#!/usr/bin/env bash
# The dashboard's benchmark (docs/benchmarks.md, "Dashboard"): central on SQLite with 10
# clusters of 10,000 workloads pushed by `palisade scan --push` (palisade-synth's snapshot), then
# every page rendered N times (one client, sequential; server time = time to the last byte on
# loopback) with p50/p95, and the first page load's transfer (overview + CSS + JS).
# The first request of each page is reported apart ("first ms": the analysed pages build the
# cluster's inventory then) and central's peak RSS (VmHWM) at the end.
#   scripts/bench/dashboard.sh [--database URL] BIN [CLUSTERS] [N]
# --database: central on that PostgreSQL database (empty) instead of SQLite in its data dir.
set -euo pipefail
database=""
if [ "${1:-}" = "--database" ]; then
    database="${2:?--database needs a URL}"
    shift 2
fi
bin="${1:?release bin directory}"
clusters="${2:-10}"
n="${3:-40}"
work="$(mktemp -d)"
trap 'kill "${central_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin/palisade-synth" --workloads 10000 --out "$work/synth" >/dev/null
store_args=()
[ -n "$database" ] && store_args+=(--database "$database")
"$bin/palisade" central serve --data "$work/data" "${store_args[@]}" --addr 127.0.0.1:0 -q >"$work/central.out" 2>"$work/central.err" &
central_pid=$!
for _ in $(seq 1 300); do grep -q "listening on" "$work/central.out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^palisade central listening on //p' "$work/central.out")"
token="$work/data/admin.token"
ca="$work/data/tls/ca.pem"
start=$(date +%s)
for i in $(seq 0 $((clusters - 1))); do
    "$bin/palisade" scan "$work/synth" --format json -o /dev/null --push "$url" --cluster-name "$(printf 'c%02d' "$i")" \
        --token-file "$token" --ca-cert "$ca" >/dev/null 2>&1 || true
done
echo "pushed $clusters clusters of 10,000 workloads in $(( $(date +%s) - start )) s"
python3 - "$url" "$token" "$ca" "$n" <<'PY'
import http.client, json, re, ssl, statistics, sys, time, urllib.parse
url, token_file, ca, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
host = url.split("//")[1]
ctx = ssl.create_default_context(cafile=ca)
token = open(token_file).read().strip()
def req(method, path, body=None, headers=None):
    c = http.client.HTTPSConnection(host, context=ctx, timeout=600)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse(); data = r.read(); c.close()
    return r, data
r, page = req("GET", "/ui/login")
login_cookie = re.search(r"pal_login=([0-9a-f]+)", r.getheader("set-cookie")).group(1)
csrf = re.search(rb'name="csrf" value="([0-9a-f]+)"', page).group(1).decode()
r, _ = req("POST", "/ui/login", urllib.parse.urlencode({"token": token, "csrf": csrf}),
           {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"pal_login={login_cookie}"})
session = re.search(r"pal_session=([0-9a-f]+)", r.getheader("set-cookie")).group(1)
cookie = {"Cookie": f"pal_session={session}"}
_, w = req("GET", "/api/v1/workloads?cluster=c00&limit=1", headers={"Authorization": f"Bearer {token}"})
w = json.loads(w)["items"][0]["id"]
workload = "/ui/workload?" + urllib.parse.urlencode({"cluster": "c00", **w})
pages = ["/ui/", "/ui/workloads?cluster=c00", "/ui/workloads", workload, "/ui/findings?cluster=c00&severity=high",
         "/ui/findings", "/ui/exceptions", "/ui/network?cluster=c00", "/ui/rbac?cluster=c00&verb=get&resource=secrets",
         "/ui/images", "/ui/runtime", "/ui/policies"]
print(f"{'page':60} {'n':>3} {'first ms':>9} {'p50 ms':>9} {'p95 ms':>9} {'bytes':>9}")
for p in pages:
    times = []
    for _ in range(n + 1):
        t = time.perf_counter(); r, body = req("GET", p, headers=cookie); times.append((time.perf_counter() - t) * 1000)
        assert r.status == 200, (p, r.status, body[:300])
    first, times = times[0], sorted(times[1:])
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    print(f"{p[:60]:60} {n:>3} {first:>9.1f} {statistics.median(times):>9.1f} {p95:>9.1f} {len(body):>9}")
total = sum(len(req("GET", p, headers=cookie)[1]) for p in ["/ui/", "/ui/assets/dashboard.css", "/ui/assets/dashboard.js"])
print(f"first page load (overview + CSS + JS): {total} bytes")
PY
grep VmHWM "/proc/$central_pid/status" | sed "s/^VmHWM:/central peak RSS:/"
