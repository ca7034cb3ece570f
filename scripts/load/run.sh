#!/usr/bin/env bash
# The read paths under load at fixed arrival rates (issue 20; BENCHMARKS.md, "Read paths
# under load"): the release server with the living sample city (`--demo`: the simulated
# present and a seeded history of HISTORY_DAYS days) on a cluster of its own, then `oha`
# at RATE requests a second for LOAD_SECONDS on each path, its latency corrected for
# coordinated omission (each request timed from when the schedule meant to send it),
# /healthz at the same rate as the baseline; then each path as fast as it goes (a closed
# loop of 32 connections: the saturation point); then the WebSocket fan-out
# (examples/load_fanout.rs). oha's and the server's CPU are measured for every run.
#
#     scripts/load/run.sh            # figures in $LOAD_HOME/results (summary.md)
#
# Environment: RATE (1000), LOAD_SECONDS (15), HISTORY_DAYS (60), PORT (18080),
# DB_PORT (25490), MQTT_PORT (18883), FANOUT_CLIENTS (500), FANOUT_RATE (20 cases/s),
# LOAD_HOME (~/.cache/cockpit-load; wiped at the start), LOAD_SERVER and LOAD_FANOUT (below).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
need_cargo
system_packages

RATE="${RATE:-1000}"
SECONDS_EACH="${LOAD_SECONDS:-15}"
HISTORY_DAYS="${HISTORY_DAYS:-60}"
PORT="${PORT:-18080}"
DB_PORT="${DB_PORT:-25490}"
MQTT_PORT="${MQTT_PORT:-18883}"
FANOUT_CLIENTS="${FANOUT_CLIENTS:-500}"
FANOUT_RATE="${FANOUT_RATE:-20}"
LOAD_HOME="${LOAD_HOME:-$HOME/.cache/cockpit-load}"
TOOLS="${COCKPIT_TOOLS:-$HOME/.cache/cockpit-tools}"
OHA_VERSION=1.16.0

# oha from crates.io, pinned, built once into a folder outside the clone, with the
# system's OpenSSL for TLS (its default rustls builds aws-lc; the server is reached over
# plain HTTP on the loopback anyway).
need_oha() {
    if [ "$("$TOOLS/bin/oha" --version 2>/dev/null)" != "oha $OHA_VERSION" ]; then
        echo "installing oha $OHA_VERSION into $TOOLS"
        CARGO_TARGET_DIR="$TOOLS/target" cargo install oha --version "=$OHA_VERSION" --locked \
            --no-default-features --features native-tls --root "$TOOLS"
    fi
}
# LOAD_SERVER: another build of the server to measure (a copy of the binary before a
# change, for a before/after pair in the same conditions), and LOAD_FANOUT the fan-out
# client's (both from earlier builds: nothing is built then); unset, the tree's release build.
[ -n "${LOAD_SERVER:-}" ] || cargo build --release -p cockpit-server --bin cockpit-server --example load_fanout
SERVER="${LOAD_SERVER:-$CARGO_TARGET_DIR/release/cockpit-server}"
FANOUT="${LOAD_FANOUT:-$CARGO_TARGET_DIR/release/examples/load_fanout}"

rm -rf "$LOAD_HOME"
mkdir -p "$LOAD_HOME/home" "$LOAD_HOME/results"
R="$LOAD_HOME/results"
cat > "$LOAD_HOME/cockpit.toml" <<EOF
listen = "127.0.0.1:$PORT"
data_home = "$LOAD_HOME/home"
log = "warn"
[database]
embedded_port = $DB_PORT
[backup]
enabled = false
[history]
days = $HISTORY_DAYS
[mqtt]
listen = "127.0.0.1:$MQTT_PORT"
EOF

"$SERVER" --config "$LOAD_HOME/cockpit.toml" --demo > "$LOAD_HOME/server.log" 2>&1 &
SERVER_PID=$!
stop_server() {
    kill -INT "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}
trap stop_server EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 600); do
    curl -sf "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$LOAD_HOME/server.log"; exit 1; }
    sleep 1
