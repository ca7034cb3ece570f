#!/usr/bin/env bash
# The layer rules, checked by CI (.ci/run):
#  - the domain crates and the generator above them (cockpit-sim) do no I/O: no tokio,
#    sqlx, axum or MQTT below them;
#  - the store (cockpit-store) stands on the domain crates and sqlx only: no HTTP, no
#    WebSocket, no MQTT, never the server;
#  - inside the server, no module imports the HTTP API but the crate root, and no modules
#    import each other in a circle (scripts/layers.py).
set -euo pipefail
cd "$(dirname "$0")/.."

deps() { cargo tree -p "$1" -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u; }

for crate in cockpit-geo cockpit-events cockpit-access cockpit-iot cockpit-live cockpit-indicators cockpit-sim; do
    bad=$(deps "$crate" | grep -Ex 'tokio|sqlx|sqlx-core|axum|rumqttc|rumqttd|hyper|cockpit-store' || true)
    if [ -n "$bad" ]; then
        echo "$crate (a domain crate) depends on: $bad" >&2
        exit 1
    fi
    echo "$crate: clean"
done

bad=$(deps cockpit-store | grep -Ex 'axum|axum-core|hyper|tower|tower-http|tokio-tungstenite|tungstenite|rumqttc|reqwest|cockpit-server' || true)
if [ -n "$bad" ]; then
    echo "cockpit-store depends on: $bad (the store knows no HTTP, WebSocket or MQTT, and never the server)" >&2
    exit 1
fi
echo "cockpit-store: on the domain crates and sqlx only"

python3 scripts/layers.py cockpit-server/src
