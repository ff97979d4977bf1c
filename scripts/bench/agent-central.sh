#!/usr/bin/env bash
# The agent reporting to central (docs/benchmarks.md, "Runtime agent → central"): N host
# processes (in waves of 250) matching a rule of the script's own, each one alert; counts the
# alerts the agent wrote and those central stored, the time until all were stored, and the
# agent's peak RSS. NOCENTRAL=1 runs the same burst without --central (RSS baseline).
# Root (proc connector), sqlite3.
#   scripts/bench/agent-central.sh BIN [N]
set -euo pipefail
bin="${1:?bin directory holding palisade}/palisade"
n="${2:-5000}"
work="$(mktemp -d)"
trap 'kill "${agent_pid:-0}" "${central_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" central serve --data data --addr "127.0.0.1:$port" >central.out 2>central.err &
central_pid=$!
until grep -q "$port" central.out 2>/dev/null && [ -f data/tls/ca.pem ]; do sleep 0.2; done
"$bin" central token create --data data --role agent --cluster prod --name bench |
    grep -o 'pal_[0-9a-zA-Z_]*' | head -1 >agent.token
marker="0.2$$"
printf 'rules:\n  - id: bench-burst\n    description: bench\n    severity: low\n    condition: proc.name = sleep and proc.args = "%s"\n' "$marker" >rules.yaml
printf 'save_interval_secs: 1\nnet_interval_ms: 0\nbuiltin_rules: false\nrules_files: [%s/rules.yaml]\n' "$work" >agent.yaml
central_args=(--central "https://127.0.0.1:$port" --cluster prod --token-file agent.token --ca-cert data/tls/ca.pem)
[ -n "${NOCENTRAL:-}" ] && central_args=()
"$bin" agent run --config agent.yaml --state-dir state --alerts alerts.jsonl "${central_args[@]}" --duration 600 2>agent.err &
agent_pid=$!
until [ -f state/stats.json ]; do sleep 0.2; done
start=$(date +%s.%N)
for _ in $(seq $((n / 250))); do
    pids=()
    for _ in $(seq 250); do sleep "$marker" & pids+=($!); done
    wait "${pids[@]}"
done
burst=$(date +%s.%N)
stored=0
for _ in $(seq 600); do
    written=$(grep -c bench-burst alerts.jsonl || true)
    [ -n "${NOCENTRAL:-}" ] && break
    stored=$(sqlite3 data/central.db "select count(*) from alerts where rule = 'bench-burst'")
    [ "$stored" = "$written" ] && break
    sleep 0.2
done
done_at=$(date +%s.%N)
echo "processes=$n alerts_written=$written stored=$stored burst_s=$(echo "$burst - $start" | bc) all_stored_after_s=$(echo "$done_at - $start" | bc)"
grep VmHWM "/proc/$agent_pid/status"