done
ACCOUNTS="$LOAD_HOME/home/initial-accounts.txt"
for _ in $(seq 1 60); do [ -s "$ACCOUNTS" ] && break; sleep 1; done
PASSWORD=$(awk '$1=="commander"{print $2}' "$ACCOUNTS")
TOKEN=$(curl -sf "$BASE/api/auth/login" -H Content-Type:application/json \
    -d "{\"username\":\"commander\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
AUTH="Authorization: Bearer $TOKEN"
# The seeded history is readable once it is committed (a case list waits for the commit):
# wait for its cases, numbered from 1, the newest first.
for _ in $(seq 1 600); do
    total=$(curl -sf -m 300 -H "$AUTH" "$BASE/api/cases?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])' 2>/dev/null || echo 0)
    [ "${total:-0}" -gt 1000 ] && break
    sleep 2
done
# oha is built (the first time) while the history seeds.
need_oha
OHA="$TOOLS/bin/oha"
echo "history: $HISTORY_DAYS days, newest case $total; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$R/setup.txt"
ETAG=$(curl -s -o /dev/null -D - -H "$AUTH" -H 'Accept-Encoding: br' "$BASE/api/regions?level=grid" | awk 'tolower($1)=="etag:"{print $2}' | tr -d '\r')

# name|path|extra header
PATHS=(
    "healthz|/healthz|"
    "case list|/api/cases?limit=50|"
    "statistics|/api/cases/stats|"
    "grid layer (br)|/api/regions?level=grid|Accept-Encoding: br"
    "grid layer (304)|/api/regions?level=grid|If-None-Match: $ETAG"
    "indicators|/api/indicators?level=street|"
    "locate|/api/locate?lon=120.64&lat=27.97|"
    "nearby|/api/nearby?lon=120.64&lat=27.97&radius=500&layer=cameras|"
)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The CPU ticks of this run's cluster: its postmaster on DB_PORT and its processes.
postgres_ticks() {
    local sum=0 pid postmaster
    postmaster=$(pgrep -u postgres -f "postgres -D .* -p $DB_PORT " | head -1)
    for pid in $postmaster $(pgrep -P "$postmaster" || true); do
        sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$sum"
}

# one KIND NAME PATH HEADER: one oha run, its JSON and the CPU seconds of oha, the
# server and PostgreSQL (this run's cluster; a backend that exits meanwhile is missed) beside it, one line of
# cpu.txt: name|kind|oha's user sys elapsed|server ticks|PostgreSQL ticks|start|end|file.
one() {
    local kind="$1" name="$2" path="$3" header="$4" file
    file="$R/$kind-$(printf '%s' "$name" | tr -c 'a-z0-9' '_').json"
    local -a args=(--no-tui --output-format json -H "$AUTH")
    [ -n "$header" ] && args+=(-H "$header")
    if [ "$kind" = rate ]; then
        args+=(-z "${SECONDS_EACH}s" -q "$RATE" --latency-correction -c 64)
    else
        args+=(-z 10s -c 32)
    fi
    local s0 p0 t0
    s0=$(cpu_ticks "$SERVER_PID"); p0=$(postgres_ticks); t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S %e' -o "$file.time" "$OHA" "${args[@]}" "$BASE$path" > "$file"
    local s1 p1 t1
    s1=$(cpu_ticks "$SERVER_PID"); p1=$(postgres_ticks); t1=$(date +%s.%N)
    echo "$name|$kind|$(cat "$file.time")|$(( s1 - s0 ))|$(( p1 - p0 ))|$t0|$t1|$file" >> "$R/cpu.txt"
}

for entry in "${PATHS[@]}"; do
    IFS='|' read -r name path header <<< "$entry"
    one rate "$name" "$path" "$header"
done
for entry in "${PATHS[@]}"; do
    IFS='|' read -r name path header <<< "$entry"
    one closed "$name" "$path" "$header"
done

/usr/bin/time -f '%U %S %e' -o "$R/fanout.time" \
    "$FANOUT" "$BASE" "$TOKEN" "$FANOUT_CLIENTS" "$FANOUT_RATE" "$SECONDS_EACH" > "$R/fanout.json"

python3 scripts/load/summary.py "$R" "$RATE" "$(getconf CLK_TCK)" | tee "$R/summary.md"
