#!/usr/bin/env bash
# The API fuzzer: schemathesis (pinned, from PyPI, in a virtual environment beside the
# build cache) runs every operation of the generated /openapi.json with all its checks
# against the debug server, on a data home and database of its own with the demonstration
# accounts, as the dispatcher, the commander and the security administrator. Logging out
# and changing the password end a session: each runs with a session of its own; logging
# in runs last. The exceptions, with their reasons, are in scripts/schemathesis.toml.
# Any failure fails the script. Usage: scripts/fuzz-api.sh [extra `st run` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_cargo

SCHEMATHESIS_VERSION=4.32.5
venv="$CARGO_TARGET_DIR/schemathesis-$SCHEMATHESIS_VERSION"
if [ ! -x "$venv/bin/st" ]; then
    apt_install python3-venv
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build -q -p cockpit-server
port="${FUZZ_PORT:-18380}"
home="$(mktemp -d)"
cat > "$home/cockpit.toml" <<TOML
listen = "127.0.0.1:$port"
data_home = "$home/data"
[database]
# Below the kernel's ephemeral range (32768-60999), where no client socket can hold it.
embedded_port = ${FUZZ_DB_PORT:-25438}
[backup]
# The fuzzer's throwaway cluster: its WAL is nobody's to keep (backups are the drill's).
enabled = false
[mqtt]
listen = "127.0.0.1:0"
[auth]
# The demonstration's accounts (not --demo, which would also write the generated history).
bootstrap = "demo"
# The fuzzer logs in more often than a person: the rate limit is not what it tests.
login_per_minute = 100000
TOML
server=""
stop() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
    "$CARGO_TARGET_DIR/debug/cockpit-server" --config "$home/cockpit.toml" db-stop >/dev/null 2>&1 || true
    rm -rf "$home"
}
trap stop EXIT
env -u DATABASE_URL COCKPIT_LOG=warn "$CARGO_TARGET_DIR/debug/cockpit-server" --config "$home/cockpit.toml" \
    >"$home/server.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 600); do
    curl -sf "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$home/server.log" >&2; exit 1; }
    sleep 0.2
done

# token ROLE : logs in as the demonstration account of ROLE (initial-accounts.txt).
token() {
    local user password answer
    read -r user password < <(awk -v role="$1" '$3 == role {print $1, $2; exit}' "$home/data/initial-accounts.txt")
    answer="$(curl -s "$base/api/auth/login" -H 'content-type: application/json' \
        -d "{\"username\": \"$user\", \"password\": \"$password\"}")"
    python3 -c 'import json, sys; print(json.loads(sys.argv[1])["access_token"])' "$answer" 2>/dev/null || {
        echo "logging in as $user ($1) failed: $answer" >&2
        return 1
    }
}

# Every token first: the fuzzer's wrong passwords lock this address's logins for a while.
declare -A tokens
for role in dispatcher commander security_administrator; do tokens[$role]="$(token "$role")"; done
enders=(/api/auth/logout /api/auth/logout-everywhere /api/auth/password)
for path in "${enders[@]}"; do tokens[$path]="$(token grid_worker)"; done

# run NAME TOKEN ARGS...: one schemathesis run; a failure fails the script at the end.
status=0
run() {
    local name="$1" bearer="$2"
    shift 2
    echo "== schemathesis: $name"
    "$venv/bin/st" --config-file scripts/schemathesis.toml run "$base/openapi.json" --checks all \
        -H "Authorization: Bearer $bearer" --max-examples "${FUZZ_EXAMPLES:-30}" "$@" "${extra[@]}" || status=1
}
extra=("$@")
# The live stream is a WebSocket (a 101 answer that schemathesis does not speak): the
# tests under tests/it/live drive it with real WebSocket clients.
not_here='^/api/(live|auth/(login|logout|logout-everywhere|password))$'
for role in dispatcher commander security_administrator; do
    run "as $role" "${tokens[$role]}" --exclude-path-regex "$not_here"
done
# Ending a session: each operation with a session of its own.
for path in "${enders[@]}"; do
    run "$path, with a session of its own" "${tokens[$path]}" --include-path "$path"
done
# Logging in last, since its wrong passwords lock the address.
run "logging in" "${tokens[dispatcher]}" --include-path /api/auth/login
exit $status
