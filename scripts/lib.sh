# Shared by run.sh, test.sh and .ci/run: the build cache outside the clone, and the
# system packages the cockpit needs, installed with apt-get where they are missing.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cockpit-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

need_cargo() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo is not installed: install Rust 1.95 or newer (rustup, or your distribution's package) and rerun." >&2
        exit 1
    fi
}

# apt_install PACKAGE... : installs the Debian packages that are not installed yet.
apt_install() {
    local missing=()
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The packages the cockpit needs: a C toolchain for -sys crates, PostgreSQL 15 with
# PostGIS 3 for the embedded database (the server runs its own private cluster from them),
# pgBackRest for its backups and point-in-time recovery (docs/operations.md), Chromium and
# CJK fonts for the wall's browser tests and screenshots.
system_packages() {
    apt_install build-essential pkg-config ca-certificates python3 postgresql-15 postgresql-15-postgis-3 pgbackrest \
        chromium fonts-noto-cjk
}

# need_node : Node.js 20.19 or newer with npm, to build web/ (Vite). Installs Debian's
# nodejs and npm where there is no node at all; an older node is named, not replaced.
need_node() {
    command -v node >/dev/null 2>&1 || apt_install nodejs npm
    if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; then
        echo "web/ needs Node.js 20.19 or newer (found $(node --version)): install it (e.g. from nodejs.org or NodeSource) and rerun." >&2
        exit 1
    fi
}

# build_web : installs web/'s locked npm packages when they changed, then builds web/dist,
# which cockpit-server serves at / (`[http] web_dir`).
build_web() {
    need_node
    (
        cd web
        if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
            npm ci --no-audit --no-fund
        fi
        npm run build
    )
}
