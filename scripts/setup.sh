#!/usr/bin/env bash
# One-step set-up for a Debian 12 machine with Node 20 (run as root, or as a user with sudo).
#   bash scripts/setup.sh          system libraries for charts + npm dependencies (to run the app)
#   bash scripts/setup.sh --test   the same plus Chromium, for the browser test
# Idempotent: installs only what is missing. Only Debian's packages and the npm registry are used.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "setup: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# Node 20 or newer.
if ! command -v node >/dev/null 2>&1; then
  echo "setup: Node.js 20 or newer is required (node not found)" >&2; exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is required (found $(node --version))" >&2; exit 1
fi

# Debian packages. canvas (under chartjs-node-canvas) builds from source when its prebuilt binary
# cannot be downloaded, which needs Cairo and friends; the fonts give charts readable text.
packages=(libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev libpixman-1-dev
          build-essential python3 fonts-dejavu-core)
if [ "$want_test" = 1 ]; then packages+=(chromium); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
    fi
  fi
  log "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

# npm dependencies, exactly as locked. Skip when node_modules already matches the lock file.
stamp=node_modules/.setup-stamp
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
  log "npm dependencies up to date"
else
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

# canvas must load; build it from source if its install script was skipped or failed.
if ! node -e "require('canvas')" >/dev/null 2>&1; then
  log "building canvas from source"
  npm rebuild canvas --foreground-scripts
  node -e "require('canvas')"
fi
echo "$lock_sum" > "$stamp"

mkdir -p uploads outputs logs
log "ready"
