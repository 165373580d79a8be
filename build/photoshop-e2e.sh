#!/usr/bin/env bash
# Runs the Photoshop panel's browser end-to-end test alone: the shipped panel
# bundle in headless Chromium, Photoshop replaced by a test double of its
# documented API (plugin-photoshop-ufx/e2e/fake-photoshop.js), the real bridge
# binary on 127.0.0.1:47863. Exit status 0 when it passes.
#
# Usage: build/photoshop-e2e.sh [--no-build] [--screenshot FILE]
#   --no-build         use the binaries already in target/debug (as build/test.sh does
#                      after `cargo test --workspace`): pertouch and examples/e2e_reference
#   --screenshot FILE  save a picture of the panel (docs/images/photoshop-panel.png)
# Installs what is missing: Debian's chromium-headless-shell (apt, as root) and the
# npm packages from the committed package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --screenshot) args+=(--screenshot "$2"); shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium-headless-shell ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null
  else
    echo "error: Chromium is needed: apt-get install chromium-headless-shell (or set CHROMIUM=/path/to/chrome)" >&2
    exit 1
  fi
fi
command -v npm >/dev/null || { echo "error: Node.js 20+ with npm is needed" >&2; exit 1; }
ufx=plugin-photoshop-ufx
if [ ! -d "$ufx/node_modules" ] || [ "$ufx/package-lock.json" -nt "$ufx/node_modules/.package-lock.json" ]; then
  (cd "$ufx" && npm ci --no-audit --no-fund)
fi
if [ "$build" = 1 ]; then
  cargo build --locked -p pertouch-cli -p pertouch-bridge --bins --examples
fi
(cd "$ufx" && npm run --silent build)
node "$ufx/e2e/run.mjs" "${args[@]}"
