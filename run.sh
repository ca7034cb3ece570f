#!/usr/bin/env bash
# Runs the cockpit on embedded defaults with the Ouhai sample city: http://127.0.0.1:8080
# Extra arguments go to cockpit-server (see `./run.sh --help`).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/lib.sh
need_cargo
system_packages
cargo build --release -p cockpit-server
exec "$CARGO_TARGET_DIR/release/cockpit-server" "$@"
