#!/usr/bin/env bash
# Runs the cockpit on embedded defaults with the Ouhai sample city: http://127.0.0.1:8080
# (the wall display at /, built from web/ first).
# At the first start it creates one demonstration user per role, with generated passwords,
# prints how to log in as each and keeps the list in .cockpit/initial-accounts.txt.
# Extra arguments go to cockpit-server (see `./run.sh --help`).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/lib.sh
need_cargo
system_packages
build_web
cargo build --release -p cockpit-server
exec "$CARGO_TARGET_DIR/release/cockpit-server" --demo "$@"
