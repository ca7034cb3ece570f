#!/usr/bin/env bash
# Runs every test: the sample city is what its generator makes, then every crate's unit,
# integration and end-to-end tests (debug build; the cache lives outside the clone)
# against a private PostgreSQL + PostGIS cluster that this script starts and stops, the
# API fuzzer against the debug server, then the web front ends' tests in Chromium
# against the server.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/lib.sh
need_cargo
system_packages
# Mosquitto: the broker the external-mode tests run as a peer, and mosquitto_pub for the
# documented examples; HAProxy: the load balancer of the two-instance kill test (their
# system services, where they start, are not used).
apt_install mosquitto mosquitto-clients haproxy
cargo xtask check-city

# The test database: the server's own embedded cluster, on a port of its own. It archives
# nothing: the restore drill runs a cluster of its own with backups on.
cargo build -q -p cockpit-server
test_home="${COCKPIT_TEST_HOME:-$HOME/.cache/cockpit-test}"
mkdir -p "$test_home"
printf '[database]\nembedded_port = %s\n[backup]\nenabled = false\n' "${COCKPIT_TEST_DB_PORT:-25439}" > "$test_home/test.toml"
server="$CARGO_TARGET_DIR/debug/cockpit-server"
db() { COCKPIT_DATA_HOME="$test_home" "$server" --config "$test_home/test.toml" "$@"; }
DATABASE_URL="$(db db-start)"
export DATABASE_URL
# Each test makes a database of its own; drop those of earlier runs, and stop the cluster
# when this script ends, however it ends.
drop_test_databases() {
    local admin="${DATABASE_URL%/*}/postgres"
    psql "$admin" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'test\_%'" |
        while read -r name; do psql "$admin" -qc "DROP DATABASE IF EXISTS \"$name\"" >/dev/null; done
}
drop_test_databases
trap 'drop_test_databases || true; db db-stop >/dev/null 2>&1 || true' EXIT

cargo test --workspace --all-targets --no-fail-fast

# The outside fuzzer: schemathesis (from PyPI) over every operation of the generated
# /openapi.json, with all its checks, as three roles; any failure fails the run. The
# exceptions it allows, each with its reason, are in scripts/schemathesis.toml.
FUZZ_EXAMPLES="${FUZZ_EXAMPLES:-10}" scripts/fuzz-api.sh

# The web front ends: built with their locked packages, then the live client's unit tests
# and the browser tests (Debian's Chromium through playwright-core), each browser test file
# starting the debug server above on a port and database of its own. Screenshots go to
# $CARGO_TARGET_DIR/artifacts/wall/.
build_web
(cd web && npm test)

