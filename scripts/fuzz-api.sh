#!/usr/bin/env bash
# The API fuzzer: schemathesis (pinned, from PyPI, in a virtual environment beside the
# build cache) runs every operation of the generated /openapi.json with all its checks
# against the debug server, on a data home and database of its own with the demonstration
# accounts, as the dispatcher, the commander and the security administrator. Logging out
# and changing the password end a session: they run last, with a token of their own.
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
embedded_port = ${FUZZ_DB_PORT:-54380}
[mqtt]
listen = "127.0.0.1:0"
TOML
server=""
stop() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
    "$CARGO_TARGET_DIR/debug/cockpit-server" --config "$home/cockpit.toml" db-stop >/dev/null 2>&1 || true
    rm -rf "$home"
}
trap stop EXIT
env -u DATABASE_URL COCKPIT_LOG=warn "$CARGO_TARGET_DIR/debug/cockpit-server" --config "$home/cockpit.toml" --demo \
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
    local user password
    read -r user password < <(awk -v role="$1" '$3 == role {print $1, $2; exit}' "$home/data/initial-accounts.txt")
    curl -sf "$base/api/auth/login" -H 'content-type: application/json' \
        -d "{\"username\": \"$user\", \"password\": \"$password\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

session_enders='^/api/auth/(logout|logout-everywhere|password)$'
status=0
for role in dispatcher commander security_administrator; do
    echo "== schemathesis as $role"
    "$venv/bin/st" run "$base/openapi.json" --checks all --exclude-path-regex "$session_enders" \
        -H "Authorization: Bearer $(token "$role")" --max-examples "${FUZZ_EXAMPLES:-30}" "$@" || status=1
done
echo "== schemathesis: the operations that end a session, with a token of their own"
"$venv/bin/st" run "$base/openapi.json" --checks all --include-path-regex "$session_enders" \
    -H "Authorization: Bearer $(token grid_worker)" --max-examples "${FUZZ_EXAMPLES:-30}" "$@" || status=1
exit $status
