#!/usr/bin/env bash
# Central's benchmark (docs/benchmarks.md, "Central"): on SQLite, or on PostgreSQL with
# DATABASE=postgres://… (an empty database), or on a private PostgreSQL 15 this script starts
# with DATABASE=postgres (fsync on, default settings; `scripts/setup/50-postgres.sh` installs
# it), with the release binaries in BIN:
#   1. push of one 10,000-workload snapshot (`palisade scan --push`): time until acknowledged
#      (the client's `--timings` line: from the first byte sent until the acknowledgement,
#      the scan and the building of the snapshot not included) and central's CPU time for it;
#   2. nine more clusters pushed the same way (10 × 10,000 workloads stored);
#   3. a filtered findings page (cluster + severity, 100 rows): latency percentiles with wrk;
#   4. alerts ingested in batches of 1,000 (unique ids): records per second;
#   5. central's peak RSS over all of it.
#   scripts/bench/central.sh BIN [DATABASE]
set -euo pipefail
bin="${1:?release bin directory}"
database="${2:-}"
work="$(mktemp -d)"
pg_bin=/usr/lib/postgresql/15/bin
cleanup() {
    kill "${central_pid:-0}" 2>/dev/null || true
    if [ -n "${pg_data:-}" ]; then
        runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
if [ "$database" = postgres ]; then
    chmod 755 "$work"
    mkdir "$work/pg" && chown postgres: "$work/pg"
    pg_data="$work/pg/data"
    pg_port=$((40000 + RANDOM % 20000))
    runuser -u postgres -- "$pg_bin/initdb" -D "$pg_data" --auth=trust -U postgres >/dev/null
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_data" -l "$work/pg/log" \
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $work/pg" -w start >/dev/null
    database="postgres://postgres@127.0.0.1:$pg_port/postgres"
fi
"$bin/palisade-synth" --workloads 10000 --out "$work/synth" >/dev/null
port=$((20000 + RANDOM % 20000))
args=(central serve --data "$work/data" --addr "127.0.0.1:$port" -q)
[ -n "$database" ] && args+=(--database "$database")
"$bin/palisade" "${args[@]}" >"$work/central.out" 2>"$work/central.err" &
central_pid=$!
for _ in $(seq 1 100); do [ -s "$work/data/admin.token" ] && break; sleep 0.1; done
for _ in $(seq 1 100); do curl -sk "https://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
token="$work/data/admin.token"
ca="$work/data/tls/ca.pem"
url="https://127.0.0.1:$port"

push() {
    "$bin/palisade" scan "$work/synth" --format json -o /dev/null --push "$url" --cluster-name "$1" \
        --token-file "$token" --ca-cert "$ca" --timings 2>&1 | grep -E "timings|push" || true
}
echo "== scan of 10,000 workloads alone (no push)"
start=$(date +%s.%N)
"$bin/palisade" scan "$work/synth" --format json -o /dev/null || true
end=$(date +%s.%N)
echo "scan: $(echo "$end - $start" | bc) s"
# CPU time so far (user + system, seconds) of central and, on the private PostgreSQL, of the
# postmaster, its finished children and its running backends.
central_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$central_pid/stat"
}
postgres_cpu() {
    local postmaster
    postmaster=$(head -1 "$pg_data/postmaster.pid")
    # shellcheck disable=SC2046
    cat "/proc/$postmaster/stat" $(pgrep -P "$postmaster" | sed 's|.*|/proc/&/stat|') 2>/dev/null |
        awk -v hz="$(getconf CLK_TCK)" -v pm="$postmaster" \
            '{ t += $14 + $15; if ($1 == pm) t += $16 + $17 } END { printf "%.2f", t / hz }'
}
cpu_line() {
    local line="central CPU for the push: $(echo "$(central_cpu) - $1" | bc) s"
    [ -n "${pg_data:-}" ] && line+=", PostgreSQL's: $(echo "$(postgres_cpu) - $2" | bc) s"
    echo "$line"
}
cpu_now() {
    echo "$(central_cpu) $([ -n "${pg_data:-}" ] && postgres_cpu || echo 0)"
}
echo "== push of 10,000 workloads (first cluster)"
read -r cpu0 pg0 <<<"$(cpu_now)"
start=$(date +%s.%N); push c00; end=$(date +%s.%N)
echo "scan + push acknowledged: $(echo "$end - $start" | bc) s"
cpu_line "$cpu0" "$pg0"
findings=$(curl -s --cacert "$ca" -H "Authorization: Bearer $(cat "$token")" "$url/api/v1/clusters" | python3 -c 'import json,sys; c=json.load(sys.stdin); print(sum(sum(x["open_findings"].values()) for x in c))')
echo "open findings stored: $findings"
echo "== nine more clusters"
start=$(date +%s.%N)
for i in 01 02 03 04 05 06 07 08 09; do push "c$i" | grep "push:" || true; done
end=$(date +%s.%N)
echo "9 pushes: $(echo "$end - $start" | bc) s"
echo "== one more cluster (c10, ten stored)"
read -r cpu0 pg0 <<<"$(cpu_now)"
push c10
cpu_line "$cpu0" "$pg0"
echo "== findings page: cluster c05, severity high, 100 rows (wrk, 2 connections, 20 s)"
wrk -t2 -c2 -d20s --latency -H "Authorization: Bearer $(cat "$token")" \
    "$url/api/v1/findings?cluster=c05&severity=high&limit=100" | grep -E "Latency|50%|75%|90%|99%|Requests/sec|requests in"
echo "== alerts in batches of 1,000"
python3 - "$url" "$token" "$ca" <<'PY'
import json, ssl, sys, time, http.client, threading
url, token_file, ca = sys.argv[1:4]
host = url.split("//")[1]
token = open(token_file).read().strip()
ctx = ssl.create_default_context(cafile=ca)
batches, size, threads = 100, 1000, 4
def body(b):
    return json.dumps({"alerts": [{"id": f"b{b}-{i}", "time": "2026-12-06T10:00:00Z", "rule": "shell-in-container",
        "severity": "high", "message": "sh started in container", "node": "n1",
        "workload": {"namespace": "ns", "kind": "Deployment", "name": f"w{i % 500}"}, "container": "c",
        "detail": {"process": {"exe": "/bin/sh", "args": ["sh"]}}} for i in range(size)]}).encode()
bodies = [body(b) for b in range(batches)]
def run(k):
    c = http.client.HTTPSConnection(host, context=ctx)
    for b in range(k, batches, threads):
        c.request("POST", "/api/v1/clusters/c00/alerts", bodies[b], {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        assert r.status == 200, r.status
start = time.time()
ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
dt = time.time() - start
print(f"{batches * size} alerts in {dt:.2f} s: {batches * size / dt:.0f} alerts/s")
PY
echo "== central peak RSS: $(grep VmHWM /proc/$central_pid/status)"
