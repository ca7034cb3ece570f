#!/usr/bin/env bash
# Runs every test: the sample city is what its generator makes, then every crate's unit,
# integration and end-to-end tests (debug build; the cache lives outside the clone).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/lib.sh
need_cargo
system_packages
cargo xtask check-city
cargo test --workspace --all-targets --no-fail-fast
