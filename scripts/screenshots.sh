#!/usr/bin/env bash
# Screenshots of a fresh `--demo` start for a person to look at: the wall (1920×1080), the
# workbench (1600×900) and the phone (390×844), under $CARGO_TARGET_DIR/artifacts/screens/.
# Needs DATABASE_URL (a PostgreSQL with PostGIS, e.g. the one `cockpit-server db-start`
# prints); builds web/ and the server first. SCREEN_DAYS (default 420) sets the history's
# length, SCREEN_WAIT (default 60) the seconds of the present before the pictures;
# SCREEN_RELEASE=1 uses the release build (the history of 420 days is slow in debug).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_cargo
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL with PostGIS}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
build_web
if [ "${SCREEN_RELEASE:-0}" = 1 ]; then
    cargo build --release -p cockpit-server
    export COCKPIT_SERVER_BIN="$CARGO_TARGET_DIR/release/cockpit-server"
else
    cargo build -p cockpit-server
    export COCKPIT_SERVER_BIN="$CARGO_TARGET_DIR/debug/cockpit-server"
fi
exec node scripts/screenshots.mjs
